// The stand-in's IRuntimeConfig and IRuntimeCache (TensorRT-RTX's runtime configuration). Test-only.
//
// A context created through a configuration with a runtime cache "compiles its kernels" into the cache: the
// cache records the engine's name. serialize() writes the names as text ("torchtrt-fake-runtime-cache 1" then
// one name a line); deserialize() accepts only that format (as TensorRT-RTX refuses caches it cannot use).
#pragma once

#include <NvInferRuntime.h>

#include <atomic>
#include <mutex>
#include <set>
#include <string>

namespace fake_trt {

extern std::atomic<int64_t> g_live;           // runtimes, engines, contexts, configurations, caches alive
extern std::atomic<int64_t> g_config_contexts;  // contexts created through an IRuntimeConfig
extern std::atomic<int64_t> g_cache_loads;      // successful IRuntimeCache::deserialize calls

struct Live {
  Live() { ++g_live; }
  ~Live() { --g_live; }
};

class RuntimeCache final : public nvinfer1::IRuntimeCache, Live {
 public:
  nvinfer1::IHostMemory* serialize() const noexcept override;
  bool deserialize(void const* blob, std::size_t size) noexcept override;
  bool reset() noexcept override;
  void add(const std::string& kernel);

 private:
  mutable std::mutex mutex_;
  std::set<std::string> kernels_;
};

class RuntimeConfig final : public nvinfer1::IRuntimeConfig, Live {
 public:
  void setExecutionContextAllocationStrategy(nvinfer1::ExecutionContextAllocationStrategy s) noexcept override {
    strategy_ = s;
  }
  nvinfer1::ExecutionContextAllocationStrategy getExecutionContextAllocationStrategy() const noexcept override {
    return strategy_;
  }
  nvinfer1::IRuntimeCache* createRuntimeCache() const noexcept override { return new RuntimeCache(); }
  bool setRuntimeCache(nvinfer1::IRuntimeCache const& cache) noexcept override;
  nvinfer1::IRuntimeCache* getRuntimeCache() const noexcept override { return cache_; }

 private:
  nvinfer1::ExecutionContextAllocationStrategy strategy_ = nvinfer1::ExecutionContextAllocationStrategy::kSTATIC;
  RuntimeCache* cache_ = nullptr;
};

}  // namespace fake_trt
