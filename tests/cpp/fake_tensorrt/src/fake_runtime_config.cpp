// The stand-in's IRuntimeConfig and IRuntimeCache (see fake_runtime_config.h). Test-only.
#include "fake_runtime_config.h"

#include <sstream>

namespace fake_trt {
namespace {

constexpr char kHeader[] = "torchtrt-fake-runtime-cache 1";

class HostMemory final : public nvinfer1::IHostMemory, Live {
 public:
  explicit HostMemory(std::string data) : data_(std::move(data)) {}
  void* data() const noexcept override { return const_cast<char*>(data_.data()); }
  std::size_t size() const noexcept override { return data_.size(); }
  nvinfer1::DataType type() const noexcept override { return nvinfer1::DataType::kUINT8; }

 private:
  std::string data_;
};

}  // namespace

nvinfer1::IHostMemory* RuntimeCache::serialize() const noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string text = std::string(kHeader) + "\n";
  for (const auto& k : kernels_) text += k + "\n";
  return new HostMemory(std::move(text));
}

bool RuntimeCache::deserialize(void const* blob, std::size_t size) noexcept {
  std::stringstream in(std::string(static_cast<const char*>(blob), size));
  std::string line;
  if (!std::getline(in, line) || line != kHeader) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  kernels_.clear();
  while (std::getline(in, line))
    if (!line.empty()) kernels_.insert(line);
  ++g_cache_loads;
  return true;
}

bool RuntimeCache::reset() noexcept {
  std::lock_guard<std::mutex> lock(mutex_);
  kernels_.clear();
  return true;
}

void RuntimeCache::add(const std::string& kernel) {
  std::lock_guard<std::mutex> lock(mutex_);
  kernels_.insert(kernel);
}

bool RuntimeConfig::setRuntimeCache(nvinfer1::IRuntimeCache const& cache) noexcept {
  cache_ = dynamic_cast<RuntimeCache*>(const_cast<nvinfer1::IRuntimeCache*>(&cache));
  return cache_ != nullptr;
}

}  // namespace fake_trt
