// `fl-coordinator dp-epsilon`: the real binary prints the accountant's answer, as text and JSON,
// and refuses bad flags with a message naming the value.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl::coordinator {
namespace {

struct CommandOutput {
  std::optional<int> exit_code;
  std::string printed;  // stdout and stderr together
};

CommandOutput dp_epsilon(const std::vector<std::string>& flags) {
  test::TempDir dir;
  std::vector<std::string> argv = {test::binary("fl-coordinator"), "dp-epsilon"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  test::ChildProcess p(argv, dir / "out");
  CommandOutput out;
  out.exit_code = p.wait(std::chrono::seconds(30));
  out.printed = test::read_file(dir / "out");
  return out;
}

// q = 0.01, sigma = 1, 10,000 rounds, delta = 1e-5: epsilon 6.712738 at order 4.1 in
// rdp_accountant_test's reference table.
const std::vector<std::string> kQuery = {"--q",      "0.01",  "--sigma", "1.0",
                                         "--rounds", "10000", "--delta", "1e-5"};

TEST(DpEpsilonCommand, PrintsEpsilonAndTheBestOrder) {
  const CommandOutput out = dp_epsilon(kQuery);
  ASSERT_EQ(out.exit_code, 0) << out.printed;
  EXPECT_NE(out.printed.find("epsilon = 6.71274"), std::string::npos) << out.printed;
  EXPECT_NE(out.printed.find("order 4.1"), std::string::npos) << out.printed;
}

TEST(DpEpsilonCommand, JsonPrintsTheRdpAtEveryOrder) {
  std::vector<std::string> flags = kQuery;
  flags.push_back("--json");
  const CommandOutput out = dp_epsilon(flags);
  ASSERT_EQ(out.exit_code, 0) << out.printed;
  const auto doc = nlohmann::json::parse(out.printed);
  EXPECT_NEAR(doc.at("epsilon").get<double>(), 6.712738298, 1e-6);
  EXPECT_EQ(doc.at("order").get<double>(), 4.1);
  EXPECT_EQ(doc.at("rounds").get<int>(), 10000);
  EXPECT_EQ(doc.at("rdp").size(), 151u);
  EXPECT_TRUE(doc.at("rdp").contains("2"));
  EXPECT_TRUE(doc.at("rdp").contains("1.5"));
}

TEST(DpEpsilonCommand, ClassicConversionIsAskedForByName) {
  std::vector<std::string> flags = kQuery;
  flags.insert(flags.end(), {"--conversion", "mironov2017"});
  const CommandOutput out = dp_epsilon(flags);
  ASSERT_EQ(out.exit_code, 0) << out.printed;
  EXPECT_NE(out.printed.find("epsilon = 7.42873"), std::string::npos) << out.printed;
}

TEST(DpEpsilonCommand, RefusesDeltaOutsideZeroToOneNamingIt) {
  const CommandOutput out =
      dp_epsilon({"--q", "0.01", "--sigma", "1.0", "--rounds", "10", "--delta", "2"});
  EXPECT_EQ(out.exit_code, 1) << out.printed;
  EXPECT_NE(out.printed.find("delta = 2"), std::string::npos) << out.printed;
}

TEST(DpEpsilonCommand, RefusesAnUnknownConversionNamingIt) {
  std::vector<std::string> flags = kQuery;
  flags.insert(flags.end(), {"--conversion", "abadi2016"});
  const CommandOutput out = dp_epsilon(flags);
  EXPECT_EQ(out.exit_code, 1) << out.printed;
  EXPECT_NE(out.printed.find("abadi2016"), std::string::npos) << out.printed;
}

}  // namespace
}  // namespace fl::coordinator
