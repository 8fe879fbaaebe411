// The zoo adapts to the data: mlp and cnn take the input shape and class count from the data set
// (Fashion-MNIST's [1,28,28]/10 keeps the paper's parameter counts), logreg is one linear layer
// for tables, and a shape a model cannot take is refused with what to use instead.
#include <gtest/gtest.h>

#include "fl/models/model.hpp"
#include "fl/models/model_fit.hpp"
#include "fl/models/train.hpp"
#include "support/builders.hpp"

namespace fl::models {
namespace {

std::unique_ptr<Model> build(std::string_view spec, ModelInput input) {
  auto model = make_model(spec, 1, input);
  EXPECT_TRUE(model.ok()) << model.error().to_string();
  return model.ok() ? std::move(model).value() : nullptr;
}

using Shape = std::vector<std::int64_t>;

TEST(ModelInput, FashionMnistInputKeepsThePaperParameterCounts) {
  EXPECT_EQ(build("mlp", {{1, 28, 28}, 10})->num_parameters(), 199'210);
  EXPECT_EQ(build("cnn", {{1, 28, 28}, 10})->num_parameters(), 1'663'370);
}

TEST(ModelInput, MlpTakesTabularFeaturesAndAnyNumberOfClasses) {
  auto mlp = build("mlp", {{4}, 3});
  ASSERT_TRUE(mlp);
  EXPECT_EQ(mlp->layout().tensors.front().shape, (Shape{200, 4}));
  EXPECT_EQ(mlp->layout().tensors.back().shape, (Shape{3}));
  EXPECT_EQ(mlp->forward(torch::zeros({5, 4})).sizes(), (Shape{5, 3}));
}

TEST(ModelInput, CnnAdaptsToThreeChannelThirtyTwoSquareImages) {
  auto cnn = build("cnn", {{3, 32, 32}, 10});
  ASSERT_TRUE(cnn);
  EXPECT_EQ(cnn->layout().tensors.front().shape, (Shape{32, 3, 5, 5}));
  EXPECT_EQ(cnn->layout().tensors[4].shape, (Shape{512, 64 * 8 * 8}));
  EXPECT_EQ(cnn->forward(torch::zeros({2, 3, 32, 32})).sizes(), (Shape{2, 10}));
}

TEST(ModelInput, CnnRefusesTabularInputNamingTheAlternatives) {
  auto cnn = make_model("cnn", 1, {{4}, 3});
  ASSERT_FALSE(cnn.ok());
  EXPECT_NE(cnn.error().message.find("use mlp or logreg for tabular data"), std::string::npos)
      << cnn.error().message;
}

TEST(ModelInput, LogregIsOneLinearLayer) {
  auto logreg = build("logreg", {{6}, 4});
  ASSERT_TRUE(logreg);
  ASSERT_EQ(logreg->layout().tensors.size(), 2u);
  EXPECT_EQ(logreg->layout().tensors[0].name, "fc.weight");
  EXPECT_EQ(logreg->num_parameters(), 6 * 4 + 4);
}

TEST(ModelInput, LogregLearnsGaussianClustersFromACsvFile) {
  test::TempDir dir;
  test::write_gaussian_csv(dir / "d.csv", 400, 3, {"a", "b", "c", "d"}, 11);
  const std::string spec = "csv:" + (dir / "d.csv").string() + "?label=species";
  auto train = load_dataset(spec, Split::kTrain);
  auto test = load_dataset(spec, Split::kTest);
  ASSERT_TRUE(train.ok() && test.ok());
  auto model = build("logreg", input_of(*train));
  ASSERT_TRUE(model);
  ASSERT_TRUE(check_model_fits(*model, *train).ok());
  std::vector<std::int64_t> all(static_cast<std::size_t>(train->size()));
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::int64_t>(i);
  common::TrainingSettings settings;
  settings.epochs = 5;
  settings.batch_size = 16;
  settings.learning_rate = 0.1;
  ASSERT_TRUE(train_local(*model, *train, all, train_options(settings, 3)).ok());
  auto eval = evaluate(*model, *test);
  ASSERT_TRUE(eval.ok());
  EXPECT_GT(eval->accuracy, 0.9);
}

}  // namespace
}  // namespace fl::models
