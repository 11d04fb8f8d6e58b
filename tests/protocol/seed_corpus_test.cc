// Writes the request fuzzer's seed corpus (fuzz/corpus/request/): a valid
// request (header + body) per API at its lowest, first flexible and highest
// version. Disabled: run by hand when messages change, e.g.
//   SLUICE_SEED_CORPUS_DIR=fuzz/corpus/request build/protocol/bin/protocol_test
//     --gtest_also_run_disabled_tests --gtest_filter='SeedCorpus.*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "protocol/generated/fill_random.h"
#include "protocol/header.h"

namespace sluice::protocol {
namespace {

TEST(SeedCorpus, DISABLED_Write) {
  const char* dir = std::getenv("SLUICE_SEED_CORPUS_DIR");
  ASSERT_NE(dir, nullptr) << "set SLUICE_SEED_CORPUS_DIR";
  ForEachApi([&]<typename Req, typename Resp>() {
    std::set<int16_t> versions = {Req::kMinVersion, Req::kMaxVersion};
    if (Req::kFirstFlexibleVersion >= 0) versions.insert(Req::kFirstFlexibleVersion);
    for (int16_t v : versions) {
      MessageRng rng(static_cast<uint64_t>(Req::kApiKey) * 100 + static_cast<uint64_t>(v));
      Req body;
      FillRandom(rng, v, &body);
      RequestHeader header;
      header.request_api_key = Req::kApiKey;
      header.request_api_version = v;
      header.correlation_id = v;
      header.client_id = "seed";
      std::vector<uint8_t> bytes = EncodeRequest(header, body);
      std::ofstream out(std::string(dir) + "/" + Req::kName + "_v" + std::to_string(v),
                        std::ios::binary);
      out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
      ASSERT_TRUE(out.good());
    }
  });
}

}  // namespace
}  // namespace sluice::protocol
