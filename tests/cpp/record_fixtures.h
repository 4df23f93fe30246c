// Test records whose metadata lists their bindings (record validation requires the binding names to equal the
// metadata's inputs and outputs). Shapes are left rank-0: the stand-in's text plans carry the real shapes.
#pragma once

#include <string>
#include <vector>

#include "torchtrt/record.h"

namespace torchtrt_test {

inline std::string metadata_json(const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                                 bool simulated = false) {
  auto specs = [](const std::vector<std::string>& names) {
    std::string s = "[";
    for (std::size_t i = 0; i < names.size(); ++i)
      s += std::string(i ? ", " : "") + "{\"name\": \"" + names[i] + "\", \"dtype\": \"float32\", \"shape\": []}";
    return s + "]";
  };
  return "{\"inputs\": " + specs(inputs) + ", \"outputs\": " + specs(outputs) +
      (simulated ? ", \"network\": {}" : "") + "}";
}

//! ``r`` with metadata describing its binding names (and a placeholder network when simulated).
inline torchtrt::EngineRecord with_metadata(torchtrt::EngineRecord r) {
  r.serialized_metadata =
      metadata_json(r.input_binding_names, r.output_binding_names, r.engine_kind == torchtrt::kKindSimulated);
  return r;
}

}  // namespace torchtrt_test
