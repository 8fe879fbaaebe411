#include "fl/common/model_file.hpp"

#include <cstring>
#include <fstream>

#include "fl/common/wire.hpp"

namespace fl::common {

Status save_model_file(const std::filesystem::path& path, const ModelFileHeader& header,
                       std::span<const float> parameters) {
  if (static_cast<std::int64_t>(parameters.size()) != header.layout.numel()) {
    return make_error(ErrorCode::kInvalidArgument, "model file " + path.string() + ": " +
                                                       std::to_string(parameters.size()) +
                                                       " parameters, layout says " +
                                                       std::to_string(header.layout.numel()));
  }
  const std::string head = encode(header);
  const auto head_len = static_cast<std::uint32_t>(head.size());
  const std::string tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(kModelFileMagic, sizeof kModelFileMagic);
    out.write(reinterpret_cast<const char*>(&head_len), sizeof head_len);
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    out.write(reinterpret_cast<const char*>(parameters.data()),
              static_cast<std::streamsize>(parameters.size_bytes()));
    if (!out.flush()) return make_error(ErrorCode::kIo, "cannot write model file " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot rename " + tmp + ": " + ec.message());
  return ok_status();
}

Result<ModelFile> load_model_file(const std::filesystem::path& path) {
  const std::string where = "model file " + path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, where + " cannot be opened");
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  char magic[8] = {};
  std::uint32_t head_len = 0;
  in.read(magic, sizeof magic);
  in.read(reinterpret_cast<char*>(&head_len), sizeof head_len);
  if (!in || std::memcmp(magic, kModelFileMagic, sizeof magic) != 0) {
    return make_error(ErrorCode::kCorrupt, where + " is not a FedLedger model file (bad magic)");
  }
  if (head_len > kMaxHeaderBytes || 12 + std::uint64_t{head_len} > file_size) {
    return make_error(ErrorCode::kCorrupt, where + ": header length " + std::to_string(head_len) +
                                               " does not fit the file");
  }
  std::vector<std::uint8_t> head(head_len);
  in.read(reinterpret_cast<char*>(head.data()), head_len);
  auto header = decode<ModelFileHeader>(head);
  if (!header.ok()) return with_context(header.error(), where);
  FL_RETURN_IF_ERROR(validate_layout(header->layout));
  const std::uint64_t body = file_size - 12 - head_len;
  if (body != header->layout.payload_bytes()) {
    return make_error(ErrorCode::kCorrupt, where + ": " + std::to_string(body) +
                                               " parameter bytes, layout needs " +
                                               std::to_string(header->layout.payload_bytes()));
  }
  ModelFile file{std::move(header).value(), std::vector<float>(body / sizeof(float))};
  in.read(reinterpret_cast<char*>(file.parameters.data()), static_cast<std::streamsize>(body));
  if (!in) return make_error(ErrorCode::kIo, where + ": short read");
  if (digest_of(file.parameters) != file.header.digest) {
    return make_error(ErrorCode::kCorrupt, where + ": parameters do not match the digest in its header");
  }
  return file;
}

}  // namespace fl::common
