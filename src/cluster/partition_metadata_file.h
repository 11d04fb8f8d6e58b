// partition.metadata: which topic a replica's log belongs to, kept in the
// log's directory as Kafka keeps it (KIP-516), with the id in this broker's
// hex form: "version: 0\ntopic_id: <32 hex digits>\n".
//
// Why: a directory is named "<topic>-<partition>", and names are reused. A
// topic deleted while a broker was away, then created again under the same
// name, finds that broker's old log in the new topic's place. The id tells
// the two apart, so the old data is never served as the new topic's.
#pragma once

#include <filesystem>

#include "base/status.h"
#include "cluster/topic_table.h"
#include "storage/file.h"

namespace sluice::cluster {

inline constexpr const char* kPartitionMetadataFile = "partition.metadata";

// The topic id recorded in `log_dir`: NotFound when there is no file (a log
// written before the file existed), Corruption when it cannot be read.
Result<TopicId> ReadPartitionMetadata(storage::FileSystem* fs,
                                      const std::filesystem::path& log_dir);

// Records `id` in `log_dir`, atomically (a new file renamed over the old)
// but not synced: a file a power failure loses or leaves empty reads as no
// record, and the log is then adopted by the topic that hosts it, which is
// right for the new log that was being made. Syncing it would cost two
// syncs per partition of every new topic.
Status WritePartitionMetadata(storage::FileSystem* fs, const std::filesystem::path& log_dir,
                              const TopicId& id);

}  // namespace sluice::cluster
