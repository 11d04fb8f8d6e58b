// gzip (RFC 1952) via zlib: Kafka's codec 1 is a gzip stream, not raw deflate.
#include <fmt/format.h>
#include <zlib.h>

#include "compression/codec_internal.h"

namespace sluice::compression::internal {

namespace {
constexpr int kGzipWindowBits = 16 + MAX_WBITS;  // +16 selects the gzip wrapper.
}  // namespace

Status GzipCompress(std::span<const uint8_t> in, std::vector<uint8_t>* out,
                    std::optional<int> level) {
  z_stream z{};
  const int lvl = level.value_or(Z_DEFAULT_COMPRESSION);
  if (deflateInit2(&z, lvl, Z_DEFLATED, kGzipWindowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::InvalidArgument(fmt::format("gzip: bad compression level {}", lvl));
  }
  const size_t start = out->size();
  out->resize(start + deflateBound(&z, in.size()));
  z.next_in = const_cast<Bytef*>(in.data());  // zlib's API is not const-correct.
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out->data() + start;
  z.avail_out = static_cast<uInt>(out->size() - start);
  const int rc = deflate(&z, Z_FINISH);
  const size_t written = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) {
    out->resize(start);
    return Status::IOError(fmt::format("gzip: deflate failed ({})", rc));
  }
  out->resize(start + written);
  return Status::Ok();
}

Status GzipDecompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, size_t limit) {
  z_stream z{};
  if (inflateInit2(&z, kGzipWindowBits) != Z_OK) return Status::IOError("gzip: inflateInit failed");
  // The trailer's ISIZE (uncompressed size mod 2^32) is only a hint: it can
  // lie, and the limit is enforced on actual output regardless.
  std::optional<uint64_t> isize;
  if (in.size() >= 18) {
    const uint8_t* t = in.data() + in.size() - 4;
    isize = uint32_t{t[0]} | uint32_t{t[1]} << 8 | uint32_t{t[2]} << 16 | uint32_t{t[3]} << 24;
  }
  const size_t size_hint = InitialOutputSize(in.size(), isize, limit);
  const size_t start = out->size();
  size_t used = 0;
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  Status status;
  for (;;) {
    if (!GrowOutput(out, start, used, limit, size_hint)) {
      status = OutputLimitExceeded(Codec::kGzip, limit);
      break;
    }
    z.next_out = out->data() + start + used;
    z.avail_out = static_cast<uInt>(out->size() - start - used);
    const uInt before = z.avail_out;
    const int rc = inflate(&z, Z_NO_FLUSH);
    used += before - z.avail_out;
    if (rc == Z_STREAM_END) {
      // A gzip file may hold several members; decode them all, as gunzip does.
      if (z.avail_in == 0) break;
      if (inflateReset(&z) != Z_OK) {
        status = Status::Corruption("gzip: reset between members failed");
        break;
      }
      continue;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && z.avail_out != 0) {
      status = Status::Corruption("gzip: payload truncated");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      status = Status::Corruption(
          fmt::format("gzip: corrupt payload ({})", z.msg != nullptr ? z.msg : "inflate error"));
      break;
    }
  }
  inflateEnd(&z);
  out->resize(status.ok() ? start + used : start);
  return status;
}

}  // namespace sluice::compression::internal
