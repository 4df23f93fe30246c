// The public C++ API of libtorchtrt_runtime.so for applications: nothing here needs the TensorRT or CUDA
// headers.
//
// Loading the library registers torch.classes.tensorrt.Engine and the tensorrt:: ops with the dispatcher, which
// is all a TorchScript module or an AOTInductor package saved by torch_tensorrt needs to run (see
// examples/cpp). Linkers drop shared libraries that nothing references (--as-needed): call runtime_info() once
// so that the registration is linked in.
#pragma once

#include <string>

namespace torchtrt {

struct RuntimeInfo {
  std::string flavour;           //!< "tensorrt", "tensorrt_rtx", or "stand-in" (the test build)
  std::string tensorrt_version;  //!< of the TensorRT library loaded in the process, e.g. "10.16.0"
  std::string abi_version;       //!< of the engine record this runtime reads
  std::string platform;          //!< e.g. "linux_x86_64"
};

RuntimeInfo runtime_info();

}  // namespace torchtrt
