// execute_engine: input checks, shapes and addresses (aligned copies, shape tensors on the host), output
// allocation, enqueueV3 on the stream StreamOrder picks; split into bind_call / enqueue_call / finish_call,
// which the per-engine CUDA graphs of cudagraphs.cpp share.
#include "torchtrt/execute.h"

#include <ATen/Functions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAGraphsC10Utils.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>

#include <algorithm>

#include "torchtrt/cudagraphs.h"

namespace torchtrt {

std::optional<at::ScalarType> to_torch_dtype(nvinfer1::DataType t) {
  // Compared by value: 6 (FP8) and later enumerators are spelled differently across TensorRT releases.
  switch (static_cast<int32_t>(t)) {
    case 0: return at::kFloat;
    case 1: return at::kHalf;
    case 2: return at::kChar;
    case 3: return at::kInt;
    case 4: return at::kBool;
    case 5: return at::kByte;
    case 6: return at::kFloat8_e4m3fn;
    case 7: return at::kBFloat16;
    case 8: return at::kLong;
    default: return std::nullopt;
  }
}

std::string trt_dtype_name(nvinfer1::DataType t) {
  static const char* const names[] = {"FLOAT", "HALF", "INT8", "INT32", "BOOL", "UINT8", "FP8", "BF16", "INT64",
                                      "INT4",  "FP4"};
  const auto i = static_cast<int32_t>(t);
  return i >= 0 && i < 11 ? std::string("DataType::k") + names[i] : "DataType(" + std::to_string(i) + ")";
}

std::string torch_dtype_name(at::ScalarType t) { return "torch." + std::string(c10::getDtypeNames(t).first); }

namespace {

std::string names_str(const std::vector<std::string>& names) {
  std::string s;
  for (std::size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + quoted(names[i]);
  return s;
}

at::ScalarType binding_dtype(TRTEngine& engine, const std::string& name) {
  const nvinfer1::DataType t = engine.cuda_engine().getTensorDataType(name.c_str());
  const auto dtype = to_torch_dtype(t);
  TORCH_CHECK(dtype, engine.label(), ": binding ", quoted(name), " has TensorRT type ", trt_dtype_name(t),
              ", which has no Torch dtype");
  return *dtype;
}

}  // namespace

void check_inputs(TRTEngine& engine, const std::vector<at::Tensor>& inputs, c10::Device device) {
  // Hot path: nothing is allocated unless a check fails (TORCH_CHECK evaluates its message only then).
  const auto& names = engine.input_names();
  TORCH_CHECK(inputs.size() == names.size(), engine.label(), " expects ", names.size(), " input(s) (",
              names_str(names), "), got ", inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const at::Tensor& t = inputs[i];
    const std::string& name = names[i];
    const auto where = [&] { return engine.label() + ": input " + std::to_string(i) + " (" + quoted(name) + ")"; };
    TORCH_CHECK(t.defined(), where(), " is an undefined tensor");
    // Shape tensors are read on the host: CPU tensors are taken as they are, device tensors copied.
    const bool shape_tensor = engine.is_shape_input(i);
    TORCH_CHECK(t.device() == device || (shape_tensor && t.is_cpu()), where(), " is on ", t.device().str(),
                " but the engine runs on ", device.str(),
                device.is_cpu() ? " (the stand-in TensorRT executes on host memory: this process has no CUDA device)"
                                : "; move the input to the engine's device");
    const at::ScalarType expected = binding_dtype(engine, name);
    TORCH_CHECK(t.scalar_type() == expected, where(), " has dtype ", torch_dtype_name(t.scalar_type()),
                " but the engine expects ", torch_dtype_name(expected));
    const nvinfer1::Dims& lo = engine.input_min(i);  // the union over the engine's optimization profiles
    const nvinfer1::Dims& hi = engine.input_max(i);
    const at::IntArrayRef shape = t.sizes();
    const auto allowed = [&] {
      return " (profile min " + shape_str(dims_to_vector(lo)) + ", max " + shape_str(dims_to_vector(hi)) + ")";
    };
    TORCH_CHECK(static_cast<int64_t>(shape.size()) == lo.nbDims, where(), " has shape ", shape_str(shape.vec()),
                " of rank ", shape.size(), " but the engine expects rank ", lo.nbDims, allowed());
    for (std::size_t d = 0; d < shape.size(); ++d)
      TORCH_CHECK(shape[d] >= lo.d[d] && shape[d] <= hi.d[d], where(), " has shape ", shape_str(shape.vec()),
                  ": dimension ", d, " is ", shape[d], ", outside the engine's range [", lo.d[d], ", ", hi.d[d], "]",
                  allowed());
  }
}

namespace {

nvinfer1::Dims to_dims(at::IntArrayRef shape) {
  TORCH_CHECK(static_cast<int64_t>(shape.size()) <= nvinfer1::Dims::MAX_DIMS, "rank ", shape.size(),
              " exceeds TensorRT's maximum of ", nvinfer1::Dims::MAX_DIMS);
  nvinfer1::Dims dims{};
  dims.nbDims = static_cast<int32_t>(shape.size());
  for (std::size_t d = 0; d < shape.size(); ++d) dims.d[d] = shape[d];
  return dims;
}

}  // namespace

bool needs_aligned_copy(const at::Tensor& t) {
  return t.is_cuda() && t.numel() > 0 && !is_aligned(t.data_ptr());
}

namespace {

//! Ends the stream bookkeeping of a call on every path out of the enqueue (the caller's stream must wait for
//! the side stream even when TensorRT failed).
struct EndOfCall {
  StreamOrder* order;
  ~EndOfCall() {
    if (!order) return;
    try {
      order->end();
    } catch (const std::exception& e) {
      TORCH_WARN("torch_tensorrt: could not order the caller's stream after the engine: ", e.what());
    }
  }
};

bool stream_capturing(c10::Device device) {
  return device.is_cuda() && c10::cuda::currentStreamCaptureStatusMayInitCtx() != c10::cuda::CaptureStatus::None;
}

}  // namespace

namespace {

//! Output ``out``, which TensorRT writes in place into input ``in`` (TRTEngine::aliased_io): bound to the memory
//! the input is bound to and returned as the caller's input tensor itself, which must then be used as it is
//! (dense, and aligned on a device: no copy). The rule and messages of runtime/_aliasing.py.
void bind_aliased(TRTEngine& engine, nvinfer1::IExecutionContext& ctx, BoundCall& call, const at::Tensor& given,
                  std::size_t out, std::size_t in) {
  const std::string& name = engine.output_names()[out];
  const std::string& input = engine.input_names()[in];
  TORCH_CHECK(given.is_contiguous() && !given.is_neg() && !given.is_conj() && !needs_aligned_copy(given),
              engine.label(), ": output ", quoted(name), " is written in place into input ", quoted(input),
              ", which must then be a contiguous tensor", needs_aligned_copy(given) ? " aligned to 256 bytes" : "");
  const std::vector<int64_t> shape = dims_to_vector(ctx.getTensorShape(name.c_str()));
  TORCH_CHECK(shape == given.sizes().vec(), engine.label(), ": output ", quoted(name), " has shape ", py_tuple(shape),
              " but aliases input ", quoted(input), " of shape ", py_tuple(given.sizes().vec()));
  call.outputs[out] = given;
  TORCH_CHECK(ctx.setTensorAddress(name.c_str(), call.inputs[in].data_ptr()), engine.label(),
              ": TensorRT refused the address of output ", quoted(name), " (that of input ", quoted(input), ")",
              trt_said());
}

}  // namespace

bool BoundCall::uses_allocator() const {
  return std::any_of(allocators.begin(), allocators.end(), [](TorchOutputAllocator* a) { return a != nullptr; });
}

BoundCall bind_call(TRTEngine& engine, const std::vector<at::Tensor>& inputs, c10::Device device,
                    const std::vector<at::Tensor>* given_outputs) {
  nvinfer1::IExecutionContext& ctx = engine.context();
  const auto label = [&] { return engine.label(); };  // built only for an error message
  // Asked of CUDA only where it matters (shape tensors, output allocators).
  bool capturing = (engine.uses_output_allocator() || engine.has_shape_inputs()) && stream_capturing(device);
  BoundCall call;
  // Engines with several optimization profiles: the profile for these shapes, set before the input shapes.
  if (engine.num_optimization_profiles() > 1)
    engine.use_profile(engine.select_profile(inputs),
                       device.is_cuda() ? c10::cuda::getCurrentCUDAStream(device.index()).stream() : nullptr);
  // TensorRT wants dense row-major buffers aligned to 256 bytes (copies are made on the caller's stream, before
  // the execution is ordered after it), a non-null address even for empty tensors, and the values of shape
  // tensors in host memory.
  call.inputs.reserve(inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string& name = engine.input_names()[i];
    at::Tensor t = inputs[i];  // no lazy neg/conj bits (resolved only where set: no dispatch otherwise), dense
    if (t.is_conj()) t = t.resolve_conj();
    if (t.is_neg()) t = t.resolve_neg();
    if (!t.is_contiguous()) t = t.contiguous();
    if (engine.is_shape_input(i)) {
      TORCH_CHECK(t.is_cpu() || !capturing, label(), ": shape tensor input ", quoted(name), " is on ",
                  t.device().str(), " and its values are needed on the host, which a CUDA graph capture cannot wait "
                  "for; pass it as a CPU tensor");
      if (!t.is_cpu()) t = t.to(at::kCPU);
    } else if (needs_aligned_copy(t)) {
      t = t.clone(at::MemoryFormat::Contiguous);  // the caching allocator's blocks are 512-byte aligned
    }
    if (t.numel() == 0) t = at::empty({1}, t.options()).as_strided(t.sizes(), t.strides());
    call.inputs.push_back(t);
    Logger::take_last_error();
    TORCH_CHECK(ctx.setInputShape(name.c_str(), to_dims(t.sizes())), label(), ": TensorRT refused shape ",
                shape_str(t.sizes().vec()), " for input ", quoted(name), trt_said());
    TORCH_CHECK(ctx.setTensorAddress(name.c_str(), t.data_ptr()), label(), ": TensorRT refused the address of input ",
                quoted(name), trt_said());
  }
  TORCH_CHECK(ctx.allInputDimensionsSpecified(), label(), ": not all input shapes are specified", trt_said());
  if (engine.has_shape_inputs()) {
    // Output shapes that depend on shape-tensor values are computed now (inferShapes names what is missing).
    std::vector<char const*> missing(engine.input_names().size() + engine.output_names().size(), nullptr);
    Logger::take_last_error();
    const int32_t n = ctx.inferShapes(static_cast<int32_t>(missing.size()), missing.data());
    TORCH_CHECK(n >= 0, label(), ": TensorRT could not infer the output shapes", trt_said());
    if (n > 0) {
      std::string names;
      for (int32_t k = 0; k < n && k < static_cast<int32_t>(missing.size()); ++k)
        names += (k ? ", " : "") + quoted(missing[k] ? missing[k] : "?");
      TORCH_CHECK(false, label(), ": TensorRT cannot infer the output shapes: ", names, " not specified");
    }
  }

  // Outputs: allocated here from the shapes TensorRT infers now that the input shapes are set, or, for
  // data-dependent shapes (and engines that require it), by TensorRT through an IOutputAllocator.
  const auto& out_names = engine.output_names();
  call.outputs.resize(out_names.size());
  call.allocators.assign(out_names.size(), nullptr);
  for (const auto& [o, i] : engine.aliased()) bind_aliased(engine, ctx, call, inputs[i], o, i);
  for (std::size_t i = 0; i < out_names.size(); ++i) {
    if (call.outputs[i].defined()) continue;  // aliases an input
    const std::string& name = out_names[i];
    const at::ScalarType dtype = binding_dtype(engine, name);
    const nvinfer1::Dims dims = ctx.getTensorShape(name.c_str());
    const at::IntArrayRef shape(dims.d, static_cast<std::size_t>(std::max<int32_t>(dims.nbDims, 0)));
    const bool unknown = dims.nbDims < 0 || std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; });
    if (engine.uses_output_allocator() || unknown) {
      if (!engine.uses_output_allocator()) capturing = stream_capturing(device);
      TORCH_CHECK(!capturing, label(), ": output ", quoted(name), " has a data-dependent shape, allocated by TensorRT "
                  "during the execution through an IOutputAllocator, which cannot run inside a CUDA graph capture; "
                  "run this engine outside CUDA graphs");
      TorchOutputAllocator& alloc = engine.output_allocator(name);
      alloc.reset();
      TORCH_CHECK(ctx.setOutputAllocator(name.c_str(), &alloc), label(), ": TensorRT refused the output allocator of ",
                  quoted(name), trt_said());
      call.allocators[i] = &alloc;
      continue;
    }
    // An allocator an earlier call set (its shape was unknown then) would take precedence over the address.
    if (engine.has_output_allocator(name))
      TORCH_CHECK(ctx.setOutputAllocator(name.c_str(), nullptr), label(), ": TensorRT refused to unset the output "
                  "allocator of ", quoted(name), trt_said());
    call.outputs[i] = given_outputs ? (*given_outputs)[i] : at::empty(shape, at::TensorOptions().dtype(dtype).device(device));
    if (!call.outputs[i].numel())
      call.placeholders.push_back(at::empty({1}, at::TensorOptions().dtype(dtype).device(device)));
    void* addr = call.outputs[i].numel() ? call.outputs[i].data_ptr() : call.placeholders.back().data_ptr();
    TORCH_CHECK(ctx.setTensorAddress(name.c_str(), addr), label(), ": TensorRT refused the address of output ",
                quoted(name), trt_said());
  }
  return call;
}

void enqueue_call(TRTEngine& engine, cudaStream_t stream) {
  Logger::take_last_error();
  TORCH_CHECK(engine.context().enqueueV3(stream), engine.label(), ": TensorRT failed to execute the engine (enqueueV3)",
              trt_said());
}

void run_ordered(TRTEngine& engine, c10::Device device, const std::function<void(cudaStream_t)>& launch) {
  if (!device.is_cuda()) {  // the stand-in on the host: no stream
    launch(nullptr);
    return;
  }
  // On the stream StreamOrder picks, with an event after it (stream_order.h).
  const c10::cuda::CUDAStream caller = c10::cuda::getCurrentCUDAStream(device.index());
  cudaStream_t stream = engine.stream_order().begin(caller);
  EndOfCall end{&engine.stream_order()};
  launch(stream);
}

void enqueue_ordered(TRTEngine& engine, c10::Device device) {
  run_ordered(engine, device, [&engine](cudaStream_t stream) { enqueue_call(engine, stream); });
}

std::vector<at::Tensor> finish_call(TRTEngine& engine, BoundCall& call) {
  const auto& out_names = engine.output_names();
  for (std::size_t i = 0; i < out_names.size(); ++i) {
    if (!call.allocators[i]) continue;
    TORCH_CHECK(call.allocators[i]->shape_known(), engine.label(), ": TensorRT never reported the shape of output ",
                quoted(out_names[i]), " (IOutputAllocator::notifyShape was not called)");
    call.outputs[i] = call.allocators[i]->result(binding_dtype(engine, out_names[i]));
    call.allocators[i]->reset();
  }
  return std::move(call.outputs);
}

std::vector<at::Tensor> execute_engine(std::vector<at::Tensor> inputs, c10::intrusive_ptr<TRTEngine> engine) {
  TORCH_CHECK(engine, "tensorrt::execute_engine: engine is None");
  std::lock_guard<std::mutex> lock(engine->mutex());
  const c10::Device device = engine->device();
  check_inputs(*engine, inputs, device);

  // On a CUDA device: that device current, and the caller's stream (default-stream callers are moved to a side
  // stream by StreamOrder). With the stand-in and no GPU: host memory, no stream.
  std::optional<c10::cuda::CUDAGuard> guard;
  if (device.is_cuda()) guard.emplace(device.index());
  if (cudagraphs_mode() == CudaGraphsMode::kPerEngine) {
    if (auto outputs = execute_with_graph(*engine, inputs, device)) return std::move(*outputs);
  }
  BoundCall call = bind_call(*engine, inputs, device);
  enqueue_ordered(*engine, device);
  return finish_call(*engine, call);
}

}  // namespace torchtrt
