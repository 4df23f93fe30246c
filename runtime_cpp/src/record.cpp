// Parsing and validation of the engine record; mirrors EngineRecord.from_list in
// python/torch_tensorrt/runtime/_record.py (same checks, same order, equivalent messages).
#include "torchtrt/record.h"

#include <cstdio>
#include <sstream>

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

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// Compares two non-empty decimal strings numerically (no overflow: compares by length, then lexically).
int compare_decimal(std::string a, std::string b) {
  auto strip = [](std::string& s) {
    std::size_t i = s.find_first_not_of('0');
    s = i == std::string::npos ? "0" : s.substr(i);
  };
  strip(a);
  strip(b);
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a.compare(b) > 0 ? 1 : 0);
}

std::string engine_prefix(const std::string& name) { return "engine " + quoted(name) + ": "; }

}  // namespace

std::string quoted(const std::string& text) {
  // Python's repr picks double quotes only when the text has a single quote and no double quote.
  const bool dq = text.find('\'') != std::string::npos && text.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == static_cast<unsigned char>(q)) out += std::string("\\") + static_cast<char>(q);
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  out += q;
  return out;
}

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
  out->clear();
  if (text.size() % 4 != 0) {
    *why = "length " + std::to_string(text.size()) + " is not a multiple of 4 (incorrect padding)";
    return false;
  }
  std::size_t pad = 0;
  if (!text.empty() && text.back() == '=') pad = (text.size() >= 2 && text[text.size() - 2] == '=') ? 2 : 1;
  out->reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const std::size_t pos = i + j;
      const unsigned char c = static_cast<unsigned char>(text[pos]);
      if (c == '=') {
        if (pos < text.size() - pad) {
          *why = "padding '=' at position " + std::to_string(pos) + " before the end";
          return false;
        }
        v <<= 6;
        continue;
      }
      const int d = b64_value(c);
      if (d < 0) {
        *why = "character " + quoted(std::string(1, static_cast<char>(c))) + " at position " + std::to_string(pos) +
            " is not in the base64 alphabet";
        return false;
      }
      v = (v << 6) | uint32_t(d);
    }
    const bool last = i + 4 == text.size();
    const std::size_t n = last ? 3 - pad : 3;
    const char bytes[3] = {char((v >> 16) & 0xff), char((v >> 8) & 0xff), char(v & 0xff)};
    out->append(bytes, n);
  }
  return true;
}

std::vector<std::string> split_names(const std::string& joined) {
  std::vector<std::string> names;
  if (joined.empty()) return names;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = joined.find(kListSep, start);
    names.push_back(joined.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return names;
}

std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i) out += kListSep;
    out += names[i];
  }
  return out;
}

EngineRecord EngineRecord::from_list(const std::vector<std::string>& fields) {
  const std::string name = fields.size() > idx(Field::NAME) ? fields[idx(Field::NAME)] : "<unnamed>";
  if (fields.empty()) throw RecordError("engine record is empty");
  const std::string pre = engine_prefix(name);

  const std::string& abi = fields[idx(Field::ABI_VERSION)];
  if (!all_digits(abi))
    throw RecordError(pre + "ABI version " + quoted(abi) + " is not a number (corrupted record?)");
  const int cmp = compare_decimal(abi, kAbiVersion);
  if (cmp > 0)
    throw RecordError(pre + "record ABI " + abi + " is newer than this runtime's ABI " + kAbiVersion +
                      "; upgrade torch_tensorrt to load it");
  if (cmp < 0) throw RecordError(pre + "record ABI " + abi + " is older than supported ABI " + kAbiVersion);
  if (fields.size() != kNumFields)
    throw RecordError(pre + "record has " + std::to_string(fields.size()) + " fields, ABI " + kAbiVersion + " has " +
                      std::to_string(kNumFields) + " (truncated or corrupted record)");

  auto get = [&](Field f) -> const std::string& { return fields[idx(f)]; };
  auto flag = [&](Field f) {
    const std::string& v = get(f);
    if (v != "0" && v != "1")
      throw RecordError(pre + "field " + field_name(f) + " must be '0' or '1', got " + quoted(v));
    return v == "1";
  };

  EngineRecord r;
  std::string why;
  if (!base64_decode(get(Field::ENGINE), &r.engine, &why))
    throw RecordError(pre + "field ENGINE is not valid base64 (" + why + ")");
  if (r.engine.empty()) throw RecordError(pre + "field ENGINE is empty");
  const std::string& dev = get(Field::DEVICE_ID);
  const std::string dev_digits = (!dev.empty() && dev[0] == '-') ? dev.substr(1) : dev;
  if (!all_digits(dev_digits) || dev_digits.size() > 9)
    throw RecordError(pre + "field DEVICE_ID is not an integer: " + quoted(dev));

  r.abi_version = abi;
  r.name = name;
  r.device_id = std::stoll(dev);
  r.device_capability = get(Field::DEVICE_CAPABILITY);
  r.device_name = get(Field::DEVICE_NAME);
  r.input_binding_names = split_names(get(Field::INPUT_BINDING_NAMES));
  r.output_binding_names = split_names(get(Field::OUTPUT_BINDING_NAMES));
  r.hardware_compatible = flag(Field::HW_COMPATIBLE);
  r.serialized_metadata = get(Field::SERIALIZED_METADATA);
  if (!r.serialized_metadata.empty()) {
    std::string decoded;
    if (!base64_decode(r.serialized_metadata, &decoded, &why))
      throw RecordError(pre + "field SERIALIZED_METADATA is corrupted (" + why + ")");
    if (decoded.find_first_not_of(" \t\r\n") == std::string::npos || decoded[decoded.find_first_not_of(" \t\r\n")] != '{')
      throw RecordError(pre + "field SERIALIZED_METADATA is not a JSON object");
  }
  r.target_platform = get(Field::TARGET_PLATFORM);
  r.requires_output_allocator = flag(Field::REQUIRES_OUTPUT_ALLOCATOR);
  r.torchtrt_version = get(Field::TORCHTRT_VERSION);
  r.trt_flavour = get(Field::TRT_FLAVOUR);
  r.trt_version = get(Field::TRT_VERSION);
  r.engine_kind = get(Field::ENGINE_KIND);

  // The checks of the Python dataclass's __post_init__.
  for (const auto* names : {&r.input_binding_names, &r.output_binding_names}) {
    const char* what = names == &r.input_binding_names ? "input" : "output";
    for (const auto& n : *names)
      if (n.empty()) throw RecordError(pre + "invalid " + what + " binding name " + quoted(n));
  }
  if (r.engine_kind != kKindTensorRT && r.engine_kind != kKindSimulated)
    throw RecordError(pre + "unknown engine kind " + quoted(r.engine_kind));
  return r;
}

std::vector<std::string> EngineRecord::to_list() const {
  std::vector<std::string> f(kNumFields);
  f[idx(Field::ABI_VERSION)] = abi_version;
  f[idx(Field::NAME)] = name;
  f[idx(Field::DEVICE_ID)] = std::to_string(device_id);
  f[idx(Field::DEVICE_CAPABILITY)] = device_capability;
  f[idx(Field::DEVICE_NAME)] = device_name;
  f[idx(Field::ENGINE)] = base64_encode(engine);
  f[idx(Field::INPUT_BINDING_NAMES)] = join_names(input_binding_names);
  f[idx(Field::OUTPUT_BINDING_NAMES)] = join_names(output_binding_names);
  f[idx(Field::HW_COMPATIBLE)] = hardware_compatible ? "1" : "0";
  f[idx(Field::SERIALIZED_METADATA)] = serialized_metadata;
  f[idx(Field::TARGET_PLATFORM)] = target_platform;
  f[idx(Field::REQUIRES_OUTPUT_ALLOCATOR)] = requires_output_allocator ? "1" : "0";
  f[idx(Field::TORCHTRT_VERSION)] = torchtrt_version;
  f[idx(Field::TRT_FLAVOUR)] = trt_flavour;
  f[idx(Field::TRT_VERSION)] = trt_version;
  f[idx(Field::ENGINE_KIND)] = engine_kind;
  return f;
}

void check_engine_kind(const EngineRecord& record, bool stand_in_runtime) {
  if (record.is_simulated() && !stand_in_runtime)
    throw RecordError(engine_prefix(record.name) +
                      "built under torch_tensorrt.testing.simulate(); cannot run on a real TensorRT runtime "
                      "(rebuild it without simulate() on a machine with TensorRT)");
}

}  // namespace torchtrt
