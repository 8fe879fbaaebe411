// Raises the alarm when history changes in etcd: blocks are written once, so any later put or
// delete of a block (or chunk) key is a rewrite. The watchdog streams the chain's block keys
// on its own thread, logs an error naming the height for each rewrite, counts them, and calls
// the caller's hook (e.g. to write the alarm to a file or a metric).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "fl/common/result.hpp"
#include "fl/ledger/etcd_block_store.hpp"

namespace fl::ledger {

class ChainWatchdog {
 public:
  using Hook = std::function<void(const ChainRewrite&)>;  // runs on the watchdog's thread
  // Returns once etcd confirmed the watch (from now on).
  static Result<std::unique_ptr<ChainWatchdog>> start(const EtcdStoreOptions& options, Hook hook);
  ~ChainWatchdog();  // stops and joins the thread (within about a second)
  ChainWatchdog(const ChainWatchdog&) = delete;
  ChainWatchdog& operator=(const ChainWatchdog&) = delete;

  std::uint64_t rewrites() const { return rewrites_.load(); }
  // The height named by the newest alarm (0 before any, or for a chunk).
  std::uint64_t last_height() const { return last_height_.load(); }

 private:
  ChainWatchdog(EtcdStoreOptions options, std::unique_ptr<ChainRewriteWatch> watch, Hook hook);
  void loop();

  EtcdStoreOptions options_;
  std::unique_ptr<ChainRewriteWatch> watch_;
  Hook hook_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> rewrites_{0}, last_height_{0};
  std::thread thread_;
};

}  // namespace fl::ledger
