// Device selection and load-time compatibility checks (runtime_cpp/src/compat.cpp): plain C++, no GPU needed.
#include "mini_test.h"
#include "torchtrt/compat.h"

using namespace torchtrt;

namespace {

EngineRecord rec(const std::string& capability, int64_t device_id = 0, bool hw = false) {
  EngineRecord r;
  r.name = "net";
  r.device_id = device_id;
  r.device_capability = capability;
  r.device_name = "NVIDIA A100";
  r.hardware_compatible = hw;
  r.engine = "plan";
  r.target_platform = "linux_x86_64";
  r.trt_flavour = "tensorrt";
  r.trt_version = "10.16.0.72";
  return r;
}

const std::vector<DeviceInfo> kMixed = {{8, 6, "RTX A6000"}, {9, 0, "H100"}, {8, 0, "A100"}};
const RuntimeIdentity kHere{"tensorrt", "10.16.0", "linux_x86_64"};

}  // namespace

TEST(current_device_first_when_compatible) {
  EXPECT_EQ(select_device(rec("8.0", 2), kMixed, 2).index, 2);
  EXPECT_EQ(select_device(rec("8.0", 2), kMixed, 2).warning, "");
  // Any device for records without a capability: the current one.
  EXPECT_EQ(select_device(rec("", 2), kMixed, 1).index, 1);
}

TEST(recorded_device_next_then_first_compatible) {
  // Current (0: SM 8.6) is not SM 9.0; the recorded id 1 is.
  auto c = select_device(rec("9.0", 1), kMixed, 0);
  EXPECT_EQ(c.index, 1);
  EXPECT_EQ(c.warning, "");
  // Recorded id 0 is SM 8.6: the first SM 9.0 device, with a warning naming both.
  c = select_device(rec("9.0", 0), kMixed, 2);
  EXPECT_EQ(c.index, 1);
  EXPECT_EQ(c.warning, "engine net was built for device 0; running it on compatible device 1");
  // A recorded id beyond the device count is skipped.
  EXPECT_EQ(select_device(rec("8.0", 7), kMixed, 0).index, 2);
}

TEST(hardware_compatible_engines_run_on_ampere_plus) {
  EXPECT_EQ(select_device(rec("9.0", 0, true), kMixed, 0).index, 0);  // SM 8.6 >= 8.0
  const std::vector<DeviceInfo> turing = {{7, 5, "T4"}};
  EXPECT_THROWS_WITH(select_device(rec("9.0", 0, true), turing, 0),
                    "engine 'net' was built for SM 9.0 (NVIDIA A100, hardware-compatible); no compatible GPU among: "
                    "0: T4 (SM 7.5)");
}

TEST(no_compatible_device_lists_them) {
  const std::vector<DeviceInfo> two = {{8, 6, "RTX A6000"}, {8, 9, "L4"}};
  EXPECT_THROWS_WITH(select_device(rec("9.0"), two, 0),
                    "engine 'net' was built for SM 9.0 (NVIDIA A100); no compatible GPU among: 0: RTX A6000 (SM 8.6), "
                    "1: L4 (SM 8.9)");
  EXPECT_THROWS_WITH(select_device(rec("9.0"), {}, -1), "TensorRT engines need a CUDA GPU");
}

TEST(simulated_engines_run_anywhere) {
  EngineRecord r = rec("12.0", 3);
  r.engine_kind = kKindSimulated;
  auto c = select_device(r, kMixed, 1);
  EXPECT_EQ(c.index, 1);
  EXPECT_EQ(c.warning, "");
  r.target_platform = "win32_amd64";
  r.trt_flavour = "tensorrt_rtx";
  EXPECT(check_compatibility(r, kHere).empty());  // not a TensorRT plan: nothing to match
}

TEST(platform_must_match) {
  EngineRecord r = rec("9.0");
  r.target_platform = "linux_aarch64";
  EXPECT_THROWS_WITH(check_compatibility(r, kHere),
                    "engine 'net' was built for platform linux_aarch64 but this is linux_x86_64");
  r.target_platform = "";
  EXPECT(check_compatibility(r, kHere).empty());
}

TEST(flavour_must_match) {
  EngineRecord r = rec("9.0");
  r.trt_flavour = "tensorrt_rtx";
  r.trt_version = "1.7.1.116";
  EXPECT_THROWS_WITH(check_compatibility(r, kHere),
                    "engine 'net' was built with TensorRT-RTX 1.7.1.116 but this runtime is TensorRT 10.16.0; "
                    "TensorRT-RTX engines run only on a TensorRT-RTX runtime");
}

TEST(versions) {
  EngineRecord r = rec("9.0");
  EXPECT(check_compatibility(r, kHere).empty());  // 10.16.0.72 is 10.16.0
  r.trt_version = "10.17.1";
  EXPECT_THROWS_WITH(check_compatibility(r, kHere),
                    "built with TensorRT 10.17.1, newer than this runtime's TensorRT 10.16.0; an engine never runs "
                    "on an older TensorRT");
  r.trt_version = "10.8.0";
  const auto w = check_compatibility(r, kHere);
  EXPECT_EQ(w.size(), 1u);
  EXPECT(w[0].find("built with TensorRT 10.8.0 but this runtime is TensorRT 10.16.0; it deserializes only if it "
                   "was built version-compatible") != std::string::npos);
  r.trt_version = "";
  EXPECT(check_compatibility(r, kHere).empty());  // unknown: TensorRT's deserializer decides
  r.trt_flavour = "";
  r.trt_version = "99.0";
  EXPECT(check_compatibility(r, kHere).empty());  // hand-made record without a flavour
}

TEST(version_parsing) {
  EXPECT(parse_version("10.16.0.72") == (std::vector<int>{10, 16, 0, 72}));
  EXPECT(parse_version("1.7") == (std::vector<int>{1, 7}));
  EXPECT(parse_version("2.14.1+cu130") == (std::vector<int>{2, 14, 1}));
  EXPECT(parse_version("names-only").empty());
  EXPECT_EQ(flavour_label("tensorrt_rtx"), "TensorRT-RTX");
}

MINI_TEST_MAIN()
