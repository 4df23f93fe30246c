// libfake_nvinfer: the stand-in TensorRT runtime API's entry points. Test-only.
//
// IRuntime::deserializeCudaEngine gives the Engine of fake_engine.h (a plan that does not parse: the error goes to
// the ILogger and nullptr comes back, as in TensorRT); the execution contexts are fake_context.cpp's. Also the C
// entry points of TensorRT's library and the test C API (torchtrt_fake_tensorrt.h).
#include <NvInferRuntime.h>

#include <atomic>
#include <mutex>
#include <string>
#include <vector>

#include "fake_cuda.h"
#include "fake_engine.h"

namespace fake_trt {

std::atomic<int64_t> g_live{0};
std::atomic<int64_t> g_config_contexts{0};
std::atomic<int64_t> g_cache_loads{0};
std::atomic<int64_t> g_enqueues{0};
std::atomic<intptr_t> g_last_stream{0};

namespace {

std::mutex g_callbacks_mutex;
Callbacks g_callbacks;

//! Simulated plans: which outputs alias an input, as the registered simulator says (TORCHTRT_FAKE_SIMULATOR_ALIASES;
//! none without a simulator). False, and why, when the simulator fails or answers nonsense.
bool read_simulated_aliases(Plan* plan, std::string* why) {
  const Callbacks registered = callbacks();
  if (!registered.simulator) return true;
  const auto& ts = plan->tensors;
  const int32_t n = static_cast<int32_t>(ts.size());
  std::vector<const char*> names(n);
  std::vector<int32_t> is_input(n), dtypes(n), nb_dims(n, -1);
  std::vector<int64_t> dims(static_cast<std::size_t>(n) * Dims::MAX_DIMS, 0);
  for (int32_t i = 0; i < n; ++i) {
    names[i] = ts[i].name.c_str();
    is_input[i] = ts[i].is_input;
    dtypes[i] = static_cast<int32_t>(ts[i].dtype);
  }
  char error[1024] = {0};
  const int32_t rc = registered.simulator(registered.simulator_user, TORCHTRT_FAKE_SIMULATOR_ALIASES, plan->id,
                                          plan->source.data(), static_cast<int64_t>(plan->source.size()), n,
                                          names.data(), is_input.data(), dtypes.data(), nb_dims.data(), dims.data(),
                                          nullptr, error, static_cast<int32_t>(sizeof(error)));
  if (rc != 0) {
    error[sizeof(error) - 1] = '\0';
    *why = "simulator failed (code " + std::to_string(rc) + ")" + (error[0] ? std::string(": ") + error : "");
    return false;
  }
  for (int32_t i = 0; i < n; ++i) {
    if (ts[i].is_input || nb_dims[i] < 0) continue;
    if (nb_dims[i] >= n || !ts[nb_dims[i]].is_input)
      return *why = "simulator said output '" + ts[i].name + "' aliases I/O tensor " + std::to_string(nb_dims[i]) +
                    ", which is not an input", false;
    plan->aliases[ts[i].name] = ts[nb_dims[i]].name;
  }
  return true;
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
      ok = is_simulated_plan(text) ? parse_simulated_plan(text, &plan, &why) && read_simulated_aliases(&plan, &why)
                                   : parse_plan(text, &plan, &why);
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

Callbacks callbacks() {
  std::lock_guard<std::mutex> lock(g_callbacks_mutex);
  return g_callbacks;
}

}  // namespace fake_trt

extern "C" {

void* createInferRuntime_INTERNAL(void* logger, int32_t /*version*/) noexcept {
  return static_cast<nvinfer1::IRuntime*>(new fake_trt::Runtime(static_cast<nvinfer1::ILogger*>(logger)));
}

int32_t getInferLibVersion() noexcept { return 101600; }  // 10.16.0, as NvInferVersion.h says

void torchtrt_fake_set_enqueue_hook(torchtrt_fake_enqueue_hook hook, void* user_data) {
  std::lock_guard<std::mutex> lock(fake_trt::g_callbacks_mutex);
  fake_trt::g_callbacks.hook = hook;
  fake_trt::g_callbacks.hook_user = user_data;
}

void torchtrt_fake_set_simulator(torchtrt_fake_simulator simulator, void* user_data) {
  std::lock_guard<std::mutex> lock(fake_trt::g_callbacks_mutex);
  fake_trt::g_callbacks.simulator = simulator;
  fake_trt::g_callbacks.simulator_user = user_data;
}

int64_t torchtrt_fake_enqueue_count(void) { return fake_trt::g_enqueues.load(); }
int64_t torchtrt_fake_live_objects(void) { return fake_trt::g_live.load(); }
void torchtrt_fake_reset_counters(void) { fake_trt::g_enqueues = 0; }
int32_t torchtrt_fake_cuda_mode(void) { return fake_trt::cuda_mode() ? 1 : 0; }
intptr_t torchtrt_fake_last_enqueue_stream(void) { return fake_trt::g_last_stream.load(); }
int64_t torchtrt_fake_runtime_config_contexts(void) { return fake_trt::g_config_contexts.load(); }
int64_t torchtrt_fake_runtime_cache_loads(void) { return fake_trt::g_cache_loads.load(); }

}  // extern "C"
