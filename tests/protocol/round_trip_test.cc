// Every message of every .msg file, at every supported version, request and
// response: decode(encode(x)) == x and encode(decode(bytes)) == bytes, for a
// default-constructed x and for pseudo-random ones (FillRandom, generated),
// with nullable and tagged fields set and unset.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "protocol/api_registry.h"
#include "protocol/generated/fill_random.h"

namespace sluice::protocol {
namespace {

struct Case {
  std::string name;
  std::function<void()> run;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

template <typename T>
void CheckRoundTrip(const T& x, int16_t version, const std::string& what, T* reused = nullptr) {
  Writer w;
  x.Encode(w, version);
  ASSERT_TRUE(w.status().ok());
  std::vector<uint8_t> bytes = w.Take();
  Reader r(bytes);
  T y;
  Status s = y.Decode(r, version);
  ASSERT_TRUE(s.ok()) << what << ": " << s.ToString();
  EXPECT_EQ(r.remaining(), 0u) << what;
  EXPECT_TRUE(y == x) << what << ": decode(encode(x)) != x";
  Writer w2;
  y.Encode(w2, version);
  EXPECT_EQ(w2.Take(), bytes) << what << ": encode(decode(bytes)) != bytes";
  if (reused != nullptr) {
    // Decoding into a message that held another value gives the same result.
    Reader r2(bytes);
    ASSERT_TRUE(reused->Decode(r2, version).ok()) << what;
    EXPECT_TRUE(*reused == x) << what << ": decode into a reused message differs";
  }
}

template <typename T>
void CheckMessage(int16_t version) {
  const std::string base = std::string(T::kName) + " v" + std::to_string(version);
  CheckRoundTrip(T{}, version, base + " defaults");
  T reused;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    MessageRng::Options options;
    if (seed % 4 == 1) options = {.null_percent = 0, .tagged_percent = 100,
                                  .unknown_tagged_percent = 100};
    if (seed % 4 == 2) options = {.null_percent = 100, .tagged_percent = 0,
                                  .unknown_tagged_percent = 0};
    MessageRng rng(seed * 7919 + static_cast<uint64_t>(version), options);
    T x;
    FillRandom(rng, version, &x);
    CheckRoundTrip(x, version, base + " seed " + std::to_string(seed), &reused);
    if (::testing::Test::HasFailure()) return;
  }
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  ForEachApi([&]<typename Req, typename Resp>() {
    for (int16_t v = Req::kMinVersion; v <= Req::kMaxVersion; ++v) {
      cases.push_back({std::string(Req::kName) + "_v" + std::to_string(v),
                       [v] { CheckMessage<Req>(v); }});
      cases.push_back({std::string(Resp::kName) + "_v" + std::to_string(v),
                       [v] { CheckMessage<Resp>(v); }});
    }
  });
  for (int16_t v = RequestHeader::kMinVersion; v <= RequestHeader::kMaxVersion; ++v) {
    cases.push_back({"RequestHeader_v" + std::to_string(v), [v] { CheckMessage<RequestHeader>(v); }});
  }
  for (int16_t v = ResponseHeader::kMinVersion; v <= ResponseHeader::kMaxVersion; ++v) {
    cases.push_back({"ResponseHeader_v" + std::to_string(v), [v] { CheckMessage<ResponseHeader>(v); }});
  }
  return cases;
}

class RoundTrip : public ::testing::TestWithParam<Case> {};

TEST_P(RoundTrip, EncodeDecode) { GetParam().run(); }

INSTANTIATE_TEST_SUITE_P(AllMessages, RoundTrip, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& p) { return p.param.name; });

// The registry is generated from the same files: every API is in it once.
TEST(Registry, MatchesMessages) {
  int count = 0;
  ForEachApi([&]<typename Req, typename Resp>() {
    ++count;
    const ApiInfo* api = FindApi(Req::kApiKey);
    ASSERT_NE(api, nullptr) << Req::kName;
    EXPECT_EQ(api->min_version, Req::kMinVersion);
    EXPECT_EQ(api->max_version, Resp::kMaxVersion);
    EXPECT_EQ(api->first_flexible_version, Req::kFirstFlexibleVersion);
  });
  EXPECT_EQ(static_cast<size_t>(count), AllApis().size());
  EXPECT_EQ(FindApi(-5), nullptr);
}

}  // namespace
}  // namespace sluice::protocol
