#include <toml++/toml.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "fl/common/config_table.hpp"

namespace fl::common {

struct ConfigTable::Impl {
  toml::table root;
  std::string source;
  std::set<std::string> used;
};

namespace {
const toml::table* as_table(const void* p) { return static_cast<const toml::table*>(p); }
const toml::node* as_node(const void* p) { return static_cast<const toml::node*>(p); }

std::string type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    default: return "a date/time";
  }
}

void collect_keys(const toml::table& table, const std::string& prefix, std::vector<std::string>& out) {
  for (const auto& [k, v] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = v.as_table()) collect_keys(*sub, key, out);
    else out.push_back(key);
  }
}
}  // namespace

ConfigTable::ConfigTable(std::shared_ptr<Impl> impl, std::string prefix, const void* table)
    : impl_(std::move(impl)), prefix_(std::move(prefix)), table_(table) {}

Result<ConfigTable> ConfigTable::parse_text(std::string_view text, std::string source_name) {
  auto impl = std::make_shared<Impl>();
  impl->source = std::move(source_name);
  try {
    impl->root = toml::parse(text, impl->source);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << impl->source << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return make_error(ErrorCode::kInvalidArgument, msg.str());
  }
  const void* root = &impl->root;
  return ConfigTable(impl, "", root);
}

Result<ConfigTable> ConfigTable::parse_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kNotFound, "config file " + path.string() + " cannot be opened");
  std::stringstream text;
  text << in.rdbuf();
  return parse_text(text.str(), path.string());
}

std::string ConfigTable::full_key(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

std::string ConfigTable::where(std::string_view key) const {
  return impl_->source + ": " + full_key(key);
}

const std::string& ConfigTable::source_name() const { return impl_->source; }

const void* ConfigTable::find(std::string_view key) const {
  const toml::node* node = as_table(table_)->get(key);
  if (node) impl_->used.insert(full_key(key));
  return node;
}

bool ConfigTable::has(std::string_view key) const { return as_table(table_)->get(key) != nullptr; }

std::vector<std::string> ConfigTable::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : *as_table(table_)) out.emplace_back(k.str());
  return out;
}

Result<ConfigTable> ConfigTable::section(std::string_view key) const {
  static const toml::table kEmpty;
  const auto* node = as_node(find(key));
  if (!node) return ConfigTable(impl_, full_key(key), &kEmpty);
  const auto* table = node->as_table();
  if (!table) {
    return make_error(ErrorCode::kInvalidArgument, where(key) + " must be a table, got " + type_name(*node));
  }
  return ConfigTable(impl_, full_key(key), table);
}

Result<std::string> ConfigTable::text(std::string_view key, std::optional<std::string> fallback) const {
  const auto* node = as_node(find(key));
  if (!node) {
    if (fallback) return *fallback;
    return make_error(ErrorCode::kInvalidArgument, where(key) + " is required");
  }
  if (auto v = node->value<std::string>(); v && node->is_string()) return *v;
  return make_error(ErrorCode::kInvalidArgument, where(key) + " must be a string, got " + type_name(*node));
}

Result<std::int64_t> ConfigTable::integer(std::string_view key, std::optional<std::int64_t> fallback,
                                          std::int64_t min, std::int64_t max) const {
  const auto* node = as_node(find(key));
  std::int64_t value = 0;
  if (!node) {
    if (!fallback) return make_error(ErrorCode::kInvalidArgument, where(key) + " is required");
    value = *fallback;
  } else if (node->is_integer()) {
    value = *node->value<std::int64_t>();
  } else {
    return make_error(ErrorCode::kInvalidArgument, where(key) + " must be an integer, got " + type_name(*node));
  }
  if (value < min || value > max) {
    return make_error(ErrorCode::kInvalidArgument, where(key) + " must be in [" + std::to_string(min) +
                                                       ", " + std::to_string(max) + "], got " +
                                                       std::to_string(value));
  }
  return value;
}

Result<double> ConfigTable::number(std::string_view key, std::optional<double> fallback, double min,
                                   double max) const {
  const auto* node = as_node(find(key));
  double value = 0;
  if (!node) {
    if (!fallback) return make_error(ErrorCode::kInvalidArgument, where(key) + " is required");
    value = *fallback;
  } else if (node->is_number()) {
    value = *node->value<double>();
  } else {
    return make_error(ErrorCode::kInvalidArgument, where(key) + " must be a number, got " + type_name(*node));
  }
  if (!std::isfinite(value) || value < min || value > max) {
    std::ostringstream msg;
    msg << where(key) << " must be in [" << min << ", " << max << "], got " << value;
    return make_error(ErrorCode::kInvalidArgument, msg.str());
  }
  return value;
}

Result<bool> ConfigTable::boolean(std::string_view key, std::optional<bool> fallback) const {
  const auto* node = as_node(find(key));
  if (!node) {
    if (fallback) return *fallback;
    return make_error(ErrorCode::kInvalidArgument, where(key) + " is required");
  }
  if (node->is_boolean()) return *node->value<bool>();
  return make_error(ErrorCode::kInvalidArgument, where(key) + " must be true or false, got " + type_name(*node));
}

Result<std::vector<std::string>> ConfigTable::text_list(
    std::string_view key, std::optional<std::vector<std::string>> fallback) const {
  const auto* node = as_node(find(key));
  if (!node) {
    if (fallback) return *fallback;
    return make_error(ErrorCode::kInvalidArgument, where(key) + " is required");
  }
  const auto* array = node->as_array();
  if (!array) {
    return make_error(ErrorCode::kInvalidArgument, where(key) + " must be an array of strings, got " + type_name(*node));
  }
  std::vector<std::string> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto& item = *array->get(i);
    if (!item.is_string()) {
      return make_error(ErrorCode::kInvalidArgument, where(key) + "[" + std::to_string(i) +
                                                         "] must be a string, got " + type_name(item));
    }
    out.push_back(*item.value<std::string>());
  }
  return out;
}

Result<std::vector<std::int64_t>> ConfigTable::integer_list(
    std::string_view key, std::optional<std::vector<std::int64_t>> fallback, std::int64_t min,
    std::int64_t max) const {
  const auto* node = as_node(find(key));
  if (!node) {
    if (fallback) return *fallback;
    return make_error(ErrorCode::kInvalidArgument, where(key) + " is required");
  }
  const auto* array = node->as_array();
  if (!array) {
    return make_error(ErrorCode::kInvalidArgument,
                      where(key) + " must be an array of integers, got " + type_name(*node));
  }
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const auto& item = *array->get(i);
    const std::string at = where(key) + "[" + std::to_string(i) + "]";
    if (!item.is_integer()) {
      return make_error(ErrorCode::kInvalidArgument, at + " must be an integer, got " + type_name(item));
    }
    const auto value = *item.value<std::int64_t>();
    if (value < min || value > max) {
      return make_error(ErrorCode::kInvalidArgument, at + " must be in [" + std::to_string(min) + ", " +
                                                         std::to_string(max) + "], got " +
                                                         std::to_string(value));
    }
    out.push_back(value);
  }
  return out;
}

Status ConfigTable::reject_unknown_keys() const {
  std::vector<std::string> all;
  collect_keys(impl_->root, "", all);
  for (const auto& key : all) {
    // A table's key counts as used when it or any parent was read as a leaf (arrays).
    if (!impl_->used.count(key)) {
      return make_error(ErrorCode::kInvalidArgument, impl_->source + ": unknown key '" + key + "'");
    }
  }
  return ok_status();
}

std::filesystem::path resolve_config_path(const std::filesystem::path& base_dir,
                                          const std::filesystem::path& path) {
  return path.is_absolute() ? path : base_dir / path;
}

std::vector<std::string> split_list(std::string_view list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto comma = list.find(',', start);
    auto item = std::string(list.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    out.push_back(std::move(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string resolve_model_spec(const std::filesystem::path& base_dir, const std::string& spec) {
  constexpr std::string_view kTorchScript = "torchscript:";
  if (!spec.starts_with(kTorchScript)) return spec;
  return std::string(kTorchScript) +
         resolve_config_path(base_dir, spec.substr(kTorchScript.size())).string();
}

}  // namespace fl::common
