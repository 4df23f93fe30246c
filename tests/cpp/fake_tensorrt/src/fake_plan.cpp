// Parser of the stand-in TensorRT's text plan format. Test-only.
#include "fake_plan.h"

#include <sstream>

namespace fake_trt {
namespace {

bool parse_shape(const std::string& s, std::vector<int64_t>* out) {
  out->clear();
  if (s == "-") return true;  // rank 0
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, 'x')) {
    if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos) return false;
    out->push_back(std::stoll(item));
  }
  return !out->empty();
}

}  // namespace

const PlanTensor* Plan::find(const char* name) const {
  if (!name) return nullptr;
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

bool parse_dtype(const std::string& s, nvinfer1::DataType* out) {
  using nvinfer1::DataType;
  static const std::pair<const char*, DataType> table[] = {
      {"float32", DataType::kFLOAT}, {"float16", DataType::kHALF}, {"int8", DataType::kINT8},
      {"int32", DataType::kINT32},   {"bool", DataType::kBOOL},    {"uint8", DataType::kUINT8},
      {"bfloat16", DataType::kBF16}, {"int64", DataType::kINT64},
  };
  for (const auto& [n, t] : table)
    if (s == n) {
      *out = t;
      return true;
    }
  return false;
}

std::size_t element_size(nvinfer1::DataType t) {
  using nvinfer1::DataType;
  switch (t) {
    case DataType::kFLOAT:
    case DataType::kINT32: return 4;
    case DataType::kHALF:
    case DataType::kBF16: return 2;
    case DataType::kINT64: return 8;
    default: return 1;
  }
}

nvinfer1::Dims to_dims(const std::vector<int64_t>& v) {
  nvinfer1::Dims d{};
  d.nbDims = static_cast<int32_t>(v.size());
  for (std::size_t i = 0; i < v.size() && i < static_cast<std::size_t>(nvinfer1::Dims::MAX_DIMS); ++i) d.d[i] = v[i];
  return d;
}

bool parse_plan(const std::string& text, Plan* plan, std::string* why) {
  std::stringstream in(text);
  std::string line;
  int lineno = 0;
  bool header = false;
  auto fail = [&](const std::string& msg) {
    *why = "plan line " + std::to_string(lineno) + ": " + msg;
    return false;
  };
  while (std::getline(in, line)) {
    ++lineno;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line = line.substr(0, hash);
    std::stringstream ls(line);
    std::vector<std::string> w;
    for (std::string tok; ls >> tok;) w.push_back(tok);
    if (w.empty()) continue;
    if (!header) {
      if (w.size() != 2 || w[0] != "torchtrt-fake-plan" || w[1] != "1")
        return fail("not a stand-in TensorRT plan (expected the header 'torchtrt-fake-plan 1')");
      header = true;
      continue;
    }
    if (w[0] == "name" && w.size() == 2) {
      plan->name = w[1];
    } else if (w[0] == "input") {
      if (w.size() != 6 && !(w.size() == 7 && w[6] == "shape"))
        return fail("expected 'input NAME DTYPE MIN OPT MAX [shape]'");
      PlanTensor t;
      t.name = w[1];
      t.is_input = true;
      t.shape_tensor = w.size() == 7;
      if (!parse_dtype(w[2], &t.dtype)) return fail("unknown dtype '" + w[2] + "'");
      if (!parse_shape(w[3], &t.min) || !parse_shape(w[4], &t.opt) || !parse_shape(w[5], &t.max))
        return fail("bad shape (use e.g. 1x2, or - for rank 0)");
      if (t.min.size() != t.max.size() || t.opt.size() != t.max.size()) return fail("min/opt/max ranks differ");
      for (std::size_t i = 0; i < t.min.size(); ++i)
        if (t.min[i] > t.opt[i] || t.opt[i] > t.max[i]) return fail("need min <= opt <= max");
      plan->tensors.push_back(t);
    } else if (w[0] == "output") {
      if (w.size() < 5) return fail("expected 'output NAME DTYPE OP ARGS...'");
      PlanTensor t;
      t.name = w[1];
      if (!parse_dtype(w[2], &t.dtype)) return fail("unknown dtype '" + w[2] + "'");
      t.op = w[3];
      t.args.assign(w.begin() + 4, w.end());
      std::size_t n_inputs = 1;
      if (t.op == "scale_add") {
        if (t.args.size() != 3) return fail("scale_add takes A B K");
        t.constant = std::stod(t.args[2]);
        t.args.pop_back();
        n_inputs = 2;
      } else if (t.op == "reshape") {
        n_inputs = 2;
      } else if (t.op != "copy" && t.op != "positives" && t.op != "hook" && t.op != "noop") {
        return fail("unknown op '" + t.op + "' (scale_add, copy, positives, reshape, noop, hook)");
      }
      if (t.args.size() != n_inputs) return fail("wrong number of arguments for " + t.op);
      plan->tensors.push_back(t);
    } else if (w[0] == "alias") {
      if (w.size() != 3) return fail("expected 'alias OUTPUT INPUT'");
      plan->aliases[w[1]] = w[2];
    } else {
      return fail("unknown directive '" + w[0] + "'");
    }
  }
  if (!header) {
    lineno = 0;
    return fail("empty plan");
  }
  for (const auto& t : plan->tensors) {  // outputs may be listed before the inputs they read
    if (t.shape_tensor && (t.min.size() != 1 || (t.dtype != nvinfer1::DataType::kINT64 &&
                                                 t.dtype != nvinfer1::DataType::kINT32))) {
      *why = "shape tensor '" + t.name + "' must be a 1-D int32 or int64 input";
      return false;
    }
    for (std::size_t k = 0; k < t.args.size(); ++k) {
      const std::string& a = t.args[k];
      const PlanTensor* src = plan->find(a.c_str());
      if (!src || !src->is_input) {
        *why = "output '" + t.name + "' reads '" + a + "', which is not an input of the plan";
        return false;
      }
      const bool shape_arg = t.shaped_by_values() && k == 1;
      if (shape_arg != src->shape_tensor) {
        *why = "output '" + t.name + "': '" + a + (shape_arg ? "' must be a shape tensor" : "' is a shape tensor");
        return false;
      }
      if (t.op != "hook" && !shape_arg && src->dtype != t.dtype) {
        *why = "output '" + t.name + "': op " + t.op + " needs matching dtypes";
        return false;
      }
    }
  }
  for (const auto& [out, in] : plan->aliases) {  // TensorRT writes the output in place into the input
    const PlanTensor* o = plan->find(out.c_str());
    const PlanTensor* i = plan->find(in.c_str());
    if (!o || o->is_input || !i || !i->is_input || i->shape_tensor || o->dtype != i->dtype) {
      *why = "alias '" + out + "' '" + in + "': needs an output and a (non-shape) input of the same dtype";
      return false;
    }
  }
  return true;
}

}  // namespace fake_trt
