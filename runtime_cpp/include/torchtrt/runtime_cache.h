// The TensorRT-RTX runtime cache: kernels TensorRT-RTX compiles just in time on the user's GPU, kept so that
// later execution contexts (and, through a file, later processes) skip the compilation.
//
// One cache per process, shared by every engine's IRuntimeConfig. With $TORCHTRT_RUNTIME_CACHE set to a file
// path, the cache is read from that file when first created (a missing file starts it empty; an unreadable or
// incompatible one is a warning) and written back, atomically, when the last engine using it is destroyed or
// when save() is called. TensorRT-RTX itself decides whether a cache is reusable (same SM, runtime and CUDA
// at least as new as the cache's).
//
// Only a TensorRT-RTX build (TORCHTRT_TENSORRT_RTX, trt.h) creates one; in a TensorRT build the class exists
// but acquire() is never called.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "torchtrt/trt.h"

namespace torchtrt {

class RuntimeCache {
 public:
  //! Environment variable naming the cache file.
  static constexpr char kPathVariable[] = "TORCHTRT_RUNTIME_CACHE";

#ifdef TORCHTRT_TENSORRT_RTX
  //! The process's cache, created through ``config`` on first use (and loaded from the file). Throws when
  //! TensorRT cannot create one.
  static std::shared_ptr<RuntimeCache> acquire(nvinfer1::IRuntimeConfig& config);
  nvinfer1::IRuntimeCache& get() { return *cache_; }
  RuntimeCache(nvinfer1::IRuntimeCache* cache, std::string path);
#endif
  ~RuntimeCache();
  RuntimeCache(const RuntimeCache&) = delete;
  RuntimeCache& operator=(const RuntimeCache&) = delete;

  //! Write the cache to its file now; false (and why) on failure, true with no file configured.
  bool save(std::string* why);
  const std::string& path() const { return path_; }

 private:
#ifdef TORCHTRT_TENSORRT_RTX
  TrtUniquePtr<nvinfer1::IRuntimeCache> cache_;
#endif
  std::string path_;
  std::mutex mutex_;
};

}  // namespace torchtrt
