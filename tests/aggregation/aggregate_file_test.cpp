// aggregate_npy_file end to end: real .npy files in, a real .npy file out.
#include "fl/coordinator/aggregation/aggregate_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fl/common/npy.hpp"
#include "updates.hpp"

namespace fl::coordinator {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::HasSubstr;

void write_matrix(const std::filesystem::path& path, const std::vector<float>& values,
                  std::size_t rows, std::size_t cols) {
  const std::size_t shape[] = {rows, cols};
  ASSERT_TRUE(common::write_npy(path, values, shape).ok());
}

TEST(AggregateNpyFile, WritesTheRuleResultAsAOneDimensionalArray) {
  testing::TempDir dir;
  write_matrix(dir / "x.npy", {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 3);
  RuleOptions o;
  o.f = 1;
  auto st = aggregate_npy_file(dir / "x.npy", dir / "out.npy", "median", o, std::nullopt);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  auto out = common::read_npy(dir / "out.npy");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->shape, (std::vector<std::size_t>{3}));
  EXPECT_THAT(out->values, ElementsAre(4, 5, 6));
}

TEST(AggregateNpyFile, UsesTheWeightsFile) {
  testing::TempDir dir;
  write_matrix(dir / "x.npy", {1, 2, 3, 4, 5, 6}, 3, 2);
  const std::vector<float> w = {1, 1, 2};
  const std::size_t shape[] = {3};
  ASSERT_TRUE(common::write_npy(dir / "w.npy", w, shape).ok());
  auto st = aggregate_npy_file(dir / "x.npy", dir / "out.npy", "fedavg", {}, dir / "w.npy");
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  auto out = common::read_npy(dir / "out.npy");
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(out->values, ElementsAre(FloatEq(3.5f), FloatEq(4.5f)));
}

TEST(AggregateNpyFile, AppliesComposedSpecsToLargerFiles) {
  testing::TempDir dir;
  const auto rows = testing::gaussian_rows(20, 1000, 0.0f, 8);
  std::vector<float> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  write_matrix(dir / "x.npy", flat, 20, 1000);
  RuleOptions o;
  o.f = 4;
  ASSERT_TRUE(aggregate_npy_file(dir / "x.npy", dir / "out.npy", "nnm+krum", o, std::nullopt).ok());
  auto from_file = common::read_npy(dir / "out.npy");
  auto direct = testing::aggregate("nnm+krum", rows, o);
  ASSERT_TRUE(from_file.ok() && direct.ok());
  EXPECT_EQ(from_file->values, *direct);
}

TEST(AggregateNpyFile, RefusesWeightsOfTheWrongLength) {
  testing::TempDir dir;
  write_matrix(dir / "x.npy", {1, 2, 3, 4}, 2, 2);
  const std::vector<float> w = {1, 1, 1};
  const std::size_t shape[] = {3};
  ASSERT_TRUE(common::write_npy(dir / "w.npy", w, shape).ok());
  auto st = aggregate_npy_file(dir / "x.npy", dir / "out.npy", "fedavg", {}, dir / "w.npy");
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, HasSubstr("weights must be 1-D of length 2"));
}

TEST(AggregateNpyFile, RefusesAOneDimensionalInput) {
  testing::TempDir dir;
  const std::vector<float> v = {1, 2, 3};
  const std::size_t shape[] = {3};
  ASSERT_TRUE(common::write_npy(dir / "x.npy", v, shape).ok());
  auto st = aggregate_npy_file(dir / "x.npy", dir / "out.npy", "median", {}, std::nullopt);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, HasSubstr("must be a non-empty 2-D array"));
}

TEST(AggregateNpyFile, ReportsARefusingRuleWithTheInputFile) {
  testing::TempDir dir;
  write_matrix(dir / "x.npy", {1, 2, 3, 4}, 4, 1);
  RuleOptions o;
  o.f = 1;
  auto st = aggregate_npy_file(dir / "x.npy", dir / "out.npy", "krum", o, std::nullopt);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kPrecondition);
  EXPECT_THAT(st.error().message, HasSubstr("x.npy"));
  EXPECT_THAT(st.error().message, HasSubstr("2f+3"));
  EXPECT_FALSE(std::filesystem::exists(dir / "out.npy"));
}

TEST(AggregateNpyFile, ReportsAMissingInputFile) {
  testing::TempDir dir;
  auto st = aggregate_npy_file(dir / "none.npy", dir / "out.npy", "median", {}, std::nullopt);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace fl::coordinator
