// Stand-in TensorRT for torch_tensorrt's tests only: never installed or shipped.
//
// Declares the small subset of the TensorRT 10 C++ API (namespace nvinfer1) that runtime_cpp uses, with the
// documented names and signatures (NvInferRuntimeBase.h / NvInferRuntime.h API reference). The classes are
// plain virtual interfaces implemented by libfake_nvinfer; code written against them compiles unchanged
// against the real headers.
#pragma once

#include <cuda_runtime_api.h>  // cudaStream_t, as in the real header

#include <cstddef>
#include <cstdint>

#include "NvInferVersion.h"

#if defined(__GNUC__)
#define TENSORRTAPI __attribute__((visibility("default")))
#else
#define TENSORRTAPI
#endif
#define TRT_DEPRECATED [[deprecated]]

namespace nvinfer1 {

using AsciiChar = char;

//! TensorRT 10: Dims is Dims64 (int64_t extents, at most MAX_DIMS of them). -1 marks a dynamic extent.
class Dims64 {
 public:
  static constexpr int32_t MAX_DIMS{8};
  int32_t nbDims;
  int64_t d[MAX_DIMS];
};
using Dims = Dims64;

enum class DataType : int32_t {
  kFLOAT = 0,
  kHALF = 1,
  kINT8 = 2,
  kINT32 = 3,
  kBOOL = 4,
  kUINT8 = 5,
  kFP8 = 6,
  kBF16 = 7,
  kINT64 = 8,
  kINT4 = 9,
};

enum class TensorIOMode : int32_t { kNONE = 0, kINPUT = 1, kOUTPUT = 2 };

enum class OptProfileSelector : int32_t { kMIN = 0, kOPT = 1, kMAX = 2 };

enum class ExecutionContextAllocationStrategy : int32_t { kSTATIC = 0, kON_PROFILE_CHANGE = 1, kUSER_MANAGED = 2 };

class ILogger {
 public:
  enum class Severity : int32_t { kINTERNAL_ERROR = 0, kERROR = 1, kWARNING = 2, kINFO = 3, kVERBOSE = 4 };
  virtual void log(Severity severity, AsciiChar const* msg) noexcept = 0;
  ILogger() = default;
  virtual ~ILogger() = default;

 protected:
  ILogger(ILogger const&) = default;
  ILogger& operator=(ILogger const&) & = default;
};

enum class APILanguage : int32_t { kCPP = 0, kPYTHON = 1 };

struct InterfaceInfo {
  char const* kind;
  int32_t major;
  int32_t minor;
};

class IVersionedInterface {
 public:
  virtual APILanguage getAPILanguage() const noexcept { return APILanguage::kCPP; }
  virtual InterfaceInfo getInterfaceInfo() const noexcept = 0;
  virtual ~IVersionedInterface() noexcept = default;

 protected:
  IVersionedInterface() = default;
  IVersionedInterface(IVersionedInterface const&) = default;
  IVersionedInterface& operator=(IVersionedInterface const&) & = default;
};

}  // namespace nvinfer1

//! Version of the loaded library: MAJOR * 10000 + MINOR * 100 + PATCH (the stand-in says 10.16.0).
extern "C" TENSORRTAPI int32_t getInferLibVersion() noexcept;
