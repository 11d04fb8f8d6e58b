#include "tools/options.h"

#include <gtest/gtest.h>

namespace sluice::tools {
namespace {

TEST(ParseKeyValueTest, SplitsAtFirstEquals) {
  Result<KeyValue> kv = ParseKeyValue("retention.ms=1000");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ("retention.ms", kv->first);
  EXPECT_EQ("1000", kv->second);

  kv = ParseKeyValue("sasl.jaas=a=b");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ("sasl.jaas", kv->first);
  EXPECT_EQ("a=b", kv->second);
}

TEST(ParseKeyValueTest, EmptyValueIsAllowed) {
  Result<KeyValue> kv = ParseKeyValue("trace=");
  ASSERT_TRUE(kv.ok());
  EXPECT_EQ("", kv->second);
}

TEST(ParseKeyValueTest, RejectsMissingEqualsOrName) {
  EXPECT_FALSE(ParseKeyValue("novalue").ok());
  EXPECT_FALSE(ParseKeyValue("=v").ok());
  EXPECT_FALSE(ParseKeyValue("").ok());
}

TEST(ParseKeyValueTest, ManyStopsAtFirstBadOne) {
  Result<std::vector<KeyValue>> all = ParseKeyValues({"a=1", "b=2"});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(2u, all->size());
  Result<std::vector<KeyValue>> bad = ParseKeyValues({"a=1", "oops"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string::npos, bad.status().message().find("oops"));
}

TEST(ParseStartOffsetTest, NamedAbsoluteAndRelative) {
  using K = StartOffset::Kind;
  EXPECT_EQ((StartOffset{K::kBeginning, 0}), *ParseStartOffset("beginning"));
  EXPECT_EQ((StartOffset{K::kEnd, 0}), *ParseStartOffset("end"));
  EXPECT_EQ((StartOffset{K::kAbsolute, 0}), *ParseStartOffset("0"));
  EXPECT_EQ((StartOffset{K::kAbsolute, 1234567890123}), *ParseStartOffset("1234567890123"));
  EXPECT_EQ((StartOffset{K::kFromEnd, 10}), *ParseStartOffset("-10"));
}

TEST(ParseStartOffsetTest, RejectsGarbage) {
  EXPECT_FALSE(ParseStartOffset("").ok());
  EXPECT_FALSE(ParseStartOffset("start").ok());
  EXPECT_FALSE(ParseStartOffset("12abc").ok());
  EXPECT_FALSE(ParseStartOffset(" 12").ok());
  EXPECT_FALSE(ParseStartOffset("99999999999999999999").ok());
}

TEST(ParseInt64Test, WholeStringOnly) {
  EXPECT_EQ(std::optional<int64_t>(-5), ParseInt64("-5"));
  EXPECT_FALSE(ParseInt64("5 ").has_value());
  EXPECT_FALSE(ParseInt64("").has_value());
}

TEST(SplitKeyValueTest, SplitsAtFirstSeparator) {
  auto kv = SplitKeyValue("user-1:hello:world", ":");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ("user-1", kv->first);
  EXPECT_EQ("hello:world", kv->second);
}

TEST(SplitKeyValueTest, MultiCharacterSeparatorAndEmptyParts) {
  auto kv = SplitKeyValue("::=>", "::");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ("", kv->first);
  EXPECT_EQ("=>", kv->second);
  kv = SplitKeyValue("key|", "|");
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ("key", kv->first);
  EXPECT_EQ("", kv->second);
}

TEST(SplitKeyValueTest, NoSeparatorOrEmptySeparator) {
  EXPECT_FALSE(SplitKeyValue("no separator here", "|").has_value());
  EXPECT_FALSE(SplitKeyValue("a|b", "").has_value());
}

TEST(UnescapeTest, ControlCharactersAndBackslash) {
  EXPECT_EQ("\t", *Unescape("\\t"));
  EXPECT_EQ("a\\b\n", *Unescape("a\\\\b\\n"));
  EXPECT_EQ("plain", *Unescape("plain"));
  EXPECT_FALSE(Unescape("\\").ok());
  EXPECT_FALSE(Unescape("\\x").ok());
}

}  // namespace
}  // namespace sluice::tools
