// tensorrt::execute_engine(Tensor[] inputs, __torch__.torch.classes.tensorrt.Engine engine) -> Tensor[]
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/ScalarType.h>

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

//! TensorRT DataType <-> Torch dtype; nullopt for types Torch has no equivalent for (e.g. INT4).
std::optional<at::ScalarType> to_torch_dtype(nvinfer1::DataType t);
std::string trt_dtype_name(nvinfer1::DataType t);
std::string torch_dtype_name(at::ScalarType t);  // "torch.float32"

}  // namespace torchtrt
