// The TensorRT-RTX runtime cache (see runtime_cache.h). Compiles to (almost) nothing in a TensorRT build.
#include "torchtrt/runtime_cache.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include <unistd.h>

namespace torchtrt {

#ifdef TORCHTRT_TENSORRT_RTX
namespace {
std::mutex g_cache_mutex;
std::weak_ptr<RuntimeCache> g_cache;  // alive while an engine holds it
}  // namespace

RuntimeCache::RuntimeCache(nvinfer1::IRuntimeCache* cache, std::string path)
    : cache_(cache), path_(std::move(path)) {}

std::shared_ptr<RuntimeCache> RuntimeCache::acquire(nvinfer1::IRuntimeConfig& config) {
  std::lock_guard<std::mutex> lock(g_cache_mutex);
  if (auto existing = g_cache.lock()) return existing;
  Logger::take_last_error();
  nvinfer1::IRuntimeCache* raw = config.createRuntimeCache();
  if (!raw) throw std::runtime_error("TensorRT-RTX could not create a runtime cache" + trt_said());
  const char* env = std::getenv(kPathVariable);
  auto cache = std::make_shared<RuntimeCache>(raw, env ? env : "");
  if (!cache->path_.empty()) {
    std::ifstream in(cache->path_, std::ios::binary);
    if (in) {
      const std::string blob((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (!blob.empty() && !raw->deserialize(blob.data(), blob.size()))
        std::fprintf(stderr,
                     "[torch_tensorrt] warning: runtime cache %s could not be used (written by another GPU or "
                     "TensorRT-RTX version?); starting an empty one%s\n",
                     cache->path_.c_str(), trt_said().c_str());
    }
  }
  g_cache = cache;
  return cache;
}
#endif

RuntimeCache::~RuntimeCache() {
  std::string why;
  if (!save(&why)) std::fprintf(stderr, "[torch_tensorrt] warning: %s\n", why.c_str());
}

bool RuntimeCache::save(std::string* why) {
#ifdef TORCHTRT_TENSORRT_RTX
  std::lock_guard<std::mutex> lock(mutex_);
  if (path_.empty() || !cache_) return true;
  TrtUniquePtr<nvinfer1::IHostMemory> blob(cache_->serialize());
  if (!blob) {
    *why = "TensorRT-RTX could not serialize the runtime cache for " + path_ + trt_said();
    return false;
  }
  // Atomic: a temporary file beside the target, then rename (readers never see a partial cache).
  const std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(blob->data()), static_cast<std::streamsize>(blob->size()));
    if (!out.good()) {
      *why = "could not write the runtime cache to " + tmp;
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    *why = "could not move the runtime cache into place at " + path_;
    std::remove(tmp.c_str());
    return false;
  }
#else
  (void)why;
#endif
  return true;
}

}  // namespace torchtrt
