// idx:DIR — (Fashion-)MNIST IDX files: train-/t10k-images-idx3-ubyte[.gz] and
// ...-labels-idx1-ubyte[.gz]; the t10k files are the test split.
#include "dataset_formats.hpp"
#include "fl/models/idx.hpp"

namespace fl::models {
namespace {

std::filesystem::path idx_file(const std::filesystem::path& dir, const std::string& stem) {
  const auto gz = dir / (stem + ".gz");
  const auto plain = dir / stem;
  return std::filesystem::exists(plain) && !std::filesystem::exists(gz) ? plain : gz;
}

}  // namespace

Result<RawSplit> read_idx_pair(const std::filesystem::path& images,
                               const std::filesystem::path& labels) {
  FL_ASSIGN_OR_RETURN(IdxArray image_array, read_idx(images));
  FL_ASSIGN_OR_RETURN(IdxArray label_array, read_idx(labels));
  if (image_array.dims.size() != 3) {
    return make_error(ErrorCode::kInvalidArgument, "idx images " + images.string() +
                                                       ": expected rank 3 [N, H, W], got rank " +
                                                       std::to_string(image_array.dims.size()));
  }
  if (label_array.dims.size() != 1) {
    return make_error(ErrorCode::kInvalidArgument, "idx labels " + labels.string() +
                                                       ": expected rank 1 [N], got rank " +
                                                       std::to_string(label_array.dims.size()));
  }
  const std::int64_t n = image_array.dims[0];
  if (label_array.dims[0] != n) {
    return make_error(ErrorCode::kInvalidArgument,
                      "idx labels " + labels.string() + ": " + std::to_string(label_array.dims[0]) +
                          " labels for " + std::to_string(n) + " images in " + images.string());
  }
  if (n == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "idx images " + images.string() + ": no examples");
  }
  RawSplit raw;
  const auto h = image_array.dims[1], w = image_array.dims[2];
  raw.input_shape = {1, h, w};
  raw.x = torch::from_blob(image_array.data.data(), {n, 1, h, w}, torch::kUInt8)
              .to(torch::kFloat32)
              .div_(255.0f);
  raw.y = torch::from_blob(label_array.data.data(), {n}, torch::kUInt8).to(torch::kInt64);
  raw.num_classes = static_cast<int>(raw.y.max().item<std::int64_t>() + 1);
  return raw;
}

Result<RawSplit> load_idx_split(const DatasetSpec& spec, Split split) {
  if (!std::filesystem::is_directory(spec.path)) {
    return make_error(
        ErrorCode::kNotFound,
        "dataset '" + spec.text + "': directory " + spec.path.string() +
            (std::filesystem::exists(spec.path) ? " is not a directory" : " does not exist"));
  }
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  auto raw = read_idx_pair(idx_file(spec.path, prefix + "-images-idx3-ubyte"),
                           idx_file(spec.path, prefix + "-labels-idx1-ubyte"));
  if (!raw.ok()) return with_context(raw.error(), "dataset '" + spec.text + "'");
  return raw;
}

}  // namespace fl::models
