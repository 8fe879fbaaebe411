// The coordinator side of the HTTP server without sockets: [http] in job.toml, and the
// JobMonitor's copies of rounds and workers.
#include "fl/coordinator/http/job_monitor.hpp"

#include <gtest/gtest.h>

#include "fl/common/registration.hpp"
#include "fl/coordinator/job_config.hpp"

namespace fl::coordinator {
namespace {

Result<JobConfig> parse(const std::string& body) {
  return parse_job_config("[job]\nid = \"j\"\n[enrolment]\nopen = true\n" + body, "job.toml",
                          "/base");
}

TEST(HttpConfig, IsOffUnlessListenIsSet) {
  auto cfg = parse("");
  ASSERT_TRUE(cfg.ok());
  EXPECT_TRUE(cfg->http_listen.empty());
}

TEST(HttpConfig, ReadsListenTokenAndLinger) {
  auto cfg =
      parse("[http]\nlisten = \"127.0.0.1:9100\"\ntoken = \"0123456789abcdef0\"\nlinger_s = 5\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->http_listen, "127.0.0.1:9100");
  EXPECT_EQ(cfg->http_token, "0123456789abcdef0");
  EXPECT_EQ(cfg->http_linger_s, 5);
}

TEST(HttpConfig, NamesTheKeyOfABadListenAddress) {
  auto cfg = parse("[http]\nlisten = \"localhost\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("http.listen"), std::string::npos) << cfg.error().message;
  EXPECT_NE(cfg.error().message.find("HOST:PORT"), std::string::npos) << cfg.error().message;
}

TEST(HttpConfig, RefusesAShortToken) {
  auto cfg = parse("[http]\nlisten = \"0.0.0.0:9100\"\ntoken = \"short\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("http.token"), std::string::npos);
}

common::RegisterRequest registration(const std::string& label) {
  const auto key = common::key_pair_from_label(label);
  common::RegisterRequest r;
  r.worker_key = key.public_key;
  r.dataset_fingerprint = "fp";
  r.timestamp_ms = 1;
  r.signature = common::sign(key.secret_key, common::registration_digest(key.public_key, "fp", 1));
  return r;
}

TEST(JobMonitor, WaitsForWorkersUntilTheJobStarts) {
  WorkerRegistry registry(true, {});
  JobMonitor monitor({"j", "mlp", "fedavg", "cosine", 2, 1, 1000, true}, registry, 15);
  EXPECT_EQ(monitor.snapshot().state, "waiting for workers");
  EXPECT_TRUE(monitor.snapshot().rounds.empty());
}

TEST(JobMonitor, CopiesRoundsAndWorkersAndFinishesAfterTheLastRound) {
  WorkerRegistry registry(true, {});
  ASSERT_TRUE(registry.enrol(registration("a"), "peer-a", Clock::now()).ok());
  JobMonitor monitor({"j", "mlp", "fedavg", "cosine", 2, 1, 1000, true}, registry, 15);
  monitor.on_job_start();
  EXPECT_EQ(monitor.snapshot().state, "running");
  ASSERT_TRUE(
      registry.enrol(registration("b"), "peer-b", Clock::now() - std::chrono::seconds(60)).ok());
  RoundMetrics m;
  m.round = 1;
  m.test_accuracy = 0.5;
  monitor.on_round(m);
  auto snap = monitor.snapshot();
  ASSERT_EQ(snap.rounds.size(), 1u);
  EXPECT_EQ(snap.rounds[0].test_accuracy, 0.5);
  ASSERT_EQ(snap.workers.size(), 2u);
  int connected = 0;
  for (const auto& w : snap.workers) connected += w.connected ? 1 : 0;
  EXPECT_EQ(connected, 1);  // b was last heard from 60 s ago, past the 15 s timeout
  m.round = 2;
  monitor.on_round(m);
  EXPECT_EQ(monitor.snapshot().state, "finished");
}

}  // namespace
}  // namespace fl::coordinator
