#include "model/control_record.h"

#include <gtest/gtest.h>

#include "model/record_batch_validator.h"
#include "model/record_batch_view.h"
#include "test_batches.h"

namespace sluice::model {
namespace {

TEST(ControlRecordTest, EndTxnBatchRoundTrips) {
  for (ControlType type : {ControlType::kAbort, ControlType::kCommit}) {
    auto batch = BuildEndTxnBatch(type, 4242, 7, 13, 1700000000000, 100);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    ASSERT_TRUE(ValidateRecordBatch(*batch).ok()) << ValidateRecordBatch(*batch).ToString();
    auto view = RecordBatchView::Parse(*batch);
    ASSERT_TRUE(view.ok());
    EXPECT_TRUE(view->header().is_control());
    EXPECT_TRUE(view->header().is_transactional());
    EXPECT_EQ(view->header().producer_id, 4242);
    EXPECT_EQ(view->header().producer_epoch, 7);
    RecordIterator it = view->Records();
    Record r;
    ASSERT_TRUE(it.Next(&r));
    EXPECT_EQ(r.offset, 100);
    auto key = ParseControlRecordKey(r.key);
    ASSERT_TRUE(key.ok());
    EXPECT_EQ(key->version, 0);
    EXPECT_EQ(key->type, static_cast<int16_t>(type));
    auto marker = ParseEndTxnMarker(r.value);
    ASSERT_TRUE(marker.ok());
    EXPECT_EQ(marker->coordinator_epoch, 13);
    EXPECT_FALSE(it.Next(&r));
    EXPECT_TRUE(it.status().ok());
  }
}

TEST(ControlRecordTest, EncodingsMatchKafka) {
  EXPECT_EQ(EncodeControlRecordKey(ControlType::kCommit), (std::vector<uint8_t>{0, 0, 0, 1}));
  EXPECT_EQ(EncodeEndTxnMarker(0x01020304), (std::vector<uint8_t>{0, 0, 1, 2, 3, 4}));
}

TEST(ControlRecordTest, BadKeysAndValuesAreRefused) {
  const std::vector<uint8_t> short_key = {0, 0, 1};
  EXPECT_TRUE(ParseControlRecordKey(Bytes(short_key)).status().IsCorruption());
  EXPECT_TRUE(ParseControlRecordKey(std::nullopt).status().IsCorruption());
  const std::vector<uint8_t> negative = {0xff, 0xff, 0, 1};
  EXPECT_TRUE(ParseControlRecordKey(Bytes(negative)).status().IsCorruption());
  const std::vector<uint8_t> short_value = {0, 0, 0, 0, 1};
  EXPECT_TRUE(ParseEndTxnMarker(Bytes(short_value)).status().IsCorruption());

  // A control batch whose record has a null key fails validation.
  RecordBatchBuilder b({.transactional = true, .control = true, .producer_id = 1, .producer_epoch = 0});
  const std::vector<uint8_t> value = EncodeEndTxnMarker(1);
  b.Add(1, std::nullopt, Bytes(value));
  const std::vector<uint8_t> batch = testing::MustBuild(b);
  Status s = ValidateRecordBatch(batch);
  EXPECT_TRUE(s.IsCorruption()) << s.ToString();
  EXPECT_NE(s.message().find("control record key"), std::string::npos) << s.ToString();

  // Two records in a control batch.
  RecordBatchBuilder two({.transactional = true, .control = true});
  const std::vector<uint8_t> key = EncodeControlRecordKey(ControlType::kAbort);
  two.Add(1, Bytes(key), Bytes(value));
  two.Add(1, Bytes(key), Bytes(value));
  EXPECT_TRUE(ValidateRecordBatch(testing::MustBuild(two)).IsCorruption());
}

}  // namespace
}  // namespace sluice::model
