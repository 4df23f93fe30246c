// StreamOrder: the stream an execution runs on and the events around it (see stream_order.h).
#include "torchtrt/stream_order.h"

#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>

namespace torchtrt {

StreamOrder::~StreamOrder() {
  if (!ready_ && !done_) return;
  c10::cuda::CUDAGuard guard(device_);
  // Never throw from a destructor; a failing destroy only leaks an event.
  if (ready_) (void)cudaEventDestroy(ready_);
  if (done_) (void)cudaEventDestroy(done_);
}

bool StreamOrder::is_default_stream(cudaStream_t s) {
  return s == nullptr || s == cudaStreamLegacy || s == cudaStreamPerThread;
}

cudaEvent_t StreamOrder::make_event() {
  cudaEvent_t e = nullptr;
  C10_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  return e;
}

cudaStream_t StreamOrder::begin(const c10::cuda::CUDAStream& caller) {
  caller_ = run_ = caller.stream();
  capturing_ = false;
  if (is_default_stream(caller_)) {
    // No capture happens on the legacy default stream. The side stream starts once the caller's work is done.
    if (!side_) side_ = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device_);
    if (!ready_) ready_ = make_event();
    run_ = side_->stream();
    C10_CUDA_CHECK(cudaEventRecord(ready_, caller_));
    C10_CUDA_CHECK(cudaStreamWaitEvent(run_, ready_, 0));
  } else {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    C10_CUDA_CHECK(cudaStreamIsCapturing(run_, &status));
    capturing_ = status != cudaStreamCaptureStatusNone;
  }
  if (done_recorded_ && last_ != run_ && !capturing_) C10_CUDA_CHECK(cudaStreamWaitEvent(run_, done_, 0));
  return run_;
}

void StreamOrder::end() {
  last_ = run_;
  if (capturing_) {  // the event would belong to the capture; the next eager call needs no wait (see header)
    done_recorded_ = false;
    return;
  }
  if (!done_) done_ = make_event();
  C10_CUDA_CHECK(cudaEventRecord(done_, run_));
  done_recorded_ = true;
  if (run_ != caller_) C10_CUDA_CHECK(cudaStreamWaitEvent(caller_, done_, 0));
}

}  // namespace torchtrt
