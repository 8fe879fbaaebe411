// Shared by the fuzz harnesses: decoders that read from a path get the input through an
// in-memory file (memfd), so a run does no disk I/O and leaves nothing behind.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>

namespace fl::fuzz {

// Replaces the process's one in-memory file with `bytes` and returns a path that opens it.
inline std::string in_memory_file(std::span<const std::uint8_t> bytes) {
  static const int fd = memfd_create("fl-fuzz-input", 0);
  if (fd < 0 || ftruncate(fd, 0) != 0) std::abort();
  std::size_t done = 0;
  while (done < bytes.size()) {
    const auto n = pwrite(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n <= 0) std::abort();
    done += static_cast<std::size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A broken invariant found by a harness (not by a sanitizer): abort so libFuzzer keeps the input.
#define FL_FUZZ_CHECK(cond)                                                            \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

}  // namespace fl::fuzz
