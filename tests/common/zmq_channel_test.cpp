// check_endpoint: user-given ZeroMQ endpoints are checked before ZeroMQ sees (and throws on) them.
#include "fl/common/zmq_channel.hpp"

#include <gtest/gtest.h>

namespace fl::common {
namespace {

TEST(CheckEndpoint, AcceptsTcpHostAndPort) {
  EXPECT_TRUE(check_endpoint("tcp://127.0.0.1:5555").ok());
  EXPECT_TRUE(check_endpoint("tcp://coordinator.example.org:6111").ok());
  EXPECT_TRUE(check_endpoint("tcp://[::1]:6111").ok());
  EXPECT_TRUE(check_endpoint("tcp://*:0").ok());
}

TEST(CheckEndpoint, AcceptsIpcPath) { EXPECT_TRUE(check_endpoint("ipc:///tmp/fl.sock").ok()); }

TEST(CheckEndpoint, RejectsHostAndPortWithoutTcpSayingWhatToWrite) {
  const auto s = check_endpoint("127.0.0.1:6111");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("'127.0.0.1:6111'"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5555"),
            std::string::npos)
      << s.error().message;
}

TEST(CheckEndpoint, RejectsMissingOrBadPorts) {
  EXPECT_FALSE(check_endpoint("tcp://127.0.0.1").ok());
  EXPECT_FALSE(check_endpoint("tcp://127.0.0.1:").ok());
  EXPECT_FALSE(check_endpoint("tcp://127.0.0.1:http").ok());
  EXPECT_FALSE(check_endpoint("tcp://127.0.0.1:70000").ok());
  EXPECT_FALSE(check_endpoint("tcp://:5555").ok());
}

TEST(CheckEndpoint, RejectsOtherTransportsNamingThem) {
  const auto s = check_endpoint("udp://127.0.0.1:5555");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("unsupported transport 'udp'"), std::string::npos)
      << s.error().message;
  EXPECT_FALSE(check_endpoint("").ok());
  EXPECT_FALSE(check_endpoint("ipc://").ok());
}

}  // namespace
}  // namespace fl::common
