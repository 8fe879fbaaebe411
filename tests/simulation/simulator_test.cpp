// Short simulations on the real Fashion-MNIST files: few workers, few rounds, capped data.
#include "fl/coordinator/simulation/simulator.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "fl/coordinator/simulation/simulation.hpp"
#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

constexpr const char* kDataDir = "/usr/share/datasets/fashion-mnist";

// 10 workers, 3 of them Byzantine, 300 examples each, 8 rounds, 1000 test examples.
constexpr const char* kSmallSweep = R"(
[simulation]
model = "mlp"
seed = 7
rounds = 8
workers = 10
threads = 2
[data]
dir = "/usr/share/datasets/fashion-mnist"
max_samples_per_worker = 300
eval_limit = 1000
[training]
batch_size = 32
learning_rate = 0.1
[attack]
sign_flip_scale = -4.0
[sweep]
rules = ["fedavg", "median"]
attacks = ["sign_flip"]
byzantine = [3]
partitions = ["dirichlet:1.0"]
)";

class SimulatorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto data = load_simulation_data(kDataDir);
    ASSERT_TRUE(data.ok()) << data.error().message;
    data_ = std::move(*data);
  }
  static void TearDownTestSuite() { data_.reset(); }

  static SweepConfig config(const std::string& text = kSmallSweep) {
    auto c = parse_sweep_config(text, "small.toml", ".");
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? *c : SweepConfig{};
  }
  static SettingResult run(const SweepConfig& c, const SimulationSetting& s) {
    auto r = run_setting(c, s, *data_);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : SettingResult{};
  }

  static std::shared_ptr<const SimulationData> data_;
};
std::shared_ptr<const SimulationData> SimulatorTest::data_;

TEST_F(SimulatorTest, MedianBeatsFedAvgUnderSignFlipping) {
  // With norms bounded at 3x the median, the flipped updates reach fedavg at 3x strength (the
  // default bound, at the median norm, holds them to an honest update's length).
  auto c = config();
  c.close.bounds.norm_multiple = 3;
  const auto fedavg = run(c, {"fedavg", ByzantineAttack::kSignFlip, 3, "dirichlet:1.0"});
  const auto median = run(c, {"median", ByzantineAttack::kSignFlip, 3, "dirichlet:1.0"});
  ASSERT_EQ(median.rounds.size(), 8u);
  EXPECT_GT(median.final_accuracy, 0.5) << "fedavg " << fedavg.final_accuracy;
  EXPECT_GT(median.final_accuracy, fedavg.final_accuracy + 0.2)
      << "fedavg " << fedavg.final_accuracy << ", median " << median.final_accuracy;
}

TEST_F(SimulatorTest, GivesTheSameRoundsWithOneThreadAsWithTwo) {
  auto c = config();
  c.rounds = 2;
  const SimulationSetting s{"median", ByzantineAttack::kSignFlip, 3, "dirichlet:1.0"};
  const auto two = run(c, s);
  c.threads = 1;
  const auto one = run(c, s);
  ASSERT_EQ(one.rounds.size(), two.rounds.size());
  for (std::size_t i = 0; i < one.rounds.size(); ++i) {
    EXPECT_EQ(one.rounds[i].test_accuracy, two.rounds[i].test_accuracy) << "round " << i + 1;
    EXPECT_EQ(one.rounds[i].test_loss, two.rounds[i].test_loss) << "round " << i + 1;
  }
}

TEST_F(SimulatorTest, ScoresEveryRoundsContributions) {
  auto c = config();
  c.rounds = 1;
  const auto r = run(c, {"median", ByzantineAttack::kSignFlip, 3, "dirichlet:1.0"});
  ASSERT_EQ(r.rounds.size(), 1u);
  // 10 accepted updates, 3 of them sign-flipped (score 0): the top share is in [1/7, 1].
  EXPECT_GE(r.rounds[0].top_score_share, 1.0 / 7 - 1e-9);
  EXPECT_LE(r.rounds[0].top_score_share, 1.0);
}

TEST_F(SimulatorTest, DropsNonFiniteUpdatesLikeTheCoordinatorsValidator) {
  auto c = config();
  c.rounds = 1;
  c.attack.scaled_factor = 1e39;  // overflows float: every attacker's update is +-inf
  const auto r = run(c, {"fedavg", ByzantineAttack::kScaled, 3, "dirichlet:1.0"});
  ASSERT_EQ(r.rounds.size(), 1u);
  EXPECT_EQ(r.rounds[0].rejected, 3);
  EXPECT_EQ(r.rounds[0].accepted, 7);
  EXPECT_GT(r.rounds[0].test_accuracy, 0.3);
}

TEST_F(SimulatorTest, OmniscientAttacksRunOnTheRoundsHonestUpdates) {
  auto c = config();
  c.rounds = 2;
  for (auto attack : {ByzantineAttack::kAlie, ByzantineAttack::kIpm}) {
    const auto r = run(c, {"trimmed_mean", attack, 3, "dirichlet:1.0"});
    ASSERT_EQ(r.rounds.size(), 2u) << to_string(attack);
    EXPECT_EQ(r.rounds[1].accepted, 10) << to_string(attack);
    EXPECT_EQ(r.rule_name, "trimmed_mean(f=3)");
  }
}

std::vector<std::string> lines_of(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST_F(SimulatorTest, RunSimulationWritesRoundsSummaryAndPlots) {
  test::TempDir dir("fl-sim");
  std::string text = kSmallSweep;
  text.replace(text.find("rounds = 8"), 10, "rounds = 2");
  text.replace(text.find("[\"sign_flip\"]"), 13, "[\"none\", \"gaussian\"]");
  test::write_file(dir / "sweep.toml", text);
  SimulationOverrides overrides;
  overrides.output_dir = dir / "out";
  overrides.show_progress = false;
  auto status = run_simulation(dir / "sweep.toml", overrides);
  ASSERT_TRUE(status.ok()) << status.error().message;

  const auto rounds = lines_of(dir / "out" / "rounds.csv");
  ASSERT_EQ(rounds.size(), 1u + 4 * 2);  // header + (2 rules x 2 attacks) x 2 rounds
  EXPECT_EQ(rounds[1].rfind("fedavg/none/f3/dirichlet:1.0,fedavg,fedavg,none,3,", 0), 0u)
      << rounds[1];
  EXPECT_NE(rounds[0].find(",top_score_share,"), std::string::npos) << rounds[0];
  EXPECT_EQ(lines_of(dir / "out" / "summary.csv").size(), 1u + 4);
  const auto summary = test::read_file(dir / "out" / "summary.md");
  EXPECT_NE(summary.find("A0 (clean FedAvg"), std::string::npos) << summary;
  EXPECT_NE(summary.find("| median |"), std::string::npos) << summary;
  EXPECT_EQ(test::read_file(dir / "out" / "config.toml"), text);
  for (const char* plot : {"none_f3_dirichlet_1.0.svg", "gaussian_f3_dirichlet_1.0.svg"}) {
    const auto svg = test::read_file(dir / "out" / "plots" / plot);
    EXPECT_EQ(svg.rfind("<svg", 0), 0u) << plot;
    EXPECT_NE(svg.find("<polyline"), std::string::npos) << plot;
  }
}

TEST_F(SimulatorTest, SummaryAndPlotsMarkARuleThatRefusedEveryRound) {
  // Bulyan needs n >= 4f + 3 = 15 updates; with 10 workers it refuses every round.
  test::TempDir dir("fl-sim");
  std::string text = kSmallSweep;
  text.replace(text.find("rounds = 8"), 10, "rounds = 2");
  text.replace(text.find("[\"fedavg\", \"median\"]"), 20, "[\"fedavg\", \"bulyan\"]");
  text.replace(text.find("[\"sign_flip\"]"), 13, "[\"none\"]");
  test::write_file(dir / "sweep.toml", text);
  SimulationOverrides overrides;
  overrides.output_dir = dir / "out";
  overrides.show_progress = false;
  auto status = run_simulation(dir / "sweep.toml", overrides);
  ASSERT_TRUE(status.ok()) << status.error().message;

  const auto summary = test::read_file(dir / "out" / "summary.md");
  EXPECT_NE(summary.find("| bulyan | refused (2 of 2 rounds) | refused |"), std::string::npos)
      << summary;
  EXPECT_NE(summary.find("Within 5 points of A0 under every attack above: `fedavg`."),
            std::string::npos)
      << summary;
  const auto csv = lines_of(dir / "out" / "summary.csv");
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_NE(csv[0].find(",refused_rounds,"), std::string::npos) << csv[0];
  EXPECT_NE(csv[2].find("bulyan,bulyan(f=3),none,3,dirichlet:1.0,2,2,,,"), std::string::npos)
      << csv[2];
  const auto svg = test::read_file(dir / "out" / "plots" / "none_f3_dirichlet_1.0.svg");
  EXPECT_NE(svg.find("class=\"refused\""), std::string::npos);
  EXPECT_NE(svg.find("bulyan (refused all)"), std::string::npos);
}

TEST_F(SimulatorTest, RunSimulationRejectsAFilterThatMatchesNothing) {
  test::TempDir dir("fl-sim");
  test::write_file(dir / "sweep.toml", kSmallSweep);
  SimulationOverrides overrides;
  overrides.output_dir = dir / "out";
  overrides.show_progress = false;
  overrides.filter = "krum";
  auto status = run_simulation(dir / "sweep.toml", overrides);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("no setting matches filter 'krum'"), std::string::npos);
}

}  // namespace
}  // namespace fl::coordinator
