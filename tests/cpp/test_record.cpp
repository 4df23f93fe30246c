// Record parsing and validation (runtime_cpp/src/record.cpp, record_check.cpp), no Torch or TensorRT involved.
// The shared table of bad records (tests/reliability/bad_records.json, also run by the Python tests) checks that
// both runtimes give the same verdict and the same message for every case.
#include <fstream>
#include <sstream>

#include "mini_test.h"
#include "record_fixtures.h"
#include "torchtrt/record.h"
#include "torchtrt/record_check.h"

using namespace torchtrt;

namespace {

EngineRecord sample() {
  EngineRecord r;
  r.name = "adder";
  r.device_id = 1;
  r.device_capability = "9.0";
  r.device_name = "NVIDIA H100";
  r.engine = std::string("plan\0bytes\xff", 11);
  r.input_binding_names = {"x", "y"};
  r.output_binding_names = {"out"};
  r.target_platform = "linux_x86_64";
  r.requires_output_allocator = true;
  r.torchtrt_version = "0.1.0";
  r.trt_flavour = "tensorrt";
  r.trt_version = "10.8.0";
  return torchtrt_test::with_metadata(r);
}

std::vector<std::string> with(Field f, const std::string& v) {
  auto l = sample().to_list();
  l[idx(f)] = v;
  return l;
}

std::string error_of(const std::vector<std::string>& fields) {
  try {
    EngineRecord::from_list(fields);
  } catch (const RecordError& e) {
    return e.what();
  }
  return "";
}

// --- the shared table ---------------------------------------------------------------------------------------
std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::size_t field_index(const std::string& name) {
  for (std::size_t i = 0; i < kNumFields; ++i)
    if (name == kFieldNames[i]) return i;
  throw std::runtime_error("bad_records.json: unknown field " + name);
}

// The case's edits, in the order documented in tests/reliability/_records.py.
std::vector<std::string> apply(std::vector<std::string> fields, const JsonValue& c) {
  if (const JsonValue* set = c.get("set"))
    for (const auto& [name, value] : set->members) fields[field_index(name)] = value.text;
  if (const JsonValue* set = c.get("set_hex"))
    for (const auto& [name, value] : set->members) fields[field_index(name)] = from_hex(value.text);
  if (const JsonValue* meta = c.get("metadata")) fields[idx(Field::SERIALIZED_METADATA)] = base64_encode(meta->text);
  if (const JsonValue* hex = c.get("metadata_hex"))
    fields[idx(Field::SERIALIZED_METADATA)] = base64_encode(from_hex(hex->text));
  if (const JsonValue* rehash = c.get("rehash"); rehash && rehash->boolean) {
    std::string engine, meta, why;
    base64_decode(fields[idx(Field::ENGINE)], &engine, &why);
    base64_decode(fields[idx(Field::SERIALIZED_METADATA)], &meta, &why);
    fields[idx(Field::SHA256)] = sha256_hex(engine) + kListSep + sha256_hex(meta);
  }
  if (const JsonValue* n = c.get("truncate")) fields.resize(std::stoul(n->text));
  if (const JsonValue* extra = c.get("append"))
    for (const auto& v : extra->items) fields.push_back(v.text);
  return fields;
}

}  // namespace

TEST(shared_bad_record_table) {
  std::ifstream in(TORCHTRT_BAD_RECORDS, std::ios::binary);
  EXPECT(in.good());
  std::stringstream text;
  text << in.rdbuf();
  JsonValue table;
  std::string why;
  EXPECT(parse_json(text.str(), &table, &why));
  std::vector<std::string> base;
  for (const auto& v : table.get("base")->items) base.push_back(v.text);
  EXPECT_EQ(error_of(base), "");
  int cases = 0;
  for (const auto& c : table.get("cases")->items) {
    const JsonValue* expected = c.get("error");
    const std::string want = expected->kind == JsonValue::Kind::Null ? "" : expected->text;
    const std::string got = error_of(apply(base, c));
    if (got != want)
      ::mini_test::fail(__FILE__, __LINE__, "case " + c.get("id")->text + ": got '" + got + "', want '" + want + "'");
    ++cases;
  }
  EXPECT(cases >= 150);
}

TEST(field_names_match_enum_order) {
  EXPECT_EQ(kFieldNames.size(), kNumFields);
  EXPECT_EQ(std::string(field_name(Field::ABI_VERSION)), "ABI_VERSION");
  EXPECT_EQ(std::string(field_name(Field::ENGINE)), "ENGINE");
  EXPECT_EQ(std::string(field_name(Field::SHA256)), "SHA256");
  EXPECT_EQ(idx(Field::SHA256) + 1, kNumFields);
}

TEST(round_trip) {
  const auto list = sample().to_list();
  EXPECT_EQ(list.size(), kNumFields);
  EXPECT_EQ(list[idx(Field::INPUT_BINDING_NAMES)], std::string("x\x1fy"));
  EXPECT_EQ(list[idx(Field::REQUIRES_OUTPUT_ALLOCATOR)], "1");
  EXPECT_EQ(list[idx(Field::DEVICE_ID)], "1");
  EXPECT_EQ(list[idx(Field::SHA256)].substr(0, 64), sha256_hex(sample().engine));
  const EngineRecord r = EngineRecord::from_list(list);
  EXPECT_EQ(r.engine, sample().engine);
  EXPECT(r.input_binding_names == (std::vector<std::string>{"x", "y"}));
  EXPECT(r.output_binding_names == (std::vector<std::string>{"out"}));
  EXPECT(r.requires_output_allocator);
  EXPECT(!r.hardware_compatible);
  EXPECT(r.to_list() == list);
}

TEST(sha256_known_answers) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(base64_matches_the_standard_alphabet) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  std::string out, why;
  EXPECT(base64_decode("Zm9vYg==", &out, &why) && out == "foob");
  EXPECT(base64_decode("+/8=", &out, &why) && out == "\xfb\xff");
  EXPECT(!base64_decode("Zm9vYg=", &out, &why));     // bad padding
  EXPECT(!base64_decode("Zm9v!!==", &out, &why));    // outside the alphabet
  EXPECT(!base64_decode("Zg==Zg==", &out, &why));    // padding before the end
  EXPECT(!base64_decode("Zm9v\nYmFy", &out, &why));  // strict: no whitespace
  EXPECT(!base64_decode("Zh==", &out, &why));        // non-canonical: padding bits set
  EXPECT_EQ(why, "non-zero padding bits at position 1");
}

TEST(empty_and_truncated_records) {
  EXPECT_EQ(error_of({}), "engine record is empty");
  auto l = sample().to_list();
  l.resize(5);
  EXPECT_EQ(error_of(l), "engine 'adder': record has 5 fields, ABI 2 has 17 (truncated or corrupted record)");
  EXPECT_EQ(error_of({"2"}), "engine '<unnamed>': record has 1 fields, ABI 2 has 17 (truncated or corrupted record)");
}

TEST(abi_checks) {
  EXPECT_EQ(error_of(with(Field::ABI_VERSION, "x1")), "engine 'adder': ABI version 'x1' is not a number (corrupted record?)");
  EXPECT_EQ(error_of(with(Field::ABI_VERSION, "3")),
            "engine 'adder': record ABI 3 is newer than this runtime's ABI 2; upgrade torch_tensorrt to load it");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::ABI_VERSION, "99999999999999999999999")), "is newer");
  EXPECT_EQ(error_of(with(Field::ABI_VERSION, "1")), "engine 'adder': record ABI 1 is older than supported ABI 2");
  // A newer ABI is reported even when the field count differs (that is what a newer ABI looks like).
  auto l = with(Field::ABI_VERSION, "3");
  l.push_back("new field");
  EXPECT_THROWS_WITH(EngineRecord::from_list(l), "is newer");
}

TEST(untrusted_json_never_throws_from_the_parser) {
  // What used to reach a noexcept path (stoul on "\uZZZZ") is a parse error with a position now.
  JsonValue v;
  std::string why;
  EXPECT(!parse_json("{\"a\": \"\\uZZZZ\"}", &v, &why));
  EXPECT_EQ(why, "invalid escape at byte 7");
  EXPECT(!parse_json(std::string(100000, '['), &v, &why));
  EXPECT_EQ(why, "nesting deeper than 64 at byte 64");
  EXPECT(parse_json("{\"k\": \"\\ud83d\\ude00\", \"n\": -0}", &v, &why));
  EXPECT_EQ(v.get("k")->text, "\xf0\x9f\x98\x80");
  EXPECT(v.get("n")->is_int());
}

TEST(shape_expressions) {
  EXPECT_EQ(shape_expr_problem("Max(1, 2*s0 - 1) + floor(s0/2)"), "");
  EXPECT_EQ(shape_expr_problem("1//0"), "shape expression '1//0': division by zero");
  EXPECT_EQ(shape_expr_problem("__import__('os')"),
            "shape expression \"__import__('os')\": unexpected character \"'\" at position 11");
}

TEST(names_are_quoted_like_python_repr) {
  EXPECT_EQ(quoted("a"), "'a'");
  EXPECT_EQ(quoted("it's"), "\"it's\"");
  EXPECT_EQ(quoted("a\x1f"), "'a\\x1f'");
  EXPECT_EQ(quoted("caf\xc3\xa9"), "'caf\xc3\xa9'");
  auto l = with(Field::NAME, "it's");
  l[idx(Field::ENGINE)] = "";
  EXPECT_EQ(error_of(l), "engine \"it's\": field ENGINE is empty");
}

TEST(simulated_engines_refused_by_a_real_runtime) {
  auto r = sample();
  r.engine_kind = kKindSimulated;
  r = torchtrt_test::with_metadata(r);
  const auto parsed = EngineRecord::from_list(r.to_list());
  EXPECT(parsed.is_simulated());
  EXPECT_THROWS_WITH(check_engine_kind(parsed, /*stand_in_runtime=*/false),
                    "engine 'adder': built under torch_tensorrt.testing.simulate(); cannot run on a real TensorRT "
                    "runtime");
  check_engine_kind(parsed, /*stand_in_runtime=*/true);  // the stand-in accepts it
  check_engine_kind(sample(), false);                    // a real engine is fine everywhere
}

MINI_TEST_MAIN()
