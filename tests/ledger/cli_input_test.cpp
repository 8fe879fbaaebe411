// fl-ledger on a user's mistakes: bad amounts, files that are not ledgers, short account ids,
// broken model files. Every one exits 1 with a sentence naming the problem, never a raw
// exception or SQL text; read-only commands create no files.
#include <gtest/gtest.h>

#include <regex>

#include "cli_fixture.hpp"
#include "fl/common/model_file.hpp"

namespace fl::ledger {
namespace {

namespace fs = std::filesystem;
using test::CliRun;
using test::CliTest;

// Every command that reads a ledger, as "<command> <args>" before --db.
const std::vector<std::string> kReadCommands = {"verify",
                                                "blocks",
                                                "accounts",
                                                "history 00000000",
                                                "rounds job-1",
                                                "tx 00000000",
                                                "proof 00000000",
                                                "trace " + std::string(64, 'a'),
                                                "export --format csv"};

void expect_plain_failure(const CliRun& r, const std::string& must_say,
                          const std::string& command) {
  EXPECT_EQ(r.code, 1) << command << "\n" << r.out << r.err;
  EXPECT_NE(r.err.find(must_say), std::string::npos) << command << ": " << r.err;
  for (const char* raw : {"SELECT", "what()", "sqlite", "terminate", "[json.exception"}) {
    EXPECT_EQ(r.err.find(raw), std::string::npos) << command << " shows '" << raw << "': " << r.err;
  }
}

class CliInputTest : public CliTest {
 protected:
  std::string key_file() {
    const auto path = dir_ / "w0.key";
    EXPECT_TRUE(common::save_key_file(path, test::worker_key(0)).ok());
    return path.string();
  }
  std::size_t files_in(const fs::path& dir) {
    return static_cast<std::size_t>(
        std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
  }
};

TEST_F(CliInputTest, NegativeAmountsAreRefusedNotWrappedAround) {
  const std::string key = key_file();
  const std::string to = hex(test::worker_key(1).public_key);
  for (const std::string& kind :
       std::vector<std::string>{"stake", "unstake", "transfer --to " + to}) {
    auto r = run(kind + " --key " + key + " --amount -5 " + db());
    expect_plain_failure(r, "negative", kind);
    EXPECT_EQ(r.err.find("18446744073709551611"), std::string::npos) << r.err;
  }
  EXPECT_EQ(run("blocks --json " + db()).parsed().size(), 4u);  // nothing was written
}

TEST_F(CliInputTest, OverflowingFractionalAndZeroAmountsAreRefused) {
  const std::string key = key_file();
  expect_plain_failure(run("stake --key " + key + " --amount 18446744073709551616 " + db()),
                       "largest", "overflow");
  expect_plain_failure(run("stake --key " + key + " --amount 1.5 " + db()), "whole number",
                       "fraction");
  expect_plain_failure(run("stake --key " + key + " --amount 0 " + db()), "at least 1", "zero");
  EXPECT_EQ(run("stake --key " + key + " --amount 18446744073709551615 " + db()).code,
            1);  // above the balance
}

TEST_F(CliInputTest, EveryCommandNamesAMissingFileAndCreatesNothing) {
  const auto empty_dir = dir_ / "empty";
  fs::create_directories(empty_dir);
  const auto missing = empty_dir / "ledger.db";
  for (const auto& command : kReadCommands) {
    auto r = run(command + " --db " + missing.string());
    expect_plain_failure(r, missing.string() + " does not exist", command);
  }
  expect_plain_failure(run("stake --key " + key_file() + " --amount 5 --db " + missing.string()),
                       "does not exist", "stake");
  EXPECT_EQ(files_in(empty_dir), 0u);
}

TEST_F(CliInputTest, EveryCommandNamesADirectory) {
  const auto folder = dir_ / "runs";
  fs::create_directories(folder);
  for (const auto& command : kReadCommands) {
    expect_plain_failure(run(command + " --db " + folder.string()), "is a directory", command);
  }
  expect_plain_failure(run("stake --key " + key_file() + " --amount 5 --db " + folder.string()),
                       "is a directory", "stake");
}

TEST_F(CliInputTest, EveryCommandNamesAFileThatIsNotALedgerAndLeavesItAlone) {
  const auto config = dir_ / "job.toml";
  test::write_file(config, "job_id = \"mnist\"\nrounds = 3\n");
  for (const auto& command : kReadCommands) {
    expect_plain_failure(run(command + " --db " + config.string()),
                         config.string() + " is not a FedLedger ledger", command);
  }
  expect_plain_failure(run("stake --key " + key_file() + " --amount 5 --db " + config.string()),
                       "is not a FedLedger ledger", "stake");
  EXPECT_EQ(test::read_file(config), "job_id = \"mnist\"\nrounds = 3\n");
}

TEST_F(CliInputTest, ACopyWithoutItsWriteAheadLogSaysToCopyTheLogToo) {
  const auto live = dir_ / "live.db";
  auto writer = test::make_ledger(live, 2);  // still open: its blocks are in live.db-wal
  ASSERT_TRUE(fs::exists(dir_ / "live.db-wal"));
  const auto copy = dir_ / "copy.db";
  fs::copy_file(live, copy);
  for (const auto& command : kReadCommands) {
    expect_plain_failure(run(command + " --db " + copy.string()), "copy.db-wal", command);
  }
}

TEST_F(CliInputTest, ADamagedLedgerIsNamedWithoutSqlText) {
  std::string bytes = test::read_file(db_);
  ASSERT_GT(bytes.size(), 8192u);
  for (std::size_t i = 4096; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(i * 131 % 251);  // every page but the first
  const auto damaged = dir_ / "damaged.db";
  test::write_file(damaged, bytes);
  for (const auto& command : kReadCommands) {
    expect_plain_failure(run(command + " --db " + damaged.string()), "damaged.db", command);
  }
}

TEST_F(CliInputTest, HistoryAcceptsAUniquePrefixAndAPublicKeyFile) {
  const std::string full = hex(test::worker_key(1).public_key);
  auto by_full = run("history --json " + full + " " + db());
  ASSERT_EQ(by_full.code, 0) << by_full.err;
  auto by_prefix = run("history --json " + full.substr(0, 8) + " " + db());
  ASSERT_EQ(by_prefix.code, 0) << by_prefix.err;
  EXPECT_EQ(by_prefix.parsed(), by_full.parsed());
  EXPECT_EQ(by_prefix.parsed().size(), 7u);  // registration, three rounds and three mints
  const auto pub = dir_ / "w1.pub";
  ASSERT_TRUE(common::save_public_key_file(pub, test::worker_key(1).public_key).ok());
  auto by_file = run("history --json " + pub.string() + " " + db());
  ASSERT_EQ(by_file.code, 0) << by_file.err;
  EXPECT_EQ(by_file.parsed(), by_full.parsed());
}

TEST_F(CliInputTest, HistoryNamesShortUnknownAndAmbiguousPrefixes) {
  expect_plain_failure(
      run("history " + hex(test::worker_key(1).public_key).substr(0, 6) + " " + db()),
      "8 to 64 hex digits", "short");
  expect_plain_failure(run("history zzzzzzzz " + db()), "8 to 64 hex digits", "not hex");
  expect_plain_failure(run("history 00000000 " + db()), "no account on the ledger starts with",
                       "unknown");
}

TEST_F(CliInputTest, BlocksShowUtcDates) {
  auto r = run("blocks " + db());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ)"))) << r.out;
  EXPECT_FALSE(std::regex_search(r.out, std::regex(R"(\b1\d{12}\b)")))
      << r.out;  // no epoch milliseconds
  auto j = run("blocks --json " + db());
  ASSERT_EQ(j.code, 0);
  EXPECT_EQ(j.parsed()[0]["time"].get<std::string>().back(), 'Z');
}

TEST_F(CliInputTest, TraceReadsModelFilesThroughTheCommonReader) {
  const std::vector<float> params = test::ramp(9);
  common::ModelFileHeader header{"job-1", 4, "mlp", test::small_layout(),
                                 common::digest_of(params)};
  const auto file = dir_ / "global.flm";
  ASSERT_TRUE(common::save_model_file(file, header, params).ok());
  auto bytes = test::read_file(file);
  bytes.resize(bytes.size() - 4);  // one parameter short of its layout
  const auto cut = dir_ / "cut.flm";
  test::write_file(cut, bytes);
  auto r = run("trace " + cut.string() + " " + db());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cut.flm"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fl::ledger
