// Records as views, owned bytes and file slices; a Fetch response whose
// record data becomes a sendfile piece of the OutputChain.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "protocol/generated/fetch.h"
#include "protocol/generated/produce.h"
#include "protocol/header.h"
#include "support/temp_dir.h"

namespace sluice::protocol {
namespace {

TEST(Records, EqualityByContent) {
  std::vector<uint8_t> data = {1, 2, 3};
  EXPECT_EQ(Records::View(data), Records::Owned({1, 2, 3}));
  EXPECT_NE(Records::Null(), Records());
  EXPECT_EQ(Records(), Records::Owned({}));
  EXPECT_NE(Records::Owned({1}), Records::Owned({2}));
  FileSlice f{nullptr, 3, 10, 20};
  EXPECT_EQ(Records::File(f), Records::File(f));
  EXPECT_NE(Records::File(f), Records::Owned(std::vector<uint8_t>(20)));
}

TEST(Records, DecodedProduceRecordsAreViewsIntoTheRequest) {
  ProduceRequest req;
  req.topic_data.resize(1);
  req.topic_data[0].partition_data.resize(1);
  req.topic_data[0].partition_data[0].records = Records::Owned(std::vector<uint8_t>(1000, 7));
  Writer w;
  req.Encode(w, 9);
  std::vector<uint8_t> bytes = w.Take();
  Reader r(bytes);
  ProduceRequest back;
  ASSERT_TRUE(back.Decode(r, 9).ok());
  auto view = back.topic_data[0].partition_data[0].records.bytes();
  ASSERT_EQ(view.size(), 1000u);
  EXPECT_GE(view.data(), bytes.data());
  EXPECT_LE(view.data() + view.size(), bytes.data() + bytes.size());
}

class FetchFileSlice : public ::testing::Test {
 protected:
  void SetUp() override {
    fd_ = ::open((dir_.path() / "segment").c_str(), O_RDWR | O_CREAT, 0644);
    ASSERT_GE(fd_, 0);
    for (int i = 0; i < 256; ++i) file_.push_back(static_cast<uint8_t>(i));
    ASSERT_EQ(::write(fd_, file_.data(), file_.size()), 256);
  }
  void TearDown() override { ::close(fd_); }

  FetchResponse Response() {
    FetchResponse resp;
    resp.responses.resize(1);
    resp.responses[0].topic = "t";
    resp.responses[0].partitions.resize(2);
    resp.responses[0].partitions[0].records = Records::File(FileSlice{nullptr, fd_, 16, 100});
    resp.responses[0].partitions[1].records = Records::Owned({9, 9});
    return resp;
  }

  sluice::testing::TempDir dir_;
  int fd_ = -1;
  std::vector<uint8_t> file_;
};

TEST_F(FetchFileSlice, BecomesASendfilePiece) {
  for (int16_t version : {4, 11, 12}) {
    OutputChain chain = EncodeResponseFrame(77, version, Response());
    ASSERT_EQ(chain.pieces().size(), 3u);
    ASSERT_TRUE(std::holds_alternative<FileSlice>(chain.pieces()[1]));
    EXPECT_EQ(std::get<FileSlice>(chain.pieces()[1]).offset, 16u);
    // What the socket would receive: buffers and the file range, in order.
    std::vector<uint8_t> wire;
    for (const auto& piece : chain.pieces()) {
      if (auto* b = std::get_if<std::vector<uint8_t>>(&piece)) {
        wire.insert(wire.end(), b->begin(), b->end());
      } else {
        const auto& s = std::get<FileSlice>(piece);
        wire.insert(wire.end(), file_.begin() + 16, file_.begin() + 16 + s.length);
      }
    }
    ASSERT_EQ(wire.size(), chain.size());
    EXPECT_EQ(LoadBigEndian<int32_t>(wire.data()), static_cast<int32_t>(wire.size() - 4));
    // Skip size and header (correlation id, plus tagged fields when flexible).
    Reader r(std::span<const uint8_t>(wire).subspan(version >= 12 ? 9 : 8));
    FetchResponse back;
    ASSERT_TRUE(back.Decode(r, version).ok());
    EXPECT_EQ(back.responses[0].partitions[0].records.bytes().size(), 100u);
    EXPECT_EQ(back.responses[0].partitions[0].records.bytes()[0], 16);
    EXPECT_EQ(back.responses[0].partitions[1].records, Records::Owned({9, 9}));
  }
}

TEST_F(FetchFileSlice, FlatWriterReadsTheSlice) {
  Writer w;
  Response().Encode(w, 11);
  ASSERT_TRUE(w.status().ok());
  std::vector<uint8_t> bytes = w.Take();
  Reader r(bytes);
  FetchResponse back;
  ASSERT_TRUE(back.Decode(r, 11).ok());
  EXPECT_EQ(back.responses[0].partitions[0].records,
            Records::Owned(std::vector<uint8_t>(file_.begin() + 16, file_.begin() + 116)));
}

}  // namespace
}  // namespace sluice::protocol
