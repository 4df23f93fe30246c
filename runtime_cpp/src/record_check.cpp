// Shape expressions and the metadata schema; mirrors python/torch_tensorrt/runtime/_record_check.py (same
// algorithm step for step, so that both report the same first problem with the same words). The strict JSON
// parser and the UTF-8 check are in record_json.cpp.
#include "torchtrt/record_check.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "torchtrt/record.h"

namespace torchtrt {
namespace {

constexpr std::array<const char*, 9> kDtypes = {"float32", "float16", "bfloat16", "int8", "uint8",
                                               "int32",   "int64",   "bool",     "float8_e4m3fn"};
constexpr std::array<const char*, 6> kSpecKeys = {"name", "dtype", "shape", "min", "opt", "max"};
constexpr std::array<const char*, 8> kMetadataKeys = {"inputs", "outputs", "symbols", "settings", "network",
                                                     "weight_map", "torch_version", "profiles"};
constexpr std::array<const char*, 3> kProfileKeys = {"min", "opt", "max"};
constexpr std::size_t kMaxProfiles = 64;  // MAX_PROFILES
constexpr std::array<const char*, 35> kKeywords = {
    "False", "None",   "True",    "and",      "as",     "assert", "async", "await",  "break",
    "class", "continue", "def",   "del",      "elif",   "else",   "except", "finally", "for",
    "from",  "global", "if",      "import",   "in",     "is",     "lambda", "nonlocal", "not",
    "or",    "pass",   "raise",   "return",   "try",    "while",  "with",  "yield"};

template <std::size_t N>
bool one_of(const std::string& s, const std::array<const char*, N>& table) {
  return std::any_of(table.begin(), table.end(), [&](const char* t) { return s == t; });
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
// ------------------------------------------------------------------------------------------ shape expressions
struct Token {
  enum Kind { Int, Name, Op, End } kind;
  std::string text;
  std::size_t pos;
};

std::size_t utf8_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// Mirrors _Expr in _record_check.py. Errors are recorded in problem_ and unwind by returning false.
class ShapeExprParser {
 public:
  explicit ShapeExprParser(const std::string& text) : text_(text) {}

  std::string run() {
    if (!tokenize()) return problem_;
    bool zero = false;
    if (!expr(0, &zero)) return problem_;
    if (tok().kind != Token::End) {
      fail("unexpected " + quoted(tok().text) + " at position " + std::to_string(tok().pos));
      return problem_;
    }
    return "";
  }

 private:
  bool fail(const std::string& what) {
    problem_ = "shape expression " + quoted(text_) + ": " + what;
    return false;
  }
  bool tokenize() {
    std::size_t i = 0;
    const std::size_t n = text_.size();
    while (true) {
      while (i < n && text_[i] == ' ') ++i;
      if (i >= n) break;
      const char c = text_[i];
      const std::size_t start = i;
      if (is_digit(c)) {
        while (i < n && is_digit(text_[i])) ++i;
        const std::string t = text_.substr(start, i - start);
        if (t.size() > 1 && t[0] == '0') return fail("integer " + t + " has a leading zero");
        if (t.size() > 10 || std::stoll(t) > kMaxDim) return fail("integer " + t + " is out of range");
        toks_.push_back({Token::Int, t, start});
      } else if (is_alpha(c)) {
        while (i < n && (is_alpha(text_[i]) || is_digit(text_[i]))) ++i;
        const std::string t = text_.substr(start, i - start);
        if (one_of(t, kKeywords)) return fail(t + " is a reserved word");
        toks_.push_back({Token::Name, t, start});
      } else if (c == '/' && i + 1 < n && text_[i + 1] == '/') {
        toks_.push_back({Token::Op, "//", start});
        i += 2;
      } else if (std::strchr("+-*/%(),", c) != nullptr && c != '\0') {
        toks_.push_back({Token::Op, std::string(1, c), start});
        ++i;
      } else {
        const std::string ch = text_.substr(i, utf8_length(static_cast<unsigned char>(c)));
        return fail("unexpected character " + quoted(ch) + " at position " + std::to_string(i));
      }
    }
    toks_.push_back({Token::End, "", n});
    return true;
  }
  const Token& tok() const { return toks_[k_]; }
  bool at(const char* op) const { return tok().kind == Token::Op && tok().text == op; }

  bool expr(int depth, bool* zero) {
    if (!product(depth, false, zero)) return false;
    while (at("+") || at("-")) {
      ++k_;
      bool ignored = false;
      if (!product(depth, false, &ignored)) return false;
      *zero = false;
    }
    return true;
  }
  bool product(int depth, bool in_div, bool* zero) {
    if (!unary(depth, zero)) return false;
    while (true) {
      if (at("/")) {
        if (in_div) return true;
        return fail("'/' is only allowed as floor(a/b) or ceiling(a/b)");
      }
      if (!(at("*") || at("//") || at("%"))) return true;
      const bool multiply = at("*");
      ++k_;
      bool rhs_zero = false;
      if (!unary(depth, &rhs_zero)) return false;
      if (rhs_zero && !multiply) return fail("division by zero");
      *zero = false;
    }
  }
  bool unary(int depth, bool* zero) {
    if (depth > kMaxExprDepth) return fail("nested deeper than " + std::to_string(kMaxExprDepth));
    if (at("+") || at("-")) {
      ++k_;
      return unary(depth + 1, zero);
    }
    return atom(depth, zero);
  }
  bool atom(int depth, bool* zero) {
    *zero = false;
    const Token t = tok();
    if (t.kind == Token::Int) {
      ++k_;
      *zero = t.text == "0";
      return true;
    }
    if (t.kind == Token::Name) {
      ++k_;
      if (!at("(")) return true;
      ++k_;
      if (t.text == "floor" || t.text == "ceiling" || t.text == "ceil") {
        bool ignored = false;
        if (!product(depth + 1, true, &ignored)) return false;
        if (!at("/")) return fail(t.text + "() must wrap one division a/b");
        ++k_;
        bool divisor_zero = false;
        if (!unary(depth + 1, &divisor_zero)) return false;
        if (divisor_zero) return fail("division by zero");
        if (!at(")")) return fail(t.text + "() must wrap one division a/b");
        ++k_;
        return true;
      }
      const bool variadic = t.text == "max" || t.text == "Max" || t.text == "min" || t.text == "Min";
      const bool binary = t.text == "FloorDiv" || t.text == "Mod" || t.text == "CeilDiv";
      if (!variadic && !binary) return fail("function " + quoted(t.text) + " is not allowed");
      std::vector<bool> zeros;
      if (!at(")")) {
        while (true) {
          bool arg_zero = false;
          if (!expr(depth + 1, &arg_zero)) return false;
          zeros.push_back(arg_zero);
          if (at(")")) break;
          if (!at(",")) return fail("expected ',' or ')' at position " + std::to_string(tok().pos));
          ++k_;
        }
      }
      ++k_;
      if (zeros.empty() || (binary && zeros.size() != 2)) return fail("wrong number of arguments to " + t.text);
      if (binary && zeros[1]) return fail("division by zero");
      return true;
    }
    if (at("(")) {
      ++k_;
      if (!expr(depth + 1, zero)) return false;
      if (!at(")")) return fail("expected ')' at position " + std::to_string(tok().pos));
      ++k_;
      return true;
    }
    if (t.kind == Token::End) return fail("unexpected end of expression");
    return fail("expected an operand at position " + std::to_string(t.pos));
  }

  const std::string& text_;
  std::vector<Token> toks_;
  std::size_t k_ = 0;
  std::string problem_;
};

// ---------------------------------------------------------------------------------------------------- schema
// A JSON integer in [0, kMaxDim] ("-0" is 0, as in Python).
bool dim_value(const JsonValue& v, int64_t* out) {
  if (v.kind != JsonValue::Kind::Number || !v.is_int()) return false;
  std::string digits = v.text[0] == '-' ? v.text.substr(1) : v.text;
  if (digits.size() > 10) return false;
  const int64_t value = std::stoll(digits);  // at most 10 ASCII digits: cannot throw
  if (v.text[0] == '-' && value != 0) return false;
  if (value > kMaxDim) return false;
  *out = value;
  return true;
}

// Python's str() of a JSON integer token (the token itself, but "-0" prints as 0).
std::string int_text(const JsonValue& v) { return v.text == "-0" ? "0" : v.text; }

bool is_symbol_name(const std::string& s) {
  if (s.empty() || !is_alpha(s[0])) return false;
  for (char c : s)
    if (!is_alpha(c) && !is_digit(c)) return false;
  return !one_of(s, kKeywords);
}

std::string check_spec(const JsonValue& spec, const std::string& where, std::string* name, std::size_t* rank,
                       std::vector<int64_t> (*profiles)[3]) {
  if (spec.kind != JsonValue::Kind::Object) return where + " must be an object";
  for (const auto& m : spec.members)
    if (!one_of(m.first, kSpecKeys)) return where + ": unknown key " + quoted(m.first);
  for (std::size_t k = 0; k < 3; ++k)
    if (!spec.get(kSpecKeys[k])) return where + "." + kSpecKeys[k] + " is missing";
  const JsonValue& n = *spec.get("name");
  if (n.kind != JsonValue::Kind::String || n.text.empty() || has_control(n.text))
    return where + ".name must be a non-empty string without control characters";
  const JsonValue& dtype = *spec.get("dtype");
  if (dtype.kind != JsonValue::Kind::String) return where + ".dtype must be a string";
  if (!one_of(dtype.text, kDtypes)) {
    std::string all;
    for (std::size_t k = 0; k < kDtypes.size(); ++k) all += (k ? ", " : "") + std::string(kDtypes[k]);
    return where + ".dtype " + quoted(dtype.text) + " is not one of " + all;
  }
  const JsonValue& shape = *spec.get("shape");
  if (shape.kind != JsonValue::Kind::Array || shape.items.size() > kMaxRank)
    return where + ".shape must be a list of at most " + std::to_string(kMaxRank) + " dimensions";
  std::vector<int64_t> statics(shape.items.size(), -1);
  for (std::size_t d = 0; d < shape.items.size(); ++d) {
    const JsonValue& dim = shape.items[d];
    const std::string at = where + ".shape[" + std::to_string(d) + "]";
    if (dim.kind == JsonValue::Kind::String) {
      const std::string problem = shape_expr_problem(dim.text);
      if (!problem.empty()) return at + ": " + problem;
    } else if (!dim_value(dim, &statics[d])) {
      return at + " must be an integer in [0, " + std::to_string(kMaxDim) + "] or a shape expression";
    }
  }
  for (std::size_t k = 3; k < 6; ++k) {
    const JsonValue* value = spec.get(kSpecKeys[k]);
    if (!value || value->kind == JsonValue::Kind::Null) continue;
    const std::string key = kSpecKeys[k];
    std::vector<int64_t> dims;
    bool ok = value->kind == JsonValue::Kind::Array && value->items.size() == shape.items.size();
    for (std::size_t d = 0; ok && d < value->items.size(); ++d) {
      int64_t v = 0;
      ok = dim_value(value->items[d], &v);
      dims.push_back(v);
    }
    if (!ok)
      return where + "." + key + " must be null or a list of " + std::to_string(shape.items.size()) +
          " integers in [0, " + std::to_string(kMaxDim) + "]";
    for (std::size_t d = 0; d < dims.size(); ++d)
      if (statics[d] >= 0 && dims[d] != statics[d])
        return where + "." + key + "[" + std::to_string(d) + "] is " + std::to_string(dims[d]) + ", but dimension " +
            std::to_string(d) + " is static (" + std::to_string(statics[d]) + ")";
    (*profiles)[k - 3] = dims;
  }
  *name = n.text;
  *rank = shape.items.size();
  return "";
}

// ``profiles``: null, or per optimization profile an object giving every input its min/opt/max (_check_profiles).
std::string check_profiles(const JsonValue* profiles, const JsonValue& inputs) {
  if (!profiles || profiles->kind == JsonValue::Kind::Null) return "";
  if (profiles->kind != JsonValue::Kind::Array || profiles->items.empty() || profiles->items.size() > kMaxProfiles)
    return "profiles must be null or a list of 1 to " + std::to_string(kMaxProfiles) + " profiles";
  for (std::size_t p = 0; p < profiles->items.size(); ++p) {
    const JsonValue& profile = profiles->items[p];
    const std::string where = "profiles[" + std::to_string(p) + "]";
    if (profile.kind != JsonValue::Kind::Object) return where + " must be an object";
    for (const auto& m : profile.members) {
      const bool known = std::any_of(inputs.items.begin(), inputs.items.end(),
                                     [&](const JsonValue& spec) { return spec.get("name")->text == m.first; });
      if (!known) return where + ": " + quoted(m.first) + " is not an input";
    }
    for (const JsonValue& spec : inputs.items) {
      const JsonValue& shape = *spec.get("shape");
      const std::size_t rank = shape.items.size();
      const std::string at = where + "[" + quoted(spec.get("name")->text) + "]";
      const JsonValue* entry = profile.get(spec.get("name")->text);
      if (!entry) return at + " is missing";
      std::vector<int64_t> v[3];
      bool ok = entry->kind == JsonValue::Kind::Object && entry->members.size() == 3;
      for (std::size_t k = 0; ok && k < 3; ++k) {
        const JsonValue* dims = entry->get(kProfileKeys[k]);
        ok = dims && dims->kind == JsonValue::Kind::Array && dims->items.size() == rank;
        for (std::size_t d = 0; ok && d < rank; ++d) {
          int64_t x = 0;
          ok = dim_value(dims->items[d], &x);
          v[k].push_back(x);
        }
      }
      if (!ok)
        return at + " must be {min, opt, max}, each a list of " + std::to_string(rank) + " integers in [0, " +
            std::to_string(kMaxDim) + "]";
      for (std::size_t d = 0; d < rank; ++d) {
        int64_t fixed = -1;
        const bool is_static = shape.items[d].kind != JsonValue::Kind::String && dim_value(shape.items[d], &fixed);
        for (std::size_t k = 0; k < 3; ++k)
          if (is_static && v[k][d] != fixed)
            return at + "." + kProfileKeys[k] + "[" + std::to_string(d) + "] is " + std::to_string(v[k][d]) +
                ", but dimension " + std::to_string(d) + " is static (" + std::to_string(fixed) + ")";
        if (!(v[0][d] <= v[1][d] && v[1][d] <= v[2][d]))
          return at + ": min <= opt <= max does not hold in dimension " + std::to_string(d);
      }
    }
  }
  return "";
}

}  // namespace

std::string shape_expr_problem(const std::string& text) {
  if (text.size() > kMaxExprLength)
    return "shape expression is longer than " + std::to_string(kMaxExprLength) + " bytes";
  if (text.find_first_not_of(' ') == std::string::npos) return "shape expression " + quoted(text) + " is empty";
  return ShapeExprParser(text).run();
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) s += (i ? ", " : "") + quoted(items[i]);
  return s + "]";
}

std::string check_metadata(const JsonValue& meta) {
  if (meta.kind != JsonValue::Kind::Object) return "is not a JSON object";
  for (const auto& m : meta.members)
    if (!one_of(m.first, kMetadataKeys)) return "unknown key " + quoted(m.first);
  std::vector<std::pair<std::string, std::size_t>> ranks;  // input name -> rank
  std::vector<std::string> names;
  for (const char* group : {"inputs", "outputs"}) {
    const JsonValue* specs = meta.get(group);
    if (!specs) return std::string(group) + " is missing";
    if (specs->kind != JsonValue::Kind::Array) return std::string(group) + " must be a list";
    const bool inputs = std::strcmp(group, "inputs") == 0;
    for (std::size_t i = 0; i < specs->items.size(); ++i) {
      const std::string where = std::string(group) + "[" + std::to_string(i) + "]";
      std::string name;
      std::size_t rank = 0;
      std::vector<int64_t> profiles[3];
      const std::string problem = check_spec(specs->items[i], where, &name, &rank, &profiles);
      if (!problem.empty()) return problem;
      if (inputs) {
        const JsonValue& spec = specs->items[i];
        auto present = [&](const char* k) { return spec.get(k) && spec.get(k)->kind != JsonValue::Kind::Null; };
        if (present("min") && present("opt") && present("max"))
          for (std::size_t d = 0; d < rank; ++d)
            if (!(profiles[0][d] <= profiles[1][d] && profiles[1][d] <= profiles[2][d]))
              return where + ": min <= opt <= max does not hold in dimension " + std::to_string(d);
        ranks.emplace_back(name, rank);
      }
      if (std::find(names.begin(), names.end(), name) != names.end())
        return where + ".name " + quoted(name) + " is already a binding name";
      names.push_back(name);
    }
  }
  if (const JsonValue* symbols = meta.get("symbols")) {
    if (symbols->kind != JsonValue::Kind::Object) return "symbols must be an object";
    for (const auto& [sym, source] : symbols->members) {
      if (!is_symbol_name(sym)) return "symbols: " + quoted(sym) + " is not a valid symbol name";
      const std::string at = "symbols[" + quoted(sym) + "]";
      if (source.kind != JsonValue::Kind::Array || source.items.size() != 2 ||
          source.items[0].kind != JsonValue::Kind::String || !source.items[1].is_int())
        return at + " must be [input name, dimension]";
      const std::string& binding = source.items[0].text;
      auto found = std::find_if(ranks.begin(), ranks.end(), [&](const auto& r) { return r.first == binding; });
      if (found == ranks.end()) return at + " refers to " + quoted(binding) + ", which is not an input";
      const JsonValue& dim = source.items[1];
      int64_t d = 0;
      const bool in_rank = dim_value(dim, &d) && d < static_cast<int64_t>(found->second);
      if (!in_rank)
        return at + " refers to dimension " + int_text(dim) + " of input " + quoted(binding) + ", which has rank " +
            std::to_string(found->second);
    }
  }
  if (const JsonValue* settings = meta.get("settings"))
    if (settings->kind != JsonValue::Kind::Object) return "settings must be an object";
  if (const JsonValue* network = meta.get("network"))
    if (network->kind != JsonValue::Kind::Object && network->kind != JsonValue::Kind::Null)
      return "network must be an object or null";
  if (const JsonValue* weight_map = meta.get("weight_map"))
    if (weight_map->kind != JsonValue::Kind::Object && weight_map->kind != JsonValue::Kind::Null)
      return "weight_map must be an object or null";
  if (const JsonValue* torch_version = meta.get("torch_version"))
    if (torch_version->kind != JsonValue::Kind::String) return "torch_version must be a string";
  return check_profiles(meta.get("profiles"), *meta.get("inputs"));
}

}  // namespace torchtrt
