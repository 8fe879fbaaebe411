// Small builders for the aggregation tests: rows of floats, their views, a temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "fl/coordinator/aggregation/rule.hpp"

namespace fl::coordinator::testing {

using Rows = std::vector<std::vector<float>>;

inline std::vector<UpdateView> views_of(const Rows& rows, const std::vector<double>& weights = {}) {
  std::vector<UpdateView> views;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    views.push_back({rows[i], weights.empty() ? 1.0 : weights[i]});
  }
  return views;
}

// Aggregates with a fresh rule; fails the test if the spec does not parse.
inline Result<std::vector<float>> aggregate(std::string_view spec, const Rows& rows,
                                            RuleOptions options = {},
                                            const std::vector<double>& weights = {}) {
  auto rule = make_rule(spec, options);
  EXPECT_TRUE(rule.ok()) << (rule.ok() ? "" : rule.error().to_string());
  if (!rule.ok()) return rule.error();
  return (*rule)->aggregate(views_of(rows, weights));
}

// n rows of d values drawn from N(centre, 1) with a fixed seed.
inline Rows gaussian_rows(std::size_t n, std::size_t d, float centre, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(centre, 1.0f);
  Rows rows(n, std::vector<float>(d));
  for (auto& row : rows) {
    for (auto& x : row) x = normal(rng);
  }
  return rows;
}

// A fresh directory under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("fl_agg_" + std::to_string(::getpid()) + "_" + info->test_suite_name() + "_" +
             info->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace fl::coordinator::testing
