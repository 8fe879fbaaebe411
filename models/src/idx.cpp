#include "fl/models/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <system_error>

namespace fl::models {
namespace {

constexpr std::uint8_t kUnsignedByteType = 0x08;
constexpr std::size_t kMaxRank = 8;
constexpr std::int64_t kMaxBytes = std::int64_t{1} << 31;  // 2 GiB: far above any IDX dataset

struct GzCloser {
  void operator()(gzFile f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

Error corrupt(const std::filesystem::path& path, const std::string& what) {
  return make_error(ErrorCode::kCorrupt, "idx file " + path.string() + ": " + what);
}

std::string hex_byte(std::uint8_t value) {
  constexpr char kDigits[] = "0123456789abcdef";
  return {'0', 'x', kDigits[value >> 4], kDigits[value & 0xf]};
}

std::uint32_t big_endian_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// The uncompressed size a gzip file claims in its trailer (ISIZE, mod 2^32), or -1 when the
// file is not gzip. Used to bound allocations before decompressing.
struct FileFacts {
  std::uintmax_t file_bytes = 0;
  bool gzipped = false;
  std::int64_t gzip_isize = -1;
};

Result<FileFacts> inspect(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return make_error(ErrorCode::kNotFound, "idx file " + path.string() + ": does not exist");
  }
  FileFacts facts;
  facts.file_bytes = std::filesystem::file_size(path, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "idx file " + path.string() + ": " + ec.message());
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kIo,
                      "idx file " + path.string() + ": cannot open: " + std::strerror(errno));
  }
  std::array<std::uint8_t, 2> head{};
  in.read(reinterpret_cast<char*>(head.data()), 2);
  facts.gzipped = in.gcount() == 2 && head[0] == 0x1f && head[1] == 0x8b;
  if (facts.gzipped && facts.file_bytes >= 18) {  // 10-byte header + 8-byte trailer minimum
    std::array<std::uint8_t, 4> tail{};
    in.seekg(-4, std::ios::end);
    in.read(reinterpret_cast<char*>(tail.data()), 4);
    if (in.gcount() == 4) {
      facts.gzip_isize = std::int64_t{tail[0]} | (std::int64_t{tail[1]} << 8) |
                         (std::int64_t{tail[2]} << 16) | (std::int64_t{tail[3]} << 24);
    }
  }
  return facts;
}

// Reads exactly `size` bytes; distinguishes a corrupt gzip stream from a short file.
Status read_exact(gzFile file, std::uint8_t* out, std::size_t size, const std::string& what,
                  const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < size) {
    const auto chunk =
        static_cast<unsigned>(std::min<std::size_t>(size - done, std::size_t{1} << 30));
    const int got = gzread(file, out + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      return corrupt(path, "gzip stream broken while reading " + what + ": " + message);
    }
    if (got == 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      std::string reason = "truncated: " + what + " needs " + std::to_string(size) +
                           " bytes, file ends after " + std::to_string(done);
      if (code != Z_OK) reason += std::string(" (") + message + ")";
      return corrupt(path, reason);
    }
    done += static_cast<std::size_t>(got);
  }
  return ok_status();
}

}  // namespace

Result<IdxArray> read_idx(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(const FileFacts facts, inspect(path));
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) {
    return make_error(ErrorCode::kIo,
                      "idx file " + path.string() + ": cannot open: " + std::strerror(errno));
  }
  gzbuffer(file.get(), 1 << 17);

  std::array<std::uint8_t, 4> magic{};
  FL_RETURN_IF_ERROR(read_exact(file.get(), magic.data(), magic.size(), "the magic", path));
  if (magic[0] != 0 || magic[1] != 0) {
    return corrupt(path, "bad magic (first two bytes must be zero; not an IDX file)");
  }
  if (magic[2] != kUnsignedByteType) {
    return make_error(ErrorCode::kInvalidArgument,
                      "idx file " + path.string() + ": element type " +
                          hex_byte(magic[2]) + " unsupported (only unsigned byte, 0x08)");
  }
  const std::size_t rank = magic[3];
  if (rank == 0 || rank > kMaxRank) {
    return corrupt(path, "rank " + std::to_string(rank) + " outside 1.." +
                             std::to_string(kMaxRank));
  }

  std::array<std::uint8_t, 4 * kMaxRank> raw_dims{};
  FL_RETURN_IF_ERROR(read_exact(file.get(), raw_dims.data(), 4 * rank, "the dimensions", path));
  IdxArray array;
  std::int64_t total = 1;
  for (std::size_t i = 0; i < rank; ++i) {
    const std::int64_t dim = big_endian_u32(&raw_dims[4 * i]);
    array.dims.push_back(dim);
    if (dim != 0 && total > kMaxBytes / dim) {
      return make_error(ErrorCode::kLimitExceeded,
                        "idx file " + path.string() + ": dimensions claim more than 2 GiB");
    }
    total *= dim;
  }
  const std::int64_t header_bytes = 4 + 4 * static_cast<std::int64_t>(rank);

  // Check the claimed size against what the file can hold before allocating it.
  const std::int64_t stored = facts.gzipped ? facts.gzip_isize
                                            : static_cast<std::int64_t>(facts.file_bytes);
  if (stored >= 0 && stored != header_bytes + total) {
    if (facts.gzipped) {
      return corrupt(path, "dimensions need " + std::to_string(header_bytes + total) +
                               " uncompressed bytes but the gzip trailer records " +
                               std::to_string(stored) + " (truncated or corrupt file)");
    }
    return corrupt(path, "dimensions need " + std::to_string(total) + " data bytes but the file "
                         "holds " + std::to_string(stored - header_bytes) +
                         (stored < header_bytes + total ? " (truncated)" : " (extra bytes)"));
  }

  array.data.resize(static_cast<std::size_t>(total));
  FL_RETURN_IF_ERROR(read_exact(file.get(), array.data.data(), array.data.size(), "the data", path));

  // Reading past the end makes zlib verify the gzip trailer (CRC and length).
  std::uint8_t extra = 0;
  const int got = gzread(file.get(), &extra, 1);
  int code = Z_OK;
  const char* message = gzerror(file.get(), &code);
  if (got < 0 || (code != Z_OK && code != Z_STREAM_END)) {
    return corrupt(path, std::string("gzip stream broken at its end: ") + message);
  }
  if (got > 0) {
    return corrupt(path, "extra bytes after the " + std::to_string(total) + " data bytes");
  }
  return array;
}

}  // namespace fl::models
