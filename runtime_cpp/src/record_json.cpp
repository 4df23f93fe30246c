// Strict JSON (RFC 8259 over UTF-8) and UTF-8 validation for the engine record; mirrors the JSON scanner of
// python/torch_tensorrt/runtime/_record_check.py (same algorithm step for step, so that both report the same first
// problem with the same words: "unexpected character at byte 3", "duplicate key 'x' at byte 10", ...).
#include <algorithm>
#include <cstring>

#include "torchtrt/record.h"
#include "torchtrt/record_check.h"

namespace torchtrt {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// ------------------------------------------------------------------------------------------------ JSON parser
class JsonParser {
 public:
  explicit JsonParser(const std::string& d) : d_(d), n_(d.size()) {}
  bool parse(JsonValue* out, std::string* why) {
    std::size_t i = 0;
    if (!value(&i, 0, out)) return fail_out(why);
    ws(&i);
    if (i != n_) {
      fail("trailing data", i);
      return fail_out(why);
    }
    return true;
  }

 private:
  bool fail(const std::string& reason, std::size_t pos) {
    why_ = reason + " at byte " + std::to_string(pos);
    return false;
  }
  bool fail_out(std::string* why) {
    *why = why_;
    return false;
  }
  void ws(std::size_t* i) const {
    while (*i < n_ && (d_[*i] == ' ' || d_[*i] == '\t' || d_[*i] == '\n' || d_[*i] == '\r')) ++*i;
  }
  bool value(std::size_t* i, int depth, JsonValue* out) {
    ws(i);
    if (*i >= n_) return fail("unexpected end of data", *i);
    const char c = d_[*i];
    if (c == '{' || c == '[') {
      if (depth >= kMaxJsonDepth) return fail("nesting deeper than " + std::to_string(kMaxJsonDepth), *i);
      return c == '{' ? object(i, depth + 1, out) : array(i, depth + 1, out);
    }
    if (c == '"') {
      out->kind = JsonValue::Kind::String;
      return string(i, &out->text);
    }
    if (c == '-' || is_digit(c)) return number(i, out);
    for (const char* lit : {"true", "false", "null"}) {
      if (c != lit[0]) continue;
      const std::size_t len = std::strlen(lit);
      if (d_.compare(*i, len, lit) != 0) return fail("invalid literal", *i);
      out->kind = c == 'n' ? JsonValue::Kind::Null : JsonValue::Kind::Bool;
      out->boolean = c == 't';
      *i += len;
      return true;
    }
    return fail("unexpected character", *i);
  }
  bool number(std::size_t* i, JsonValue* out) {
    const std::size_t start = *i;
    std::size_t j = start;
    if (j < n_ && d_[j] == '-') ++j;
    if (j >= n_ || !is_digit(d_[j])) return fail("invalid number", start);
    if (d_[j] == '0') {
      ++j;
    } else {
      while (j < n_ && is_digit(d_[j])) ++j;
    }
    if (j < n_ && d_[j] == '.') {
      ++j;
      if (j >= n_ || !is_digit(d_[j])) return fail("invalid number", start);
      while (j < n_ && is_digit(d_[j])) ++j;
    }
    if (j < n_ && (d_[j] == 'e' || d_[j] == 'E')) {
      ++j;
      if (j < n_ && (d_[j] == '+' || d_[j] == '-')) ++j;
      if (j >= n_ || !is_digit(d_[j])) return fail("invalid number", start);
      while (j < n_ && is_digit(d_[j])) ++j;
    }
    out->kind = JsonValue::Kind::Number;
    out->text = d_.substr(start, j - start);
    *i = j;
    return true;
  }
  bool hex4(std::size_t at, uint32_t* cp) const {
    if (at + 4 > n_) return false;
    uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int h = hex_value(d_[at + k]);
      if (h < 0) return false;
      v = (v << 4) | static_cast<uint32_t>(h);
    }
    *cp = v;
    return true;
  }
  bool string(std::size_t* i, std::string* out) {
    const std::size_t start = *i;
    std::size_t j = start + 1;
    out->clear();
    while (true) {
      if (j >= n_) return fail("unterminated string", start);
      const unsigned char c = static_cast<unsigned char>(d_[j]);
      if (c == '"') {
        *i = j + 1;
        return true;
      }
      if (c < 0x20) return fail("control character in string", j);
      if (c != '\\') {
        *out += static_cast<char>(c);
        ++j;
        continue;
      }
      if (j + 1 >= n_) return fail("unterminated string", start);
      const char e = d_[j + 1];
      const char* simple = std::strchr("\"\\/bfnrt", e);
      if (e != '\0' && simple != nullptr) {
        static const char decoded[] = "\"\\/\b\f\n\r\t";
        *out += decoded[simple - "\"\\/bfnrt"];
        j += 2;
        continue;
      }
      uint32_t cp = 0;
      if (e != 'u' || !hex4(j + 2, &cp)) return fail("invalid escape", j);
      if (cp >= 0xDC00 && cp <= 0xDFFF) return fail("lone surrogate", j);
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t low = 0;
        const bool ok = j + 8 <= n_ && d_[j + 6] == '\\' && d_[j + 7] == 'u' && hex4(j + 8, &low) && low >= 0xDC00 &&
            low <= 0xDFFF;
        if (!ok) return fail("lone surrogate", j);
        append_utf8(out, 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00));
        j += 12;
      } else {
        append_utf8(out, cp);
        j += 6;
      }
    }
  }
  bool object(std::size_t* i, int depth, JsonValue* out) {
    out->kind = JsonValue::Kind::Object;
    ++*i;
    ws(i);
    if (*i < n_ && d_[*i] == '}') {
      ++*i;
      return true;
    }
    while (true) {
      if (*i >= n_) return fail("unexpected end of data", *i);
      if (d_[*i] != '"') return fail("expected a string key", *i);
      const std::size_t key_at = *i;
      std::string key;
      if (!string(i, &key)) return false;
      for (const auto& m : out->members)
        if (m.first == key) return fail("duplicate key " + quoted(key), key_at);
      ws(i);
      if (*i >= n_) return fail("unexpected end of data", *i);
      if (d_[*i] != ':') return fail("expected ':'", *i);
      ++*i;
      out->members.emplace_back(std::move(key), JsonValue());
      if (!value(i, depth, &out->members.back().second)) return false;
      ws(i);
      if (*i >= n_) return fail("unexpected end of data", *i);
      if (d_[*i] == '}') {
        ++*i;
        return true;
      }
      if (d_[*i] != ',') return fail("expected ',' or '}'", *i);
      ++*i;
      ws(i);
    }
  }
  bool array(std::size_t* i, int depth, JsonValue* out) {
    out->kind = JsonValue::Kind::Array;
    ++*i;
    ws(i);
    if (*i < n_ && d_[*i] == ']') {
      ++*i;
      return true;
    }
    while (true) {
      out->items.emplace_back();
      if (!value(i, depth, &out->items.back())) return false;
      ws(i);
      if (*i >= n_) return fail("unexpected end of data", *i);
      if (d_[*i] == ']') {
        ++*i;
        return true;
      }
      if (d_[*i] != ',') return fail("expected ',' or ']'", *i);
      ++*i;
    }
  }

  const std::string& d_;
  const std::size_t n_;
  std::string why_;
};

}  // namespace

const JsonValue* JsonValue::get(const std::string& key) const {
  for (const auto& m : members)
    if (m.first == key) return &m.second;
  return nullptr;
}

bool JsonValue::is_int() const {
  return kind == Kind::Number && text.find_first_of(".eE") == std::string::npos;
}

int64_t utf8_error(const std::string& data) {
  const std::size_t n = data.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c >= 0xC2 && c <= 0xDF) len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return static_cast<int64_t>(i);
    }
    for (std::size_t k = 1; k < len; ++k) {
      if (i + k >= n) return static_cast<int64_t>(i);
      const unsigned char b = static_cast<unsigned char>(data[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return static_cast<int64_t>(i);
    }
    i += len;
  }
  return -1;
}

bool has_control(const std::string& text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

bool parse_json(const std::string& data, JsonValue* out, std::string* why) {
  *out = JsonValue();
  return JsonParser(data).parse(out, why);
}

}  // namespace torchtrt
