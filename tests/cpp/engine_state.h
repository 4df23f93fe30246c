// The C++ engine's state as its constructor and __setstate__ take it: a framed record (or any bytes, for tests of
// bad input) as a 1-D uint8 tensor.
#pragma once

#include <ATen/ATen.h>

#include <cstring>
#include <string>

#include "torchtrt/record.h"

namespace torchtrt_test {

inline c10::IValue bytes_state(const std::string& bytes) {
  at::Tensor t = at::empty({static_cast<int64_t>(bytes.size())}, at::kByte);
  std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  return t;
}

inline c10::IValue engine_state(const torchtrt::EngineRecord& r) { return bytes_state(r.to_bytes()); }

}  // namespace torchtrt_test
