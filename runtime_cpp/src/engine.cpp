// TRTEngine: record -> deserialized TensorRT engine, binding checks, lazy execution context.
#include "torchtrt/engine.h"

#include <ATen/Functions.h>
#include <cuda_runtime_api.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/util/Exception.h>

#include <algorithm>

namespace torchtrt {

// ---------------------------------------------------------------------------------------------------------
// TorchOutputAllocator

void* TorchOutputAllocator::reallocateOutputAsync(char const* tensorName, void* currentMemory, uint64_t size,
                                                  uint64_t alignment, cudaStream_t /*stream*/) {
  return reallocateOutput(tensorName, currentMemory, size, alignment);
}

void* TorchOutputAllocator::reallocateOutput(char const* /*tensorName*/, void* /*currentMemory*/, uint64_t size,
                                             uint64_t /*alignment*/) noexcept {
  // Torch's allocators align to at least 64 bytes on the CPU and 256 bytes on CUDA, which covers what
  // TensorRT asks for. A buffer handed out by a previous call belongs to that call's caller: reset() drops it,
  // so a new buffer is allocated for each call, and grown (never shrunk) within a call.
  try {
    const int64_t bytes = std::max<int64_t>(static_cast<int64_t>(size), 1);
    if (!buffer_.defined() || buffer_.numel() < bytes)
      buffer_ = at::empty({bytes}, at::TensorOptions().dtype(at::kByte).device(device_));
    return buffer_.data_ptr();
  } catch (...) {
    return nullptr;  // TensorRT reports the failed allocation
  }
}

void TorchOutputAllocator::notifyShape(char const* /*tensorName*/, nvinfer1::Dims const& dims) noexcept {
  shape_ = dims_to_vector(dims);
  shape_known_ = true;
}

void TorchOutputAllocator::reset() {
  buffer_ = at::Tensor();
  shape_.clear();
  shape_known_ = false;
}

at::Tensor TorchOutputAllocator::result(at::ScalarType dtype) const {
  int64_t numel = 1;
  for (int64_t d : shape_) numel *= d;
  const int64_t bytes = numel * static_cast<int64_t>(c10::elementSize(dtype));
  at::Tensor bytes_view = buffer_.defined() ? buffer_.narrow(0, 0, bytes)
                                            : at::empty({0}, at::TensorOptions().dtype(at::kByte).device(device_));
  return bytes_view.view(dtype).view(shape_);
}

// ---------------------------------------------------------------------------------------------------------
// TRTEngine

namespace {
// Record problems surface as ValueError in Python, like the Python runtime's RecordError(ValueError).
EngineRecord parse_record(const std::vector<std::string>& record_list) {
  try {
    EngineRecord r = EngineRecord::from_list(record_list);
    check_engine_kind(r, kStandInRuntime);
    return r;
  } catch (const RecordError& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
}
#ifdef TORCHTRT_FAKE_TENSORRT
// Stand-in build only: the bytes handed to the stand-in's deserializeCudaEngine. A simulated record built by the
// compiler carries a TensorRT-RTX plan the stand-in cannot read, so the stand-in gets the simulated plan of
// torch_tensorrt.testing._sim_runtime instead: {"format": "torch_tensorrt.simulated_plan", "metadata": <the
// record's metadata JSON, with its recorded network>} (serialize_plan's layout). The stand-in reads the I/O
// tensors and profiles from it and asks the registered simulator (Python) for output shapes and values.
// Hand-written test records whose plan already is a stand-in text plan keep it.
constexpr char kStandInPlanHeader[] = "torchtrt-fake-plan";
constexpr char kSimulatedPlanFormat[] = "torch_tensorrt.simulated_plan";

std::string plan_for_runtime(const EngineRecord& r) {
  if (!r.is_simulated() || r.engine.rfind(kStandInPlanHeader, 0) == 0) return r.engine;
  std::string metadata, why;
  TORCH_CHECK_VALUE(base64_decode(r.serialized_metadata, &metadata, &why), "engine ", quoted(r.name),
                    ": field SERIALIZED_METADATA is corrupted (", why, ")");
  if (metadata.empty()) metadata = "{}";
  return std::string("{\"format\": \"") + kSimulatedPlanFormat + "\", \"metadata\": " + metadata + "}";
}
#else
const std::string& plan_for_runtime(const EngineRecord& r) { return r.engine; }
#endif
}  // namespace

TRTEngine::TRTEngine(const std::vector<std::string>& record_list) : record_(parse_record(record_list)) {
  if (!kStandInRuntime) {
    TORCH_CHECK(record_.device_id >= 0 && record_.device_id < c10::cuda::device_count(), label(),
                ": built for cuda:", record_.device_id, " but this process sees ", int(c10::cuda::device_count()),
                " CUDA device(s)");
  }
  std::unique_ptr<c10::cuda::CUDAGuard> guard;
  if (!kStandInRuntime) {
    guard = std::make_unique<c10::cuda::CUDAGuard>(static_cast<c10::DeviceIndex>(record_.device_id));
    int major = 0, minor = 0;
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, static_cast<int>(record_.device_id));
    cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, static_cast<int>(record_.device_id));
    const std::string cap = std::to_string(major) + "." + std::to_string(minor);
    if (!record_.hardware_compatible && !record_.device_capability.empty() && record_.device_capability != cap)
      TORCH_WARN(label(), ": built for compute capability ", record_.device_capability, " (",
                 record_.device_name, ") but cuda:", record_.device_id, " has ", cap,
                 "; TensorRT may refuse it (build with hardware_compatible=True to share engines)");
  }
  Logger::take_last_error();
  runtime_.reset(nvinfer1::createInferRuntime(Logger::instance()));
  TORCH_CHECK(runtime_, label(), ": could not create a TensorRT runtime", trt_said());
  const std::string& plan = plan_for_runtime(record_);
  engine_.reset(runtime_->deserializeCudaEngine(plan.data(), plan.size()));
  TORCH_CHECK(engine_, label(), ": TensorRT could not deserialize the engine (", plan.size(),
              " bytes; built with ", record_.trt_flavour.empty() ? "TensorRT" : record_.trt_flavour, " ",
              record_.trt_version.empty() ? "of unknown version" : record_.trt_version, ")", trt_said());
  check_bindings();
}

TRTEngine::~TRTEngine() = default;

void TRTEngine::check_bindings() {
  std::vector<std::string> engine_inputs, engine_outputs;
  std::string listing;
  const int32_t n = engine_->getNbIOTensors();
  for (int32_t i = 0; i < n; ++i) {
    const char* tname = engine_->getIOTensorName(i);
    const std::string s = tname ? tname : "";
    const bool is_input = engine_->getTensorIOMode(tname) == nvinfer1::TensorIOMode::kINPUT;
    (is_input ? engine_inputs : engine_outputs).push_back(s);
    listing += (i ? ", " : "") + quoted(s) + (is_input ? " (input)" : " (output)");
  }
  auto check = [&](const std::vector<std::string>& listed, const std::vector<std::string>& actual, const char* what) {
    for (const auto& b : listed) {
      const bool other = std::find(engine_inputs.begin(), engine_inputs.end(), b) != engine_inputs.end() ||
          std::find(engine_outputs.begin(), engine_outputs.end(), b) != engine_outputs.end();
      TORCH_CHECK(std::find(actual.begin(), actual.end(), b) != actual.end(), label(), ": the record lists ", what,
                  " binding ", quoted(b), " but the TensorRT engine has ",
                  other ? "it with the other I/O mode" : "no such I/O tensor", " (engine I/O tensors: ", listing,
                  ")");
      TORCH_CHECK(std::count(listed.begin(), listed.end(), b) == 1, label(), ": the record lists ", what,
                  " binding ", quoted(b), " twice");
    }
    for (const auto& a : actual)
      TORCH_CHECK(std::find(listed.begin(), listed.end(), a) != listed.end(), label(), ": the TensorRT engine has ",
                  what, " ", quoted(a), " that the record does not list (engine I/O tensors: ", listing, ")");
  };
  check(record_.input_binding_names, engine_inputs, "input");
  check(record_.output_binding_names, engine_outputs, "output");

  // Outputs whose shape stays unknown after the input shapes are set also go through the allocator; that is
  // decided per call (execute.cpp), since a -1 in the build-time shape may just be a dynamic input extent.
  uses_output_allocator_ = record_.requires_output_allocator;
}

c10::Device TRTEngine::device() const {
  if (kStandInRuntime) return c10::Device(c10::kCPU);
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(record_.device_id));
}

nvinfer1::IExecutionContext& TRTEngine::context() {
  if (!context_) {
    Logger::take_last_error();
    context_.reset(engine_->createExecutionContext());
    TORCH_CHECK(context_, label(), ": TensorRT could not create an execution context", trt_said());
  }
  return *context_;
}

TorchOutputAllocator& TRTEngine::output_allocator(const std::string& output_name) {
  auto& slot = allocators_[output_name];
  if (!slot) slot = std::make_unique<TorchOutputAllocator>(device());
  return *slot;
}

std::string TRTEngine::describe() const {
  std::string s = "Engine(name=" + quoted(record_.name) + ", inputs=[";
  for (std::size_t i = 0; i < input_names().size(); ++i) s += (i ? ", " : "") + quoted(input_names()[i]);
  s += "], outputs=[";
  for (std::size_t i = 0; i < output_names().size(); ++i) s += (i ? ", " : "") + quoted(output_names()[i]);
  s += "], device=" + device().str() + ", kind=" + record_.engine_kind;
  if (uses_output_allocator_) s += ", output_allocator";
  return s + ")";
}

}  // namespace torchtrt
