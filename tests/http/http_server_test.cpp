// The HTTP server shared by fl-coordinator and fl-ledger serve: listen addresses, the bearer
// token rule, the embedded dashboard and token checks, over a real loopback socket.
#include "fl/ledger/http_server.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/stat.h>

#include "support/builders.hpp"

namespace fl::ledger {
namespace {

TEST(ListenAddress, ParsesHostAndPort) {
  auto a = parse_listen("127.0.0.1:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8080);
}

TEST(ListenAddress, MeansLoopbackWhenTheHostIsLeftOut) {
  auto a = parse_listen(":9100");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_TRUE(is_loopback(a->host));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
}

TEST(ListenAddress, RefusesAMissingOrBadPortWithTheAddressInTheMessage) {
  for (const char* bad : {"127.0.0.1", "127.0.0.1:http", "127.0.0.1:70000", "127.0.0.1:"}) {
    auto a = parse_listen(bad);
    ASSERT_FALSE(a.ok()) << bad;
    EXPECT_NE(a.error().message.find(bad), std::string::npos) << a.error().message;
  }
}

TEST(BearerToken, IsNotNeededOnLoopback) {
  test::TempDir dir;
  auto t = bearer_token_for({"127.0.0.1", 0}, "", dir / "http.token");
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t->empty());
  EXPECT_FALSE(std::filesystem::exists(dir / "http.token"));
}

TEST(BearerToken, IsGeneratedIntoAFileOnlyItsOwnerCanReadOffLoopback) {
  test::TempDir dir;
  auto t = bearer_token_for({"0.0.0.0", 0}, "", dir / "http.token");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->size(), 48u);
  EXPECT_EQ(test::read_file(dir / "http.token"), *t + "\n");
  struct stat st {};
  ASSERT_EQ(stat((dir / "http.token").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

TEST(BearerToken, UsesTheConfiguredTokenWhenGiven) {
  test::TempDir dir;
  auto t = bearer_token_for({"0.0.0.0", 0}, "a-configured-token-123", dir / "http.token");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, "a-configured-token-123");
}

HttpRoute echo_route() {
  return {"/api/echo", [](const HttpRequest& r) { return HttpReply{200, "text/plain", r.path}; }};
}

TEST(HttpServer, ServesTheEmbeddedDashboardAtTheRoot) {
  auto server = HttpServer::start({"127.0.0.1", 0}, "", {echo_route()});
  ASSERT_TRUE(server.ok()) << server.error().to_string();
  httplib::Client client("127.0.0.1", (*server)->port());
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("dashboard.js"), std::string::npos);
  auto js = client.Get("/dashboard.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(js->body.find("lineChart"), std::string::npos);
}

TEST(HttpServer, AnswersAnUnknownPathWith404InJson) {
  auto server = HttpServer::start({"127.0.0.1", 0}, "", {echo_route()});
  ASSERT_TRUE(server.ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  auto res = client.Get("/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("\"error\""), std::string::npos);
}

TEST(HttpServer, RefusesApiRequestsWithoutTheBearerToken) {
  auto server = HttpServer::start({"127.0.0.1", 0}, "secret-token-0123456789", {echo_route()});
  ASSERT_TRUE(server.ok());
  httplib::Client client("127.0.0.1", (*server)->port());
  auto none = client.Get("/api/echo");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  auto wrong = client.Get("/api/echo", {{"Authorization", "Bearer secret-token-0123456780"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto right = client.Get("/api/echo", {{"Authorization", "Bearer secret-token-0123456789"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);
  EXPECT_EQ(right->body, "/api/echo");
  EXPECT_EQ(client.Get("/")->status, 200);  // the page itself holds no data
}

TEST(HttpServer, SaysWhenTheAddressIsTaken) {
  auto first = HttpServer::start({"127.0.0.1", 0}, "", {});
  ASSERT_TRUE(first.ok());
  auto second = HttpServer::start({"127.0.0.1", (*first)->port()}, "", {});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("cannot listen"), std::string::npos);
}

}  // namespace
}  // namespace fl::ledger
