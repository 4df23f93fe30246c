// The shared table of bad records (tests/reliability/bad_records.json, path in TORCHTRT_BAD_RECORDS) as the C++
// tests read it: parsed once with the runtime's own JSON reader, and its hex-written bytes decoded.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "torchtrt/record_check.h"

namespace torchtrt_test {

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

//! The parsed table (read on first use); std::runtime_error when the file is missing or not JSON.
inline const torchtrt::JsonValue& bad_records_table() {
  static const torchtrt::JsonValue parsed = [] {
    std::ifstream in(TORCHTRT_BAD_RECORDS, std::ios::binary);
    if (!in.good()) throw std::runtime_error(std::string("cannot read ") + TORCHTRT_BAD_RECORDS);
    std::stringstream text;
    text << in.rdbuf();
    torchtrt::JsonValue v;
    std::string why;
    if (!torchtrt::parse_json(text.str(), &v, &why)) throw std::runtime_error("bad_records.json: " + why);
    return v;
  }();
  return parsed;
}

}  // namespace torchtrt_test
