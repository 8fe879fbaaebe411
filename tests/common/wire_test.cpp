#include <gtest/gtest.h>

#include "fl/common/wire.hpp"
#include "support/builders.hpp"

namespace fl::common {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Wire, SignedUpdateVerifies) {
  auto u = test::make_signed_update(key_pair_from_label("w"), "job", 3, test::small_layout(), test::ramp(9));
  EXPECT_TRUE(verify_update(u.header, u.payload()).ok());
}

TEST(Wire, UpdateSurvivesEncodeAndDecode) {
  auto u = test::make_signed_update(key_pair_from_label("w"), "job", 3, test::small_layout(), test::ramp(9));
  auto decoded = decode<UpdateHeader>(bytes_of(encode(u.header)));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(decoded->job_id, "job");
  EXPECT_EQ(decoded->round, 3u);
  EXPECT_EQ(decoded->layout, test::small_layout());
  EXPECT_TRUE(verify_update(*decoded, u.payload()).ok());
}

TEST(Wire, FlippedBitInHeaderIsRejected) {
  auto u = test::make_signed_update(key_pair_from_label("w"), "job", 3, test::small_layout(), test::ramp(9));
  u.header.round = 4;  // a replay into another round
  auto s = verify_update(u.header, u.payload());
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kBadSignature);
}

TEST(Wire, FlippedBitInEncodedHeaderNeverVerifies) {
  auto u = test::make_signed_update(key_pair_from_label("w"), "job", 3, test::small_layout(), test::ramp(9));
  const std::string encoded = encode(u.header);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    std::string bad = encoded;
    bad[i] ^= 0x10;
    auto decoded = decode<UpdateHeader>(bytes_of(bad));
    if (decoded.ok()) {
      EXPECT_FALSE(verify_update(*decoded, u.payload()).ok()) << "byte " << i;
    }
  }
}

TEST(Wire, FlippedBitInPayloadIsRejected) {
  auto u = test::make_signed_update(key_pair_from_label("w"), "job", 3, test::small_layout(), test::ramp(9));
  auto bytes = std::vector<std::uint8_t>(u.payload().begin(), u.payload().end());
  bytes[5] ^= 0x01;
  auto s = verify_update(u.header, bytes);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("payload digest"), std::string::npos);
}

TEST(Wire, UpdateSignedWithAnotherKeyIsRejected) {
  auto u = test::make_signed_update(key_pair_from_label("w"), "job", 3, test::small_layout(), test::ramp(9));
  u.header.worker_key = key_pair_from_label("impostor").public_key;
  EXPECT_FALSE(verify_update(u.header, u.payload()).ok());
}

TEST(Wire, TruncatedHeaderIsAProtocolError) {
  auto u = test::make_signed_update(key_pair_from_label("w"), "job", 3, test::small_layout(), test::ramp(9));
  std::string encoded = encode(u.header);
  encoded.resize(encoded.size() / 2);
  auto decoded = decode<UpdateHeader>(bytes_of(encoded));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, ErrorCode::kProtocol);
}

TEST(Wire, HugeStringLengthIsRefusedBeforeAllocation) {
  // format u32 | version u32 | job_id length u64 = 2^60
  std::string bad(16, '\0');
  bad[0] = 1;
  bad[4] = 1;
  bad[15] = 0x10;
  auto decoded = decode<UpdateHeader>(bytes_of(bad));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("job_id"), std::string::npos);
}

TEST(Wire, TrailingBytesAreRejected) {
  std::string encoded = encode(Heartbeat{key_pair_from_label("w").public_key, 42});
  encoded += "xx";
  EXPECT_FALSE(decode<Heartbeat>(bytes_of(encoded)).ok());
}

TEST(Wire, RegistrationProvesKeyOwnership) {
  KeyPair key = key_pair_from_label("w");
  RegisterRequest req;
  req.worker_key = key.public_key;
  req.dataset_fingerprint = "abc";
  req.timestamp_ms = 1000;
  sign_registration(req, key.secret_key);
  EXPECT_TRUE(verify_registration(req));
  req.worker_key = key_pair_from_label("other").public_key;
  EXPECT_FALSE(verify_registration(req));
}

TEST(Wire, UpdateAckWithReceiptIsSignedByTheCoordinator) {
  KeyPair coord = key_pair_from_label("coordinator");
  UpdateAck ack;
  ack.job_id = "job";
  ack.round = 2;
  ack.accepted = true;
  ack.receipt = Receipt{};
  ack.receipt->reward = 17;
  ack.receipt->proof = {blake2b_256(std::string_view("a")), blake2b_256(std::string_view("b"))};
  sign_update_ack(ack, coord.secret_key);
  auto decoded = decode<UpdateAck>(bytes_of(encode(ack)));
  ASSERT_TRUE(decoded.ok());
  ASSERT_TRUE(decoded->receipt.has_value());
  EXPECT_EQ(decoded->receipt->proof.size(), 2u);
  EXPECT_TRUE(verify_update_ack(*decoded, coord.public_key));
  decoded->receipt->reward = 18;
  EXPECT_FALSE(verify_update_ack(*decoded, coord.public_key));
}

TEST(Wire, RoundTaskNamesTheModelFileDigestAndTheFileMessagesRoundTrip) {
  RoundTask task;
  task.model = "torchscript:/jobs/m.pt";
  task.model_file_digest = blake2b_256(std::string_view("model bytes"));
  auto decoded_task = decode<RoundTask>(bytes_of(encode(task)));
  ASSERT_TRUE(decoded_task.ok()) << decoded_task.error().to_string();
  EXPECT_EQ(decoded_task->model_file_digest, task.model_file_digest);

  auto request = decode<ModelFileRequest>(bytes_of(encode(ModelFileRequest{task.model_file_digest})));
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->file_digest, task.model_file_digest);
  auto reply = decode<ModelFileReply>(bytes_of(encode(ModelFileReply{{}, false, "no such file"})));
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->found);
  EXPECT_EQ(reply->reason, "no such file");
  for (const auto type : {MessageType::kModelFileRequest, MessageType::kModelFileReply}) {
    const auto frame = static_cast<std::uint8_t>(type);
    EXPECT_EQ(parse_message_type({&frame, 1}).value(), type);
  }
}

TEST(Wire, RoundTaskCarriesTheHeadersBelowItsCheckpointAndSignsThem) {
  const auto coordinator = key_pair_from_label("wire-coordinator");
  RoundTask task;
  task.checkpoint = "{}";
  for (std::uint64_t h = 4; h <= 6; ++h) {
    task.chain_headers.push_back({h, blake2b_256("prev " + std::to_string(h)), blake2b_256(std::string_view("root")),
                                  1000 + h, h, coordinator.public_key});
  }
  sign_round_task(task, coordinator.secret_key);
  auto decoded = decode<RoundTask>(bytes_of(encode(task)));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  ASSERT_EQ(decoded->chain_headers.size(), 3u);
  EXPECT_EQ(block_hash(decoded->chain_headers[2]), block_hash(task.chain_headers[2]));
  EXPECT_TRUE(verify_round_task(*decoded, coordinator.public_key));
  decoded->chain_headers[1].tx_count += 1;  // a header changed in transit
  EXPECT_FALSE(verify_round_task(*decoded, coordinator.public_key));
}

TEST(Wire, StoreRequestsAndRepliesRoundTripAndABadFlagIsRefused) {
  const auto digest = blake2b_256(std::string_view("an update"));
  auto request = decode<StoreRequest>(bytes_of(encode(StoreRequest{true, digest})));
  ASSERT_TRUE(request.ok()) << request.error().to_string();
  EXPECT_TRUE(request->model);
  EXPECT_EQ(request->digest, digest);
  auto reply = decode<StoreReply>(bytes_of(encode(StoreReply{false, digest, false, "not in the store"})));
  ASSERT_TRUE(reply.ok()) << reply.error().to_string();
  EXPECT_FALSE(reply->model);
  EXPECT_FALSE(reply->found);
  EXPECT_EQ(reply->digest, digest);
  EXPECT_EQ(reply->reason, "not in the store");
  std::string bytes = encode(StoreRequest{false, digest});
  bytes[4] = 3;  // the model flag follows the format
  EXPECT_FALSE(decode<StoreRequest>(bytes_of(bytes)).ok());
  for (const auto type : {MessageType::kStoreRequest, MessageType::kStoreReply}) {
    const auto frame = static_cast<std::uint8_t>(type);
    EXPECT_EQ(parse_message_type({&frame, 1}).value(), type);
  }
}

TEST(Wire, FlagOtherThanZeroOrOneIsRejected) {
  // Found by fuzzing: a byte of 2 read straight into a bool is undefined behaviour.
  UpdateAck ack;
  ack.job_id = "job";
  std::string encoded = encode(ack);
  const std::size_t accepted_at = 4 + 8 + ack.job_id.size() + 8 + 32;  // format, job_id, round, digest
  ASSERT_EQ(encoded[accepted_at], '\0');
  encoded[accepted_at] = 2;
  auto decoded = decode<UpdateAck>(bytes_of(encoded));
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("accepted is 2"), std::string::npos)
      << decoded.error().message;

  std::string ack_bytes = encode(RegisterAck{});
  ack_bytes[4] = 7;  // RegisterAck.accepted follows the format
  EXPECT_FALSE(decode<RegisterAck>(bytes_of(ack_bytes)).ok());
}

TEST(Wire, UnknownMessageTypeIsRejected) {
  std::uint8_t t = 99;
  EXPECT_FALSE(parse_message_type({&t, 1}).ok());
}

}  // namespace
}  // namespace fl::common
