// The TensorRT API of the stand-in headers (tests/cpp/fake_tensorrt/include), one declaration at a time, with the
// exact type the stand-in gives it. This file only compiles (no code is generated):
//
// * in the test build, against the stand-in headers (tests/cpp/CMakeLists.txt, both flavours), and
// * in scripts/check_real_headers.sh, against a real TensorRT include folder.
//
// Compiling in both proves that every member the runtime can call (the runtime compiles against the stand-in,
// which declares nothing else) has the same parameter types, return type, const and noexcept in NVIDIA's
// headers, and that the enumerator values and the Dims layout the runtime relies on agree. Overloaded members
// are picked by their type among the real header's overloads (e.g. IRuntime::deserializeCudaEngine(void const*,
// size_t) beside deserializeCudaEngine(IStreamReaderV2&)).
// tests/runtime/test_cpp_api_signatures.py checks that every member the stand-in headers declare is listed here.
// The TensorRT-RTX members (runtime cache) are checked only where the headers are TensorRT-RTX's.
#include <NvInferRuntime.h>
#include <NvInferVersion.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>

// MEMBER(Class, method, function type): &Class::method has exactly that type (pointer to member of Class).
#define TORCHTRT_MEMBER(Class, method, ...)                                                                  \
  static_assert(std::is_same_v<decltype(&nvinfer1::Class::method),                                         \
                               torchtrt_signatures::Member<nvinfer1::Class, __VA_ARGS__>>,                  \
                #Class "::" #method)
// OVERLOAD(Class, method, function type): for overloaded members; the pointer converts to that type, which picks
// the overload of exactly that type (the types listed with it are all noexcept, so no conversion can drop it).
#define TORCHTRT_OVERLOAD(Class, method, ...)                                                              \
  static_assert(std::is_same_v<decltype(static_cast<torchtrt_signatures::Member<nvinfer1::Class, __VA_ARGS__>>( \
                                   &nvinfer1::Class::method)),                                              \
                               torchtrt_signatures::Member<nvinfer1::Class, __VA_ARGS__>>,                  \
                #Class "::" #method)
// FUNCTION(name, function type): a free function (the C entry points and createInferRuntime).
#define TORCHTRT_FUNCTION(name, ...)                                                                       \
  static_assert(std::is_same_v<decltype(static_cast<torchtrt_signatures::Function<__VA_ARGS__>>(&name)), \
                               torchtrt_signatures::Function<__VA_ARGS__>>,                             \
                #name)
#define TORCHTRT_ENUM(Enum, value, number) \
  static_assert(static_cast<int32_t>(nvinfer1::Enum::value) == (number), #Enum "::" #value)

namespace torchtrt_signatures {

template <typename Class, typename F>
using Member = F Class::*;  // F may be a const / noexcept function type
template <typename F>
using Function = F*;

using nvinfer1::DataType;
using nvinfer1::Dims;
using nvinfer1::ExecutionContextAllocationStrategy;
using nvinfer1::InterfaceInfo;
using nvinfer1::OptProfileSelector;
using nvinfer1::TensorIOMode;

// --- value types
static_assert(std::is_same_v<nvinfer1::Dims, nvinfer1::Dims64>, "Dims is Dims64");
static_assert(nvinfer1::Dims::MAX_DIMS == 8, "Dims::MAX_DIMS");
static_assert(std::is_same_v<decltype(nvinfer1::Dims::nbDims), int32_t>, "Dims::nbDims");
static_assert(std::is_same_v<decltype(nvinfer1::Dims::d), int64_t[8]>, "Dims::d");
static_assert(std::is_same_v<nvinfer1::AsciiChar, char>, "AsciiChar");
static_assert(std::is_same_v<nvinfer1::IOutputAllocator, nvinfer1::v_1_0::IOutputAllocator>, "IOutputAllocator");
TORCHTRT_ENUM(DataType, kFLOAT, 0);
TORCHTRT_ENUM(DataType, kHALF, 1);
TORCHTRT_ENUM(DataType, kINT8, 2);
TORCHTRT_ENUM(DataType, kINT32, 3);
TORCHTRT_ENUM(DataType, kBOOL, 4);
TORCHTRT_ENUM(DataType, kUINT8, 5);
TORCHTRT_ENUM(DataType, kFP8, 6);
TORCHTRT_ENUM(DataType, kBF16, 7);
TORCHTRT_ENUM(DataType, kINT64, 8);
TORCHTRT_ENUM(DataType, kINT4, 9);
TORCHTRT_ENUM(TensorIOMode, kNONE, 0);
TORCHTRT_ENUM(TensorIOMode, kINPUT, 1);
TORCHTRT_ENUM(TensorIOMode, kOUTPUT, 2);
TORCHTRT_ENUM(OptProfileSelector, kMIN, 0);
TORCHTRT_ENUM(OptProfileSelector, kOPT, 1);
TORCHTRT_ENUM(OptProfileSelector, kMAX, 2);
TORCHTRT_ENUM(ExecutionContextAllocationStrategy, kSTATIC, 0);
TORCHTRT_ENUM(ExecutionContextAllocationStrategy, kON_PROFILE_CHANGE, 1);
TORCHTRT_ENUM(ExecutionContextAllocationStrategy, kUSER_MANAGED, 2);
TORCHTRT_ENUM(ILogger::Severity, kINTERNAL_ERROR, 0);
TORCHTRT_ENUM(ILogger::Severity, kERROR, 1);
TORCHTRT_ENUM(ILogger::Severity, kWARNING, 2);
TORCHTRT_ENUM(ILogger::Severity, kINFO, 3);
TORCHTRT_ENUM(ILogger::Severity, kVERBOSE, 4);

// --- free functions
TORCHTRT_FUNCTION(getInferLibVersion, int32_t() noexcept);
TORCHTRT_FUNCTION(createInferRuntime_INTERNAL, void*(void*, int32_t) noexcept);
TORCHTRT_FUNCTION(nvinfer1::createInferRuntime, nvinfer1::IRuntime*(nvinfer1::ILogger&) noexcept);

// --- interfaces
TORCHTRT_MEMBER(ILogger, log, void(nvinfer1::ILogger::Severity, nvinfer1::AsciiChar const*) noexcept);

TORCHTRT_MEMBER(IVersionedInterface, getAPILanguage, nvinfer1::APILanguage() const noexcept);
TORCHTRT_MEMBER(IVersionedInterface, getInterfaceInfo, InterfaceInfo() const noexcept);

TORCHTRT_MEMBER(IHostMemory, data, void*() const noexcept);
TORCHTRT_MEMBER(IHostMemory, size, std::size_t() const noexcept);
TORCHTRT_MEMBER(IHostMemory, type, DataType() const noexcept);

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"  // reallocateOutput: listed, never called
#endif
TORCHTRT_MEMBER(IOutputAllocator, getInterfaceInfo, InterfaceInfo() const noexcept);
TORCHTRT_MEMBER(IOutputAllocator, reallocateOutput, void*(char const*, void*, uint64_t, uint64_t) noexcept);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
TORCHTRT_MEMBER(IOutputAllocator, reallocateOutputAsync, void*(char const*, void*, uint64_t, uint64_t, cudaStream_t));
TORCHTRT_MEMBER(IOutputAllocator, notifyShape, void(char const*, Dims const&) noexcept);

TORCHTRT_MEMBER(IRuntimeConfig, setExecutionContextAllocationStrategy, void(ExecutionContextAllocationStrategy) noexcept);
TORCHTRT_MEMBER(IRuntimeConfig, getExecutionContextAllocationStrategy,
                ExecutionContextAllocationStrategy() const noexcept);

TORCHTRT_MEMBER(IExecutionContext, getEngine, nvinfer1::ICudaEngine const&() const noexcept);
TORCHTRT_MEMBER(IExecutionContext, setInputShape, bool(char const*, Dims const&) noexcept);
TORCHTRT_MEMBER(IExecutionContext, getTensorShape, Dims(char const*) const noexcept);
TORCHTRT_MEMBER(IExecutionContext, setTensorAddress, bool(char const*, void*) noexcept);
TORCHTRT_MEMBER(IExecutionContext, setInputTensorAddress, bool(char const*, void const*) noexcept);
TORCHTRT_MEMBER(IExecutionContext, setOutputAllocator, bool(char const*, nvinfer1::IOutputAllocator*) noexcept);
TORCHTRT_MEMBER(IExecutionContext, allInputDimensionsSpecified, bool() const noexcept);
TORCHTRT_MEMBER(IExecutionContext, inferShapes, int32_t(int32_t, char const**) noexcept);
TORCHTRT_MEMBER(IExecutionContext, getOptimizationProfile, int32_t() const noexcept);
TORCHTRT_MEMBER(IExecutionContext, setOptimizationProfileAsync, bool(int32_t, cudaStream_t) noexcept);
TORCHTRT_MEMBER(IExecutionContext, enqueueV3, bool(cudaStream_t) noexcept);

TORCHTRT_MEMBER(ICudaEngine, getNbIOTensors, int32_t() const noexcept);
TORCHTRT_MEMBER(ICudaEngine, getIOTensorName, char const*(int32_t) const noexcept);
TORCHTRT_MEMBER(ICudaEngine, getTensorIOMode, TensorIOMode(char const*) const noexcept);
TORCHTRT_MEMBER(ICudaEngine, getTensorDataType, DataType(char const*) const noexcept);
TORCHTRT_MEMBER(ICudaEngine, getTensorShape, Dims(char const*) const noexcept);
TORCHTRT_MEMBER(ICudaEngine, getProfileShape, Dims(char const*, int32_t, OptProfileSelector) const noexcept);
TORCHTRT_MEMBER(ICudaEngine, getNbOptimizationProfiles, int32_t() const noexcept);
TORCHTRT_MEMBER(ICudaEngine, isShapeInferenceIO, bool(char const*) const noexcept);
TORCHTRT_OVERLOAD(ICudaEngine, createExecutionContext,
                nvinfer1::IExecutionContext*(ExecutionContextAllocationStrategy) noexcept);
TORCHTRT_OVERLOAD(ICudaEngine, createExecutionContext, nvinfer1::IExecutionContext*(nvinfer1::IRuntimeConfig*) noexcept);
TORCHTRT_MEMBER(ICudaEngine, createRuntimeConfig, nvinfer1::IRuntimeConfig*() noexcept);
// TensorRT >= 10.15 and TensorRT-RTX (documented from 1.3): outputs written in place into an input
// (TORCHTRT_HAS_ALIASED_IO in runtime_cpp/include/torchtrt/trt.h).
#if (defined(TRT_MAJOR_RTX) && TRT_MAJOR_RTX * 100 + TRT_MINOR_RTX >= 103) || \
    (!defined(TRT_MAJOR_RTX) && NV_TENSORRT_MAJOR * 100 + NV_TENSORRT_MINOR >= 1015)
TORCHTRT_MEMBER(ICudaEngine, getAliasedInputTensor, char const*(char const*) const noexcept);
#endif

TORCHTRT_OVERLOAD(IRuntime, deserializeCudaEngine, nvinfer1::ICudaEngine*(void const*, std::size_t) noexcept);

#if defined(TRT_MAJOR_RTX)
// TensorRT-RTX only: the runtime cache of an execution context's configuration.
TORCHTRT_MEMBER(IRuntimeConfig, createRuntimeCache, nvinfer1::IRuntimeCache*() const noexcept);
TORCHTRT_MEMBER(IRuntimeConfig, setRuntimeCache, bool(nvinfer1::IRuntimeCache const&) noexcept);
TORCHTRT_MEMBER(IRuntimeConfig, getRuntimeCache, nvinfer1::IRuntimeCache*() const noexcept);
TORCHTRT_MEMBER(IRuntimeCache, serialize, nvinfer1::IHostMemory*() const noexcept);
TORCHTRT_MEMBER(IRuntimeCache, deserialize, bool(void const*, std::size_t) noexcept);
TORCHTRT_MEMBER(IRuntimeCache, reset, bool() noexcept);
#endif

}  // namespace torchtrt_signatures
