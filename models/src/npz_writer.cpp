#include <zlib.h>

#include <cstring>
#include <fstream>

#include "fl/models/npz.hpp"

namespace fl::models {
namespace {

template <typename T>
NpzArray make(std::string name, std::string dtype, std::vector<std::int64_t> shape,
              std::span<const T> values) {
  NpzArray a{std::move(name), std::move(dtype), std::move(shape), {}};
  a.bytes.resize(values.size_bytes());
  if (!values.empty()) std::memcpy(a.bytes.data(), values.data(), values.size_bytes());
  return a;
}

std::size_t element_size(const std::string& dtype) {
  return dtype.size() == 3 ? static_cast<std::size_t>(dtype[2] - '0') : 0;
}

void put(std::vector<std::uint8_t>& out, std::uint64_t value, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

}  // namespace

NpzArray NpzArray::float32(std::string name, std::vector<std::int64_t> shape,
                           std::span<const float> values) {
  return make(std::move(name), "<f4", std::move(shape), values);
}
NpzArray NpzArray::int64(std::string name, std::vector<std::int64_t> shape,
                         std::span<const std::int64_t> values) {
  return make(std::move(name), "<i8", std::move(shape), values);
}
NpzArray NpzArray::uint8(std::string name, std::vector<std::int64_t> shape,
                         std::span<const std::uint8_t> values) {
  return make(std::move(name), "|u1", std::move(shape), values);
}

std::vector<std::uint8_t> npy_bytes(const NpzArray& array) {
  std::string dims;
  for (const auto d : array.shape) dims += std::to_string(d) + ", ";
  if (array.shape.size() > 1) dims.resize(dims.size() - 2);  // "(3, 4)" but "(3,)"
  if (array.shape.size() == 1) dims.resize(dims.size() - 1);
  std::string header =
      "{'descr': '" + array.dtype + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::vector<std::uint8_t> out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  put(out, header.size(), 2);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), array.bytes.begin(), array.bytes.end());
  return out;
}

Status write_npz(const std::filesystem::path& path, std::span<const NpzArray> arrays) {
  std::vector<std::uint8_t> zip, directory;
  for (const auto& array : arrays) {
    std::size_t count = 1;
    for (const auto d : array.shape) count *= static_cast<std::size_t>(d);
    if (element_size(array.dtype) == 0 || count * element_size(array.dtype) != array.bytes.size()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "npz array '" + array.name + "': " + std::to_string(array.bytes.size()) +
                            " bytes do not fit its shape and dtype " + array.dtype);
    }
    const auto npy = npy_bytes(array);
    const std::string name = array.name + ".npy";
    const auto crc = crc32(0, npy.data(), static_cast<uInt>(npy.size()));
    const auto offset = zip.size();
    // Local header: version 2.0, no flags, stored, 1980-01-01, sizes, name.
    put(zip, 0x04034b50, 4), put(zip, 20, 2), put(zip, 0, 2), put(zip, 0, 2), put(zip, 0, 2);
    put(zip, 0x21, 2), put(zip, crc, 4), put(zip, npy.size(), 4), put(zip, npy.size(), 4);
    put(zip, name.size(), 2), put(zip, 0, 2);
    zip.insert(zip.end(), name.begin(), name.end());
    zip.insert(zip.end(), npy.begin(), npy.end());
    put(directory, 0x02014b50, 4), put(directory, 20, 2), put(directory, 20, 2);
    put(directory, 0, 2), put(directory, 0, 2), put(directory, 0, 2), put(directory, 0x21, 2);
    put(directory, crc, 4), put(directory, npy.size(), 4), put(directory, npy.size(), 4);
    put(directory, name.size(), 2), put(directory, 0, 2), put(directory, 0, 2);
    put(directory, 0, 2), put(directory, 0, 2), put(directory, 0, 4), put(directory, offset, 4);
    directory.insert(directory.end(), name.begin(), name.end());
  }
  const auto directory_at = zip.size();
  zip.insert(zip.end(), directory.begin(), directory.end());
  put(zip, 0x06054b50, 4), put(zip, 0, 2), put(zip, 0, 2), put(zip, arrays.size(), 2);
  put(zip, arrays.size(), 2), put(zip, directory.size(), 4), put(zip, directory_at, 4);
  put(zip, 0, 2);
  const auto partial = path.string() + ".part";
  {
    std::ofstream out(partial, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(zip.data()), static_cast<std::streamsize>(zip.size()));
    if (!out) return make_error(ErrorCode::kIo, "cannot write " + partial);
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot rename " + partial + " to " + path.string());
  return ok_status();
}

}  // namespace fl::models
