// sluice-broker: for now opens the data directory and reports what it found.
// The network server replaces this body when it lands.
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

int main(int argc, char** argv) {
  std::string log_dir = "data";
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--override" && i + 1 < argc) {
      std::string_view kv = argv[++i];
      if (kv.starts_with("log.dirs=")) log_dir = std::string(kv.substr(9));
    }
  }
  std::filesystem::create_directories(log_dir);
  int partitions = 0;
  for (const auto& entry : std::filesystem::directory_iterator(log_dir)) {
    if (entry.is_directory()) ++partitions;
  }
  std::printf("sluice-broker: data directory %s holds %d partition directories\n",
              log_dir.c_str(), partitions);
  return 0;
}
