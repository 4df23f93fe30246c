// Which CUDA stream an engine's execution runs on, and the events that order it.
//
// * The caller's current stream, except the default (legacy/per-thread) stream: TensorRT warns about enqueueV3
//   on it and adds synchronization, so such calls run on a side stream the engine keeps, with an event on the
//   caller's stream before (the inputs are ready) and the caller's stream waiting for the execution after.
// * An event is recorded after each enqueue. A later execution on another stream first waits for it, so the one
//   execution context (and its TensorRT-owned memory) is never in use on two streams at once.
// * Inside CUDA graph capture no event crosses the capture boundary (an event recorded in a capture cannot be
//   waited on outside it, nor the reverse): torch.cuda.graph synchronizes the device before capturing, and the
//   captured work is ordered by the capturing stream.
#pragma once

#include <c10/core/Device.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>

#include <optional>

namespace torchtrt {

class StreamOrder {
 public:
  explicit StreamOrder(c10::DeviceIndex device) : device_(device) {}
  ~StreamOrder();
  StreamOrder(const StreamOrder&) = delete;
  StreamOrder& operator=(const StreamOrder&) = delete;

  //! The stream to enqueue on for a call from ``caller`` (see the file comment). Call with the engine's device
  //! current and its mutex held; every begin() is followed by end(), also when the enqueue fails.
  cudaStream_t begin(const c10::cuda::CUDAStream& caller);
  //! After the enqueue: records the done event and makes a default-stream caller wait for it.
  void end();

  //! Whether the stream of the current call is being captured into a CUDA graph (valid between begin and end).
  bool capturing() const { return capturing_; }
  //! Whether the current call runs on the side stream (a default-stream caller).
  bool on_side_stream() const { return run_ != caller_; }

  static bool is_default_stream(cudaStream_t s);

 private:
  static cudaEvent_t make_event();

  c10::DeviceIndex device_;
  std::optional<c10::cuda::CUDAStream> side_;
  cudaEvent_t ready_ = nullptr;  // on the caller's default stream, before the call
  cudaEvent_t done_ = nullptr;   // after each enqueue
  bool done_recorded_ = false;
  cudaStream_t last_ = nullptr;  // where the last enqueue ran
  cudaStream_t caller_ = nullptr;
  cudaStream_t run_ = nullptr;
  bool capturing_ = false;
};

}  // namespace torchtrt
