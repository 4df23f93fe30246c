// Stand-in TensorRT for torch_tensorrt's tests only: never installed or shipped.
// Version macros as the TensorRT headers define them; the stand-in claims the 10.x API.
#pragma once

#define NV_TENSORRT_MAJOR 10
#define NV_TENSORRT_MINOR 0
#define NV_TENSORRT_PATCH 0
#define NV_TENSORRT_BUILD 0
#define NV_TENSORRT_VERSION ((NV_TENSORRT_MAJOR * 10000) + (NV_TENSORRT_MINOR * 100) + NV_TENSORRT_PATCH)

//! Set only by these stand-in headers. The runtime refuses to compile against them unless the build also
//! defines TORCHTRT_FAKE_TENSORRT (the test build), so a misconfigured real build cannot ship the stand-in.
#define TORCHTRT_STAND_IN_TENSORRT_HEADERS 1
