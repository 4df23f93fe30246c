// The stand-in's "engine plan": a small text format (see ../README.md). Parsed by fake_plan.cpp, executed on
// host memory by fake_nvinfer.cpp. Test-only.
#pragma once

#include <NvInferRuntime.h>

#include <array>
#include <map>
#include <string>
#include <vector>

namespace fake_trt {

struct PlanTensor {
  std::string name;
  bool is_input = false;
  // Inputs: a shape tensor (TensorRT's isShapeInferenceIO), whose values the runtime passes in host memory.
  bool shape_tensor = false;
  nvinfer1::DataType dtype = nvinfer1::DataType::kFLOAT;
  // Inputs: the profile shapes (profile 0).
  std::vector<int64_t> min, opt, max;
  // Inputs of plans with several optimization profiles: profiles[p] = {min, opt, max} (profiles[0] is min/opt/max).
  std::vector<std::array<std::vector<int64_t>, 3>> profiles;
  //! min (0), opt (1) or max (2) of profile ``p``.
  const std::vector<int64_t>& range(int32_t p, int which) const {
    if (p > 0 && p < static_cast<int32_t>(profiles.size())) return profiles[p][which];
    return which == 0 ? min : which == 1 ? opt : max;
  }
  // Outputs: op and arguments (input names, then an optional numeric constant).
  std::string op;
  std::vector<std::string> args;
  double constant = 0;
  // Outputs of simulated plans (op "simulated"): the build-time shape, -1 for dimensions given by expressions.
  std::vector<int64_t> shape;
  bool data_dependent() const { return op == "positives"; }
  //! Output of "reshape X S": X's data with the shape given by the values of shape tensor S.
  bool shaped_by_values() const { return op == "reshape"; }
  bool simulated() const { return op == "simulated"; }
};

struct Plan {
  std::string name = "fake";
  std::vector<PlanTensor> tensors;  // engine I/O order, as listed in the plan
  int32_t nb_profiles = 1;          // simulated plans whose metadata lists "profiles": one per entry
  //! Output -> the input it is written into in place (ICudaEngine::getAliasedInputTensor): "alias OUT IN" lines,
  //! or what the simulator says for simulated plans (fake_nvinfer.cpp).
  std::map<std::string, std::string> aliases;
  // Simulated plans (fake_simulated.cpp): the plan bytes, handed to the simulator, and a process-unique id.
  bool simulated = false;
  std::string source;
  int64_t id = 0;
  const PlanTensor* find(const char* name) const;
};

//! Parses ``text``; on failure returns false and says why.
bool parse_plan(const std::string& text, Plan* plan, std::string* why);

//! Whether ``text`` looks like a simulated plan (JSON) rather than a text plan.
bool is_simulated_plan(const std::string& text);
//! Parses the simulated plan of torch_tensorrt.testing._sim_runtime: inputs (dtype, min/opt/max), outputs
//! (dtype, shape with -1 for symbolic dimensions), in metadata order (inputs first). Assigns ``plan->id``.
bool parse_simulated_plan(const std::string& text, Plan* plan, std::string* why);

std::size_t element_size(nvinfer1::DataType t);
bool parse_dtype(const std::string& s, nvinfer1::DataType* out);

nvinfer1::Dims to_dims(const std::vector<int64_t>& v);

}  // namespace fake_trt
