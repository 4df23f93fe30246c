// Stand-in TensorRT for torch_tensorrt's tests only: never installed or shipped.
// The runtime uses the runtime API alone; NvInfer.h includes it as the real header does.
#pragma once

#include "NvInferRuntime.h"
