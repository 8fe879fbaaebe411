// What the fl-ledger commands print: JSON documents and table rows for blocks, transactions,
// accounts, rounds and proofs, and the one way a command reports a failure.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "fl/ledger/commands.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::ledger {

// Prints the error (and, with --json, {"ok": false, "error": ...}) and returns exit code 1.
int fail(const CommandContext& c, const Error& e);

// "2026-11-25 15:40:01Z"
std::string utc_time(std::uint64_t time_ms);
std::string short_hex(const common::Digest& d);
std::string csv_field(const std::string& s);

nlohmann::json block_json(const Block& b);
nlohmann::json body_json(const TxBody& body);
nlohmann::json tx_json(const StoredTx& t);
nlohmann::json account_json(const common::PublicKey& key, const AccountState& a,
                            const common::PublicKey& authority);
nlohmann::json round_json(const RoundSummary& r);
void print_round(std::ostream& out, const RoundSummary& r);

nlohmann::json proof_json(const MerkleProof& p);
Result<MerkleProof> proof_from_json(const nlohmann::json& j);

}  // namespace fl::ledger
