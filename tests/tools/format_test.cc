#include "tools/format.h"

#include <gtest/gtest.h>

namespace sluice::tools {
namespace {

std::string RenderWith(std::string_view spec, const MessageFields& m) {
  Result<Format> f = Format::Parse(spec);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  std::string out;
  if (f.ok()) f->Render(m, &out);
  return out;
}

MessageFields Sample() {
  MessageFields m;
  m.topic = "orders";
  m.partition = 2;
  m.offset = 42;
  m.key = "k1";
  m.value = "hello";
  m.timestamp_ms = 1700000000123;
  m.headers = {{"trace", "abc"}, {"empty", ""}, {"null", std::nullopt}};
  return m;
}

TEST(FormatTest, DefaultIsValueAndNewline) {
  EXPECT_EQ("hello\n", RenderWith("%v\\n", Sample()));
}

TEST(FormatTest, EveryPlaceholder) {
  EXPECT_EQ("orders/2@42 k1=hello t=1700000000123 [trace=abc,empty=,null] 2/5",
            RenderWith("%t/%p@%o %k=%v t=%T [%h] %K/%S", Sample()));
}

TEST(FormatTest, ValueAliasAndLiteralPercent) {
  EXPECT_EQ("hello 100%", RenderWith("%s 100%%", Sample()));
}

TEST(FormatTest, Escapes) {
  EXPECT_EQ(std::string("a\tb\nc\\d\re\0f", 11), RenderWith("a\\tb\\nc\\\\d\\re\\0f", Sample()));
}

TEST(FormatTest, NullKeyAndValueRenderEmptyWithLengthMinusOne) {
  MessageFields m = Sample();
  m.key.reset();
  m.value.reset();
  EXPECT_EQ("[] [] -1 -1", RenderWith("[%k] [%v] %K %S", m));
}

TEST(FormatTest, EmptyValueIsNotNull) {
  MessageFields m = Sample();
  m.value = "";
  EXPECT_EQ("[]0", RenderWith("[%v]%S", m));
}

TEST(FormatTest, BinaryValuePassesThrough) {
  MessageFields m = Sample();
  std::string binary("a\0b", 3);
  m.value = binary;
  EXPECT_EQ(binary, RenderWith("%v", m));
}

TEST(FormatTest, NoHeadersRendersNothing) {
  MessageFields m = Sample();
  m.headers.clear();
  EXPECT_EQ("<>", RenderWith("<%h>", m));
}

TEST(FormatTest, UsesHeadersOnlyWhenAsked) {
  EXPECT_FALSE(Format::Parse("%k %v")->uses_headers());
  EXPECT_TRUE(Format::Parse("%v %h")->uses_headers());
}

TEST(FormatTest, RejectsUnknownPlaceholderAndEscape) {
  Result<Format> bad = Format::Parse("%v %x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string::npos, bad.status().message().find("%x"));
  EXPECT_FALSE(Format::Parse("\\q").ok());
}

TEST(FormatTest, RejectsDanglingPercentOrBackslash) {
  EXPECT_FALSE(Format::Parse("%v%").ok());
  EXPECT_FALSE(Format::Parse("%v\\").ok());
}

TEST(FormatTest, PlainTextAndEmptyFormat) {
  EXPECT_EQ("just text", RenderWith("just text", Sample()));
  EXPECT_EQ("", RenderWith("", Sample()));
}

TEST(FormatTest, RenderAppends) {
  Result<Format> f = Format::Parse("%o,");
  ASSERT_TRUE(f.ok());
  std::string out = "x";
  f->Render(Sample(), &out);
  f->Render(Sample(), &out);
  EXPECT_EQ("x42,42,", out);
}

}  // namespace
}  // namespace sluice::tools
