// A dataset spec says where a data set lives and how to read it, the same text on the worker
// (--data) and the coordinator (job [data] spec): "FORMAT:PATH?key=value&key=value", e.g.
// "csv:iris.csv?label=species" or "npz:train.npz?test=test.npz". No torch here.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::models {

struct DatasetSpec {
  std::string text;                            // as written, for messages
  std::string format;                          // idx, npz, csv, cifar10, images
  std::filesystem::path path;                  // the file or directory after "FORMAT:"
  std::map<std::string, std::string> options;  // after '?', '&'-separated key=value

  std::optional<std::string> option(const std::string& key) const;
  // classes=cat,dog,bird: the class names in class-number order, when the spec states them (so
  // workers whose local files lack some labels still number them as the job does). Empty when
  // classes is absent or a count.
  std::vector<std::string> class_list() const;
};

// The formats and the options every spec may carry, for help text and errors.
inline constexpr const char* kDatasetFormats =
    "idx:DIR, npz:FILE, csv:FILE?label=COLUMN, cifar10:DIR or images:DIR";
inline constexpr const char* kDatasetOptions =
    "label (csv), test (npz/csv: the test split's file), mean and std (stated normalisation, "
    "one value or one per channel/feature, comma-separated), classes (at least this many, or the "
    "class names in order: classes=cat,dog)";

// A plain directory (no "FORMAT:") means idx:DIR. kInvalidArgument for an unknown format or
// option, an empty path, or an option without '='.
Result<DatasetSpec> parse_dataset_spec(std::string_view text);

// The spec with its path (and its test= path) made absolute against `base_dir` when relative:
// job files name data relative to the folder that holds them.
std::string resolve_dataset_spec(const std::filesystem::path& base_dir, std::string_view text);

}  // namespace fl::models
