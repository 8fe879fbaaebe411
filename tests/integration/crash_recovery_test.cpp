// The ledger is the source of truth: the coordinator is killed (SIGKILL, through the engine's
// fault points) at each step of closing a round, restarted, and the job must finish with the
// ledger, the checkpoints and the workers' receipts agreeing: every round recorded once, every
// checkpoint the model the ledger names, every receipt pointing at a block of the final chain.
// Then the run folder's files are damaged in the ways a user does, and the coordinator refuses
// (naming the file) or repairs from what the ledger names; a second coordinator on the folder,
// and SIGTERM, end with clear words.
#include <cstdlib>
#include <fstream>

#include "federation_fixture.hpp"
#include "fl/common/model_file.hpp"
#include "fl/common/tensor_codec.hpp"

namespace fl {
namespace {

// Rounds on the ledger as (round -> model digest hex), failing on a round recorded twice.
std::map<std::uint64_t, std::string> ledger_rounds(const std::filesystem::path& dir) {
  std::map<std::uint64_t, std::string> out;
  for (const auto& r : ledger_json(dir, {"rounds", "itest"})) {
    const auto round = r["round"].get<std::uint64_t>();
    EXPECT_FALSE(out.count(round)) << "round " << round << " recorded twice";
    out[round] = r["model_digest"].get<std::string>();
  }
  return out;
}

std::string model_digest_hex(const std::filesystem::path& file) {
  auto m = common::load_model_file(file);
  EXPECT_TRUE(m.ok()) << file;
  return m.ok() ? common::to_hex(m->header.digest) : "";
}

class CrashRecovery : public Federation {
 protected:
  JobSpec spec() const {
    JobSpec s;
    s.rounds = 3;
    s.min_workers = 2;
    return s;
  }
  // The ledger, the checkpoints, global.flm and the workers' receipts agree.
  void expect_consistent(std::uint64_t rounds) {
    int verify_code = -1;
    const auto verify = ledger_json(dir_, {"verify"}, &verify_code);
    EXPECT_EQ(verify_code, 0) << verify.dump();
    const auto recorded = ledger_rounds(dir_);
    ASSERT_EQ(recorded.size(), rounds);
    for (const auto& [round, digest] : recorded) {
      EXPECT_EQ(model_digest_hex(checkpoint(round)), digest) << "round " << round;
    }
    EXPECT_EQ(model_digest_hex(run_ / "global.flm"), recorded.rbegin()->second);
    std::map<std::uint64_t, std::string> block_hash;
    for (const auto& b : ledger_json(dir_, {"blocks"})) block_hash[b["height"]] = b["hash"];
    for (int k = 0; k < 2; ++k) {
      std::ifstream in(dir_ / ("w" + std::to_string(k) + ".receipts"));
      std::string line;
      int receipts = 0;
      while (std::getline(in, line)) {
        const auto r = nlohmann::json::parse(line);
        const auto height = r["block_height"].get<std::uint64_t>();
        ASSERT_TRUE(block_hash.count(height)) << line;
        EXPECT_EQ(block_hash[height], r["block_hash"].get<std::string>()) << line;
        EXPECT_TRUE(r["proof_verified"].get<bool>()) << line;
        ++receipts;
      }
      EXPECT_GE(receipts, 1) << "worker " << k << " holds no receipt";
    }
  }
  std::filesystem::path checkpoint(std::uint64_t round) const {
    char name[40];
    std::snprintf(name, sizeof name, "round-%06llu.flm", static_cast<unsigned long long>(round));
    return run_ / "checkpoints" / name;
  }
  // Runs the whole job (2 workers) to the end.
  void run_job() {
    write_config(spec());
    auto coordinator = start_coordinator();
    const auto endpoint = wait_for_endpoint();
    std::vector<ChildProcess> workers;
    for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, endpoint));
    ASSERT_EQ(coordinator.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  }
  // Starts the coordinator again on the finished job and returns its exit code and output.
  std::pair<int, std::string> restart() {
    std::filesystem::remove(dir_ / "coordinator.out");
    auto again = start_coordinator();
    const int code = again.wait(120s).value_or(-1);
    return {code, test::read_file(dir_ / "coordinator.out")};
  }
};

class KillWhileClosingARound : public CrashRecovery, public ::testing::WithParamInterface<const char*> {};

TEST_P(KillWhileClosingARound, LosesNothingAndTheJobFinishesConsistently) {
  write_config(spec());
  ::setenv("FL_FAULT_AT", (std::string(GetParam()) + ":2").c_str(), 1);
  auto first = start_coordinator();
  ::unsetenv("FL_FAULT_AT");
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, endpoint));
  const auto died = first.wait(300s);
  ASSERT_EQ(died, -SIGKILL) << test::read_file(dir_ / "coordinator.out");

  std::filesystem::remove(run_ / "endpoint");
  auto second = start_coordinator(endpoint);  // same port: the workers reconnect by themselves
  ASSERT_EQ(second.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(60s), 0);
  expect_consistent(3);
}

INSTANTIATE_TEST_SUITE_P(EveryStep, KillWhileClosingARound,
                         ::testing::Values("collected", "checkpoint", "ledger", "global", "metrics", "receipts"));

TEST_F(CrashRecovery, DamagedRunFoldersAreRefusedOrRepairedFromTheLedger) {
  run_job();
  expect_consistent(3);
  const auto recorded = ledger_rounds(dir_);

  // global.flm deleted: the ledger's last round is finished from its checkpoint.
  std::filesystem::remove(run_ / "global.flm");
  auto [code, out] = restart();
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("was missing"), std::string::npos) << out;
  EXPECT_EQ(model_digest_hex(run_ / "global.flm"), recorded.at(3));

  // global.flm rolled back to round 1: the same repair, and no round is run again.
  std::filesystem::copy_file(checkpoint(1), run_ / "global.flm", std::filesystem::copy_options::overwrite_existing);
  std::tie(code, out) = restart();
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("was at round 1"), std::string::npos) << out;
  EXPECT_EQ(ledger_rounds(dir_).size(), 3u);

  // global.flm replaced by another model for round 3: refused, naming the file.
  auto file = common::load_model_file(run_ / "global.flm");
  ASSERT_TRUE(file.ok());
  file->parameters[0] += 1.0f;
  file->header.digest = common::digest_of(file->parameters);
  ASSERT_TRUE(common::save_model_file(run_ / "global.flm", file->header, file->parameters).ok());
  std::tie(code, out) = restart();
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("global.flm holds model"), std::string::npos) << out;
  EXPECT_NE(out.find("the ledger recorded"), std::string::npos) << out;
  std::filesystem::copy_file(checkpoint(3), run_ / "global.flm", std::filesystem::copy_options::overwrite_existing);

  // The checkpoint gone too: nothing holds the ledger's model, refused naming both files.
  std::filesystem::remove(run_ / "global.flm");
  std::filesystem::rename(checkpoint(3), run_ / "kept.flm");
  std::tie(code, out) = restart();
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("neither"), std::string::npos) << out;
  std::filesystem::rename(run_ / "kept.flm", checkpoint(3));

  // ledger.db deleted: refused, never a silent new ledger.
  std::filesystem::copy_file(checkpoint(3), run_ / "global.flm", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(run_ / "ledger.db", run_ / "ledger.db.kept");
  std::tie(code, out) = restart();
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("ledger.db is missing"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(run_ / "ledger.db"));
}

TEST_F(CrashRecovery, ASecondCoordinatorOnTheSameRunFolderIsRefusedWithTheHoldersPid) {
  write_config(spec());
  auto first = start_coordinator();
  wait_for_endpoint();
  auto second = ChildProcess({test::binary("fl-coordinator"), "run", "--config", (dir_ / "job.toml").string()},
                             dir_ / "second.out");
  EXPECT_EQ(second.wait(60s), 1);
  const auto out = test::read_file(dir_ / "second.out");
  EXPECT_NE(out.find("in use by another coordinator (pid " + std::to_string(first.pid()) + ")"), std::string::npos)
      << out;
  EXPECT_TRUE(first.running());
}

TEST_F(CrashRecovery, SigtermStopsTheCoordinatorWithWordsOnHowToResume) {
  write_config(spec());
  auto coordinator = start_coordinator();
  wait_for_endpoint();
  coordinator.kill(SIGTERM);
  EXPECT_EQ(coordinator.wait(30s), 0);
  const auto out = test::read_file(dir_ / "coordinator.out");
  EXPECT_NE(out.find("stopped by SIGTERM"), std::string::npos) << out;
  EXPECT_NE(out.find("to resume"), std::string::npos) << out;
}

}  // namespace
}  // namespace fl
