// Builders for ledger tests: deterministic keys, signed registrations, and a ledger on a real
// SQLite file with a few workers, one job and some rounds already recorded.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fl/common/merkle.hpp"
#include "fl/common/registration.hpp"
#include "fl/ledger/block_store.hpp"
#include "fl/ledger/ledger.hpp"
#include "support/builders.hpp"

namespace fl::test {

inline common::KeyPair worker_key(int i) { return common::key_pair_from_label("worker-" + std::to_string(i)); }
inline common::KeyPair authority_key() { return common::key_pair_from_label("authority"); }
inline common::KeyPair researcher_key() { return common::key_pair_from_label("researcher"); }

inline ledger::RegistrationRecord registration(const common::KeyPair& worker, std::uint64_t timestamp_ms = 1000) {
  const std::string fp = "fashion-mnist/" + common::short_id(worker.public_key);
  return {worker.public_key, fp, timestamp_ms,
          common::sign(worker.secret_key, common::registration_digest(worker.public_key, fp, timestamp_ms))};
}

inline ledger::JobRecord job_record(const std::string& id = "job-1", std::uint64_t reward = 1000) {
  return {id, researcher_key().public_key, "mlp", "krum(f=1)", reward};
}

inline common::Digest digest_of_text(const std::string& s) { return common::blake2b_256(s); }

// A round of `workers` (indexes) with the given scores, plus optional rejected workers.
inline ledger::RoundRecord round_record(std::uint64_t round, const std::vector<int>& workers,
                                        const std::vector<double>& scores, const std::vector<int>& rejected = {},
                                        const std::string& job = "job-1") {
  ledger::RoundRecord r{job, round, digest_of_text("model " + job + " " + std::to_string(round)), "krum(f=1)", "cosine", {}, {}};
  for (std::size_t i = 0; i < workers.size(); ++i) {
    r.accepted.push_back({worker_key(workers[i]).public_key,
                          digest_of_text("update " + std::to_string(round) + " " + std::to_string(workers[i])),
                          scores[i], 100 + static_cast<std::uint64_t>(workers[i])});
  }
  for (int w : rejected) {
    r.rejected.push_back({worker_key(w).public_key, digest_of_text("bad " + std::to_string(round) + std::to_string(w)),
                          "non-finite values"});
  }
  return r;
}

inline std::vector<ledger::RegistrationRecord> registrations(int n) {
  std::vector<ledger::RegistrationRecord> out;
  for (int i = 0; i < n; ++i) out.push_back(registration(worker_key(i)));
  return out;
}

// A ledger with 4 registered workers and `rounds` rounds of job-1 (worker 3 rejected each time).
inline std::unique_ptr<ledger::Ledger> make_ledger(const std::filesystem::path& db, int rounds) {
  auto opened = ledger::Ledger::open(db);
  EXPECT_TRUE(opened.ok()) << opened.error().to_string();
  auto led = std::move(opened).value();
  auto init = led->initialize(authority_key());
  EXPECT_TRUE(init.ok()) << init.error().to_string();
  const auto regs = registrations(4);
  for (int r = 1; r <= rounds; ++r) {
    auto receipts = led->record_round(authority_key(), researcher_key(), job_record(), regs,
                                      round_record(r, {0, 1, 2}, {0.9, 0.6, 0.3}, {3}));
    EXPECT_TRUE(receipts.ok()) << receipts.error().to_string();
  }
  return led;
}

// Appends a well-signed block holding `txs` straight into the SQLite file, past the writer's
// rule checks: what an authority that lies could write. Returns the new block's height.
inline std::uint64_t append_unchecked(const std::filesystem::path& db, std::vector<ledger::Transaction> txs,
                                      const common::KeyPair& proposer = authority_key()) {
  auto store = ledger::open_sqlite_block_store(db, ledger::StoreAccess::kReadWrite).value();
  const auto head = ledger::to_block(store->head().value().value()).value();
  std::vector<std::vector<std::uint8_t>> bodies;
  std::vector<common::Digest> hashes;
  for (const auto& tx : txs) {
    bodies.push_back(ledger::encode(tx));
    hashes.push_back(ledger::tx_hash(bodies.back(), tx.signature));
  }
  ledger::BlockHeader header{head.header.height + 1, head.hash, common::merkle_root(hashes),
                             head.header.time_ms,    txs.size(), proposer.public_key};
  EXPECT_TRUE(store->append(ledger::seal_block(header, proposer), txs, bodies, hashes).ok());
  return header.height;
}

}  // namespace fl::test
