#include "model/batch_sequence.h"

#include <fmt/format.h>

#include "base/endian.h"
#include "model/record_batch_header.h"

namespace sluice::model {

using namespace batch_layout;

bool BatchSequence::Next(std::span<const uint8_t>* batch) {
  if (done_) return false;
  const size_t left = bytes_.size() - pos_;
  if (left == 0) {
    done_ = true;
    return false;
  }
  const uint8_t* p = bytes_.data() + pos_;
  auto partial = [&]() {
    done_ = true;
    if (allow_partial_tail_) {
      partial_tail_ = left;
    } else {
      status_ = Status::Corruption(fmt::format("partial record batch at byte {}: {} bytes left",
                                               pos_, left));
    }
    return false;
  };
  if (left < kLogOverhead) return partial();
  const int32_t length = LoadBigEndian<int32_t>(p + kBatchLength);
  if (left >= kMinMagicPrefix) {
    // The magic decides how to read the rest; let the header parser say why
    // magic 0/1 or garbage is refused.
    const int8_t magic = static_cast<int8_t>(p[kMagic]);
    if (magic != kMagicV2) {
      done_ = true;
      status_ = ParseRecordBatchHeader(bytes_.subspan(pos_)).status();
      if (status_.ok()) status_ = Status::Corruption(fmt::format("bad magic {}", magic));
      return false;
    }
  }
  if (length < static_cast<int32_t>(kHeaderSize - kLogOverhead)) {
    done_ = true;
    status_ = Status::Corruption(fmt::format("record batch at byte {} has length {}", pos_, length));
    return false;
  }
  const size_t size = kLogOverhead + static_cast<size_t>(length);
  if (size > left) return partial();
  *batch = bytes_.subspan(pos_, size);
  pos_ += size;
  return true;
}

}  // namespace sluice::model
