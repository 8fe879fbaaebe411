// Bring your own data and model: the real fl-coordinator and three fl-worker processes on
// 127.0.0.1 federate a CSV data set the test generates (four Gaussian clusters with string
// labels), reach 90% test accuracy, export the model for PyTorch and NumPy, and, for a
// TorchScript job, the workers fetch the model file from the coordinator by its digest.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "federation_fixture.hpp"
#include "fl/common/model_file.hpp"

namespace fl {
namespace {

constexpr double kRequiredAccuracy = 0.9;  // the best possible is about 0.95

class TabularFederation : public Federation {
 protected:
  void SetUp() override {
    test::write_gaussian_csv(dir_ / "clusters.csv", 1500, 4, {"alpha", "beta", "gamma", "delta"},
                             2026);
  }

  std::string data_spec() const {
    return "csv:" + (dir_ / "clusters.csv").string() + "?label=species";
  }

  // Runs a job of `rounds` rounds on the CSV with three workers; returns the metrics rows.
  std::vector<nlohmann::json> federate(const std::string& model, int rounds) {
    // The job names its data relative to its own folder, as a researcher's job.toml would.
    std::ofstream(dir_ / "job.toml")
        << "[job]\nid = \"tabular\"\nmodel = \"" << model << "\"\nrounds = " << rounds
        << "\nseed = 3\ndevice = \"cpu\"\n[data]\nspec = \"csv:clusters.csv?label=species\"\n"
        << "[training]\nepochs = 2\nbatch_size = 16\nlearning_rate = 0.1\n"
        << "[round]\nmin_workers = 3\nquorum_fraction = 1.0\nsoft_deadline_s = 60\n"
        << "deadline_s = 120\nregistration_wait_s = 60\n[enrolment]\nopen = true\n"
        << "[network]\nbind = \"tcp://127.0.0.1:0\"\n[output]\ndir = \"" << run_.string()
        << "\"\nlive_table = false\n";
    auto coordinator = start_coordinator();
    const auto endpoint = wait_for_endpoint();
    std::vector<ChildProcess> workers;
    for (int k = 0; k < 3; ++k) {
      const auto key = dir_ / ("w" + std::to_string(k) + ".key");
      EXPECT_TRUE(
          common::save_key_file(key, common::key_pair_from_label("tab-" + std::to_string(k))).ok());
      workers.emplace_back(
          std::vector<std::string>{test::binary("fl-worker"), "run", "--coordinator", endpoint,
                                   "--coordinator-key", (run_ / "keys" / "coordinator.key").string(),
                                   "--key", key.string(), "--data", data_spec(), "--partition",
                                   std::to_string(k) + "/3", "--device", "cpu", "--model-cache",
                                   (dir_ / ("cache" + std::to_string(k))).string()},
          dir_ / ("worker" + std::to_string(k) + ".out"));
    }
    EXPECT_EQ(coordinator.wait(120s), 0) << test::read_file(dir_ / "coordinator.out");
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(workers[static_cast<std::size_t>(k)].wait(30s), 0)
          << test::read_file(dir_ / ("worker" + std::to_string(k) + ".out"));
    }
    return read_metrics(run_);
  }

  int export_to(const std::string& file) {
    ChildProcess p({test::binary("fl-coordinator"), "export", (run_ / "global.flm").string(),
                    "--to", (dir_ / file).string()},
                   dir_ / "export.out");
    return p.wait(60s).value_or(-1);
  }
};

TEST_F(TabularFederation, ThreeWorkersLearnGaussianClustersFromCsvAndTheModelExports) {
  const auto rows = federate("mlp", 4);
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& r : rows) EXPECT_EQ(r["accepted"], 3);
  const double accuracy = rows.back()["test_accuracy"].get<double>();
  EXPECT_GE(accuracy, kRequiredAccuracy);
  std::printf("csv federation: round-4 test accuracy %.4f\n", accuracy);
  EXPECT_EQ(export_to("model.pt"), 0) << test::read_file(dir_ / "export.out");
  EXPECT_EQ(export_to("model.npz"), 0) << test::read_file(dir_ / "export.out");
  EXPECT_GT(std::filesystem::file_size(dir_ / "model.pt"), 0u);
  EXPECT_GT(std::filesystem::file_size(dir_ / "model.npz"), 0u);
}

TEST_F(TabularFederation, WorkersFetchTheTorchScriptModelByDigestAndCacheIt) {
  // A TorchScript logistic regression made with fl-coordinator export from a .flm file.
  common::TensorLayout layout;
  layout.tensors = {{"fc.weight", {4, 4}}, {"fc.bias", {4}}};
  const auto params = test::ramp(20, -0.2f, 0.02f);
  std::filesystem::create_directories(run_);
  ASSERT_TRUE(common::save_model_file(run_ / "global.flm",
                                      {"init", 0, "logreg", layout, common::digest_of(params)},
                                      params)
                  .ok());
  ASSERT_EQ(export_to("logreg.pt"), 0) << test::read_file(dir_ / "export.out");
  std::filesystem::remove(run_ / "global.flm");
  const auto digest = common::to_hex(common::blake2b_256(test::read_file(dir_ / "logreg.pt")));

  const auto rows = federate("torchscript:logreg.pt", 3);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) EXPECT_EQ(r["accepted"], 3) << test::read_file(dir_ / "worker0.out");
  EXPECT_GE(rows.back()["test_accuracy"].get<double>(), kRequiredAccuracy);
  for (int k = 0; k < 3; ++k) {
    const auto cached = dir_ / ("cache" + std::to_string(k)) / (digest + ".pt");
    EXPECT_TRUE(std::filesystem::exists(cached)) << cached;
    EXPECT_EQ(test::read_file(cached), test::read_file(dir_ / "logreg.pt"));
  }
  EXPECT_NE(test::read_file(dir_ / "worker0.out").find("fetching the model file"),
            std::string::npos);
}

// The README's Python snippet, run as a user would, on the exported files.
TEST_F(TabularFederation, TheReadmePythonSnippetEvaluatesBothExports) {
  if (std::system("/usr/bin/python3 -c 'import numpy, torch' 2>/dev/null") != 0) {
    GTEST_SKIP() << "Debian's python3-torch and python3-numpy are not installed "
                    "(apt-get install python3-torch python3-numpy)";
  }
  const std::string readme = test::read_file("README.md");
  const auto marker = readme.find("<!-- export-snippet -->");
  ASSERT_NE(marker, std::string::npos) << "README.md lost its export snippet";
  const auto begin = readme.find("```python\n", marker) + 10;
  const auto end = readme.find("```", begin);
  test::write_file(dir_ / "snippet.py", readme.substr(begin, end - begin));

  const auto rows = federate("mlp", 3);
  ASSERT_EQ(rows.size(), 3u);
  ASSERT_EQ(export_to("model.pt"), 0);
  ASSERT_EQ(export_to("model.npz"), 0);
  ChildProcess python(
      {"/usr/bin/python3", (dir_ / "snippet.py").string(), (dir_ / "clusters.csv").string(),
       (dir_ / "model.pt").string(), (dir_ / "model.npz").string()},
      dir_ / "python.out");
  ASSERT_EQ(python.wait(120s), 0) << test::read_file(dir_ / "python.out");
  const auto out = test::read_file(dir_ / "python.out");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(TorchScript ([0-9.]+), NumPy ([0-9.]+))")))
      << out;
  const double coordinator = rows.back()["test_accuracy"].get<double>();
  std::printf("coordinator %.4f; python: %s", coordinator, out.c_str());
  EXPECT_NEAR(std::stod(m[1]), coordinator, 0.01) << out;
  EXPECT_NEAR(std::stod(m[2]), coordinator, 0.01) << out;
}

}  // namespace
}  // namespace fl
