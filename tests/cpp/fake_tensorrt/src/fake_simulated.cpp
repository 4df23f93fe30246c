// Simulated plans in the stand-in TensorRT. Test-only.
//
// The test build of the C++ runtime hands the stand-in, for a record built under torch_tensorrt.testing.simulate(),
// the simulated plan of torch_tensorrt.testing._sim_runtime: {"format": "torch_tensorrt.simulated_plan",
// "metadata": EngineMetadata JSON}. This file reads the I/O tensors from it with a small JSON reader; what the
// network computes (and the concrete output shapes) is left to the simulator registered through the C API
// (torchtrt_fake_set_simulator), which evaluates the recorded network in Python.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <utility>

#include "fake_plan.h"

namespace fake_trt {
namespace {

constexpr char kFormat[] = "torch_tensorrt.simulated_plan";
std::atomic<int64_t> g_next_id{1};

//! A parsed JSON value (only what plans need: no number precision beyond int64/double).
struct Json {
  enum Kind { kNull, kBool, kNumber, kString, kArray, kObject } kind = kNull;
  bool boolean = false;
  bool integral = false;
  int64_t integer = 0;
  std::string text;  // strings
  std::vector<Json> items;  // arrays
  std::vector<std::pair<std::string, Json>> members;  // objects
  const Json* get(const std::string& key) const {
    for (const auto& [k, v] : members)
      if (k == key) return &v;
    return nullptr;
  }
};

class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  bool document(Json* out, std::string* why) {
    if (!value(out, 0) || (skip(), pos_ != s_.size())) {
      *why = "invalid JSON at byte " + std::to_string(pos_) + (error_.empty() ? "" : ": " + error_);
      return false;
    }
    return true;
  }

 private:
  void skip() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) ++pos_;
  }
  bool fail(const std::string& msg) {
    if (error_.empty()) error_ = msg;
    return false;
  }
  bool literal(const char* word) {
    const std::string w(word);
    if (s_.compare(pos_, w.size(), w) != 0) return fail("unexpected token");
    pos_ += w.size();
    return true;
  }
  bool value(Json* out, int depth) {
    if (depth > 256) return fail("nesting too deep");
    skip();
    if (pos_ >= s_.size()) return fail("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') return out->kind = Json::kString, string(&out->text);
    if (c == 't') return out->kind = Json::kBool, out->boolean = true, literal("true");
    if (c == 'f') return out->kind = Json::kBool, literal("false");
    if (c == 'n') return out->kind = Json::kNull, literal("null");
    return number(out);
  }
  bool number(Json* out) {
    const std::size_t start = pos_;
    while (pos_ < s_.size() && std::string("+-0123456789.eE").find(s_[pos_]) != std::string::npos) ++pos_;
    const std::string tok = s_.substr(start, pos_ - start);
    if (tok.empty()) return fail("unexpected character");
    out->kind = Json::kNumber;
    out->integral = tok.find_first_of(".eE") == std::string::npos;
    char* end = nullptr;
    if (out->integral) out->integer = std::strtoll(tok.c_str(), &end, 10);
    else std::strtod(tok.c_str(), &end);
    return *end == '\0' || fail("bad number '" + tok + "'");
  }
  bool string(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < s_.size() && s_[pos_] != '"') {
      char c = s_[pos_++];
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= s_.size()) return fail("unterminated escape");
      c = s_[pos_++];
      switch (c) {
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'u': {
          if (pos_ + 4 > s_.size()) return fail("short \\u escape");
          // No std::stoul here: this runs inside deserializeCudaEngine (noexcept), where a throw aborts.
          unsigned cp = 0;
          for (std::size_t k = 0; k < 4; ++k) {
            const char h = s_[pos_ + k];
            const int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (v < 0) return fail("bad \\u escape");
            cp = cp * 16 + static_cast<unsigned>(v);
          }
          pos_ += 4;
          // Names in plans are ASCII; other code points are kept as UTF-8 of the BMP code unit.
          if (cp < 0x80) out->push_back(static_cast<char>(cp));
          else if (cp < 0x800) out->append({static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))});
          else out->append({static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
                            static_cast<char>(0x80 | (cp & 0x3F))});
          break;
        }
        default: out->push_back(c);  // \" \\ \/
      }
    }
    if (pos_ >= s_.size()) return fail("unterminated string");
    ++pos_;
    return true;
  }
  bool array(Json* out, int depth) {
    out->kind = Json::kArray;
    ++pos_;
    skip();
    if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, true;
    while (true) {
      out->items.emplace_back();
      if (!value(&out->items.back(), depth + 1)) return false;
      skip();
      if (pos_ < s_.size() && s_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < s_.size() && s_[pos_] == ']') return ++pos_, true;
      return fail("expected ',' or ']'");
    }
  }
  bool object(Json* out, int depth) {
    out->kind = Json::kObject;
    ++pos_;
    skip();
    if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, true;
    while (true) {
      skip();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name");
      std::string key;
      if (!string(&key)) return false;
      skip();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      out->members.emplace_back(std::move(key), Json{});
      if (!value(&out->members.back().second, depth + 1)) return false;
      skip();
      if (pos_ < s_.size() && s_[pos_] == ',') { ++pos_; continue; }
      if (pos_ < s_.size() && s_[pos_] == '}') return ++pos_, true;
      return fail("expected ',' or '}'");
    }
  }

  const std::string& s_;
  std::size_t pos_ = 0;
  std::string error_;
};

//! A list of ints; ``symbolic`` (when given) accepts strings (shape expressions) as -1.
bool int_list(const Json* v, std::vector<int64_t>* out, bool symbolic) {
  if (!v || v->kind != Json::kArray) return false;
  out->clear();
  for (const auto& d : v->items) {
    if (d.kind == Json::kNumber && d.integral) out->push_back(d.integer);
    else if (symbolic && d.kind == Json::kString) out->push_back(-1);
    else return false;
  }
  return true;
}

bool read_tensor(const Json& spec, bool is_input, PlanTensor* t, std::string* why) {
  const Json* name = spec.get("name");
  const Json* dtype = spec.get("dtype");
  if (!name || name->kind != Json::kString || !dtype || dtype->kind != Json::kString) {
    *why = "simulated plan: a tensor spec lacks 'name' or 'dtype'";
    return false;
  }
  t->name = name->text;
  t->is_input = is_input;
  const std::string where = "simulated plan: tensor '" + t->name + "'";
  if (!parse_dtype(dtype->text, &t->dtype)) return *why = where + ": unsupported dtype '" + dtype->text + "'", false;
  if (!int_list(spec.get("shape"), &t->shape, /*symbolic=*/true)) return *why = where + ": bad 'shape'", false;
  if (!is_input) {
    t->op = "simulated";
    return true;
  }
  const bool dynamic = std::find(t->shape.begin(), t->shape.end(), -1) != t->shape.end();
  auto profile = [&](const char* key, std::vector<int64_t>* out) {
    const Json* v = spec.get(key);
    if (v && v->kind != Json::kNull) return int_list(v, out, false) && out->size() == t->shape.size();
    *out = t->shape;  // a static input may have no profile
    return !dynamic;
  };
  if (!profile("min", &t->min) || !profile("opt", &t->opt) || !profile("max", &t->max))
    return *why = where + ": missing or bad profile shapes (min/opt/max)", false;
  t->shape.clear();
  return true;
}

}  // namespace

bool is_simulated_plan(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string::npos && text[first] == '{';
}

bool parse_simulated_plan(const std::string& text, Plan* plan, std::string* why) {
  Json doc;
  if (!Reader(text).document(&doc, why)) return false;
  const Json* format = doc.get("format");
  const Json* meta = doc.get("metadata");
  if (doc.kind != Json::kObject || !format || format->kind != Json::kString || format->text != kFormat || !meta ||
      meta->kind != Json::kObject) {
    *why = std::string("not a simulated plan (expected {\"format\": \"") + kFormat + "\", \"metadata\": {...}})";
    return false;
  }
  const Json* network = meta->get("network");
  if (!network || network->kind != Json::kObject) {
    *why = "simulated plan has no recorded network (metadata['network'])";
    return false;
  }
  const Json* name = network->get("name");
  plan->name = name && name->kind == Json::kString && !name->text.empty() ? name->text : "simulated";
  for (const auto& [key, is_input] : {std::pair<const char*, bool>{"inputs", true}, {"outputs", false}}) {
    const Json* specs = meta->get(key);
    if (!specs || specs->kind != Json::kArray) return *why = std::string("simulated plan: no '") + key + "' list", false;
    for (const auto& spec : specs->items) {
      PlanTensor t;
      if (!read_tensor(spec, is_input, &t, why)) return false;
      plan->tensors.push_back(std::move(t));
    }
  }
  // Several optimization profiles: metadata["profiles"][p][input name] = {"min", "opt", "max"}.
  const Json* profiles = meta->get("profiles");
  if (profiles && profiles->kind == Json::kArray && !profiles->items.empty()) {
    plan->nb_profiles = static_cast<int32_t>(profiles->items.size());
    for (auto& t : plan->tensors) {
      if (!t.is_input) continue;
      for (const auto& profile : profiles->items) {
        const Json* entry = profile.kind == Json::kObject ? profile.get(t.name) : nullptr;
        std::array<std::vector<int64_t>, 3> r;
        const char* keys[3] = {"min", "opt", "max"};
        for (int k = 0; k < 3; ++k)
          if (!entry || !int_list(entry->get(keys[k]), &r[k], false) || r[k].size() != t.min.size())
            return *why = "simulated plan: bad profiles entry for input '" + t.name + "'", false;
        t.profiles.push_back(std::move(r));
      }
      t.min = t.profiles[0][0];
      t.opt = t.profiles[0][1];
      t.max = t.profiles[0][2];
    }
  }
  plan->simulated = true;
  plan->source = text;
  plan->id = g_next_id++;
  return true;
}

}  // namespace fake_trt
