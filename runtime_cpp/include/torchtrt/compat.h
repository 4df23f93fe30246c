// Load-time decisions about an engine record, as plain C++ (no Torch, no TensorRT, no CUDA) so that every rule
// is unit-tested on machines without a GPU (tests/cpp/test_compat.cpp):
//
// * select_device: the GPU an engine runs on. The same documented rule as the Python runtime
//   (torch_tensorrt's TRTEngine select_device): the current CUDA device if it is compatible, else the device the
//   record names, else the first compatible one; compatible means the recorded compute capability exactly, any
//   SM >= 8.0 for hardware-compatible (Ampere-plus) engines, any device for simulated engines or records without
//   a capability. Running on another device than the recorded one is a warning; no compatible device an error.
// * check_compatibility: what the serialization design page promises at load. The engine's platform and
//   TensorRT flavour must be this runtime's (an error otherwise: TensorRT engines are not portable across
//   platforms, and TensorRT and TensorRT-RTX plans are different formats); a plan built by a newer TensorRT than
//   the loaded library is an error, one built by another (older) version a warning, since it deserializes only
//   when it was built version-compatible. Simulated records are not TensorRT plans and are not checked.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "torchtrt/record.h"

namespace torchtrt {

//! A CUDA device as device selection sees it.
struct DeviceInfo {
  int major = 0;
  int minor = 0;
  std::string name;
};

//! The device chosen for an engine, and a warning to give (empty when there is nothing to say).
struct DeviceChoice {
  int index = -1;
  std::string warning;
};

//! An engine that cannot run in this process (no compatible device, wrong platform or flavour, newer TensorRT).
class CompatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

//! ``devices`` are the process's CUDA devices by index, ``current`` the current one. Throws CompatError.
DeviceChoice select_device(const EngineRecord& record, const std::vector<DeviceInfo>& devices, int current);

//! This runtime: TensorRT flavour ("tensorrt" | "tensorrt_rtx"), version of the loaded library ("10.16.0") and
//! platform ("linux_x86_64", the spelling of the record's TARGET_PLATFORM).
struct RuntimeIdentity {
  std::string flavour;
  std::string version;
  std::string platform;
};

//! Returns the warnings to give; throws CompatError where the engine cannot run here.
std::vector<std::string> check_compatibility(const EngineRecord& record, const RuntimeIdentity& here);

//! "TensorRT" / "TensorRT-RTX" (the flavour string itself when unknown).
std::string flavour_label(const std::string& flavour);

//! Leading numeric components of a version ("10.16.0.72" -> {10, 16, 0, 72}); empty if it has none.
std::vector<int> parse_version(const std::string& version);

}  // namespace torchtrt
