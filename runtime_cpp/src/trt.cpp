// Logger, library version, platform and Dims helpers (no Torch here).
#include "torchtrt/trt.h"

#include <cstdlib>
#include <cstdio>
#include <stdexcept>
#include <string_view>

namespace torchtrt {
namespace {
thread_local std::string t_last_error;
}

Logger::Logger() : threshold_(Severity::kWARNING) {
  if (const char* level = std::getenv("TORCHTRT_LOG_LEVEL")) {
    const std::string_view v(level);
    if (v == "error") threshold_ = Severity::kERROR;
    else if (v == "info") threshold_ = Severity::kINFO;
    else if (v == "verbose" || v == "debug") threshold_ = Severity::kVERBOSE;
  }
}

Logger& Logger::instance() {
  static Logger logger;  // never destroyed before the engines that point at it (function-local static)
  return logger;
}

void Logger::log(Severity severity, nvinfer1::AsciiChar const* msg) noexcept {
  const char* text = msg ? msg : "";
  if (severity == Severity::kERROR || severity == Severity::kINTERNAL_ERROR) t_last_error = text;
  if (static_cast<int32_t>(severity) > static_cast<int32_t>(threshold_)) return;
  static const char* const names[] = {"INTERNAL_ERROR", "ERROR", "WARNING", "INFO", "VERBOSE"};
  const auto i = static_cast<int32_t>(severity);
  std::fprintf(stderr, "[torch_tensorrt] TensorRT %s: %s\n", i >= 0 && i < 5 ? names[i] : "?", text);
}

std::string Logger::take_last_error() {
  std::string e;
  e.swap(t_last_error);
  return e;
}

std::string trt_said() {
  const std::string e = Logger::take_last_error();
  return e.empty() ? std::string() : "; TensorRT said: " + e;
}

std::string library_version() {
  // TensorRT 10+ (and TensorRT-RTX): MAJOR * 10000 + MINOR * 100 + PATCH.
  const int32_t v = getInferLibVersion();
  return std::to_string(v / 10000) + "." + std::to_string(v / 100 % 100) + "." + std::to_string(v % 100);
}

std::string platform_name() {
#if defined(__linux__)
  std::string os = "linux";
#elif defined(_WIN32)
  std::string os = "win32";
#else
  std::string os = "unknown";
#endif
#if defined(_M_X64)
  return os + "_amd64";  // Python's platform.machine() on Windows
#elif defined(__x86_64__)
  return os + "_x86_64";
#elif defined(__aarch64__) || defined(_M_ARM64)
  return os + "_aarch64";
#else
  return os + "_unknown";
#endif
}

std::vector<int64_t> dims_to_vector(const nvinfer1::Dims& dims) {
  if (dims.nbDims < 0) return {};
  return std::vector<int64_t>(dims.d, dims.d + dims.nbDims);
}

nvinfer1::Dims vector_to_dims(const std::vector<int64_t>& shape) {
  nvinfer1::Dims d{};
  if (shape.size() > static_cast<std::size_t>(nvinfer1::Dims::MAX_DIMS))
    throw std::invalid_argument("rank " + std::to_string(shape.size()) + " exceeds TensorRT's maximum of " +
                                std::to_string(nvinfer1::Dims::MAX_DIMS));
  d.nbDims = static_cast<int32_t>(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) d.d[i] = shape[i];
  return d;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string py_tuple(const std::vector<int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace torchtrt
