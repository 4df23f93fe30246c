// Reading ABI 2 records (a list of strings, ENGINE and SERIALIZED_METADATA in canonical padded base64); mirrors
// python/torch_tensorrt/runtime/_record_abi2.py (same checks, same order, same messages). upgrade_abi2 returns
// the fields with those two decoded; EngineRecord::from_list then validates them like an ABI 3 record.
#include <algorithm>

#include "torchtrt/record.h"
#include "torchtrt/record_check.h"

namespace torchtrt {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string decode_b64(const std::string& pre, Field f, const std::string& text) {
  if (text.empty()) throw RecordError(pre + "field " + field_name(f) + " is empty");
  std::string out, why;
  if (!base64_decode(text, &out, &why))
    throw RecordError(pre + "field " + field_name(f) + " is not valid base64 (" + why + ")");
  return out;
}

}  // namespace

std::string base64_encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest) {
    uint32_t v = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) v |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

bool base64_decode(const std::string& text, std::string* out, std::string* why) {
  // The rules and reasons of b64_problem in _record.py, in the same order.
  out->clear();
  const std::size_t n = text.size();
  if (n % 4 != 0) {
    *why = "length " + std::to_string(n) + " is not a multiple of 4 (incorrect padding)";
    return false;
  }
  const std::size_t pad = (n >= 2 && text[n - 1] == '=' && text[n - 2] == '=') ? 2 : (n >= 1 && text[n - 1] == '=') ? 1 : 0;
  std::size_t bad = std::string::npos;
  for (std::size_t i = 0; i < n && bad == std::string::npos; ++i)
    if (text[i] != '=' && b64_value(static_cast<unsigned char>(text[i])) < 0) bad = i;
  std::size_t first_pad = text.find('=');
  if (first_pad != std::string::npos && first_pad >= n - pad) first_pad = std::string::npos;
  if (bad != std::string::npos && (first_pad == std::string::npos || bad < first_pad)) {
    const unsigned char lead = static_cast<unsigned char>(text[bad]);
    const std::size_t len = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    *why = "character " + quoted(text.substr(bad, len)) + " at position " + std::to_string(bad) +
        " is not in the base64 alphabet";
    return false;
  }
  if (first_pad != std::string::npos) {
    *why = "padding '=' at position " + std::to_string(first_pad) + " before the end";
    return false;
  }
  if (pad && (b64_value(static_cast<unsigned char>(text[n - pad - 1])) & (pad == 2 ? 0x0F : 0x03))) {
    *why = "non-zero padding bits at position " + std::to_string(n - pad - 1);
    return false;
  }
  out->reserve(n / 4 * 3);
  for (std::size_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      v = (v << 6) | uint32_t(c == '=' ? 0 : b64_value(static_cast<unsigned char>(c)));
    }
    const std::size_t bytes = i + 4 == n ? 3 - pad : 3;
    const char chunk[3] = {char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
    out->append(chunk, bytes);
  }
  return true;
}

std::vector<std::string> upgrade_abi2(const std::vector<std::string>& fields) {
  if (fields.empty()) throw RecordError("engine record is empty");
  const std::size_t name_at = idx(Field::NAME);
  for (std::size_t i = 0; i < std::min(fields.size(), kNumFields); ++i) {
    if (utf8_error(fields[i]) < 0) continue;
    const bool name_ok = utf8_error(fields[name_at]) < 0;
    throw RecordError((name_ok ? "engine " + quoted(fields[name_at]) + ": " : std::string("engine record: ")) +
                      "field " + kFieldNames[i] + " is not valid UTF-8");
  }
  const std::string name = fields.size() > name_at ? fields[name_at] : "<unnamed>";
  const std::string pre = "engine " + quoted(name) + ": ";
  check_abi(pre, fields[idx(Field::ABI_VERSION)], /*framed=*/false);
  if (fields.size() != kNumFields)
    throw RecordError(pre + "record has " + std::to_string(fields.size()) + " fields, ABI 2 has " +
                      std::to_string(kNumFields) + " (truncated or corrupted record)");
  std::vector<std::string> out = fields;
  out[idx(Field::ENGINE)] = decode_b64(pre, Field::ENGINE, fields[idx(Field::ENGINE)]);
  std::string meta = decode_b64(pre, Field::SERIALIZED_METADATA, fields[idx(Field::SERIALIZED_METADATA)]);
  const int64_t bad = utf8_error(meta);
  if (bad >= 0)
    throw RecordError(pre + "field SERIALIZED_METADATA is not valid UTF-8 (byte " + std::to_string(bad) + ")");
  out[idx(Field::SERIALIZED_METADATA)] = std::move(meta);
  return out;
}

}  // namespace torchtrt
