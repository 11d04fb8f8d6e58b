// Every prefix of a valid message fails to decode with an error (never a
// crash, never success), and the error names the message.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/generated/fill_random.h"

namespace sluice::protocol {
namespace {

template <typename T>
void CheckEveryPrefix(int16_t version, uint64_t seed) {
  MessageRng::Options options;
  options.null_percent = 0;
  options.tagged_percent = 100;
  options.max_array = 2;
  MessageRng rng(seed, options);
  T x;
  FillRandom(rng, version, &x);
  Writer w;
  x.Encode(w, version);
  std::vector<uint8_t> bytes = w.Take();
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
    Reader r(prefix);
    T y;
    Status s = y.Decode(r, version);
    ASSERT_FALSE(s.ok()) << T::kName << " v" << version << " decoded from " << n << " of "
                         << bytes.size() << " bytes";
    EXPECT_EQ(s.message().rfind(T::kName, 0), 0u) << s.message();
  }
}

TEST(Truncation, EveryPrefixIsAnError) {
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    CheckEveryPrefix<ProduceRequest>(3, seed);
    CheckEveryPrefix<ProduceRequest>(9, seed);
    CheckEveryPrefix<FetchResponse>(4, seed);
    CheckEveryPrefix<FetchResponse>(12, seed);
    CheckEveryPrefix<FetchRequest>(12, seed);
    CheckEveryPrefix<MetadataResponse>(12, seed);
    CheckEveryPrefix<ApiVersionsResponse>(3, seed);
    CheckEveryPrefix<ListOffsetsResponse>(7, seed);
  }
}

}  // namespace
}  // namespace sluice::protocol
