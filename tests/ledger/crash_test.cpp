// A writer killed with SIGKILL at an arbitrary moment while appending blocks in a loop leaves
// whole blocks only: after reopening, verify passes and the writer carries on.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <thread>

#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

std::uint64_t committed_blocks(const std::filesystem::path& db) {
  sqlite3* raw = nullptr;
  std::uint64_t n = 0;
  if (sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(raw, 2000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(raw, "SELECT count(*) FROM blocks", -1, &st, nullptr) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
      n = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(raw);
  return n;
}

// The child: append rounds of 6 workers forever (until killed).
[[noreturn]] void append_forever(const std::filesystem::path& db) {
  auto opened = Ledger::open(db);
  if (!opened.ok()) _exit(3);
  auto led = std::move(opened).value();
  const auto regs = test::registrations(6);
  for (std::uint64_t round = led->height() + 1;; ++round) {
    auto r = led->record_round(test::authority_key(), test::researcher_key(), test::job_record(), regs,
                               test::round_record(round, {0, 1, 2, 3, 4}, {0.9, 0.7, 0.5, 0.3, 0.1}, {5}));
    if (!r.ok()) _exit(4);
  }
}

TEST(CrashTest, KilledWriterLeavesWholeBlocksAndTheLedgerVerifies) {
  test::TempDir dir("fl-crash");
  const auto db = dir / "ledger.db";
  test::make_ledger(db, 0);
  std::uint64_t last = committed_blocks(db);
  for (int attempt = 0; attempt < 20; ++attempt) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) append_forever(db);
    // Let it write a few blocks, then kill it at a moment that varies with the attempt.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (committed_blocks(db) < last + 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::microseconds((attempt * 997) % 5000 + 100));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "writer exited by itself with " << WEXITSTATUS(status);

    auto report = verify_ledger(db);
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    ASSERT_TRUE(report->ok) << "attempt " << attempt << ": " << report->failure->to_string();
    EXPECT_GT(report->blocks, last);
    last = report->blocks;
  }
  // The ledger takes new blocks after the crashes.
  auto led = Ledger::open(db).value();
  auto r = led->record_round(test::authority_key(), test::researcher_key(), test::job_record(), {},
                             test::round_record(led->height() + 1, {0}, {1.0}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(verify_ledger(db)->ok);
}

}  // namespace
}  // namespace fl::ledger
