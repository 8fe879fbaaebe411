// Data provenance end to end with the real binaries: fl-worker fingerprint commits to the local
// share, the commitment is registered on a ledger, fl-worker prove-example proves examples in
// and out of it, and fl-ledger check-example checks those proofs against the recorded root.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "fl/common/dataset_commitment.hpp"
#include "fl/common/npy.hpp"
#include "ledger/ledger_fixture.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl {
namespace {

struct CommandRun {
  int code = -1;
  std::string out, err;
};

class DataProvenance : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_gaussian_csv(dir_ / "sensors.csv", 60, 4, {"ok", "drift", "fault"}, 7);
  }

  CommandRun run(const std::string& binary, const std::string& args) {
    const auto out = dir_ / "out.txt", err = dir_ / "err.txt";
    const std::string cmd =
        test::binary(binary) + " " + args + " >" + out.string() + " 2>" + err.string();
    const int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, test::read_file(out),
            test::read_file(err)};
  }
  std::string data(const std::string& part = "0/2") const {
    return "--data 'csv:" + (dir_ / "sensors.csv").string() + "?label=species' --partition " +
           part + " --partition-seed 5";
  }
  std::string fingerprint(const std::string& part = "0/2") {
    const auto r = run("fl-worker", "fingerprint " + data(part));
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out.substr(0, r.out.find('\n'));
  }
  CommandRun prove(const std::string& query, const std::string& out,
                   const std::string& part = "0/2") {
    return run("fl-worker",
               "prove-example " + data(part) + " " + query + " --out " + (dir_ / out).string());
  }
  CommandRun check(const std::string& proof, int worker = 0) {
    return run("fl-ledger", "check-example --db " + db_.string() + " --worker " +
                                common::to_hex(test::worker_key(worker).public_key) + " --proof " +
                                (dir_ / proof).string());
  }
  // A ledger on which worker 0 registered `fp` (with a round it took part in).
  void register_worker(const std::string& fp) {
    auto led = std::move(ledger::Ledger::open(db_)).value();
    ASSERT_TRUE(led->initialize(test::authority_key()).ok());
    const auto w = test::worker_key(0);
    const ledger::RegistrationRecord reg{
        w.public_key, fp, 1000,
        common::sign(w.secret_key, common::registration_digest(w.public_key, fp, 1000))};
    auto receipts =
        led->record_round(test::authority_key(), test::researcher_key(), test::job_record(),
                          std::vector{reg}, test::round_record(1, {0}, {0.9}));
    ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  }

  test::TempDir dir_{"fl-provenance-cli"};
  std::filesystem::path db_ = dir_ / "ledger.db";
};

TEST_F(DataProvenance, FingerprintIsAStableCommitmentToTheLocalShare) {
  const auto fp = fingerprint();
  auto commitment = common::parse_dataset_commitment(fp);
  ASSERT_TRUE(commitment.ok()) << fp;
  EXPECT_GT(commitment->count, 0u);
  EXPECT_LT(commitment->count, 60u);  // part 0 of 2 of the 60 rows
  EXPECT_EQ(fingerprint(), fp);
  EXPECT_NE(fingerprint("1/2"), fp);
}

TEST_F(DataProvenance, LedgerConfirmsAnExampleTheWorkerTrainedOn) {
  register_worker(fingerprint());
  const auto proved = prove("--index 3", "in.json");
  ASSERT_EQ(proved.code, 0) << proved.err;
  EXPECT_TRUE(proved.out.starts_with("included: example ")) << proved.out;
  const auto checked = check("in.json");
  EXPECT_EQ(checked.code, 0) << checked.err;
  EXPECT_TRUE(checked.out.starts_with("included: example ")) << checked.out;
}

TEST_F(DataProvenance, LedgerConfirmsAnExampleFileWasNotInTheData) {
  register_worker(fingerprint());
  ASSERT_EQ(prove("--index 0 --save-example " + (dir_ / "ex.npy").string(), "in.json").code, 0);
  auto example = common::read_npy(dir_ / "ex.npy");
  ASSERT_TRUE(example.ok()) << example.error().to_string();
  int included = 0;  // the saved example with its own label, and no other, is in the data
  for (int label = 0; label < 3; ++label) {
    const auto r =
        prove("--example " + (dir_ / "ex.npy").string() + " --label " + std::to_string(label),
              "file.json");
    ASSERT_EQ(r.code, 0) << r.err;
    included += r.out.starts_with("included") ? 1 : 0;
  }
  EXPECT_EQ(included, 1);
  example->values[1] += 0.5f;
  ASSERT_TRUE(common::write_npy(dir_ / "other.npy", example->values, example->shape).ok());
  const auto proved =
      prove("--example " + (dir_ / "other.npy").string() + " --label 0", "out.json");
  ASSERT_EQ(proved.code, 0) << proved.err;
  EXPECT_TRUE(proved.out.starts_with("not included")) << proved.out;
  const auto checked = check("out.json");
  EXPECT_EQ(checked.code, 0) << checked.err;
  EXPECT_TRUE(checked.out.starts_with("not included: example ")) << checked.out;
}

TEST_F(DataProvenance, ForgedProofFailsNamingWhatDidNotVerify) {
  register_worker(fingerprint());
  ASSERT_EQ(prove("--index 3", "in.json").code, 0);
  auto text = test::read_file(dir_ / "in.json");
  const auto at = text.find("\"example\": \"") + 12;
  text[at] = text[at] == '0' ? '1' : '0';
  test::write_file(dir_ / "forged.json", text);
  const auto checked = check("forged.json");
  EXPECT_EQ(checked.code, 1);
  EXPECT_NE(checked.err.find("example proof does not verify"), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find("is not the example digest"), std::string::npos) << checked.err;
}

TEST_F(DataProvenance, ProofOverOtherDataFailsAgainstTheRecordedRoot) {
  register_worker(fingerprint());
  ASSERT_EQ(prove("--index 3", "other.json", "1/2").code, 0);
  const auto checked = check("other.json");
  EXPECT_EQ(checked.code, 1);
  // Another share differs in its root (and maybe its size) from the committed tree.
  EXPECT_NE(checked.err.find("example proof does not verify"), std::string::npos) << checked.err;
  EXPECT_NE(checked.err.find("the committed "), std::string::npos) << checked.err;
}

TEST_F(DataProvenance, CheckingAWorkerWithoutARegistrationSaysSo) {
  register_worker(fingerprint());
  ASSERT_EQ(prove("--index 3", "in.json").code, 0);
  const auto checked = check("in.json", 1);
  EXPECT_EQ(checked.code, 1);
  EXPECT_NE(checked.err.find("has no registration"), std::string::npos) << checked.err;
}

TEST_F(DataProvenance, ProveExampleRefusesAnIndexOutsideTheLocalData) {
  const auto count = std::to_string(common::parse_dataset_commitment(fingerprint()).value().count);
  const auto r = prove("--index " + count, "x.json");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--index " + count + ": the local data has " + count + " examples"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace fl
