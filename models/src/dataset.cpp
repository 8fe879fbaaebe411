#include "fl/models/dataset.hpp"

#include <algorithm>
#include <cstring>

#include "fl/common/crypto.hpp"
#include "fl/models/idx.hpp"

namespace fl::models {
namespace {

// Fashion-MNIST training-set pixel statistics (on [0, 1] pixels); MNIST's differ a little,
// but any fixed affine map is fine for training as long as train and test share it.
constexpr float kPixelMean = 0.2860f;
constexpr float kPixelStd = 0.3530f;

int largest_label_plus_one(const IdxArray& labels) {
  int top = -1;
  for (const std::uint8_t label : labels.data) top = std::max(top, static_cast<int>(label));
  return top + 1;
}

std::filesystem::path idx_file(const std::filesystem::path& dir, const std::string& stem) {
  const auto gz = dir / (stem + ".gz");
  const auto plain = dir / stem;
  return std::filesystem::exists(plain) && !std::filesystem::exists(gz) ? plain : gz;
}

}  // namespace

Result<Dataset> load_idx_dataset(const std::filesystem::path& images,
                                 const std::filesystem::path& labels, int min_classes) {
  FL_ASSIGN_OR_RETURN(IdxArray image_array, read_idx(images));
  FL_ASSIGN_OR_RETURN(IdxArray label_array, read_idx(labels));
  if (image_array.dims.size() != 3) {
    return make_error(ErrorCode::kInvalidArgument,
                      "idx images " + images.string() + ": expected rank 3 [N, H, W], got rank " +
                          std::to_string(image_array.dims.size()));
  }
  if (label_array.dims.size() != 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "idx labels " + labels.string() + ": expected rank 1 [N], got rank " +
                          std::to_string(label_array.dims.size()));
  }
  const std::int64_t n = image_array.dims[0];
  if (label_array.dims[0] != n) {
    return make_error(ErrorCode::kInvalidArgument,
                      "idx labels " + labels.string() + ": " + std::to_string(label_array.dims[0]) +
                          " labels for " + std::to_string(n) + " images in " + images.string());
  }
  if (n == 0) {
    return make_error(ErrorCode::kInvalidArgument, "idx images " + images.string() + ": no examples");
  }

  Dataset data;
  data.num_classes = std::max(min_classes, largest_label_plus_one(label_array));
  data.input_shape = {1, image_array.dims[1], image_array.dims[2]};
  const auto bytes = torch::from_blob(image_array.data.data(),
                                      {n, 1, image_array.dims[1], image_array.dims[2]},
                                      torch::kUInt8);
  data.images = bytes.to(torch::kFloat32).div_(255.0f).sub_(kPixelMean).div_(kPixelStd);
  data.labels = torch::from_blob(label_array.data.data(), {n}, torch::kUInt8).to(torch::kInt64);
  return data;
}

Result<Dataset> load_fashion_mnist(const std::filesystem::path& dir, Split split) {
  const std::string prefix = split == Split::kTrain ? "train" : "t10k";
  // The test split takes its class count from the training labels too (a small file), so a
  // test set that happens to lack the last class still agrees with the workers' data.
  int min_classes = 0;
  if (split == Split::kTest) {
    if (auto train_labels = read_idx(idx_file(dir, "train-labels-idx1-ubyte")); train_labels.ok()) {
      min_classes = largest_label_plus_one(*train_labels);
    }
  }
  auto result = load_idx_dataset(idx_file(dir, prefix + "-images-idx3-ubyte"),
                                 idx_file(dir, prefix + "-labels-idx1-ubyte"), min_classes);
  if (!result.ok()) {
    return with_context(result.error(), "fashion-mnist in " + dir.string());
  }
  return result;
}

Result<Dataset> load_dataset(std::string_view spec, Split split) {
  constexpr std::string_view kIdxPrefix = "idx:";
  const auto usage = [&](const std::string& problem) {
    return make_error(ErrorCode::kInvalidArgument,
                      "dataset '" + std::string(spec) + "': " + problem +
                          "; expected idx:DIR or a directory with IDX files, e.g. idx:" +
                          kDefaultFashionMnistDir);
  };
  std::string_view dir = spec;
  if (spec.starts_with(kIdxPrefix)) {
    dir = spec.substr(kIdxPrefix.size());
  } else if (const auto colon = spec.find(':');
             colon != std::string_view::npos && spec.find('/') > colon &&
             !std::filesystem::exists(std::string(spec))) {
    return usage("unknown format '" + std::string(spec.substr(0, colon)) + "'");
  }
  if (dir.empty()) return usage("no directory given");
  const std::filesystem::path path{std::string(dir)};
  if (!std::filesystem::is_directory(path)) {
    return make_error(ErrorCode::kNotFound,
                      "dataset '" + std::string(spec) + "': directory " + path.string() +
                          (std::filesystem::exists(path) ? " is not a directory" : " does not exist"));
  }
  return load_fashion_mnist(path, split);
}

std::string describe_shape(std::span<const std::int64_t> shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ",";
    text += std::to_string(shape[i]);
  }
  return text + "]";
}

std::vector<std::int64_t> labels_of(const Dataset& data) {
  const auto labels = data.labels.to(torch::kCPU, torch::kInt64).contiguous();
  const auto* begin = labels.data_ptr<std::int64_t>();
  return {begin, begin + labels.numel()};
}

std::string dataset_fingerprint(const Dataset& data, std::span<const std::int64_t> indices) {
  const auto images = data.images.to(torch::kCPU).contiguous();
  const auto labels = data.labels.to(torch::kCPU, torch::kInt64).contiguous();
  const std::int64_t n = labels.numel();
  const std::int64_t example_floats = n == 0 ? 0 : images.numel() / n;
  const float* pixels = images.data_ptr<float>();
  const std::int64_t* label_values = labels.data_ptr<std::int64_t>();
  common::Hasher hasher;
  hasher.text("fedledger-dataset-v1").u64(indices.size());
  for (const std::int64_t i : indices) {
    TORCH_CHECK(i >= 0 && i < n, "dataset_fingerprint: index ", i, " outside [0, ", n, ")");
    hasher.raw(pixels + i * example_floats, static_cast<std::size_t>(example_floats) * sizeof(float));
    hasher.i64(label_values[i]);
  }
  return common::to_hex(hasher.finish());
}

}  // namespace fl::models
