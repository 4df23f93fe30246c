// The TensorRT side of the runtime: the one include of the TensorRT headers, the logger, ownership and Dims
// helpers. Only the documented TensorRT 10+ runtime API is used: name-based I/O (no binding indices),
// enqueueV3, IOutputAllocator, objects released with ``delete``.
//
// TORCHTRT_FAKE_TENSORRT is defined only by the test build (tests/cpp/CMakeLists.txt), which compiles this
// runtime against the stand-in TensorRT of tests/cpp/fake_tensorrt. In that build the engine executes on host
// memory: inputs and outputs are CPU tensors, no CUDA call is made and the stream passed to enqueueV3 is null;
// simulated engines (ENGINE_KIND "simulated") are accepted, since the stand-in plays the simulated runtime's
// part. Every other build (the default) is a real TensorRT build: tensors live on the engine's CUDA device,
// work runs on the caller's current CUDA stream and simulated engines are refused.
#pragma once

#include <NvInferRuntime.h>

#include <memory>
#include <string>
#include <vector>

#if defined(TORCHTRT_STAND_IN_TENSORRT_HEADERS) && !defined(TORCHTRT_FAKE_TENSORRT)
#error "runtime_cpp is being compiled against the stand-in TensorRT headers of tests/cpp without TORCHTRT_FAKE_TENSORRT; point TENSORRT_ROOT at a real TensorRT SDK"
#endif
#if defined(TORCHTRT_FAKE_TENSORRT) && !defined(TORCHTRT_STAND_IN_TENSORRT_HEADERS)
#error "TORCHTRT_FAKE_TENSORRT is only for the test build against tests/cpp/fake_tensorrt"
#endif

namespace torchtrt {

#ifdef TORCHTRT_FAKE_TENSORRT
inline constexpr bool kStandInRuntime = true;
#else
inline constexpr bool kStandInRuntime = false;
#endif

//! Owning pointer for TensorRT objects (TensorRT 10 objects are released with delete).
template <typename T>
using TrtUniquePtr = std::unique_ptr<T>;

//! Forwards TensorRT's messages to stderr (warnings and errors by default, TORCHTRT_LOG_LEVEL=info|verbose
//! for more) and remembers the last error of the calling thread, so that failures can quote TensorRT.
class Logger final : public nvinfer1::ILogger {
 public:
  void log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept override;
  //! Clears, and returns, the last error TensorRT reported on this thread ("" if none).
  static std::string take_last_error();
  static Logger& instance();

 private:
  Logger();
  Severity threshold_;
};

std::vector<int64_t> dims_to_vector(const nvinfer1::Dims& dims);
nvinfer1::Dims vector_to_dims(const std::vector<int64_t>& shape);  // throws if the rank exceeds MAX_DIMS
std::string shape_str(const std::vector<int64_t>& shape);         // "[1, 2, 3]"
//! "; TensorRT said: <last error>" or "".
std::string trt_said();

}  // namespace torchtrt
