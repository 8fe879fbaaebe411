// Members fetch each other's update stores (update_store.hpp) over CURVE. A member runs a store
// server (`fl-ledger store serve`): a ROUTER socket with the member's key that admits only the
// keys `allowed` accepts (the ledger's consortium: its members and witnesses) and answers each
// StoreRequest with the stored file. An auditor fetches what its own store lacks from the
// members it names (endpoint and pinned key), keeping an entry only once it checks out against
// its digest (and an update against its worker's signature), so a member serving junk costs a
// retry elsewhere, never a wrong audit. No torch here.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/update_store.hpp"
#include "fl/ledger/consortium.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::coordinator {

// "tcp://HOST:PORT@KEY,...": each member's store server and the key it must prove (64 hex
// digits, or a key or public-key file relative to `base_dir`).
struct StorePeer {
  std::string endpoint;
  common::PublicKey key{};
};
Result<std::vector<StorePeer>> parse_store_peers(std::string_view text, const std::filesystem::path& base_dir = {});

// Who may fetch from a member's store: the consortium's members and witnesses.
std::vector<common::PublicKey> store_readers(const ledger::Consortium& c);

// A key list one thread updates and a store server's thread reads.
class SharedKeys {
 public:
  void set(std::vector<common::PublicKey> keys) {
    std::lock_guard lock(mutex_);
    keys_ = std::move(keys);
  }
  std::vector<common::PublicKey> get() const {
    std::lock_guard lock(mutex_);
    return keys_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<common::PublicKey> keys_;
};

class StoreServer {
 public:
  // The Ed25519 keys that may fetch, asked again for each connection (the consortium can change).
  using Allowed = std::function<std::vector<common::PublicKey>()>;
  // Binds `endpoint` ("tcp://127.0.0.1:0" picks a port) and serves `store_dir` on a thread,
  // to CURVE clients holding one of the `allowed` keys.
  static Result<std::unique_ptr<StoreServer>> start(std::filesystem::path store_dir, const common::KeyPair& own,
                                                    const std::string& endpoint, Allowed allowed);
  ~StoreServer();
  StoreServer(const StoreServer&) = delete;
  StoreServer& operator=(const StoreServer&) = delete;
  const std::string& endpoint() const { return endpoint_; }
  std::uint64_t served() const { return served_; }
  std::uint64_t refused_connections() const { return refused_; }

 private:
  StoreServer() = default;
  void loop();
  bool admits(const common::CurvePublicKey& client) const;
  std::unique_ptr<struct StoreServerSockets> sockets_;
  UpdateStore store_{""};
  Allowed allowed_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> served_{0}, refused_{0};
  std::thread thread_;
};

// One entry of a store: an update (model = false) or a global model, by digest.
struct StoreEntry {
  bool model = false;
  common::Digest digest{};
  bool operator<(const StoreEntry& o) const { return std::tie(model, digest) < std::tie(o.model, o.digest); }
};

// What auditing `job_id`'s rounds in [from, to] reads: each round's updates, its model and the
// model before it (the initial model is the job's terms' model digest).
std::vector<StoreEntry> entries_for_rounds(const ledger::Chain& chain, const std::string& job_id,
                                           std::uint64_t from, std::uint64_t to);

struct FetchReport {
  std::size_t present = 0;  // already in the store
  std::size_t fetched = 0;  // fetched and checked
  std::vector<std::string> problems;  // entries no peer could supply, and peers that served junk
};

// Fetches every entry of `wanted` that `store` lacks, asking `peers` in turn (CURVE client with
// `own`, each peer's key pinned; `timeout` per request). Entries no peer has stay missing (the
// audit then names the round); only an unusable socket setup is an Error.
Result<FetchReport> fetch_missing(const UpdateStore& store, const std::vector<StoreEntry>& wanted,
                                  const std::vector<StorePeer>& peers, const common::KeyPair& own,
                                  std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace fl::coordinator
