// CRC32C (Castagnoli), the checksum of Kafka's v2 record batches.
//
// Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
// start-up) and a portable slicing-by-8 table otherwise. Both produce the same
// value; tests check each against the RFC 3720 vectors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sluice::crc32c {

// Returns the CRC32C of `data` continuing from a previous `crc` (0 to start):
// Extend(Extend(0, a), b) == Value(a ++ b).
uint32_t Extend(uint32_t crc, const uint8_t* data, size_t n);

inline uint32_t Value(const uint8_t* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::span<const uint8_t> data) { return Extend(0, data.data(), data.size()); }

// The two implementations, exposed so tests and benchmarks can pin each one.
uint32_t ExtendPortable(uint32_t crc, const uint8_t* data, size_t n);
uint32_t ExtendHardware(uint32_t crc, const uint8_t* data, size_t n);  // REQUIRES: HardwareAvailable()
bool HardwareAvailable();

}  // namespace sluice::crc32c
