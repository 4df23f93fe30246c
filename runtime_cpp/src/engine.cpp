// TRTEngine: record -> load-time checks -> device selection -> deserialized TensorRT engine, binding checks,
// lazy execution context (through an IRuntimeConfig with the runtime cache on TensorRT-RTX).
#include "torchtrt/engine.h"

#include <ATen/Functions.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/util/Exception.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <optional>

#include "torchtrt/compat.h"
#include "torchtrt/record_check.h"

namespace torchtrt {

// ---------------------------------------------------------------------------------------------------------
// TorchOutputAllocator

void* TorchOutputAllocator::reallocateOutputAsync(char const* /*tensorName*/, void* currentMemory, uint64_t size,
                                                  uint64_t alignment, cudaStream_t /*stream*/) {
  // TensorRT calls this from enqueueV3 on the thread that called it, so Torch's current stream is the caller's:
  // the buffer is allocated on it, and the caller's stream is ordered after the execution (stream_order.h), so
  // the caching allocator never hands the memory out while TensorRT writes it. A buffer handed out by a
  // previous call belongs to that call's caller: reset() drops it, so each call gets a new buffer, grown (never
  // shrunk) within the call. No exception may reach TensorRT: failures return nullptr, which it reports.
  try {
    const int64_t want = std::max<int64_t>(static_cast<int64_t>(size), 1);
    if (buffer_.defined() && currentMemory == static_cast<char*>(buffer_.data_ptr()) + offset_ &&
        buffer_.numel() - offset_ >= want)
      return currentMemory;
    // Torch's CUDA allocator aligns to 512 bytes, its CPU allocator to 64; pad for anything stricter.
    const int64_t align = std::max<int64_t>(static_cast<int64_t>(alignment), 1);
    buffer_ = at::empty({want + align - 1}, at::TensorOptions().dtype(at::kByte).device(device_));
    const auto base = reinterpret_cast<std::uintptr_t>(buffer_.data_ptr());
    offset_ = static_cast<int64_t>((align - base % align) % align);
    return static_cast<char*>(buffer_.data_ptr()) + offset_;
  } catch (...) {
    buffer_ = at::Tensor();
    return nullptr;
  }
}

void TorchOutputAllocator::notifyShape(char const* /*tensorName*/, nvinfer1::Dims const& dims) noexcept {
  shape_ = dims_to_vector(dims);
  shape_known_ = true;
}

void TorchOutputAllocator::reset() {
  buffer_ = at::Tensor();
  offset_ = 0;
  shape_.clear();
  shape_known_ = false;
}

at::Tensor TorchOutputAllocator::result(at::ScalarType dtype) const {
  int64_t numel = 1;
  for (int64_t d : shape_) numel *= d;
  const int64_t bytes = numel * static_cast<int64_t>(c10::elementSize(dtype));
  at::Tensor bytes_view = buffer_.defined() ? buffer_.narrow(0, offset_, bytes)
                                            : at::empty({0}, at::TensorOptions().dtype(at::kByte).device(device_));
  return bytes_view.view(dtype).view(shape_);
}

// ---------------------------------------------------------------------------------------------------------
// TRTEngine

namespace {

// Record problems surface as ValueError in Python, like the Python runtime's RecordError(ValueError).
EngineRecord parse_record(const c10::IValue& state) {
  try {
    EngineRecord r;
    if (state.isTensor()) {
      const at::Tensor& t = state.toTensor();
      TORCH_CHECK_VALUE(t.scalar_type() == at::kByte && t.dim() == 1,
                        "engine record must be a 1-D uint8 tensor, got ", t.scalar_type(), " of shape ", t.sizes());
      const at::Tensor host = t.device().is_cpu() ? t.contiguous() : t.to(at::kCPU).contiguous();
      r = EngineRecord::from_bytes(reinterpret_cast<const char*>(host.data_ptr<uint8_t>()),
                                   static_cast<std::size_t>(host.numel()));
    } else if (state.isList()) {
      std::vector<std::string> fields;
      for (const c10::IValue& f : state.toListRef()) {
        TORCH_CHECK_VALUE(f.isString(), "engine record must be a list of strings");
        fields.push_back(f.toStringRef());
      }
      r = EngineRecord::from_list(fields);
    } else {
      TORCH_CHECK_VALUE(false, "engine record must be a 1-D uint8 tensor (or an ABI 2 list of strings), got ",
                        state.tagKind());
    }
    check_engine_kind(r, kStandInTensorRT);
    return r;
  } catch (const RecordError& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
}

// Platform, flavour and version against this runtime: errors stop the load, warnings go to Python's warnings.
void check_load(const EngineRecord& r) {
  try {
    for (const auto& w : check_compatibility(r, RuntimeIdentity{kTensorRTFlavour, library_version(), platform_name()}))
      TORCH_WARN(w);
  } catch (const CompatError& e) {
    TORCH_CHECK(false, e.what());
  }
}

// The device the engine runs on (compat.h's rule). Without any CUDA device only the stand-in runs, on the host.
c10::Device choose_device(const EngineRecord& r) {
  const int count = static_cast<int>(c10::cuda::device_count());
  if (kStandInTensorRT && count == 0) return c10::Device(c10::kCPU);
  std::vector<DeviceInfo> devices(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    C10_CUDA_CHECK(cudaDeviceGetAttribute(&devices[i].major, cudaDevAttrComputeCapabilityMajor, i));
    C10_CUDA_CHECK(cudaDeviceGetAttribute(&devices[i].minor, cudaDevAttrComputeCapabilityMinor, i));
  }
  const int current = count ? static_cast<int>(c10::cuda::current_device()) : -1;
  try {
    const DeviceChoice choice = select_device(r, devices, current);
    if (!choice.warning.empty()) TORCH_WARN(choice.warning);
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(choice.index));
  } catch (const CompatError&) {
  }
  for (int i = 0; i < count; ++i) {  // no compatible device: the error lists them by name
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) == cudaSuccess) devices[i].name = prop.name;
  }
  try {
    select_device(r, devices, current);
  } catch (const CompatError& e) {
    TORCH_CHECK(false, e.what());
  }
  TORCH_CHECK(false, "engine ", quoted(r.name), ": device selection failed");
}

#ifdef TORCHTRT_FAKE_TENSORRT
// Stand-in build only: the bytes handed to the stand-in's deserializeCudaEngine. A simulated record built by the
// compiler carries a TensorRT-RTX plan the stand-in cannot read, so the stand-in gets the simulated plan of
// torch_tensorrt.testing._sim_runtime instead: {"format": "torch_tensorrt.simulated_plan", "metadata": <the
// record's metadata JSON, with its recorded network>} (serialize_plan's layout). The stand-in reads the I/O
// tensors and profiles from it and asks the registered simulator (Python) for output shapes and values.
// Records whose plan already is a stand-in text plan keep it (the stand-in executes those itself).
constexpr char kStandInPlanHeader[] = "torchtrt-fake-plan";
constexpr char kSimulatedPlanFormat[] = "torch_tensorrt.simulated_plan";

std::string plan_for_runtime(const EngineRecord& r) {
  if (!r.is_simulated() || r.engine.rfind(kStandInPlanHeader, 0) == 0) return r.engine;
  std::string metadata = r.serialized_metadata;
  if (metadata.empty()) metadata = "{}";
  return std::string("{\"format\": \"") + kSimulatedPlanFormat + "\", \"metadata\": " + metadata + "}";
}
#else
const std::string& plan_for_runtime(const EngineRecord& r) { return r.engine; }
#endif

std::string version_label(const EngineRecord& r) {
  return (r.trt_flavour.empty() ? std::string("TensorRT") : flavour_label(r.trt_flavour)) + " " +
         (r.trt_version.empty() ? std::string("of unknown version") : r.trt_version);
}

}  // namespace

at::Tensor TRTEngine::serialize() const {
  auto* bytes = new std::string(record_.to_bytes());
  return at::from_blob(
      bytes->data(), {static_cast<int64_t>(bytes->size())}, [bytes](void*) { delete bytes; },
      at::TensorOptions().dtype(at::kByte));
}

TRTEngine::TRTEngine(const c10::IValue& state) : record_(parse_record(state)), device_(c10::kCPU) {
  check_load(record_);
  device_ = choose_device(record_);
  std::optional<c10::cuda::CUDAGuard> guard;
  if (device_.is_cuda()) {
    guard.emplace(device_.index());
    stream_order_ = std::make_unique<StreamOrder>(device_.index());
  }
  Logger::take_last_error();
  runtime_.reset(nvinfer1::createInferRuntime(Logger::instance()));
  TORCH_CHECK(runtime_, label(), ": could not create a TensorRT runtime", trt_said());
  const std::string& plan = plan_for_runtime(record_);
  engine_.reset(runtime_->deserializeCudaEngine(plan.data(), plan.size()));
  TORCH_CHECK(engine_, label(), ": TensorRT could not deserialize the engine (", plan.size(), " bytes; built with ",
              version_label(record_), ", this runtime is ", flavour_label(kTensorRTFlavour), " ", library_version(),
              ")", trt_said());
  check_bindings();
  read_profiles();
  read_aliases();
}

TRTEngine::~TRTEngine() {
  // TensorRT objects release device memory: destroy them with the engine's device current.
  std::optional<c10::cuda::CUDAGuard> guard;
  if (device_.is_cuda()) guard.emplace(device_.index());
  context_.reset();
  allocators_.clear();
#ifdef TORCHTRT_TENSORRT_RTX
  runtime_config_.reset();
#endif
  runtime_cache_.reset();
  engine_.reset();
  runtime_.reset();
}

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

  // Shape tensors (isShapeInferenceIO): TensorRT reads their values from host memory (execute.cpp).
  shape_inputs_.assign(record_.input_binding_names.size(), 0);
  for (std::size_t i = 0; i < shape_inputs_.size(); ++i) {
    shape_inputs_[i] = engine_->isShapeInferenceIO(record_.input_binding_names[i].c_str()) ? 1 : 0;
    has_shape_inputs_ = has_shape_inputs_ || shape_inputs_[i];
  }
  // Outputs whose shape stays unknown after the input shapes are set also go through the allocator; that is
  // decided per call (execute.cpp), since a -1 in the build-time shape may just be a dynamic input extent.
  uses_output_allocator_ = record_.requires_output_allocator;
}

// ---------------------------------------------------------------------------------------------------------
// Outputs written in place into an input (the rule of python/torch_tensorrt/runtime/_aliasing.py)

void TRTEngine::read_aliases() {
#ifdef TORCHTRT_HAS_ALIASED_IO
  const auto& ins = record_.input_binding_names;
  const auto& outs = record_.output_binding_names;
  for (std::size_t o = 0; o < outs.size(); ++o) {
    const char* input = engine_->getAliasedInputTensor(outs[o].c_str());
    if (!input || !*input) continue;
    const auto i = std::find(ins.begin(), ins.end(), std::string(input));
    TORCH_CHECK(i != ins.end(), label(), ": TensorRT says output ", quoted(outs[o]), " aliases ", quoted(input),
                ", which is not an input binding of the record");
    aliased_.emplace_back(o, static_cast<std::size_t>(i - ins.begin()));
  }
  if (!aliased_.empty() && uses_output_allocator_) {
    std::vector<std::string> names;
    for (const auto& [o, i] : aliased_io()) names.push_back(o);  // sorted: a std::map
    TORCH_CHECK(false, label(), ": outputs ", quoted_list(names), " alias inputs, which an output allocator "
                "(data-dependent shapes) cannot honour");
  }
#endif
}

std::map<std::string, std::string> TRTEngine::aliased_io() const {
  std::map<std::string, std::string> pairs;
  for (const auto& [o, i] : aliased_) pairs[record_.output_binding_names[o]] = record_.input_binding_names[i];
  return pairs;
}

// ---------------------------------------------------------------------------------------------------------
// Optimization profiles

void TRTEngine::read_profiles() {
  const auto& names = record_.input_binding_names;
  const int32_t count = std::max<int32_t>(engine_->getNbOptimizationProfiles(), 1);
  input_min_.assign(names.size(), nvinfer1::Dims{});
  input_max_.assign(names.size(), nvinfer1::Dims{});
  for (int32_t p = 0; p < count; ++p) {
    std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> bounds;
    for (std::size_t i = 0; i < names.size(); ++i) {
      const nvinfer1::Dims lo = engine_->getProfileShape(names[i].c_str(), p, nvinfer1::OptProfileSelector::kMIN);
      const nvinfer1::Dims hi = engine_->getProfileShape(names[i].c_str(), p, nvinfer1::OptProfileSelector::kMAX);
      if (p == 0) {
        input_min_[i] = lo;
        input_max_[i] = hi;
      }
      for (int32_t d = 0; d < lo.nbDims && d < input_min_[i].nbDims; ++d) {
        input_min_[i].d[d] = std::min(input_min_[i].d[d], lo.d[d]);
        input_max_[i].d[d] = std::max(input_max_[i].d[d], hi.d[d]);
      }
      bounds.emplace_back(dims_to_vector(lo), dims_to_vector(hi));
    }
    if (count > 1) profile_bounds_.push_back(std::move(bounds));
  }
}

void TRTEngine::set_optimization_profile(int64_t index) {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t count = num_optimization_profiles();
  if (index < -1 || (count > 1 && index >= count))
    throw c10::IndexError({__func__, __FILE__, static_cast<uint32_t>(__LINE__)},
                          label() + " has " + std::to_string(count) + " optimization profile(s) (0.." +
                              std::to_string(count - 1) + "); profile " + std::to_string(index) + " does not exist");
  if (index != profile_request_) graphs_.clear();  // graphs were captured in the profile selected before
  profile_request_ = index;
}

int32_t TRTEngine::select_profile(const std::vector<at::Tensor>& inputs) const {
  if (profile_bounds_.empty()) return 0;  // one profile: a pin is ignored
  const auto& names = record_.input_binding_names;
  auto rejects = [&](std::size_t p) -> std::string {
    for (std::size_t i = 0; i < names.size() && i < inputs.size(); ++i) {
      const auto& [lo, hi] = profile_bounds_[p][i];
      const auto shape = inputs[i].sizes();
      for (std::size_t d = 0; d < lo.size() && d < shape.size(); ++d)
        if (shape[d] < lo[d] || shape[d] > hi[d])
          return "input " + quoted(names[i]) + " (dimension " + std::to_string(d) + " is " + std::to_string(shape[d]) +
              ", outside [" + std::to_string(lo[d]) + ", " + std::to_string(hi[d]) + "]; profile min " + py_tuple(lo) +
              ", max " + py_tuple(hi) + ")";
    }
    return "";
  };
  auto given = [&] {
    std::string s;
    for (std::size_t i = 0; i < names.size() && i < inputs.size(); ++i)
      s += (i ? ", " : "") + quoted(names[i]) + " " + py_tuple(inputs[i].sizes().vec());
    return s;
  };
  if (profile_request_ >= 0) {
    const std::string why = rejects(static_cast<std::size_t>(profile_request_));
    TORCH_CHECK(why.empty(), label(), ": optimization profile ", profile_request_, " (selected with torch_tensorrt."
                "runtime.optimization_profile) does not accept the input shapes ", given(), ": it rejects ", why,
                "; select another profile, or 'auto'");
    return static_cast<int32_t>(profile_request_);
  }
  std::string reasons;
  for (std::size_t p = 0; p < profile_bounds_.size(); ++p) {
    const std::string why = rejects(p);
    if (why.empty()) return static_cast<int32_t>(p);
    reasons += (p ? "; profile " : "profile ") + std::to_string(p) + " rejects " + why;
  }
  TORCH_CHECK(false, label(), ": no optimization profile accepts the input shapes ", given(), ": ", reasons);
}

void TRTEngine::use_profile(int32_t profile, cudaStream_t stream) {
  if (profile == context_profile_) return;
  Logger::take_last_error();
  TORCH_CHECK(context().setOptimizationProfileAsync(profile, stream), label(),
              ": TensorRT refused to switch to optimization profile ", profile, trt_said());
  context_profile_ = profile;
}

nvinfer1::IExecutionContext& TRTEngine::context() {
  if (!context_) {
    std::optional<c10::cuda::CUDAGuard> guard;
    if (device_.is_cuda()) guard.emplace(device_.index());
    Logger::take_last_error();
#ifdef TORCHTRT_TENSORRT_RTX
    // TensorRT-RTX: the context is created through an IRuntimeConfig carrying the process's runtime cache.
    runtime_config_.reset(engine_->createRuntimeConfig());
    TORCH_CHECK(runtime_config_, label(), ": TensorRT-RTX could not create a runtime configuration", trt_said());
    try {
      runtime_cache_ = RuntimeCache::acquire(*runtime_config_);
    } catch (const std::exception& e) {
      TORCH_CHECK(false, label(), ": ", e.what());
    }
    TORCH_CHECK(runtime_config_->setRuntimeCache(runtime_cache_->get()), label(),
                ": TensorRT-RTX refused the runtime cache", trt_said());
    context_.reset(engine_->createExecutionContext(runtime_config_.get()));
#else
    context_.reset(engine_->createExecutionContext());
#endif
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
  for (const auto& [o, i] : aliased_io()) s += ", " + quoted(o) + " aliases " + quoted(i);
  return s + ")";
}

}  // namespace torchtrt
