// check_model_fits and the never-throwing train/evaluate: a model that does not fit the data
// is refused with a message that says what is wrong, before any round.
#include "fl/models/model_fit.hpp"

#include <gtest/gtest.h>

#include "fl/models/train.hpp"
#include "support/builders.hpp"

namespace fl::models {
namespace {

std::unique_ptr<Model> make(std::string_view spec) {
  auto model = make_model(spec, 1);
  EXPECT_TRUE(model.ok()) << model.error().to_string();
  return model.ok() ? std::move(model).value() : nullptr;
}

Dataset tiny(int height, int width, int classes) {
  test::TempDir dir;
  test::write_idx_dataset(dir.path(), 20, height, width, classes);
  auto data = load_dataset(dir.path().string(), Split::kTrain);
  EXPECT_TRUE(data.ok()) << data.error().to_string();
  return data.ok() ? std::move(data).value() : Dataset{};
}

TEST(CheckModelFits, AcceptsATorchScriptModelForFlatInputsOnTwentyEightSquareImages) {
  auto model = make("torchscript:tests/data/tiny_mlp.pt");
  ASSERT_TRUE(model);
  EXPECT_TRUE(check_model_fits(*model, tiny(28, 28, 10)).ok());
}

TEST(CheckModelFits, RefusesAModelWithFiveOutputsForTenClasses) {
  auto model = make("torchscript:tests/data/five_outputs.pt");
  ASSERT_TRUE(model);
  const auto fits = check_model_fits(*model, tiny(28, 28, 10));
  ASSERT_FALSE(fits.ok());
  EXPECT_EQ(fits.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(fits.error().message.find("has 5 outputs but the data has 10 classes"),
            std::string::npos)
      << fits.error().message;
}

TEST(CheckModelFits, RefusesAnMlpOnSixteenSquareImagesNamingBothShapes) {
  auto model = make("mlp");
  ASSERT_TRUE(model);
  const auto fits = check_model_fits(*model, tiny(16, 16, 10));
  ASSERT_FALSE(fits.ok());
  EXPECT_NE(fits.error().message.find(
                "model 'mlp' expects inputs of 784 values per example but the data has "
                "[1,16,16] (256 values)"),
            std::string::npos)
      << fits.error().message;
  EXPECT_NE(fits.error().message.find("use a model for this input shape"), std::string::npos);
}

TEST(CheckModelFits, RefusesACnnOnSixteenSquareImages) {
  auto model = make("cnn");
  ASSERT_TRUE(model);
  const auto fits = check_model_fits(*model, tiny(16, 16, 10));
  ASSERT_FALSE(fits.ok());
  EXPECT_NE(fits.error().message.find("model 'cnn' cannot run on inputs of shape [1,16,16]"),
            std::string::npos)
      << fits.error().message;
}

TEST(CheckModelFits, LeavesParametersUntouched) {
  auto model = make("mlp");
  ASSERT_TRUE(model);
  const auto before = model->flat_parameters();
  EXPECT_TRUE(check_model_fits(*model, tiny(28, 28, 10)).ok());
  EXPECT_EQ(model->flat_parameters(), before);
}

TEST(TrainLocal, ReturnsAnErrorInsteadOfThrowingWhenTheModelDoesNotFit) {
  auto model = make("mlp");
  ASSERT_TRUE(model);
  const auto data = tiny(16, 16, 3);
  const std::vector<std::int64_t> indices{0, 1, 2, 3};
  const auto result = train_local(*model, data, indices, TrainOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("training model 'mlp' on data of shape [1,16,16]"),
            std::string::npos)
      << result.error().message;
}

TEST(Evaluate, ReturnsAnErrorInsteadOfThrowingWhenTheModelDoesNotFit) {
  auto model = make("mlp");
  ASSERT_TRUE(model);
  const auto result = evaluate(*model, tiny(16, 16, 3), 4, -1);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("evaluating model 'mlp'"), std::string::npos)
      << result.error().message;
}

TEST(MakeModel, RefusesATorchScriptModelWithBatchNormBuffers) {
  auto model = make_model("torchscript:tests/data/tiny_batchnorm.pt", 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(model.error().message.find("buffer 'bn1.running_mean'"), std::string::npos)
      << model.error().message;
  EXPECT_NE(model.error().message.find("federates parameters only"), std::string::npos);
}

TEST(MakeModel, ReturnsAnErrorForATorchScriptFileThatDoesNotLoad) {
  test::TempDir dir;
  test::write_file(dir / "broken.pt", "this is not a zip archive");
  auto model = make_model("torchscript:" + (dir / "broken.pt").string(), 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(model.error().message.find("cannot load TorchScript file"), std::string::npos)
      << model.error().message;
}

}  // namespace
}  // namespace fl::models
