// Helpers shared by the model tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/endian.h"
#include "model/record.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_view.h"

namespace sluice::model::testing {

inline std::vector<uint8_t> MustBuild(const RecordBatchBuilder& b) {
  auto r = b.Build();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : std::vector<uint8_t>{};
}

inline std::vector<Record> ReadAll(std::span<const uint8_t> batch, RecordIterator* keep,
                                   Status* status) {
  std::vector<Record> out;
  auto view = RecordBatchView::Parse(batch);
  if (!view.ok()) {
    *status = view.status();
    return out;
  }
  *keep = view->Records();
  Record r;
  while (keep->Next(&r)) out.push_back(r);
  *status = keep->status();
  return out;
}

inline std::string Str(const std::optional<Bytes>& b) {
  return b ? std::string(AsStringView(*b)) : std::string("<null>");
}

// Recomputes the CRC after a test edits CRC-covered bytes on purpose.
inline void FixCrc(std::vector<uint8_t>* batch) {
  StoreBigEndian(batch->data() + batch_layout::kCrc, ComputeBatchCrc(*batch));
}

}  // namespace sluice::model::testing
