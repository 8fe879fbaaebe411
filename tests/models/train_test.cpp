// Dataset loading and local training on the real Fashion-MNIST files.
#include "fl/models/train.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "fl/models/dataset.hpp"
#include "fl/models/partition.hpp"
#include "support/builders.hpp"

namespace fl::models {
namespace {

// train_local / evaluate that must succeed here (the failure paths have their own tests).
TrainResult train_ok(Model& model, const Dataset& data, std::span<const std::int64_t> indices,
                     const TrainOptions& options) {
  auto result = train_local(model, data, indices, options);
  EXPECT_TRUE(result.ok()) << result.error().to_string();
  return result.ok() ? *result : TrainResult{};
}

EvalResult evaluate_ok(Model& model, const Dataset& data, std::int64_t batch, std::int64_t limit) {
  auto result = evaluate(model, data, batch, limit);
  EXPECT_TRUE(result.ok()) << result.error().to_string();
  return result.ok() ? *result : EvalResult{};
}

// Loaded once per test binary: decompressing 60000 images takes a moment.
class FashionMnist : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto train = load_dataset(kDefaultFashionMnistDir, Split::kTrain);
    auto test = load_dataset(kDefaultFashionMnistDir, Split::kTest);
    ASSERT_TRUE(train.ok()) << train.error().to_string();
    ASSERT_TRUE(test.ok()) << test.error().to_string();
    train_ = new Dataset(std::move(train).value());
    test_ = new Dataset(std::move(test).value());
  }
  static void TearDownTestSuite() {
    delete train_;
    delete test_;
  }
  static std::vector<std::int64_t> first(std::int64_t n) {
    std::vector<std::int64_t> indices(static_cast<std::size_t>(n));
    std::iota(indices.begin(), indices.end(), 0);
    return indices;
  }
  static std::unique_ptr<Model> mlp(std::uint64_t seed = 3) { return std::move(make_model("mlp", seed)).value(); }

  static inline Dataset* train_ = nullptr;
  static inline Dataset* test_ = nullptr;
};

TEST_F(FashionMnist, LoadsBothSplitsAsNormalisedTensors) {
  EXPECT_EQ(train_->size(), 60000);
  EXPECT_EQ(test_->size(), 10000);
  EXPECT_EQ(train_->images.sizes(), (std::vector<std::int64_t>{60000, 1, 28, 28}));
  EXPECT_EQ(train_->images.scalar_type(), torch::kFloat32);
  EXPECT_EQ(train_->input_shape, (std::vector<std::int64_t>{1, 28, 28}));
  EXPECT_EQ(train_->num_classes, 10);
  EXPECT_EQ(test_->num_classes, 10);
  EXPECT_EQ(train_->labels.scalar_type(), torch::kInt64);
  EXPECT_NEAR(train_->images.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(train_->images.std().item<double>(), 1.0, 0.01);
  const auto labels = labels_of(*test_);
  EXPECT_EQ(labels.size(), 10000u);
  EXPECT_EQ(std::count(labels.begin(), labels.end(), 9), 1000);
}

TEST_F(FashionMnist, FingerprintDependsOnTheSelectedExamples) {
  const std::vector<std::int64_t> a{0, 1, 2};
  const std::vector<std::int64_t> b{0, 1, 3};
  EXPECT_EQ(dataset_fingerprint(*train_, a), dataset_fingerprint(*train_, a));
  EXPECT_NE(dataset_fingerprint(*train_, a), dataset_fingerprint(*train_, b));
  EXPECT_TRUE(dataset_fingerprint(*train_, a).starts_with("merkle:v1:"));
}

TEST_F(FashionMnist, OneEpochOnTwoThousandExamplesBeatsChanceByFar) {
  auto model = mlp();
  const auto before = evaluate_ok(*model, *test_, 1000, 2000);
  TrainOptions options;
  options.seed = 11;
  const auto result = train_ok(*model, *train_, first(2000), options);
  const auto after = evaluate_ok(*model, *test_, 1000, 2000);
  EXPECT_EQ(result.num_samples, 2000);
  EXPECT_EQ(result.steps, 32);  // ceil(2000 / 64)
  EXPECT_LT(before.accuracy, 0.25);  // chance is 0.10
  EXPECT_GT(after.accuracy, 0.50) << "loss " << after.loss;
  EXPECT_LT(after.loss, before.loss);
  EXPECT_EQ(after.num_samples, 2000);
}

TEST_F(FashionMnist, CnnLearnsFromAShortRun) {
  auto model = std::move(make_model("cnn", 5)).value();
  TrainOptions options;
  options.seed = 2;
  options.max_steps = 20;
  const auto result = train_ok(*model, *train_, first(2000), options);
  EXPECT_EQ(result.steps, 20);
  EXPECT_EQ(result.num_samples, 20 * 64);
  EXPECT_GT(evaluate_ok(*model, *test_, 500, 1000).accuracy, 0.45);
}

TEST_F(FashionMnist, TrainingIsDeterministicForASeed) {
  const auto indices = first(640);
  TrainOptions options;
  options.seed = 5;
  options.momentum = 0.9;
  auto a = mlp();
  auto b = mlp();
  auto c = mlp();
  train_ok(*a, *train_, indices, options);
  train_ok(*b, *train_, indices, options);
  options.seed = 6;
  train_ok(*c, *train_, indices, options);
  EXPECT_EQ(a->flat_parameters(), b->flat_parameters());
  EXPECT_NE(a->flat_parameters(), c->flat_parameters());
}

TEST_F(FashionMnist, TrainsOnlyOnTheGivenIndicesAndStopsAtMaxSteps) {
  std::vector<std::int64_t> seen_steps;
  TrainOptions options;
  options.epochs = 3;
  options.batch_size = 10;
  options.max_steps = 7;
  options.on_progress = [&](int, std::int64_t step, double loss) {
    seen_steps.push_back(step);
    EXPECT_TRUE(std::isfinite(loss));
  };
  auto model = mlp();
  const std::vector<std::int64_t> indices{5, 50, 500, 5000, 50000};  // one batch of 5 per epoch
  const auto result = train_ok(*model, *train_, indices, options);
  EXPECT_EQ(result.steps, 3);
  EXPECT_EQ(result.num_samples, 15);
  EXPECT_EQ(seen_steps, (std::vector<std::int64_t>{1, 2, 3}));
}

TEST_F(FashionMnist, EmptyIndexListLeavesTheModelUntouched) {
  auto model = mlp();
  const auto before = model->flat_parameters();
  const auto result = train_ok(*model, *train_, {}, TrainOptions{});
  EXPECT_EQ(result.steps, 0);
  EXPECT_EQ(model->flat_parameters(), before);
}

TEST_F(FashionMnist, WorkersTrainOnTheirOwnDirichletShards) {
  PartitionSpec spec{PartitionKind::kDirichlet, 0.5, 2, 9};
  auto parts = partition(labels_of(*train_), 10, 8, spec);
  ASSERT_TRUE(parts.ok());
  auto model = mlp();
  TrainOptions options;
  options.max_steps = 5;
  const auto result = train_ok(*model, *train_, parts->front(), options);
  EXPECT_EQ(result.steps, std::min<std::int64_t>(5, (parts->front().size() + 63) / 64));
  EXPECT_GT(result.mean_loss, 0.0);
}

TEST(LoadIdxDataset, RejectsImageAndLabelCountsThatDisagree) {
  const std::filesystem::path dir = kDefaultFashionMnistDir;
  auto data = load_idx_dataset(dir / "t10k-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz");
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("60000 labels for 10000 images"), std::string::npos)
      << data.error().message;
}

TEST(LoadFashionMnist, NamesTheDirectoryWhenFilesAreMissing) {
  test::TempDir dir;
  auto data = load_fashion_mnist(dir.path(), Split::kTest);
  ASSERT_FALSE(data.ok());
  EXPECT_EQ(data.error().code, ErrorCode::kNotFound);
  EXPECT_NE(data.error().message.find(dir.path().string()), std::string::npos);
}

}  // namespace
}  // namespace fl::models
