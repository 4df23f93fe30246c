// Registration of the tensorrt namespace: the Engine TorchBind class and the ops.
//
//   torch.classes.tensorrt.Engine(record: Tensor)   (the framed record, a 1-D uint8 tensor: record.h)
//       name(), input_binding_names(), output_binding_names(), serialize() -> record tensor, header() -> the
//       text fields (ENGINE: the plan's size), device_id() (recorded),
//       device() (where it runs, e.g. "cuda:0"), execute(Tensor[] inputs) -> Tensor[] (execute_engine without the
//       dispatcher: the eager fast path of TorchTensorRTModule; calls from Python to an op with a TorchBind
//       argument pay for a pytree walk looking for fake script objects),
//       engine_kind(), requires_output_allocator(), describe(), __obj_flatten__() (the header), pickling (state =
//       the record tensor; an ABI 2 state, a list of strings, is read too), aliased_io() -> Dict[str, str] (output
//       binding -> the input binding it is written into in place; engine.h)
//   torch.ops.tensorrt.execute_engine(Tensor[] inputs, Engine engine) -> Tensor[]
//   torch.ops.tensorrt.abi_version() -> str
//   torch.ops.tensorrt.record_field_names() -> str[]
//   torch.ops.tensorrt.check_record(Tensor record, bool real_runtime=True) -> ()     (framed, ABI 3 or 4)
//   torch.ops.tensorrt.check_record_list(str[] record, bool real_runtime=True) -> ()  (ABI 2)
//   torch.ops.tensorrt.runtime_flavour() -> str          ("tensorrt", "tensorrt_rtx", or "stand-in" in the test build)
//   torch.ops.tensorrt.runtime_version() -> str          (the loaded TensorRT library's version)
//   torch.ops.tensorrt.set_cudagraphs_mode(int mode) -> ()   0 standard, 1 per-engine graphs, 2 whole graph
//   torch.ops.tensorrt.get_cudagraphs_mode() -> int
//   Engine.set_max_cuda_graphs(int), Engine.cuda_graph_stats() -> [recorded, replays, kept]  (cudagraphs.h)
//   Engine.num_optimization_profiles() -> int, Engine.optimization_profile() -> int (-1: auto),
//   Engine.set_optimization_profile(int index)  (-1: auto; engine.h)
// and torchtrt::runtime_info() (torchtrt/torchtrt.h) for C++ applications.
#include <torch/custom_class.h>
#include <torch/library.h>

#include <tuple>

#include "torchtrt/cudagraphs.h"
#include "torchtrt/engine.h"
#include "torchtrt/execute.h"
#include "torchtrt/record.h"
#include "torchtrt/torchtrt.h"

namespace torchtrt {
namespace {

using EnginePtr = c10::intrusive_ptr<TRTEngine>;

// torch.export lifts the engine through __obj_flatten__: a tuple of (name, value) pairs, here the one pair
// ("serialized_info", header): the record's text fields without the plan (torch.export would fake a tensor, and
// tracing needs only the metadata). The Python fake class (runtime/_execute_op.py, FakeTRTEngine.
// __obj_unflatten__) validates it; the per-field names are record_field_names().
std::tuple<std::tuple<std::string, std::vector<std::string>>> obj_flatten(const EnginePtr& self) {
  return std::make_tuple(std::make_tuple(std::string("serialized_info"), self->header()));
}

EnginePtr make_engine(const c10::IValue& state) { return c10::make_intrusive<TRTEngine>(state); }

void check_record(const at::Tensor& record, bool real_runtime) {
  try {
    TORCH_CHECK_VALUE(record.scalar_type() == at::kByte && record.dim() == 1, "engine record must be a 1-D uint8 tensor");
    const at::Tensor host = record.to(at::kCPU).contiguous();
    check_engine_kind(EngineRecord::from_bytes(reinterpret_cast<const char*>(host.data_ptr<uint8_t>()),
                                               static_cast<std::size_t>(host.numel())),
                      /*stand_in_runtime=*/!real_runtime);
  } catch (const RecordError& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
}

void check_record_list(std::vector<std::string> record, bool real_runtime) {
  try {
    check_engine_kind(EngineRecord::from_list(record), /*stand_in_runtime=*/!real_runtime);
  } catch (const RecordError& e) {
    TORCH_CHECK_VALUE(false, e.what());
  }
}

std::vector<std::string> record_field_names() { return {kFieldNames.begin(), kFieldNames.end()}; }

std::string flavour() { return kStandInTensorRT ? "stand-in" : kTensorRTFlavour; }

}  // namespace

RuntimeInfo runtime_info() { return RuntimeInfo{flavour(), library_version(), kAbiVersion, platform_name()}; }

}  // namespace torchtrt

TORCH_LIBRARY(tensorrt, m) {
  using namespace torchtrt;
  m.class_<TRTEngine>("Engine")
      .def(torch::init([](at::Tensor record) { return make_engine(c10::IValue(std::move(record))); }))
      .def("name", [](const EnginePtr& self) { return self->name(); })
      .def("input_binding_names", [](const EnginePtr& self) { return self->input_names(); })
      .def("output_binding_names", [](const EnginePtr& self) { return self->output_names(); })
      .def("serialize", [](const EnginePtr& self) { return self->serialize(); })
      .def("header", [](const EnginePtr& self) { return self->header(); })
      .def("device_id", [](const EnginePtr& self) { return self->record().device_id; })
      .def("device", [](const EnginePtr& self) { return self->device().str(); })
      .def("execute", [](const EnginePtr& self, std::vector<at::Tensor> inputs) {
        return execute_engine(std::move(inputs), self);
      })
      .def("engine_kind", [](const EnginePtr& self) { return self->record().engine_kind; })
      .def("requires_output_allocator", [](const EnginePtr& self) { return self->uses_output_allocator(); })
      .def("aliased_io", [](const EnginePtr& self) {
        c10::Dict<std::string, std::string> pairs;
        for (const auto& [output, input] : self->aliased_io()) pairs.insert(output, input);
        return pairs;
      })
      .def("describe", [](const EnginePtr& self) { return self->describe(); })
      .def("set_max_cuda_graphs", [](const EnginePtr& self, int64_t n) { self->graphs().set_max_graphs(n); })
      .def("cuda_graph_stats", [](const EnginePtr& self) {
        std::lock_guard<std::mutex> lock(self->graphs().mutex());
        return self->graphs().stats();
      })
      .def("num_optimization_profiles", [](const EnginePtr& self) { return self->num_optimization_profiles(); })
      .def("optimization_profile", [](const EnginePtr& self) { return self->optimization_profile(); })
      .def("set_optimization_profile", [](const EnginePtr& self, int64_t i) { self->set_optimization_profile(i); })
      .def("__obj_flatten__", &obj_flatten)
      .def_pickle([](const EnginePtr& self) { return self->serialize(); },
                  [](c10::IValue state) { return make_engine(state); });

  m.def("execute_engine(Tensor[] inputs, __torch__.torch.classes.tensorrt.Engine engine) -> Tensor[]");
  m.def("abi_version() -> str", [] { return std::string(kAbiVersion); });
  m.def("record_field_names() -> str[]", &record_field_names);
  m.def("check_record(Tensor record, bool real_runtime=True) -> ()", &check_record);
  m.def("check_record_list(str[] record, bool real_runtime=True) -> ()", &check_record_list);
  m.def("runtime_flavour() -> str", &flavour);
  m.def("runtime_version() -> str", &library_version);
  m.def("set_cudagraphs_mode(int mode) -> ()", [](int64_t mode) { set_cudagraphs_mode(mode); });
  m.def("get_cudagraphs_mode() -> int", [] { return static_cast<int64_t>(cudagraphs_mode()); });
}

// One kernel for every backend (CPU and CUDA included): the kernel checks devices itself and says what is
// wrong. A fake (Meta) kernel registered from Python with torch.library.register_fake takes precedence for
// Meta tensors, since a direct registration wins over this alias key.
TORCH_LIBRARY_IMPL(tensorrt, CompositeExplicitAutograd, m) {
  m.impl("execute_engine", &torchtrt::execute_engine);
}
