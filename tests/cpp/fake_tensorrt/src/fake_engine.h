// The stand-in's ICudaEngine (a deserialized plan) and what its two halves share: fake_nvinfer.cpp (the engine's
// runtime, the C entry points and the test C API) and fake_context.cpp (IExecutionContext: shapes, addresses,
// execution). Test-only.
#pragma once

#include <NvInferRuntime.h>

#include <atomic>
#include <cstdint>

#include "fake_plan.h"
#include "fake_runtime_config.h"
#include "torchtrt_fake_tensorrt.h"

namespace fake_trt {

using nvinfer1::DataType;
using nvinfer1::Dims;
using nvinfer1::ILogger;

extern std::atomic<int64_t> g_enqueues;      // successful enqueueV3 calls (torchtrt_fake_enqueue_count)
extern std::atomic<intptr_t> g_last_stream;  // the stream the last enqueueV3 call was given

//! The process-wide enqueue hook and simulator (torchtrt_fake_set_enqueue_hook / torchtrt_fake_set_simulator).
struct Callbacks {
  torchtrt_fake_enqueue_hook hook = nullptr;
  void* hook_user = nullptr;
  torchtrt_fake_simulator simulator = nullptr;
  void* simulator_user = nullptr;
};
//! The registered callbacks, copied under their lock.
Callbacks callbacks();

class Engine;
//! A new execution context of ``engine`` (fake_context.cpp).
nvinfer1::IExecutionContext* new_context(const Engine& engine);

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
  DataType getTensorDataType(char const* name) const noexcept override {
    const PlanTensor* t = plan_.find(name);
    return t ? t->dtype : DataType::kFLOAT;
  }
  Dims getTensorShape(char const* name) const noexcept override {
    const PlanTensor* t = plan_.find(name);
    if (!t) return Dims{-1, {}};
    if (t->data_dependent()) return to_dims({-1});
    if (t->simulated()) return to_dims(t->shape);
    if (t->shaped_by_values()) return to_dims(std::vector<int64_t>(plan_.find(t->args[1].c_str())->max[0], -1));
    const PlanTensor* src = t->is_input ? t : plan_.find(t->args[0].c_str());
    std::vector<int64_t> s = src->min;
    for (std::size_t i = 0; i < s.size(); ++i)
      if (src->min[i] != src->max[i]) s[i] = -1;
    return to_dims(s);
  }
  Dims getProfileShape(char const* name, int32_t profile, nvinfer1::OptProfileSelector sel) const noexcept override {
    const PlanTensor* t = plan_.find(name);
    if (!t || !t->is_input || profile < 0 || profile >= plan_.nb_profiles) return Dims{-1, {}};
    switch (sel) {
      case nvinfer1::OptProfileSelector::kMIN: return to_dims(t->range(profile, 0));
      case nvinfer1::OptProfileSelector::kOPT: return to_dims(t->range(profile, 1));
      default: return to_dims(t->range(profile, 2));
    }
  }
  int32_t getNbOptimizationProfiles() const noexcept override { return plan_.nb_profiles; }
  bool isShapeInferenceIO(char const* name) const noexcept override {
    const PlanTensor* t = plan_.find(name);
    return t && t->shape_tensor;
  }
  nvinfer1::IExecutionContext* createExecutionContext(nvinfer1::ExecutionContextAllocationStrategy) noexcept override {
    return new_context(*this);
  }
  nvinfer1::IExecutionContext* createExecutionContext(nvinfer1::IRuntimeConfig* config) noexcept override {
    if (!config) return nullptr;
    // TensorRT-RTX compiles the engine's kernels for this GPU into the configuration's runtime cache.
    if (auto* cache = static_cast<RuntimeCache*>(config->getRuntimeCache())) cache->add(plan_.name);
    ++g_config_contexts;
    return new_context(*this);
  }
  nvinfer1::IRuntimeConfig* createRuntimeConfig() noexcept override { return new RuntimeConfig(); }
  char const* getAliasedInputTensor(char const* name) const noexcept override {
    auto it = name ? plan_.aliases.find(name) : plan_.aliases.end();
    return it == plan_.aliases.end() ? nullptr : it->second.c_str();
  }
  const Plan& plan() const { return plan_; }
  ILogger* logger() const { return logger_; }

 private:
  Plan plan_;
  ILogger* logger_;
};

}  // namespace fake_trt
