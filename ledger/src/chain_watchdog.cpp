#include "fl/ledger/chain_watchdog.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

namespace fl::ledger {

Result<std::unique_ptr<ChainWatchdog>> ChainWatchdog::start(const EtcdStoreOptions& options,
                                                            Hook hook) {
  FL_ASSIGN_OR_RETURN(auto watch, ChainRewriteWatch::start(options));
  return std::unique_ptr<ChainWatchdog>(
      new ChainWatchdog(options, std::move(watch), std::move(hook)));
}

ChainWatchdog::ChainWatchdog(EtcdStoreOptions options, std::unique_ptr<ChainRewriteWatch> watch,
                             Hook hook)
    : options_(std::move(options)), watch_(std::move(watch)), hook_(std::move(hook)) {
  thread_ = std::thread([this] { loop(); });
}

ChainWatchdog::~ChainWatchdog() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void ChainWatchdog::loop() {
  using namespace std::chrono_literals;
  while (!stop_) {
    std::vector<ChainArchived> archived;
    auto events =
        watch_ ? watch_->poll(500ms, &archived)
               : Result<std::vector<ChainRewrite>>(make_error(ErrorCode::kUnavailable, "no watch"));
    for (const auto& a : archived) {
      spdlog::info("blocks below {} were archived out of etcd by {} (the replicas keep them, and check the archive's "
                   "final checkpoint at their next read)",
                   a.below, common::short_id(a.by));
    }
    if (!events.ok()) {
      // The stream cannot go on (every member gone past the retry budget): start a new one.
      spdlog::warn("the ledger watch on etcd stopped ({}); starting it again",
                   events.error().message);
      watch_.reset();
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(100ms);
      if (auto again = ChainRewriteWatch::start(options_); again.ok()) watch_ = std::move(*again);
      continue;
    }
    for (const auto& rw : *events) {
      ++rewrites_;
      last_height_ = rw.height;
      const std::string what = rw.key.find("/chunk/") != std::string::npos
                                   ? "a chunk of a block (" + rw.key + ")"
                                   : "block " + std::to_string(rw.height) + " (" + rw.key + ")";
      spdlog::error(
          "LEDGER ALARM: {} was {} in etcd after it was written: the chain's history was "
          "changed behind the ledger; `fl-ledger replicate` fails at that height and the "
          "replicas keep the original",
          what, rw.deleted ? "deleted" : "rewritten");
      if (hook_) hook_(rw);
    }
  }
}

}  // namespace fl::ledger
