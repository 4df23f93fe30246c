// The stand-in's IExecutionContext. Test-only.
//
// Behaves like TensorRT where the runtime can observe it: setInputShape refuses shapes outside the profile;
// setTensorAddress refuses device addresses that are not 256-byte aligned; enqueueV3 needs every input shape and
// every address (or, for outputs allocated by TensorRT, an IOutputAllocator), an output that aliases an input
// (ICudaEngine::getAliasedInputTensor) bound to that input's address, and returns false on error. With a CUDA
// device the work runs on the stream enqueueV3 is given, on device memory (fake_cuda.h); without one, on host
// memory.
#include <NvInferRuntime.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fake_cuda.h"
#include "fake_engine.h"

namespace fake_trt {
namespace {

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

bool computable(DataType t) { return t == DataType::kFLOAT || t == DataType::kINT32 || t == DataType::kINT64; }

template <typename T>
void compute_as(const PlanTensor& out, const void* a_ptr, const void* b_ptr, int64_t n, void* dst) {
  const T* a = static_cast<const T*>(a_ptr);
  T* o = static_cast<T*>(dst);
  if (out.op == "scale_add") {
    const T* b = static_cast<const T*>(b_ptr);
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(a[i] * static_cast<T>(out.constant) + b[i]);
  } else {  // positives
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i)
      if (a[i] > T(0)) o[k++] = a[i];
  }
}

//! scale_add / positives on host memory (float32, int32, int64).
void compute(const PlanTensor& out, const void* a, const void* b, int64_t n, void* dst) {
  if (out.dtype == DataType::kFLOAT) compute_as<float>(out, a, b, n, dst);
  else if (out.dtype == DataType::kINT32) compute_as<int32_t>(out, a, b, n, dst);
  else compute_as<int64_t>(out, a, b, n, dst);
}

int64_t count_positives(DataType t, const void* p, int64_t n) {
  auto count = [&](auto zero) {
    using T = decltype(zero);
    const T* a = static_cast<const T*>(p);
    return static_cast<int64_t>(std::count_if(a, a + n, [](T v) { return v > T(0); }));
  };
  if (t == DataType::kFLOAT) return count(0.0f);
  if (t == DataType::kINT32) return count(int32_t(0));
  return count(int64_t(0));
}

//! A computation launched on a stream with cudaLaunchHostFunc. Kept by the context (one per output), so the
//! pointers stay valid until the stream (or a graph replay) runs it.
struct HostTask {
  const PlanTensor* out = nullptr;
  const void* a = nullptr;
  const void* b = nullptr;
  void* dst = nullptr;
  int64_t n = 0;
  static void CUDART_CB run(void* self) {
    auto* t = static_cast<HostTask*>(self);
    compute(*t->out, t->a, t->b, t->n, t->dst);
  }
};


class Context final : public nvinfer1::IExecutionContext, Live {
 public:
  explicit Context(const Engine& engine);
  nvinfer1::ICudaEngine const& getEngine() const noexcept override;
  bool setInputShape(char const* name, Dims const& dims) noexcept override;
  Dims getTensorShape(char const* name) const noexcept override;
  bool setTensorAddress(char const* name, void* data) noexcept override;
  bool setInputTensorAddress(char const* name, void const* data) noexcept override {
    return setTensorAddress(name, const_cast<void*>(data));
  }
  bool setOutputAllocator(char const* name, nvinfer1::IOutputAllocator* a) noexcept override;
  bool allInputDimensionsSpecified() const noexcept override;
  int32_t inferShapes(int32_t nbMaxNames, char const** tensorNames) noexcept override;
  int32_t getOptimizationProfile() const noexcept override { return profile_; }
  bool setOptimizationProfileAsync(int32_t profileIndex, cudaStream_t stream) noexcept override;
  bool enqueueV3(cudaStream_t stream) noexcept override;

 private:
  bool error(const std::string& msg, const char* where = "IExecutionContext::enqueueV3") const;
  const PlanTensor& plan_tensor(const std::string& name) const { return *plan().find(name.c_str()); }
  const Plan& plan() const;
  std::vector<int64_t> shape_of(const PlanTensor& t) const;
  std::vector<int64_t> shape_values(const PlanTensor& s) const;  // a shape tensor's values (host memory)
  int64_t bytes_of(const PlanTensor& t) const { return numel(shape_of(t)) * static_cast<int64_t>(element_size(t.dtype)); }
  nvinfer1::IOutputAllocator* allocator(const PlanTensor& t) const;
  //! Where output ``t`` of ``shape`` goes: memory from its IOutputAllocator (then notified), else its address.
  void* output_memory(const PlanTensor& t, const std::vector<int64_t>& shape, cudaStream_t stream, std::string* why);
  bool check_addresses();
  bool run_builtin(const PlanTensor& out, cudaStream_t stream, bool capturing);
  //! Runs ``fn`` with every tensor's host address (host mode: the addresses; CUDA mode: staging buffers, inputs
  //! copied there first and outputs copied back after, synchronizing the stream).
  bool on_host(cudaStream_t stream, bool capturing, const std::function<bool(std::vector<void*>&)>& fn);
  PinnedBuffer* staged(const std::string& name, int64_t bytes, bool capturing, std::string* why);
  bool call_hook(cudaStream_t stream, bool capturing, bool* handled);
  // Simulated plans: output shapes from the simulator (cached until an input shape changes), and execution.
  const std::vector<int64_t>* inferred_shape(const PlanTensor& t) const;
  bool call_simulator(int32_t request, void* const* addresses, std::string* why) const;

  const Engine& engine_;
  const bool cuda_;
  mutable std::map<std::string, std::vector<int64_t>> inferred_;
  mutable bool inferred_valid_ = false;
  mutable std::string infer_error_;
  std::map<std::string, std::vector<int64_t>> shapes_;
  int32_t profile_ = 0;  // the optimization profile shapes are checked against
  std::map<std::string, void*> addresses_;
  std::map<std::string, nvinfer1::IOutputAllocator*> allocators_;
  std::map<std::string, const void*> checked_;  // addresses check_addresses() accepted
  std::map<std::string, PinnedBuffer> staging_;
  std::map<std::string, HostTask> tasks_;
};

Context::Context(const Engine& engine) : engine_(engine), cuda_(cuda_mode()) {}

nvinfer1::ICudaEngine const& Context::getEngine() const noexcept { return engine_; }
const Plan& Context::plan() const { return engine_.plan(); }

bool Context::error(const std::string& msg, const char* where) const {
  engine_.logger()->log(ILogger::Severity::kERROR, (std::string(where) + ": " + msg).c_str());
  return false;
}

bool Context::setInputShape(char const* name, Dims const& dims) noexcept {
  const PlanTensor* t = plan().find(name);
  if (!t || !t->is_input || dims.nbDims != static_cast<int32_t>(t->min.size())) return false;
  std::vector<int64_t> s(dims.d, dims.d + dims.nbDims);
  const std::vector<int64_t>& lo = t->range(profile_, 0);
  const std::vector<int64_t>& hi = t->range(profile_, 2);
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] < lo[i] || s[i] > hi[i]) return false;
  shapes_[name] = s;
  inferred_valid_ = false;
  return true;
}

bool Context::setOptimizationProfileAsync(int32_t profileIndex, cudaStream_t /*stream*/) noexcept {
  if (profileIndex < 0 || profileIndex >= plan().nb_profiles)
    return error("profile index " + std::to_string(profileIndex) + " is out of range",
                 "IExecutionContext::setOptimizationProfileAsync");
  profile_ = profileIndex;
  shapes_.clear();  // TensorRT: the input shapes must be set again after a switch
  inferred_valid_ = false;
  return true;
}

std::vector<int64_t> Context::shape_values(const PlanTensor& s) const {
  auto shape = shapes_.find(s.name);
  auto addr = addresses_.find(s.name);
  const int64_t rank = shape != shapes_.end() ? shape->second[0] : s.max[0];
  std::vector<int64_t> values(static_cast<std::size_t>(rank), -1);
  if (shape == shapes_.end() || addr == addresses_.end() || !addr->second) return values;
  for (int64_t i = 0; i < rank; ++i)
    values[i] = s.dtype == DataType::kINT64 ? static_cast<const int64_t*>(addr->second)[i]
                                            : static_cast<const int32_t*>(addr->second)[i];
  return values;
}

std::vector<int64_t> Context::shape_of(const PlanTensor& t) const {
  if (t.data_dependent()) return {-1};
  if (t.simulated()) {
    const std::vector<int64_t>* s = inferred_shape(t);
    return s ? *s : std::vector<int64_t>(t.shape.size(), -1);
  }
  if (t.shaped_by_values()) return shape_values(plan_tensor(t.args[1]));
  const std::string& src = t.is_input ? t.name : t.args[0];
  auto it = shapes_.find(src);
  if (it != shapes_.end()) return it->second;
  return std::vector<int64_t>(plan_tensor(src).min.size(), -1);
}

Dims Context::getTensorShape(char const* name) const noexcept {
  const PlanTensor* t = plan().find(name);
  return t ? to_dims(shape_of(*t)) : Dims{-1, {}};
}

bool Context::setTensorAddress(char const* name, void* data) noexcept {
  const PlanTensor* t = plan().find(name);
  if (!t) return false;
  if (cuda_ && !t->shape_tensor && data && reinterpret_cast<std::uintptr_t>(data) % 256 != 0)
    return error("address of tensor '" + t->name + "' is not aligned to 256 bytes", "IExecutionContext::setTensorAddress");
  addresses_[name] = data;
  return true;
}

bool Context::setOutputAllocator(char const* name, nvinfer1::IOutputAllocator* a) noexcept {
  const PlanTensor* t = plan().find(name);
  if (!t || t->is_input) return false;
  allocators_[name] = a;
  return true;
}

bool Context::allInputDimensionsSpecified() const noexcept {
  for (const auto& t : plan().tensors)
    if (t.is_input && !shapes_.count(t.name)) return false;
  return true;
}

int32_t Context::inferShapes(int32_t nbMaxNames, char const** tensorNames) noexcept {
  std::vector<const char*> missing;
  for (const auto& t : plan().tensors) {
    if (!t.is_input) continue;
    auto a = addresses_.find(t.name);
    if (!shapes_.count(t.name) || (t.shape_tensor && (a == addresses_.end() || !a->second)))
      missing.push_back(t.name.c_str());
  }
  for (int32_t i = 0; i < nbMaxNames && i < static_cast<int32_t>(missing.size()); ++i) tensorNames[i] = missing[i];
  if (!missing.empty()) return static_cast<int32_t>(missing.size());
  for (const auto& t : plan().tensors) {
    if (!t.shaped_by_values()) continue;
    const auto shape = shape_of(t);
    const int64_t n = numel(shapes_.at(t.args[0]));
    if (std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < 0; }) || numel(shape) != n)
      return error("output '" + t.name + "': shape " + std::to_string(numel(shape)) + " elements from '" + t.args[1] +
                   "' for " + std::to_string(n) + " elements of '" + t.args[0] + "'", "IExecutionContext::inferShapes"),
             -1;
  }
  return 0;
}

nvinfer1::IOutputAllocator* Context::allocator(const PlanTensor& t) const {
  auto it = allocators_.find(t.name);
  return it == allocators_.end() ? nullptr : it->second;
}

void* Context::output_memory(const PlanTensor& t, const std::vector<int64_t>& shape, cudaStream_t stream,
                             std::string* why) {
  // Like TensorRT: an output with an IOutputAllocator gets its memory from it (required for data-dependent
  // shapes, allowed for any output); other outputs are written to the address set with setTensorAddress.
  nvinfer1::IOutputAllocator* alloc = allocator(t);
  if (!alloc) {
    if (t.data_dependent()) return *why = "output '" + t.name + "' has a data-dependent shape and no IOutputAllocator is set", nullptr;
    return addresses_.at(t.name);
  }
  auto cur = addresses_.find(t.name);
  const uint64_t bytes = static_cast<uint64_t>(numel(shape)) * element_size(t.dtype);
  void* dst = alloc->reallocateOutputAsync(t.name.c_str(), cur == addresses_.end() ? nullptr : cur->second,
                                           bytes > 0 ? bytes : 1, 256, stream);
  if (!dst) return *why = "IOutputAllocator returned nullptr for '" + t.name + "'", nullptr;
  if (cuda_ && reinterpret_cast<std::uintptr_t>(dst) % 256 != 0)
    return *why = "IOutputAllocator returned memory for '" + t.name + "' that is not 256-byte aligned", nullptr;
  addresses_[t.name] = dst;
  alloc->notifyShape(t.name.c_str(), to_dims(shape));
  return dst;
}

PinnedBuffer* Context::staged(const std::string& name, int64_t bytes, bool capturing, std::string* why) {
  PinnedBuffer& b = staging_[name];
  return b.reserve(static_cast<std::size_t>(bytes), capturing, why) ? &b : nullptr;
}

bool Context::check_addresses() {
  // What TensorRT would trip over: host pointers for device tensors and the reverse. An address that passed
  // before is not asked about again (the caching allocator hands out the same blocks call after call).
  for (const auto& t : plan().tensors) {
    auto a = addresses_.find(t.name);
    if (a == addresses_.end() || !a->second || (!t.is_input && allocator(t))) continue;
    const void*& last = checked_[t.name];
    if (last == a->second) continue;
    const std::string what = check_pointer(a->second, !t.shape_tensor);
    if (!what.empty()) return error("address of '" + t.name + "' " + what);
    last = a->second;
  }
  return true;
}

bool Context::run_builtin(const PlanTensor& out, cudaStream_t stream, bool capturing) {
  if (out.op == "hook") return error("output '" + out.name + "' is computed by a hook and none is registered");
  if (out.op == "noop" && !allocator(out)) return true;  // nothing enqueued: what the runtime costs by itself
  const std::string& a_name = out.args[0];
  const void* a = addresses_.at(a_name);
  const void* b = out.op == "scale_add" ? addresses_.at(out.args[1]) : nullptr;
  if (out.op == "scale_add" && shapes_.at(a_name) != shapes_.at(out.args[1]))
    return error("scale_add needs '" + a_name + "' and '" + out.args[1] + "' of the same shape");
  const int64_t n = numel(shapes_.at(a_name));
  const bool copies = out.op == "copy" || out.op == "reshape" || out.op == "noop";
  if (!copies && !computable(out.dtype)) return error("the stand-in computes float32/int32/int64 only");
  const int64_t in_bytes = n * static_cast<int64_t>(element_size(out.dtype));
  std::string why;

  std::vector<int64_t> shape = shapes_.at(a_name);
  PinnedBuffer* a_host = nullptr;
  if (out.data_dependent()) {  // the output's size depends on the values: they are needed on the host now
    if (cuda_) {
      if (capturing) return error("output '" + out.name + "' has a data-dependent shape, which cannot be captured");
      if (!(a_host = staged(a_name, in_bytes, capturing, &why))) return error(why);
      cudaError_t e = cudaMemcpyAsync(a_host->data(), a, in_bytes, cudaMemcpyDeviceToHost, stream);
      if (e == cudaSuccess) e = cudaStreamSynchronize(stream);
      if (e != cudaSuccess) return error(cuda_error("staging a data-dependent input", e));
    }
    shape = {count_positives(out.dtype, a_host ? a_host->data() : a, n)};
  } else if (out.shaped_by_values()) {
    shape = shape_of(out);
    if (numel(shape) != n) return error("output '" + out.name + "' of " + std::to_string(numel(shape)) +
                                        " elements reshapes " + std::to_string(n) + " elements");
  }
  void* dst = output_memory(out, shape, stream, &why);
  if (!dst) return error(why);
  const int64_t out_bytes = numel(shape) * static_cast<int64_t>(element_size(out.dtype));

  if (!cuda_) {
    if (copies) std::memcpy(dst, a, static_cast<std::size_t>(out_bytes));
    else compute(out, a, b, n, dst);
    return true;
  }
  cudaError_t e = cudaSuccess;
  if (copies) {
    e = cudaMemcpyAsync(dst, a, out_bytes, cudaMemcpyDeviceToDevice, stream);
  } else if (out.data_dependent()) {
    PinnedBuffer* o = staged(out.name, in_bytes, capturing, &why);
    if (!o) return error(why);
    compute(out, a_host->data(), nullptr, n, o->data());  // the stream is idle: computed right here
    e = cudaMemcpyAsync(dst, o->data(), out_bytes, cudaMemcpyHostToDevice, stream);
  } else {  // scale_add: stage, compute in a host function on the stream, copy back; all stream-ordered
    PinnedBuffer* ha = staged(a_name, in_bytes, capturing, &why);
    PinnedBuffer* hb = ha ? staged(out.args[1], in_bytes, capturing, &why) : nullptr;
    PinnedBuffer* ho = hb ? staged(out.name, in_bytes, capturing, &why) : nullptr;
    if (!ho) return error(why);
    HostTask& task = tasks_[out.name];
    task = HostTask{&out, ha->data(), hb->data(), ho->data(), n};
    e = cudaMemcpyAsync(ha->data(), a, in_bytes, cudaMemcpyDeviceToHost, stream);
    if (e == cudaSuccess && out.args[1] != a_name)
      e = cudaMemcpyAsync(hb->data(), b, in_bytes, cudaMemcpyDeviceToHost, stream);
    if (out.args[1] == a_name) task.b = ha->data();
    if (e == cudaSuccess) e = cudaLaunchHostFunc(stream, &HostTask::run, &task);
    if (e == cudaSuccess) e = cudaMemcpyAsync(dst, ho->data(), out_bytes, cudaMemcpyHostToDevice, stream);
  }
  return e == cudaSuccess || error(cuda_error(("computing '" + out.name + "'").c_str(), e));
}

bool Context::on_host(cudaStream_t stream, bool capturing, const std::function<bool(std::vector<void*>&)>& fn) {
  const auto& ts = plan().tensors;
  std::vector<void*> host(ts.size());
  if (!cuda_) {
    for (std::size_t i = 0; i < ts.size(); ++i) host[i] = addresses_.at(ts[i].name);
    return fn(host);
  }
  if (capturing) return error("the stand-in computes this engine on the host after synchronizing the stream, "
                              "which a CUDA graph capture cannot do");
  std::string why;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].shape_tensor) {  // already in host memory
      host[i] = addresses_.at(ts[i].name);
      continue;
    }
    PinnedBuffer* b = staged(ts[i].name, bytes_of(ts[i]), capturing, &why);
    if (!b) return error(why);
    host[i] = b->data();
    if (ts[i].is_input) {
      const cudaError_t e = cudaMemcpyAsync(b->data(), addresses_.at(ts[i].name), bytes_of(ts[i]),
                                            cudaMemcpyDeviceToHost, stream);
      if (e != cudaSuccess) return error(cuda_error("staging an input", e));
    }
  }
  const cudaError_t e = cudaStreamSynchronize(stream);
  if (e != cudaSuccess) return error(cuda_error("cudaStreamSynchronize", e));
  if (!fn(host)) return false;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (ts[i].is_input) continue;
    const cudaError_t c = cudaMemcpyAsync(addresses_.at(ts[i].name), host[i], bytes_of(ts[i]),
                                          cudaMemcpyHostToDevice, stream);
    if (c != cudaSuccess) return error(cuda_error("copying an output back", c));
  }
  return true;
}

bool Context::call_hook(cudaStream_t stream, bool capturing, bool* handled) {
  *handled = false;
  const Callbacks registered = callbacks();
  torchtrt_fake_enqueue_hook hook = registered.hook;
  void* user = registered.hook_user;
  if (!hook) return true;
  const auto& ts = plan().tensors;
  for (const auto& t : ts)  // not for plans whose outputs TensorRT allocates (see the C API header)
    if (!t.is_input && (t.data_dependent() || allocator(t))) return true;
  const int32_t n = static_cast<int32_t>(ts.size());
  std::vector<const char*> names(n);
  std::vector<int32_t> is_input(n), dtypes(n), nb_dims(n);
  std::vector<int64_t> dims(static_cast<std::size_t>(n) * Dims::MAX_DIMS, 0);
  for (int32_t i = 0; i < n; ++i) {
    names[i] = ts[i].name.c_str();
    is_input[i] = ts[i].is_input;
    dtypes[i] = static_cast<int32_t>(ts[i].dtype);
    const auto s = shape_of(ts[i]);
    nb_dims[i] = static_cast<int32_t>(s.size());
    std::copy(s.begin(), s.end(), dims.begin() + static_cast<std::ptrdiff_t>(i) * Dims::MAX_DIMS);
  }
  int32_t rc = 1;
  const bool ok = on_host(stream, capturing, [&](std::vector<void*>& host) {
    rc = hook(user, plan().name.c_str(), n, names.data(), is_input.data(), dtypes.data(), nb_dims.data(),
              dims.data(), host.data());
    return rc == 0 || rc == 1 || error("enqueue hook failed with code " + std::to_string(rc));
  });
  // A declined hook (1) copied stale outputs back in CUDA mode; the built-in computation overwrites them.
  *handled = ok && rc == 0;
  return ok;
}

const std::vector<int64_t>* Context::inferred_shape(const PlanTensor& t) const {
  if (!allInputDimensionsSpecified()) return nullptr;
  if (!inferred_valid_) {
    inferred_.clear();
    infer_error_.clear();
    inferred_valid_ = true;
    if (!call_simulator(TORCHTRT_FAKE_SIMULATOR_SHAPES, nullptr, &infer_error_)) {
      inferred_.clear();
      engine_.logger()->log(ILogger::Severity::kERROR, ("IExecutionContext::getTensorShape: " + infer_error_).c_str());
    }
  }
  auto it = inferred_.find(t.name);
  return it == inferred_.end() ? nullptr : &it->second;
}

bool Context::call_simulator(int32_t request, void* const* addresses, std::string* why) const {
  const Callbacks registered = callbacks();
  torchtrt_fake_simulator fn = registered.simulator;
  void* user = registered.simulator_user;
  const Plan& p = plan();
  if (!fn) {
    *why = "simulated engine '" + p.name + "' needs a simulator and none is registered "
           "(torch_tensorrt.testing._cpp_hook.install())";
    return false;
  }
  const bool execute = request == TORCHTRT_FAKE_SIMULATOR_EXECUTE;
  const auto& ts = p.tensors;
  const int32_t n = static_cast<int32_t>(ts.size());
  std::vector<const char*> names(n);
  std::vector<int32_t> is_input(n), dtypes(n), nb_dims(n, 0);
  std::vector<int64_t> dims(static_cast<std::size_t>(n) * Dims::MAX_DIMS, 0);
  for (int32_t i = 0; i < n; ++i) {
    names[i] = ts[i].name.c_str();
    is_input[i] = ts[i].is_input;
    dtypes[i] = static_cast<int32_t>(ts[i].dtype);
    if (!ts[i].is_input && !execute) continue;  // the simulator writes these
    const auto s = ts[i].is_input ? shapes_.at(ts[i].name) : shape_of(ts[i]);
    nb_dims[i] = static_cast<int32_t>(s.size());
    std::copy(s.begin(), s.end(), dims.begin() + static_cast<std::ptrdiff_t>(i) * Dims::MAX_DIMS);
  }
  char error[1024] = {0};
  const int32_t rc = fn(user, request, p.id, p.source.data(), static_cast<int64_t>(p.source.size()), n, names.data(),
                        is_input.data(), dtypes.data(), nb_dims.data(), dims.data(), execute ? addresses : nullptr,
                        error, static_cast<int32_t>(sizeof(error)));
  if (rc != 0) {
    error[sizeof(error) - 1] = '\0';
    *why = "simulator failed (code " + std::to_string(rc) + ")" + (error[0] ? std::string(": ") + error : "");
    return false;
  }
  if (!execute)
    for (int32_t i = 0; i < n; ++i)
      if (!ts[i].is_input) {
        if (nb_dims[i] < 0 || nb_dims[i] > Dims::MAX_DIMS) return *why = "simulator returned a bad rank", false;
        const int64_t* d = dims.data() + static_cast<std::ptrdiff_t>(i) * Dims::MAX_DIMS;
        inferred_[ts[i].name] = std::vector<int64_t>(d, d + nb_dims[i]);
      }
  return true;
}

bool Context::enqueueV3(cudaStream_t stream) noexcept {
  try {
    g_last_stream = reinterpret_cast<intptr_t>(stream);
    for (const auto& t : plan().tensors) {
      if (t.is_input && !shapes_.count(t.name)) return error("input shape of '" + t.name + "' is not set");
      const bool needs_address = t.is_input || !allocator(t);
      auto a = addresses_.find(t.name);
      if (needs_address && (a == addresses_.end() || !a->second))
        return error("address of '" + t.name + "' is not set");
    }
    for (const auto& [out, in] : plan().aliases) {  // TensorRT: an API error unless both share the memory
      if (allocator(plan_tensor(out))) return error("output '" + out + "' aliases input '" + in + "' and cannot "
                                                    "have an IOutputAllocator");
      if (addresses_.at(out) != addresses_.at(in))
        return error("output '" + out + "' aliases input '" + in + "': both must be bound to the same address");
    }
    const bool capturing = cuda_ && is_capturing(stream);
    if (cuda_ && !capturing && !check_addresses()) return false;
    if (plan().simulated) {
      // Outputs with an IOutputAllocator get their memory from it, as in TensorRT; their shape must be known
      // beforehand (the stand-in does not run simulated engines with data-dependent output shapes).
      for (const auto& t : plan().tensors) {
        if (t.is_input || !allocator(t)) continue;
        const auto shape = shape_of(t);
        if (std::find(shape.begin(), shape.end(), -1) != shape.end())
          return error("output '" + t.name + "' of a simulated engine has an unknown shape (" +
                       (infer_error_.empty() ? std::string("data-dependent, which the stand-in does not simulate")
                                             : infer_error_) + ")");
        std::string why;
        if (!output_memory(t, shape, stream, &why)) return error(why);
      }
      std::string why;
      const bool ok = on_host(stream, capturing, [&](std::vector<void*>& host) {
        return call_simulator(TORCHTRT_FAKE_SIMULATOR_EXECUTE, host.data(), &why) || error(why);
      });
      if (!ok) return false;
      ++g_enqueues;
      return true;
    }
    bool handled = false;
    if (!call_hook(stream, capturing, &handled)) return false;
    if (!handled)
      for (const auto& t : plan().tensors)
        if (!t.is_input && !run_builtin(t, stream, capturing)) return false;
    ++g_enqueues;
    return true;
  } catch (const std::exception& e) {
    return error(std::string("internal error: ") + e.what());
  }
}

}  // namespace

nvinfer1::IExecutionContext* new_context(const Engine& engine) { return new Context(engine); }

}  // namespace fake_trt
