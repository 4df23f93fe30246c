// CUDA mode of the stand-in TensorRT (see fake_cuda.h). Test-only.
#include "fake_cuda.h"

namespace fake_trt {

bool cuda_mode() {
  static const bool enabled = [] {
    int count = 0;
    return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
  }();
  return enabled;
}

bool is_capturing(cudaStream_t stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  return cudaStreamIsCapturing(stream, &status) == cudaSuccess && status != cudaStreamCaptureStatusNone;
}

std::string check_pointer(const void* p, bool device) {
  cudaPointerAttributes attr{};
  const cudaError_t e = cudaPointerGetAttributes(&attr, p);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error state of this call
    return cuda_error("cudaPointerGetAttributes", e);
  }
  const bool is_device = attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged;
  if (device && !is_device) return "is host memory; TensorRT reads and writes I/O tensors in device memory";
  if (!device && attr.type == cudaMemoryTypeDevice) return "is device memory; shape tensor values must be in host memory";
  return "";
}

std::string cuda_error(const char* what, cudaError_t e) {
  return std::string(what) + " failed: " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")";
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) (void)cudaFreeHost(ptr_);
}

bool PinnedBuffer::reserve(std::size_t bytes, bool capturing, std::string* why) {
  if (bytes <= bytes_ && ptr_) return true;
  if (capturing) {
    *why = "the stand-in's host staging buffer must grow, which a CUDA graph capture cannot do; run the engine "
           "once with these shapes before capturing";
    return false;
  }
  if (ptr_) {
    cudaError_t e = cudaDeviceSynchronize();
    if (e == cudaSuccess) e = cudaFreeHost(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
    if (e != cudaSuccess) return *why = cuda_error("freeing a staging buffer", e), false;
  }
  const std::size_t size = bytes < 256 ? 256 : bytes;
  const cudaError_t e = cudaMallocHost(&ptr_, size);
  if (e != cudaSuccess) {
    ptr_ = nullptr;
    return *why = cuda_error("cudaMallocHost", e), false;
  }
  bytes_ = size;
  return true;
}

}  // namespace fake_trt
