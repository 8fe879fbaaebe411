// Typed access to a TOML configuration file. Every getter names the file and the dotted key in
// its error ("job.toml: training.learning_rate must be > 0, got -1"), and reject_unknown_keys()
// turns a misspelt key into an error instead of a silently ignored setting.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::common {

class ConfigTable {
 public:
  static Result<ConfigTable> parse_file(const std::filesystem::path& path);
  static Result<ConfigTable> parse_text(std::string_view text, std::string source_name);

  bool has(std::string_view key) const;
  // A sub-table ("[training]"); a missing one reads as empty, a non-table is an error.
  Result<ConfigTable> section(std::string_view key) const;
  std::vector<std::string> keys() const;

  Result<std::string> text(std::string_view key, std::optional<std::string> fallback = std::nullopt) const;
  Result<std::int64_t> integer(std::string_view key, std::optional<std::int64_t> fallback,
                               std::int64_t min, std::int64_t max) const;
  Result<double> number(std::string_view key, std::optional<double> fallback, double min,
                        double max) const;
  Result<bool> boolean(std::string_view key, std::optional<bool> fallback = std::nullopt) const;
  Result<std::vector<std::string>> text_list(
      std::string_view key, std::optional<std::vector<std::string>> fallback = std::nullopt) const;
  // An array of integers, each in [min, max] (errors name the index).
  Result<std::vector<std::int64_t>> integer_list(
      std::string_view key, std::optional<std::vector<std::int64_t>> fallback, std::int64_t min,
      std::int64_t max) const;

  // Every key of the whole file that no getter asked for is an error naming it.
  Status reject_unknown_keys() const;

  // "job.toml: training.epochs"
  std::string where(std::string_view key) const;
  const std::string& source_name() const;

 private:
  struct Impl;
  ConfigTable(std::shared_ptr<Impl> impl, std::string prefix, const void* table);

  std::string full_key(std::string_view key) const;
  const void* find(std::string_view key) const;  // toml::node*, marked as used

  std::shared_ptr<Impl> impl_;
  std::string prefix_;
  const void* table_;  // toml::table*
};

// Paths in a config file are relative to the file's folder: `path` if absolute, else
// base_dir / path.
std::filesystem::path resolve_config_path(const std::filesystem::path& base_dir,
                                          const std::filesystem::path& path);
// A model spec's file the same way: "torchscript:m.pt" -> "torchscript:<base_dir>/m.pt"; specs
// without a file ("mlp") unchanged.
std::string resolve_model_spec(const std::filesystem::path& base_dir, const std::string& spec);

// "a, b,c" -> {"a", "b", "c"}: the items of a comma-separated list as flags and config strings
// give them (--coordinator A,B; [edge] parent), each trimmed of spaces; empty items are kept
// (the caller names them as errors).
std::vector<std::string> split_list(std::string_view list);

}  // namespace fl::common
