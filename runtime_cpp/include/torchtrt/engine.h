// torch.classes.tensorrt.Engine: a deserialized TensorRT engine built from (and serialized back to) the
// engine record. Registered in register.cpp; executed by execute_engine (execute.h).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/custom_class.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "torchtrt/cudagraphs.h"
#include "torchtrt/record.h"
#include "torchtrt/runtime_cache.h"
#include "torchtrt/stream_order.h"
#include "torchtrt/trt.h"

namespace torchtrt {

//! IOutputAllocator that hands TensorRT a Torch byte buffer on the engine's device and keeps the shape
//! TensorRT reports, so that outputs with data-dependent shapes become ordinary tensors. Only
//! reallocateOutputAsync is implemented (reallocateOutput is deprecated since TensorRT 10.0 and will go).
class TorchOutputAllocator final : public nvinfer1::IOutputAllocator {
 public:
  explicit TorchOutputAllocator(c10::Device device) : device_(device) {}
  void* reallocateOutputAsync(char const* tensorName, void* currentMemory, uint64_t size, uint64_t alignment,
                              cudaStream_t stream) override;
  void notifyShape(char const* tensorName, nvinfer1::Dims const& dims) noexcept override;

  //! Forget the previous call's buffer and shape (the previous output belongs to the caller now).
  void reset();
  bool shape_known() const { return shape_known_; }
  //! The output: the buffer viewed as ``dtype`` with the notified shape.
  at::Tensor result(at::ScalarType dtype) const;

 private:
  c10::Device device_;
  at::Tensor buffer_;
  int64_t offset_ = 0;  // bytes skipped to honour an alignment above the allocator's
  std::vector<int64_t> shape_;
  bool shape_known_ = false;
};

class TRTEngine : public torch::CustomClassHolder {
 public:
  //! Validates the record (ValueError on problems), runs the load-time checks (platform, flavour, version:
  //! errors or warnings naming built-for vs here), selects the device (compat.h), deserializes the plan on it
  //! and checks the record's binding names against the engine's I/O tensors. ``state``: the framed record as a
  //! 1-D uint8 tensor (ABI 4, or 3), or an ABI 2 list of strings (files saved before ABI 3).
  explicit TRTEngine(const c10::IValue& state);
  ~TRTEngine() override;

  const EngineRecord& record() const { return record_; }
  const std::string& name() const { return record_.name; }
  const std::vector<std::string>& input_names() const { return record_.input_binding_names; }
  const std::vector<std::string>& output_names() const { return record_.output_binding_names; }
  //! The framed record (ABI 4: the plan packed as it was read, see EngineRecord::packing) as a 1-D CPU uint8
  //! tensor owning the bytes.
  at::Tensor serialize() const;
  //! The record's text fields, ENGINE replaced by the plan's size (what __obj_flatten__ gives torch.export).
  std::vector<std::string> header() const { return record_.header(); }
  //! Where inputs and outputs live: the selected CUDA device, or the CPU (stand-in TensorRT without a GPU).
  c10::Device device() const { return device_; }
  //! Whether outputs are allocated by TensorRT through IOutputAllocator.
  bool uses_output_allocator() const { return uses_output_allocator_; }
  //! Whether input ``i`` is a shape tensor (TensorRT reads its values from host memory).
  bool is_shape_input(std::size_t i) const { return shape_inputs_[i] != 0; }
  bool has_shape_inputs() const { return has_shape_inputs_; }
  //! Output binding -> the input binding it shares memory with (ICudaEngine::getAliasedInputTensor, read at
  //! load; e.g. the cache of a KV-cache update, written in place): execute_engine binds such an output to the
  //! input's memory and returns the input tensor itself. Empty when built against headers without the query
  //! (TensorRT < 10.15, TORCHTRT_HAS_ALIASED_IO in trt.h). An engine using an output allocator may alias nothing.
  std::map<std::string, std::string> aliased_io() const;
  //! The same pairs as (output index, input index), in output order (what execution reads).
  const std::vector<std::pair<std::size_t, std::size_t>>& aliased() const { return aliased_; }
  std::string describe() const;

  nvinfer1::ICudaEngine& cuda_engine() { return *engine_; }
  //! The execution context, created on first use. Call with mutex() held.
  nvinfer1::IExecutionContext& context();
  //! The allocator of an output (created on first use). Call with mutex() held.
  TorchOutputAllocator& output_allocator(const std::string& output_name);
  //! Whether an earlier call created (and so set on the context) the allocator of this output.
  bool has_output_allocator(const std::string& output_name) const { return allocators_.count(output_name) > 0; }
  //! Stream and event bookkeeping of executions on a CUDA device. Call with mutex() held.
  StreamOrder& stream_order() { return *stream_order_; }
  std::mutex& mutex() { return mutex_; }
  //! The engine's per-shape-set CUDA graphs (cudagraphs.h).
  GraphCache& graphs() { return graphs_; }

  // Optimization profiles (the rule of python/torch_tensorrt/runtime/_profiles.py, with the same messages).
  //! Profiles of the engine (getNbOptimizationProfiles).
  int64_t num_optimization_profiles() const { return static_cast<int64_t>(profile_bounds_.size()) + (profile_bounds_.empty() ? 1 : 0); }
  //! The pinned profile, -1 for "auto" (the first profile whose [min, max] contains the input shapes).
  int64_t optimization_profile() const { return profile_request_; }
  //! Pin profile ``index`` (-1: auto); IndexError when the engine has several profiles and not that one. An
  //! engine with one profile ignores the pin. Takes the mutex.
  void set_optimization_profile(int64_t index);
  //! The profile these inputs run in (errors name the profile, the binding, the dimension and the range).
  int32_t select_profile(const std::vector<at::Tensor>& inputs) const;
  //! Switch the context to ``profile`` (before the input shapes are set). Call with mutex() held.
  void use_profile(int32_t profile, cudaStream_t stream);
  //! Input ``i``'s shape range over all profiles (the range check of check_inputs).
  const nvinfer1::Dims& input_min(std::size_t i) const { return input_min_[i]; }
  const nvinfer1::Dims& input_max(std::size_t i) const { return input_max_[i]; }

  //! "engine 'name'" for error messages.
  std::string label() const { return "engine " + quoted(record_.name); }

 private:
  void check_bindings();
  void read_profiles();
  void read_aliases();

  EngineRecord record_;
  c10::Device device_;
  bool uses_output_allocator_ = false;
  std::vector<char> shape_inputs_;
  bool has_shape_inputs_ = false;
  std::vector<std::pair<std::size_t, std::size_t>> aliased_;
  // per profile (engines with several), each input's (min, max); the union over profiles per input
  std::vector<std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>>> profile_bounds_;
  std::vector<nvinfer1::Dims> input_min_, input_max_;
  int64_t profile_request_ = -1;
  int32_t context_profile_ = 0;
  std::unique_ptr<StreamOrder> stream_order_;
  // Members are destroyed in reverse order: the context (which points at the allocators and the runtime
  // configuration) first, then the allocators, the configuration, the runtime cache, the engine, and last the
  // runtime that deserialized it.
  TrtUniquePtr<nvinfer1::IRuntime> runtime_;
  TrtUniquePtr<nvinfer1::ICudaEngine> engine_;
  std::shared_ptr<RuntimeCache> runtime_cache_;  // TensorRT-RTX only; null otherwise
#ifdef TORCHTRT_TENSORRT_RTX
  TrtUniquePtr<nvinfer1::IRuntimeConfig> runtime_config_;
#endif
  std::map<std::string, std::unique_ptr<TorchOutputAllocator>> allocators_;
  TrtUniquePtr<nvinfer1::IExecutionContext> context_;
  std::mutex mutex_;
  GraphCache graphs_;  // destroyed first: its graphs launch the engine's kernels
};

}  // namespace torchtrt
