#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace sluice::crc32c {
namespace {

constexpr uint32_t kPolynomial = 0x82F63B78;  // Reflected Castagnoli polynomial.

// kTables[k][b] is the CRC of byte b followed by k zero bytes, which lets the
// portable path fold 8 input bytes per step (slicing-by-8).
constexpr std::array<std::array<uint32_t, 256>, 8> MakeTables() {
  std::array<std::array<uint32_t, 256>, 8> t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t crc = b;
    for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomial : 0);
    t[0][b] = crc;
  }
  for (uint32_t b = 0; b < 256; ++b) {
    for (size_t k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  }
  return t;
}

constexpr auto kTables = MakeTables();

inline uint64_t LoadLe64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));  // x86 and every target we build for is little-endian.
  return v;
}

}  // namespace

uint32_t ExtendPortable(uint32_t crc, const uint8_t* data, size_t n) {
  uint32_t c = ~crc;
  while (n >= 8) {
    uint64_t word = LoadLe64(data) ^ c;
    c = kTables[7][word & 0xFF] ^ kTables[6][(word >> 8) & 0xFF] ^
        kTables[5][(word >> 16) & 0xFF] ^ kTables[4][(word >> 24) & 0xFF] ^
        kTables[3][(word >> 32) & 0xFF] ^ kTables[2][(word >> 40) & 0xFF] ^
        kTables[1][(word >> 48) & 0xFF] ^ kTables[0][word >> 56];
    data += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ kTables[0][(c ^ *data++) & 0xFF];
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const uint8_t* data,
                                                          size_t n) {
  uint64_t c = ~crc;
  // One 8-byte crc32 per step runs near 8 bytes per 3 cycles, well above
  // disk and network speed, so interleaved streams are not worth their code.
  while (n >= 8) {
    c = _mm_crc32_u64(c, LoadLe64(data));
    data += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n-- > 0) c32 = _mm_crc32_u8(c32, *data++);
  return ~c32;
}

bool HardwareAvailable() {
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}
#else
uint32_t ExtendHardware(uint32_t crc, const uint8_t* data, size_t n) {
  return ExtendPortable(crc, data, n);
}
bool HardwareAvailable() { return false; }
#endif

uint32_t Extend(uint32_t crc, const uint8_t* data, size_t n) {
  static const bool hw = HardwareAvailable();
  return hw ? ExtendHardware(crc, data, n) : ExtendPortable(crc, data, n);
}

}  // namespace sluice::crc32c
