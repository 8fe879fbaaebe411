#include "fl/coordinator/simulation/sweep_config.hpp"

#include <gtest/gtest.h>

namespace fl::coordinator {
namespace {

constexpr const char* kSweep = R"(
[simulation]
model = "mlp"
workers = 10
rounds = 3
[sweep]
rules = ["fedavg", "median"]
attacks = ["none", "sign_flip", "alie"]
byzantine = [0, 3]
partitions = ["dirichlet:1.0"]
)";

Result<SweepConfig> parse(const std::string& text) {
  return parse_sweep_config(text, "sweep.toml", "/base");
}

TEST(SweepConfig, ReadsTheListsToSweep) {
  auto c = parse(kSweep);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->rules, (std::vector<std::string>{"fedavg", "median"}));
  EXPECT_EQ(c->attacks, (std::vector<ByzantineAttack>{ByzantineAttack::kNone,
                                                      ByzantineAttack::kSignFlip,
                                                      ByzantineAttack::kAlie}));
  EXPECT_EQ(c->byzantine_counts, (std::vector<int>{0, 3}));
  EXPECT_EQ(c->output_dir, std::filesystem::path("/base/runs/sweep"));
}

TEST(SweepConfig, ReadsTheScorerAndRejectsAnUnknownOne) {
  auto c = parse(kSweep);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->scoring.scorer, "cosine");
  auto bad = parse(std::string(kSweep) + "[scoring]\nscorer = \"shapley\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("scoring.scorer"), std::string::npos) << bad.error().message;
}

TEST(SweepConfig, ReadsTheShapleyReferenceAndTheDefaultBounds) {
  auto c = parse(kSweep);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_FALSE(c->shapley_reference);
  EXPECT_EQ(c->shapley_eval_limit, 0);  // the whole held-out test split
  EXPECT_EQ(c->close.bounds.weighting, SampleWeighting::kBacked);
  EXPECT_EQ(c->close.bounds.norm_multiple, 1.0);
  std::string text = kSweep;
  text.replace(text.find("rounds = 3\n"), 11, "rounds = 3\nshapley_reference = true\nshapley_eval_limit = 4000\n");
  auto with = parse(text);
  ASSERT_TRUE(with.ok()) << with.error().message;
  EXPECT_TRUE(with->shapley_reference);
  EXPECT_EQ(with->shapley_eval_limit, 4000);
  text.replace(text.find("4000"), 4, "-1");
  EXPECT_FALSE(parse(text).ok());
}

TEST(SweepConfig, TrainingSectionUsesTheSharedReaderAndBounds) {
  auto c = parse(std::string(kSweep) + "[training]\nepochs = 2\nmax_steps = 5\n");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->training.epochs, 2);
  EXPECT_EQ(c->training.max_steps, 5);
  EXPECT_EQ(c->training.batch_size, 32);  // the sweep's default
  EXPECT_FALSE(parse(std::string(kSweep) + "[training]\nmomentum = 1.0\n").ok());
}

TEST(SweepConfig, TorchScriptModelPathResolvesAgainstTheConfigFolder) {
  std::string text = kSweep;
  text.replace(text.find("model = \"mlp\""), 13, "model = \"torchscript:m.pt\"");
  auto c = parse(text);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->model, "torchscript:/base/m.pt");
}

TEST(SweepConfig, ExpandsToEveryRunExceptAttacksWithoutByzantineWorkers) {
  auto c = parse(kSweep);
  ASSERT_TRUE(c.ok()) << c.error().message;
  const auto settings = expand_sweep(*c);
  // f=0: none x 2 rules; f=3: 3 attacks x 2 rules.
  ASSERT_EQ(settings.size(), 8u);
  EXPECT_EQ(settings[0].id(), "fedavg/none/f0/dirichlet:1.0");
  EXPECT_EQ(settings[7].id(), "median/alie/f3/dirichlet:1.0");
}

TEST(SweepConfig, RejectsAnUnknownKeyByName) {
  auto c = parse(std::string(kSweep) + "[attack]\nipm_epsilom = 2.0\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("attack.ipm_epsilom"), std::string::npos) << c.error().message;
}

TEST(SweepConfig, RejectsAnUnknownAttackWithItsIndex) {
  std::string text = kSweep;
  text.replace(text.find("\"alie\""), 6, "\"alie2\"");
  auto c = parse(text);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("sweep.attacks[2]"), std::string::npos) << c.error().message;
}

TEST(SweepConfig, RejectsARuleSpecTheAggregationLibraryRefuses) {
  std::string text = kSweep;
  text.replace(text.find("\"median\""), 8, "\"medain\"");
  auto c = parse(text);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("sweep.rules[1]"), std::string::npos) << c.error().message;
}

TEST(SweepConfig, RejectsMoreByzantineWorkersThanWorkers) {
  std::string text = kSweep;
  text.replace(text.find("[0, 3]"), 6, "[0, 10]");
  auto c = parse(text);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("sweep.byzantine[1]"), std::string::npos) << c.error().message;
}

TEST(SweepConfig, RejectsASignFlipThatDoesNotFlipTheSign) {
  auto c = parse(std::string(kSweep) + "[attack]\nsign_flip_scale = 2.0\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("attack.sign_flip_scale"), std::string::npos)
      << c.error().message;
}

TEST(SweepConfig, UsesTheFormulaForAlieUnlessZIsGiven) {
  auto formula = parse(kSweep);
  ASSERT_TRUE(formula.ok());
  EXPECT_TRUE(formula->attack.alie_z_from_formula);
  auto fixed = parse(std::string(kSweep) + "[attack]\nalie_z = 1.5\n");
  ASSERT_TRUE(fixed.ok()) << fixed.error().message;
  EXPECT_FALSE(fixed->attack.alie_z_from_formula);
  EXPECT_DOUBLE_EQ(fixed->attack.alie_z, 1.5);
}

}  // namespace
}  // namespace fl::coordinator
