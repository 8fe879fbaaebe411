// A round task the worker cannot do (its model does not fit the local 16x16 data) is reported to
// the coordinator as a TaskError naming the problem, and the worker keeps serving rounds.
#include <gtest/gtest.h>

#include "fake_coordinator.hpp"
#include "fl/common/crypto.hpp"
#include "fl/models/model.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl {
namespace {

using namespace std::chrono_literals;
using common::MessageType;

class WorkerRounds : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(common::save_key_file(dir_ / "w.key", common::generate_key_pair()).ok());
    test::write_idx_dataset(dir_ / "data", 30, 16, 16, 3);
    worker_.emplace(
        std::vector<std::string>{test::binary("fl-worker"), "run", "--coordinator",
                                 coordinator_.endpoint(), "--key", (dir_ / "w.key").string(),
                                 "--data", (dir_ / "data").string(), "--device", "cpu", "--threads",
                                 "1", "--connect-timeout", "60", "--coordinator-key",
                                 coordinator_.key_hex()},
        log_);
    auto identity = coordinator_.take_registration("job-1", true, "", 60s);
    ASSERT_TRUE(identity) << log();
    identity_ = *identity;
  }

  // A task to train the zoo's mlp (784 inputs, for 28x28 images) from its initial parameters.
  void send_mlp_task(std::uint64_t round, int epochs = 1) {
    auto model = std::move(models::make_model("mlp", 1)).value();
    const auto params = model->flat_parameters();
    common::RoundTask task;
    task.job_id = "job-1";
    task.round = round;
    task.model = "mlp";
    task.layout = model->layout();
    task.model_digest = common::digest_of(params);
    task.deadline_ms = common::now_ms() + 60'000;
    task.training.epochs = epochs;
    coordinator_.send_task(identity_, task, common::as_bytes(params));
  }

  common::TaskError await_task_error() {
    auto msg = coordinator_.await(MessageType::kTaskError, 60s);
    EXPECT_TRUE(msg) << log();
    if (!msg) return {};
    auto error = common::decode<common::TaskError>(msg->header_bytes());
    EXPECT_TRUE(error.ok());
    return error.ok() ? *error : common::TaskError{};
  }

  std::string log() const { return test::read_file(log_); }

  test::TempDir dir_{"fl-worker-rounds"};
  std::filesystem::path log_ = dir_ / "worker.log";
  test::FakeCoordinator coordinator_;
  std::optional<test::ChildProcess> worker_;
  std::string identity_;
};

TEST_F(WorkerRounds, ReportsATaskErrorNamingAModelThatDoesNotFitItsData) {
  send_mlp_task(1);
  const auto error = await_task_error();
  EXPECT_EQ(error.job_id, "job-1");
  EXPECT_EQ(error.round, 1u);
  EXPECT_NE(error.reason.find("built for the local data ([1,16,16], 3 classes)"), std::string::npos)
      << error.reason;
  EXPECT_TRUE(worker_->running()) << log();
}

TEST_F(WorkerRounds, KeepsServingRoundsAfterATaskErrorUntilShutdown) {
  send_mlp_task(1);
  EXPECT_EQ(await_task_error().round, 1u);
  send_mlp_task(2);
  EXPECT_EQ(await_task_error().round, 2u);
  coordinator_.shutdown(identity_, "job-1", "done");
  EXPECT_EQ(worker_->wait(30s), 0) << log();
}

TEST_F(WorkerRounds, RefusesATaskAskingForMoreEpochsThanItAllowsNamingTheBound) {
  send_mlp_task(1, 500);
  const auto error = await_task_error();
  EXPECT_NE(error.reason.find("epochs 500; this worker allows at most 20 (--max-epochs)"), std::string::npos)
      << error.reason;
  EXPECT_TRUE(worker_->running()) << log();
}

TEST_F(WorkerRounds, IgnoresAShutdownNotSignedByThePinnedCoordinator) {
  common::Shutdown forged{"job-1", "go home", {}};
  common::sign_shutdown(forged, common::key_pair_from_label("impostor").secret_key);
  coordinator_.send(identity_, MessageType::kShutdown, forged);
  ASSERT_TRUE(test::wait_until([&] { return log().find("ignoring a shutdown not signed") != std::string::npos; }, 30s))
      << log();
  EXPECT_TRUE(worker_->running()) << log();
  coordinator_.shutdown(identity_, "job-1", "done");
  EXPECT_EQ(worker_->wait(30s), 0) << log();
}

TEST_F(WorkerRounds, IgnoresATaskNotSignedByThePinnedCoordinator) {
  auto model = std::move(models::make_model("mlp", 1)).value();
  const auto params = model->flat_parameters();
  common::RoundTask task;
  task.job_id = "job-1";
  task.round = 1;
  task.model = "mlp";
  task.layout = model->layout();
  task.model_digest = common::digest_of(params);
  task.deadline_ms = common::now_ms() + 60'000;
  common::sign_round_task(task, common::key_pair_from_label("impostor").secret_key);
  coordinator_.send(identity_, MessageType::kRoundTask, task, common::as_bytes(params));
  ASSERT_TRUE(test::wait_until([&] { return log().find("ignoring a task not signed") != std::string::npos; }, 30s))
      << log();
  EXPECT_FALSE(coordinator_.await(MessageType::kTaskError, 500ms));
}

// A TorchScript task names its file by digest: the worker asks for it, and bytes that do not
// hash to the digest (or a coordinator that cannot send them) become a task error.
TEST_F(WorkerRounds, FetchesTheModelFileByDigestAndRefusesBytesThatDoNotMatchIt) {
  common::RoundTask task;
  task.job_id = "job-1";
  task.round = 1;
  task.model = "torchscript:/on/the/coordinator/m.pt";
  task.model_file_digest = common::blake2b_256(std::string_view("the real file"));
  task.layout = test::small_layout();
  task.deadline_ms = common::now_ms() + 60'000;
  const std::vector<float> params(9, 0.0f);
  task.model_digest = common::digest_of(params);
  coordinator_.send_task(identity_, task, common::as_bytes(params));

  auto request = coordinator_.await(MessageType::kModelFileRequest, 60s);
  ASSERT_TRUE(request) << log();
  auto asked = common::decode<common::ModelFileRequest>(request->header_bytes());
  ASSERT_TRUE(asked.ok());
  EXPECT_EQ(asked->file_digest, task.model_file_digest);
  const std::string forged = "not the real file";
  coordinator_.send(identity_, MessageType::kModelFileReply,
                    common::ModelFileReply{task.model_file_digest, true, ""},
                    {reinterpret_cast<const std::uint8_t*>(forged.data()), forged.size()});
  const auto error = await_task_error();
  EXPECT_NE(error.reason.find("do not match the digest the task names"), std::string::npos)
      << error.reason;
  EXPECT_TRUE(worker_->running()) << log();
}

}  // namespace
}  // namespace fl
