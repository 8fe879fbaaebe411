// The fl-ledger commands, as functions: each writes a table (or, with json, one JSON document)
// to `out`, problems to `err`, and returns the process exit code (0 success, 1 failure).
// ledger/main.cpp only parses arguments; tests call these or run the binary.
#pragma once

#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::ledger {

struct CommandContext {
  std::filesystem::path db;
  bool json = false;
  std::ostream& out;
  std::ostream& err;
};

int command_verify(const CommandContext& c);
// With `genesis_hex` (the hash of block 0 the caller trusts), a chain with any other genesis
// fails at block 0, however valid it is otherwise.
int command_verify(const CommandContext& c, const std::optional<std::string>& genesis_hex);
// And with `consortium_file` (consortium.hpp), a chain founded by any other consortium fails
// at block 0.
int command_verify(const CommandContext& c, const std::optional<std::string>& genesis_hex,
                   const std::optional<std::filesystem::path>& consortium_file);
int command_blocks(const CommandContext& c);
int command_tx(const CommandContext& c, const std::string& id);
int command_accounts(const CommandContext& c);
// `account`: a public key, a unique prefix of 8+ hex digits of a key on the ledger, or a key or
// public-key file.
int command_history(const CommandContext& c, const std::string& account);
int command_rounds(const CommandContext& c, const std::string& job_id);
// The terms a job opened with and every worker's recorded consent to them.
int command_terms(const CommandContext& c, const std::string& job_id);
int command_proof(const CommandContext& c, const std::string& tx_id);
// Offline (no database): a proof written by `proof --json`, or a worker's --receipts file (every
// receipt line, or only line `line`, counted from 1), each line reported as ok or what is wrong.
int command_verify_proof(const CommandContext& c, const std::filesystem::path& file,
                         const std::optional<std::string>& block_hash_hex, const std::optional<std::string>& authority_hex,
                         std::optional<std::size_t> line = std::nullopt);
// A proof from `fl-worker prove-example` against the dataset commitment `worker` (a key, a unique
// hex prefix or a key file) registered: prints "included" or "not included" (exit 0), or what
// did not verify (exit 1).
int command_check_example(const CommandContext& c, const std::string& worker,
                          const std::filesystem::path& proof_file);
int command_trace(const CommandContext& c, const std::string& model_file_or_digest);
// format "csv" or "json"; with out_dir, writes transactions/accounts/rounds files there.
int command_export(const CommandContext& c, const std::string& format, const std::optional<std::filesystem::path>& out_dir);
// kind "transfer", "stake", "unstake", "issue" (the authority's emission) or "escrow" (a
// researcher's bounty for `job_id`); `amount` as typed (see parse_token_amount); `to` for
// transfers and issues (a public key, a unique hex prefix of one on the ledger, or a key file).
int command_submit(const CommandContext& c, const std::string& kind, const std::filesystem::path& key_file,
                   const std::string& amount, const std::string& to, const std::string& job_id = "");
// `refund`: returns the unspent escrow of `job_id` to its researcher and closes the job; signed
// with the researcher's or the authority's key.
int command_refund(const CommandContext& c, const std::filesystem::path& key_file, const std::string& job_id);
// `slash --evidence FILE`: slashes `fraction` of the stake of the worker whose two signed
// updates the evidence holds (a line of the coordinator's evidence.jsonl, the first unless
// `line` is given, counted from 1), signed with the authority's key.
int command_slash(const CommandContext& c, const std::filesystem::path& key_file,
                  const std::filesystem::path& evidence_file, double fraction, std::size_t line);

// A witness's view: `witness init` creates an empty one in `state_dir` for the key in `key_file`;
// `witness cosign` cosigns the head of c.db (opened read-only) when its chain verifies and extends
// the view, printing the cosigned checkpoint (and writing it to out_file); a refusal prints why,
// naming the height(s), with the proof of misbehaviour when there is one, and returns 1.
// With `publish.etcd`, the cosignature is also put beside that etcd chain (etcd_checkpoints.hpp),
// where the job's owner picks it up for its workers.
struct ConsortiumTarget;
int command_witness_init(const CommandContext& c, const std::filesystem::path& key_file,
                         const std::filesystem::path& state_dir);
int command_witness_cosign(const CommandContext& c, const std::filesystem::path& key_file,
                           const std::filesystem::path& state_dir,
                           const std::optional<std::filesystem::path>& out_file, const ConsortiumTarget& publish);
// Offline: a cosigned checkpoint (or a witness's proof of misbehaviour) must carry k valid
// cosignatures by distinct keys among `witnesses` (key files or hex public keys).
// With no `witnesses`, the ledger c.db's consortium names them and the quorum is k (unless k is
// given), and the checkpoint must be about that ledger's chain: ok means final.
int command_checkpoint_verify(const CommandContext& c, const std::filesystem::path& file,
                              const std::vector<std::string>& witnesses, std::size_t k);
// Cosignatures of one checkpoint from several files (one per witness) into `out_file`.
int command_checkpoint_combine(const CommandContext& c, const std::vector<std::filesystem::path>& files,
                               const std::filesystem::path& out_file);

// `replicate`: brings the SQLite replica c.db (created when missing) up to the chain in etcd
// (`endpoints`: "http://HOST:PORT,..."; keys under /fedledger/<chain>/) and verifies it in full;
// prints etcd's and the replica's height and head hash. Fails (1) naming the height when a
// block in etcd differs from the replica's, is gone, or fails verification.
int command_replicate(const CommandContext& c, const std::string& endpoints, const std::string& chain);
// `archive`: moves the blocks below a final checkpoint out of etcd, after the replica c.db is
// synced and verified (docs/ledger-replication.md, "Archiving old history"). The checkpoint is
// `checkpoint_file` (a cosigned checkpoint with the consortium's quorum), or the highest final
// one published in etcd; `key_file` is the archiving member's key, named in the marker.
int command_archive(const CommandContext& c, const std::string& endpoints, const std::string& chain,
                    const std::string& checkpoint_file, const std::filesystem::path& key_file);

// `consortium`: the federation's members, witnesses, quorum and minters (consortium.hpp).
// show: the consortium now (and the founding one). found: writes the genesis block naming the
// consortium in `consortium_file`, proposed by the member `key_file`. propose: writes a change
// to the consortium in `consortium_file` (the next epoch) to `out_file`; approve: adds the
// member's approval to that file; submit: appends it once a quorum approved. found and submit
// write to c.db, or with target.etcd to the etcd chain (c.db its replica).
struct ConsortiumTarget {
  std::string etcd;  // "http://HOST:PORT,..." or empty
  std::string chain = "main";
};
int command_consortium_show(const CommandContext& c);
int command_consortium_found(const CommandContext& c, const ConsortiumTarget& target,
                             const std::filesystem::path& key_file, const std::filesystem::path& consortium_file);
int command_consortium_propose(const CommandContext& c, const std::filesystem::path& consortium_file,
                               const std::filesystem::path& out_file);
int command_consortium_approve(const CommandContext& c, const std::filesystem::path& change_file,
                               const std::filesystem::path& key_file);
int command_consortium_submit(const CommandContext& c, const ConsortiumTarget& target,
                              const std::filesystem::path& change_file, const std::filesystem::path& key_file);

// A token amount typed on the command line: decimal digits only, 1 to 2^64-1. "-5", "1.5",
// "1e3" and anything above 18446744073709551615 are refused with a message naming `option`.
Result<std::uint64_t> parse_token_amount(std::string_view text, std::string_view option);

}  // namespace fl::ledger
