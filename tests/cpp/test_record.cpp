// Record parsing and validation (runtime_cpp/src/record.cpp), no Torch or TensorRT involved.
#include "mini_test.h"
#include "torchtrt/record.h"

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
  r.serialized_metadata = base64_encode("{\"inputs\": []}");
  r.target_platform = "linux_x86_64";
  r.requires_output_allocator = true;
  r.torchtrt_version = "0.1.0";
  r.trt_flavour = "tensorrt";
  r.trt_version = "10.8.0";
  return r;
}

std::vector<std::string> with(Field f, const std::string& v) {
  auto l = sample().to_list();
  l[idx(f)] = v;
  return l;
}

}  // namespace

TEST(field_names_match_enum_order) {
  EXPECT_EQ(kFieldNames.size(), kNumFields);
  EXPECT_EQ(std::string(field_name(Field::ABI_VERSION)), "ABI_VERSION");
  EXPECT_EQ(std::string(field_name(Field::ENGINE)), "ENGINE");
  EXPECT_EQ(std::string(field_name(Field::ENGINE_KIND)), "ENGINE_KIND");
  EXPECT_EQ(idx(Field::ENGINE_KIND) + 1, kNumFields);
}

TEST(round_trip) {
  const auto list = sample().to_list();
  EXPECT_EQ(list.size(), kNumFields);
  EXPECT_EQ(list[idx(Field::INPUT_BINDING_NAMES)], std::string("x\x1fy"));
  EXPECT_EQ(list[idx(Field::REQUIRES_OUTPUT_ALLOCATOR)], "1");
  EXPECT_EQ(list[idx(Field::DEVICE_ID)], "1");
  const EngineRecord r = EngineRecord::from_list(list);
  EXPECT_EQ(r.engine, sample().engine);
  EXPECT(r.input_binding_names == (std::vector<std::string>{"x", "y"}));
  EXPECT(r.output_binding_names == (std::vector<std::string>{"out"}));
  EXPECT(r.requires_output_allocator);
  EXPECT(!r.hardware_compatible);
  EXPECT(r.to_list() == list);
}

TEST(base64_matches_the_standard_alphabet) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("\xfb\xff"), "+/8=");
  std::string out, why;
  EXPECT(base64_decode("Zm9vYg==", &out, &why) && out == "foob");
  EXPECT(!base64_decode("Zm9vYg=", &out, &why));       // bad padding
  EXPECT(!base64_decode("Zm9v!!==", &out, &why));      // outside the alphabet
  EXPECT(!base64_decode("Zg==Zg==", &out, &why));      // padding before the end
  EXPECT(!base64_decode("Zm9v\nYmFy", &out, &why));    // strict: no whitespace
}

TEST(empty_and_truncated_records) {
  EXPECT_THROWS_WITH(EngineRecord::from_list({}), "engine record is empty");
  auto l = sample().to_list();
  l.resize(5);
  EXPECT_THROWS_WITH(EngineRecord::from_list(l),
                    "engine 'adder': record has 5 fields, ABI 1 has 16 (truncated or corrupted record)");
  l = sample().to_list();
  l.push_back("extra");
  EXPECT_THROWS_WITH(EngineRecord::from_list(l), "record has 17 fields");
  EXPECT_THROWS_WITH(EngineRecord::from_list({"1"}), "engine '<unnamed>': record has 1 fields");
}

TEST(abi_checks) {
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::ABI_VERSION, "x1")),
                    "engine 'adder': ABI version 'x1' is not a number (corrupted record?)");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::ABI_VERSION, "2")),
                    "engine 'adder': record ABI 2 is newer than this runtime's ABI 1; upgrade torch_tensorrt to load it");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::ABI_VERSION, "99999999999999999999999")), "is newer");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::ABI_VERSION, "0")),
                    "engine 'adder': record ABI 0 is older than supported ABI 1");
  // A newer ABI is reported even when the field count differs (that is what a newer ABI looks like).
  auto l = with(Field::ABI_VERSION, "2");
  l.push_back("new field");
  EXPECT_THROWS_WITH(EngineRecord::from_list(l), "is newer");
}

TEST(field_checks) {
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::ENGINE, "not base64!")),
                    "engine 'adder': field ENGINE is not valid base64");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::ENGINE, "")), "engine 'adder': field ENGINE is empty");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::DEVICE_ID, "gpu0")),
                    "engine 'adder': field DEVICE_ID is not an integer: 'gpu0'");
  EXPECT_EQ(EngineRecord::from_list(with(Field::DEVICE_ID, "-1")).device_id, -1);
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::HW_COMPATIBLE, "yes")),
                    "engine 'adder': field HW_COMPATIBLE must be '0' or '1', got 'yes'");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::REQUIRES_OUTPUT_ALLOCATOR, "")),
                    "field REQUIRES_OUTPUT_ALLOCATOR must be '0' or '1', got ''");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::SERIALIZED_METADATA, "%%%")),
                    "engine 'adder': field SERIALIZED_METADATA is corrupted");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::SERIALIZED_METADATA, base64_encode("[1]"))),
                    "field SERIALIZED_METADATA is not a JSON object");
  EXPECT_EQ(EngineRecord::from_list(with(Field::SERIALIZED_METADATA, "")).serialized_metadata, "");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::INPUT_BINDING_NAMES, "x\x1f\x1fy")),
                    "engine 'adder': invalid input binding name ''");
  EXPECT_THROWS_WITH(EngineRecord::from_list(with(Field::ENGINE_KIND, "onnx")),
                    "engine 'adder': unknown engine kind 'onnx'");
}

TEST(names_are_quoted_like_python_repr) {
  EXPECT_EQ(quoted("a"), "'a'");
  EXPECT_EQ(quoted("it's"), "\"it's\"");
  EXPECT_EQ(quoted("a\x1f"), "'a\\x1f'");
  auto l = with(Field::NAME, "it's");
  l[idx(Field::ENGINE)] = "";
  EXPECT_THROWS_WITH(EngineRecord::from_list(l), "engine \"it's\": field ENGINE is empty");
}

TEST(empty_name_lists) {
  auto l = with(Field::OUTPUT_BINDING_NAMES, "");
  EXPECT(EngineRecord::from_list(l).output_binding_names.empty());
  EXPECT(split_names("a").size() == 1);
  EXPECT_EQ(join_names({"a", "b"}), std::string("a\x1f" "b"));
}

TEST(simulated_engines_refused_by_a_real_runtime) {
  auto r = sample();
  r.engine_kind = kKindSimulated;
  const auto parsed = EngineRecord::from_list(r.to_list());
  EXPECT(parsed.is_simulated());
  EXPECT_THROWS_WITH(check_engine_kind(parsed, /*stand_in_runtime=*/false),
                    "engine 'adder': built under torch_tensorrt.testing.simulate(); cannot run on a real TensorRT "
                    "runtime");
  check_engine_kind(parsed, /*stand_in_runtime=*/true);  // the stand-in accepts it
  check_engine_kind(sample(), false);                    // a real engine is fine everywhere
}

MINI_TEST_MAIN()
