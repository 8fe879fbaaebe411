// A live job watched from outside: real fl-coordinator and three fl-workers on loopback with
// [http] listen set; Prometheus scrapes /metrics and answers a query; headless Chromium renders
// the dashboard, whose charts and numbers must match metrics.csv and the ledger; fl-ledger
// serve shows the same ledger without the coordinator. One job serves every test here.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "fl/common/crypto.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using test::ChildProcess;

constexpr int kRounds = 3;
constexpr int kWorkers = 3;
constexpr int kAttacker = 2;  // sends scaled updates that the norm limit rejects

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string first_word(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string word;
  in >> word;
  return word;
}

// metrics.csv as rows of column -> text.
std::vector<std::map<std::string, std::string>> read_csv(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
  auto split = [](const std::string& l) {
    std::vector<std::string> cells;
    std::string cell;
    bool quoted = false;
    for (char c : l) {
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        cells.push_back(cell);
        cell.clear();
      } else {
        cell += c;
      }
    }
    cells.push_back(cell);
    return cells;
  };
  if (std::getline(in, line)) header = split(line);
  while (std::getline(in, line)) {
    const auto cells = split(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) row[header[i]] = cells[i];
    rows.push_back(row);
  }
  return rows;
}

// The job every test looks at: started once, killed (with Prometheus) when the suite ends.
struct LiveJob {
  test::TempDir tmp{"fl-dashboard"};
  std::filesystem::path dir = tmp.path(), run = tmp.path() / "run";
  std::optional<ChildProcess> coordinator;
  std::vector<ChildProcess> workers;
  std::string url;  // http://127.0.0.1:PORT/
  std::string failure;

  void start() {
    std::ofstream(dir / "job.toml")
        << "[job]\nid = \"dash\"\nmodel = \"mlp\"\nrounds = " << kRounds
        << "\nseed = 7\n[data]\neval_limit = 1000\n"
        << "[training]\nepochs = 1\nbatch_size = 32\nlearning_rate = 0.05\n"
        << "[round]\nmin_workers = " << kWorkers
        << "\nregistration_wait_s = 60\n[limits]\nmax_update_norm = 8\n"
        << "[enrolment]\nopen = true\n"
        << "[network]\nbind = \"tcp://127.0.0.1:0\"\n"
        << "[http]\nlisten = \"127.0.0.1:0\"\nlinger_s = 240\n"
        << "[output]\ndir = \"" << run.string() << "\"\nlive_table = false\n";
    coordinator.emplace(std::vector<std::string>{test::binary("fl-coordinator"), "run", "--config",
                                                 (dir / "job.toml").string()},
                        dir / "coordinator.out");
    if (!test::wait_until([&] { return !first_word(run / "endpoint").empty(); }, 60s)) {
      failure = "no endpoint: " + test::read_file(dir / "coordinator.out");
      return;
    }
    url = first_word(run / "http");
    const auto endpoint = first_word(run / "endpoint");
    for (int k = 0; k < kWorkers; ++k) {
      const auto key = dir / ("w" + std::to_string(k) + ".key");
      (void)common::save_key_file(key,
                                  common::key_pair_from_label("dash-worker-" + std::to_string(k)));
      std::vector<std::string> argv = {test::binary("fl-worker"),
                                       "run",
                                       "--coordinator",
                                       endpoint,
                                       "--coordinator-key",
                                       (run / "keys" / "coordinator.key").string(),
                                       "--key",
                                       key.string(),
                                       "--partition",
                                       std::to_string(k) + "/" + std::to_string(kWorkers),
                                       "--max-samples",
                                       "600",
                                       "--heartbeat",
                                       "0.5"};
      if (k == kAttacker) argv.insert(argv.end(), {"--attack", "scaled", "--attack-scale", "40"});
      workers.emplace_back(argv, dir / ("worker" + std::to_string(k) + ".out"));
    }
    const bool done =
        test::wait_until([&] { return read_csv(run / "metrics.csv").size() == kRounds; }, 120s);
    if (!done) failure = "job did not finish: " + test::read_file(dir / "coordinator.out");
  }
};

LiveJob* g_job = nullptr;

class Dashboard : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::filesystem::create_directories(FL_TEST_OUTPUT_DIR);  // screenshot, DOM, Prometheus answer
    g_job = new LiveJob;
    g_job->start();
  }
  static void TearDownTestSuite() {
    delete g_job;
    g_job = nullptr;
  }
  void SetUp() override {
    ASSERT_TRUE(g_job->failure.empty()) << g_job->failure;
    ASSERT_TRUE(url_.starts_with("http://127.0.0.1:")) << url_;
  }
  httplib::Client client() {
    const auto port = std::stoi(url_.substr(url_.rfind(':') + 1));
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    return c;
  }
  json get_json(const std::string& path) {
    auto res = client().Get(path.c_str());
    EXPECT_TRUE(res && res->status == 200) << path;
    return res ? json::parse(res->body, nullptr, false) : json();
  }

  std::string url_ = g_job->url;
  std::filesystem::path run_ = g_job->run;
  std::filesystem::path dir_ = g_job->dir;
};

TEST_F(Dashboard, MetricsCountTheRoundsAndPassPromtool) {
  auto res = client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("\nfl_rounds_completed_total " + std::to_string(kRounds) + "\n"),
            std::string::npos)
      << res->body;
  EXPECT_NE(res->body.find("\nfl_updates_accepted_total " +
                           std::to_string(kRounds * (kWorkers - 1)) + "\n"),
            std::string::npos);
  EXPECT_NE(res->body.find("\nfl_updates_rejected_total{reason=\"norm\"} " +
                           std::to_string(kRounds) + "\n"),
            std::string::npos);
  EXPECT_NE(res->body.find("\nfl_workers_registered 3\n"), std::string::npos);
  if (!std::filesystem::exists("/usr/bin/promtool"))
    GTEST_SKIP() << "promtool not installed (apt install prometheus)";
  std::ofstream(dir_ / "metrics.txt") << res->body;
  const std::string cmd = "/usr/bin/promtool check metrics < " + (dir_ / "metrics.txt").string() +
                          " > " + (dir_ / "promtool.out").string() + " 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << test::read_file(dir_ / "promtool.out");
}

TEST_F(Dashboard, PrometheusScrapesTheCoordinatorAndAnswersAQuery) {
  if (!std::filesystem::exists("/usr/bin/prometheus"))
    GTEST_SKIP() << "prometheus not installed (apt install prometheus)";
  const int port = free_port();
  const auto target = url_.substr(7, url_.size() - 8);  // 127.0.0.1:PORT
  std::ofstream(dir_ / "prometheus.yml")
      << "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: fl\n"
      << "    static_configs:\n      - targets: ['" << target << "']\n";
  ChildProcess prometheus(
      {"/usr/bin/prometheus", "--config.file=" + (dir_ / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(port)},
      dir_ / "prometheus.out");
  httplib::Client api("127.0.0.1", port);
  std::string value;
  const bool answered = test::wait_until(
      [&] {
        auto res = api.Get("/api/v1/query?query=fl_rounds_completed_total");
        if (!res || res->status != 200) return false;
        const auto j = json::parse(res->body, nullptr, false);
        if (j.is_discarded() || j["data"]["result"].empty()) return false;
        value = j["data"]["result"][0]["value"][1].get<std::string>();
        return true;
      },
      30s);
  ASSERT_TRUE(answered) << test::read_file(dir_ / "prometheus.out");
  EXPECT_EQ(value, std::to_string(kRounds));
  std::ofstream(FL_TEST_OUTPUT_DIR "/prometheus_query.txt")
      << "fl_rounds_completed_total = " << value << '\n';
}

TEST_F(Dashboard, ApiRoundsEqualTheMetricsFile) {
  const auto rounds = get_json("/api/rounds");
  const auto csv = read_csv(run_ / "metrics.csv");
  ASSERT_EQ(rounds.size(), csv.size());
  for (std::size_t i = 0; i < csv.size(); ++i) {
    EXPECT_EQ(rounds[i]["round"].get<int>(), std::stoi(csv[i].at("round")));
    EXPECT_NEAR(rounds[i]["test_accuracy"].get<double>(), std::stod(csv[i].at("test_accuracy")),
                1e-5);
  }
  const auto job = get_json("/api/job");
  EXPECT_EQ(job["state"], "finished");
  EXPECT_EQ(job["rule"], "median(f=0)");  // the default rule
  EXPECT_EQ(get_json("/api/workers").size(), static_cast<std::size_t>(kWorkers));
}

// Runs headless Chromium on the page; returns the DOM after the page's scripts ran.
std::string render_dom(const std::string& url, const std::filesystem::path& dir,
                       const std::filesystem::path& png) {
  const std::vector<std::string> common = {"/usr/bin/chromium",
                                           "--headless",
                                           "--no-sandbox",
                                           "--disable-gpu",
                                           "--disable-dev-shm-usage",
                                           "--no-first-run",
                                           "--hide-scrollbars",
                                           "--user-data-dir=" + (dir / "chromium").string(),
                                           "--virtual-time-budget=10000",
                                           "--window-size=1400,2300"};
  auto dump = common;
  dump.insert(dump.end(), {"--dump-dom", url});
  ChildProcess dom(dump, dir / "dom.html");
  EXPECT_EQ(dom.wait(90s), 0) << test::read_file(dir / "dom.html");
  auto shot = common;
  shot.insert(shot.end(), {"--screenshot=" + png.string(), url});
  ChildProcess screenshot(shot, dir / "screenshot.out");
  EXPECT_EQ(screenshot.wait(90s), 0) << test::read_file(dir / "screenshot.out");
  return test::read_file(dir / "dom.html");
}

std::string cell(const std::string& dom, const std::string& row_attr, const std::string& field) {
  const auto row = dom.find(row_attr);
  if (row == std::string::npos) return "";
  const auto at = dom.find("data-field=\"" + field + "\"", row);
  if (at == std::string::npos) return "";
  const auto begin = dom.find('>', at) + 1;
  return dom.substr(begin, dom.find('<', begin) - begin);
}

TEST_F(Dashboard, ChromiumRendersTheChartsAndTheNumbersOfTheRun) {
  if (!std::filesystem::exists("/usr/bin/chromium"))
    GTEST_SKIP() << "chromium not installed (apt install chromium)";
  std::filesystem::create_directories(FL_TEST_OUTPUT_DIR);
  const std::filesystem::path png = FL_TEST_OUTPUT_DIR "/dashboard.png";
  std::filesystem::remove(png);
  const auto dom = render_dom(url_, dir_, png);
  ASSERT_NE(dom.find("data-ready=\"1\""), std::string::npos) << dom;
  std::ofstream(FL_TEST_OUTPUT_DIR "/dashboard.html") << dom;

  // The charts drew lines (non-empty SVG paths) and stacked bars.
  EXPECT_NE(dom.find("data-series=\"test accuracy\""), std::string::npos);
  EXPECT_NE(dom.find("data-series=\"test loss\""), std::string::npos);
  EXPECT_NE(dom.find("data-phase=\"collect\""), std::string::npos);
  EXPECT_TRUE(std::regex_search(dom, std::regex("<path d=\"M[0-9.]+ [0-9.]+ L")));
  const auto rewards = dom.substr(dom.find("id=\"chart-rewards\""));
  EXPECT_NE(rewards.substr(0, rewards.find("</svg>")).find("data-series"), std::string::npos);

  // Every round's numbers as metrics.csv has them.
  for (const auto& row : read_csv(run_ / "metrics.csv")) {
    const std::string attr = "data-round=\"" + row.at("round") + "\"";
    EXPECT_NEAR(std::stod(cell(dom, attr, "test_accuracy")), std::stod(row.at("test_accuracy")),
                1e-4)
        << attr;
    EXPECT_NEAR(std::stod(cell(dom, attr, "test_loss")), std::stod(row.at("test_loss")), 1e-4)
        << attr;
    EXPECT_EQ(cell(dom, attr, "accepted"), row.at("accepted")) << attr;
    EXPECT_EQ(cell(dom, attr, "ledger_height"), row.at("ledger_height")) << attr;
  }
  // The ledger's head block, its verification and each worker's earnings.
  const auto blocks = get_json("/api/ledger/blocks");
  const auto head = blocks["blocks"][0];
  EXPECT_NE(dom.find("data-height=\"" + std::to_string(head["height"].get<int>()) + "\""),
            std::string::npos);
  EXPECT_NE(dom.find(head["hash"].get<std::string>().substr(0, 16)), std::string::npos);
  EXPECT_NE(dom.find("chain verified"), std::string::npos);
  int rejected_rows = 0;
  for (const auto& w : get_json("/api/workers")) {
    const auto row = "data-worker=\"" + w["worker"].get<std::string>() + "\"";
    EXPECT_EQ(cell(dom, row, "earned"), std::to_string(w["earned"].get<std::uint64_t>()));
    EXPECT_EQ(cell(dom, row, "accepted"), std::to_string(w["accepted"].get<int>()));
    if (w["rejected"].get<int>() > 0) {
      ++rejected_rows;
      EXPECT_EQ(cell(dom, row, "reasons"), "norm ×" + std::to_string(kRounds));
    }
  }
  EXPECT_EQ(rejected_rows, 1);
  ASSERT_TRUE(std::filesystem::exists(png));
  EXPECT_GT(std::filesystem::file_size(png), 20'000u);
}

TEST_F(Dashboard, FlLedgerServeShowsTheSameLedgerWithoutTheCoordinator) {
  const int port = free_port();
  ChildProcess serve({test::binary("fl-ledger"), "serve", "--db", (run_ / "ledger.db").string(),
                      "--listen", "127.0.0.1:" + std::to_string(port)},
                     dir_ / "serve.out");
  httplib::Client c("127.0.0.1", port);
  ASSERT_TRUE(test::wait_until([&] { return static_cast<bool>(c.Get("/")); }, 20s))
      << test::read_file(dir_ / "serve.out");
  auto rounds = c.Get("/api/ledger/rounds/2");
  ASSERT_TRUE(rounds);
  EXPECT_EQ(json::parse(rounds->body), get_json("/api/ledger/rounds/2"));
  EXPECT_EQ(c.Get("/")->status, 200);
  EXPECT_EQ(c.Get("/api/job")->status, 404);  // no coordinator here
  serve.kill(SIGTERM);
  EXPECT_EQ(serve.wait(10s), 0);
}

}  // namespace
}  // namespace fl
