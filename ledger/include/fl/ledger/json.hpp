// The ledger as JSON: one renderer per thing a reader asks about (block, transaction, account,
// round, Merkle proof). `fl-ledger --json`, `fl-ledger serve` and the coordinator's HTTP API all
// print through these, so a field has one name everywhere.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "fl/common/result.hpp"
#include "fl/ledger/ledger.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::ledger {

// "2026-11-25 15:40:01Z"
std::string utc_time(std::uint64_t time_ms);
// The first 16 hex digits of a digest.
std::string short_hex(const common::Digest& d);

nlohmann::json block_json(const Block& b);
nlohmann::json body_json(const TxBody& body);
nlohmann::json tx_json(const StoredTx& t);
nlohmann::json account_json(const common::PublicKey& key, const AccountState& a,
                            const common::PublicKey& authority);
nlohmann::json round_json(const RoundSummary& r);

// What verify_ledger found: ok, counts, supply totals and the first failure (or null).
nlohmann::json verify_json(const VerifyReport& r);

nlohmann::json proof_json(const MerkleProof& p);
// Reads what proof_json wrote; kInvalidArgument naming the missing or bad field.
Result<MerkleProof> proof_from_json(const nlohmann::json& j);

// Equivocation evidence as the coordinator's evidence file holds it (one object per line) and
// `fl-ledger slash --evidence` reads it: {"worker", "job_id", "round", "first", "second"}, each
// update as {"version", "header_digest", "payload_digest", "signature"} in hex.
nlohmann::json evidence_json(const EquivocationEvidence& e);
// kInvalidArgument naming the missing or bad field.
Result<EquivocationEvidence> evidence_from_json(const nlohmann::json& j);

}  // namespace fl::ledger
