#include "fl/models/dataset.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "dataset_formats.hpp"
#include "fl/common/crypto.hpp"
#include "fl/models/idx.hpp"

namespace fl::models {
namespace {

using Loader = Result<RawSplit> (*)(const DatasetSpec&, Split);

Loader loader_for(const std::string& format) {
  if (format == "npz") return load_npz_split;
  if (format == "csv") return load_csv_split;
  if (format == "cifar10") return load_cifar10_split;
  if (format == "images") return load_image_folder_split;
  return load_idx_split;
}

// Per channel ([C, H, W] inputs) or per feature ([F] inputs).
struct Normalisation {
  torch::Tensor mean, std;  // [C] or [F]
};

Result<std::vector<float>> parse_floats(const DatasetSpec& spec, const std::string& key,
                                        const std::string& text, std::int64_t expected) {
  std::vector<float> values;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma - start);
    float value = 0;
    const auto [ptr, err] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || err != std::errc() || ptr != item.data() + item.size()) {
      return make_error(ErrorCode::kInvalidArgument, "dataset '" + spec.text + "': " + key + "=" +
                                                         text + ": '" + item + "' is not a number");
    }
    values.push_back(value);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (values.size() == 1) values.resize(static_cast<std::size_t>(expected), values[0]);
  if (static_cast<std::int64_t>(values.size()) != expected) {
    return make_error(ErrorCode::kInvalidArgument,
                      "dataset '" + spec.text + "': " + key + " has " +
                          std::to_string(values.size()) + " values, the data has " +
                          std::to_string(expected) + " channels/features (give one or " +
                          std::to_string(expected) + ")");
  }
  return values;
}

Result<Normalisation> normalisation_for(const DatasetSpec& spec, const RawSplit& train) {
  // Statistics over every dimension except the channel/feature one (dim 1).
  std::vector<std::int64_t> reduce = {0};
  for (std::int64_t d = 2; d < train.x.dim(); ++d) reduce.push_back(d);
  Normalisation norm;
  norm.mean = train.x.mean(reduce);
  norm.std = train.x.std(reduce, /*unbiased=*/false);
  // A constant channel or feature stays as it is (after centring) instead of dividing by 0.
  norm.std = torch::where(norm.std > 1e-6, norm.std, torch::ones_like(norm.std));
  const auto channels = train.x.size(1);
  if (const auto mean = spec.option("mean")) {
    FL_ASSIGN_OR_RETURN(auto values, parse_floats(spec, "mean", *mean, channels));
    norm.mean = torch::tensor(values, torch::kFloat32);
  }
  if (const auto std_dev = spec.option("std")) {
    FL_ASSIGN_OR_RETURN(auto values, parse_floats(spec, "std", *std_dev, channels));
    for (const float v : values) {
      if (!(v > 0)) {
        return make_error(ErrorCode::kInvalidArgument,
                          "dataset '" + spec.text + "': std values must be positive");
      }
    }
    norm.std = torch::tensor(values, torch::kFloat32);
  }
  return norm;
}

Dataset normalised(RawSplit raw, const Normalisation& norm) {
  std::vector<std::int64_t> view(static_cast<std::size_t>(raw.x.dim()), 1);
  view[1] = -1;
  Dataset data;
  data.images = raw.x.sub(norm.mean.view(view)).div_(norm.std.view(view));
  data.labels = std::move(raw.y);
  data.input_shape = std::move(raw.input_shape);
  data.num_classes = raw.num_classes;
  data.class_names = std::move(raw.class_names);
  return data;
}

Result<int> stated_classes(const DatasetSpec& spec) {
  const auto text = spec.option("classes");
  if (!text) return 0;
  if (const auto names = spec.class_list(); !names.empty()) return static_cast<int>(names.size());
  int classes = 0;
  const auto [ptr, err] = std::from_chars(text->data(), text->data() + text->size(), classes);
  if (err != std::errc() || ptr != text->data() + text->size() || classes < 1) {
    return make_error(ErrorCode::kInvalidArgument,
                      "dataset '" + spec.text + "': classes=" + *text +
                          " is neither a positive count nor a list of class names");
  }
  return classes;
}

Result<Dataset> load_checked(std::string_view text, Split split) {
  FL_ASSIGN_OR_RETURN(const auto spec, parse_dataset_spec(text));
  FL_ASSIGN_OR_RETURN(const int min_classes, stated_classes(spec));
  const Loader load = loader_for(spec.format);
  FL_ASSIGN_OR_RETURN(auto train, load(spec, Split::kTrain));
  if (train.y.size(0) == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "dataset '" + spec.text + "': the training split is empty");
  }
  FL_ASSIGN_OR_RETURN(const auto norm, normalisation_for(spec, train));
  const int classes = std::max(min_classes, train.num_classes);
  if (split == Split::kTrain) {
    train.num_classes = classes;
    return normalised(std::move(train), norm);
  }
  FL_ASSIGN_OR_RETURN(auto test, load(spec, Split::kTest));
  if (test.input_shape != train.input_shape) {
    return make_error(ErrorCode::kInvalidArgument,
                      "dataset '" + spec.text + "': test examples are " +
                          describe_shape(test.input_shape) + ", training examples " +
                          describe_shape(train.input_shape));
  }
  if (test.y.size(0) == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "dataset '" + spec.text + "': the test split is empty");
  }
  test.num_classes = std::max(classes, test.num_classes);
  if (test.class_names.empty()) test.class_names = train.class_names;
  return normalised(std::move(test), norm);
}

}  // namespace

Result<Dataset> load_dataset(std::string_view spec, Split split) {
  try {
    return load_checked(spec, split);
  } catch (const std::exception& e) {  // a libtorch failure is still the data's problem
    std::string what = e.what();
    if (const auto eol = what.find('\n'); eol != std::string::npos) what.resize(eol);
    return make_error(ErrorCode::kInvalidArgument,
                      "dataset '" + std::string(spec) + "': cannot be read: " + what);
  }
}

Result<Dataset> load_idx_dataset(const std::filesystem::path& images,
                                 const std::filesystem::path& labels, int min_classes) {
  FL_ASSIGN_OR_RETURN(auto raw, read_idx_pair(images, labels));
  raw.num_classes = std::max(min_classes, raw.num_classes);
  DatasetSpec spec;
  spec.text = images.string();
  FL_ASSIGN_OR_RETURN(const auto norm, normalisation_for(spec, raw));
  return normalised(std::move(raw), norm);
}

Result<Dataset> load_fashion_mnist(const std::filesystem::path& dir, Split split) {
  return load_dataset("idx:" + dir.string(), split);
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

}  // namespace fl::models
