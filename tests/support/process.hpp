// Real child processes for integration tests: started with posix_spawn, output to a log file,
// killed (SIGKILL) when the object goes away, so a failing test never leaves processes behind.
#pragma once

#include <sys/types.h>

#include <thread>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace fl::test {

class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log_file);
  ~ChildProcess();
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ChildProcess(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  void kill(int signal);
  // The exit code, or nullopt if it is still running after `timeout` (or died by a signal: -sig).
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// Waits until `predicate` holds, polling every 100 ms; false after `timeout`.
template <typename Predicate>
bool wait_until(Predicate predicate, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return predicate();
}

// Path of a built binary, from the FL_BIN_DIR compile definition.
std::string binary(const std::string& name);

}  // namespace fl::test
