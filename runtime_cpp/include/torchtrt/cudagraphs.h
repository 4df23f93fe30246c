// CUDA graphs in the C++ runtime: the process-wide mode and each engine's per-shape-set graphs.
//
// The mode mirrors the Python runtime's (torch_tensorrt.runtime._cudagraphs), which pushes its value through
// tensorrt::set_cudagraphs_mode(int) on every change: 0 standard, 1 per-engine graphs, 2 whole graph (engines
// run plainly: a whole-graph capture around them records their launches).
//
// Per-engine graphs (mode 1): an engine records a CUDA graph on its first call for an input shape set -- into
// static input and output buffers -- and replays it on later calls with that shape set (inputs copied into the
// static buffers, outputs returned as new tensors). At most max_graphs shape sets are kept per engine (least
// recently used dropped); all are freed when the mode goes back to 0. An engine whose outputs have
// data-dependent shapes, or that writes outputs in place into its inputs (aliased_io), is never graphed (one
// warning per engine). With the stand-in TensorRT (host memory, no
// CUDA) the "graph" is the engine's launch on the static buffers, so the record/replay/re-record bookkeeping
// and the static-buffer semantics are testable on machines without a GPU.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

namespace at::cuda {
struct CUDAGraph;
}

namespace torchtrt {

enum class CudaGraphsMode : int64_t { kStandard = 0, kPerEngine = 1, kWholeGraph = 2 };

CudaGraphsMode cudagraphs_mode();
//! Sets the mode (ValueError for values other than 0, 1, 2); leaving the graph modes frees every engine's graphs.
void set_cudagraphs_mode(int64_t mode);

//! One engine's recorded graphs, one per input shape set (most recently used first).
class GraphCache {
 public:
  struct Entry {
    std::vector<int64_t> key;          // the input shape set: rank, extents, rank, extents, ...
    std::vector<at::Tensor> inputs;    // static input buffers (dense)
    std::vector<at::Tensor> outputs;   // static output buffers, written by every replay
    std::shared_ptr<at::cuda::CUDAGraph> graph;  // null with the stand-in TensorRT
  };

  GraphCache();
  ~GraphCache();
  GraphCache(const GraphCache&) = delete;
  GraphCache& operator=(const GraphCache&) = delete;

  //! The entry recorded for these inputs' shapes (made most recently used), or null.
  Entry* find(const std::vector<at::Tensor>& inputs);
  //! Keeps ``entry`` as the most recently used one, dropping the least recently used beyond max_graphs().
  Entry& add(Entry entry);
  void clear();

  int64_t max_graphs() const { return max_graphs_; }
  void set_max_graphs(int64_t n);  // ValueError below 1
  //! [graphs recorded, replays, graphs kept] since the engine was created.
  std::vector<int64_t> stats() const;
  void count_replay() { ++replays_; }

  //! Data-dependent outputs: the engine runs without graphs. Returns true the first time (warn then).
  bool mark_ungraphable();
  bool ungraphable() const { return ungraphable_; }

  std::mutex& mutex() { return mutex_; }

  static std::vector<int64_t> key_of(const std::vector<at::Tensor>& inputs);

 private:
  std::list<Entry> entries_;
  int64_t max_graphs_ = 8;
  int64_t records_ = 0;
  int64_t replays_ = 0;
  bool ungraphable_ = false;
  std::mutex mutex_;
};

class TRTEngine;

//! Mode 1's execution, called by execute_engine with the engine's mutex held and the inputs checked: replays
//! (or records) the graph of the inputs' shape set and returns new output tensors; nullopt when the engine
//! cannot be graphed (data-dependent output shapes), and the caller runs it plainly.
std::optional<std::vector<at::Tensor>> execute_with_graph(TRTEngine& engine, const std::vector<at::Tensor>& inputs,
                                                          c10::Device device);

}  // namespace torchtrt
