// NumPy .npy files (format versions 1.0 and 2.0) holding float32 little-endian C-order arrays of
// one or two dimensions, so researchers can hand updates to fl-coordinator and compare its
// aggregates with Python tools. Anything else (float64, Fortran order, big-endian, truncated
// data, oversized headers) is refused with an error naming the file and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::common {

struct NpyArray {
  std::vector<std::size_t> shape;  // {n} or {rows, cols}
  std::vector<float> values;       // row-major, product(shape) values
};

// Largest header (dict and padding) accepted; NumPy itself writes well under 1 KiB.
inline constexpr std::size_t kNpyMaxHeaderBytes = 64 * 1024;

// Checks the header and that the file holds exactly the bytes the shape needs before allocating.
Result<NpyArray> read_npy(const std::filesystem::path& path);
// Parses a whole .npy image held in memory; `source` names it in errors.
Result<NpyArray> parse_npy(std::span<const std::uint8_t> bytes, const std::string& source);

// Writes a version 1.0 file (header padded to 64 bytes); shape has one or two dimensions and
// its product must equal values.size().
Status write_npy(const std::filesystem::path& path, std::span<const float> values,
                 std::span<const std::size_t> shape);

}  // namespace fl::common
