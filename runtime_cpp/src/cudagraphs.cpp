// CUDA graphs: the process-wide mode and per-engine graphs (see cudagraphs.h for the contract).
#include "torchtrt/cudagraphs.h"

#include <ATen/Functions.h>
#include <c10/util/Exception.h>

#include <atomic>
#include <set>

#include "torchtrt/engine.h"
#include "torchtrt/execute.h"

// Real builds capture with ATen's CUDAGraph. TORCHTRT_CHECK_CUDA_GRAPH_CODE compiles that code into a stand-in
// build too: the test build sets it where torch has CUDA, and the stand-in's CUDA-mode launches are captured and
// replayed for real; elsewhere the stand-in's "graph" is the launch on the static buffers.
#if !defined(TORCHTRT_FAKE_TENSORRT) || defined(TORCHTRT_CHECK_CUDA_GRAPH_CODE)
#define TORCHTRT_REAL_CUDA_GRAPHS 1
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace torchtrt {
namespace {

std::atomic<int64_t> g_mode{0};

// Every live engine's cache, so that leaving the graph modes frees their graphs.
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::set<GraphCache*>& registry() {
  static std::set<GraphCache*> caches;
  return caches;
}

}  // namespace

CudaGraphsMode cudagraphs_mode() { return static_cast<CudaGraphsMode>(g_mode.load(std::memory_order_relaxed)); }

void set_cudagraphs_mode(int64_t mode) {
  TORCH_CHECK_VALUE(mode >= 0 && mode <= 2, "tensorrt::set_cudagraphs_mode: mode must be 0 (standard), 1 "
                    "(per-engine graphs) or 2 (whole graph), got ", mode);
#ifdef TORCHTRT_REAL_CUDA_GRAPHS
  if (!kStandInTensorRT)
    TORCH_CHECK(mode == 0 || c10::cuda::device_count() > 0,
                "tensorrt::set_cudagraphs_mode: CUDA graphs need a CUDA GPU, and this process sees none");
#endif
  const int64_t previous = g_mode.exchange(mode);
  if (mode == 0 && previous != 0) {
    std::lock_guard<std::mutex> lock(registry_mutex());
    for (GraphCache* cache : registry()) {
      std::lock_guard<std::mutex> cache_lock(cache->mutex());
      cache->clear();
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// GraphCache

GraphCache::GraphCache() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().insert(this);
}

GraphCache::~GraphCache() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().erase(this);
}

std::vector<int64_t> GraphCache::key_of(const std::vector<at::Tensor>& inputs) {
  std::vector<int64_t> key;
  for (const at::Tensor& t : inputs) {
    key.push_back(t.dim());
    for (int64_t d : t.sizes()) key.push_back(d);
  }
  return key;
}

GraphCache::Entry* GraphCache::find(const std::vector<at::Tensor>& inputs) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    // Compared without building a key: rank and extents of each input in turn.
    std::size_t k = 0;
    bool same = true;
    for (std::size_t i = 0; same && i < inputs.size(); ++i) {
      const at::IntArrayRef sizes = inputs[i].sizes();
      same = k < it->key.size() && it->key[k++] == static_cast<int64_t>(sizes.size());
      for (std::size_t d = 0; same && d < sizes.size(); ++d) same = it->key[k++] == sizes[d];
    }
    if (same && k == it->key.size()) {
      if (it != entries_.begin()) entries_.splice(entries_.begin(), entries_, it);
      return &entries_.front();
    }
  }
  return nullptr;
}

GraphCache::Entry& GraphCache::add(Entry entry) {
  entries_.push_front(std::move(entry));
  ++records_;
  while (static_cast<int64_t>(entries_.size()) > max_graphs_) entries_.pop_back();
  return entries_.front();
}

void GraphCache::clear() { entries_.clear(); }

void GraphCache::set_max_graphs(int64_t n) {
  TORCH_CHECK_VALUE(n >= 1, "max_cuda_graphs must be >= 1, got ", n);
  std::lock_guard<std::mutex> lock(mutex_);
  max_graphs_ = n;
  while (static_cast<int64_t>(entries_.size()) > max_graphs_) entries_.pop_back();
}

std::vector<int64_t> GraphCache::stats() const {
  return {records_, replays_, static_cast<int64_t>(entries_.size())};
}

bool GraphCache::mark_ungraphable() {
  const bool first = !ungraphable_;
  ungraphable_ = true;
  entries_.clear();
  return first;
}

// ---------------------------------------------------------------------------------------------------------
// Per-engine graphs

namespace {

void warn_ungraphable(TRTEngine& engine) {
  if (engine.graphs().mark_ungraphable())
    TORCH_WARN(engine.label(),
               !engine.aliased().empty() ? " writes outputs in place into its inputs (a replay would update the "
               "graph's copies, not the caller's tensors)" : engine.has_shape_inputs() ? " has shape-tensor inputs "
               "(its output shapes depend on their values)" : " has outputs with data-dependent shapes",
               ": it runs without a CUDA graph in CUDA-graphs mode");
}

std::vector<at::Tensor> fresh_outputs(const GraphCache::Entry& entry) {
  std::vector<at::Tensor> out;
  out.reserve(entry.outputs.size());
  for (const at::Tensor& t : entry.outputs) out.push_back(t.clone());
  return out;
}

}  // namespace

std::optional<std::vector<at::Tensor>> execute_with_graph(TRTEngine& engine, const std::vector<at::Tensor>& inputs,
                                                          c10::Device device) {
  GraphCache& cache = engine.graphs();
  std::lock_guard<std::mutex> lock(cache.mutex());
  if (cache.ungraphable()) return std::nullopt;
  // Output shapes that depend on values (output allocator, shape-tensor inputs) cannot be replayed by shape set,
  // nor outputs that are the caller's inputs updated in place (aliased_io).
  if (engine.uses_output_allocator() || engine.has_shape_inputs() || !engine.aliased().empty()) {
    warn_ungraphable(engine);
    return std::nullopt;
  }

  if (GraphCache::Entry* entry = cache.find(inputs)) {  // replay
    for (std::size_t i = 0; i < inputs.size(); ++i) entry->inputs[i].copy_(inputs[i]);
#ifdef TORCHTRT_REAL_CUDA_GRAPHS
    if (entry->graph) {
      // The replay uses the execution context's memory: ordered like an enqueue (a side stream for
      // default-stream callers, the done event after it), so an eager call on another stream waits for it.
      run_ordered(engine, device, [&](cudaStream_t stream) {
        c10::cuda::CUDAStreamGuard on(c10::cuda::getStreamFromExternal(stream, device.index()));
        entry->graph->replay();
      });
      cache.count_replay();
      return fresh_outputs(*entry);
    }
#endif
    // Stand-in: the graph is the launch on the static buffers.
    bind_call(engine, entry->inputs, device, &entry->outputs);
    enqueue_ordered(engine, device);
    cache.count_replay();
    return fresh_outputs(*entry);
  }

  // Record: static copies of the inputs, outputs bound where the graph will write them.
  GraphCache::Entry entry;
  entry.key = GraphCache::key_of(inputs);
  for (const at::Tensor& t : inputs) entry.inputs.push_back(t.clone(at::MemoryFormat::Contiguous));
  BoundCall call = bind_call(engine, entry.inputs, device);
  if (call.uses_allocator()) {  // an output's shape is only known after the launch
    enqueue_ordered(engine, device);
    std::vector<at::Tensor> outputs = finish_call(engine, call);
    warn_ungraphable(engine);
    return outputs;
  }
  // The first launch runs plainly (TensorRT may finish setting up the context there, which a capture must not
  // see) and computes this call's outputs; on the stream StreamOrder picks (stream_order.h).
  enqueue_ordered(engine, device);
  entry.outputs = std::move(call.outputs);
#ifdef TORCHTRT_REAL_CUDA_GRAPHS
  if (device.is_cuda()) {  // real TensorRT, or the stand-in in its CUDA mode (whose launches can be captured)
    const c10::cuda::CUDAStream current = c10::cuda::getCurrentCUDAStream(device.index());
    const c10::cuda::CUDAStream side = c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device.index());
    at::cuda::CUDAEvent ready;
    ready.record(current);
    ready.block(side);
    auto graph = std::make_shared<at::cuda::CUDAGraph>();
    {
      c10::cuda::CUDAStreamGuard on_side(side);
      graph->capture_begin();
      Logger::take_last_error();
      const bool ok = engine.context().enqueueV3(side.stream());
      graph->capture_end();
      TORCH_CHECK(ok, engine.label(), ": TensorRT failed to enqueue the engine while recording its CUDA graph",
                  trt_said());
    }
    at::cuda::CUDAEvent captured;
    captured.record(side);
    captured.block(current);
    entry.graph = std::move(graph);
  }
#endif
  return fresh_outputs(cache.add(std::move(entry)));
}

}  // namespace torchtrt
