// Pseudo-random values for the generated FillRandom() test helpers: every
// message at every version is filled from one of these in the round-trip
// tests, so that optional, nullable and tagged fields are both set and unset.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "protocol/wire/records.h"
#include "protocol/wire/types.h"

namespace sluice::protocol {

class MessageRng {
 public:
  struct Options {
    int null_percent = 25;    // Nullable fields (where the version allows null).
    int tagged_percent = 50;  // Known tagged fields set to a non-default value.
    int unknown_tagged_percent = 30;
    int max_array = 3;
    int max_bytes = 24;
  };

  explicit MessageRng(uint64_t seed) : MessageRng(seed, Options{}) {}
  MessageRng(uint64_t seed, Options options) : gen_(seed), options_(options) {}

  bool MakeNull() { return Percent(options_.null_percent); }
  bool SetTagged() { return Percent(options_.tagged_percent); }
  size_t ArrayLength() { return Uniform(0, options_.max_array); }

  void Fill(bool* v) { *v = Uniform(0, 1) == 1; }
  void Fill(int8_t* v) { *v = static_cast<int8_t>(Bits()); }
  void Fill(int16_t* v) { *v = static_cast<int16_t>(Bits()); }
  void Fill(int32_t* v) { *v = static_cast<int32_t>(Bits()); }
  void Fill(int64_t* v) { *v = static_cast<int64_t>(Bits()); }
  void Fill(uint16_t* v) { *v = static_cast<uint16_t>(Bits()); }
  void Fill(uint32_t* v) { *v = static_cast<uint32_t>(Bits()); }
  void Fill(double* v) { *v = static_cast<double>(static_cast<int32_t>(Bits())) / 7.0; }
  void Fill(Uuid* v) {
    for (auto& b : v->bytes) b = static_cast<uint8_t>(Bits());
  }
  void Fill(std::string* v) {
    v->resize(Uniform(0, options_.max_bytes));
    for (char& c : *v) c = static_cast<char>('a' + Uniform(0, 25));
  }
  void Fill(Bytes* v) { *v = RandomBytes(); }

  Bytes RandomBytes() {
    Bytes b(Uniform(0, options_.max_bytes));
    for (auto& x : b) x = static_cast<uint8_t>(Bits());
    return b;
  }
  // Tags far above any real one, ascending (the order the encoder writes).
  std::vector<TaggedField> UnknownTaggedFields() {
    std::vector<TaggedField> out;
    if (!Percent(options_.unknown_tagged_percent)) return out;
    uint32_t tag = 1000;
    for (size_t i = 0, n = Uniform(1, 2); i < n; ++i) {
      tag += static_cast<uint32_t>(Uniform(1, 300));
      out.push_back(TaggedField{tag, RandomBytes()});
    }
    return out;
  }

 private:
  uint64_t Bits() { return gen_(); }
  size_t Uniform(int lo, int hi) {
    return static_cast<size_t>(std::uniform_int_distribution<int>(lo, hi)(gen_));
  }
  bool Percent(int p) { return static_cast<int>(Uniform(0, 99)) < p; }

  std::mt19937_64 gen_;
  Options options_;
};

}  // namespace sluice::protocol
