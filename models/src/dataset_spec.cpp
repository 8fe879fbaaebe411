#include "fl/models/dataset_spec.hpp"

#include <array>
#include <span>

namespace fl::models {
namespace {

constexpr std::array<std::string_view, 5> kFormats = {"idx", "npz", "csv", "cifar10", "images"};
constexpr std::array<std::string_view, 5> kOptions = {"label", "test", "mean", "std", "classes"};

bool known(std::span<const std::string_view> names, std::string_view name) {
  for (const auto known_name : names) {
    if (known_name == name) return true;
  }
  return false;
}

Error bad_spec(std::string_view text, const std::string& problem) {
  return make_error(ErrorCode::kInvalidArgument, "dataset '" + std::string(text) + "': " + problem +
                                                     "; expected " + kDatasetFormats);
}

std::filesystem::path resolve(const std::filesystem::path& base, const std::filesystem::path& p) {
  return p.is_relative() && !base.empty() ? base / p : p;
}

}  // namespace

std::optional<std::string> DatasetSpec::option(const std::string& key) const {
  const auto it = options.find(key);
  if (it == options.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> DatasetSpec::class_list() const {
  const auto text = option("classes");
  if (!text || text->find_first_not_of("0123456789") == std::string::npos) return {};
  std::vector<std::string> names;
  std::size_t start = 0;
  while (true) {
    const auto comma = text->find(',', start);
    names.push_back(text->substr(start, comma - start));
    if (comma == std::string::npos) return names;
    start = comma + 1;
  }
}

Result<DatasetSpec> parse_dataset_spec(std::string_view text) {
  DatasetSpec spec;
  spec.text = std::string(text);
  std::string_view rest = text;
  const auto colon = text.find(':');
  // "C:\..." never occurs on Debian; a colon after a slash belongs to the path.
  if (colon != std::string_view::npos &&
      text.substr(0, colon).find('/') == std::string_view::npos) {
    spec.format = std::string(text.substr(0, colon));
    rest = text.substr(colon + 1);
    if (!known(kFormats, spec.format)) {
      return bad_spec(text, "unknown format '" + spec.format + "'");
    }
  } else {
    spec.format = "idx";
  }
  const auto query = rest.find('?');
  const std::string_view path = rest.substr(0, query);
  if (path.empty()) return bad_spec(text, "no file or directory given");
  spec.path = std::string(path);
  if (query == std::string_view::npos) return spec;
  std::string_view options = rest.substr(query + 1);
  while (!options.empty()) {
    const auto amp = options.find('&');
    const std::string_view item = options.substr(0, amp);
    options = amp == std::string_view::npos ? std::string_view{} : options.substr(amp + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return bad_spec(text, "option '" + std::string(item) + "' is not key=value");
    }
    const std::string key(item.substr(0, eq));
    if (!known(kOptions, key)) {
      return make_error(ErrorCode::kInvalidArgument, "dataset '" + std::string(text) +
                                                         "': unknown option '" + key +
                                                         "'; known options: " + kDatasetOptions);
    }
    spec.options[key] = std::string(item.substr(eq + 1));
  }
  return spec;
}

std::string resolve_dataset_spec(const std::filesystem::path& base_dir, std::string_view text) {
  auto parsed = parse_dataset_spec(text);
  if (!parsed.ok()) return std::string(text);  // load_dataset reports the problem later
  std::string out = parsed->format + ":" + resolve(base_dir, parsed->path).string();
  char sep = '?';
  for (const auto& [key, value] : parsed->options) {
    const std::string shown = key == "test" ? resolve(base_dir, value).string() : value;
    out += sep + key + "=" + shown;
    sep = '&';
  }
  return out;
}

}  // namespace fl::models
