// Latency (p50, p99) and rate of 1 KiB-block appends to the etcd-replicated ledger on a
// 3-member loopback cluster: the store's guarded txn alone, and the whole Ledger path (catch-up
// read, rule checks, signing, append). The reference is a raw 1 KiB etcd put through the same
// client in the same run: what one replicated, fsynced write costs here.
// Run: build-*/bin/etcd_append_bench [appends=500] [members=3] (never part of ctest).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "fl/common/merkle.hpp"
#include "fl/common/registration.hpp"
#include "fl/ledger/etcd_block_store.hpp"
#include "fl/ledger/ledger.hpp"
#include "support/etcd_cluster.hpp"

namespace {

using namespace fl;
using Clock = std::chrono::steady_clock;
constexpr std::size_t kFingerprintBytes = 505;  // makes the stored block record ~1 KiB

struct Figures {
  double p50_ms = 0, p99_ms = 0, per_s = 0;
};

// Times `n` calls of `op(i)`; aborts on the first failure (a benchmark of errors is no use).
template <typename Op>
Figures measure(int n, Op op) {
  std::vector<double> ms;
  ms.reserve(n);
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    auto st = op(i);
    if (!st.ok()) {
      std::fprintf(stderr, "failed: %s\n", st.error().to_string().c_str());
      std::exit(1);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  const double total_s = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) { return ms[std::min(ms.size() - 1, std::size_t(q * ms.size()))]; };
  return {at(0.50), at(0.99), n / total_s};
}

void print(const char* what, const Figures& f) {
  std::printf("%-44s p50 %7.3f ms  p99 %7.3f ms  %8.1f /s\n", what, f.p50_ms, f.p99_ms, f.per_s);
}

ledger::Transaction registration(int i) {
  const auto k = common::key_pair_from_label("bench-worker-" + std::to_string(i));
  const std::string fp(kFingerprintBytes, 'a' + i % 26);
  return {k.public_key, 0, 1, ledger::RegisterBody{fp},
          common::sign(k.secret_key, common::registration_digest(k.public_key, fp, 1))};
}

}  // namespace

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 500;
  const int members = argc > 2 ? std::atoi(argv[2]) : 3;
  if (!test::EtcdCluster::binary()) {
    std::fprintf(stderr, "etcd is not installed (apt-get install etcd-server)\n");
    return 1;
  }
  auto cluster = test::EtcdCluster::start(members);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.error().to_string().c_str());
    return 1;
  }
  ledger::EtcdStoreOptions o;
  o.etcd = (*cluster)->options();
  const auto authority = common::key_pair_from_label("bench-authority");

  // The store's own append: synthetic chained blocks of one ~1 KiB register record.
  o.chain = "store";
  auto store = ledger::EtcdBlockStore::open(o).value();
  std::vector<ledger::Block> blocks;
  std::vector<ledger::Transaction> txs;
  std::vector<std::vector<std::uint8_t>> bodies;
  std::vector<common::Digest> hashes;
  common::Digest prev{};
  for (int i = 0; i < n; ++i) {
    txs.push_back(registration(i));
    bodies.push_back(ledger::encode(txs.back()));
    hashes.push_back(ledger::tx_hash(bodies.back(), txs.back().signature));
    ledger::BlockHeader h{static_cast<std::uint64_t>(i),
                          prev,
                          common::merkle_root(std::span(&hashes.back(), 1)),
                          ledger::now_ms(),
                          1,
                          authority.public_key};
    blocks.push_back(ledger::seal_block(h, authority));
    prev = blocks.back().hash;
  }
  const auto record = ledger::encode_stored_block(
      {ledger::BlockRecord{0, std::vector<std::uint8_t>(32), std::vector<std::uint8_t>(32),
                           std::vector<std::uint8_t>(32), std::vector<std::uint8_t>(32),
                           std::vector<std::uint8_t>(64), 0, 1},
       {ledger::TxRecord{0, 0, std::vector<std::uint8_t>(32), std::vector<std::uint8_t>(32),
                         bodies[0], std::vector<std::uint8_t>(64), 1, 0, std::nullopt}}});
  std::printf("etcd %d member(s) on loopback, %d appends, block record %zu bytes\n", members, n,
              record.size());

  const std::string value(1024, 'v');
  auto& client = store->client();
  const auto reference = measure(n, [&](int i) -> Status {
    auto r = client.put("/bench/raw/" + std::to_string(i), value);
    if (!r.ok()) return r.error();
    return ok_status();
  });
  print("reference: raw etcd put, 1 KiB", reference);

  const auto appended = measure(n, [&](int i) {
    return store->append(blocks[i], std::span(&txs[i], 1), std::span(&bodies[i], 1),
                         std::span(&hashes[i], 1));
  });
  print("EtcdBlockStore::append, 1 KiB block", appended);

  // The whole Ledger path on a chain of its own.
  o.chain = "ledger";
  auto led = ledger::Ledger::open(ledger::EtcdBlockStore::open(o).value()).value();
  if (!led->initialize(authority).ok()) return 1;
  const auto whole = measure(n, [&](int i) -> Status {
    auto b = led->append_block(authority, {registration(n + i)});
    if (!b.ok()) return b.error();
    return ok_status();
  });
  print("Ledger::append_block over etcd, 1 KiB block", whole);
  std::printf("store append / raw put latency (p50): %.2fx\n", appended.p50_ms / reference.p50_ms);
  return 0;
}
