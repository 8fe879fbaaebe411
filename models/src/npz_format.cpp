// npz:FILE — a zip of .npy files as numpy.savez / savez_compressed write them, with arrays `x`
// (features or images, [N, ...]) and `y` (integer labels, [N]). Stored and deflated entries,
// zip64 records included; every size is checked against the file before anything is allocated.
#include <zlib.h>

#include <cctype>
#include <cstring>
#include <functional>
#include <map>

#include "dataset_formats.hpp"

namespace fl::models {
namespace {

struct Bytes {
  std::span<const std::uint8_t> all;
  bool has(std::uint64_t at, std::uint64_t n) const {
    return at <= all.size() && n <= all.size() - at;
  }
  std::uint64_t le(std::uint64_t at, int width) const {
    std::uint64_t v = 0;
    for (int i = width - 1; i >= 0; --i) v = (v << 8) | all[at + static_cast<std::size_t>(i)];
    return v;
  }
};

struct ZipEntry {
  std::uint16_t method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed = 0, size = 0, local_offset = 0;
};

using Fail = std::function<Error(const std::string&)>;

Result<std::map<std::string, ZipEntry>> central_directory(const Bytes& b, const Fail& fail) {
  const std::uint64_t n = b.all.size();
  if (n < 22) return fail("not a zip file (too short); numpy.savez writes zip files");
  std::uint64_t eocd = n - 22;
  while (b.le(eocd, 4) != 0x06054b50) {
    if (eocd == 0 || n - eocd > 22 + 65535)
      return fail("not a zip file (no end-of-directory record)");
    --eocd;
  }
  std::uint64_t count = b.le(eocd + 10, 2), cd_size = b.le(eocd + 12, 4),
                cd_at = b.le(eocd + 16, 4);
  if ((count == 0xFFFF || cd_at == 0xFFFFFFFF) && eocd >= 20 && b.le(eocd - 20, 4) == 0x07064b50) {
    const std::uint64_t z64 = b.le(eocd - 12, 8);
    if (!b.has(z64, 56) || b.le(z64, 4) != 0x06064b50) return fail("zip64 record is damaged");
    count = b.le(z64 + 32, 8);
    cd_size = b.le(z64 + 40, 8);
    cd_at = b.le(z64 + 48, 8);
  }
  if (!b.has(cd_at, cd_size)) return fail("zip directory lies outside the file (truncated?)");
  std::map<std::string, ZipEntry> entries;
  std::uint64_t at = cd_at;
  for (std::uint64_t i = 0; i < count; ++i) {
    if (!b.has(at, 46) || b.le(at, 4) != 0x02014b50) return fail("zip directory entry is damaged");
    ZipEntry e;
    e.method = static_cast<std::uint16_t>(b.le(at + 10, 2));
    e.crc = static_cast<std::uint32_t>(b.le(at + 16, 4));
    e.compressed = b.le(at + 20, 4);
    e.size = b.le(at + 24, 4);
    e.local_offset = b.le(at + 42, 4);
    const std::uint64_t name_len = b.le(at + 28, 2), extra_len = b.le(at + 30, 2);
    const std::uint64_t comment_len = b.le(at + 32, 2);
    if (!b.has(at + 46, name_len + extra_len + comment_len))
      return fail("zip entry name is cut off");
    const std::string name(reinterpret_cast<const char*>(&b.all[at + 46]), name_len);
    // zip64 extra field: the 0xFFFFFFFF fields, in this order.
    for (std::uint64_t x = at + 46 + name_len; x + 4 <= at + 46 + name_len + extra_len;) {
      const std::uint64_t id = b.le(x, 2), len = b.le(x + 2, 2);
      std::uint64_t f = x + 4;
      if (id == 0x0001) {
        if (e.size == 0xFFFFFFFF && f + 8 <= x + 4 + len) e.size = b.le(f, 8), f += 8;
        if (e.compressed == 0xFFFFFFFF && f + 8 <= x + 4 + len) e.compressed = b.le(f, 8), f += 8;
        if (e.local_offset == 0xFFFFFFFF && f + 8 <= x + 4 + len) e.local_offset = b.le(f, 8);
      }
      x += 4 + len;
    }
    entries[name] = e;
    at += 46 + name_len + extra_len + comment_len;
  }
  return entries;
}

Result<std::vector<std::uint8_t>> entry_bytes(const Bytes& b, const std::string& name,
                                              const ZipEntry& e, const Fail& fail) {
  if (!b.has(e.local_offset, 30) || b.le(e.local_offset, 4) != 0x04034b50) {
    return fail("entry " + name + ": local header is damaged");
  }
  const std::uint64_t data_at =
      e.local_offset + 30 + b.le(e.local_offset + 26, 2) + b.le(e.local_offset + 28, 2);
  if (!b.has(data_at, e.compressed)) return fail("entry " + name + " is cut off (truncated file?)");
  if (e.size > kMaxDataFileBytes) return fail("entry " + name + " is larger than 4 GiB");
  std::vector<std::uint8_t> out(e.size);
  if (e.method == 0) {
    if (e.compressed != e.size) return fail("entry " + name + ": stored sizes disagree");
    std::memcpy(out.data(), &b.all[data_at], e.size);
  } else if (e.method == 8) {
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) return fail("zlib could not start");
    z.next_in = const_cast<Bytef*>(&b.all[data_at]);
    z.avail_in = static_cast<uInt>(e.compressed);
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(e.size);
    const int rc = inflate(&z, Z_FINISH);
    inflateEnd(&z);
    if (rc != Z_STREAM_END || z.avail_out != 0) {
      return fail("entry " + name + ": deflate stream is corrupt or its size is wrong");
    }
  } else {
    return fail("entry " + name + ": compression method " + std::to_string(e.method) +
                " is not supported (only stored and deflated, as numpy writes)");
  }
  if (crc32(0, out.data(), static_cast<uInt>(out.size())) != e.crc) {
    return fail("entry " + name + ": CRC mismatch (the file is damaged)");
  }
  return out;
}

// The value after 'key': in a .npy header dict, up to the next ',' or ')' pair.
std::string dict_value(const std::string& header, const std::string& key) {
  const auto at = header.find("'" + key + "'");
  if (at == std::string::npos) return "";
  auto start = header.find(':', at);
  if (start == std::string::npos) return "";
  ++start;
  while (start < header.size() && header[start] == ' ') ++start;
  const auto end = header[start] == '(' ? header.find(')', start) + 1 : header.find(',', start);
  return header.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// A .npy image as a torch tensor of its own dtype.
Result<torch::Tensor> parse_array(std::span<const std::uint8_t> npy, const std::string& name,
                                  const Fail& fail) {
  if (npy.size() < 10 || std::memcmp(npy.data(), "\x93NUMPY", 6) != 0) {
    return fail(name + " is not a .npy array");
  }
  const bool v1 = npy[6] == 1;
  const std::size_t len_bytes = v1 ? 2 : 4, start = 8 + len_bytes;
  std::size_t header_len = npy[8] | (npy[9] << 8);
  if (!v1 && npy.size() >= 12)
    header_len |= (std::size_t{npy[10]} << 16) | (std::size_t{npy[11]} << 24);
  if (header_len > npy.size() - start) return fail(name + ": .npy header is cut off");
  const std::string header(reinterpret_cast<const char*>(npy.data() + start), header_len);
  std::string descr = dict_value(header, "descr");
  if (descr.size() >= 2) descr = descr.substr(1, descr.size() - 2);  // strip quotes
  if (dict_value(header, "fortran_order").starts_with("True")) {
    return fail(name + ": Fortran-order arrays are not supported; save np.ascontiguousarray(a)");
  }
  static const std::map<std::string, torch::ScalarType> kTypes = {
      {"<f4", torch::kFloat32}, {"<f8", torch::kFloat64}, {"|u1", torch::kUInt8},
      {"|i1", torch::kInt8},    {"<i2", torch::kInt16},   {"<i4", torch::kInt32},
      {"<i8", torch::kInt64},   {"|b1", torch::kBool}};
  const auto type = kTypes.find(descr);
  if (type == kTypes.end()) {
    return fail(name + ": dtype '" + descr +
                "' is not supported; use float32/float64, uint8 or signed integers (little-endian; "
                "string labels: map them to integers first)");
  }
  std::vector<std::int64_t> shape;
  const std::string dims = dict_value(header, "shape");
  for (std::size_t i = 0; i < dims.size();) {
    if (std::isdigit(static_cast<unsigned char>(dims[i]))) {
      std::size_t used = 0;
      shape.push_back(std::stoll(dims.substr(i), &used));
      i += used;
    } else {
      ++i;
    }
  }
  if (dims.empty() || shape.empty()) return fail(name + ": .npy header has no shape (a scalar?)");
  std::int64_t count = 1;
  for (const auto d : shape) {
    if (d > 0 && count > static_cast<std::int64_t>(kMaxDataFileBytes) / d)
      return fail(name + ": shape too large");
    count *= d;
  }
  const auto element = static_cast<std::size_t>(c10::elementSize(type->second));
  const std::size_t need = static_cast<std::size_t>(count) * element;
  if (npy.size() - start - header_len != need) {
    return fail(name + ": holds " + std::to_string(npy.size() - start - header_len) +
                " data bytes, its shape and dtype need " + std::to_string(need));
  }
  return torch::from_blob(const_cast<std::uint8_t*>(npy.data() + start + header_len), shape,
                          type->second)
      .clone();
}

Result<RawSplit> read_npz(const DatasetSpec& spec, const std::filesystem::path& file) {
  FL_ASSIGN_OR_RETURN(auto bytes, read_whole_file(spec, file, kMaxDataFileBytes));
  const Fail fail = [&](const std::string& problem) {
    return data_error(ErrorCode::kCorrupt, spec, file, problem);
  };
  const Bytes b{bytes};
  FL_ASSIGN_OR_RETURN(auto entries, central_directory(b, fail));
  std::map<std::string, torch::Tensor> arrays;
  for (const std::string name : {"x", "y"}) {
    const auto it = entries.find(name + ".npy");
    if (it == entries.end()) {
      return data_error(ErrorCode::kInvalidArgument, spec, file,
                        "has no array '" + name + "'; save it with np.savez(FILE, x=..., y=...)");
    }
    FL_ASSIGN_OR_RETURN(auto npy, entry_bytes(b, it->first, it->second, fail));
    FL_ASSIGN_OR_RETURN(arrays[name], parse_array(npy, it->first, fail));
  }
  const auto& x = arrays["x"];
  const auto& y = arrays["y"];
  const auto bad = [&](const std::string& problem) {
    return data_error(ErrorCode::kInvalidArgument, spec, file, problem);
  };
  if (y.dim() != 1)
    return bad("y must be one label per example [N], it has shape " +
               describe_shape(y.sizes().vec()));
  if (x.size(0) != y.size(0)) {
    return bad("x has " + std::to_string(x.size(0)) + " examples but y has " +
               std::to_string(y.size(0)));
  }
  if (x.size(0) == 0) return bad("no examples");
  if (y.is_floating_point()) return bad("y holds floats; labels must be integers 0..classes-1");
  RawSplit raw;
  raw.y = y.to(torch::kInt64);
  if (raw.y.min().item<std::int64_t>() < 0) return bad("y has a negative label");
  raw.num_classes = static_cast<int>(raw.y.max().item<std::int64_t>() + 1);
  raw.x =
      x.scalar_type() == torch::kUInt8 ? x.to(torch::kFloat32).div_(255.0f) : x.to(torch::kFloat32);
  if (raw.x.dim() == 1) raw.x = raw.x.unsqueeze(1);
  if (!torch::isfinite(raw.x).all().item<bool>()) return bad("x has NaN or infinite values");
  raw.input_shape.assign(raw.x.sizes().begin() + 1, raw.x.sizes().end());
  return raw;
}

}  // namespace

Result<RawSplit> load_npz_split(const DatasetSpec& spec, Split split) {
  if (const auto test = spec.option("test")) {
    return read_npz(spec, split == Split::kTest ? std::filesystem::path(*test) : spec.path);
  }
  FL_ASSIGN_OR_RETURN(auto all, read_npz(spec, spec.path));
  return hold_out(std::move(all), split);
}

}  // namespace fl::models
