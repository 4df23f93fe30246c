// The engine record: the fields that the Python and the C++ runtime share, framed into one byte string.
//
// This header mirrors python/torch_tensorrt/runtime/_record.py field by field (Field, ABI_VERSION,
// LIST_SEP, the ENGINE_KIND values) and _record_frame.py (the framing: magic, u32 field count, then each field as
// a u64 length and its bytes, little-endian). ABI 4: ENGINE holds the plan packed (plan_pack.h, mirroring
// _plan_pack.py: its metadata and kernel sources zstd-compressed, its weights verbatim), SERIALIZED_METADATA the
// JSON text. ABI 3 records (framed, ENGINE the plan raw) are still read, and ABI 2 records (a list of strings,
// both in base64) through from_list (record_abi2.cpp). In memory, EngineRecord::engine is always the plain plan.
// EngineRecord::from_bytes applies the same validation rules, in the same order, with the same error messages
// (the checks of untrusted text live in record_check.h, mirroring runtime/_record_check.py).
// tests/reliability/bad_records.json drives both sides' tests.
//
// Untrusted text is parsed without exceptions (record_check.cpp returns false and a reason); from_bytes turns a
// problem into a RecordError, which the Torch boundary (engine.cpp, register.cpp) converts to a ValueError. No
// noexcept path ever sees record text.
//
// No Torch and no TensorRT here: the record code is plain C++17 so that it can be unit-tested quickly.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "torchtrt/plan_pack.h"

namespace torchtrt {

//! Bumped whenever a field is added, removed or re-encoded. A record with a larger ABI is refused.
inline constexpr char kAbiVersion[] = "4";
//! The first ABI whose ENGINE is packed (plan_pack.h); ABI 3 stores the plan raw.
inline constexpr char kPackedAbiVersion[] = "4";
//! The oldest ABI still read (a list of strings, ENGINE and SERIALIZED_METADATA in base64: from_list).
inline constexpr char kMinAbiVersion[] = "2";
//! The first bytes of every framed record.
inline constexpr char kRecordMagic[] = "\x89TRTREC\n";
inline constexpr std::size_t kMagicSize = 8;
//! More fields than any ABI will have: a larger count is a corrupted record.
inline constexpr uint32_t kMaxFields = 1024;
//! Separator of name lists (ASCII unit separator).
inline constexpr char kListSep = '\x1f';
//! Values of the ENGINE_KIND field.
inline constexpr char kKindTensorRT[] = "tensorrt";
inline constexpr char kKindSimulated[] = "simulated";

//! Index of each entry of a serialized record. Order is part of the ABI.
enum class Field : std::size_t {
  ABI_VERSION = 0,
  NAME = 1,
  DEVICE_ID = 2,
  DEVICE_CAPABILITY = 3,
  DEVICE_NAME = 4,
  ENGINE = 5,  // the plan, packed (ABI 3: raw bytes; ABI 2: base64)
  INPUT_BINDING_NAMES = 6,
  OUTPUT_BINDING_NAMES = 7,
  HW_COMPATIBLE = 8,
  SERIALIZED_METADATA = 9,  // UTF-8 JSON (ABI 2: base64 of it)
  TARGET_PLATFORM = 10,
  REQUIRES_OUTPUT_ALLOCATOR = 11,
  TORCHTRT_VERSION = 12,
  TRT_FLAVOUR = 13,
  TRT_VERSION = 14,
  ENGINE_KIND = 15,
  SHA256 = 16,  // sha256(engine) kListSep sha256(metadata bytes), lowercase hex
};

inline constexpr std::size_t kNumFields = 17;

//! Field names in Field order (what Python's ``[f.name for f in Field]`` gives).
inline constexpr std::array<const char*, kNumFields> kFieldNames = {
    "ABI_VERSION",       "NAME",     "DEVICE_ID",           "DEVICE_CAPABILITY", "DEVICE_NAME",
    "ENGINE",            "INPUT_BINDING_NAMES",             "OUTPUT_BINDING_NAMES",
    "HW_COMPATIBLE",     "SERIALIZED_METADATA",             "TARGET_PLATFORM",
    "REQUIRES_OUTPUT_ALLOCATOR",    "TORCHTRT_VERSION",     "TRT_FLAVOUR",       "TRT_VERSION",
    "ENGINE_KIND",       "SHA256",
};

constexpr std::size_t idx(Field f) { return static_cast<std::size_t>(f); }
inline const char* field_name(Field f) { return kFieldNames[idx(f)]; }

//! A serialized record that cannot be used (truncated, corrupted, newer ABI, ...).
class RecordError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

//! Decoded form of a record. ``serialized_metadata`` stays JSON text: C++ validates it but keeps no parsed form.
struct EngineRecord {
  std::string abi_version = kAbiVersion;
  std::string name;
  int64_t device_id = 0;
  std::string device_capability;
  std::string device_name;
  std::string engine;  // the plan (decoded: unpacked, or from base64)
  std::vector<std::string> input_binding_names;
  std::vector<std::string> output_binding_names;
  bool hardware_compatible = false;
  std::string serialized_metadata;  // the metadata JSON, as recorded (validated by from_bytes)
  std::string target_platform;
  bool requires_output_allocator = false;
  std::string torchtrt_version;
  std::string trt_flavour;
  std::string trt_version;
  std::string engine_kind = kKindTensorRT;
  //! How to_bytes() stores the plan: the packing the record was read with (ABI 4; its zstd frames kept, so that
  //! saving again never re-compresses), used while ``engine`` still has the SHA-256 ``packed_sha256`` it was read
  //! with. Otherwise (a record built in C++, read from ABI 2 or 3, or its plan replaced): one stored chunk.
  plan_pack::Packing packing;
  std::string packed_sha256;

  //! Validate and decode framed bytes (ABI 3 or 4); every problem is a RecordError naming the engine and the
  //! field. Unpacks the plan of an ABI 4 record, verifies the SHA-256 of the (unpacked) plan and of the metadata,
  //! and the metadata's schema (binding names, shape expressions, dtypes).
  static EngineRecord from_bytes(const char* data, std::size_t size);
  static EngineRecord from_bytes(const std::string& data) { return from_bytes(data.data(), data.size()); }
  //! Validate and decode an ABI 2 record (list of strings, ENGINE and SERIALIZED_METADATA in base64).
  static EngineRecord from_list(const std::vector<std::string>& fields);
  //! The framed bytes of this record (ABI 4, the plan stored with ``packing``; SHA256 is computed).
  std::string to_bytes() const;
  //! The text fields, ENGINE replaced by the plan's size in decimal (what __obj_flatten__ gives torch.export).
  std::vector<std::string> header() const;
  bool is_simulated() const { return engine_kind == kKindSimulated; }
};

//! Refuses records this runtime cannot execute: simulated engines (built under
//! torch_tensorrt.testing.simulate()) on a real TensorRT runtime. ``stand_in_runtime`` is true only in the
//! test build against the stand-in TensorRT, which plays the simulated runtime's part.
void check_engine_kind(const EngineRecord& record, bool stand_in_runtime);

std::vector<std::string> split_names(const std::string& joined);
std::string join_names(const std::vector<std::string>& names);

//! The framing (runtime/_record_frame.py): ``frame`` joins fields; ``unframe`` splits framed bytes into views of
//! them (RecordError on a bad magic, a truncated field or trailing bytes, with Python's messages).
std::string frame(const std::vector<std::string>& fields);
std::vector<std::pair<const char*, std::size_t>> unframe(const char* data, std::size_t size);

//! ABI 2 (record_abi2.cpp, mirroring runtime/_record_abi2.py): the record's fields with ENGINE and
//! SERIALIZED_METADATA decoded from base64; RecordError on what only ABI 2 can get wrong.
std::vector<std::string> upgrade_abi2(const std::vector<std::string>& fields);
//! Standard alphabet, padded. decode accepts canonical base64 only (runtime/_record_abi2.py b64_problem): returns
//! false and the same reason as Python on a bad length, a character outside the alphabet, misplaced padding or
//! non-zero padding bits.
std::string base64_encode(const std::string& bytes);
bool base64_decode(const std::string& text, std::string* out, std::string* why);
//! The ABI_VERSION rules shared by both forms (``framed``: ABI 3 or 4 bytes; otherwise an ABI 2 list).
void check_abi(const std::string& pre, const std::string& abi, bool framed);

//! Lowercase hex SHA-256 of ``size`` bytes at ``data``.
std::string sha256_hex(const char* data, std::size_t size);
inline std::string sha256_hex(const std::string& bytes) { return sha256_hex(bytes.data(), bytes.size()); }

//! ``'text'`` the way record messages quote text: Python's repr for ASCII, other characters as they are.
std::string quoted(const std::string& text);

}  // namespace torchtrt
