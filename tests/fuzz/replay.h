// The GoogleTest side of the fuzz targets: replays a target's seed corpus
// (tests/fuzz/corpus/<target>/) and the inputs of the crashes it found
// (tests/fuzz/regressions/<target>/) through the same code that libFuzzer runs.
#ifndef WSC_TESTS_FUZZ_REPLAY_H
#define WSC_TESTS_FUZZ_REPLAY_H

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz.h"

namespace wsc_fuzz {

// Runs every file of both folders through target (a failed check aborts, naming the file).
// Returns how many inputs ran.
inline size_t replay(const std::string &target, int (*run)(const uint8_t *, size_t)) {
  namespace fs = std::filesystem;
  std::vector<fs::path> files;
  for (const char *kind : {"corpus", "regressions"}) {
    fs::path dir = fs::path(WSC_FUZZ_DIR) / kind / target;
    if (!fs::is_directory(dir)) continue;
    for (const auto &entry : fs::directory_iterator(dir))
      if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto &path : files) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string name = path.string();
    current_input = name.c_str();
    run(data.data(), data.size());
    current_input = nullptr;
  }
  return files.size();
}

}  // namespace wsc_fuzz

#endif
