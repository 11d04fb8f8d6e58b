// Batches written by real clients (captured by fixtures/capture/capture.sh)
// must decode to exactly the records that were produced. See
// fixtures/README.md for the records and how they were captured.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "model/record_batch_validator.h"
#include "model/record_batch_view.h"
#include "test_batches.h"

namespace sluice::model {
namespace {

using testing::Str;

constexpr int64_t kBaseTimestamp = 1700000000000;

std::vector<uint8_t> ReadFixture(const std::string& name) {
  std::ifstream in(std::string(SLUICE_MODEL_FIXTURE_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << name;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct FixtureCase {
  std::string file;
  Compression codec;
  bool null_header_value;  // kafka-python cannot send one: it sends "" instead.
};

class ClientBatchTest : public ::testing::TestWithParam<FixtureCase> {};

TEST_P(ClientBatchTest, DecodesTheProducedRecords) {
  const FixtureCase& fc = GetParam();
  const std::vector<uint8_t> batch = ReadFixture(fc.file);
  ASSERT_FALSE(batch.empty());
  Status valid = ValidateRecordBatch(batch);
  ASSERT_TRUE(valid.ok()) << valid.ToString();
  auto view = RecordBatchView::Parse(batch);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->compression(), fc.codec);
  EXPECT_EQ(view->header().record_count, 5);
  EXPECT_EQ(view->header().base_timestamp, kBaseTimestamp);
  EXPECT_EQ(view->header().max_timestamp, kBaseTimestamp + 4);
  EXPECT_FALSE(view->header().is_control());

  RecordIterator it = view->Records();
  std::vector<Record> r;
  Record rec;
  while (it.Next(&rec)) r.push_back(rec);
  ASSERT_TRUE(it.status().ok()) << it.status().ToString();
  ASSERT_EQ(r.size(), 5u);
  for (size_t i = 0; i < r.size(); ++i) {
    EXPECT_EQ(r[i].offset_delta, static_cast<int32_t>(i));
    EXPECT_EQ(r[i].timestamp, kBaseTimestamp + static_cast<int64_t>(i));
  }
  EXPECT_EQ(Str(r[0].key), "key-0");
  EXPECT_EQ(Str(r[0].value), "value-0");
  ASSERT_EQ(r[0].headers.size(), 1u);
  EXPECT_EQ(r[0].headers[0].key, "h1");
  EXPECT_EQ(Str(r[0].headers[0].value), "v1");

  EXPECT_FALSE(r[1].key.has_value());
  EXPECT_EQ(Str(r[1].value), "value-1 value-1 value-1 value-1 value-1 value-1");
  EXPECT_TRUE(r[1].headers.empty());

  EXPECT_EQ(Str(r[2].key), "key-2");
  EXPECT_FALSE(r[2].value.has_value());
  ASSERT_EQ(r[2].headers.size(), 2u);
  EXPECT_EQ(r[2].headers[0].key, "bin");
  EXPECT_EQ(Str(r[2].headers[0].value), std::string("\x00\x01\x02\xff", 4));
  EXPECT_EQ(r[2].headers[1].key, "null-h");
  if (fc.null_header_value) {
    EXPECT_FALSE(r[2].headers[1].value.has_value());
  } else {
    EXPECT_EQ(Str(r[2].headers[1].value), "");
  }

  EXPECT_EQ(Str(r[3].key), "key-3");
  ASSERT_TRUE(r[3].value.has_value());
  EXPECT_TRUE(r[3].value->empty());

  EXPECT_EQ(Str(r[4].key), "key-4");
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "abcdefghij";
  EXPECT_EQ(Str(r[4].value), long_text);
}

INSTANTIATE_TEST_SUITE_P(
    Captured, ClientBatchTest,
    ::testing::Values(FixtureCase{"librdkafka_none.batch", Compression::kNone, true},
                      FixtureCase{"librdkafka_gzip.batch", Compression::kGzip, true},
                      FixtureCase{"librdkafka_snappy.batch", Compression::kSnappy, true},
                      FixtureCase{"librdkafka_lz4.batch", Compression::kLz4, true},
                      FixtureCase{"librdkafka_zstd.batch", Compression::kZstd, true},
                      FixtureCase{"librdkafka_txn_lz4.batch", Compression::kLz4, true},
                      FixtureCase{"kafka_python_gzip.batch", Compression::kGzip, false},
                      FixtureCase{"kafka_python_snappy.batch", Compression::kSnappy, false},
                      FixtureCase{"kafka_python_lz4.batch", Compression::kLz4, false},
                      FixtureCase{"kafka_python_zstd.batch", Compression::kZstd, false}),
    [](const ::testing::TestParamInfo<FixtureCase>& p) {
      std::string name = p.param.file.substr(0, p.param.file.find('.'));
      for (char& c : name) {
        if (c == '-') c = '_';
      }
      return name;
    });

TEST(ClientBatchTest, KafkaPythonSnappyUsesXerialFraming) {
  const std::vector<uint8_t> batch = ReadFixture("kafka_python_snappy.batch");
  ASSERT_GT(batch.size(), batch_layout::kHeaderSize + 8);
  EXPECT_EQ(batch[batch_layout::kHeaderSize], 0x82);
  EXPECT_EQ(std::string(batch.begin() + batch_layout::kHeaderSize + 1,
                        batch.begin() + batch_layout::kHeaderSize + 7),
            "SNAPPY");
}

TEST(ClientBatchTest, LibrdkafkaBatchesAreIdempotent) {
  const std::vector<uint8_t> batch = ReadFixture("librdkafka_zstd.batch");
  auto view = RecordBatchView::Parse(batch);
  ASSERT_TRUE(view.ok());
  EXPECT_GE(view->header().producer_id, 0);
  EXPECT_EQ(view->header().base_sequence, 0);
}

TEST(ClientBatchTest, LibrdkafkaTransactionalBatch) {
  const std::vector<uint8_t> batch = ReadFixture("librdkafka_txn_lz4.batch");
  auto view = RecordBatchView::Parse(batch);
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->header().is_transactional());
  EXPECT_FALSE(view->header().is_control());
  EXPECT_GE(view->header().producer_id, 0);
  EXPECT_GE(view->header().producer_epoch, 0);
  // The non-transactional capture has the bit clear.
  const std::vector<uint8_t> plain = ReadFixture("librdkafka_lz4.batch");
  EXPECT_FALSE(RecordBatchView::Parse(plain)->header().is_transactional());
}

}  // namespace
}  // namespace sluice::model
