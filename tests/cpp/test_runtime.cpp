// TRTEngine and execute_engine against the stand-in TensorRT (host execution, see runtime_cpp trt.h).
#include <ATen/ATen.h>

#include "mini_test.h"
#include "torchtrt/cudagraphs.h"
#include "torchtrt/engine.h"
#include "torchtrt/execute.h"
#include "torchtrt_fake_tensorrt.h"

using namespace torchtrt;

namespace {

// Outputs listed before inputs, inputs in the opposite order of the record: the runtime must go by name.
const char* kAdderPlan = R"(torchtrt-fake-plan 1
name adder
output out float32 scale_add x y 2
input y float32 1x2 2x2 4x8
input x float32 1x2 2x2 4x8
output pos float32 positives x
)";

std::vector<std::string> record_for(const std::string& plan, std::vector<std::string> inputs,
                                    std::vector<std::string> outputs, const std::string& name = "adder") {
  EngineRecord r;
  r.name = name;
  r.engine = plan;
  r.input_binding_names = std::move(inputs);
  r.output_binding_names = std::move(outputs);
  return r.to_list();
}

c10::intrusive_ptr<TRTEngine> adder() {
  return c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"x", "y"}, {"out", "pos"}));
}

}  // namespace

TEST(executes_by_binding_name_and_returns_outputs_in_record_order) {
  auto e = adder();
  EXPECT(e->device() == c10::Device(c10::kCPU));
  const at::Tensor x = at::arange(-3, 9, at::kFloat).reshape({3, 4});
  const at::Tensor y = at::full({3, 4}, 0.5f);
  auto out = execute_engine({x, y}, e);
  EXPECT_EQ(out.size(), 2u);
  EXPECT(at::equal(out[0], x * 2 + y));
  EXPECT(at::equal(out[1], at::arange(1, 9, at::kFloat)));  // data-dependent shape via IOutputAllocator
  EXPECT_EQ(out[1].dim(), 1);

  // The same plan with the outputs listed the other way round in the record.
  auto swapped = c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"y", "x"}, {"pos", "out"}));
  auto out2 = execute_engine({y, x}, swapped);
  EXPECT(at::equal(out2[1], x * 2 + y));
  EXPECT(at::equal(out2[0], out[1]));
}

TEST(dynamic_shapes_and_repeated_calls) {
  auto e = adder();
  for (int64_t rows : {1, 4, 2}) {
    const at::Tensor x = at::randn({rows, 8});
    const at::Tensor y = at::randn({rows, 8});
    auto out = execute_engine({x, y}, e);
    EXPECT(at::allclose(out[0], x * 2 + y));
    EXPECT(at::equal(out[1], x.masked_select(x > 0)));
  }
}

TEST(non_contiguous_inputs_are_made_dense) {
  auto e = adder();
  const at::Tensor x = at::randn({4, 2}).t();  // 2x4, transposed strides
  const at::Tensor y = at::randn({2, 4});
  EXPECT(!x.is_contiguous());
  auto out = execute_engine({x, y}, e);
  EXPECT(at::allclose(out[0], x * 2 + y));
}

TEST(output_allocator_when_the_record_requires_it) {
  const char* plan = "torchtrt-fake-plan 1\ninput a int64 1 3 8\noutput b int64 scale_add a a 3\n";
  EngineRecord r = EngineRecord::from_list(record_for(plan, {"a"}, {"b"}, "alloc"));
  r.requires_output_allocator = true;
  auto e = c10::make_intrusive<TRTEngine>(r.to_list());
  EXPECT(e->uses_output_allocator());
  const at::Tensor a = at::arange(5, at::kLong);
  auto out = execute_engine({a}, e);
  EXPECT(at::equal(out[0], a * 4));
  auto again = execute_engine({a + 1}, e);  // a fresh buffer: the first result is not overwritten
  EXPECT(at::equal(out[0], a * 4));
  EXPECT(at::equal(again[0], (a + 1) * 4));
}

TEST(input_errors_name_engine_and_binding) {
  auto e = adder();
  const at::Tensor ok = at::ones({2, 2});
  EXPECT_THROWS_WITH(execute_engine({ok}, e), "engine 'adder' expects 2 input(s) ('x', 'y'), got 1");
  EXPECT_THROWS_WITH(execute_engine({ok, ok.to(at::kDouble)}, e),
                    "engine 'adder': input 1 ('y') has dtype torch.float64 but the engine expects torch.float32");
  EXPECT_THROWS_WITH(execute_engine({at::ones({2, 2, 2}), ok}, e),
                    "input 0 ('x') has shape [2, 2, 2] of rank 3 but the engine expects rank 2 (profile min [1, 2], "
                    "max [4, 8])");
  EXPECT_THROWS_WITH(execute_engine({ok, at::ones({2, 9})}, e),
                    "input 1 ('y') has shape [2, 9]: dimension 1 is 9, outside the engine's range [2, 8]");
  EXPECT_THROWS_WITH(execute_engine({ok, at::ones({2, 2}, at::device(at::kMeta))}, e),
                    "input 1 ('y') is on meta but the engine runs on cpu");
  // The stand-in's own check (same shapes required by scale_add) surfaces with TensorRT's message.
  EXPECT_THROWS_WITH(execute_engine({at::ones({2, 2}), at::ones({3, 2})}, e),
                    "TensorRT failed to execute the engine (enqueueV3); TensorRT said: IExecutionContext::enqueueV3: "
                    "scale_add needs");
}

TEST(cuda_device_rule) {
  auto e = adder();
  const at::Tensor ok = at::ones({2, 2});
  EXPECT_THROWS_WITH(check_inputs(*e, {ok, ok}, c10::Device(c10::kCUDA, 0)),
                    "engine 'adder': input 0 ('x') is on cpu but the engine runs on cuda:0");
  check_inputs(*e, {ok, ok}, c10::Device(c10::kCPU));
}

TEST(binding_names_checked_against_the_engine) {
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"x", "z"}, {"out", "pos"})),
                    "engine 'adder': the record lists input binding 'z' but the TensorRT engine has no such I/O "
                    "tensor (engine I/O tensors: 'out' (output), 'y' (input), 'x' (input), 'pos' (output))");
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"x", "y", "out"}, {"pos"})),
                    "the record lists input binding 'out' but the TensorRT engine has it with the other I/O mode");
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"x", "y"}, {"out"})),
                    "the TensorRT engine has output 'pos' that the record does not list");
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"x", "x", "y"}, {"out", "pos"})),
                    "the record lists input binding 'x' twice");
}

TEST(bad_plans_and_records) {
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(record_for("garbage", {"x"}, {"y"})),
                    "engine 'adder': TensorRT could not deserialize the engine (7 bytes; built with TensorRT of "
                    "unknown version); TensorRT said: IRuntime::deserializeCudaEngine: plan line 1: not a stand-in");
  auto rec = record_for(kAdderPlan, {"x", "y"}, {"out", "pos"});
  rec[idx(Field::ABI_VERSION)] = "7";
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(rec), "record ABI 7 is newer than this runtime's ABI 1");
  rec = record_for(kAdderPlan, {"x", "y"}, {"out", "pos"});
  rec.pop_back();
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(rec), "record has 15 fields");
}

TEST(simulated_records_run_on_the_stand_in) {
  EngineRecord r = EngineRecord::from_list(record_for(kAdderPlan, {"x", "y"}, {"out", "pos"}));
  r.engine_kind = kKindSimulated;
  auto e = c10::make_intrusive<TRTEngine>(r.to_list());
  EXPECT_EQ(e->record().engine_kind, std::string("simulated"));
}

TEST(serialize_round_trips_the_record) {
  const auto rec = record_for(kAdderPlan, {"x", "y"}, {"out", "pos"});
  auto e = c10::make_intrusive<TRTEngine>(rec);
  EXPECT(e->serialize() == rec);
  auto copy = c10::make_intrusive<TRTEngine>(e->serialize());
  EXPECT_EQ(copy->describe(), e->describe());
}

namespace {
int32_t g_hook_calls = 0;
int32_t g_hook_result = 0;
int32_t negate_hook(void*, const char* plan, int32_t n, const char* const* names, const int32_t* is_input,
                    const int32_t*, const int32_t* nb_dims, const int64_t* dims, void* const* addrs) {
  ++g_hook_calls;
  if (g_hook_result != 0 || std::string(plan) != "hooked") return g_hook_result ? g_hook_result : 1;
  const float* in = nullptr;
  float* out = nullptr;
  int64_t numel = 1;
  for (int32_t i = 0; i < n; ++i) {
    if (is_input[i]) {
      in = static_cast<const float*>(addrs[i]);
      for (int32_t d = 0; d < nb_dims[i]; ++d) numel *= dims[i * 8 + d];
    } else if (std::string(names[i]) == "o") {
      out = static_cast<float*>(addrs[i]);
    }
  }
  for (int64_t k = 0; k < numel; ++k) out[k] = -in[k];
  return 0;
}
}  // namespace

TEST(enqueue_hook) {
  const char* plan = "torchtrt-fake-plan 1\nname hooked\ninput i float32 1 2 4\noutput o float32 hook i\n";
  auto e = c10::make_intrusive<TRTEngine>(record_for(plan, {"i"}, {"o"}, "hooked"));
  const at::Tensor i = at::arange(3, at::kFloat);
  EXPECT_THROWS_WITH(execute_engine({i}, e), "computed by a hook and none is registered");
  torchtrt_fake_set_enqueue_hook(&negate_hook, nullptr);
  EXPECT(at::equal(execute_engine({i}, e)[0], -i));
  // Declined (1) for other plans: the built-in computation runs.
  auto a = adder();
  EXPECT(at::equal(execute_engine({i.reshape({1, 3}), i.reshape({1, 3})}, a)[0], i.reshape({1, 3}) * 3));
  g_hook_result = 7;
  EXPECT_THROWS_WITH(execute_engine({i}, e), "enqueue hook failed with code 7");
  torchtrt_fake_set_enqueue_hook(nullptr, nullptr);
  g_hook_result = 0;
  EXPECT(g_hook_calls >= 2);
}

TEST(per_engine_cuda_graphs_record_replay_rerecord) {
  // With the stand-in the "graph" is the launch on the static buffers: the bookkeeping and the buffer
  // semantics (new input values reach the replay, outputs are new tensors) are what is checked here.
  const char* plan = "torchtrt-fake-plan 1\nname twice\ninput x float32 1x2 2x2 4x8\noutput y float32 scale_add x x 1\n";
  auto e = c10::make_intrusive<TRTEngine>(record_for(plan, {"x"}, {"y"}, "twice"));
  e->graphs().set_max_graphs(2);
  set_cudagraphs_mode(1);
  const at::Tensor a = at::randn({2, 4});
  auto first = execute_engine({a}, e);                  // record
  auto second = execute_engine({a + 1}, e);             // replay, new values
  EXPECT(at::allclose(first[0], a * 2));
  EXPECT(at::allclose(second[0], (a + 1) * 2));
  EXPECT(first[0].data_ptr() != second[0].data_ptr());  // fresh outputs, the first one kept its values
  EXPECT((e->graphs().stats() == std::vector<int64_t>{1, 1, 1}));
  execute_engine({at::randn({3, 4})}, e);              // a new shape set records another graph
  execute_engine({at::randn({1, 4})}, e);              // a third: the least recently used ({2, 4}) goes
  EXPECT((e->graphs().stats() == std::vector<int64_t>{3, 1, 2}));
  auto again = execute_engine({a.t().contiguous().t()}, e);  // {2, 4} again (non-contiguous): recorded anew
  EXPECT(at::allclose(again[0], a * 2));
  EXPECT((e->graphs().stats() == std::vector<int64_t>{4, 1, 2}));
  set_cudagraphs_mode(0);                               // leaving the mode frees every engine's graphs
  EXPECT((e->graphs().stats() == std::vector<int64_t>{4, 1, 0}));
  auto plain = execute_engine({a}, e);
  EXPECT(at::allclose(plain[0], a * 2));
  EXPECT((e->graphs().stats() == std::vector<int64_t>{4, 1, 0}));
  EXPECT_THROWS_WITH(set_cudagraphs_mode(3), "mode must be 0");
  EXPECT_THROWS_WITH(e->graphs().set_max_graphs(0), "max_cuda_graphs must be >= 1");
}

TEST(per_engine_cuda_graphs_skip_data_dependent_outputs) {
  auto e = adder();  // "pos" has a data-dependent shape
  set_cudagraphs_mode(1);
  const at::Tensor x = at::arange(-3, 9, at::kFloat).reshape({3, 4});
  const at::Tensor y = at::full({3, 4}, 0.5f);
  for (int i = 0; i < 2; ++i) {
    auto out = execute_engine({x, y}, e);
    EXPECT(at::equal(out[0], x * 2 + y));
    EXPECT(at::equal(out[1], at::arange(1, 9, at::kFloat)));
  }
  EXPECT(e->graphs().ungraphable());
  EXPECT((e->graphs().stats() == std::vector<int64_t>{0, 0, 0}));
  set_cudagraphs_mode(2);  // whole graph: engines run plainly (a capture around them records the launch)
  EXPECT(cudagraphs_mode() == CudaGraphsMode::kWholeGraph);
  set_cudagraphs_mode(0);
}

TEST(tensorrt_objects_are_released) {
  {
    auto e = adder();
    execute_engine({at::ones({1, 2}), at::ones({1, 2})}, e);
    EXPECT(torchtrt_fake_live_objects() >= 3);  // runtime, engine, context
  }
  EXPECT_EQ(torchtrt_fake_live_objects(), 0);
}

TEST(dtype_table) {
  EXPECT(to_torch_dtype(nvinfer1::DataType::kHALF) == at::kHalf);
  EXPECT(to_torch_dtype(nvinfer1::DataType::kBF16) == at::kBFloat16);
  EXPECT(to_torch_dtype(nvinfer1::DataType::kINT64) == at::kLong);
  EXPECT(!to_torch_dtype(nvinfer1::DataType::kINT4));
  EXPECT_EQ(trt_dtype_name(nvinfer1::DataType::kINT4), "DataType::kINT4");
}

MINI_TEST_MAIN()
