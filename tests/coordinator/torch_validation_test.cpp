// The coordinator's torch validation set (scoring/torch_validation.hpp): per-example outputs of
// the global model and of each update, as output_shapley reads them, split over model replicas
// on parallel threads and in turn, and the same as predicting with the model directly.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <optional>
#include <random>

#include "fl/models/model.hpp"
#include "fl/models/train.hpp"
#include "scoring/torch_validation.hpp"

namespace fl::coordinator {
namespace {

models::Dataset small_images(std::int64_t n) {
  torch::manual_seed(3);
  models::Dataset d;
  d.images = torch::randn({n, 1, 28, 28});
  d.labels = torch::randint(0, 10, {n}, torch::kInt64);
  d.input_shape = {1, 28, 28};
  d.num_classes = 10;
  return d;
}

std::unique_ptr<models::Model> mlp() {
  auto m = models::make_model("mlp", 7);
  EXPECT_TRUE(m.ok());
  return std::move(*m);
}

struct Round {
  std::vector<float> global;
  std::vector<std::vector<float>> updates;
  std::vector<std::span<const float>> spans;
  Round() {
    global = mlp()->flat_parameters();
    std::mt19937_64 rng(5);
    std::normal_distribution<float> n(0.0f, 0.01f);
    for (int i = 0; i < 5; ++i) {
      std::vector<float> u(global.size());
      for (auto& x : u) x = n(rng);
      updates.push_back(std::move(u));
    }
    spans.assign(updates.begin(), updates.end());
  }
};

TEST(TorchValidation, OutputsAreTheLogitsOfTheGlobalAndOfEachUpdateAppliedInParallelOrInTurn) {
  const auto data = small_images(60);
  const Round r;
  const common::TrainingSettings training;
  auto parallel = make_validation_oracle(mlp(), data, training, 1, 2);
  auto in_turn = make_validation_oracle(mlp(), data, training, 1, 1);
  auto a = parallel->outputs(r.global, r.spans, 0.5, 40, 3);
  auto b = in_turn->outputs(r.global, r.spans, 0.5, 40, std::nullopt);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(a->examples, 40);  // the first 40 asked for
  EXPECT_EQ(a->classes, 10);
  ASSERT_EQ(a->changes.size(), 5u);
  EXPECT_EQ(a->labels.size(), 40u);

  // The same as the model's own predictions on those examples.
  auto model = mlp();
  models::Dataset first = data;
  first.images = data.images.narrow(0, 0, 40);
  first.labels = data.labels.narrow(0, 0, 40);
  ASSERT_TRUE(model->set_flat_parameters(r.global).ok());
  auto base = models::predict_logits(*model, first);
  ASSERT_TRUE(base.ok());
  ASSERT_EQ(base->size(), a->base.size());
  for (std::size_t k = 0; k < base->size(); ++k) ASSERT_NEAR((*base)[k], a->base[k], 1e-5) << k;
  for (std::size_t i = 0; i < 5; ++i) {
    std::vector<float> p = r.global;
    for (std::size_t k = 0; k < p.size(); ++k) p[k] += 0.5f * r.updates[i][k];
    ASSERT_TRUE(model->set_flat_parameters(p).ok());
    auto moved = models::predict_logits(*model, first);
    ASSERT_TRUE(moved.ok());
    for (std::size_t k = 0; k < moved->size(); ++k) {
      ASSERT_NEAR((*moved)[k] - (*base)[k], a->changes[i][k], 1e-4) << i << " " << k;
      ASSERT_NEAR(a->changes[i][k], b->changes[i][k], 1e-5) << i << " " << k;
    }
  }
  EXPECT_EQ(a->labels, b->labels);

  // Round 3's reference, trained alongside the passes on all 60 examples, as reference_update
  // trains it; only when asked for, and remembered for the round.
  EXPECT_TRUE(b->reference.empty());
  auto reference = in_turn->reference_update(r.global, 3);
  ASSERT_TRUE(reference.ok());
  ASSERT_EQ(a->reference.size(), r.global.size());
  for (std::size_t k = 0; k < reference->size(); ++k) ASSERT_NEAR(a->reference[k], (*reference)[k], 1e-5) << k;
  auto remembered = parallel->reference_update(r.global, 3);
  ASSERT_TRUE(remembered.ok());
  EXPECT_EQ(*remembered, a->reference);

  // Asked again (the pool's threads are reused), the same outputs.
  auto again = parallel->outputs(r.global, r.spans, 0.5, 40, 3);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->changes, a->changes);
  EXPECT_EQ(again->reference, a->reference);
}

TEST(TorchValidation, AnUpdateOfTheWrongSizeIsRefusedWithAMessage) {
  const auto data = small_images(20);
  Round r;
  r.updates[2].resize(10);
  r.spans.assign(r.updates.begin(), r.updates.end());
  auto oracle = make_validation_oracle(mlp(), data, common::TrainingSettings{}, 1, 2);
  auto refused = oracle->outputs(r.global, r.spans, 1.0, 20, 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("validation set's outputs"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace fl::coordinator
