// Reader for the IDX files that hold (Fashion-)MNIST: a big-endian header (magic with the
// element type and rank, then one u32 per dimension) followed by the raw bytes. Gzipped files
// are read directly. No torch here, so tools without a deep-learning runtime can use it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::models {

// An unsigned-byte IDX array: dims from the header, data row-major, data.size() == prod(dims).
struct IdxArray {
  std::vector<std::int64_t> dims;
  std::vector<std::uint8_t> data;

  std::int64_t count() const { return dims.empty() ? 0 : dims.front(); }
};

// Reads a ubyte IDX file, gzipped (by its magic, not its name) or plain. Fails with kNotFound
// when the file is missing, kCorrupt for a bad magic, a truncated or oversized body, a
// corrupt gzip stream, and kLimitExceeded when the header claims more than 2 GiB.
Result<IdxArray> read_idx(const std::filesystem::path& path);

}  // namespace fl::models
