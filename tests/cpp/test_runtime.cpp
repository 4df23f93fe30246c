// TRTEngine and execute_engine against the stand-in TensorRT. With a CUDA device everything runs on it (the
// stand-in's CUDA mode: device memory, the stream enqueueV3 is given); without one, on host memory. The cases
// marked CUDA_ONLY check what only a GPU can show (streams, events, graph capture, device selection).
#include <ATen/ATen.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>

#include <chrono>
#include <thread>

#include "engine_state.h"
#include "mini_test.h"
#include "record_fixtures.h"
#include <cstring>
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

c10::IValue state(const EngineRecord& r) { return torchtrt_test::engine_state(r); }

std::string bytes_of(const c10::IValue& state) {
  const at::Tensor t = state.toTensor().contiguous();
  return std::string(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), static_cast<std::size_t>(t.numel()));
}

EngineRecord parsed(const c10::IValue& s) { return EngineRecord::from_bytes(bytes_of(s)); }

c10::IValue record_for(const std::string& plan, std::vector<std::string> inputs, std::vector<std::string> outputs,
                       const std::string& name = "adder", const char* kind = kKindTensorRT) {
  EngineRecord r;
  r.name = name;
  r.engine = plan;
  r.input_binding_names = std::move(inputs);
  r.output_binding_names = std::move(outputs);
  r.engine_kind = kind;
  return state(torchtrt_test::with_metadata(r));
}

c10::intrusive_ptr<TRTEngine> adder() {
  return c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"x", "y"}, {"out", "pos"}));
}

bool has_gpu() { return c10::cuda::device_count() > 0; }
c10::Device dev() { return has_gpu() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU); }
at::Tensor on_dev(const at::Tensor& t) { return t.to(dev()); }
bool same(const at::Tensor& a, const at::Tensor& b) { return a.device() == b.device() && at::equal(a.cpu(), b.cpu()); }

#define CUDA_ONLY()                                      \
  if (!has_gpu()) {                                      \
    std::cout << "  (no CUDA device: skipped)" << std::endl; \
    return;                                              \
  }

//! Collects TORCH_WARN messages while alive.
struct Warnings : c10::WarningHandler {
  std::vector<std::string> seen;
  c10::WarningHandler* previous = c10::WarningUtils::get_warning_handler();
  Warnings() { c10::WarningUtils::set_warning_handler(this); }
  ~Warnings() override { c10::WarningUtils::set_warning_handler(previous); }
  void process(const c10::Warning& w) override { seen.push_back(w.msg()); }
};

}  // namespace

TEST(mode_matches_the_machine) {
  EXPECT_EQ(torchtrt_fake_cuda_mode(), has_gpu() ? 1 : 0);
  std::cout << "  stand-in mode: " << (has_gpu() ? "CUDA" : "host memory") << std::endl;
}

TEST(executes_by_binding_name_and_returns_outputs_in_record_order) {
  auto e = adder();
  EXPECT(e->device() == dev());
  const at::Tensor x = on_dev(at::arange(-3, 9, at::kFloat).reshape({3, 4}));
  const at::Tensor y = on_dev(at::full({3, 4}, 0.5f));
  auto out = execute_engine({x, y}, e);
  EXPECT_EQ(out.size(), 2u);
  EXPECT(same(out[0], x * 2 + y));
  EXPECT(same(out[1], on_dev(at::arange(1, 9, at::kFloat))));  // data-dependent shape via IOutputAllocator
  EXPECT_EQ(out[1].dim(), 1);

  // The same plan with the outputs listed the other way round in the record.
  auto swapped = c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"y", "x"}, {"pos", "out"}));
  auto out2 = execute_engine({y, x}, swapped);
  EXPECT(same(out2[1], x * 2 + y));
  EXPECT(same(out2[0], out[1]));
}

TEST(dynamic_shapes_and_repeated_calls) {
  auto e = adder();
  for (int64_t rows : {1, 4, 2}) {
    const at::Tensor x = on_dev(at::randn({rows, 8}));
    const at::Tensor y = on_dev(at::randn({rows, 8}));
    auto out = execute_engine({x, y}, e);
    EXPECT(at::allclose(out[0].cpu(), (x * 2 + y).cpu()));
    EXPECT(same(out[1], x.masked_select(x > 0)));
  }
}

TEST(non_contiguous_and_misaligned_inputs_are_copied) {
  auto e = adder();
  const at::Tensor x = on_dev(at::randn({4, 2})).t();  // 2x4, transposed strides
  const at::Tensor y = on_dev(at::randn({2, 4}));
  EXPECT(!x.is_contiguous());
  EXPECT(at::allclose(execute_engine({x, y}, e)[0].cpu(), (x * 2 + y).cpu()));
  // A view 4 bytes into its storage: not 256-byte aligned (the stand-in's setTensorAddress refuses such device
  // addresses, as TensorRT wants them aligned), so the runtime copies it.
  const at::Tensor base = on_dev(at::randn({9}));
  const at::Tensor shifted = base.narrow(0, 1, 8).view({2, 4});
  EXPECT(shifted.is_contiguous());
  EXPECT_EQ(needs_aligned_copy(shifted), has_gpu());
  EXPECT(!needs_aligned_copy(y));
  EXPECT(at::allclose(execute_engine({shifted, y}, e)[0].cpu(), (shifted * 2 + y).cpu()));
}

TEST(cuda_an_execution_on_another_stream_waits_for_the_previous_one) {
  CUDA_ONLY();
  // A plan with no data-dependent output: the stand-in enqueues a device-to-device copy and never synchronizes.
  const char* plan = "torchtrt-fake-plan 1\ninput x float32 2x4 2x4 2x4\noutput c float32 copy x\n";
  auto e = c10::make_intrusive<TRTEngine>(record_for(plan, {"x"}, {"c"}, "copier"));
  const at::Tensor x = on_dev(at::randn({2, 4}));
  c10::cuda::getCurrentCUDAStream(0).synchronize();
  c10::cuda::CUDAStream a = c10::cuda::getStreamFromPool(false, 0);
  c10::cuda::CUDAStream b = c10::cuda::getStreamFromPool(false, 0);
  EXPECT(a != b);
  // Stream a is held up by a host function, so the execution enqueued on it stays pending for a while.
  const cudaHostFn_t hold = [](void*) { std::this_thread::sleep_for(std::chrono::milliseconds(300)); };
  EXPECT_EQ(cudaLaunchHostFunc(a.stream(), hold, nullptr), cudaSuccess);
  at::Tensor first, second;
  {
    c10::cuda::CUDAStreamGuard guard(a);
    first = execute_engine({x}, e)[0];
  }
  {
    c10::cuda::CUDAStreamGuard guard(b);
    second = execute_engine({x}, e)[0];
    EXPECT_EQ(torchtrt_fake_last_enqueue_stream(), reinterpret_cast<intptr_t>(b.stream()));
  }
  // The same execution context on b: b waits for the event recorded after the enqueue on a, so it is still
  // pending long after its own copy would have finished.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(cudaStreamQuery(b.stream()), cudaErrorNotReady);
  b.synchronize();
  EXPECT_EQ(cudaStreamQuery(a.stream()), cudaSuccess);  // b finished only after a
  EXPECT(same(first, x) && same(second, x));
}

TEST(output_allocator_when_the_record_requires_it) {
  const char* plan = "torchtrt-fake-plan 1\ninput a int64 1 3 8\noutput b int64 scale_add a a 3\n";
  EngineRecord r = parsed(record_for(plan, {"a"}, {"b"}, "alloc"));
  r.requires_output_allocator = true;
  auto e = c10::make_intrusive<TRTEngine>(state(r));
  EXPECT(e->uses_output_allocator());
  const at::Tensor a = on_dev(at::arange(5, at::kLong));
  auto out = execute_engine({a}, e);
  EXPECT(same(out[0], a * 4));
  auto again = execute_engine({a + 1}, e);  // a fresh buffer: the first result is not overwritten
  EXPECT(same(out[0], a * 4));
  EXPECT(same(again[0], (a + 1) * 4));
  EXPECT(out[0].data_ptr() != again[0].data_ptr());
}

TEST(shape_tensor_inputs) {
  // r = x reshaped to the values of the shape tensor s (read by TensorRT on the host).
  const char* plan = "torchtrt-fake-plan 1\ninput x float32 1x6 2x6 4x6\ninput s int64 2 2 2 shape\n"
                     "output r float32 reshape x s\n";
  auto e = c10::make_intrusive<TRTEngine>(record_for(plan, {"x", "s"}, {"r"}, "reshaper"));
  EXPECT(!e->is_shape_input(0) && e->is_shape_input(1) && e->has_shape_inputs());
  const at::Tensor x = on_dev(at::arange(12, at::kFloat).reshape({2, 6}));
  auto r = execute_engine({x, at::tensor({3, 4}, at::kLong)}, e);
  EXPECT(same(r[0], x.reshape({3, 4})));
  r = execute_engine({x, on_dev(at::tensor({4, 3}, at::kLong))}, e);  // on the device: copied to the host
  EXPECT(same(r[0], x.reshape({4, 3})));
  EXPECT_THROWS_WITH(execute_engine({x, at::tensor({5, 3}, at::kLong)}, e),
                    "engine 'reshaper': TensorRT could not infer the output shapes; TensorRT said: "
                    "IExecutionContext::inferShapes: output 'r': shape 15 elements from 's' for 12 elements of 'x'");
}

TEST(input_errors_name_engine_and_binding) {
  auto e = adder();
  const at::Tensor ok = on_dev(at::ones({2, 2}));
  EXPECT_THROWS_WITH(execute_engine({ok}, e), "engine 'adder' expects 2 input(s) ('x', 'y'), got 1");
  EXPECT_THROWS_WITH(execute_engine({ok, ok.to(at::kDouble)}, e),
                    "engine 'adder': input 1 ('y') has dtype torch.float64 but the engine expects torch.float32");
  EXPECT_THROWS_WITH(execute_engine({on_dev(at::ones({2, 2, 2})), ok}, e),
                    "input 0 ('x') has shape [2, 2, 2] of rank 3 but the engine expects rank 2 (profile min [1, 2], "
                    "max [4, 8])");
  EXPECT_THROWS_WITH(execute_engine({ok, on_dev(at::ones({2, 9}))}, e),
                    "input 1 ('y') has shape [2, 9]: dimension 1 is 9, outside the engine's range [2, 8]");
  EXPECT_THROWS_WITH(execute_engine({ok, at::ones({2, 2}, at::device(at::kMeta))}, e),
                    "input 1 ('y') is on meta but the engine runs on " + dev().str());
  // The stand-in's own check (same shapes required by scale_add) surfaces with TensorRT's message.
  EXPECT_THROWS_WITH(execute_engine({on_dev(at::ones({2, 2})), on_dev(at::ones({3, 2}))}, e),
                    "TensorRT failed to execute the engine (enqueueV3); TensorRT said: IExecutionContext::enqueueV3: "
                    "scale_add needs");
}

TEST(cuda_device_rule) {
  auto e = adder();
  const at::Tensor ok = at::ones({2, 2});
  EXPECT_THROWS_WITH(check_inputs(*e, {ok, ok}, c10::Device(c10::kCUDA, 0)),
                    "engine 'adder': input 0 ('x') is on cpu but the engine runs on cuda:0; move the input");
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
                    "engine 'adder': field INPUT_BINDING_NAMES lists 'x', which is already a binding name");
}

TEST(bad_plans_and_records) {
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(record_for("garbage", {"x"}, {"y"})),
                    "engine 'adder': TensorRT could not deserialize the engine (7 bytes; built with TensorRT of "
                    "unknown version, this runtime is TensorRT 10.16.0); TensorRT said: "
                    "IRuntime::deserializeCudaEngine: plan line 1: not a stand-in");
  std::vector<std::string> fields;
  const std::string framed = bytes_of(record_for(kAdderPlan, {"x", "y"}, {"out", "pos"}));
  for (const auto& view : unframe(framed.data(), framed.size())) fields.emplace_back(view.first, view.second);
  auto edited = [](const std::string& bytes) { return torchtrt_test::bytes_state(bytes); };
  auto rec = fields;
  rec[idx(Field::ABI_VERSION)] = "7";
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(edited(frame(rec))), "record ABI 7 is newer than this runtime's ABI 4");
  rec = fields;
  rec.pop_back();
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(edited(frame(rec))), "record has 16 fields");
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(edited(framed.substr(0, 20))), "truncated record");
  // An ABI 2 state (a list of strings, engine and metadata in base64) is still read.
  rec = fields;
  rec[idx(Field::ABI_VERSION)] = "2";
  rec[idx(Field::ENGINE)] = base64_encode(kAdderPlan);  // the plan (ABI 4's field holds it packed)
  rec[idx(Field::SERIALIZED_METADATA)] = base64_encode(rec[idx(Field::SERIALIZED_METADATA)]);
  c10::List<std::string> list;
  for (const auto& f : rec) list.push_back(f);
  EXPECT_EQ(c10::make_intrusive<TRTEngine>(c10::IValue(list))->describe(), adder()->describe());
}

TEST(load_time_checks_name_built_for_and_here) {
  EngineRecord r = parsed(record_for(kAdderPlan, {"x", "y"}, {"out", "pos"}));
  r.trt_flavour = "tensorrt_rtx";
  r.trt_version = "1.7.1.116";
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(state(r)),
                    "engine 'adder' was built with TensorRT-RTX 1.7.1.116 but this runtime is TensorRT 10.16.0");
  r.trt_flavour = "tensorrt";
  r.trt_version = "10.17.0";
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(state(r)), "newer than this runtime's TensorRT 10.16.0");
  r.trt_version = "10.16.0.6";
  r.target_platform = "linux_riscv64";
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(state(r)),
                    "built for platform linux_riscv64 but this is linux_");
  r.target_platform = platform_name();
  EXPECT(c10::make_intrusive<TRTEngine>(state(r))->device() == dev());
  EXPECT_EQ(library_version(), "10.16.0");
}

TEST(simulated_records_run_on_the_stand_in) {
  auto e = c10::make_intrusive<TRTEngine>(record_for(kAdderPlan, {"x", "y"}, {"out", "pos"}, "adder", kKindSimulated));
  EXPECT_EQ(e->record().engine_kind, std::string("simulated"));
}

TEST(serialize_round_trips_the_record) {
  const auto rec = record_for(kAdderPlan, {"x", "y"}, {"out", "pos"});
  auto e = c10::make_intrusive<TRTEngine>(rec);
  EXPECT(bytes_of(e->serialize()) == bytes_of(rec));
  EXPECT(bytes_of(e->serialize()).find(kAdderPlan) != std::string::npos);  // the plan verbatim, not base64
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
  const at::Tensor i = on_dev(at::arange(3, at::kFloat));
  EXPECT_THROWS_WITH(execute_engine({i}, e), "computed by a hook and none is registered");
  torchtrt_fake_set_enqueue_hook(&negate_hook, nullptr);
  EXPECT(same(execute_engine({i}, e)[0], -i));
  // Declined (1) for other plans: the built-in computation runs.
  auto a = adder();
  EXPECT(same(execute_engine({i.reshape({1, 3}), i.reshape({1, 3})}, a)[0], i.reshape({1, 3}) * 3));
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
  const at::Tensor a = on_dev(at::randn({2, 4}));
  auto first = execute_engine({a}, e);                  // record
  auto second = execute_engine({a + 1}, e);             // replay, new values
  EXPECT(at::allclose(first[0], a * 2));
  EXPECT(at::allclose(second[0], (a + 1) * 2));
  EXPECT(first[0].data_ptr() != second[0].data_ptr());  // fresh outputs, the first one kept its values
  EXPECT((e->graphs().stats() == std::vector<int64_t>{1, 1, 1}));
  execute_engine({on_dev(at::randn({3, 4}))}, e);           // a new shape set records another graph
  execute_engine({on_dev(at::randn({1, 4}))}, e);           // a third: the least recently used ({2, 4}) goes
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
  const at::Tensor x = on_dev(at::arange(-3, 9, at::kFloat).reshape({3, 4}));
  const at::Tensor y = on_dev(at::full({3, 4}, 0.5f));
  for (int i = 0; i < 2; ++i) {
    auto out = execute_engine({x, y}, e);
    EXPECT(at::equal(out[0], x * 2 + y));
    EXPECT(at::equal(out[1], on_dev(at::arange(1, 9, at::kFloat))));
  }
  EXPECT(e->graphs().ungraphable());
  EXPECT((e->graphs().stats() == std::vector<int64_t>{0, 0, 0}));
  set_cudagraphs_mode(2);  // whole graph: engines run plainly (a capture around them records the launch)
  EXPECT(cudagraphs_mode() == CudaGraphsMode::kWholeGraph);
  set_cudagraphs_mode(0);
}

TEST(per_engine_cuda_graphs_skip_shape_tensor_inputs) {
  // Output shapes that follow a shape tensor's values cannot be replayed by input shape set: run plainly.
  const char* plan = "torchtrt-fake-plan 1\ninput x float32 1x6 2x6 4x6\ninput s int64 2 2 2 shape\n"
                     "output r float32 reshape x s\n";
  auto e = c10::make_intrusive<TRTEngine>(record_for(plan, {"x", "s"}, {"r"}, "reshaper"));
  set_cudagraphs_mode(1);
  const at::Tensor x = on_dev(at::arange(12, at::kFloat).reshape({2, 6}));
  auto r = execute_engine({x, at::tensor({3, 4}, at::kLong)}, e);
  EXPECT(same(r[0], x.reshape({3, 4})));
  r = execute_engine({x, at::tensor({4, 3}, at::kLong)}, e);  // same shape set, other values
  EXPECT(same(r[0], x.reshape({4, 3})));
  EXPECT(e->graphs().ungraphable());
  EXPECT((e->graphs().stats() == std::vector<int64_t>{0, 0, 0}));
  set_cudagraphs_mode(0);
}

TEST(tensorrt_objects_are_released) {
  {
    auto e = adder();
    execute_engine({on_dev(at::ones({1, 2})), on_dev(at::ones({1, 2}))}, e);
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

TEST(hot_path_timing) {
  // Not a pass/fail check: the C++ side of one call (no Python), printed for the overhead report.
  const char* plan = "torchtrt-fake-plan 1\ninput x float32 1x16 1x16 1x16\noutput y float32 copy x\n";
  auto e = c10::make_intrusive<TRTEngine>(record_for(plan, {"x"}, {"y"}, "identity"));
  const at::Tensor x = on_dev(at::randn({1, 16}));
  auto time_calls = [&](const char* what) {
    for (int i = 0; i < 200; ++i) execute_engine({x}, e);
    if (has_gpu()) c10::cuda::device_synchronize();
    const int n = 20000;
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) execute_engine({x}, e);
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
    if (has_gpu()) c10::cuda::device_synchronize();
    std::cout << "  execute_engine, " << what << ": " << us << " us per call (C++ only, stand-in copy engine)"
              << std::endl;
  };
  time_calls(has_gpu() ? "CUDA, default stream" : "host memory");
  if (has_gpu()) {
    c10::cuda::CUDAStreamGuard guard(c10::cuda::getStreamFromPool(false, 0));
    time_calls("CUDA, non-default stream");
    // What the pieces cost here (the CUDA calls a call makes), for reading the numbers above.
    cudaStream_t s = c10::cuda::getCurrentCUDAStream(0).stream();
    cudaEvent_t ev = nullptr;
    cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
    at::Tensor dst = at::empty_like(x);
    auto per_call = [](auto&& fn) {
      const int n = 20000;
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < n; ++i) fn();
      return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / n;
    };
    cudaStreamCaptureStatus st;
    std::cout << "  pieces (us): cudaStreamIsCapturing " << per_call([&] { cudaStreamIsCapturing(s, &st); })
              << ", cudaEventRecord " << per_call([&] { cudaEventRecord(ev, s); })
              << ", cudaMemcpyAsync 64 B D2D "
              << per_call([&] { cudaMemcpyAsync(dst.data_ptr(), x.data_ptr(), 64, cudaMemcpyDeviceToDevice, s); })
              << ", at::empty " << per_call([&] { (void)at::empty({1, 16}, x.options()); })
              << ", CUDAGuard " << per_call([&] { c10::cuda::CUDAGuard g(0); }) << std::endl;
    c10::cuda::device_synchronize();
    cudaEventDestroy(ev);
  }
  EXPECT(at::equal(execute_engine({x}, e)[0].cpu(), x.cpu()));
}

// ------------------------------------------------------------------------------------------ CUDA only

TEST(cuda_callers_stream_is_used) {
  CUDA_ONLY();
  auto e = adder();
  const at::Tensor x = on_dev(at::randn({2, 4}));
  const at::Tensor y = on_dev(at::randn({2, 4}));
  c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(false, 0);
  side.synchronize();
  at::Tensor out;
  {
    c10::cuda::CUDAStreamGuard guard(side);
    out = execute_engine({x, y}, e)[0];
    EXPECT_EQ(torchtrt_fake_last_enqueue_stream(), reinterpret_cast<intptr_t>(side.stream()));
  }
  side.synchronize();
  EXPECT(at::allclose(out.cpu(), (x * 2 + y).cpu()));
}

TEST(cuda_default_stream_callers_run_on_a_side_stream) {
  CUDA_ONLY();
  auto e = adder();
  EXPECT(c10::cuda::getCurrentCUDAStream(0) == c10::cuda::getDefaultCUDAStream(0));
  const at::Tensor x = on_dev(at::randn({4, 8}));
  const at::Tensor y = on_dev(at::randn({4, 8}));
  const at::Tensor out = execute_engine({x, y}, e)[0];
  const intptr_t used = torchtrt_fake_last_enqueue_stream();
  EXPECT(used != 0);  // not the legacy default stream
  // Work queued on the default stream after the call sees the result without any synchronization by the caller.
  const at::Tensor twice = out * 2;
  EXPECT(at::allclose(twice.cpu(), ((x * 2 + y) * 2).cpu()));
  // The next call from another stream waits for the previous one (the event after each enqueue).
  c10::cuda::CUDAStream other = c10::cuda::getStreamFromPool(false, 0);
  {
    c10::cuda::CUDAStreamGuard guard(other);
    cudaEvent_t ready = nullptr;  // the inputs were made on the default stream
    cudaEventCreateWithFlags(&ready, cudaEventDisableTiming);
    cudaEventRecord(ready, c10::cuda::getDefaultCUDAStream(0).stream());
    cudaStreamWaitEvent(other.stream(), ready, 0);
    cudaEventDestroy(ready);
    const at::Tensor again = execute_engine({x, y}, e)[0];
    EXPECT(torchtrt_fake_last_enqueue_stream() == reinterpret_cast<intptr_t>(other.stream()));
    other.synchronize();
    EXPECT(at::allclose(again.cpu(), (x * 2 + y).cpu()));
  }
}

TEST(cuda_graph_capture_and_replay) {
  CUDA_ONLY();
  const char* plan = "torchtrt-fake-plan 1\ninput x float32 2x4 2x4 2x4\ninput y float32 2x4 2x4 2x4\n"
                     "output out float32 scale_add x y 3\noutput c float32 copy x\n";
  auto e = c10::make_intrusive<TRTEngine>(record_for(plan, {"x", "y"}, {"out", "c"}, "graphed"));
  at::Tensor x = on_dev(at::randn({2, 4}));
  at::Tensor y = on_dev(at::randn({2, 4}));
  c10::cuda::CUDAStream stream = c10::cuda::getStreamFromPool(false, 0);
  std::vector<at::Tensor> out;
  at::cuda::CUDAGraph graph;
  {
    c10::cuda::CUDAStreamGuard guard(stream);
    execute_engine({x, y}, e);  // warm-up outside the capture (the stand-in sizes its staging buffers)
    stream.synchronize();
    graph.capture_begin();
    out = execute_engine({x, y}, e);
    graph.capture_end();
    x.copy_(at::full({2, 4}, 2.0f));
    y.copy_(at::full({2, 4}, 1.0f));
    graph.replay();
    stream.synchronize();
  }
  EXPECT(at::allclose(out[0].cpu(), at::full({2, 4}, 7.0f)));
  EXPECT(at::allclose(out[1].cpu(), at::full({2, 4}, 2.0f)));
  // Data-dependent outputs cannot be captured: a clear error rather than a broken graph.
  auto a = adder();
  {
    c10::cuda::CUDAStreamGuard guard(stream);
    at::cuda::CUDAGraph bad;
    bad.capture_begin();
    EXPECT_THROWS_WITH(execute_engine({x, y}, a), "output 'pos' has a data-dependent shape");
    try {
      bad.capture_end();
    } catch (const std::exception&) {
    }
  }
}

TEST(cuda_device_selection) {
  CUDA_ONLY();
  const int count = static_cast<int>(c10::cuda::device_count());
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  const std::string here = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  EngineRecord r = parsed(record_for(kAdderPlan, {"x", "y"}, {"out", "pos"}));
  r.device_capability = here;
  r.device_name = prop.name;
  {
    Warnings w;
    EXPECT(c10::make_intrusive<TRTEngine>(state(r))->device() == c10::Device(c10::kCUDA, 0));
    EXPECT(w.seen.empty());
  }
  r.device_id = count + 3;  // built on a device this process does not have: the current one, with a warning
  {
    Warnings w;
    EXPECT(c10::make_intrusive<TRTEngine>(state(r))->device() == c10::Device(c10::kCUDA, 0));
    EXPECT_EQ(w.seen.size(), 1u);
    EXPECT(!w.seen.empty() && w.seen[0].find("was built for device " + std::to_string(count + 3) +
                                             "; running it on compatible device 0") != std::string::npos);
  }
  r.device_id = 0;
  r.device_capability = "7.5";
  EXPECT_THROWS_WITH(c10::make_intrusive<TRTEngine>(state(r)),
                    "engine 'adder' was built for SM 7.5 (" + std::string(prop.name) +
                        "); no compatible GPU among: 0: " + prop.name + " (SM " + here + ")");
  r.hardware_compatible = true;  // Ampere-plus: any SM >= 8.0
  EXPECT_EQ(c10::make_intrusive<TRTEngine>(state(r))->device().index(), 0);
}

MINI_TEST_MAIN()
