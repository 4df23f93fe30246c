// The engine record: the ordered list of strings that the Python and the C++ runtime share.
//
// This header mirrors python/torch_tensorrt/runtime/_record.py field by field (Field, ABI_VERSION,
// LIST_SEP, the ENGINE_KIND values) and EngineRecord::from_list applies the same validation rules, in the
// same order, with the same error messages (the checks of untrusted text live in record_check.h, mirroring
// runtime/_record_check.py). tests/reliability/bad_records.json drives both sides' tests.
//
// Untrusted text is parsed without exceptions (record_check.cpp returns false and a reason); from_list turns a
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
#include <vector>

namespace torchtrt {

//! Bumped whenever a field is added, removed or re-encoded. A record with a larger ABI is refused.
inline constexpr char kAbiVersion[] = "2";
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
  ENGINE = 5,
  INPUT_BINDING_NAMES = 6,
  OUTPUT_BINDING_NAMES = 7,
  HW_COMPATIBLE = 8,
  SERIALIZED_METADATA = 9,
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

//! Decoded form of a record. ``serialized_metadata`` stays encoded: it is opaque to C++.
struct EngineRecord {
  std::string abi_version = kAbiVersion;
  std::string name;
  int64_t device_id = 0;
  std::string device_capability;
  std::string device_name;
  std::string engine;  // the decoded plan bytes
  std::vector<std::string> input_binding_names;
  std::vector<std::string> output_binding_names;
  bool hardware_compatible = false;
  std::string serialized_metadata;  // base64 of the metadata JSON, kept as is (validated by from_list)
  std::string target_platform;
  bool requires_output_allocator = false;
  std::string torchtrt_version;
  std::string trt_flavour;
  std::string trt_version;
  std::string engine_kind = kKindTensorRT;

  //! Validate and decode; every problem is a RecordError naming the engine and the field. Verifies the SHA-256
  //! of the engine and of the metadata, and the metadata's schema (binding names, shape expressions, dtypes).
  static EngineRecord from_list(const std::vector<std::string>& fields);
  //! Encode back into the field list (round-trips what from_list accepted, byte for byte; SHA256 is computed).
  std::vector<std::string> to_list() const;
  bool is_simulated() const { return engine_kind == kKindSimulated; }
};

//! Refuses records this runtime cannot execute: simulated engines (built under
//! torch_tensorrt.testing.simulate()) on a real TensorRT runtime. ``stand_in_runtime`` is true only in the
//! test build against the stand-in TensorRT, which plays the simulated runtime's part.
void check_engine_kind(const EngineRecord& record, bool stand_in_runtime);

std::vector<std::string> split_names(const std::string& joined);
std::string join_names(const std::vector<std::string>& names);

//! Standard alphabet, padded. decode accepts canonical base64 only (runtime/_record.py b64_problem): returns
//! false and the same reason as Python on a bad length, a character outside the alphabet, misplaced padding or
//! non-zero padding bits.
std::string base64_encode(const std::string& bytes);
bool base64_decode(const std::string& text, std::string* out, std::string* why);

//! Lowercase hex SHA-256 of ``bytes``.
std::string sha256_hex(const std::string& bytes);

//! ``'text'`` the way record messages quote text: Python's repr for ASCII, other characters as they are.
std::string quoted(const std::string& text);

}  // namespace torchtrt
