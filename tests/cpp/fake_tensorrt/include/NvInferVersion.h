// Stand-in TensorRT for torch_tensorrt's tests only: never installed or shipped.
// Version macros as the TensorRT headers define them; the stand-in claims the TensorRT 10.16 API. Defining
// TORCHTRT_FAKE_TENSORRT_RTX (tests/cpp's TensorRT-RTX variant of the runtime) makes these headers claim to be
// TensorRT-RTX 1.7 instead, the way TensorRT-RTX's headers do: with TRT_MAJOR_RTX and friends. Defining
// TORCHTRT_FAKE_TENSORRT_10_0 makes them claim TensorRT 10.0, whose API lacks the members added since
// (ICudaEngine::getAliasedInputTensor): the runtime must still compile against them (tests/cpp/CMakeLists.txt).
#pragma once

#ifdef TORCHTRT_FAKE_TENSORRT_RTX
#define TRT_MAJOR_RTX 1
#define TRT_MINOR_RTX 7
#define TRT_PATCH_RTX 1
#define TRT_BUILD_RTX 0
#define NV_TENSORRT_MAJOR TRT_MAJOR_RTX
#define NV_TENSORRT_MINOR TRT_MINOR_RTX
#define NV_TENSORRT_PATCH TRT_PATCH_RTX
#define NV_TENSORRT_BUILD TRT_BUILD_RTX
#elif defined(TORCHTRT_FAKE_TENSORRT_10_0)
#define NV_TENSORRT_MAJOR 10
#define NV_TENSORRT_MINOR 0
#define NV_TENSORRT_PATCH 0
#define NV_TENSORRT_BUILD 0
#else
#define TRT_MAJOR_ENTERPRISE 10
#define TRT_MINOR_ENTERPRISE 16
#define TRT_PATCH_ENTERPRISE 0
#define TRT_BUILD_ENTERPRISE 0
#define NV_TENSORRT_MAJOR TRT_MAJOR_ENTERPRISE
#define NV_TENSORRT_MINOR TRT_MINOR_ENTERPRISE
#define NV_TENSORRT_PATCH TRT_PATCH_ENTERPRISE
#define NV_TENSORRT_BUILD TRT_BUILD_ENTERPRISE
#endif
#define NV_TENSORRT_VERSION ((NV_TENSORRT_MAJOR * 10000) + (NV_TENSORRT_MINOR * 100) + NV_TENSORRT_PATCH)

//! Set only by these stand-in headers. The runtime refuses to compile against them unless the build also
//! defines TORCHTRT_FAKE_TENSORRT (the test build), so a misconfigured real build cannot ship the stand-in.
#define TORCHTRT_STAND_IN_TENSORRT_HEADERS 1
