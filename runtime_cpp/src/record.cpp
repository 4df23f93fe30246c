// Framing, parsing and validation of the engine record; mirrors EngineRecord.from_bytes in
// python/torch_tensorrt/runtime/_record.py and runtime/_record_frame.py (same checks, same order, same
// messages). SHA-256 is implemented here (FIPS 180-4) so that the record code needs nothing but the standard
// library.
#include "torchtrt/record.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "torchtrt/record_check.h"

namespace torchtrt {
namespace {

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
  // quoted() of _record_check.py: Python's repr for ASCII (double quotes only when the text has a single quote
  // and no double quote); bytes >= 0x80 (non-ASCII UTF-8) are kept as they are.
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

// ------------------------------------------------------------------------------------------------- SHA-256
std::string sha256_hex(const char* data, std::size_t size) {
  static constexpr std::array<uint32_t, 64> k = {
      0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
      0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
      0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
      0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
      0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
      0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
      0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
      0xc67178f2};
  std::array<uint32_t, 8> h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  auto rotr = [](uint32_t x, int r) { return (x >> r) | (x << (32 - r)); };
  std::array<uint32_t, 64> w{};
  auto block = [&](const unsigned char* chunk) {
    for (int i = 0; i < 16; ++i) {
      const unsigned char* p = chunk + 4 * i;
      w[i] = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = b;
      b = a;
      a = t1 + t2;
    }
    h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += hh;
  };
  // Whole blocks straight from the input (no copy of a plan that may be gigabytes), then the padded tail.
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  const std::size_t whole = size / 64 * 64;
  for (std::size_t chunk = 0; chunk < whole; chunk += 64) block(bytes + chunk);
  std::string tail(reinterpret_cast<const char*>(bytes + whole), size - whole);
  const uint64_t bits = static_cast<uint64_t>(size) * 8;
  tail += static_cast<char>(0x80);
  while (tail.size() % 64 != 56) tail += '\0';
  for (int i = 7; i >= 0; --i) tail += static_cast<char>((bits >> (8 * i)) & 0xff);
  for (std::size_t chunk = 0; chunk < tail.size(); chunk += 64)
    block(reinterpret_cast<const unsigned char*>(tail.data() + chunk));
  char hex[65];
  for (int i = 0; i < 8; ++i) std::snprintf(hex + 8 * i, 9, "%08x", h[i]);
  return std::string(hex, 64);
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

namespace {

void check_text(const std::string& pre, Field f, const std::string& text) {
  if (has_control(text)) throw RecordError(pre + "field " + field_name(f) + " contains a control character");
}

bool parse_flag(const std::string& pre, Field f, const std::string& v) {
  if (v != "0" && v != "1") throw RecordError(pre + "field " + field_name(f) + " must be '0' or '1', got " + quoted(v));
  return v == "1";
}

void check_names(const std::string& pre, const std::vector<std::string>& inputs,
                 const std::vector<std::string>& outputs) {
  std::vector<std::string> seen;
  for (const auto* names : {&inputs, &outputs}) {
    const bool in = names == &inputs;
    for (const auto& n : *names) {
      if (n.empty() || has_control(n))
        throw RecordError(pre + "invalid " + (in ? "input" : "output") + " binding name " + quoted(n));
      if (std::find(seen.begin(), seen.end(), n) != seen.end())
        throw RecordError(pre + "field " + (in ? "INPUT_BINDING_NAMES" : "OUTPUT_BINDING_NAMES") + " lists " +
                          quoted(n) + ", which is already a binding name");
      seen.push_back(n);
    }
  }
}

bool is_lower_hex(const std::string& s, std::size_t from, std::size_t count) {
  for (std::size_t i = from; i < from + count; ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

void check_metadata_of(const std::string& pre, const std::string& meta_bytes, const EngineRecord& r) {
  JsonValue meta;
  std::string why;
  if (!parse_json(meta_bytes, &meta, &why))
    throw RecordError(pre + "field SERIALIZED_METADATA is not valid JSON (" + why + ")");
  const std::string problem = check_metadata(meta);
  if (!problem.empty())
    throw RecordError(pre + "field SERIALIZED_METADATA" + (problem == "is not a JSON object" ? " " : ": ") + problem);
  for (const char* group : {"inputs", "outputs"}) {
    const bool in = std::strcmp(group, "inputs") == 0;
    std::vector<std::string> declared;
    for (const auto& spec : meta.get(group)->items) declared.push_back(spec.get("name")->text);
    const auto& names = in ? r.input_binding_names : r.output_binding_names;
    if (names != declared)
      throw RecordError(pre + "field " + (in ? "INPUT_BINDING_NAMES " : "OUTPUT_BINDING_NAMES ") + quoted_list(names) +
                        " does not match the metadata's " + group + " " + quoted_list(declared));
  }
  const JsonValue* network = meta.get("network");
  const bool has_network = network && network->kind == JsonValue::Kind::Object;
  if (r.engine_kind == kKindSimulated && !has_network)
    throw RecordError(pre + "field ENGINE_KIND is 'simulated' but the metadata has no recorded network");
  if (r.engine_kind == kKindTensorRT && has_network)
    throw RecordError(pre + "field ENGINE_KIND is 'tensorrt' but the metadata carries a recorded network");
}


// The checks after the framing (or the ABI 2 upgrade): EngineRecord._decode in _record.py. ``views`` are the
// fields (unframe's views, or the upgraded ABI 2 fields): the text fields are copied, the plan is copied once, or
// unpacked (ABI 4), into the record.
EngineRecord decode(const std::vector<std::pair<const char*, std::size_t>>& views, bool framed) {
  if (views.empty()) throw RecordError("engine record is empty");
  const std::size_t name_at = idx(Field::NAME), engine_at = idx(Field::ENGINE);
  std::vector<std::string> fields;  // the text fields; ENGINE (bytes) is left empty
  fields.reserve(views.size());
  for (std::size_t i = 0; i < views.size(); ++i)
    fields.emplace_back(i == engine_at ? std::string() : std::string(views[i].first, views[i].second));
  for (std::size_t i = 0; i < std::min(fields.size(), kNumFields); ++i) {
    if (i == engine_at || utf8_error(fields[i]) < 0) continue;
    const bool name_ok = fields.size() > name_at && utf8_error(fields[name_at]) < 0;
    throw RecordError((name_ok ? engine_prefix(fields[name_at]) : std::string("engine record: ")) + "field " +
                      kFieldNames[i] + " is not valid UTF-8");
  }
  const std::string name = fields.size() > name_at ? fields[name_at] : "<unnamed>";
  const std::string pre = engine_prefix(name);
  const std::string& abi = fields[idx(Field::ABI_VERSION)];
  check_abi(pre, abi, framed);
  if (fields.size() != kNumFields)
    throw RecordError(pre + "record has " + std::to_string(fields.size()) + " fields, ABI " +
                      (framed ? kAbiVersion : kMinAbiVersion) + " has " + std::to_string(kNumFields) +
                      " (truncated or corrupted record)");

  auto get = [&](Field f) -> const std::string& { return fields[idx(f)]; };
  EngineRecord r;
  if (name.empty()) throw RecordError(pre + "field NAME is empty");
  check_text(pre, Field::NAME, name);
  const std::string& dev = get(Field::DEVICE_ID);
  const bool dev_ok = all_digits(dev) && (dev == "0" || dev[0] != '0') && dev.size() <= 10 &&
      compare_decimal(dev, "2147483647") <= 0;
  if (!dev_ok) throw RecordError(pre + "field DEVICE_ID must be an integer in [0, 2147483647], got " + quoted(dev));
  const std::string& cap = get(Field::DEVICE_CAPABILITY);
  if (!cap.empty()) {
    const std::size_t dot = cap.find('.');
    const bool ok = dot != std::string::npos && dot >= 1 && dot <= 2 && cap.size() - dot - 1 >= 1 &&
        cap.size() - dot - 1 <= 2 && all_digits(cap.substr(0, dot)) && all_digits(cap.substr(dot + 1));
    if (!ok) throw RecordError(pre + "field DEVICE_CAPABILITY must be empty or 'major.minor', got " + quoted(cap));
  }
  check_text(pre, Field::DEVICE_NAME, get(Field::DEVICE_NAME));
  const auto& engine = views[engine_at];
  if (engine.second == 0) throw RecordError(pre + "field ENGINE is empty");
  std::string plan;
  if (framed && compare_decimal(abi, kPackedAbiVersion) >= 0)
    plan = plan_pack::unpack(engine.first, engine.second, pre, &r.packing);
  else
    plan.assign(engine.first, engine.second);
  r.input_binding_names = split_names(get(Field::INPUT_BINDING_NAMES));
  r.output_binding_names = split_names(get(Field::OUTPUT_BINDING_NAMES));
  check_names(pre, r.input_binding_names, r.output_binding_names);
  r.hardware_compatible = parse_flag(pre, Field::HW_COMPATIBLE, get(Field::HW_COMPATIBLE));
  if (get(Field::SERIALIZED_METADATA).empty()) throw RecordError(pre + "field SERIALIZED_METADATA is empty");
  check_text(pre, Field::TARGET_PLATFORM, get(Field::TARGET_PLATFORM));
  r.requires_output_allocator = parse_flag(pre, Field::REQUIRES_OUTPUT_ALLOCATOR, get(Field::REQUIRES_OUTPUT_ALLOCATOR));
  check_text(pre, Field::TORCHTRT_VERSION, get(Field::TORCHTRT_VERSION));
  const std::string& flavour = get(Field::TRT_FLAVOUR);
  if (flavour != "" && flavour != "tensorrt" && flavour != "tensorrt_rtx")
    throw RecordError(pre + "field TRT_FLAVOUR must be one of '', 'tensorrt', 'tensorrt_rtx', got " + quoted(flavour));
  check_text(pre, Field::TRT_VERSION, get(Field::TRT_VERSION));
  const std::string& kind = get(Field::ENGINE_KIND);
  if (kind != kKindTensorRT && kind != kKindSimulated) throw RecordError(pre + "unknown engine kind " + quoted(kind));
  const std::string& digests = get(Field::SHA256);
  if (digests.size() != 129 || digests[64] != kListSep || !is_lower_hex(digests, 0, 64) || !is_lower_hex(digests, 65, 64))
    throw RecordError(pre + "field SHA256 is malformed (two lowercase hex SHA-256 digests separated by '\\x1f')");
  if (sha256_hex(plan) != digests.substr(0, 64))
    throw RecordError(pre + "field SHA256: the engine bytes do not match their checksum (corrupted file?)");
  if (sha256_hex(get(Field::SERIALIZED_METADATA)) != digests.substr(65))
    throw RecordError(pre + "field SHA256: the metadata does not match its checksum (corrupted file?)");

  r.abi_version = abi;
  r.name = name;
  r.device_id = std::stoll(dev);  // at most 10 ASCII digits, checked above: cannot throw
  r.device_capability = cap;
  r.device_name = get(Field::DEVICE_NAME);
  r.serialized_metadata = get(Field::SERIALIZED_METADATA);
  r.target_platform = get(Field::TARGET_PLATFORM);
  r.torchtrt_version = get(Field::TORCHTRT_VERSION);
  r.trt_flavour = flavour;
  r.trt_version = get(Field::TRT_VERSION);
  r.engine_kind = kind;
  check_metadata_of(pre, r.serialized_metadata, r);
  r.engine = std::move(plan);
  if (!r.packing.chunks.empty()) r.packed_sha256 = digests.substr(0, 64);
  return r;
}

std::vector<std::string> text_fields(const EngineRecord& r, std::string engine_field, const std::string& plan_sha256) {
  std::vector<std::string> f(kNumFields);
  f[idx(Field::ABI_VERSION)] = kAbiVersion;
  f[idx(Field::NAME)] = r.name;
  f[idx(Field::DEVICE_ID)] = std::to_string(r.device_id);
  f[idx(Field::DEVICE_CAPABILITY)] = r.device_capability;
  f[idx(Field::DEVICE_NAME)] = r.device_name;
  f[idx(Field::ENGINE)] = std::move(engine_field);
  f[idx(Field::INPUT_BINDING_NAMES)] = join_names(r.input_binding_names);
  f[idx(Field::OUTPUT_BINDING_NAMES)] = join_names(r.output_binding_names);
  f[idx(Field::HW_COMPATIBLE)] = r.hardware_compatible ? "1" : "0";
  f[idx(Field::SERIALIZED_METADATA)] = r.serialized_metadata;
  f[idx(Field::TARGET_PLATFORM)] = r.target_platform;
  f[idx(Field::REQUIRES_OUTPUT_ALLOCATOR)] = r.requires_output_allocator ? "1" : "0";
  f[idx(Field::TORCHTRT_VERSION)] = r.torchtrt_version;
  f[idx(Field::TRT_FLAVOUR)] = r.trt_flavour;
  f[idx(Field::TRT_VERSION)] = r.trt_version;
  f[idx(Field::ENGINE_KIND)] = r.engine_kind;
  f[idx(Field::SHA256)] = plan_sha256 + kListSep + sha256_hex(r.serialized_metadata);
  return f;
}

void put_u64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) *out += static_cast<char>((v >> (8 * i)) & 0xff);
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

void check_abi(const std::string& pre, const std::string& abi, bool framed) {
  if (!all_digits(abi))
    throw RecordError(pre + "ABI version " + quoted(abi) + " is not a number (corrupted record?)");
  if (compare_decimal(abi, kAbiVersion) > 0)
    throw RecordError(pre + "record ABI " + abi + " is newer than this runtime's ABI " + kAbiVersion +
                      "; upgrade torch_tensorrt to load it");
  if (compare_decimal(abi, kMinAbiVersion) < 0)
    throw RecordError(pre + "record ABI " + abi + " is older than the oldest supported ABI " + kMinAbiVersion);
  const bool is_abi2 = compare_decimal(abi, kMinAbiVersion) == 0;
  if (framed && is_abi2)
    throw RecordError(pre + "record ABI " + abi + " is a list of strings, not framed bytes (corrupted record?)");
  if (!framed && !is_abi2)
    throw RecordError(pre + "record ABI " + abi + " is framed bytes, not a list of strings (corrupted record?)");
}

std::string frame(const std::vector<std::string>& fields) {
  std::size_t total = kMagicSize + 4;
  for (const auto& f : fields) total += 8 + f.size();
  std::string out;
  out.reserve(total);
  out.append(kRecordMagic, kMagicSize);
  const uint32_t count = static_cast<uint32_t>(fields.size());
  for (int i = 0; i < 4; ++i) out += static_cast<char>((count >> (8 * i)) & 0xff);
  for (const auto& f : fields) {
    put_u64(&out, f.size());
    out += f;
  }
  return out;
}

std::vector<std::pair<const char*, std::size_t>> unframe(const char* data, std::size_t n) {
  if (n < kMagicSize + 4)
    throw RecordError("engine record: " + std::to_string(n) + " bytes is too short to be a record (truncated?)");
  if (std::memcmp(data, kRecordMagic, kMagicSize) != 0)
    throw RecordError("engine record: the data does not start with the record magic (not an engine record?)");
  const uint64_t count = get_le(data + kMagicSize, 4);
  if (count > kMaxFields)
    throw RecordError("engine record: " + std::to_string(count) + " fields is more than any ABI has (corrupted record?)");
  std::vector<std::pair<const char*, std::size_t>> fields;
  std::size_t pos = kMagicSize + 4;
  for (uint64_t i = 0; i < count; ++i) {
    const std::string label = i < kNumFields ? kFieldNames[i] : "#" + std::to_string(i);
    if (n - pos < 8)
      throw RecordError("engine record: the data ends in the length of field " + label + " (truncated record)");
    const uint64_t size = get_le(data + pos, 8);
    pos += 8;
    if (size > n - pos)
      throw RecordError("engine record: field " + label + " has " + std::to_string(size) + " bytes but " +
                        std::to_string(n - pos) + " remain (truncated record)");
    fields.emplace_back(data + pos, static_cast<std::size_t>(size));
    pos += size;
  }
  if (pos != n)
    throw RecordError("engine record: " + std::to_string(n - pos) + " bytes after the last field (corrupted record?)");
  return fields;
}

EngineRecord EngineRecord::from_bytes(const char* data, std::size_t size) {
  return decode(unframe(data, size), /*framed=*/true);
}

EngineRecord EngineRecord::from_list(const std::vector<std::string>& fields) {
  const std::vector<std::string> upgraded = upgrade_abi2(fields);
  std::vector<std::pair<const char*, std::size_t>> views;
  for (const auto& f : upgraded) views.emplace_back(f.data(), f.size());
  return decode(views, /*framed=*/false);
}

std::string EngineRecord::to_bytes() const {
  const std::string digest = sha256_hex(engine);
  std::vector<std::string> fields = text_fields(*this, std::string(), digest);
  static const plan_pack::Packing kOneStoredChunk;  // empty: pack() stores the plan as one stored chunk
  const bool read_with = !packing.chunks.empty() && digest == packed_sha256;
  fields[idx(Field::ENGINE)] = plan_pack::pack(engine, read_with ? packing : kOneStoredChunk);
  return frame(fields);
}

std::vector<std::string> EngineRecord::header() const {
  return text_fields(*this, std::to_string(engine.size()), sha256_hex(engine));
}

void check_engine_kind(const EngineRecord& record, bool stand_in_runtime) {
  if (record.is_simulated() && !stand_in_runtime)
    throw RecordError(engine_prefix(record.name) +
                      "built under torch_tensorrt.testing.simulate(); cannot run on a real TensorRT runtime "
                      "(rebuild it without simulate() on a machine with TensorRT)");
}

}  // namespace torchtrt
