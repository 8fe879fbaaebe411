// The systemd units in deploy/systemd: systemd-analyze accepts them, and they say what the README
// promises (a dedicated user, restart on failure, the key readable only by the service, resource
// limits, hardening, the binaries in /usr/local/bin). Skips where systemd-analyze is absent.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>

#include "commands.hpp"

namespace fl {
namespace {

const std::filesystem::path kUnits = std::filesystem::path(FL_SOURCE_DIR) / "deploy" / "systemd";

// Every `Key=value` line of a unit, in order (a key may repeat).
std::multimap<std::string, std::string> settings_of(const std::filesystem::path& unit) {
  std::multimap<std::string, std::string> out;
  std::ifstream in(unit);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const auto eq = line.find('=');
    if (eq != std::string::npos) out.emplace(line.substr(0, eq), line.substr(eq + 1));
  }
  return out;
}

bool has(const std::multimap<std::string, std::string>& s, const std::string& key,
         const std::string& value) {
  auto [from, to] = s.equal_range(key);
  for (auto it = from; it != to; ++it) {
    if (it->second == value) return true;
  }
  return false;
}

class SystemdUnits : public ::testing::Test {
 protected:
  void SetUp() override {
    auto found = test::find_program("systemd-analyze");
    if (!found)
      GTEST_SKIP()
          << "systemd-analyze not found (Debian package systemd); the units are not checked";
    analyze_ = *found;
  }

  // The units as installed, except that ExecStart= names the binaries just built (systemd-analyze
  // checks that the program exists; /usr/local/bin has them only after cmake --install).
  std::vector<std::string> units_with_built_binaries(const std::string& extra_line = "") {
    std::vector<std::string> paths;
    for (const char* name : {"fl-coordinator@.service", "fl-worker.service"}) {
      std::string text = test::read_file(kUnits / name);
      text = std::regex_replace(
          text, std::regex("/usr/local/bin/"),
          std::filesystem::path(test::binary("fl-worker")).parent_path().string() + "/");
      if (!extra_line.empty())
        text = std::regex_replace(text, std::regex("\\[Service\\]\n"),
                                  "[Service]\n" + extra_line + "\n");
      test::write_file(tmp_ / name, text);
      paths.push_back((tmp_ / name).string());
    }
    return paths;
  }

  test::CommandResult analyze(std::vector<std::string> args) {
    args.insert(args.begin(), analyze_);
    return test::run_command(args, tmp_ / "analyze.out", std::chrono::seconds(60));
  }

  std::string analyze_;
  test::TempDir tmp_{"fl-units"};
};

TEST_F(SystemdUnits, PassSystemdAnalyzeVerify) {
  auto args = units_with_built_binaries();
  args.insert(args.begin(), "verify");
  const auto r = analyze(args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "systemd-analyze verify had remarks";
}

TEST_F(SystemdUnits, VerifyCatchesAMistakeInAUnit) {  // the check above is a real check
  auto args = units_with_built_binaries("Restart=sometimes\nCPUQuotta=50%");
  args.insert(args.begin(), "verify");
  const auto r = analyze(args);
  EXPECT_NE(r.output.find("CPUQuotta"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sometimes"), std::string::npos) << r.output;
}

TEST_F(SystemdUnits, AreRatedWellHardenedBySystemdAnalyzeSecurity) {
  units_with_built_binaries();
  std::filesystem::copy_file(tmp_ / "fl-coordinator@.service", tmp_ / "fl-coordinator@job.service");
  for (const char* unit : {"fl-coordinator@job.service", "fl-worker.service"}) {
    // --threshold: fail above an exposure of 2.5 of 10 (both rate 1.4 when written).
    const auto r = analyze({"security", "--offline=yes", "--threshold=25", (tmp_ / unit).string()});
    EXPECT_EQ(r.exit_code, 0) << unit << "\n" << r.output;
    EXPECT_NE(r.output.find("Overall exposure level"), std::string::npos) << r.output;
  }
}

TEST(SystemdUnitFiles, RunTheBinariesCmakeInstallPutsInUsrLocalBin) {
  EXPECT_EQ(settings_of(kUnits / "fl-coordinator@.service")
                .find("ExecStart")
                ->second.rfind(
                    "/usr/local/bin/fl-coordinator run --config /etc/fedledger/jobs/%i.toml", 0),
            0u);
  EXPECT_EQ(settings_of(kUnits / "fl-worker.service")
                .find("ExecStart")
                ->second.rfind("/usr/local/bin/fl-worker run", 0),
            0u);
}

TEST(SystemdUnitFiles, RunEachServiceAsItsOwnSystemUserDeclaredForSysusers) {
  const auto sysusers = test::read_file(kUnits / "fedledger.sysusers");
  for (const auto& [unit, user] : {std::pair{"fl-coordinator@.service", "fl-coordinator"},
                                   {"fl-worker.service", "fl-worker"}}) {
    const auto s = settings_of(kUnits / unit);
    EXPECT_TRUE(has(s, "User", user)) << unit;
    EXPECT_NE(sysusers.find(std::string("u ") + user + " "), std::string::npos) << user;
  }
}

TEST(SystemdUnitFiles, RestartOnFailureHardenedAndWritingOnlyTheirStateFolder) {
  for (const char* unit : {"fl-coordinator@.service", "fl-worker.service"}) {
    const auto s = settings_of(kUnits / unit);
    EXPECT_TRUE(has(s, "Restart", "on-failure")) << unit;
    for (const auto& [key, value] : {std::pair{"NoNewPrivileges", "yes"},
                                     {"ProtectSystem", "strict"},
                                     {"PrivateTmp", "yes"},
                                     {"ProtectHome", "yes"},
                                     {"UMask", "0077"},
                                     {"StateDirectoryMode", "0700"}}) {
      EXPECT_TRUE(has(s, key, value)) << unit << ": " << key << "=" << value;
    }
    EXPECT_EQ(s.count("ReadWritePaths"), 1u) << unit;
    EXPECT_EQ(s.count("EnvironmentFile"), std::string(unit) == "fl-worker.service" ? 1u : 2u)
        << unit;
  }
}

TEST(SystemdUnitFiles, TheWorkerHasACpuQuotaAMemoryCapAndItsKeyAsACredential) {
  const auto s = settings_of(kUnits / "fl-worker.service");
  EXPECT_EQ(s.count("CPUQuota"), 1u);
  EXPECT_EQ(s.count("MemoryMax"), 1u);
  EXPECT_TRUE(has(s, "LoadCredential", "worker.key:/etc/fedledger/worker.key"));
  EXPECT_NE(s.find("ExecStart")->second.find("--key %d/worker.key"), std::string::npos);
}

}  // namespace
}  // namespace fl
