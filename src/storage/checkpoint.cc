#include "storage/checkpoint.h"

#include <string_view>

#include "base/numbers.h"

namespace sluice::storage {
namespace {

std::vector<std::string> SplitLines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

}  // namespace

Status WriteCheckpoint(FileSystem* fs, const std::filesystem::path& dir, const std::string& name,
                       const std::vector<std::string>& lines) {
  std::string text = "0\n" + std::to_string(lines.size()) + "\n";
  for (const std::string& l : lines) text += l + "\n";
  return WriteFileAtomically(fs, dir, name,
                             {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

Result<std::vector<std::string>> ReadCheckpoint(FileSystem* fs, const std::filesystem::path& path) {
  Result<std::vector<uint8_t>> bytes = ReadWholeFile(fs, path);
  if (!bytes.ok()) return bytes.status();
  std::vector<std::string> lines =
      SplitLines({reinterpret_cast<const char*>(bytes->data()), bytes->size()});
  int64_t version = -1, count = -1;
  if (lines.size() < 2 || !ParseInt64(lines[0], &version) || version != 0 ||
      !ParseInt64(lines[1], &count) || count < 0 ||
      lines.size() != static_cast<size_t>(count) + 2) {
    return Status::Corruption(path.string() + ": malformed checkpoint");
  }
  return std::vector<std::string>(lines.begin() + 2, lines.end());
}

Status WriteOffsetCheckpoint(FileSystem* fs, const std::filesystem::path& dir,
                             const std::string& name, int64_t offset) {
  return WriteCheckpoint(fs, dir, name, {std::to_string(offset)});
}

Result<std::optional<int64_t>> ReadOffsetCheckpoint(FileSystem* fs,
                                                    const std::filesystem::path& path) {
  Result<std::vector<std::string>> lines = ReadCheckpoint(fs, path);
  if (!lines.ok()) {
    if (lines.status().IsNotFound()) return std::optional<int64_t>();
    return lines.status();
  }
  int64_t v = 0;
  if (lines->size() != 1 || !ParseInt64((*lines)[0], &v) || v < 0) {
    return Status::Corruption(path.string() + ": malformed offset");
  }
  return std::optional<int64_t>(v);
}

}  // namespace sluice::storage
