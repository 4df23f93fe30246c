// Device selection and load-time compatibility checks (see compat.h). Plain C++.
#include "torchtrt/compat.h"

#include <algorithm>
#include <cctype>

namespace torchtrt {
namespace {

std::string capability(const DeviceInfo& d) { return std::to_string(d.major) + "." + std::to_string(d.minor); }

bool compatible(const EngineRecord& record, const DeviceInfo& d) {
  if (record.is_simulated() || record.device_capability.empty()) return true;
  if (record.hardware_compatible) return d.major >= 8;  // Ampere-plus engines run on any SM >= 8.0
  return capability(d) == record.device_capability;
}

// Versions compared on major.minor.patch (the build number does not change the plan format).
int compare_versions(const std::vector<int>& a, const std::vector<int>& b) {
  for (std::size_t i = 0; i < 3; ++i) {
    const int x = i < a.size() ? a[i] : 0;
    const int y = i < b.size() ? b[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

}  // namespace

std::string flavour_label(const std::string& flavour) {
  if (flavour == "tensorrt") return "TensorRT";
  if (flavour == "tensorrt_rtx") return "TensorRT-RTX";
  return flavour;
}

std::vector<int> parse_version(const std::string& version) {
  std::vector<int> parts;
  std::size_t i = 0;
  while (i < version.size() && std::isdigit(static_cast<unsigned char>(version[i]))) {
    int value = 0;
    for (; i < version.size() && std::isdigit(static_cast<unsigned char>(version[i])); ++i)
      value = value * 10 + (version[i] - '0');
    parts.push_back(value);
    if (i < version.size() && version[i] == '.') ++i;
    else break;
  }
  return parts;
}

DeviceChoice select_device(const EngineRecord& record, const std::vector<DeviceInfo>& devices, int current) {
  const int count = static_cast<int>(devices.size());
  if (count == 0)
    throw CompatError("engine " + quoted(record.name) +
                      ": TensorRT engines need a CUDA GPU and this process sees no CUDA device");
  std::vector<int> order;
  if (current >= 0 && current < count) order.push_back(current);
  if (record.device_id >= 0 && record.device_id < count) order.push_back(static_cast<int>(record.device_id));
  for (int i = 0; i < count; ++i) order.push_back(i);
  for (int i : order) {
    if (!compatible(record, devices[i])) continue;
    DeviceChoice choice;
    choice.index = i;
    if (i != record.device_id && !record.is_simulated() && !record.device_capability.empty())
      choice.warning = "engine " + record.name + " was built for device " + std::to_string(record.device_id) +
                       "; running it on compatible device " + std::to_string(i);
    return choice;
  }
  std::string found;
  for (int i = 0; i < count; ++i)
    found += (i ? ", " : "") + std::to_string(i) + ": " + devices[i].name + " (SM " + capability(devices[i]) + ")";
  throw CompatError("engine " + quoted(record.name) + " was built for SM " + record.device_capability + " (" +
                    (record.device_name.empty() ? std::string("unknown GPU") : record.device_name) +
                    (record.hardware_compatible ? ", hardware-compatible" : "") +
                    "); no compatible GPU among: " + found);
}

std::vector<std::string> check_compatibility(const EngineRecord& record, const RuntimeIdentity& here) {
  std::vector<std::string> warnings;
  if (record.is_simulated()) return warnings;  // not a TensorRT plan: nothing to match
  const std::string who = "engine " + quoted(record.name);
  if (!record.target_platform.empty() && !here.platform.empty() && record.target_platform != here.platform)
    throw CompatError(who + " was built for platform " + record.target_platform + " but this is " + here.platform +
                      "; TensorRT engines are not portable across platforms (rebuild it on " + here.platform + ")");
  if (record.trt_flavour.empty()) return warnings;  // hand-made records: the deserializer has the last word
  const std::string built = flavour_label(record.trt_flavour) + " " + record.trt_version;
  const std::string runs = flavour_label(here.flavour) + " " + here.version;
  if (record.trt_flavour != here.flavour)
    throw CompatError(who + " was built with " + built + " but this runtime is " + runs + "; " +
                      flavour_label(record.trt_flavour) + " engines run only on a " +
                      flavour_label(record.trt_flavour) + " runtime");
  const std::vector<int> want = parse_version(record.trt_version);
  const std::vector<int> have = parse_version(here.version);
  if (want.empty() || have.empty()) return warnings;
  const int order = compare_versions(want, have);
  if (order > 0)
    throw CompatError(who + " was built with " + built + ", newer than this runtime's " + runs +
                      "; an engine never runs on an older " + flavour_label(here.flavour) +
                      " (upgrade it, or rebuild the engine here)");
  if (order < 0)
    warnings.push_back(who + " was built with " + built + " but this runtime is " + runs +
                       "; it deserializes only if it was built version-compatible (otherwise rebuild it with " +
                       runs + ")");
  return warnings;
}

}  // namespace torchtrt
