// A standby member's answer to workers, over CURVE on 127.0.0.1: every registration is refused
// with the job's current owner key, signed by the standby's own key.
#include <gtest/gtest.h>

#include <zmq.hpp>

#include "fl/common/wire.hpp"
#include "fl/common/zmq_channel.hpp"
#include "fl/coordinator/owner_redirect.hpp"
#include "support/etcd_cluster.hpp"

namespace fl::coordinator {
namespace {

TEST(OwnerRedirect, RefusesEveryRegistrationNamingTheOwnerAndSignsWithItsOwnKey) {
  const auto standby = common::key_pair_from_label("redirect-standby");
  const auto owner = common::key_pair_from_label("redirect-owner");
  const auto worker = common::key_pair_from_label("redirect-worker");
  auto port = test::free_ports(1);
  ASSERT_TRUE(port.ok());
  auto redirect = OwnerRedirect::start("tcp://127.0.0.1:" + std::to_string((*port)[0]), standby, "job-r", false);
  ASSERT_TRUE(redirect.ok()) << redirect.error().message;
  (*redirect)->set_owner("not a key");  // ignored
  (*redirect)->set_owner(common::to_hex(owner.public_key));

  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  ASSERT_TRUE(common::set_curve_client(socket, worker, standby.public_key).ok());
  socket.connect((*redirect)->endpoint());
  common::RegisterRequest req;
  req.worker_key = worker.public_key;
  req.job_id = "job-r";
  req.coordinator_key = standby.public_key;
  common::sign_registration(req, worker.secret_key);
  ASSERT_TRUE(common::send_typed(socket, common::SocketRole::kDealer, {}, common::MessageType::kRegister, req).ok());
  auto reply = common::receive_message(socket, common::SocketRole::kDealer, std::chrono::seconds(10));
  ASSERT_TRUE(reply.ok() && *reply) << "no answer from the standby";
  ASSERT_EQ((*reply)->type, common::MessageType::kRegisterAck);
  auto ack = common::decode<common::RegisterAck>((*reply)->header_bytes());
  ASSERT_TRUE(ack.ok()) << ack.error().message;
  EXPECT_FALSE(ack->accepted);
  EXPECT_EQ(ack->owner_key, owner.public_key);
  EXPECT_EQ(ack->job_id, "job-r");
  EXPECT_TRUE(common::verify_register_ack(*ack, standby.public_key));
  EXPECT_FALSE(common::verify_register_ack(*ack, owner.public_key));
  EXPECT_NE(ack->reason.find("stands by for job 'job-r'"), std::string::npos) << ack->reason;
  EXPECT_EQ((*redirect)->redirected(), 1u);

  // Changing the owner key in a signed refusal breaks its signature.
  ack->owner_key = worker.public_key;
  EXPECT_FALSE(common::verify_register_ack(*ack, standby.public_key));
}

}  // namespace
}  // namespace fl::coordinator
