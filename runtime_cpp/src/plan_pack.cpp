// The packed plan of an ABI 4 record (ENGINE field): mirrors python/torch_tensorrt/runtime/_plan_pack.py's
// unpack (same checks, same order, same messages) and pieces (the field's bytes for a packing). zstd comes from
// libzstd.so.1 through dlopen (see plan_pack.h for why).
#include "torchtrt/plan_pack.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include "torchtrt/record.h"

namespace torchtrt::plan_pack {
namespace {

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void put_le(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) *out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// The sum of up to kMaxChunks u64 sizes does not fit in 64 bits; Python's message prints it exactly.
__extension__ typedef unsigned __int128 u128;

std::string decimal(u128 v) {
  std::string digits;
  do {
    digits += static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  return std::string(digits.rbegin(), digits.rend());
}

std::string dlerror_text() {
  const char* why = dlerror();
  return why ? why : "unknown dlopen error";
}

// A chunk as read from the field: its bytes are a view into it.
struct Span {
  uint8_t codec;
  uint64_t raw;
  const char* data;
  std::size_t size;
};

// Whether ``span`` is exactly one zstd frame declaring ``raw`` content bytes that decompresses, checksum
// included, to exactly ``raw`` bytes at ``dst``.
bool decompress_into(const ZstdLibrary& zstd, const Span& span, char* dst) {
  const std::size_t frame = zstd.find_frame_compressed_size(span.data, span.size);
  if (zstd.is_error(frame) || frame != span.size) return false;
  if (zstd.frame_content_size(span.data, span.size) != span.raw) return false;  // also UNKNOWN and ERROR
  const std::size_t out = zstd.decompress(dst, span.raw, span.data, span.size);
  return !zstd.is_error(out) && out == span.raw;
}

}  // namespace

bool Packing::compressed() const {
  return std::any_of(chunks.begin(), chunks.end(), [](const Chunk& c) { return c.codec == kCodecZstd; });
}

std::size_t Packing::stored_size() const {
  std::size_t n = kHeadSize;
  for (const Chunk& c : chunks) n += kChunkHeadSize + (c.codec == kCodecZstd ? c.data.size() : c.raw);
  return n;
}

Packing stored(uint64_t plan_size) {
  Packing p;
  p.plan_size = plan_size;
  p.chunks.push_back(Chunk{0, plan_size, kCodecStored, {}});
  return p;
}

ZstdLibrary ZstdLibrary::open(const std::vector<std::string>& names) {
  std::string first_error = "no zstd library to load";
  for (std::size_t k = 0; k < names.size(); ++k) {
    ZstdLibrary lib;
    std::string why;
    if (void* handle = dlopen(names[k].c_str(), RTLD_NOW | RTLD_LOCAL)) {
      auto resolve = [&](auto** fn, const char* symbol) {
        void* address = why.empty() ? dlsym(handle, symbol) : nullptr;
        if (why.empty() && !address) why = dlerror_text();
        *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(address);
      };
      resolve(&lib.decompress, "ZSTD_decompress");
      resolve(&lib.is_error, "ZSTD_isError");
      resolve(&lib.frame_content_size, "ZSTD_getFrameContentSize");
      resolve(&lib.find_frame_compressed_size, "ZSTD_findFrameCompressedSize");
      if (why.empty()) return lib;  // kept loaded for the life of the process
      dlclose(handle);
    } else {
      why = dlerror_text();
    }
    if (k == 0) first_error = names[k] + " could not be loaded (" + why + ")";
  }
  ZstdLibrary missing;
  missing.error = first_error;
  return missing;
}

const ZstdLibrary& ZstdLibrary::shared() {
  static const ZstdLibrary lib = open({"libzstd.so.1", "libzstd.so"});
  return lib;
}

std::string unpack(const char* data, std::size_t n, const std::string& engine_pre, Packing* packing,
                   ZstdSource zstd) {
  const std::string pre = engine_pre + "field ENGINE: ";
  if (n < kHeadSize)
    throw RecordError(pre + "packed plan is truncated (" + std::to_string(n) + " bytes, its header needs " +
                      std::to_string(kHeadSize) + ")");
  if (std::memcmp(data, kPackMagic, kPackMagicSize) != 0)
    throw RecordError(pre + "does not start with the packed-plan magic (corrupted record?)");
  const uint64_t plan_size = get_le(data + kPackMagicSize, 8);
  const uint64_t count = get_le(data + kPackMagicSize + 8, 4);
  if (plan_size > kMaxPlan)
    throw RecordError(pre + "declares a plan of " + std::to_string(plan_size) +
                      " bytes, more than 1 TiB (corrupted record?)");
  if (count < 1 || count > kMaxChunks)
    throw RecordError(pre + "chunk count " + std::to_string(count) + " is out of range [1, " +
                      std::to_string(kMaxChunks) + "] (corrupted record?)");
  std::vector<Span> spans;
  spans.reserve(std::min<std::size_t>(count, (n - kHeadSize) / kChunkHeadSize + 1));
  std::size_t pos = kHeadSize;
  u128 total = 0;
  for (uint64_t i = 0; i < count; ++i) {
    const std::string chunk = "chunk " + std::to_string(i);
    if (n - pos < kChunkHeadSize) throw RecordError(pre + chunk + ": the data ends in its header (truncated record)");
    const uint8_t codec = static_cast<uint8_t>(data[pos]);
    const uint64_t raw = get_le(data + pos + 1, 8);
    const uint64_t size = get_le(data + pos + 9, 8);
    pos += kChunkHeadSize;
    if (codec != kCodecStored && codec != kCodecZstd)
      throw RecordError(pre + chunk + ": unknown codec " + std::to_string(codec) + " (known: 0 stored, 1 zstd)");
    if (raw == 0) throw RecordError(pre + chunk + " is empty");
    if (size > n - pos)
      throw RecordError(pre + chunk + " has " + std::to_string(size) + " bytes but " + std::to_string(n - pos) +
                        " remain (truncated record)");
    if (codec == kCodecStored && size != raw)
      throw RecordError(pre + chunk + " is stored but holds " + std::to_string(size) + " bytes for " +
                        std::to_string(raw) + " plan bytes");
    spans.push_back(Span{codec, raw, data + pos, static_cast<std::size_t>(size)});
    pos += size;
    total += raw;
  }
  if (pos != n) throw RecordError(pre + std::to_string(n - pos) + " bytes after the last chunk (corrupted record?)");
  if (total != plan_size)
    throw RecordError(pre + "the chunks hold " + decimal(total) + " plan bytes, the header says " +
                      std::to_string(plan_size));
  if (count == 1 && spans[0].codec == kCodecStored) {
    if (packing) *packing = stored(plan_size);
    return std::string(spans[0].data, spans[0].size);
  }

  std::string plan(plan_size, '\0');
  Packing kept;
  kept.plan_size = plan_size;
  const ZstdLibrary* lib = nullptr;  // loaded at the first zstd chunk
  uint64_t at = 0;
  for (std::size_t i = 0; i < spans.size(); ++i) {
    const Span& s = spans[i];
    if (s.codec == kCodecStored) {
      std::memcpy(plan.data() + at, s.data, s.size);
      kept.chunks.push_back(Chunk{at, s.raw, kCodecStored, {}});
    } else {
      if (!lib) {
        lib = &zstd();
        if (!lib->loaded()) throw RecordError(pre + "the plan is zstd-compressed and " + lib->error);
      }
      if (!decompress_into(*lib, s, plan.data() + at))
        throw RecordError(pre + "chunk " + std::to_string(i) + ": the zstd data does not decompress to its " +
                          std::to_string(s.raw) + " plan bytes (corrupted record?)");
      kept.chunks.push_back(Chunk{at, s.raw, kCodecZstd, std::string(s.data, s.size)});
    }
    at += s.raw;
  }
  if (packing) *packing = std::move(kept);
  return plan;
}

std::string pack(const std::string& plan, const Packing& packing) {
  const Packing one = packing.chunks.empty() ? stored(plan.size()) : Packing{};
  const Packing& p = packing.chunks.empty() ? one : packing;
  if (p.plan_size != plan.size())
    throw std::invalid_argument("packing is for a plan of " + std::to_string(p.plan_size) + " bytes, got " +
                                std::to_string(plan.size()));
  std::string out;
  out.reserve(p.stored_size());
  out.append(kPackMagic, kPackMagicSize);
  put_le(&out, p.plan_size, 8);
  put_le(&out, p.chunks.size(), 4);
  for (const Chunk& c : p.chunks) {
    const bool zstd = c.codec == kCodecZstd;
    if (!zstd && (c.start > plan.size() || c.raw > plan.size() - c.start))
      throw std::invalid_argument("stored chunk at " + std::to_string(c.start) + " of " + std::to_string(c.raw) +
                                  " bytes is outside the plan of " + std::to_string(plan.size()) + " bytes");
    out += static_cast<char>(c.codec);
    put_le(&out, c.raw, 8);
    put_le(&out, zstd ? c.data.size() : c.raw, 8);
    if (zstd) out += c.data;
    else out.append(plan, c.start, c.raw);
  }
  return out;
}

}  // namespace torchtrt::plan_pack
