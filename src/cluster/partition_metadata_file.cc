#include "cluster/partition_metadata_file.h"

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace sluice::cluster {
namespace {

constexpr std::string_view kVersionLine = "version: 0";
constexpr std::string_view kIdKey = "topic_id: ";

}  // namespace

Result<TopicId> ReadPartitionMetadata(storage::FileSystem* fs,
                                      const std::filesystem::path& log_dir) {
  const std::filesystem::path path = log_dir / kPartitionMetadataFile;
  Result<std::string> text = storage::ReadWholeTextFile(fs, path);
  if (!text.ok()) return text.status();
  std::string_view rest = *text;
  const size_t newline = rest.find('\n');
  if (newline == std::string_view::npos || rest.substr(0, newline) != kVersionLine) {
    return Status::Corruption(fmt::format("{}: unknown version", path.string()));
  }
  rest.remove_prefix(newline + 1);
  if (!rest.starts_with(kIdKey)) {
    return Status::Corruption(fmt::format("{}: no topic_id", path.string()));
  }
  rest.remove_prefix(kIdKey.size());
  if (rest.ends_with('\n')) rest.remove_suffix(1);
  std::optional<TopicId> id = ParseTopicId(rest);
  if (!id) return Status::Corruption(fmt::format("{}: bad topic_id", path.string()));
  return *id;
}

Status WritePartitionMetadata(storage::FileSystem* fs, const std::filesystem::path& log_dir,
                              const TopicId& id) {
  const std::string text = fmt::format("{}\n{}{}\n", kVersionLine, kIdKey, TopicIdToString(id));
  const std::filesystem::path tmp = log_dir / (std::string(kPartitionMetadataFile) + ".tmp");
  {
    Result<std::shared_ptr<storage::File>> file = fs->Open(tmp, /*create=*/true);
    if (!file.ok()) return file.status();
    SLUICE_RETURN_IF_ERROR((*file)->Truncate(0));
    SLUICE_RETURN_IF_ERROR((*file)->Write(
        0, std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
  }
  return fs->Rename(tmp, log_dir / kPartitionMetadataFile);
}

}  // namespace sluice::cluster
