// load_dataset: the one way binaries read training and test data, on a tiny IDX set.
#include "fl/models/dataset.hpp"

#include <gtest/gtest.h>

#include "support/builders.hpp"

namespace fl::models {
namespace {

class TinyIdxSet : public ::testing::Test {
 protected:
  void SetUp() override { test::write_idx_dataset(dir_.path(), 12, 16, 16, 3); }
  test::TempDir dir_;
};

TEST_F(TinyIdxSet, IdxSpecGivesShapeAndClassCountFromTheData) {
  auto data = load_dataset("idx:" + dir_.path().string(), Split::kTrain);
  ASSERT_TRUE(data.ok()) << data.error().to_string();
  EXPECT_EQ(data->size(), 12);
  EXPECT_EQ(data->input_shape, (std::vector<std::int64_t>{1, 16, 16}));
  EXPECT_EQ(data->num_classes, 3);
  EXPECT_EQ(data->images.sizes(), (std::vector<std::int64_t>{12, 1, 16, 16}));
  EXPECT_EQ(data->labels.scalar_type(), torch::kInt64);
}

TEST_F(TinyIdxSet, PlainDirectoryMeansIdx) {
  auto data = load_dataset(dir_.path().string(), Split::kTest);
  ASSERT_TRUE(data.ok()) << data.error().to_string();
  EXPECT_EQ(data->input_shape, (std::vector<std::int64_t>{1, 16, 16}));
  EXPECT_EQ(data->num_classes, 3);
}

TEST(LoadDataset, RejectsAnUnknownFormatNamingTheExpectedOnes) {
  auto data = load_dataset("parquet:/nowhere/data.parquet", Split::kTrain);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(data.error().message.find("unknown format 'parquet'"), std::string::npos)
      << data.error().message;
  EXPECT_NE(data.error().message.find("idx:DIR"), std::string::npos) << data.error().message;
}

TEST(LoadDataset, NamesAMissingDirectory) {
  auto data = load_dataset("idx:/nowhere/at/all", Split::kTrain);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, ErrorCode::kNotFound);
  EXPECT_NE(data.error().message.find("/nowhere/at/all does not exist"), std::string::npos)
      << data.error().message;
}

TEST(LoadDataset, RejectsAnEmptySpec) {
  auto data = load_dataset("idx:", Split::kTrain);
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("no file or directory"), std::string::npos)
      << data.error().message;
}

}  // namespace
}  // namespace fl::models
