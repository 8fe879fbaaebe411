// Writing NumPy .npz files (a zip of .npy arrays, stored uncompressed), which numpy.load reads:
// `fl-coordinator export --to model.npz` writes one float32 array per parameter, and the tests
// write npz data sets with it. Reading npz data sets is load_dataset("npz:FILE"). No torch here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::models {

struct NpzArray {
  std::string name;                 // the key numpy.load gives it ("fc1.weight", "x")
  std::string dtype;                // NumPy descr: "<f4", "<i8", "|u1"
  std::vector<std::int64_t> shape;  // C order
  std::vector<std::uint8_t> bytes;  // little-endian values, product(shape) * element size

  static NpzArray float32(std::string name, std::vector<std::int64_t> shape,
                          std::span<const float> values);
  static NpzArray int64(std::string name, std::vector<std::int64_t> shape,
                        std::span<const std::int64_t> values);
  static NpzArray uint8(std::string name, std::vector<std::int64_t> shape,
                        std::span<const std::uint8_t> values);
};

// Writes the arrays as NAME.npy entries of a zip file (through a temporary file and a rename).
// kInvalidArgument when an array's bytes do not match its shape and dtype; kIo names the path.
Status write_npz(const std::filesystem::path& path, std::span<const NpzArray> arrays);

// The .npy image of one array (version 1.0 header padded to 64 bytes).
std::vector<std::uint8_t> npy_bytes(const NpzArray& array);

}  // namespace fl::models
