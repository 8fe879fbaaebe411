// Runs the real fl-ledger binary on a ledger with three recorded rounds: exit code, stdout and
// stderr of one command line.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "ledger_fixture.hpp"

namespace fl::test {

struct CliRun {
  int code = -1;
  std::string out, err;
  nlohmann::json parsed() const { return nlohmann::json::parse(out); }
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { test::make_ledger(db_, 3); }

  CliRun run(const std::string& args) {
    const auto out = dir_ / "out.txt";
    const auto err = dir_ / "err.txt";
    const std::string cmd =
        std::string(FL_LEDGER_BIN) + " " + args + " >" + out.string() + " 2>" + err.string();
    const int status = std::system(cmd.c_str());
    CliRun r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = test::read_file(out);
    r.err = test::read_file(err);
    return r;
  }
  std::string db() const { return "--db " + db_.string(); }
  std::string hex(const common::PublicKey& k) const { return common::to_hex(k); }

  test::TempDir dir_{"fl-ledger-cli"};
  std::filesystem::path db_ = dir_ / "ledger.db";
};

}  // namespace fl::test
