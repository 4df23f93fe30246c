// How an ABI 4 record stores its plan (the ENGINE field): a chunked container whose text-like parts (per-layer
// metadata, generated kernel sources) are zstd-compressed and whose weights are stored verbatim.
//
// This header mirrors python/torch_tensorrt/runtime/_plan_pack.py, whose docstring is the format's spec: the
// layout constants, ``unpack`` (the same checks in the same order with the same messages;
// tests/reliability/bad_records.json drives both sides) and ``pack``, its inverse for a packing already decided.
// Deciding a packing (compressing) is Python's job only: a record read here is written back with the packing it
// was read with (its zstd frames kept byte for byte), a record built in C++ as one stored chunk.
//
// zstd is not linked: there are no zstd headers to build against, and a runtime whose records are all stored
// never needs it. The few functions of zstd's documented API that decoding uses are resolved with dlopen from
// libzstd.so.1 (else libzstd.so) the first time a record has a zstd chunk (ZstdLibrary::shared).
//
// Plain C++17, no Torch and no TensorRT (like record.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace torchtrt::plan_pack {

//! The first bytes of a packed plan.
inline constexpr char kPackMagic[] = "\x89TRTPLN\n";
inline constexpr std::size_t kPackMagicSize = 8;
//! Chunk codecs: the plan's bytes as they are, or one zstd frame whose header declares its content size.
inline constexpr uint8_t kCodecStored = 0;
inline constexpr uint8_t kCodecZstd = 1;
//! More chunks than packing a 1 TiB plan could make: a larger count is a corrupted record.
inline constexpr uint32_t kMaxChunks = 1u << 20;
//! Largest plan a record may declare (checked before anything is allocated for it).
inline constexpr uint64_t kMaxPlan = uint64_t(1) << 40;
//! Bytes of the header (magic, u64 plan size, u32 chunk count) and of each chunk's header (u8 codec, u64 raw
//! plan bytes, u64 size of the data that follows); integers little-endian.
inline constexpr std::size_t kHeadSize = kPackMagicSize + 8 + 4;
inline constexpr std::size_t kChunkHeadSize = 1 + 8 + 8;

//! One chunk: ``raw`` plan bytes from plan offset ``start``. ``data`` is the zstd frame of a zstd chunk (kept
//! from the record it was read from); a stored chunk keeps nothing (its bytes are the plan's).
struct Chunk {
  uint64_t start = 0;
  uint64_t raw = 0;
  uint8_t codec = kCodecStored;
  std::string data;
};

//! How a plan of ``plan_size`` bytes is stored. Empty (no chunks): none decided, ``pack`` stores the plan as one
//! stored chunk.
struct Packing {
  uint64_t plan_size = 0;
  std::vector<Chunk> chunks;

  //! Whether any chunk is zstd-compressed.
  bool compressed() const;
  //! Bytes of the ENGINE field this packing makes.
  std::size_t stored_size() const;
};

//! The packing that stores the whole plan verbatim (one stored chunk).
Packing stored(uint64_t plan_size);

//! The few functions of zstd's documented C API (zstd.h) that decoding uses, resolved with dlopen.
struct ZstdLibrary {
  //! ZSTD_getFrameContentSize's answers that are not a size.
  static constexpr unsigned long long kContentSizeUnknown = 0ULL - 1;
  static constexpr unsigned long long kContentSizeError = 0ULL - 2;

  std::size_t (*decompress)(void* dst, std::size_t dst_capacity, const void* src, std::size_t src_size) = nullptr;
  unsigned (*is_error)(std::size_t code) = nullptr;
  unsigned long long (*frame_content_size)(const void* src, std::size_t src_size) = nullptr;
  std::size_t (*find_frame_compressed_size)(const void* src, std::size_t src_size) = nullptr;
  //! Why the library is unusable ("libzstd.so.1 could not be loaded (<dlerror>)"); empty when loaded.
  std::string error;

  bool loaded() const { return error.empty(); }
  //! The functions from the first of ``names`` that dlopen (RTLD_NOW | RTLD_LOCAL) loads with all four symbols;
  //! never unloaded. When none does, ``error`` names the first and quotes its dlerror.
  static ZstdLibrary open(const std::vector<std::string>& names);
  //! libzstd.so.1, else libzstd.so: opened on first call, once per process (thread-safe).
  static const ZstdLibrary& shared();
};

//! Where ``unpack`` gets zstd from when the plan has a zstd chunk (called at most once per call, only then).
using ZstdSource = const ZstdLibrary& (*)();

//! The plan in a packed ENGINE field of ``size`` bytes at ``data``, and (``packing``, when not null) its packing,
//! so that writing the record again does not re-compress. ``pre`` starts every message ("engine 'name': ").
//! Throws RecordError (record.h) with _plan_pack.unpack's messages.
std::string unpack(const char* data, std::size_t size, const std::string& pre, Packing* packing = nullptr,
                   ZstdSource zstd = &ZstdLibrary::shared);

//! The ENGINE field storing ``plan`` with ``packing`` (its stored chunks sliced from the plan, its zstd chunks
//! the kept frames); an empty packing stores the plan as one stored chunk. std::invalid_argument when the packing
//! is for a plan of another size.
std::string pack(const std::string& plan, const Packing& packing);

}  // namespace torchtrt::plan_pack
