// Per-codec entry points behind compression.h and the shared output-limit
// helpers. Not for use outside src/compression/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "compression/compression.h"

namespace sluice::compression::internal {

Status GzipCompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, std::optional<int> level);
Status GzipDecompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, size_t limit);
Status SnappyCompress(std::span<const uint8_t> in, std::vector<uint8_t>* out);
Status SnappyDecompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, size_t limit);
Status Lz4Compress(std::span<const uint8_t> in, std::vector<uint8_t>* out, std::optional<int> level);
Status Lz4Decompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, size_t limit);
Status ZstdCompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, std::optional<int> level);
Status ZstdDecompress(std::span<const uint8_t> in, std::vector<uint8_t>* out, size_t limit);

// The error every codec returns when output would pass `limit` bytes.
Status OutputLimitExceeded(Codec codec, size_t limit);

// Streaming decoders write into the spare room of *out. Grows *out so that at
// least some room exists past `*used`, doubling but never beyond `start +
// limit` (start = size of *out before decoding began). Returns false when the
// limit is already reached.
// First output allocation for `in_size` input bytes whose header declares
// `declared` output bytes (or nullopt): trusts the declaration only up to a
// bounded ratio, so a few hostile bytes cannot make us commit `limit` bytes.
size_t InitialOutputSize(size_t in_size, std::optional<uint64_t> declared, size_t limit);

bool GrowOutput(std::vector<uint8_t>* out, size_t start, size_t used, size_t limit,
                size_t hint);

}  // namespace sluice::compression::internal
