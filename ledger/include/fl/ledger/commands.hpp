// The fl-ledger commands, as functions: each writes a table (or, with json, one JSON document)
// to `out`, problems to `err`, and returns the process exit code (0 success, 1 failure).
// ledger/main.cpp only parses arguments; tests call these or run the binary.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

namespace fl::ledger {

struct CommandContext {
  std::filesystem::path db;
  bool json = false;
  std::ostream& out;
  std::ostream& err;
};

int command_verify(const CommandContext& c);
int command_blocks(const CommandContext& c);
int command_tx(const CommandContext& c, const std::string& id);
int command_accounts(const CommandContext& c);
int command_history(const CommandContext& c, const std::string& account_hex);
int command_rounds(const CommandContext& c, const std::string& job_id);
int command_proof(const CommandContext& c, const std::string& tx_id);
// Reads a proof written by `proof --json` (no database needed).
int command_verify_proof(const CommandContext& c, const std::filesystem::path& proof_file,
                         const std::optional<std::string>& block_hash_hex, const std::optional<std::string>& authority_hex);
int command_trace(const CommandContext& c, const std::string& model_file_or_digest);
// format "csv" or "json"; with out_dir, writes transactions/accounts/rounds files there.
int command_export(const CommandContext& c, const std::string& format, const std::optional<std::filesystem::path>& out_dir);
// kind "transfer", "stake" or "unstake"; `to_hex` for transfers only.
int command_submit(const CommandContext& c, const std::string& kind, const std::filesystem::path& key_file,
                   std::uint64_t amount, const std::string& to_hex);

}  // namespace fl::ledger
