#include "config/properties.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"

namespace sluice::config {
namespace {

std::vector<std::pair<std::string, std::string>> Parse(std::string_view text) {
  auto parsed = ParseProperties(text);
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  std::vector<std::pair<std::string, std::string>> out;
  if (!parsed.ok()) return out;
  for (auto& e : *parsed) out.emplace_back(e.key, e.value);
  return out;
}

using KV = std::vector<std::pair<std::string, std::string>>;

TEST(PropertiesTest, SeparatorsAndWhitespace) {
  EXPECT_EQ(Parse("a=1\nb: 2\nc 3\n  d  =  4\n\te\t:\t5\nf=\ng\n"),
            (KV{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}, {"f", ""}, {"g", ""}}));
}

TEST(PropertiesTest, CommentsAndBlankLines) {
  EXPECT_EQ(Parse("# comment\n! also\n\n   \n  # indented comment\nkey=value # not a comment\n"),
            (KV{{"key", "value # not a comment"}}));
}

TEST(PropertiesTest, OnlyFirstSeparatorSplits) {
  EXPECT_EQ(Parse("listeners=PLAINTEXT://host:9092\nx = a=b:c\n"),
            (KV{{"listeners", "PLAINTEXT://host:9092"}, {"x", "a=b:c"}}));
}

TEST(PropertiesTest, LineContinuations) {
  EXPECT_EQ(Parse("log.dirs=/a,\\\n    /b,\\\n\t/c\nnext=1\n"),
            (KV{{"log.dirs", "/a,/b,/c"}, {"next", "1"}}));
  // An even number of backslashes is an escaped backslash, not a continuation.
  EXPECT_EQ(Parse("path=c:\\\\\nnext=1\n"), (KV{{"path", "c:\\"}, {"next", "1"}}));
  // A comment line never continues.
  EXPECT_EQ(Parse("# comment \\\nkey=v\n"), (KV{{"key", "v"}}));
  // Continuation at end of input.
  EXPECT_EQ(Parse("a=b\\"), (KV{{"a", "b"}}));
}

TEST(PropertiesTest, Escapes) {
  EXPECT_EQ(Parse("tab=a\\tb\nnl=a\\nb\nkey\\ with\\=odd\\:chars=v\nu=\\u00e9\\u0041\nother=\\q\n"),
            (KV{{"tab", "a\tb"},
                {"nl", "a\nb"},
                {"key with=odd:chars", "v"},
                {"u", "\xc3\xa9" "A"},
                {"other", "q"}}));
  EXPECT_FALSE(ParseProperties("bad=\\u12").ok());
  EXPECT_FALSE(ParseProperties("bad=\\u12zz").ok());
}

TEST(PropertiesTest, LineEndingsAndLineNumbers) {
  auto parsed = ParseProperties("a=1\r\nb=2\rc=3\n\n# x\nd=multi\\\n  line\ne=5");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->size(), 5u);
  EXPECT_EQ((*parsed)[0].line, 1);
  EXPECT_EQ((*parsed)[1].line, 2);
  EXPECT_EQ((*parsed)[2].line, 3);
  EXPECT_EQ((*parsed)[3].key, "d");
  EXPECT_EQ((*parsed)[3].value, "multiline");
  EXPECT_EQ((*parsed)[3].line, 6);
  EXPECT_EQ((*parsed)[4].line, 8);
}

TEST(PropertiesTest, TrailingWhitespaceKeptInValue) {
  EXPECT_EQ(Parse("a=value  \n"), (KV{{"a", "value  "}}));
}

TEST(PropertiesTest, DuplicatesAreKeptInOrder) {
  EXPECT_EQ(Parse("a=1\na=2\n"), (KV{{"a", "1"}, {"a", "2"}}));
}

TEST(PropertiesTest, ReadsFiles) {
  sluice::testing::TempDir dir;
  const auto path = (dir.path() / "server.properties").string();
  std::ofstream(path) << "broker.id=3\n";
  auto parsed = ReadPropertiesFile(path);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ((*parsed)[0].value, "3");
  EXPECT_TRUE(ReadPropertiesFile(path + ".missing").status().IsNotFound());
}

}  // namespace
}  // namespace sluice::config
