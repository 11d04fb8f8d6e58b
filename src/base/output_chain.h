// OutputChain: bytes to send, as a sequence of in-memory buffers and file
// ranges. The protocol encoder produces one per response; the network layer
// writes buffers with writev and file ranges with sendfile, so record data
// read from a segment never passes through user space.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"

namespace sluice {

// A byte range of an open file. `owner` keeps `fd` open for as long as the
// slice lives, so a segment deleted by retention while a response is queued
// is still readable (POSIX keeps unlinked files until the last close).
struct FileSlice {
  std::shared_ptr<const void> owner;
  int fd = -1;
  uint64_t offset = 0;
  uint64_t length = 0;
};

// Copies the slice's bytes into `out` (out.size() == slice.length), for
// the few readers that need them in memory rather than sent.
Status ReadFileSlice(const FileSlice& slice, std::span<uint8_t> out);

class OutputChain {
 public:
  using Piece = std::variant<std::vector<uint8_t>, FileSlice>;

  void Append(std::vector<uint8_t> bytes) {
    if (bytes.empty()) return;
    size_ += bytes.size();
    pieces_.emplace_back(std::move(bytes));
  }
  void Append(FileSlice slice) {
    if (slice.length == 0) return;
    size_ += slice.length;
    pieces_.emplace_back(std::move(slice));
  }

  size_t size() const { return size_; }
  const std::vector<Piece>& pieces() const { return pieces_; }
  std::vector<Piece>& mutable_pieces() { return pieces_; }

 private:
  std::vector<Piece> pieces_;
  size_t size_ = 0;
};

}  // namespace sluice
