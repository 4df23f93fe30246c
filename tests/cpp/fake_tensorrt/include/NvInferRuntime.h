// Stand-in TensorRT for torch_tensorrt's tests only: never installed or shipped.
//
// The runtime subset runtime_cpp uses: IRuntime, ICudaEngine, IExecutionContext, IOutputAllocator, IHostMemory,
// IRuntimeConfig / IRuntimeCache (TensorRT-RTX's runtime configuration) and createInferRuntime, name-based I/O
// only (TensorRT 10: no binding-index API). Every method the runtime calls has the signature of the real header
// (scripts/check_real_headers.sh compiles the runtime against those); the classes here are plain virtual
// interfaces implemented by libfake_nvinfer. Objects are released with ``delete``, as in TensorRT 10. The engine
// "plan" the stand-in deserializes is a small text format described in tests/cpp/fake_tensorrt/README.md.
#pragma once

#include "NvInferRuntimeBase.h"

// ICudaEngine::getAliasedInputTensor exists since TensorRT 10.15 and in TensorRT-RTX (documented from 1.3).
#if defined(TRT_MAJOR_RTX)
#define TORCHTRT_STAND_IN_HAS_ALIASED_IO (TRT_MAJOR_RTX * 100 + TRT_MINOR_RTX >= 103)
#else
#define TORCHTRT_STAND_IN_HAS_ALIASED_IO (NV_TENSORRT_MAJOR * 100 + NV_TENSORRT_MINOR >= 1015)
#endif

namespace nvinfer1 {

class ICudaEngine;
class IExecutionContext;

//! Memory the library allocated and the caller owns (released with delete).
class IHostMemory {
 public:
  virtual ~IHostMemory() noexcept = default;
  virtual void* data() const noexcept = 0;
  virtual std::size_t size() const noexcept = 0;
  virtual DataType type() const noexcept = 0;
};

namespace v_1_0 {
//! Callback from IExecutionContext::enqueueV3 for outputs whose size is only known during execution.
class IOutputAllocator : public IVersionedInterface {
 public:
  InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"IOutputAllocator", 1, 0}; }
  //! Deprecated since TensorRT 10.0; the default reallocateOutputAsync forwards to it.
  TRT_DEPRECATED virtual void* reallocateOutput(char const* /*tensorName*/, void* /*currentMemory*/,
                                                uint64_t /*size*/, uint64_t /*alignment*/) noexcept {
    return nullptr;
  }
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
  virtual void* reallocateOutputAsync(char const* tensorName, void* currentMemory, uint64_t size, uint64_t alignment,
                                      cudaStream_t /*stream*/) {
    return reallocateOutput(tensorName, currentMemory, size, alignment);
  }
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
  //! Called by TensorRT when the shape of the output tensor is known.
  virtual void notifyShape(char const* tensorName, Dims const& dims) noexcept = 0;
};
}  // namespace v_1_0
using IOutputAllocator = v_1_0::IOutputAllocator;

//! TensorRT-RTX: kernels compiled just in time, serializable (TensorRT-RTX's IRuntimeCache).
class IRuntimeCache {
 public:
  virtual ~IRuntimeCache() noexcept = default;
  virtual IHostMemory* serialize() const noexcept = 0;
  virtual bool deserialize(void const* blob, std::size_t size) noexcept = 0;
  virtual bool reset() noexcept = 0;
};

//! Options of an execution context (TensorRT 10.11+; the runtime cache members are TensorRT-RTX's).
class IRuntimeConfig {
 public:
  virtual ~IRuntimeConfig() noexcept = default;
  virtual void setExecutionContextAllocationStrategy(ExecutionContextAllocationStrategy strategy) noexcept = 0;
  virtual ExecutionContextAllocationStrategy getExecutionContextAllocationStrategy() const noexcept = 0;
  virtual IRuntimeCache* createRuntimeCache() const noexcept = 0;
  virtual bool setRuntimeCache(IRuntimeCache const& cache) noexcept = 0;
  virtual IRuntimeCache* getRuntimeCache() const noexcept = 0;
};

class IExecutionContext {
 public:
  virtual ~IExecutionContext() noexcept = default;
  virtual ICudaEngine const& getEngine() const noexcept = 0;
  virtual bool setInputShape(char const* tensorName, Dims const& dims) noexcept = 0;
  //! Input: the shape set; output: the shape computed from the input shapes (-1 where data-dependent).
  virtual Dims getTensorShape(char const* tensorName) const noexcept = 0;
  virtual bool setTensorAddress(char const* tensorName, void* data) noexcept = 0;
  virtual bool setInputTensorAddress(char const* tensorName, void const* data) noexcept = 0;
  virtual bool setOutputAllocator(char const* tensorName, IOutputAllocator* outputAllocator) noexcept = 0;
  virtual bool allInputDimensionsSpecified() const noexcept = 0;
  //! Writes up to nbMaxNames names of tensors whose shape or (shape tensors) value is missing; returns how
  //! many there are (0: every output shape is known), or a negative number on error.
  virtual int32_t inferShapes(int32_t nbMaxNames, char const** tensorNames) noexcept = 0;
  //! The optimization profile input shapes are checked against (0 for a new context).
  virtual int32_t getOptimizationProfile() const noexcept = 0;
  //! Select profile ``profileIndex``; the input shapes must be set again afterwards. False when out of range.
  virtual bool setOptimizationProfileAsync(int32_t profileIndex, cudaStream_t stream) noexcept = 0;
  virtual bool enqueueV3(cudaStream_t stream) noexcept = 0;
};

class ICudaEngine {
 public:
  virtual ~ICudaEngine() noexcept = default;
  virtual int32_t getNbIOTensors() const noexcept = 0;
  virtual char const* getIOTensorName(int32_t index) const noexcept = 0;
  virtual TensorIOMode getTensorIOMode(char const* tensorName) const noexcept = 0;
  virtual DataType getTensorDataType(char const* tensorName) const noexcept = 0;
  //! Build-time shape, -1 for dynamic extents.
  virtual Dims getTensorShape(char const* tensorName) const noexcept = 0;
  virtual Dims getProfileShape(char const* tensorName, int32_t profileIndex,
                               OptProfileSelector select) const noexcept = 0;
  virtual int32_t getNbOptimizationProfiles() const noexcept = 0;
  virtual bool isShapeInferenceIO(char const* tensorName) const noexcept = 0;
  virtual IExecutionContext* createExecutionContext(
      ExecutionContextAllocationStrategy strategy = ExecutionContextAllocationStrategy::kSTATIC) noexcept = 0;
  virtual IExecutionContext* createExecutionContext(IRuntimeConfig* runtimeConfig) noexcept = 0;
  virtual IRuntimeConfig* createRuntimeConfig() noexcept = 0;
#if TORCHTRT_STAND_IN_HAS_ALIASED_IO
  //! The input an output shares memory with (e.g. the cache of a KV-cache update, written in place), or nullptr
  //! for outputs that alias nothing and for names that are not outputs. Last, so that code compiled against the
  //! TensorRT 10.0 variant of these headers sees the other members at the same places.
  virtual char const* getAliasedInputTensor(char const* tensorName) const noexcept = 0;
#endif
};

class IRuntime {
 public:
  virtual ~IRuntime() noexcept = default;
  virtual ICudaEngine* deserializeCudaEngine(void const* blob, std::size_t size) noexcept = 0;
};

}  // namespace nvinfer1

extern "C" TENSORRTAPI void* createInferRuntime_INTERNAL(void* logger, int32_t version) noexcept;

namespace nvinfer1 {
inline IRuntime* createInferRuntime(ILogger& logger) noexcept {
  return static_cast<IRuntime*>(createInferRuntime_INTERNAL(&logger, NV_TENSORRT_VERSION));
}
}  // namespace nvinfer1
