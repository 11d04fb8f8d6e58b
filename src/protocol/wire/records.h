// Records: the value of a `records` field (a record batch set).
//
// Record data is the bulk of Produce requests and Fetch responses, so it is
// never copied on the way through the protocol layer: a decoded request holds
// a view into the request buffer (which must outlive the message), and a
// Fetch response can hold a FileSlice that the network layer sends with
// sendfile. Owned bytes exist for tests and small synthesized responses.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <variant>
#include <vector>

#include "base/output_chain.h"

namespace sluice::protocol {

class Records {
 public:
  Records() = default;  // Empty (zero bytes), not null.

  static Records Null() {
    Records r;
    r.v_ = NullTag{};
    return r;
  }
  static Records View(std::span<const uint8_t> bytes) {
    Records r;
    r.v_ = bytes;
    return r;
  }
  static Records Owned(std::vector<uint8_t> bytes) {
    Records r;
    r.v_ = std::move(bytes);
    return r;
  }
  static Records File(FileSlice slice) {
    Records r;
    r.v_ = std::move(slice);
    return r;
  }

  // Makes this a view (the decoder's path: no temporary Records).
  void SetView(std::span<const uint8_t> bytes) { v_ = bytes; }

  bool is_null() const { return std::holds_alternative<NullTag>(v_); }
  bool is_file() const { return std::holds_alternative<FileSlice>(v_); }
  // Size in bytes on the wire (0 for null).
  uint64_t size() const;
  // The bytes of a view or owned value; empty for null and file slices.
  std::span<const uint8_t> bytes() const {
    if (auto* s = std::get_if<std::span<const uint8_t>>(&v_)) return *s;
    if (auto* o = std::get_if<std::vector<uint8_t>>(&v_)) return *o;
    return {};
  }
  const FileSlice* file() const { return std::get_if<FileSlice>(&v_); }

  // Views and owned bytes compare by content; file slices by (fd, offset, length).
  friend bool operator==(const Records& a, const Records& b);

 private:
  struct NullTag {};
  std::variant<std::span<const uint8_t>, NullTag, std::vector<uint8_t>, FileSlice> v_;
};

}  // namespace sluice::protocol
