#include "protocol/wire/records.h"

#include <algorithm>

namespace sluice::protocol {

uint64_t Records::size() const {
  if (const FileSlice* f = file()) return f->length;
  return bytes().size();
}

bool operator==(const Records& a, const Records& b) {
  if (a.is_null() || b.is_null()) return a.is_null() == b.is_null();
  if (a.is_file() || b.is_file()) {
    if (!a.is_file() || !b.is_file()) return false;
    const FileSlice& x = *a.file();
    const FileSlice& y = *b.file();
    return x.fd == y.fd && x.offset == y.offset && x.length == y.length;
  }
  auto x = a.bytes();
  auto y = b.bytes();
  return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

}  // namespace sluice::protocol
