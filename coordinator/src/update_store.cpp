#include "fl/coordinator/update_store.hpp"

#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <system_error>

#include "fl/common/checkpoint.hpp"
#include "fl/common/model_file.hpp"

namespace fl::coordinator {

namespace {

constexpr char kMagic[8] = {'F', 'L', 'U', 'P', 'D', 'A', 'T', '1'};
constexpr std::size_t kMaxHeaderBytes = 1 << 20;

Result<std::string> read_all(const std::filesystem::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kNotFound, what + " is not in the store at " +
                                                path.parent_path().parent_path().string());
  }
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// False when `path` is already there (an entry's bytes never change); else makes its folder.
Result<bool> needs_writing(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return false;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      "cannot create " + path.parent_path().string() + ": " + ec.message());
  }
  return true;
}

}  // namespace

std::filesystem::path UpdateStore::update_path(const common::Digest& d) const {
  return dir_ / "updates" / (common::to_hex(d) + ".flu");
}
std::filesystem::path UpdateStore::model_path(const common::Digest& d) const {
  return dir_ / "models" / (common::to_hex(d) + ".flm");
}

Status UpdateStore::put_update(const common::UpdateHeader& header,
                               std::span<const std::uint8_t> payload) const {
  const auto path = update_path(common::update_signing_digest(header));
  FL_ASSIGN_OR_RETURN(const bool write, needs_writing(path));
  if (!write) return ok_status();
  const std::string head = common::encode(header);
  std::string bytes(kMagic, sizeof kMagic);
  const auto n = static_cast<std::uint32_t>(head.size());
  for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  bytes += head;
  bytes.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  return common::write_file_durably(path, bytes);
}

Status UpdateStore::put_model(const common::Digest& digest, const common::TensorLayout& layout,
                              std::span<const float> values) const {
  const auto path = model_path(digest);
  FL_ASSIGN_OR_RETURN(const bool write, needs_writing(path));
  if (!write) return ok_status();
  common::ModelFileHeader header;
  header.layout = layout;
  header.digest = digest;
  return common::save_model_file(path, header, values);
}

std::string UpdateStore::entry_name(bool model, const common::Digest& d) {
  return std::string(model ? "model " : "update ") + common::to_hex(d).substr(0, 16);
}

Result<StoredUpdate> UpdateStore::update(const common::Digest& digest) const {
  return update_at(update_path(digest), digest);
}

Result<StoredUpdate> UpdateStore::update_at(const std::filesystem::path& path, const common::Digest& digest) const {
  const auto what = entry_name(false, digest);
  FL_ASSIGN_OR_RETURN(const auto bytes, read_all(path, what));
  const auto corrupt = [&](const std::string& why) {
    return make_error(ErrorCode::kCorrupt, what + " in the store (" + path.string() + "): " + why);
  };
  if (bytes.size() < 12 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return corrupt("not an update file");
  std::uint32_t n = 0;
  for (int i = 0; i < 4; ++i)
    n |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[8 + i])) << (8 * i);
  if (n > kMaxHeaderBytes || 12 + std::size_t{n} > bytes.size())
    return corrupt("its header length is out of range");
  const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
  auto header = common::decode<common::UpdateHeader>({data + 12, n});
  if (!header.ok()) return corrupt("its header does not decode: " + header.error().message);
  const std::span<const std::uint8_t> payload(data + 12 + n, bytes.size() - 12 - n);
  if (auto s = common::verify_update(*header, payload); !s.ok()) return corrupt(s.error().message);
  if (common::update_signing_digest(*header) != digest)
    return corrupt("it is another update (its digest differs)");
  // The payload's floats, copied to aligned memory before they are viewed.
  std::vector<std::uint8_t> aligned(payload.begin(), payload.end());
  StoredUpdate out;
  auto values = common::view_payload(header->layout, aligned);
  if (!values.ok()) return corrupt(values.error().message);
  out.values.assign(values->begin(), values->end());
  out.header = std::move(*header);
  return out;
}

Result<std::vector<float>> UpdateStore::model(const common::Digest& digest) const {
  return model_at(model_path(digest), digest);
}

Result<std::vector<float>> UpdateStore::model_at(const std::filesystem::path& path,
                                                 const common::Digest& digest) const {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return make_error(ErrorCode::kNotFound, entry_name(true, digest) + " is not in the store at " + dir_.string());
  }
  FL_ASSIGN_OR_RETURN(auto file, common::load_model_file(path));
  if (file.header.digest != digest) {
    return make_error(ErrorCode::kCorrupt, "model file " + path.string() + " holds another model");
  }
  return std::move(file.parameters);
}

Result<std::string> UpdateStore::raw(bool model, const common::Digest& digest) const {
  return read_all(entry_path(model, digest), entry_name(model, digest));
}

bool UpdateStore::has(bool model, const common::Digest& digest) const {
  std::error_code ec;
  return std::filesystem::exists(entry_path(model, digest), ec);
}

Status UpdateStore::put_raw(bool model, const common::Digest& digest, std::string_view bytes) const {
  const auto path = entry_path(model, digest);
  FL_ASSIGN_OR_RETURN(const bool write, needs_writing(path));
  if (!write) return ok_status();
  auto fetched = path;
  fetched += ".fetched";
  FL_RETURN_IF_ERROR(common::write_file_durably(fetched, bytes));
  std::optional<Error> problem;
  if (model) {
    if (auto m = model_at(fetched, digest); !m.ok()) problem = m.error();
  } else if (auto u = update_at(fetched, digest); !u.ok()) {
    problem = u.error();
  }
  std::error_code ec;
  if (problem) {
    std::filesystem::remove(fetched, ec);
    return make_error(ErrorCode::kCorrupt,
                      "the fetched " + entry_name(model, digest) + " does not check out: " + problem->message);
  }
  std::filesystem::rename(fetched, path, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot keep the fetched " + entry_name(model, digest) + ": " + ec.message());
  return ok_status();
}

Result<std::size_t> UpdateStore::remove_older_than(std::uint64_t days) const {
  const auto cutoff = std::filesystem::file_time_type::clock::now() - std::chrono::hours(24 * days);
  std::size_t removed = 0;
  for (const char* sub : {"updates", "models"}) {
    std::error_code ec;
    if (!std::filesystem::exists(dir_ / sub, ec)) continue;
    for (const auto& entry : std::filesystem::directory_iterator(dir_ / sub, ec)) {
      std::error_code e2;
      if (entry.is_regular_file(e2) && entry.last_write_time(e2) < cutoff &&
          std::filesystem::remove(entry.path(), e2)) {
        ++removed;
      }
    }
    if (ec)
      return make_error(ErrorCode::kIo,
                        "cannot list " + (dir_ / sub).string() + ": " + ec.message());
  }
  return removed;
}

}  // namespace fl::coordinator
