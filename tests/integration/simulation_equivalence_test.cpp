// `fl-coordinator simulate` and `fl-coordinator run` are one round engine: the same seed, data
// shares, keys and settings give the same global model, bit for bit, whether the workers are
// virtual (in-process) or real fl-worker processes on loopback.
#include "federation_fixture.hpp"
#include "fl/common/model_file.hpp"
#include "fl/coordinator/simulation/simulator.hpp"

namespace fl {
namespace {

TEST_F(Federation, SimulationAndRealFederationGiveTheSameGlobalModel) {
  constexpr int kWorkers = 3, kRounds = 2, kMaxSamples = 600;
  coordinator::SweepConfig sweep;
  sweep.name = "equivalence";
  sweep.model = "mlp";
  sweep.seed = 7;  // the fixture's job seed
  sweep.rounds = kRounds;
  sweep.workers = kWorkers;
  sweep.threads = 1;
  sweep.max_samples_per_worker = kMaxSamples;
  sweep.eval_limit = 200;
  sweep.training.batch_size = 32;  // the fixture's [training]
  sweep.training.learning_rate = 0.05;
  auto data = coordinator::load_simulation_data(sweep.data_dir);
  ASSERT_TRUE(data.ok()) << data.error().to_string();
  // The jobs' default rule, which the real federation below runs.
  auto simulated = coordinator::run_setting(sweep, {"median", coordinator::ByzantineAttack::kNone, 0, "iid"}, **data);
  ASSERT_TRUE(simulated.ok()) << simulated.error().to_string();

  JobSpec spec;
  spec.rounds = kRounds;
  spec.min_workers = kWorkers;
  write_config(spec);
  for (int k = 0; k < kWorkers; ++k) {
    ASSERT_TRUE(common::save_key_file(dir_ / ("w" + std::to_string(k) + ".key"),
                                      coordinator::virtual_worker_key(sweep.seed, k))
                    .ok());
  }
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < kWorkers; ++k) {
    workers.push_back(start_worker(k, kWorkers, endpoint, kMaxSamples, {},
                                   {"--partitioner", "iid", "--partition-seed", "7", "--threads", "1"}));
  }
  ASSERT_EQ(coordinator.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  auto global = common::load_model_file(run_ / "global.flm");
  ASSERT_TRUE(global.ok());
  EXPECT_EQ(global->header.round, static_cast<std::uint64_t>(kRounds));
  EXPECT_GT(simulated->final_accuracy, 0.5);  // the models trained: equal digests are no accident
  EXPECT_EQ(common::to_hex(global->header.digest), common::to_hex(simulated->final_model_digest));
}

}  // namespace
}  // namespace fl
