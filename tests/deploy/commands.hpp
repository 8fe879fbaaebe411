// Running system tools from the deployment tests: find a program the way a shell would (plus
// the sbin folders a non-root PATH may lack), run it to completion, keep what it printed.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl::test {

inline std::optional<std::string> find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/local/sbin:/usr/sbin:/sbin:/usr/bin:/bin";
  std::istringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (dir.empty()) continue;
    const auto candidate = std::filesystem::path(dir) / name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return std::nullopt;
}

struct CommandResult {
  int exit_code = -1;  // -1 also when it ran past the timeout (it is killed)
  std::string output;  // stdout and stderr together
};

// Runs argv (argv[0] an absolute path) with its output in `log`, which is replaced.
inline CommandResult run_command(const std::vector<std::string>& argv,
                                 const std::filesystem::path& log,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::filesystem::remove(log);
  CommandResult r;
  {
    ChildProcess p(argv, log);
    r.exit_code = p.wait(timeout).value_or(-1);
  }
  r.output = read_file(log);
  return r;
}

}  // namespace fl::test
