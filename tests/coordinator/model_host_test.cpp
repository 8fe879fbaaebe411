// ModelHost::create refuses a job whose model cannot run on its test data, naming the config
// keys to change, instead of failing in every round.
#include "fl/coordinator/model_host.hpp"

#include <gtest/gtest.h>

#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

TEST(ModelHost, RefusesATorchScriptMlpForTwentyEightSquareImagesOnSixteenSquareData) {
  test::TempDir dir;
  test::write_idx_dataset(dir.path(), 20, 16, 16, 3);
  auto host = ModelHost::create("torchscript:tests/data/tiny_mlp.pt", 1, dir.path().string(), 0,
                                "cpu");
  ASSERT_FALSE(host.ok());
  EXPECT_EQ(host.error().code, ErrorCode::kInvalidArgument);
  const auto& message = host.error().message;
  EXPECT_NE(message.find("job.model 'torchscript:tests/data/tiny_mlp.pt' and data"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("expects inputs of 784 values per example"), std::string::npos) << message;
}

TEST(ModelHost, BuildsTheZooMlpForTheShapeAndClassesOfItsData) {
  test::TempDir dir;
  test::write_idx_dataset(dir.path(), 20, 16, 16, 3);
  auto host = ModelHost::create("mlp", 1, "idx:" + dir.path().string(), 0, "cpu");
  ASSERT_TRUE(host.ok()) << host.error().to_string();
  EXPECT_EQ((*host)->layout().tensors.front().shape, (std::vector<std::int64_t>{200, 256}));
  EXPECT_EQ((*host)->layout().tensors.back().shape, (std::vector<std::int64_t>{3}));
}

TEST(ModelHost, RefusesAModelWithFiveOutputsForTenClasses) {
  test::TempDir dir;
  test::write_idx_dataset(dir.path(), 20, 28, 28, 10);
  auto host = ModelHost::create("torchscript:tests/data/five_outputs.pt", 1, dir.path().string(), 0, "cpu");
  ASSERT_FALSE(host.ok());
  EXPECT_NE(host.error().message.find("has 5 outputs but the data has 10 classes"),
            std::string::npos)
      << host.error().message;
}

TEST(ModelHost, StartsWhenTheModelFitsItsTestData) {
  test::TempDir dir;
  test::write_idx_dataset(dir.path(), 20, 28, 28, 10);
  auto host = ModelHost::create("torchscript:tests/data/tiny_mlp.pt", 1, dir.path().string(), 0, "cpu");
  ASSERT_TRUE(host.ok()) << host.error().to_string();
  auto metrics = (*host)->evaluate((*host)->initial_parameters());
  ASSERT_TRUE(metrics.ok()) << metrics.error().to_string();
  EXPECT_EQ(metrics->num_samples, 20);
}

}  // namespace
}  // namespace fl::coordinator
