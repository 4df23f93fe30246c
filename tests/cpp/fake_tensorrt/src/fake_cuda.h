// CUDA mode of the stand-in TensorRT. Test-only.
//
// When the process has a CUDA device the stand-in works the way TensorRT does: I/O tensors are device memory
// (checked), every copy and computation is enqueued on the stream enqueueV3 was given, and outputs with an
// IOutputAllocator get device buffers from it. The stand-in has no kernels of its own: "copy" and "reshape"
// are device-to-device cudaMemcpyAsync; "scale_add" stages its inputs into pinned host memory with
// cudaMemcpyAsync, computes in a host function launched on the stream (cudaLaunchHostFunc) and copies the result
// back -- all stream-ordered, so it can also be captured into a CUDA graph. Data-dependent outputs, hooks and
// simulated plans need values on the host to go on, so they synchronize the stream (as TensorRT must for
// data-dependent shapes); they cannot be captured. Without a device the stand-in runs on host memory.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>

namespace fake_trt {

//! Whether the stand-in executes with CUDA in this process (a CUDA device is present; decided once).
bool cuda_mode();

//! Whether ``stream`` is being captured into a CUDA graph.
bool is_capturing(cudaStream_t stream);

//! "" when ``p`` is device memory (``device``) or host memory (``!device``), else what is wrong.
std::string check_pointer(const void* p, bool device);

//! "<what>: <CUDA error name>" for a failed CUDA call.
std::string cuda_error(const char* what, cudaError_t e);

//! Pinned host memory that grows on demand. Growing waits for the device (the old buffer may be in use by work
//! still queued), and is refused during a capture: run once before capturing.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  //! At least ``bytes`` bytes; false (and why) on failure.
  bool reserve(std::size_t bytes, bool capturing, std::string* why);
  void* data() const { return ptr_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace fake_trt
