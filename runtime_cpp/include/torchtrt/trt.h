// The TensorRT side of the runtime: the one include of the TensorRT headers, the flavour switch, the logger,
// ownership and Dims helpers. Only the documented TensorRT 10+ runtime API is used: name-based I/O (no binding
// indices), enqueueV3, IOutputAllocator::reallocateOutputAsync, objects released with ``delete``.
//
// Flavour: the headers decide at compile time. TensorRT-RTX headers define TRT_MAJOR_RTX; the runtime is then
// built for TensorRT-RTX (TORCHTRT_TENSORRT_RTX): execution contexts are created through an IRuntimeConfig that
// carries the process's runtime cache (engine.cpp). Otherwise it is built for TensorRT.
//
// TORCHTRT_FAKE_TENSORRT is defined only by the test build (tests/cpp/CMakeLists.txt), which compiles this
// runtime against the stand-in TensorRT of tests/cpp/fake_tensorrt. The code paths are the same as in a real
// build -- device selection, CUDAGuard, the caller's stream, events, allocations, the output allocator -- except
// for two things the stand-in build adds: in a process without a CUDA device engines run on host memory (CPU
// tensors, no CUDA call; how CI runs the runtime), and simulated engines (ENGINE_KIND "simulated") are
// accepted, since the stand-in plays the simulated runtime's part. A real build refuses simulated engines and
// needs a GPU.
#pragma once

#include <NvInferRuntime.h>
#include <NvInferVersion.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#if defined(TORCHTRT_STAND_IN_TENSORRT_HEADERS) && !defined(TORCHTRT_FAKE_TENSORRT)
#error "runtime_cpp is being compiled against the stand-in TensorRT headers of tests/cpp without TORCHTRT_FAKE_TENSORRT; point TENSORRT_ROOT at a real TensorRT SDK"
#endif
#if defined(TORCHTRT_FAKE_TENSORRT) && !defined(TORCHTRT_STAND_IN_TENSORRT_HEADERS)
#error "TORCHTRT_FAKE_TENSORRT is only for the test build against tests/cpp/fake_tensorrt"
#endif

#if defined(TRT_MAJOR_RTX)
#define TORCHTRT_TENSORRT_RTX 1
#endif

// ICudaEngine::getAliasedInputTensor (outputs written in place into an input, e.g. a KV-cache update): TensorRT
// 10.15 and later, TensorRT-RTX (documented from 1.3). With older headers no output aliases an input.
#if defined(TRT_MAJOR_RTX)
#if TRT_MAJOR_RTX * 100 + TRT_MINOR_RTX >= 103
#define TORCHTRT_HAS_ALIASED_IO 1
#endif
#elif NV_TENSORRT_MAJOR * 100 + NV_TENSORRT_MINOR >= 1015
#define TORCHTRT_HAS_ALIASED_IO 1
#endif

namespace torchtrt {

//! The test build against the stand-in TensorRT (see the file comment).
#ifdef TORCHTRT_FAKE_TENSORRT
inline constexpr bool kStandInTensorRT = true;
#else
inline constexpr bool kStandInTensorRT = false;
#endif

//! The flavour these headers are ("tensorrt" | "tensorrt_rtx"), spelled as the record's TRT_FLAVOUR field.
#ifdef TORCHTRT_TENSORRT_RTX
inline constexpr char kTensorRTFlavour[] = "tensorrt_rtx";
#else
inline constexpr char kTensorRTFlavour[] = "tensorrt";
#endif

//! TensorRT wants I/O tensor addresses aligned to this many bytes; inputs that are not are copied.
inline constexpr std::uintptr_t kAddressAlignment = 256;
inline bool is_aligned(const void* p) { return reinterpret_cast<std::uintptr_t>(p) % kAddressAlignment == 0; }

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

//! Version of the TensorRT library loaded in the process ("10.16.0"), from getInferLibVersion().
std::string library_version();
//! This platform, spelled as the record's TARGET_PLATFORM ("linux_x86_64").
std::string platform_name();

std::vector<int64_t> dims_to_vector(const nvinfer1::Dims& dims);
nvinfer1::Dims vector_to_dims(const std::vector<int64_t>& shape);  // throws if the rank exceeds MAX_DIMS
std::string shape_str(const std::vector<int64_t>& shape);         // "[1, 2, 3]"
std::string py_tuple(const std::vector<int64_t>& shape);          // Python's repr of a shape: "(1, 2)", "(5,)"
//! "; TensorRT said: <last error>" or "".
std::string trt_said();

}  // namespace torchtrt
