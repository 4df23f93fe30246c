// Checks of untrusted record text, mirroring python/torch_tensorrt/runtime/_record_check.py rule for rule and
// message for message: strict JSON (parse_json), the shape-expression grammar (shape_expr_problem) and the
// metadata schema (check_metadata). Nothing here throws on bad input: each check returns false (or a
// non-empty problem) and says why; callers turn that into a RecordError.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace torchtrt {

inline constexpr int kMaxJsonDepth = 64;
inline constexpr int kMaxRank = 8;
inline constexpr int64_t kMaxDim = 2147483647;
inline constexpr std::size_t kMaxExprLength = 256;
inline constexpr int kMaxExprDepth = 32;

//! A parsed JSON value. Strings are decoded to UTF-8; numbers keep their token (``is_int`` when it has no
//! fraction or exponent). Objects keep their members in document order (keys are unique).
struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text;
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> members;

  const JsonValue* get(const std::string& key) const;
  bool is_int() const;
};

//! Offset of the first byte of the first invalid UTF-8 sequence of ``data``, or -1 when it is valid UTF-8
//! (strict: no overlong forms, no surrogates, nothing above U+10FFFF -- what Python's decoder accepts).
int64_t utf8_error(const std::string& data);

//! Whether ``text`` has an ASCII control character (below 0x20, or 0x7f).
bool has_control(const std::string& text);

//! Strict JSON over valid UTF-8 ``data``. On failure: false and ``*why`` like "unexpected character at byte 3".
bool parse_json(const std::string& data, JsonValue* out, std::string* why);

//! The first problem of a shape expression ("" when it is valid).
std::string shape_expr_problem(const std::string& text);

//! The first problem of the decoded metadata ("" when it conforms): "is not a JSON object", "inputs is missing",
//! "outputs[0].dtype 'x' is not one of ...", ...
std::string check_metadata(const JsonValue& meta);

//! ``[a, b]`` with each item quoted (Python's repr of a list of strings).
std::string quoted_list(const std::vector<std::string>& items);

}  // namespace torchtrt
