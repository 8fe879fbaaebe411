#include "dataset_formats.hpp"

#include <fstream>

namespace fl::models {

RawSplit hold_out(RawSplit all, Split split) {
  const std::int64_t n = all.y.size(0);
  std::vector<std::int64_t> keep;
  for (std::int64_t i = 0; i < n; ++i) {
    const bool test = i % kHoldOutEvery == kHoldOutEvery - 1;
    if (test == (split == Split::kTest)) keep.push_back(i);
  }
  const auto index = torch::tensor(keep, torch::kInt64);
  all.x = all.x.index_select(0, index);
  all.y = all.y.index_select(0, index);
  return all;
}

Error data_error(ErrorCode code, const DatasetSpec& spec, const std::filesystem::path& file,
                 const std::string& problem) {
  return make_error(code, "dataset '" + spec.text + "': " + file.string() + ": " + problem);
}

Result<std::vector<std::uint8_t>> read_whole_file(const DatasetSpec& spec,
                                                  const std::filesystem::path& file,
                                                  std::uint64_t max_bytes) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return data_error(ErrorCode::kNotFound, spec, file,
                      std::filesystem::exists(file, ec) ? "is not a file" : "does not exist");
  }
  const auto size = std::filesystem::file_size(file, ec);
  if (ec) return data_error(ErrorCode::kIo, spec, file, "cannot read its size: " + ec.message());
  if (size > max_bytes) {
    return data_error(
        ErrorCode::kLimitExceeded, spec, file,
        std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) + " accepted");
  }
  std::vector<std::uint8_t> bytes(size);
  std::ifstream in(file, std::ios::binary);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size))) {
    return data_error(ErrorCode::kIo, spec, file, "cannot be read");
  }
  return bytes;
}

}  // namespace fl::models
