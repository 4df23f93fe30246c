// Record framing, parsing and validation (runtime_cpp/src/record.cpp, record_abi2.cpp, record_check.cpp,
// record_json.cpp), no Torch or TensorRT involved.
// The shared table of bad records (tests/reliability/bad_records.json, also run by the Python tests) checks that
// both runtimes give the same verdict and the same message for every case.

#include "bad_records_table.h"
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

std::vector<std::string> unframed(const std::string& data);

// The fields of sample(), framed after setting ``f`` to ``v``.
std::string with(Field f, const std::string& v) {
  auto l = unframed(sample().to_bytes());
  l[idx(f)] = v;
  return frame(l);
}

std::vector<std::string> unframed(const std::string& data) {
  std::vector<std::string> fields;
  for (const auto& view : unframe(data.data(), data.size())) fields.emplace_back(view.first, view.second);
  return fields;
}

std::string error_of(const std::string& framed) {
  try {
    EngineRecord::from_bytes(framed);
  } catch (const RecordError& e) {
    return e.what();
  }
  return "";
}

std::string error_of_list(const std::vector<std::string>& fields) {
  try {
    EngineRecord::from_list(fields);
  } catch (const RecordError& e) {
    return e.what();
  }
  return "";
}

// --- the shared table ---------------------------------------------------------------------------------------
using torchtrt_test::from_hex;

std::size_t field_index(const std::string& name) {
  for (std::size_t i = 0; i < kNumFields; ++i)
    if (name == kFieldNames[i]) return i;
  throw std::runtime_error("bad_records.json: unknown field " + name);
}

bool flag(const JsonValue& c, const char* key) {
  const JsonValue* v = c.get(key);
  return v && v->boolean;
}

// The case's edits, in the order documented in tests/reliability/_records.py. ABI 2 cases ("abi2": true) edit
// the list ``base_abi2`` (encoded fields in base64); the others edit ``base`` and are framed.
std::vector<std::string> edit_fields(std::vector<std::string> fields, const JsonValue& c, bool abi2) {
  auto encode = [&](const std::string& bytes) { return abi2 ? base64_encode(bytes) : bytes; };
  auto decode = [&](const std::string& text) {
    std::string out, why;
    if (!abi2) return text;
    base64_decode(text, &out, &why);
    return out;
  };
  if (const JsonValue* set = c.get("set"))
    for (const auto& [name, value] : set->members) fields[field_index(name)] = value.text;
  if (const JsonValue* set = c.get("set_hex"))
    for (const auto& [name, value] : set->members) fields[field_index(name)] = from_hex(value.text);
  if (const JsonValue* hex = c.get("engine_hex")) fields[idx(Field::ENGINE)] = from_hex(hex->text);
  if (const JsonValue* meta = c.get("metadata")) fields[idx(Field::SERIALIZED_METADATA)] = encode(meta->text);
  if (const JsonValue* hex = c.get("metadata_hex"))
    fields[idx(Field::SERIALIZED_METADATA)] = encode(from_hex(hex->text));
  if (flag(c, "rehash"))
    fields[idx(Field::SHA256)] = sha256_hex(decode(fields[idx(Field::ENGINE)])) + kListSep +
        sha256_hex(decode(fields[idx(Field::SERIALIZED_METADATA)]));
  if (const JsonValue* n = c.get("truncate")) fields.resize(std::stoul(n->text));
  if (const JsonValue* extra = c.get("append"))
    for (const auto& v : extra->items) fields.push_back(v.text);
  return fields;
}

std::string frame_case(const std::vector<std::string>& fields, const JsonValue& c) {
  std::string data = frame(fields);
  if (const JsonValue* n = c.get("frame_count")) {
    const uint32_t count = static_cast<uint32_t>(std::stoul(n->text));
    for (int i = 0; i < 4; ++i) data[kMagicSize + i] = static_cast<char>((count >> (8 * i)) & 0xff);
  }
  if (const JsonValue* n = c.get("frame_cut")) data.resize(data.size() - std::stoul(n->text));
  if (const JsonValue* hex = c.get("frame_extra_hex")) data += from_hex(hex->text);
  if (const JsonValue* hex = c.get("magic_hex")) data.replace(0, kMagicSize, from_hex(hex->text));
  return data;
}

// The verdict on a case of the table.
std::string case_error(const JsonValue& table, const JsonValue& c) {
  const bool abi2 = flag(c, "abi2");
  std::vector<std::string> base;
  for (const auto& v : table.get(abi2 ? "base_abi2" : "base")->items) base.push_back(v.text);
  if (abi2) return error_of_list(edit_fields(base, c, true));
  base[idx(Field::ENGINE)] = from_hex(base[idx(Field::ENGINE)]);  // written in hex in the table
  return error_of(frame_case(edit_fields(base, c, false), c));
}

}  // namespace

TEST(shared_bad_record_table) {
  const JsonValue& table = torchtrt_test::bad_records_table();
  JsonValue empty;
  empty.kind = JsonValue::Kind::Object;
  EXPECT_EQ(case_error(table, empty), "");
  int cases = 0, packed = 0;
  for (const auto& c : table.get("cases")->items) {
    const JsonValue* expected = c.get("error");
    const std::string want = expected->kind == JsonValue::Kind::Null ? "" : expected->text;
    const std::string got = case_error(table, c);
    if (got != want)
      ::mini_test::fail(__FILE__, __LINE__, "case " + c.get("id")->text + ": got '" + got + "', want '" + want + "'");
    ++cases;
    packed += c.get("id")->text.rfind("abi4-", 0) == 0;
  }
  EXPECT(cases >= 150);
  EXPECT(packed >= 25);  // the packed-plan cases (ABI 4 ENGINE) run too
}

TEST(field_names_match_enum_order) {
  EXPECT_EQ(kFieldNames.size(), kNumFields);
  EXPECT_EQ(std::string(field_name(Field::ABI_VERSION)), "ABI_VERSION");
  EXPECT_EQ(std::string(field_name(Field::ENGINE)), "ENGINE");
  EXPECT_EQ(std::string(field_name(Field::SHA256)), "SHA256");
  EXPECT_EQ(idx(Field::SHA256) + 1, kNumFields);
}

TEST(round_trip) {
  const std::string framed = sample().to_bytes();
  EXPECT_EQ(framed.substr(0, kMagicSize), std::string(kRecordMagic, kMagicSize));
  EXPECT(framed.find(sample().engine) != std::string::npos);  // the plan is stored verbatim
  const auto list = unframed(framed);
  EXPECT_EQ(list.size(), kNumFields);
  EXPECT_EQ(list[idx(Field::ABI_VERSION)], "4");
  EXPECT_EQ(list[idx(Field::INPUT_BINDING_NAMES)], std::string("x\x1fy"));
  EXPECT_EQ(list[idx(Field::REQUIRES_OUTPUT_ALLOCATOR)], "1");
  EXPECT_EQ(list[idx(Field::DEVICE_ID)], "1");
  EXPECT_EQ(list[idx(Field::SHA256)].substr(0, 64), sha256_hex(sample().engine));
  // A record built in C++ stores its plan packed as one stored chunk: the headers, then the plan.
  const std::string& packed = list[idx(Field::ENGINE)];
  EXPECT_EQ(packed.size(), plan_pack::kHeadSize + plan_pack::kChunkHeadSize + sample().engine.size());
  EXPECT_EQ(packed.substr(0, plan_pack::kPackMagicSize), std::string(plan_pack::kPackMagic, plan_pack::kPackMagicSize));
  EXPECT_EQ(packed.substr(plan_pack::kHeadSize + plan_pack::kChunkHeadSize), sample().engine);
  EXPECT_EQ(list[idx(Field::SERIALIZED_METADATA)], sample().serialized_metadata);  // JSON text, not base64
  const EngineRecord r = EngineRecord::from_bytes(framed);
  EXPECT_EQ(r.engine, sample().engine);
  EXPECT(r.input_binding_names == (std::vector<std::string>{"x", "y"}));
  EXPECT(r.output_binding_names == (std::vector<std::string>{"out"}));
  EXPECT(r.requires_output_allocator);
  EXPECT(!r.hardware_compatible);
  EXPECT(r.to_bytes() == framed);
  const auto header = r.header();
  EXPECT_EQ(header[idx(Field::ENGINE)], std::to_string(sample().engine.size()));
  EXPECT_EQ(header[idx(Field::SHA256)], list[idx(Field::SHA256)]);
}

TEST(abi2_lists_are_read) {
  // An ABI 2 record: the same fields as text, ENGINE and SERIALIZED_METADATA in base64.
  auto list = unframed(sample().to_bytes());
  list[idx(Field::ABI_VERSION)] = "2";
  list[idx(Field::ENGINE)] = base64_encode(sample().engine);
  list[idx(Field::SERIALIZED_METADATA)] = base64_encode(list[idx(Field::SERIALIZED_METADATA)]);
  const EngineRecord r = EngineRecord::from_list(list);
  EXPECT_EQ(r.engine, sample().engine);
  EXPECT_EQ(r.serialized_metadata, sample().serialized_metadata);
  EXPECT_EQ(r.to_bytes(), sample().to_bytes());  // written back as ABI 4 (one stored chunk)
}

TEST(abi3_records_are_read) {
  // An ABI 3 record: framed like ABI 4, ENGINE the plan raw. Written back as ABI 4.
  auto list = unframed(sample().to_bytes());
  list[idx(Field::ABI_VERSION)] = "3";
  list[idx(Field::ENGINE)] = sample().engine;
  const EngineRecord r = EngineRecord::from_bytes(frame(list));
  EXPECT_EQ(r.abi_version, "3");
  EXPECT_EQ(r.engine, sample().engine);
  EXPECT(r.packing.chunks.empty());  // nothing to keep: written as one stored chunk
  EXPECT_EQ(r.to_bytes(), sample().to_bytes());
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
  EXPECT_EQ(error_of(frame({})), "engine record is empty");
  EXPECT_EQ(error_of_list({}), "engine record is empty");
  auto l = unframed(sample().to_bytes());
  l.resize(5);
  EXPECT_EQ(error_of(frame(l)), "engine 'adder': record has 5 fields, ABI 4 has 17 (truncated or corrupted record)");
  EXPECT_EQ(error_of(frame({"3"})),
            "engine '<unnamed>': record has 1 fields, ABI 4 has 17 (truncated or corrupted record)");
  EXPECT_EQ(error_of_list({"2"}),
            "engine '<unnamed>': record has 1 fields, ABI 2 has 17 (truncated or corrupted record)");
  const std::string framed = sample().to_bytes();
  EXPECT_EQ(error_of(framed.substr(0, framed.size() - 1)),
            "engine record: field SHA256 has 129 bytes but 128 remain (truncated record)");
}

TEST(abi_checks) {
  EXPECT_EQ(error_of(with(Field::ABI_VERSION, "x1")), "engine 'adder': ABI version 'x1' is not a number (corrupted record?)");
  EXPECT_EQ(error_of(with(Field::ABI_VERSION, "5")),
            "engine 'adder': record ABI 5 is newer than this runtime's ABI 4; upgrade torch_tensorrt to load it");
  EXPECT_THROWS_WITH(EngineRecord::from_bytes(with(Field::ABI_VERSION, "99999999999999999999999")), "is newer");
  EXPECT_EQ(error_of(with(Field::ABI_VERSION, "1")),
            "engine 'adder': record ABI 1 is older than the oldest supported ABI 2");
  // A newer ABI is reported even when the field count differs (that is what a newer ABI looks like).
  auto l = unframed(with(Field::ABI_VERSION, "5"));
  l.push_back("new field");
  EXPECT_THROWS_WITH(EngineRecord::from_bytes(frame(l)), "is newer");
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
  auto l = unframed(with(Field::NAME, "it's"));
  l[idx(Field::ENGINE)] = "";
  EXPECT_EQ(error_of(frame(l)), "engine \"it's\": field ENGINE is empty");
}

TEST(simulated_engines_refused_by_a_real_runtime) {
  auto r = sample();
  r.engine_kind = kKindSimulated;
  r = torchtrt_test::with_metadata(r);
  const auto parsed = EngineRecord::from_bytes(r.to_bytes());
  EXPECT(parsed.is_simulated());
  EXPECT_THROWS_WITH(check_engine_kind(parsed, /*stand_in_runtime=*/false),
                    "engine 'adder': built under torch_tensorrt.testing.simulate(); cannot run on a real TensorRT "
                    "runtime");
  check_engine_kind(parsed, /*stand_in_runtime=*/true);  // the stand-in accepts it
  check_engine_kind(sample(), false);                    // a real engine is fine everywhere
}

MINI_TEST_MAIN()
