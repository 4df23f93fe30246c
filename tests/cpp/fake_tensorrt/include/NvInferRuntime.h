// Stand-in TensorRT for torch_tensorrt's tests only: never installed or shipped.
//
// The runtime subset runtime_cpp uses: IRuntime, ICudaEngine, IExecutionContext, IOutputAllocator and
// createInferRuntime, name-based I/O only (TensorRT 10: no binding-index API). Objects are released with
// ``delete``, as in TensorRT 10. The engine "plan" the stand-in deserializes is a small text format described
// in tests/cpp/fake_tensorrt/README.md; execution happens on host memory.
#pragma once

#include "NvInferRuntimeBase.h"

namespace nvinfer1 {

class ICudaEngine;
class IExecutionContext;

namespace v_1_0 {
//! Callback from IExecutionContext::enqueueV3 for outputs whose size is only known during execution.
class IOutputAllocator : public IVersionedInterface {
 public:
  InterfaceInfo getInterfaceInfo() const noexcept override { return InterfaceInfo{"IOutputAllocator", 1, 0}; }
  //! Deprecated synchronous form; the default async implementation forwards to it.
  virtual void* reallocateOutput(char const* tensorName, void* currentMemory, uint64_t size,
                                 uint64_t alignment) noexcept {
    (void)tensorName;
    (void)currentMemory;
    (void)size;
    (void)alignment;
    return nullptr;
  }
  virtual void* reallocateOutputAsync(char const* tensorName, void* currentMemory, uint64_t size, uint64_t alignment,
                                      cudaStream_t /*stream*/) {
    return reallocateOutput(tensorName, currentMemory, size, alignment);
  }
  //! Called by TensorRT when the shape of the output tensor is known.
  virtual void notifyShape(char const* tensorName, Dims const& dims) noexcept = 0;
};
}  // namespace v_1_0
using IOutputAllocator = v_1_0::IOutputAllocator;

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
};

class IRuntime {
 public:
  virtual ~IRuntime() noexcept = default;
  virtual ICudaEngine* deserializeCudaEngine(void const* blob, std::size_t size) noexcept = 0;
};

}  // namespace nvinfer1

extern "C" void* createInferRuntime_INTERNAL(void* logger, int32_t version) noexcept;

namespace nvinfer1 {
inline IRuntime* createInferRuntime(ILogger& logger) noexcept {
  return static_cast<IRuntime*>(createInferRuntime_INTERNAL(&logger, NV_TENSORRT_VERSION));
}
}  // namespace nvinfer1
