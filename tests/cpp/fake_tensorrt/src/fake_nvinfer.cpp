// libfake_nvinfer: implementation of the stand-in TensorRT runtime API on host memory. Test-only.
//
// Behaves like TensorRT where the runtime can observe it: deserialization failures are logged through the
// ILogger and return nullptr; setInputShape refuses shapes outside the profile; enqueueV3 needs every input
// shape and every address (or, for data-dependent outputs, an IOutputAllocator) and returns false on error.
#include <NvInferRuntime.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

#include "fake_plan.h"
#include "torchtrt_fake_tensorrt.h"

namespace fake_trt {
namespace {

std::atomic<int64_t> g_enqueues{0};
std::atomic<int64_t> g_live{0};
std::mutex g_hook_mutex;
torchtrt_fake_enqueue_hook g_hook = nullptr;
void* g_hook_user = nullptr;
torchtrt_fake_simulator g_simulator = nullptr;
void* g_simulator_user = nullptr;

using nvinfer1::Dims;
using nvinfer1::ILogger;

struct Live {
  Live() { ++g_live; }
  ~Live() { --g_live; }
};

class Engine;

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
  bool enqueueV3(cudaStream_t stream) noexcept override;

 private:
  bool error(const std::string& msg) const;
  std::vector<int64_t> shape_of(const PlanTensor& t) const;
  bool run_builtin(const PlanTensor& out, cudaStream_t stream);
  bool call_hook(bool* handled) const;
  // Simulated plans: output shapes from the simulator (cached until an input shape changes), and execution.
  const std::vector<int64_t>* inferred_shape(const PlanTensor& t) const;
  bool call_simulator(int32_t request, std::string* why) const;

  const Engine& engine_;
  mutable std::map<std::string, std::vector<int64_t>> inferred_;
  mutable bool inferred_valid_ = false;
  mutable std::string infer_error_;
  std::map<std::string, std::vector<int64_t>> shapes_;
  std::map<std::string, void*> addresses_;
  std::map<std::string, nvinfer1::IOutputAllocator*> allocators_;
};

class Engine final : public nvinfer1::ICudaEngine, Live {
 public:
  Engine(Plan plan, ILogger* logger) : plan_(std::move(plan)), logger_(logger) {}
  int32_t getNbIOTensors() const noexcept override { return static_cast<int32_t>(plan_.tensors.size()); }
  char const* getIOTensorName(int32_t i) const noexcept override {
    return i >= 0 && i < getNbIOTensors() ? plan_.tensors[i].name.c_str() : nullptr;
  }
  nvinfer1::TensorIOMode getTensorIOMode(char const* name) const noexcept override {
    const PlanTensor* t = plan_.find(name);
    if (!t) return nvinfer1::TensorIOMode::kNONE;
    return t->is_input ? nvinfer1::TensorIOMode::kINPUT : nvinfer1::TensorIOMode::kOUTPUT;
  }
  nvinfer1::DataType getTensorDataType(char const* name) const noexcept override {
    const PlanTensor* t = plan_.find(name);
    return t ? t->dtype : nvinfer1::DataType::kFLOAT;
  }
  Dims getTensorShape(char const* name) const noexcept override {
    const PlanTensor* t = plan_.find(name);
    if (!t) return Dims{-1, {}};
    if (t->data_dependent()) return to_dims({-1});
    if (t->simulated()) return to_dims(t->shape);
    const PlanTensor* src = t->is_input ? t : plan_.find(t->args[0].c_str());
    std::vector<int64_t> s = src->min;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (src->min[i] != src->max[i]) s[i] = -1;
    return to_dims(s);
  }
  Dims getProfileShape(char const* name, int32_t profile, nvinfer1::OptProfileSelector sel) const noexcept override {
    const PlanTensor* t = plan_.find(name);
    if (!t || !t->is_input || profile != 0) return Dims{-1, {}};
    switch (sel) {
      case nvinfer1::OptProfileSelector::kMIN: return to_dims(t->min);
      case nvinfer1::OptProfileSelector::kOPT: return to_dims(t->opt);
      default: return to_dims(t->max);
    }
  }
  int32_t getNbOptimizationProfiles() const noexcept override { return 1; }
  bool isShapeInferenceIO(char const*) const noexcept override { return false; }
  nvinfer1::IExecutionContext* createExecutionContext(nvinfer1::ExecutionContextAllocationStrategy) noexcept override {
    return new Context(*this);
  }
  const Plan& plan() const { return plan_; }
  ILogger* logger() const { return logger_; }

 private:
  Plan plan_;
  ILogger* logger_;
};

Context::Context(const Engine& engine) : engine_(engine) {}

nvinfer1::ICudaEngine const& Context::getEngine() const noexcept { return engine_; }

bool Context::error(const std::string& msg) const {
  engine_.logger()->log(ILogger::Severity::kERROR, ("IExecutionContext::enqueueV3: " + msg).c_str());
  return false;
}

bool Context::setInputShape(char const* name, Dims const& dims) noexcept {
  const PlanTensor* t = engine_.plan().find(name);
  if (!t || !t->is_input || dims.nbDims != static_cast<int32_t>(t->min.size())) return false;
  std::vector<int64_t> s(dims.d, dims.d + dims.nbDims);
  for (std::size_t i = 0; i < s.size(); ++i)
    if (s[i] < t->min[i] || s[i] > t->max[i]) return false;
  shapes_[name] = s;
  inferred_valid_ = false;
  return true;
}

std::vector<int64_t> Context::shape_of(const PlanTensor& t) const {
  if (t.data_dependent()) return {-1};
  if (t.simulated()) {
    const std::vector<int64_t>* s = inferred_shape(t);
    return s ? *s : std::vector<int64_t>(t.shape.size(), -1);
  }
  const std::string& src = t.is_input ? t.name : t.args[0];
  auto it = shapes_.find(src);
  if (it != shapes_.end()) return it->second;
  const PlanTensor* in = engine_.plan().find(src.c_str());
  return std::vector<int64_t>(in->min.size(), -1);
}

Dims Context::getTensorShape(char const* name) const noexcept {
  const PlanTensor* t = engine_.plan().find(name);
  return t ? to_dims(shape_of(*t)) : Dims{-1, {}};
}

bool Context::setTensorAddress(char const* name, void* data) noexcept {
  if (!engine_.plan().find(name)) return false;
  addresses_[name] = data;
  return true;
}

bool Context::setOutputAllocator(char const* name, nvinfer1::IOutputAllocator* a) noexcept {
  const PlanTensor* t = engine_.plan().find(name);
  if (!t || t->is_input) return false;
  allocators_[name] = a;
  return true;
}

bool Context::allInputDimensionsSpecified() const noexcept {
  for (const auto& t : engine_.plan().tensors)
    if (t.is_input && !shapes_.count(t.name)) return false;
  return true;
}

int64_t numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

template <typename T>
void compute(const PlanTensor& out, const std::vector<const void*>& in, int64_t n, void* dst) {
  const T* a = static_cast<const T*>(in[0]);
  T* o = static_cast<T*>(dst);
  if (out.op == "copy") {
    std::copy(a, a + n, o);
  } else if (out.op == "scale_add") {
    const T* b = static_cast<const T*>(in[1]);
    for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(a[i] * static_cast<T>(out.constant) + b[i]);
  } else {  // positives
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i)
      if (a[i] > T(0)) o[k++] = a[i];
  }
}

template <typename T>
int64_t count_positives(const void* p, int64_t n) {
  const T* a = static_cast<const T*>(p);
  return std::count_if(a, a + n, [](T v) { return v > T(0); });
}

bool Context::run_builtin(const PlanTensor& out, cudaStream_t stream) {
  using nvinfer1::DataType;
  if (out.op == "hook") return error("output '" + out.name + "' is computed by a hook and none is registered");
  std::vector<const void*> in;
  for (const auto& a : out.args) in.push_back(addresses_.at(a));
  if (out.op == "scale_add" && shapes_.at(out.args[0]) != shapes_.at(out.args[1]))
    return error("scale_add needs '" + out.args[0] + "' and '" + out.args[1] + "' of the same shape");
  const int64_t n = numel(shapes_.at(out.args[0]));
  const DataType t = out.dtype;
  if (t != DataType::kFLOAT && t != DataType::kINT32 && t != DataType::kINT64)
    return error("the stand-in computes float32/int32/int64 only");
  // Like TensorRT: an output with an IOutputAllocator gets its memory from it (required for data-dependent
  // shapes, allowed for any output); other outputs are written to the address set with setTensorAddress.
  auto alloc = allocators_.find(out.name);
  const bool use_allocator = alloc != allocators_.end() && alloc->second;
  if (out.data_dependent() && !use_allocator)
    return error("output '" + out.name + "' has a data-dependent shape and no IOutputAllocator is set");
  void* dst = nullptr;
  if (use_allocator) {
    const int64_t k = !out.data_dependent() ? n
                      : t == DataType::kFLOAT ? count_positives<float>(in[0], n)
                      : t == DataType::kINT32 ? count_positives<int32_t>(in[0], n)
                                               : count_positives<int64_t>(in[0], n);
    const std::vector<int64_t> shape = out.data_dependent() ? std::vector<int64_t>{k} : shapes_.at(out.args[0]);
    auto cur = addresses_.find(out.name);
    dst = alloc->second->reallocateOutputAsync(out.name.c_str(), cur == addresses_.end() ? nullptr : cur->second,
                                               static_cast<uint64_t>(k) * element_size(t), 256, stream);
    if (!dst) return error("IOutputAllocator returned nullptr for '" + out.name + "'");
    addresses_[out.name] = dst;
    alloc->second->notifyShape(out.name.c_str(), to_dims(shape));
  } else {
    dst = addresses_.at(out.name);
  }
  if (t == DataType::kFLOAT) compute<float>(out, in, n, dst);
  else if (t == DataType::kINT32) compute<int32_t>(out, in, n, dst);
  else compute<int64_t>(out, in, n, dst);
  return true;
}

bool Context::call_hook(bool* handled) const {
  *handled = false;
  std::lock_guard<std::mutex> lock(g_hook_mutex);
  if (!g_hook) return true;
  const auto& ts = engine_.plan().tensors;
  for (const auto& t : ts)  // not for plans whose outputs TensorRT allocates (see the C API header)
    if (!t.is_input && (t.data_dependent() || (allocators_.count(t.name) && allocators_.at(t.name)))) return true;
  const int32_t n = static_cast<int32_t>(ts.size());
  std::vector<const char*> names(n);
  std::vector<int32_t> is_input(n), dtypes(n), nb_dims(n);
  std::vector<int64_t> dims(static_cast<std::size_t>(n) * Dims::MAX_DIMS, 0);
  std::vector<void*> addrs(n);
  for (int32_t i = 0; i < n; ++i) {
    names[i] = ts[i].name.c_str();
    is_input[i] = ts[i].is_input;
    dtypes[i] = static_cast<int32_t>(ts[i].dtype);
    const auto s = shape_of(ts[i]);
    nb_dims[i] = static_cast<int32_t>(s.size());
    std::copy(s.begin(), s.end(), dims.begin() + static_cast<std::ptrdiff_t>(i) * Dims::MAX_DIMS);
    addrs[i] = addresses_.at(ts[i].name);
  }
  const int32_t rc = g_hook(g_hook_user, engine_.plan().name.c_str(), n, names.data(), is_input.data(),
                            dtypes.data(), nb_dims.data(), dims.data(), addrs.data());
  if (rc == 0) *handled = true;
  else if (rc != 1) return error("enqueue hook failed with code " + std::to_string(rc));
  return true;
}

const std::vector<int64_t>* Context::inferred_shape(const PlanTensor& t) const {
  if (!allInputDimensionsSpecified()) return nullptr;
  if (!inferred_valid_) {
    inferred_.clear();
    infer_error_.clear();
    inferred_valid_ = true;
    if (!call_simulator(TORCHTRT_FAKE_SIMULATOR_SHAPES, &infer_error_)) {
      inferred_.clear();
      engine_.logger()->log(ILogger::Severity::kERROR, ("IExecutionContext::getTensorShape: " + infer_error_).c_str());
    }
  }
  auto it = inferred_.find(t.name);
  return it == inferred_.end() ? nullptr : &it->second;
}

bool Context::call_simulator(int32_t request, std::string* why) const {
  torchtrt_fake_simulator fn = nullptr;
  void* user = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_hook_mutex);
    fn = g_simulator;
    user = g_simulator_user;
  }
  const Plan& plan = engine_.plan();
  if (!fn) {
    *why = "simulated engine '" + plan.name + "' needs a simulator and none is registered "
           "(torch_tensorrt.testing._cpp_hook.install())";
    return false;
  }
  const bool execute = request == TORCHTRT_FAKE_SIMULATOR_EXECUTE;
  const auto& ts = plan.tensors;
  const int32_t n = static_cast<int32_t>(ts.size());
  std::vector<const char*> names(n);
  std::vector<int32_t> is_input(n), dtypes(n), nb_dims(n, 0);
  std::vector<int64_t> dims(static_cast<std::size_t>(n) * Dims::MAX_DIMS, 0);
  std::vector<void*> addrs(n, nullptr);
  for (int32_t i = 0; i < n; ++i) {
    names[i] = ts[i].name.c_str();
    is_input[i] = ts[i].is_input;
    dtypes[i] = static_cast<int32_t>(ts[i].dtype);
    if (!ts[i].is_input && !execute) continue;  // the simulator writes these
    const auto s = ts[i].is_input ? shapes_.at(ts[i].name) : shape_of(ts[i]);
    nb_dims[i] = static_cast<int32_t>(s.size());
    std::copy(s.begin(), s.end(), dims.begin() + static_cast<std::ptrdiff_t>(i) * Dims::MAX_DIMS);
    if (execute) addrs[i] = addresses_.at(ts[i].name);
  }
  char error[1024] = {0};
  const int32_t rc = fn(user, request, plan.id, plan.source.data(), static_cast<int64_t>(plan.source.size()), n,
                        names.data(), is_input.data(), dtypes.data(), nb_dims.data(), dims.data(),
                        execute ? addrs.data() : nullptr, error, static_cast<int32_t>(sizeof(error)));
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
    for (const auto& t : engine_.plan().tensors) {
      if (t.is_input && !shapes_.count(t.name)) return error("input shape of '" + t.name + "' is not set");
      auto alloc = allocators_.find(t.name);
      const bool needs_address = t.is_input || alloc == allocators_.end() || !alloc->second;
      auto a = addresses_.find(t.name);
      if (needs_address && (a == addresses_.end() || !a->second))
        return error("address of '" + t.name + "' is not set");
    }
    if (engine_.plan().simulated) {
      // Outputs with an IOutputAllocator get their memory from it, as in TensorRT; their shape must be known
      // beforehand (the stand-in does not run simulated engines with data-dependent output shapes).
      for (const auto& t : engine_.plan().tensors) {
        auto alloc = allocators_.find(t.name);
        if (t.is_input || alloc == allocators_.end() || !alloc->second) continue;
        const auto shape = shape_of(t);
        if (std::find(shape.begin(), shape.end(), -1) != shape.end())
          return error("output '" + t.name + "' of a simulated engine has an unknown shape (" +
                       (infer_error_.empty() ? std::string("data-dependent, which the stand-in does not simulate")
                                             : infer_error_) + ")");
        auto cur = addresses_.find(t.name);
        void* dst = alloc->second->reallocateOutputAsync(t.name.c_str(), cur == addresses_.end() ? nullptr : cur->second,
                                                          static_cast<uint64_t>(numel(shape)) * element_size(t.dtype),
                                                          256, stream);
        if (!dst) return error("IOutputAllocator returned nullptr for '" + t.name + "'");
        addresses_[t.name] = dst;
        alloc->second->notifyShape(t.name.c_str(), to_dims(shape));
      }
      std::string why;
      if (!call_simulator(TORCHTRT_FAKE_SIMULATOR_EXECUTE, &why)) return error(why);
      ++g_enqueues;
      return true;
    }
    bool handled = false;
    if (!call_hook(&handled)) return false;
    if (!handled)
      for (const auto& t : engine_.plan().tensors)
        if (!t.is_input && !run_builtin(t, stream)) return false;
    ++g_enqueues;
    return true;
  } catch (const std::exception& e) {
    return error(std::string("internal error: ") + e.what());
  }
}

class Runtime final : public nvinfer1::IRuntime, Live {
 public:
  explicit Runtime(ILogger* logger) : logger_(logger) {}
  nvinfer1::ICudaEngine* deserializeCudaEngine(void const* blob, std::size_t size) noexcept override {
    Plan plan;
    std::string why;
    const std::string text = blob ? std::string(static_cast<const char*>(blob), size) : std::string();
    bool ok = false;
    try {  // like TensorRT: a plan that does not parse is a logged error, never an exception out of noexcept
      ok = is_simulated_plan(text) ? parse_simulated_plan(text, &plan, &why) : parse_plan(text, &plan, &why);
    } catch (const std::exception& e) {
      why = std::string("plan does not parse: ") + e.what();
    }
    if (!blob || !ok) {
      logger_->log(ILogger::Severity::kERROR, ("IRuntime::deserializeCudaEngine: " + why).c_str());
      return nullptr;
    }
    return new Engine(std::move(plan), logger_);
  }

 private:
  ILogger* logger_;
};

}  // namespace
}  // namespace fake_trt

extern "C" {

void* createInferRuntime_INTERNAL(void* logger, int32_t /*version*/) noexcept {
  return static_cast<nvinfer1::IRuntime*>(new fake_trt::Runtime(static_cast<nvinfer1::ILogger*>(logger)));
}

void torchtrt_fake_set_enqueue_hook(torchtrt_fake_enqueue_hook hook, void* user_data) {
  std::lock_guard<std::mutex> lock(fake_trt::g_hook_mutex);
  fake_trt::g_hook = hook;
  fake_trt::g_hook_user = user_data;
}

void torchtrt_fake_set_simulator(torchtrt_fake_simulator simulator, void* user_data) {
  std::lock_guard<std::mutex> lock(fake_trt::g_hook_mutex);
  fake_trt::g_simulator = simulator;
  fake_trt::g_simulator_user = user_data;
}

int64_t torchtrt_fake_enqueue_count(void) { return fake_trt::g_enqueues.load(); }
int64_t torchtrt_fake_live_objects(void) { return fake_trt::g_live.load(); }
void torchtrt_fake_reset_counters(void) { fake_trt::g_enqueues = 0; }

}  // extern "C"
