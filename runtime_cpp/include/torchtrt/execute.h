// tensorrt::execute_engine(Tensor[] inputs, __torch__.torch.classes.tensorrt.Engine engine) -> Tensor[]
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

#include <functional>
#include <optional>
#include <vector>

#include "torchtrt/engine.h"

namespace torchtrt {

//! Runs the engine on ``inputs`` (in input-binding order) and returns the outputs in output-binding order, on
//! the engine's CUDA device: enqueued on the caller's current stream (a side stream for default-stream callers,
//! stream_order.h), outputs allocated on the caller's stream. With the stand-in TensorRT and no GPU: on host
//! memory (see trt.h).
std::vector<at::Tensor> execute_engine(std::vector<at::Tensor> inputs, c10::intrusive_ptr<TRTEngine> engine);

//! Checks the inputs against the engine (count, device, dtype, rank, profile min/max), with errors naming the
//! engine and the binding. ``device`` is where the engine runs (exposed separately so that tests can check the
//! CUDA rules on a machine without a GPU).
void check_inputs(TRTEngine& engine, const std::vector<at::Tensor>& inputs, c10::Device device);

//! Whether ``t`` (a CUDA tensor) must be copied to storage aligned as TensorRT wants (kAddressAlignment).
bool needs_aligned_copy(const at::Tensor& t);

//! One launch's I/O as bound on the engine's context (the steps of execute_engine, shared with the
//! per-engine CUDA graphs of cudagraphs.cpp). Call with the engine's mutex held.
struct BoundCall {
  std::vector<at::Tensor> inputs;        // the inputs as bound (dense)
  std::vector<at::Tensor> outputs;       // undefined where an output allocator provides the output
  std::vector<TorchOutputAllocator*> allocators;
  std::vector<at::Tensor> placeholders;  // non-null addresses for empty tensors, alive until enqueued
  bool uses_allocator() const;
};
//! Sets input shapes and addresses (256-byte aligned copies where needed, shape tensors on the host, output
//! shapes inferred from their values) and the outputs' addresses: ``outputs`` when given (static buffers of
//! the same shapes), else new tensors; data-dependent outputs get an output allocator (refused inside a CUDA
//! graph capture, as are device shape tensors).
BoundCall bind_call(TRTEngine& engine, const std::vector<at::Tensor>& inputs, c10::Device device,
                    const std::vector<at::Tensor>* outputs = nullptr);
//! enqueueV3 on ``stream`` (null with the stand-in on the host).
void enqueue_call(TRTEngine& engine, cudaStream_t stream);
//! ``launch(stream)`` -- work that uses the engine's execution context -- on the stream StreamOrder picks for the
//! caller's current stream (stream_order.h), with the stream bookkeeping ended on every path out; on the host
//! (stand-in without a GPU) ``launch(nullptr)``.
void run_ordered(TRTEngine& engine, c10::Device device, const std::function<void(cudaStream_t)>& launch);
//! enqueue_call through run_ordered.
void enqueue_ordered(TRTEngine& engine, c10::Device device);
//! The outputs of an enqueued call (those of output allocators filled in).
std::vector<at::Tensor> finish_call(TRTEngine& engine, BoundCall& call);

//! TensorRT DataType <-> Torch dtype; nullopt for types Torch has no equivalent for (e.g. INT4).
std::optional<at::ScalarType> to_torch_dtype(nvinfer1::DataType t);
std::string trt_dtype_name(nvinfer1::DataType t);
std::string torch_dtype_name(at::ScalarType t);  // "torch.float32"

}  // namespace torchtrt
