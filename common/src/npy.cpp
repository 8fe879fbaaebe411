#include "fl/common/npy.hpp"

#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <string_view>

namespace fl::common {

namespace {

static_assert(std::endian::native == std::endian::little, "npy.cpp assumes a little-endian host");

constexpr std::uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
constexpr std::size_t kMaxDims = 2;

Error bad(const std::string& source, const std::string& what) {
  return make_error(ErrorCode::kCorrupt, "npy file " + source + ": " + what);
}

struct Header {
  std::vector<std::size_t> shape;
  std::size_t data_offset = 0;
  std::size_t data_bytes = 0;
};

// A tiny reader for the Python dict literal NumPy writes, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class DictReader {
 public:
  explicit DictReader(std::string_view text) : s_(text) {}

  void skip_space() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n')) ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::optional<std::string_view> quoted() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) return std::nullopt;
    const char q = s_[pos_++];
    const auto end = s_.find(q, pos_);
    if (end == std::string_view::npos) return std::nullopt;
    const auto out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }
  std::optional<bool> boolean() {
    skip_space();
    if (s_.substr(pos_, 4) == "True") return pos_ += 4, true;
    if (s_.substr(pos_, 5) == "False") return pos_ += 5, false;
    return std::nullopt;
  }
  std::optional<std::vector<std::size_t>> tuple() {
    if (!eat('(')) return std::nullopt;
    std::vector<std::size_t> dims;
    for (;;) {
      if (eat(')')) return dims;
      skip_space();
      std::size_t v = 0;
      std::size_t digits = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        if (v > (std::numeric_limits<std::size_t>::max() - 9) / 10) return std::nullopt;
        v = v * 10 + static_cast<std::size_t>(s_[pos_++] - '0');
        ++digits;
      }
      if (digits == 0 || dims.size() > 8) return std::nullopt;
      dims.push_back(v);
      if (!eat(',')) {
        if (eat(')')) return dims;
        return std::nullopt;
      }
    }
  }
  bool at_end() {
    skip_space();
    return pos_ == s_.size();
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
};

Result<Header> parse_dict(std::string_view dict, const std::string& source) {
  DictReader r(dict);
  std::optional<std::string_view> descr;
  std::optional<bool> fortran;
  std::optional<std::vector<std::size_t>> shape;
  if (!r.eat('{')) return bad(source, "header is not a Python dict");
  for (bool more = !r.eat('}'); more;) {
    const auto key = r.quoted();
    if (!key || !r.eat(':')) return bad(source, "header dict is malformed");
    if (*key == "descr") {
      descr = r.quoted();
      if (!descr) return bad(source, "header 'descr' is not a string");
    } else if (*key == "fortran_order") {
      fortran = r.boolean();
      if (!fortran) return bad(source, "header 'fortran_order' is not True or False");
    } else if (*key == "shape") {
      shape = r.tuple();
      if (!shape) return bad(source, "header 'shape' is not a tuple of integers");
    } else {
      return bad(source, "header has unexpected key '" + std::string(*key) + "'");
    }
    if (r.eat(',')) {
      more = !r.eat('}');
    } else if (r.eat('}')) {
      more = false;
    } else {
      return bad(source, "header dict is malformed");
    }
  }
  if (!r.at_end()) return bad(source, "unexpected text after the header dict");
  if (!descr || !fortran || !shape) {
    return bad(source, "header lacks one of 'descr', 'fortran_order', 'shape'");
  }
  if (*descr == "<f8" || *descr == ">f8" || *descr == "=f8") {
    return bad(source, "dtype is float64 ('" + std::string(*descr) +
                           "'); save float32, e.g. x.astype(np.float32)");
  }
  if (*descr == ">f4") return bad(source, "dtype is big-endian float32 ('>f4'); need '<f4'");
  if (*descr != "<f4") {
    return bad(source, "dtype '" + std::string(*descr) + "' is not float32 little-endian ('<f4')");
  }
  if (*fortran) return bad(source, "array is in Fortran order; save a C-order array");
  if (shape->empty() || shape->size() > kMaxDims) {
    return bad(source, "array has " + std::to_string(shape->size()) +
                           " dimensions; only 1-D and 2-D arrays are supported");
  }
  Header h;
  h.shape = *shape;
  std::size_t count = 1;
  for (const auto dim : h.shape) {
    if (dim != 0 && count > std::numeric_limits<std::size_t>::max() / 4 / dim) {
      return bad(source, "shape is too large");
    }
    count *= dim;
  }
  h.data_bytes = count * sizeof(float);
  return h;
}

// Parses magic, version and header from the first bytes of a file of `file_size` bytes.
Result<Header> parse_header(std::span<const std::uint8_t> head, std::uint64_t file_size,
                            const std::string& source) {
  if (head.size() < 10 || std::memcmp(head.data(), kMagic, sizeof kMagic) != 0) {
    return bad(source, "not a NumPy .npy file (bad magic)");
  }
  const unsigned major = head[6], minor = head[7];
  std::size_t len_bytes = 0;
  if (major == 1 && minor == 0) {
    len_bytes = 2;
  } else if (major == 2 && minor == 0) {
    len_bytes = 4;
  } else {
    return bad(source, "unsupported format version " + std::to_string(major) + "." +
                           std::to_string(minor) + " (1.0 and 2.0 are supported)");
  }
  if (head.size() < 8 + len_bytes) return bad(source, "truncated before the header length");
  std::size_t header_len = 0;
  for (std::size_t k = 0; k < len_bytes; ++k) header_len |= std::size_t{head[8 + k]} << (8 * k);
  if (header_len > kNpyMaxHeaderBytes) {
    return bad(source, "header of " + std::to_string(header_len) + " bytes exceeds the " +
                           std::to_string(kNpyMaxHeaderBytes) + "-byte limit");
  }
  const std::size_t offset = 8 + len_bytes + header_len;
  if (head.size() < offset) return bad(source, "truncated inside the header");
  const std::string_view dict(reinterpret_cast<const char*>(head.data()) + 8 + len_bytes,
                              header_len);
  FL_ASSIGN_OR_RETURN(Header h, parse_dict(dict, source));
  h.data_offset = offset;
  const std::uint64_t have = file_size - offset;
  if (have != h.data_bytes) {
    return bad(source, std::string(have < h.data_bytes ? "truncated" : "has trailing bytes") +
                           ": shape needs " + std::to_string(h.data_bytes) +
                           " data bytes, file has " + std::to_string(have));
  }
  return h;
}

}  // namespace

Result<NpyArray> parse_npy(std::span<const std::uint8_t> bytes, const std::string& source) {
  FL_ASSIGN_OR_RETURN(Header h, parse_header(bytes, bytes.size(), source));
  NpyArray out;
  out.shape = h.shape;
  out.values.resize(h.data_bytes / sizeof(float));
  // An empty shape has no data and values.data() may be null, which memcpy must not be given.
  if (h.data_bytes > 0) std::memcpy(out.values.data(), bytes.data() + h.data_offset, h.data_bytes);
  return out;
}

Result<NpyArray> read_npy(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  if (ec) return make_error(ErrorCode::kNotFound, "npy file " + source + ": " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIo, "npy file " + source + ": cannot be opened");
  std::vector<std::uint8_t> head(std::min<std::uintmax_t>(file_size, 12 + kNpyMaxHeaderBytes));
  in.read(reinterpret_cast<char*>(head.data()), static_cast<std::streamsize>(head.size()));
  if (!in) return make_error(ErrorCode::kIo, "npy file " + source + ": read failed");
  FL_ASSIGN_OR_RETURN(Header h, parse_header(head, file_size, source));
  NpyArray out;
  out.shape = h.shape;
  out.values.resize(h.data_bytes / sizeof(float));  // only after the size matched the file
  in.seekg(static_cast<std::streamoff>(h.data_offset));
  in.read(reinterpret_cast<char*>(out.values.data()), static_cast<std::streamsize>(h.data_bytes));
  if (!in) return make_error(ErrorCode::kIo, "npy file " + source + ": read failed");
  return out;
}

Status write_npy(const std::filesystem::path& path, std::span<const float> values,
                 std::span<const std::size_t> shape) {
  const std::string source = path.string();
  if (shape.empty() || shape.size() > kMaxDims) {
    return make_error(ErrorCode::kInvalidArgument,
                      "npy file " + source + ": only 1-D and 2-D arrays can be written");
  }
  std::size_t count = 1;
  std::string dims;
  for (const auto dim : shape) {
    count *= dim;
    dims += std::to_string(dim) + ", ";
  }
  if (count != values.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "npy file " + source + ": shape holds " + std::to_string(count) +
                          " values, given " + std::to_string(values.size()));
  }
  if (shape.size() == 2) dims.pop_back(), dims.pop_back();  // "(3, 4)" but "(3,)"
  else dims.pop_back();
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims + "), }";
  const std::size_t unpadded = 10 + dict.size() + 1;  // magic, version, u16 length, dict, '\n'
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return make_error(ErrorCode::kIo, "npy file " + source + ": cannot be created");
  const std::uint8_t prefix[10] = {kMagic[0], kMagic[1], kMagic[2], kMagic[3], kMagic[4], kMagic[5],
                                   1, 0, static_cast<std::uint8_t>(dict.size() & 0xff),
                                   static_cast<std::uint8_t>(dict.size() >> 8)};
  out.write(reinterpret_cast<const char*>(prefix), sizeof prefix);
  out.write(dict.data(), static_cast<std::streamsize>(dict.size()));
  out.write(reinterpret_cast<const char*>(values.data()),
            static_cast<std::streamsize>(values.size_bytes()));
  out.close();
  if (!out) return make_error(ErrorCode::kIo, "npy file " + source + ": write failed");
  return ok_status();
}

}  // namespace fl::common
