// Builder -> view round trips for every codec and record shape.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include "model/control_record.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_validator.h"
#include "model/record_batch_view.h"
#include "test_batches.h"

namespace sluice::model {
namespace {

using testing::MustBuild;
using testing::ReadAll;
using testing::Str;

constexpr Compression kCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                   Compression::kLz4, Compression::kZstd};

// An owned record, to compare against what the view returns.
struct Expected {
  int64_t timestamp;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

std::optional<Bytes> OptBytes(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return AsBytes(*s);
}

void AddAll(RecordBatchBuilder* b, const std::vector<Expected>& records) {
  for (const Expected& e : records) {
    std::vector<Header> headers;
    for (const auto& [k, v] : e.headers) headers.push_back({k, OptBytes(v)});
    b->Add(e.timestamp, OptBytes(e.key), OptBytes(e.value), headers);
  }
}

void ExpectRecords(std::span<const uint8_t> batch, const std::vector<Expected>& expected,
                   int64_t base_offset) {
  ASSERT_TRUE(ValidateRecordBatch(batch).ok()) << ValidateRecordBatch(batch).ToString();
  RecordIterator it = RecordBatchView::Parse(batch)->Records();
  Status status;
  std::vector<Record> got = ReadAll(batch, &it, &status);
  ASSERT_TRUE(status.ok()) << status.ToString();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const Record& r = got[i];
    const Expected& e = expected[i];
    EXPECT_EQ(r.offset, base_offset + static_cast<int64_t>(i));
    EXPECT_EQ(r.offset_delta, static_cast<int32_t>(i));
    EXPECT_EQ(r.timestamp, e.timestamp);
    EXPECT_EQ(r.key.has_value(), e.key.has_value()) << i;
    EXPECT_EQ(r.value.has_value(), e.value.has_value()) << i;
    EXPECT_EQ(Str(r.key), e.key.value_or("<null>"));
    EXPECT_EQ(Str(r.value), e.value.value_or("<null>"));
    ASSERT_EQ(r.headers.size(), e.headers.size()) << i;
    for (size_t h = 0; h < e.headers.size(); ++h) {
      EXPECT_EQ(r.headers[h].key, e.headers[h].first);
      ASSERT_EQ(r.headers[h].value.has_value(), e.headers[h].second.has_value());
      EXPECT_EQ(Str(r.headers[h].value), e.headers[h].second.value_or("<null>"));
    }
  }
}

std::vector<Expected> MixedRecords() {
  const std::string binary("\x00\x01\xff\xfe\x00", 5);
  return {
      {1700000000000, "key-0", "value-0", {{"h1", "v1"}}},
      {1700000000005, std::nullopt, "value without key", {}},
      {1700000000001, "tombstone", std::nullopt, {{"bin", binary}, {"null-h", std::nullopt}}},
      {1699999999000, "empty", "", {{"", ""}}},
      {1700000000002, std::nullopt, std::nullopt, {}},
  };
}

class RoundTripTest : public ::testing::TestWithParam<Compression> {};

TEST_P(RoundTripTest, MixedRecords) {
  RecordBatchBuilder b({.compression = GetParam(), .base_offset = 1000});
  const auto records = MixedRecords();
  AddAll(&b, records);
  const std::vector<uint8_t> batch = MustBuild(b);
  ExpectRecords(batch, records, 1000);
  auto view = RecordBatchView::Parse(batch);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->compression(), GetParam());
  EXPECT_EQ(view->header().record_count, 5);
  EXPECT_EQ(view->header().last_offset_delta, 4);
  EXPECT_EQ(view->header().base_timestamp, 1700000000000);
  EXPECT_EQ(view->header().max_timestamp, 1700000000005);
  EXPECT_EQ(view->header().last_offset(), 1004);
}

TEST_P(RoundTripTest, ManyRecords) {
  RecordBatchBuilder b({.compression = GetParam()});
  std::vector<Expected> records;
  for (int i = 0; i < 10000; ++i) {
    records.push_back({1700000000000 + i % 17, "k" + std::to_string(i),
                       std::string(static_cast<size_t>(i % 50), static_cast<char>('a' + i % 26)),
                       {}});
    if (i % 100 == 0) records.back().headers.push_back({"trace", std::to_string(i)});
  }
  AddAll(&b, records);
  ExpectRecords(MustBuild(b), records, 0);
}

TEST_P(RoundTripTest, BigValues) {
  RecordBatchBuilder b({.compression = GetParam()});
  std::mt19937 rng(1);
  std::string random(3 << 20, '\0');
  for (char& c : random) c = static_cast<char>(rng());
  const std::vector<Expected> records = {{1, "big", std::string(4 << 20, 'x'), {}},
                                         {2, "random", random, {{"h", random.substr(0, 100000)}}}};
  AddAll(&b, records);
  ExpectRecords(MustBuild(b), records, 0);
}

TEST_P(RoundTripTest, HeaderFieldsArePreserved) {
  RecordBatchBuilder b({.compression = GetParam(),
                        .timestamp_type = TimestampType::kLogAppendTime,
                        .log_append_time = 1800000000000,
                        .transactional = true,
                        .base_offset = 77,
                        .partition_leader_epoch = 5,
                        .producer_id = 123456789,
                        .producer_epoch = 3,
                        .base_sequence = 42});
  b.Add(10, AsBytes("a"), AsBytes("b"));
  b.Add(20, AsBytes("c"), AsBytes("d"));
  const std::vector<uint8_t> batch = MustBuild(b);
  ASSERT_TRUE(ValidateRecordBatch(batch).ok());
  auto view = RecordBatchView::Parse(batch);
  ASSERT_TRUE(view.ok());
  const RecordBatchHeader& h = view->header();
  EXPECT_EQ(h.base_offset, 77);
  EXPECT_EQ(h.partition_leader_epoch, 5);
  EXPECT_EQ(h.producer_id, 123456789);
  EXPECT_EQ(h.producer_epoch, 3);
  EXPECT_EQ(h.base_sequence, 42);
  EXPECT_TRUE(h.is_transactional());
  EXPECT_FALSE(h.is_control());
  EXPECT_EQ(h.timestamp_type(), TimestampType::kLogAppendTime);
  EXPECT_EQ(h.max_timestamp, 1800000000000);
  RecordIterator it = view->Records();
  Record r;
  while (it.Next(&r)) EXPECT_EQ(r.timestamp, 1800000000000);  // LogAppendTime wins.
  EXPECT_TRUE(it.status().ok());
  EXPECT_EQ(it.index(), 2);
}

TEST_P(RoundTripTest, ViewIgnoresBytesAfterTheBatch) {
  RecordBatchBuilder b({.compression = GetParam()});
  AddAll(&b, MixedRecords());
  std::vector<uint8_t> two = MustBuild(b);
  const size_t first = two.size();
  const std::vector<uint8_t> copy = two;
  two.insert(two.end(), copy.begin(), copy.end());
  auto view = RecordBatchView::Parse(two);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->bytes().size(), first);
  ExpectRecords(view->bytes(), MixedRecords(), 0);
}

INSTANTIATE_TEST_SUITE_P(AllCodecs, RoundTripTest, ::testing::ValuesIn(kCodecs),
                         [](const ::testing::TestParamInfo<Compression>& p) {
                           return std::string(compression::CodecName(p.param));
                         });

TEST(RecordBatchBuilderTest, RefusesEmptyBatchAndResets) {
  RecordBatchBuilder b;
  EXPECT_FALSE(b.Build().ok());
  b.Add(5, AsBytes("k"), AsBytes("v"));
  EXPECT_EQ(b.record_count(), 1);
  b.Reset();
  EXPECT_EQ(b.record_count(), 0);
  b.Add(6, std::nullopt, AsBytes("w"));
  const std::vector<uint8_t> batch = MustBuild(b);
  ExpectRecords(batch, {{6, std::nullopt, "w", {}}}, 0);
}

TEST(RecordBatchBuilderTest, TakesBracedHeaderLists) {
  // The usage shown in record_batch_builder.h.
  RecordBatchBuilder b({.compression = Compression::kLz4});
  b.Add(7, AsBytes("key"), AsBytes("value"), {{"h", AsBytes("v")}, {"n", std::nullopt}});
  ExpectRecords(MustBuild(b), {{7, "key", "value", {{"h", "v"}, {"n", std::nullopt}}}}, 0);
}

TEST(RecordBatchBuilderTest, UncompressedLayoutMatchesKafka) {
  // One record: key "k", value "v", timestamp = base, no headers. The bytes
  // after the 61-byte header follow DefaultRecord's layout exactly.
  RecordBatchBuilder b;
  b.Add(1000, AsBytes("k"), AsBytes("v"));
  const std::vector<uint8_t> batch = MustBuild(b);
  const std::vector<uint8_t> record = {0x10,        // length 8
                                       0x00,        // attributes
                                       0x00,        // timestamp delta 0
                                       0x00,        // offset delta 0
                                       0x02, 'k',   // key length 1
                                       0x02, 'v',   // value length 1
                                       0x00};       // no headers
  ASSERT_EQ(batch.size(), batch_layout::kHeaderSize + record.size());
  EXPECT_TRUE(std::equal(record.begin(), record.end(), batch.begin() + batch_layout::kHeaderSize));
  EXPECT_EQ(LoadBigEndian<int32_t>(batch.data() + batch_layout::kBatchLength),
            static_cast<int32_t>(batch.size() - 12));
  EXPECT_EQ(batch[batch_layout::kMagic], 2);
  EXPECT_TRUE(VerifyBatchCrc(batch));
}

}  // namespace
}  // namespace sluice::model

namespace sluice::model {
namespace {

// Writes the fuzzer's seed corpus when SLUICE_WRITE_FUZZ_SEEDS names a
// directory (fuzz/corpus/record_batch/); otherwise does nothing.
TEST(FuzzSeeds, WriteWhenAsked) {
  const char* dir = std::getenv("SLUICE_WRITE_FUZZ_SEEDS");
  if (dir == nullptr) GTEST_SKIP() << "set SLUICE_WRITE_FUZZ_SEEDS=fuzz/corpus/record_batch";
  auto write = [&](const std::string& name, const std::vector<uint8_t>& bytes) {
    std::ofstream out(std::string(dir) + "/" + name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    ASSERT_TRUE(out.good()) << name;
  };
  for (Compression c : kCodecs) {
    RecordBatchBuilder b({.compression = c, .producer_id = 7, .producer_epoch = 0, .base_sequence = 0});
    AddAll(&b, MixedRecords());
    write(std::string("builder_") + std::string(compression::CodecName(c)), MustBuild(b));
  }
  RecordBatchBuilder lat({.timestamp_type = TimestampType::kLogAppendTime, .log_append_time = 5});
  lat.Add(1, AsBytes("k"), AsBytes("v"));
  write("builder_log_append_time", MustBuild(lat));
  write("control_commit", *BuildEndTxnBatch(ControlType::kCommit, 7, 0, 3, 1700000000000));
}

}  // namespace
}  // namespace sluice::model
