// cifar10:DIR — the CIFAR-10 binary version: records of 1 label byte and 3072 pixel bytes (the
// red, green and blue 32x32 planes). Training: data_batch_1.bin .. data_batch_5.bin (those
// present, at least one); test: test_batch.bin. DIR may also be the folder that holds
// cifar-10-batches-bin/, as the archive unpacks.
#include "dataset_formats.hpp"

namespace fl::models {
namespace {

constexpr std::int64_t kSide = 32, kChannels = 3, kClasses = 10;
constexpr std::int64_t kRecordBytes = 1 + kChannels * kSide * kSide;

std::filesystem::path batches_dir(const std::filesystem::path& dir) {
  const auto nested = dir / "cifar-10-batches-bin";
  return std::filesystem::is_directory(nested) ? nested : dir;
}

Status append_batch(const DatasetSpec& spec, const std::filesystem::path& file,
                    std::vector<torch::Tensor>& x, std::vector<torch::Tensor>& y) {
  FL_ASSIGN_OR_RETURN(auto bytes, read_whole_file(spec, file, kMaxDataFileBytes));
  if (bytes.empty() || bytes.size() % kRecordBytes != 0) {
    return data_error(ErrorCode::kCorrupt, spec, file,
                      std::to_string(bytes.size()) + " bytes is not a whole number of " +
                          std::to_string(kRecordBytes) +
                          "-byte CIFAR-10 records (label byte + 32x32x3 pixels); truncated?");
  }
  const auto n = static_cast<std::int64_t>(bytes.size()) / kRecordBytes;
  const auto records = torch::from_blob(bytes.data(), {n, kRecordBytes}, torch::kUInt8).clone();
  const auto labels = records.select(1, 0).to(torch::kInt64);
  if (labels.max().item<std::int64_t>() >= kClasses) {
    return data_error(ErrorCode::kCorrupt, spec, file,
                      "a label byte is " + std::to_string(labels.max().item<std::int64_t>()) +
                          ", CIFAR-10 labels are 0..9 (is this the CIFAR-100 format?)");
  }
  x.push_back(records.narrow(1, 1, kRecordBytes - 1)
                  .reshape({n, kChannels, kSide, kSide})
                  .to(torch::kFloat32)
                  .div_(255.0f));
  y.push_back(labels);
  return ok_status();
}

}  // namespace

Result<RawSplit> load_cifar10_split(const DatasetSpec& spec, Split split) {
  if (!std::filesystem::is_directory(spec.path)) {
    return data_error(ErrorCode::kNotFound, spec, spec.path, "is not a directory");
  }
  const auto dir = batches_dir(spec.path);
  std::vector<std::filesystem::path> files;
  if (split == Split::kTest) {
    files.push_back(dir / "test_batch.bin");
  } else {
    for (int i = 1; i <= 5; ++i) {
      const auto file = dir / ("data_batch_" + std::to_string(i) + ".bin");
      if (std::filesystem::exists(file)) files.push_back(file);
    }
    if (files.empty()) {
      return data_error(ErrorCode::kNotFound, spec, dir,
                        "has no data_batch_1.bin .. data_batch_5.bin (CIFAR-10 binary version)");
    }
  }
  std::vector<torch::Tensor> x, y;
  for (const auto& file : files) FL_RETURN_IF_ERROR(append_batch(spec, file, x, y));
  RawSplit raw;
  raw.x = torch::cat(x);
  raw.y = torch::cat(y);
  raw.input_shape = {kChannels, kSide, kSide};
  raw.num_classes = kClasses;
  return raw;
}

}  // namespace fl::models
