// The packed plan of ABI 4 records (runtime_cpp/src/plan_pack.cpp), no Torch or TensorRT involved: records Python
// made (the valid ABI 4 cases of tests/reliability/bad_records.json, whose zstd frames python-zstandard wrote) are
// decoded and written back byte for byte, the packing a record keeps for to_bytes, multi-chunk packings, and how
// libzstd is found (dlopen, only for a plan that has a zstd chunk). The table's refusals run in test_record.cpp.

#include "bad_records_table.h"
#include "mini_test.h"
#include "torchtrt/plan_pack.h"
#include "torchtrt/record.h"
#include "torchtrt/record_check.h"

using namespace torchtrt;
using namespace torchtrt::plan_pack;

namespace {

const std::string kPlan("plan\0bytes\xff", 11);  // the table's plan
const std::string kPre = "engine 'adder': ";

using torchtrt_test::from_hex;

const JsonValue& table() { return torchtrt_test::bad_records_table(); }

const JsonValue& table_case(const std::string& id) {
  for (const auto& c : table().get("cases")->items)
    if (c.get("id")->text == id) return c;
  throw std::runtime_error("bad_records.json has no case " + id);
}

// The packed ENGINE field of a valid ABI 4 case, and the case's framed record (the table's base record with the
// case's ABI_VERSION and ENGINE).
std::string packed_field(const std::string& id) { return from_hex(table_case(id).get("engine_hex")->text); }

std::string framed_case(const std::string& id) {
  std::vector<std::string> fields;
  for (const auto& v : table().get("base")->items) fields.push_back(v.text);
  fields[idx(Field::ABI_VERSION)] = table_case(id).get("set")->get("ABI_VERSION")->text;
  fields[idx(Field::ENGINE)] = packed_field(id);
  return frame(fields);
}

std::string engine_field(const std::string& framed) {
  const auto fields = unframe(framed.data(), framed.size());
  return std::string(fields[idx(Field::ENGINE)].first, fields[idx(Field::ENGINE)].second);
}

std::string unpack_error(const std::string& field, ZstdSource zstd = &ZstdLibrary::shared) {
  try {
    unpack(field.data(), field.size(), kPre, nullptr, zstd);
  } catch (const RecordError& e) {
    return e.what();
  }
  return "";
}

int zstd_loads = 0;
const ZstdLibrary& counting_source() {
  ++zstd_loads;
  return ZstdLibrary::shared();
}

const ZstdLibrary& missing_source() {
  static const ZstdLibrary lib = ZstdLibrary::open({"libzstd-missing.so.9"});
  return lib;
}

void expect_chunk(const Chunk& c, uint64_t start, uint64_t raw, uint8_t codec, const std::string& data) {
  EXPECT_EQ(c.start, start);
  EXPECT_EQ(c.raw, raw);
  EXPECT_EQ(int(c.codec), int(codec));
  EXPECT(c.data == data);
}

}  // namespace

TEST(records_python_made_are_written_back_byte_for_byte) {
  for (const char* id : {"abi4-stored", "abi4-zstd", "abi4-mixed", "abi4-two-zstd"}) {
    const std::string framed = framed_case(id);
    const EngineRecord r = EngineRecord::from_bytes(framed);
    EXPECT_EQ(r.abi_version, "4");
    EXPECT_EQ(r.engine, kPlan);
    EXPECT(r.to_bytes() == framed);
    EXPECT(EngineRecord(r).to_bytes() == framed);  // a copy keeps the packing
    EXPECT_EQ(r.header()[idx(Field::ENGINE)], "11");
  }
}

TEST(zstd_chunks_are_kept_verbatim) {
  // abi4-mixed: "pla" stored, "n\0byt" one zstd frame (18 bytes), "es\xff" stored.
  const std::string field = packed_field("abi4-mixed");
  const std::string frame_bytes = field.substr(kHeadSize + kChunkHeadSize + 3 + kChunkHeadSize, 18);
  EXPECT_EQ(frame_bytes.substr(0, 4), std::string("\x28\xb5\x2f\xfd"));  // zstd's frame magic
  const EngineRecord r = EngineRecord::from_bytes(framed_case("abi4-mixed"));
  EXPECT_EQ(r.packing.plan_size, 11u);
  EXPECT_EQ(r.packing.chunks.size(), 3u);
  expect_chunk(r.packing.chunks[0], 0, 3, kCodecStored, "");  // stored chunks keep no copy
  expect_chunk(r.packing.chunks[1], 3, 5, kCodecZstd, frame_bytes);
  expect_chunk(r.packing.chunks[2], 8, 3, kCodecStored, "");
  EXPECT(r.packing.compressed());
  EXPECT_EQ(r.packing.stored_size(), field.size());
  EXPECT_EQ(r.packed_sha256, sha256_hex(kPlan));
  EXPECT(engine_field(r.to_bytes()) == field);
}

TEST(two_zstd_chunks) {
  Packing p;
  EXPECT_EQ(unpack(packed_field("abi4-two-zstd").data(), packed_field("abi4-two-zstd").size(), kPre, &p), kPlan);
  EXPECT_EQ(p.chunks.size(), 2u);
  EXPECT_EQ(int(p.chunks[0].codec), int(kCodecZstd));
  EXPECT_EQ(p.chunks[1].start, 4u);
  EXPECT_EQ(pack(kPlan, p), packed_field("abi4-two-zstd"));
}

TEST(multi_chunk_stored_packing_round_trip) {
  // A plan of 200 000 bytes in five stored chunks of uneven sizes: pack, unpack, the same packing back.
  std::string plan(200000, '\0');
  for (std::size_t i = 0; i < plan.size(); ++i) plan[i] = static_cast<char>((i * 131) ^ (i >> 7));
  Packing p;
  p.plan_size = plan.size();
  const uint64_t cuts[] = {0, 1, 65536, 65537, 131072, 200000};
  for (int i = 0; i < 5; ++i) p.chunks.push_back(Chunk{cuts[i], cuts[i + 1] - cuts[i], kCodecStored, {}});
  const std::string field = pack(plan, p);
  EXPECT_EQ(field.size(), p.stored_size());
  EXPECT_EQ(field.size(), kHeadSize + 5 * kChunkHeadSize + plan.size());
  Packing back;
  zstd_loads = 0;
  EXPECT(unpack(field.data(), field.size(), kPre, &back, &counting_source) == plan);
  EXPECT_EQ(zstd_loads, 0);  // no zstd chunk: libzstd is not needed
  EXPECT_EQ(back.chunks.size(), 5u);
  for (int i = 0; i < 5; ++i) expect_chunk(back.chunks[i], cuts[i], cuts[i + 1] - cuts[i], kCodecStored, "");
  EXPECT(!back.compressed());
  EXPECT(pack(plan, back) == field);
  // The same plan with the table's zstd frame of "n\0byt" cannot pass for these bytes: a corrupted chunk.
  Packing bad = p;
  bad.chunks[0].codec = kCodecZstd;
  bad.chunks[0].data = packed_field("abi4-mixed").substr(kHeadSize + kChunkHeadSize + 3 + kChunkHeadSize, 18);
  const std::string bad_field = pack(plan, bad);
  EXPECT_EQ(unpack_error(bad_field),
            "engine 'adder': field ENGINE: chunk 0: the zstd data does not decompress to its 1 plan bytes "
            "(corrupted record?)");
}

TEST(zstd_is_loaded_once_and_only_for_zstd_chunks) {
  zstd_loads = 0;
  const std::string stored_field = packed_field("abi4-stored");
  EXPECT_EQ(unpack(stored_field.data(), stored_field.size(), kPre, nullptr, &counting_source), kPlan);
  EXPECT_EQ(zstd_loads, 0);
  const std::string two = packed_field("abi4-two-zstd");
  EXPECT_EQ(unpack(two.data(), two.size(), kPre, nullptr, &counting_source), kPlan);
  EXPECT_EQ(zstd_loads, 1);  // asked once for the two zstd chunks
}

TEST(a_replaced_plan_is_stored_whole) {
  EngineRecord r = EngineRecord::from_bytes(framed_case("abi4-mixed"));
  r.engine = "another plan";  // the kept packing belongs to the plan read, not to this one
  const std::string framed = r.to_bytes();
  EXPECT_EQ(engine_field(framed), pack("another plan", stored(12)));
  EXPECT_EQ(EngineRecord::from_bytes(framed).engine, "another plan");
}

TEST(a_missing_libzstd_is_a_record_error) {
  const ZstdLibrary& missing = missing_source();
  EXPECT(!missing.loaded());
  EXPECT_EQ(missing.error,
            "libzstd-missing.so.9 could not be loaded (libzstd-missing.so.9: cannot open shared object file: No "
            "such file or directory)");
  EXPECT_EQ(unpack_error(packed_field("abi4-zstd"), &missing_source),
            "engine 'adder': field ENGINE: the plan is zstd-compressed and libzstd-missing.so.9 could not be "
            "loaded (libzstd-missing.so.9: cannot open shared object file: No such file or directory)");
  EXPECT_EQ(unpack_error(packed_field("abi4-stored"), &missing_source), "");  // stored plans need no zstd
  // The structure is checked before zstd is asked for.
  EXPECT_EQ(unpack_error(packed_field("abi4-zstd") + "x", &missing_source),
            "engine 'adder': field ENGINE: 1 bytes after the last chunk (corrupted record?)");
}

TEST(libzstd_is_found) {
  EXPECT_EQ(ZstdLibrary::shared().error, "");  // libzstd.so.1 (package libzstd1) is on every supported system
  EXPECT(&ZstdLibrary::shared() == &ZstdLibrary::shared());
  EXPECT(ZstdLibrary::open({"libzstd-missing.so.9", "libzstd.so.1"}).loaded());  // the next name is tried
  const ZstdLibrary not_zstd = ZstdLibrary::open({"libc.so.6"});
  EXPECT(!not_zstd.loaded());
  EXPECT(not_zstd.decompress == nullptr);
  EXPECT(not_zstd.error.rfind("libc.so.6 could not be loaded (", 0) == 0);
  EXPECT(not_zstd.error.find("ZSTD_decompress") != std::string::npos);
}

TEST(chunk_sizes_are_summed_beyond_64_bits) {
  // Two zstd chunks of 2^64 - 1 and 12 plan bytes: Python's message prints the exact sum.
  const std::string field = from_hex(
      "89545254504c4e0a0b000000000000000200000001ffffffffffffffff010000000000000078010c00000000000000010000000000000079");
  EXPECT_EQ(unpack_error(field),
            "engine 'adder': field ENGINE: the chunks hold 18446744073709551627 plan bytes, the header says 11");
}

TEST(pack_refuses_a_packing_of_another_plan) {
  EXPECT_THROWS_WITH(pack("abc", stored(4)), "packing is for a plan of 4 bytes, got 3");
  Packing outside = stored(3);
  outside.chunks[0].start = 1;
  EXPECT_THROWS_WITH(pack("abc", outside), "stored chunk at 1 of 3 bytes is outside the plan of 3 bytes");
  EXPECT_EQ(pack("abc", Packing{}), pack("abc", stored(3)));  // no packing: one stored chunk
}

MINI_TEST_MAIN()
