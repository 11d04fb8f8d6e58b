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
namespace {

// The hardware path runs three independent crc32 streams over three adjacent
// lanes: the instruction has a 3-cycle latency but issues every cycle, so one
// stream leaves two thirds of it idle (~3x slower; the CRC was the largest
// single cost of the broker's produce path in a profile).
constexpr size_t kLaneBytes = 2048;

// Advances a raw CRC register (no pre/post inversion) over `n` zero bytes.
uint32_t ShiftPortable(uint32_t reg, size_t n) {
  while (n-- > 0) reg = (reg >> 8) ^ kTables[0][reg & 0xFF];
  return reg;
}

// The register update is linear over GF(2): the register after lanes A then B
// equals Shift(register after A, |B|) xor (register after B from zero). Shift
// by one lane is a 32x32 bit matrix, applied a byte at a time through
// kShift[k][b] = Shift(b << 8k), derived once from the portable update.
struct LaneShift {
  std::array<std::array<uint32_t, 256>, 4> table{};
  LaneShift() {
    std::array<uint32_t, 32> basis{};
    for (int bit = 0; bit < 32; ++bit) basis[bit] = ShiftPortable(uint32_t{1} << bit, kLaneBytes);
    for (int k = 0; k < 4; ++k) {
      for (uint32_t b = 0; b < 256; ++b) {
        uint32_t v = 0;
        for (int bit = 0; bit < 8; ++bit) {
          if (b & (1u << bit)) v ^= basis[8 * k + bit];
        }
        table[k][b] = v;
      }
    }
  }
  uint32_t operator()(uint32_t reg) const {
    return table[0][reg & 0xFF] ^ table[1][(reg >> 8) & 0xFF] ^ table[2][(reg >> 16) & 0xFF] ^
           table[3][reg >> 24];
  }
};

}  // namespace

__attribute__((target("sse4.2"))) uint32_t ExtendHardware(uint32_t crc, const uint8_t* data,
                                                          size_t n) {
  static const LaneShift shift;
  uint64_t c = ~crc;
  while (n >= 3 * kLaneBytes) {
    uint64_t b = 0, d = 0;
    for (size_t i = 0; i < kLaneBytes; i += 8) {
      c = _mm_crc32_u64(c, LoadLe64(data + i));
      b = _mm_crc32_u64(b, LoadLe64(data + kLaneBytes + i));
      d = _mm_crc32_u64(d, LoadLe64(data + 2 * kLaneBytes + i));
    }
    c = shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(b);
    c = shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(d);
    data += 3 * kLaneBytes;
    n -= 3 * kLaneBytes;
  }
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
