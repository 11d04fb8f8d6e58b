#include "base/output_chain.h"

#include <unistd.h>

#include <cerrno>

namespace sluice {

Status ReadFileSlice(const FileSlice& slice, std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::pread(slice.fd, out.data() + done, out.size() - done,
                        static_cast<off_t>(slice.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "records file slice");
    if (n == 0) return Status::IOError("records file slice: short read");
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace sluice
