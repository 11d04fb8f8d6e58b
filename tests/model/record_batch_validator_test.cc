// Corrupt, truncated and hostile batches: every one must give an error
// (never a crash, never an allocation sized by the attacker).
#include "model/record_batch_validator.h"

#include <gtest/gtest.h>

#include "model/record_batch_builder.h"
#include "model/record_batch_view.h"
#include "model/varint.h"
#include "test_batches.h"

namespace sluice::model {
namespace {

using testing::FixCrc;
using testing::MustBuild;

constexpr Compression kAllCodecs[] = {Compression::kNone, Compression::kGzip, Compression::kSnappy,
                                   Compression::kLz4, Compression::kZstd};

std::vector<uint8_t> SampleBatch(Compression c = Compression::kNone) {
  RecordBatchBuilder b({.compression = c, .producer_id = 9, .producer_epoch = 1, .base_sequence = 0});
  const Header headers[] = {{"h", AsBytes("hv")}, {"n", std::nullopt}};
  for (int i = 0; i < 5; ++i) {
    b.Add(1000 + i, AsBytes("key" + std::to_string(i)), AsBytes(std::string(30, 'v')), headers);
  }
  return MustBuild(b);
}

// A batch around hand-written records section bytes, with a valid CRC.
std::vector<uint8_t> RawBatch(std::span<const uint8_t> records, int32_t count,
                              int32_t last_offset_delta) {
  std::vector<uint8_t> batch(batch_layout::kHeaderSize + records.size());
  std::copy(records.begin(), records.end(), batch.begin() + batch_layout::kHeaderSize);
  RecordBatchHeader h;
  h.batch_length = static_cast<int32_t>(batch.size() - batch_layout::kLogOverhead);
  h.record_count = count;
  h.last_offset_delta = last_offset_delta;
  WriteRecordBatchHeader(h, batch);
  FixCrc(&batch);
  return batch;
}

// One record with explicit (possibly lying) fields.
std::vector<uint8_t> RawRecord(int32_t offset_delta, int32_t key_len, int32_t value_len,
                               int32_t header_count, size_t payload_bytes = 0) {
  std::vector<uint8_t> body = {0};
  AppendVarlong(&body, 0);
  AppendVarint(&body, offset_delta);
  AppendVarint(&body, key_len);
  AppendVarint(&body, value_len);
  AppendVarint(&body, header_count);
  body.insert(body.end(), payload_bytes, 'x');
  std::vector<uint8_t> out;
  AppendVarint(&out, static_cast<int32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void ExpectCorruption(std::span<const uint8_t> batch, std::string_view needle) {
  Status s = ValidateRecordBatch(batch);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find(needle), std::string::npos) << "message: " << s.message();
}

TEST(ValidatorTest, AcceptsBuiltBatchesOfEveryCodec) {
  for (Compression c : kAllCodecs) {
    Status s = ValidateRecordBatch(SampleBatch(c));
    EXPECT_TRUE(s.ok()) << compression::CodecName(c) << ": " << s.ToString();
  }
}

TEST(ValidatorTest, DetectsEveryCrcCoveredByteFlip) {
  for (Compression c : kAllCodecs) {
    const std::vector<uint8_t> good = SampleBatch(c);
    for (size_t i = batch_layout::kAttributes; i < good.size(); ++i) {
      std::vector<uint8_t> bad = good;
      bad[i] ^= 0x10;
      Status s = ValidateRecordBatch(bad);
      EXPECT_TRUE(s.IsCorruption()) << "byte " << i;
      EXPECT_NE(s.message().find("CRC"), std::string::npos) << s.message();
    }
    // The stored CRC itself.
    std::vector<uint8_t> bad = good;
    bad[batch_layout::kCrc] ^= 1;
    ExpectCorruption(bad, "CRC");
    // base_offset and partition_leader_epoch are outside the CRC on purpose.
    std::vector<uint8_t> moved = good;
    SetBaseOffset(moved, 123456);
    SetPartitionLeaderEpoch(moved, 9);
    EXPECT_TRUE(ValidateRecordBatch(moved).ok());
  }
}

TEST(ValidatorTest, TruncationAtEveryByteIsAnError) {
  for (Compression c : kAllCodecs) {
    const std::vector<uint8_t> good = SampleBatch(c);
    for (size_t n = 0; n < good.size(); ++n) {
      std::span<const uint8_t> prefix(good.data(), n);
      EXPECT_FALSE(ValidateRecordBatch(prefix).ok()) << n;
      EXPECT_FALSE(RecordBatchView::Parse(prefix).ok()) << n;
    }
  }
}

TEST(ValidatorTest, TruncatedRecordsWithConsistentHeaderAreErrors) {
  // Records section cut at every byte, header and CRC rewritten to match, so
  // the record decoder itself must notice.
  for (Compression c : {Compression::kNone, Compression::kLz4}) {
    RecordBatchBuilder b({.compression = Compression::kNone});
    const Header headers[] = {{"hk", AsBytes("hv")}};
    b.Add(1, AsBytes("key"), AsBytes("value"), headers);
    b.Add(2, std::nullopt, AsBytes("v2"), headers);
    const std::vector<uint8_t> full = MustBuild(b);
    std::span<const uint8_t> records(full.data() + batch_layout::kHeaderSize,
                                     full.size() - batch_layout::kHeaderSize);
    for (size_t n = 0; n < records.size(); ++n) {
      std::vector<uint8_t> payload;
      ASSERT_TRUE(compression::CompressInto(c, records.first(n), &payload).ok());
      std::vector<uint8_t> batch = RawBatch(payload, 2, 1);
      StoreBigEndian<int16_t>(batch.data() + batch_layout::kAttributes, static_cast<int16_t>(c));
      FixCrc(&batch);
      EXPECT_TRUE(ValidateRecordBatch(batch).IsCorruption()) << n;
      auto view = RecordBatchView::Parse(batch);
      ASSERT_TRUE(view.ok());
      RecordIterator it = view->Records();
      Record r;
      while (it.Next(&r)) {
      }
      EXPECT_FALSE(it.status().ok()) << n;
    }
  }
}

TEST(ValidatorTest, RefusesAbsurdLengths) {
  // Key length near 2^30 with a few bytes behind it.
  ExpectCorruption(RawBatch(RawRecord(0, 1 << 30, -1, 0, 4), 1, 0), "key length");
  ExpectCorruption(RawBatch(RawRecord(0, -1, 0x7fffffff, 0, 4), 1, 0), "value length");
  ExpectCorruption(RawBatch(RawRecord(0, -2, -1, 0), 1, 0), "key length");
  ExpectCorruption(RawBatch(RawRecord(0, -1, -1, 1 << 28, 10), 1, 0), "header count");
  ExpectCorruption(RawBatch(RawRecord(0, -1, -1, -1), 1, 0), "header count");
  // A record length bigger than what is left.
  std::vector<uint8_t> records;
  AppendVarint(&records, 1 << 30);
  records.resize(20, 0);
  ExpectCorruption(RawBatch(records, 1, 0), "bad length");
  // A varint that never ends.
  std::vector<uint8_t> endless(20, 0xff);
  ExpectCorruption(RawBatch(endless, 1, 0), "bad length");
}

TEST(ValidatorTest, RecordCountIsCheckedAgainstBytesBeforeUse) {
  const std::vector<uint8_t> one = RawRecord(0, -1, -1, 0);
  ExpectCorruption(RawBatch(one, 1000000000, 999999999), "cannot fit");
  ExpectCorruption(RawBatch(one, -5, -6), "record count");
  ExpectCorruption(RawBatch(one, 0, -1), "record count");
  ExpectCorruption(RawBatch(one, 2, 1), "");  // Claims 2, holds 1.
  ExpectCorruption(RawBatch(one, 1, 3), "last_offset_delta");
}

TEST(ValidatorTest, RefusesOutOfOrderOffsetDeltas) {
  std::vector<uint8_t> records = RawRecord(0, -1, -1, 0);
  const std::vector<uint8_t> second = RawRecord(5, -1, -1, 0);
  records.insert(records.end(), second.begin(), second.end());
  ExpectCorruption(RawBatch(records, 2, 1), "offset delta 5");
}

TEST(ValidatorTest, RefusesTrailingGarbage) {
  std::vector<uint8_t> records = RawRecord(0, -1, -1, 0);
  records.push_back(0);
  records.push_back(0);
  ExpectCorruption(RawBatch(records, 1, 0), "after the last");
  // Bytes inside a record's length but beyond its fields.
  std::vector<uint8_t> padded = RawRecord(0, -1, -1, 0, 3);
  ExpectCorruption(RawBatch(padded, 1, 0), "beyond its fields");
  // Bytes after the batch itself.
  std::vector<uint8_t> batch = SampleBatch();
  batch.push_back(0);
  ExpectCorruption(batch, "batch_length");
}

TEST(ValidatorTest, RefusesUnknownCodec) {
  std::vector<uint8_t> batch = SampleBatch();
  StoreBigEndian<int16_t>(batch.data() + batch_layout::kAttributes, 5);
  FixCrc(&batch);
  ExpectCorruption(batch, "codec 5");
}

TEST(ValidatorTest, RefusesDecompressionBombs) {
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    RecordBatchBuilder b({.compression = c});
    const std::string zeros(8 << 20, '\0');
    b.Add(1, std::nullopt, AsBytes(zeros));
    const std::vector<uint8_t> batch = MustBuild(b);
    EXPECT_LT(batch.size(), size_t{1} << 20) << compression::CodecName(c);
    Status s = ValidateRecordBatch(batch, {.decompress = {.max_output_bytes = 1 << 20}});
    EXPECT_TRUE(compression::IsOutputLimitExceeded(s)) << s.ToString();
    EXPECT_TRUE(ValidateRecordBatch(batch).ok());  // Under the 64 MiB default.
  }
}

TEST(ValidatorTest, CorruptCompressedPayloadIsAnError) {
  for (Compression c : {Compression::kGzip, Compression::kSnappy, Compression::kLz4, Compression::kZstd}) {
    std::vector<uint8_t> batch = SampleBatch(c);
    for (size_t i = batch_layout::kHeaderSize; i < batch.size(); i += 3) {
      std::vector<uint8_t> bad = batch;
      bad[i] ^= 0xa5;
      FixCrc(&bad);
      // Either the codec or the record decoder must object, or (if the flip
      // landed in a value byte of an uncompressed-like block) it stays valid.
      auto view = RecordBatchView::Parse(bad);
      ASSERT_TRUE(view.ok());
      RecordIterator it = view->Records();
      Record r;
      while (it.Next(&r)) {
      }
      (void)ValidateRecordBatch(bad);
    }
  }
}

TEST(ValidatorTest, EmptyBatchesOnlyWhenAllowed) {
  const std::vector<uint8_t> empty = RawBatch({}, 0, 0);
  ExpectCorruption(empty, "record count 0");
  EXPECT_TRUE(ValidateRecordBatch(empty, {.allow_empty = true}).ok());
}

// Legacy message sets share the first 17 bytes: offset, size, crc (4), magic.
std::vector<uint8_t> LegacyMessage(int8_t magic) {
  std::vector<uint8_t> m(40, 0);
  StoreBigEndian<int64_t>(m.data(), 0);
  StoreBigEndian<int32_t>(m.data() + 8, 28);
  m[16] = static_cast<uint8_t>(magic);
  return m;
}

TEST(ValidatorTest, RefusesLegacyMagicClearly) {
  for (int8_t magic : {0, 1}) {
    const std::vector<uint8_t> m = LegacyMessage(magic);
    Status s = ValidateRecordBatch(m);
    EXPECT_EQ(s.code(), StatusCode::kNotSupported) << s.ToString();
    EXPECT_NE(s.message().find("magic " + std::to_string(magic)), std::string::npos) << s.message();
    EXPECT_EQ(RecordBatchView::Parse(m).status().code(), StatusCode::kNotSupported);
  }
  std::vector<uint8_t> m = LegacyMessage(3);
  EXPECT_TRUE(ValidateRecordBatch(m).IsCorruption());
}

}  // namespace
}  // namespace sluice::model

namespace sluice::model {
namespace {

TEST(ValidatorTest, SummaryCarriesTheTrueMaxTimestamp) {
  for (Compression c : kAllCodecs) {
    RecordBatchBuilder b({.compression = c, .base_offset = 50});
    b.Add(300, std::nullopt, AsBytes("a"));
    b.Add(900, std::nullopt, AsBytes("b"));
    b.Add(100, std::nullopt, AsBytes("c"));
    std::vector<uint8_t> batch = MustBuild(b);
    // A client lying about max_timestamp does not fool the summary.
    StoreBigEndian<int64_t>(batch.data() + batch_layout::kMaxTimestamp, 5);
    FixCrc(&batch);
    BatchSummary s;
    ASSERT_TRUE(ValidateRecordBatch(batch, {}, &s).ok());
    EXPECT_EQ(s.record_count, 3);
    EXPECT_EQ(s.first_timestamp, 300);
    EXPECT_EQ(s.max_timestamp, 900);
    EXPECT_EQ(s.offset_of_max_timestamp, 51);
    EXPECT_GT(s.uncompressed_records_bytes, 0u);
  }
}

TEST(ValidatorTest, SetLogAppendTimeKeepsTheBatchValid) {
  for (Compression c : kAllCodecs) {
    std::vector<uint8_t> batch = SampleBatch(c);
    SetLogAppendTime(batch, 1234567);
    ASSERT_TRUE(ValidateRecordBatch(batch).ok()) << compression::CodecName(c);
    auto view = RecordBatchView::Parse(batch);
    EXPECT_EQ(view->header().timestamp_type(), TimestampType::kLogAppendTime);
    EXPECT_EQ(view->compression(), c);
    RecordIterator it = view->Records();
    Record r;
    int n = 0;
    while (it.Next(&r)) {
      EXPECT_EQ(r.timestamp, 1234567);
      ++n;
    }
    EXPECT_EQ(n, 5);
  }
}

}  // namespace
}  // namespace sluice::model
