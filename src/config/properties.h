// Java .properties parsing, as java.util.Properties.load reads
// server.properties: '#' and '!' comment lines; "key=value", "key: value" and
// "key value"; leading whitespace ignored; a line ending in an odd number of
// backslashes continues on the next line (whose leading whitespace is
// dropped); escapes \t \n \r \f \uXXXX and \<any char>. Pure, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::config {

struct PropertyEntry {
  std::string key;
  std::string value;  // Not trimmed at the end (Java keeps trailing spaces).
  int line = 0;       // 1-based line where the entry starts.
};

// Entries in file order; a repeated key appears twice (the later one wins).
// Fails only on a malformed \uXXXX escape.
Result<std::vector<PropertyEntry>> ParseProperties(std::string_view text);
Result<std::vector<PropertyEntry>> ReadPropertiesFile(const std::string& path);

}  // namespace sluice::config
