// csv:FILE?label=COLUMN — a header row, then one example per line: numeric feature columns and
// one label column (named by `label`, default "label"). Labels that are all non-negative
// integers are class numbers; otherwise the distinct labels, sorted, are classes 0, 1, ... unless
// the spec names the classes in order (classes=setosa,versicolor,virginica).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <unordered_map>

#include "dataset_formats.hpp"

namespace fl::models {
namespace {

struct Table {
  std::vector<float> features;  // row-major, rows x feature columns
  std::vector<std::string> labels;
  std::int64_t feature_columns = 0;
};

std::string trim(std::string_view field) {
  while (!field.empty() && (field.front() == ' ' || field.front() == '\t')) field.remove_prefix(1);
  while (!field.empty() && (field.back() == ' ' || field.back() == '\t' || field.back() == '\r')) {
    field.remove_suffix(1);
  }
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
    field = field.substr(1, field.size() - 2);
  }
  return std::string(field);
}

std::vector<std::string> split_line(const std::string& line) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const auto comma = line.find(',', start);
    fields.push_back(trim(std::string_view(line).substr(start, comma - start)));
    if (comma == std::string::npos) return fields;
    start = comma + 1;
  }
}

Result<Table> read_table(const DatasetSpec& spec, const std::filesystem::path& file,
                         const std::string& label_column) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return data_error(ErrorCode::kNotFound, spec, file, "does not exist or is not a file");
  }
  std::ifstream in(file);
  std::string line;
  if (!std::getline(in, line) || trim(line).empty()) {
    return data_error(ErrorCode::kInvalidArgument, spec, file, "is empty; expected a header row");
  }
  const auto header = split_line(line);
  const auto label_at = std::find(header.begin(), header.end(), label_column);
  if (label_at == header.end()) {
    std::string names;
    for (const auto& h : header) names += (names.empty() ? "" : ", ") + h;
    return data_error(ErrorCode::kInvalidArgument, spec, file,
                      "has no column '" + label_column + "' (columns: " + names +
                          "); name the label column with ?label=COLUMN");
  }
  const auto label_index = static_cast<std::size_t>(label_at - header.begin());
  Table table;
  table.feature_columns = static_cast<std::int64_t>(header.size()) - 1;
  if (table.feature_columns == 0) {
    return data_error(ErrorCode::kInvalidArgument, spec, file, "has no feature columns");
  }
  for (std::int64_t line_no = 2; std::getline(in, line); ++line_no) {
    if (trim(line).empty()) continue;
    const auto fields = split_line(line);
    const auto where = "line " + std::to_string(line_no) + ": ";
    if (fields.size() != header.size()) {
      return data_error(ErrorCode::kInvalidArgument, spec, file,
                        where + std::to_string(fields.size()) + " fields, the header has " +
                            std::to_string(header.size()));
    }
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (c == label_index) {
        table.labels.push_back(fields[c]);
        continue;
      }
      float value = 0;
      const auto* end = fields[c].data() + fields[c].size();
      const auto [ptr, err] = std::from_chars(fields[c].data(), end, value);
      if (err != std::errc() || ptr != end || !std::isfinite(value)) {
        return data_error(ErrorCode::kInvalidArgument, spec, file,
                          where + "column '" + header[c] + "' holds '" + fields[c] +
                              "', not a finite number (feature columns must be numeric)");
      }
      table.features.push_back(value);
    }
  }
  if (table.labels.empty()) {
    return data_error(ErrorCode::kInvalidArgument, spec, file, "has a header but no rows");
  }
  return table;
}

bool is_class_number(const std::string& label) {
  return !label.empty() && label.size() < 7 &&
         std::all_of(label.begin(), label.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Class names in order: numbers 0..max when every label is one, else the sorted distinct labels.
std::vector<std::string> class_names_of(const Table& table) {
  std::vector<std::string> names;
  if (std::all_of(table.labels.begin(), table.labels.end(), is_class_number)) {
    int top = 0;
    for (const auto& label : table.labels) top = std::max(top, std::stoi(label));
    for (int c = 0; c <= top; ++c) names.push_back(std::to_string(c));
    return names;
  }
  const std::set<std::string> distinct(table.labels.begin(), table.labels.end());
  return {distinct.begin(), distinct.end()};
}

Result<RawSplit> to_split(const DatasetSpec& spec, const std::filesystem::path& file, Table table,
                          const std::vector<std::string>& classes) {
  RawSplit raw;
  const auto rows = static_cast<std::int64_t>(table.labels.size());
  const bool numbered = std::all_of(classes.begin(), classes.end(), is_class_number);
  std::unordered_map<std::string, std::int64_t> number_of;
  for (std::size_t c = 0; c < classes.size(); ++c) {
    number_of.emplace(classes[c], static_cast<std::int64_t>(c));
  }
  std::vector<std::int64_t> y;
  for (const auto& label : table.labels) {
    const auto at = number_of.find(
        numbered && is_class_number(label) ? std::to_string(std::stoi(label)) : label);
    if (at == number_of.end()) {
      return data_error(ErrorCode::kInvalidArgument, spec, file,
                        "label '" + label + "' is not one of the " +
                            std::to_string(classes.size()) +
                            " classes (those of the training data, or the spec's classes=...)");
    }
    y.push_back(at->second);
  }
  raw.x = torch::from_blob(table.features.data(), {rows, table.feature_columns}, torch::kFloat32)
              .clone();
  raw.y = torch::tensor(y, torch::kInt64);
  raw.input_shape = {table.feature_columns};
  raw.num_classes = static_cast<int>(classes.size());
  raw.class_names = classes;
  return raw;
}

}  // namespace

Result<RawSplit> load_csv_split(const DatasetSpec& spec, Split split) {
  const std::string label = spec.option("label").value_or("label");
  FL_ASSIGN_OR_RETURN(auto train, read_table(spec, spec.path, label));
  auto classes = spec.class_list();
  if (classes.empty()) classes = class_names_of(train);
  if (const auto test = spec.option("test")) {
    if (split == Split::kTrain) return to_split(spec, spec.path, std::move(train), classes);
    FL_ASSIGN_OR_RETURN(auto test_table, read_table(spec, *test, label));
    if (test_table.feature_columns != train.feature_columns) {
      return data_error(ErrorCode::kInvalidArgument, spec, *test,
                        "has " + std::to_string(test_table.feature_columns) +
                            " feature columns, the training file " + spec.path.string() + " has " +
                            std::to_string(train.feature_columns));
    }
    return to_split(spec, *test, std::move(test_table), classes);
  }
  FL_ASSIGN_OR_RETURN(auto all, to_split(spec, spec.path, std::move(train), classes));
  return hold_out(std::move(all), split);
}

}  // namespace fl::models
