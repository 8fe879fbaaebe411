// A small client for etcd 3.4's v3 JSON gateway (HTTP POST /v3/kv/*, /v3/lease/*, /v3/watch;
// keys and values base64), over libcurl. The replicated block store and, later, job ownership
// through leases are built on it. Every call is bounded in time and tries the next member when
// one cannot be reached or has no leader; every failure is a Status naming the member and what
// to do. Safe to share between threads (calls are serialised on one connection).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::ledger {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // member client URLs, e.g. "http://127.0.0.1:2379"
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds request_timeout{5000};  // one HTTP request to one member
  // How long one call keeps trying members (a leader election takes about 1-3 election
  // timeouts); then the call fails with kUnavailable.
  std::chrono::milliseconds retry_budget{15000};
};

struct KeyValue {
  std::string key, value;
  std::int64_t create_revision = 0, mod_revision = 0, version = 0, lease = 0;
};

// The smallest key after every key that starts with `prefix` (etcd's range_end for a prefix).
std::string prefix_end(std::string_view prefix);

struct RangeRequest {
  std::string key;
  std::string range_end;      // empty: `key` alone
  std::int64_t revision = 0;  // 0: the newest
  std::int64_t limit = 0;     // 0: no limit
  bool keys_only = false;
};

struct RangeResult {
  std::int64_t revision = 0;  // the store's revision the answer was read at
  std::vector<KeyValue> kvs;  // by key
  bool more = false;          // `limit` cut the answer short
};

enum class CompareTarget { kValue, kVersion, kCreateRevision, kModRevision, kLease };
enum class CompareResult { kEqual, kNotEqual, kGreater, kLess };

// One condition of a txn. A missing key has version, revisions and lease 0 and no value.
struct Compare {
  std::string key;
  CompareTarget target = CompareTarget::kValue;
  CompareResult result = CompareResult::kEqual;
  std::string value;        // for kValue
  std::int64_t number = 0;  // for the other targets

  static Compare value_is(std::string key, std::string value);
  static Compare absent(std::string key);  // create_revision == 0
  static Compare lease_is(std::string key, std::int64_t lease);
};

struct TxnOp {
  enum class Kind { kPut, kRange, kDelete };
  Kind kind = Kind::kRange;
  std::string key, value, range_end;
  std::int64_t lease = 0;

  static TxnOp put(std::string key, std::string value, std::int64_t lease = 0);
  static TxnOp get(std::string key);
  static TxnOp erase(std::string key);
};

struct TxnResult {
  bool succeeded = false;
  std::int64_t revision = 0;
  std::vector<RangeResult> responses;  // one per op of the branch taken (empty for put/delete)
};

struct Lease {
  std::int64_t id = 0;
  std::int64_t ttl_s = 0;
};

struct MemberStatus {
  std::uint64_t member_id = 0;
  std::uint64_t leader_id = 0;  // 0: the member knows no leader
  std::int64_t raft_term = 0;
};

class EtcdClient {
 public:
  // Checks the options; connects lazily (a member that is down now is not an error yet).
  static Result<std::unique_ptr<EtcdClient>> create(EtcdOptions options);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  Result<RangeResult> range(const RangeRequest& request);
  // One key at `revision` (0: the newest); nullopt when absent.
  Result<std::optional<KeyValue>> get(const std::string& key, std::int64_t revision = 0);
  Result<std::int64_t> put(const std::string& key, const std::string& value,
                           std::int64_t lease = 0);  // the new revision
  Result<std::int64_t> erase(const std::string& key, const std::string& range_end = "");
  Result<TxnResult> txn(const std::vector<Compare>& compares, const std::vector<TxnOp>& success,
                        const std::vector<TxnOp>& failure);

  Result<Lease> grant_lease(std::int64_t ttl_s);
  // Renews the lease once; its remaining TTL. kNotFound when it has expired or was revoked.
  Result<std::int64_t> keep_alive(std::int64_t lease);
  Status revoke_lease(std::int64_t lease);

  // One member's own view (no failover): tests find the leader with it.
  Result<MemberStatus> member_status(std::size_t endpoint);

  const EtcdOptions& options() const { return options_; }

 private:
  explicit EtcdClient(EtcdOptions options);
  struct Connection;
  // POSTs `body` to `path`, trying members until the retry budget is spent; the parsed reply.
  Result<std::string> call(std::string_view path, const std::string& body);
  Result<std::string> call_one(std::size_t endpoint, std::string_view path, const std::string& body,
                               bool& retry_elsewhere);

  EtcdOptions options_;
  std::mutex mutex_;
  std::unique_ptr<Connection> connection_;
  std::size_t preferred_ = 0;  // the member that answered last
};

struct WatchEvent {
  enum class Kind { kPut, kDelete };
  Kind kind = Kind::kPut;
  KeyValue kv;  // for kDelete: key and mod_revision only
};

// Streams the changes to [key, range_end) on its own thread from start_revision on, moving to
// the next member (and resuming after the last event seen) when the stream breaks. poll()
// hands over what arrived; nothing of the caller's runs on the watch thread.
class EtcdWatch {
 public:
  // Returns once the first member has confirmed the watch (or fails after the retry budget).
  static Result<std::unique_ptr<EtcdWatch>> start(EtcdOptions options, std::string key,
                                                  std::string range_end,
                                                  std::int64_t start_revision);
  ~EtcdWatch();  // stops the stream (within about a second) and joins the thread
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // The events since the last poll, waiting up to `wait` for the first. An Error once the
  // watch cannot go on (every member gone past the retry budget, or its revision compacted).
  Result<std::vector<WatchEvent>> poll(std::chrono::milliseconds wait);

 private:
  struct State;
  explicit EtcdWatch(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
  std::thread thread_;
};

}  // namespace fl::ledger
