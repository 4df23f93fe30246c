// The TensorRT-RTX flavour of the runtime, against the stand-in headers claiming to be TensorRT-RTX
// (TORCHTRT_FAKE_TENSORRT_RTX, tests/cpp/CMakeLists.txt): execution contexts come from an IRuntimeConfig that
// carries the process's runtime cache, which $TORCHTRT_RUNTIME_CACHE persists.
//
// The runtime's Torch-heavy sources are compiled into this one translation unit (one slow compile instead of
// five); record.cpp, record_check.cpp and compat.cpp are linked separately.
#include "../../runtime_cpp/src/trt.cpp"
#include "../../runtime_cpp/src/stream_order.cpp"
#include "../../runtime_cpp/src/runtime_cache.cpp"
#include "../../runtime_cpp/src/engine.cpp"
#include "../../runtime_cpp/src/execute.cpp"
#include "../../runtime_cpp/src/cudagraphs.cpp"
#include "record_fixtures.h"
#include <cstring>

#include <ATen/ATen.h>
#include <c10/cuda/CUDAFunctions.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine_state.h"
#include "mini_test.h"
#include "torchtrt_fake_tensorrt.h"

using namespace torchtrt;

static_assert(std::string_view(kTensorRTFlavour) == "tensorrt_rtx", "the stand-in headers claim TensorRT-RTX");

namespace {

const char* kPlan = "torchtrt-fake-plan 1\nname doubler\ninput x float32 1x4 2x4 8x4\noutput y float32 scale_add x x 1\n";

c10::IValue state(const EngineRecord& r) { return torchtrt_test::engine_state(r); }

c10::intrusive_ptr<TRTEngine> doubler() {
  EngineRecord r;
  r.name = "doubler";
  r.engine = kPlan;
  r.input_binding_names = {"x"};
  r.output_binding_names = {"y"};
  r.trt_flavour = "tensorrt_rtx";
  r.trt_version = "10.16.0";  // the stand-in library's version
  return c10::make_intrusive<TRTEngine>(state(torchtrt_test::with_metadata(r)));
}

c10::Device dev() { return c10::cuda::device_count() > 0 ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU); }

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST(contexts_come_from_a_runtime_config_with_the_cache) {
  const std::string path = "torchtrt_rtx_test.cache";
  std::remove(path.c_str());
  ::setenv(RuntimeCache::kPathVariable, path.c_str(), 1);
  const int64_t before = torchtrt_fake_runtime_config_contexts();
  {
    auto e = doubler();
    const at::Tensor x = at::arange(8, at::kFloat).reshape({2, 4}).to(dev());
    EXPECT(at::equal(execute_engine({x}, e)[0].cpu(), (x * 2).cpu()));
    EXPECT_EQ(torchtrt_fake_runtime_config_contexts(), before + 1);
    auto other = doubler();  // a second engine shares the process's cache
    execute_engine({x}, other);
  }
  // The last engine gone, the cache went to the file: the kernels "compiled" for the engine.
  EXPECT_EQ(read(path), "torchtrt-fake-runtime-cache 1\ndoubler\n");
  const int64_t loads = torchtrt_fake_runtime_cache_loads();
  {
    auto e = doubler();
    execute_engine({at::ones({1, 4}).to(dev())}, e);
    EXPECT_EQ(torchtrt_fake_runtime_cache_loads(), loads + 1);  // the next process (here: engine) starts from it
  }
  // A file TensorRT-RTX cannot use is a warning, and an empty cache is used instead.
  std::ofstream(path) << "not a runtime cache";
  {
    auto e = doubler();
    execute_engine({at::ones({1, 4}).to(dev())}, e);
    EXPECT_EQ(torchtrt_fake_runtime_cache_loads(), loads + 1);
  }
  EXPECT_EQ(read(path), "torchtrt-fake-runtime-cache 1\ndoubler\n");
  ::unsetenv(RuntimeCache::kPathVariable);
  std::remove(path.c_str());
}

TEST(flavour_is_checked_at_load) {
  const at::Tensor t = doubler()->serialize().contiguous();
  EngineRecord r = EngineRecord::from_bytes(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()),
                                            static_cast<std::size_t>(t.numel()));
  r.trt_flavour = "tensorrt";
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(state(r)),
                    "was built with TensorRT 10.16.0 but this runtime is TensorRT-RTX 10.16.0");
}

TEST(aliased_io_on_tensorrt_rtx) {  // getAliasedInputTensor exists in TensorRT-RTX (the headers claim 1.7)
  EngineRecord r;
  r.name = "kv";
  r.engine = "torchtrt-fake-plan 1\ninput c float32 4 4 4\ninput u float32 4 4 4\n"
             "output o float32 scale_add c u 1\nalias o c\n";
  r.input_binding_names = {"c", "u"};
  r.output_binding_names = {"o"};
  r.trt_flavour = "tensorrt_rtx";
  r.trt_version = "10.16.0";
  auto e = c10::make_intrusive<TRTEngine>(state(torchtrt_test::with_metadata(r)));
  EXPECT((e->aliased_io() == std::map<std::string, std::string>{{"o", "c"}}));
  at::Tensor c = at::zeros({4}, at::TensorOptions().device(dev()));
  auto out = execute_engine({c, at::ones({4}, at::TensorOptions().device(dev()))}, e);
  EXPECT(out[0].unsafeGetTensorImpl() == c.unsafeGetTensorImpl() && at::equal(c.cpu(), at::ones({4})));
}

MINI_TEST_MAIN()
