// Big-endian (network order) loads and stores, the byte order of every
// integer in the Kafka protocol and in record batches on disk.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace sluice {

// C++23's std::byteswap, for the unsigned widths we use.
constexpr uint8_t ByteSwap(uint8_t v) { return v; }
constexpr uint16_t ByteSwap(uint16_t v) { return __builtin_bswap16(v); }
constexpr uint32_t ByteSwap(uint32_t v) { return __builtin_bswap32(v); }
constexpr uint64_t ByteSwap(uint64_t v) { return __builtin_bswap64(v); }

template <typename T>
  requires std::is_integral_v<T>
inline T LoadBigEndian(const uint8_t* p) {
  std::make_unsigned_t<T> v;
  std::memcpy(&v, p, sizeof(T));
  if constexpr (std::endian::native == std::endian::little) v = ByteSwap(v);
  return static_cast<T>(v);
}

template <typename T>
  requires std::is_integral_v<T>
inline void StoreBigEndian(uint8_t* p, T value) {
  auto v = static_cast<std::make_unsigned_t<T>>(value);
  if constexpr (std::endian::native == std::endian::little) v = ByteSwap(v);
  std::memcpy(p, &v, sizeof(T));
}

}  // namespace sluice
