// The coordinator ships a TorchScript job's model file: tasks name its digest, and a registered
// worker that asks by that digest gets the bytes; anyone else gets a reason, not the file.
#include "fl/coordinator/model_shipping.hpp"

#include <gtest/gtest.h>

#include <atomic>

#include "fake_worker_channel.hpp"

namespace fl::coordinator {
namespace {

using common::MessageType;

class ModelShipping : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_file(dir_ / "m.pt", "pretend TorchScript bytes");
    settings_.job_id = "job";
    settings_.model = "torchscript:" + (dir_ / "m.pt").string();
    settings_.layout = test::small_layout();
    ASSERT_TRUE(attach_model_file(settings_).ok());
    registry_ = std::make_unique<WorkerRegistry>(true, std::vector<common::PublicKey>{});
    engine_ = std::make_unique<RoundEngine>(settings_, channel_, *registry_, coordinator_, stop_);
  }

  // Serves what is queued and returns the model file replies sent.
  std::vector<test::FakeWorkerChannel::Sent> serve() {
    for (int i = 0; i < 4; ++i) engine_->pump(std::chrono::milliseconds(1));
    return channel_.sent_of_type(MessageType::kModelFileReply);
  }

  test::TempDir dir_;
  EngineSettings settings_;
  test::FakeWorkerChannel channel_;
  std::unique_ptr<WorkerRegistry> registry_;
  std::unique_ptr<RoundEngine> engine_;
  common::KeyPair coordinator_ = common::key_pair_from_label("coordinator");
  std::atomic<bool> stop_{false};
  test::FakeWorker worker_{"w0"};
};

TEST_F(ModelShipping, TasksNameTheDigestOfTheFile) {
  EXPECT_EQ(settings_.task_template.model_file_digest,
            common::blake2b_256(std::string_view("pretend TorchScript bytes")));
}

TEST_F(ModelShipping, ARegisteredWorkerGetsTheBytesByDigest) {
  worker_.join(channel_);
  channel_.push_typed(worker_.peer, MessageType::kModelFileRequest,
                      common::ModelFileRequest{settings_.task_template.model_file_digest});
  const auto replies = serve();
  ASSERT_EQ(replies.size(), 1u);
  auto reply = replies[0].header_as<common::ModelFileReply>();
  ASSERT_TRUE(reply.ok());
  EXPECT_TRUE(reply->found);
  EXPECT_EQ(std::string(replies[0].payload.begin(), replies[0].payload.end()),
            "pretend TorchScript bytes");
}

TEST_F(ModelShipping, AnotherDigestGetsAReasonAndNoBytes) {
  worker_.join(channel_);
  channel_.push_typed(worker_.peer, MessageType::kModelFileRequest, common::ModelFileRequest{});
  const auto replies = serve();
  ASSERT_EQ(replies.size(), 1u);
  auto reply = replies[0].header_as<common::ModelFileReply>();
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->found);
  EXPECT_NE(reply->reason.find("serves no model file with digest"), std::string::npos);
  EXPECT_TRUE(replies[0].payload.empty());
}

TEST_F(ModelShipping, AnUnregisteredPeerIsToldToRegister) {
  channel_.push_typed("stranger", MessageType::kModelFileRequest,
                      common::ModelFileRequest{settings_.task_template.model_file_digest});
  EXPECT_TRUE(serve().empty());
  const auto errors = channel_.sent_of_type(MessageType::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].header_as<common::ErrorMessage>()->reason.find("register first"),
            std::string::npos);
}

TEST_F(ModelShipping, AMissingFileIsNamed) {
  EngineSettings s;
  s.model = "torchscript:/nowhere/m.pt";
  const auto attached = attach_model_file(s);
  ASSERT_FALSE(attached.ok());
  EXPECT_NE(attached.error().message.find("/nowhere/m.pt"), std::string::npos);
}

}  // namespace
}  // namespace fl::coordinator
