// Outputs that TensorRT writes in place into an input (ICudaEngine::getAliasedInputTensor; the stand-in's
// "alias OUT IN" plan lines): TRTEngine::aliased_io reports them, execute_engine binds such an output to the input's
// memory and returns the caller's input tensor itself -- the rule and messages of the Python runtime
// (python/torch_tensorrt/runtime/_aliasing.py). The stand-in fails enqueueV3 when the two addresses differ, as
// TensorRT reports an API error then. On a CUDA device when there is one, else on host memory.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAFunctions.h>

#include <cstring>

#include "engine_state.h"
#include "mini_test.h"
#include "record_fixtures.h"
#include "torchtrt/cudagraphs.h"
#include "torchtrt/engine.h"
#include "torchtrt/execute.h"

using namespace torchtrt;

static_assert(std::string_view(kTensorRTFlavour) == "tensorrt", "the stand-in headers claim TensorRT");
#ifndef TORCHTRT_HAS_ALIASED_IO
#error "the stand-in headers claim TensorRT 10.16, which has ICudaEngine::getAliasedInputTensor"
#endif

namespace {

// A KV-cache-like engine: "cache_out" is "cache" + "update", written in place into "cache"; "y" is a plain copy.
const char* kCachePlan = R"(torchtrt-fake-plan 1
name kv
input cache float32 2x4 2x4 8x4
input update float32 2x4 2x4 8x4
output cache_out float32 scale_add cache update 1
output y float32 copy update
alias cache_out cache
)";

c10::IValue state(const EngineRecord& r) { return torchtrt_test::engine_state(r); }

EngineRecord record(const char* plan, std::vector<std::string> inputs, std::vector<std::string> outputs) {
  EngineRecord r;
  r.name = "kv";
  r.engine = plan;
  r.input_binding_names = std::move(inputs);
  r.output_binding_names = std::move(outputs);
  return torchtrt_test::with_metadata(r);
}

c10::intrusive_ptr<TRTEngine> kv() {
  return c10::make_intrusive<TRTEngine>(state(record(kCachePlan, {"cache", "update"}, {"cache_out", "y"})));
}

c10::Device dev() { return c10::cuda::device_count() > 0 ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU); }
at::Tensor on_dev(const at::Tensor& t) { return t.to(dev()); }

}  // namespace

TEST(aliased_io_names_the_output_written_into_its_input) {
  auto e = kv();
  EXPECT((e->aliased_io() == std::map<std::string, std::string>{{"cache_out", "cache"}}));
  EXPECT((e->aliased() == std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}}));
  EXPECT(e->describe().find("'cache_out' aliases 'cache'") != std::string::npos);
  // Records list bindings in their own order: the pair is found by name.
  auto swapped = c10::make_intrusive<TRTEngine>(state(record(kCachePlan, {"update", "cache"}, {"y", "cache_out"})));
  EXPECT((swapped->aliased() == std::vector<std::pair<std::size_t, std::size_t>>{{1, 1}}));
  const char* plain = "torchtrt-fake-plan 1\ninput x float32 2 2 2\noutput y float32 copy x\n";
  EXPECT(c10::make_intrusive<TRTEngine>(state(record(plain, {"x"}, {"y"})))->aliased_io().empty());
}

TEST(the_aliased_output_is_the_input_tensor_updated_in_place) {
  auto e = kv();
  at::Tensor cache = on_dev(at::zeros({2, 4}));
  const at::Tensor update = on_dev(at::ones({2, 4}));
  auto out = execute_engine({cache, update}, e);
  EXPECT(out[0].unsafeGetTensorImpl() == cache.unsafeGetTensorImpl());  // the very tensor the caller passed
  EXPECT(at::equal(cache.cpu(), at::ones({2, 4})));
  EXPECT(at::equal(out[1].cpu(), at::ones({2, 4})) && out[1].data_ptr() != update.data_ptr());
  execute_engine({cache, update * 2}, e);  // the next step sees the update
  EXPECT(at::equal(cache.cpu(), at::full({2, 4}, 3.0f)));
  // Another shape within the profile: the output still follows the input.
  at::Tensor bigger = on_dev(at::zeros({5, 4}));
  auto again = execute_engine({bigger, on_dev(at::ones({5, 4}))}, e);
  EXPECT(again[0].unsafeGetTensorImpl() == bigger.unsafeGetTensorImpl() && at::equal(bigger.cpu(), at::ones({5, 4})));
}

TEST(an_aliased_input_must_be_usable_as_it_is) {
  auto e = kv();
  const at::Tensor strided = on_dev(at::zeros({4, 2})).t();  // 2x4, not contiguous: a copy would lose the update
  EXPECT_THROWS_WITH(execute_engine({strided, on_dev(at::ones({2, 4}))}, e),
                     "engine 'kv': output 'cache_out' is written in place into input 'cache', which must then be a "
                     "contiguous tensor");
}

TEST(the_stand_in_refuses_an_aliased_output_bound_elsewhere) {
  // What TensorRT does when the two addresses differ (an API error): the runtime must never do that.
  auto e = kv();
  nvinfer1::IExecutionContext& ctx = e->context();
  at::Tensor cache = on_dev(at::zeros({2, 4})), update = on_dev(at::ones({2, 4}));
  at::Tensor elsewhere = on_dev(at::zeros({2, 4})), y = on_dev(at::zeros({2, 4}));
  nvinfer1::Dims dims{2, {2, 4}};
  EXPECT(ctx.setInputShape("cache", dims) && ctx.setInputShape("update", dims));
  EXPECT(ctx.setTensorAddress("cache", cache.data_ptr()) && ctx.setTensorAddress("update", update.data_ptr()));
  EXPECT(ctx.setTensorAddress("y", y.data_ptr()) && ctx.setTensorAddress("cache_out", elsewhere.data_ptr()));
  Logger::take_last_error();
  EXPECT(!ctx.enqueueV3(nullptr));
  EXPECT(Logger::take_last_error().find("output 'cache_out' aliases input 'cache': both must be bound to the same "
                                        "address") != std::string::npos);
}

TEST(an_output_allocator_cannot_honour_an_alias) {
  EngineRecord r = record(kCachePlan, {"cache", "update"}, {"cache_out", "y"});
  r.requires_output_allocator = true;
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(state(r)),
                     "engine 'kv': outputs ['cache_out'] alias inputs, which an output allocator (data-dependent "
                     "shapes) cannot honour");
}

TEST(engines_that_alias_are_never_graphed) {
  auto e = kv();
  set_cudagraphs_mode(1);
  at::Tensor cache = on_dev(at::zeros({2, 4}));
  for (int i = 0; i < 2; ++i) {
    auto out = execute_engine({cache, on_dev(at::ones({2, 4}))}, e);
    EXPECT(out[0].unsafeGetTensorImpl() == cache.unsafeGetTensorImpl());
  }
  EXPECT(at::equal(cache.cpu(), at::full({2, 4}, 2.0f)));
  EXPECT(e->graphs().ungraphable());
  EXPECT((e->graphs().stats() == std::vector<int64_t>{0, 0, 0}));
  set_cudagraphs_mode(0);
}

TEST(plans_declare_aliases_between_an_output_and_an_input) {
  const char* bad = "torchtrt-fake-plan 1\ninput x float32 2 2 2\noutput y float32 copy x\nalias x y\n";
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(state(record(bad, {"x"}, {"y"}))),
                     "alias 'x' 'y': needs an output and a (non-shape) input of the same dtype");
}

MINI_TEST_MAIN()
