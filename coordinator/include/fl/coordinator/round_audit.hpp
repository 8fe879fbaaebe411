// Re-running recorded rounds: for each round of a job on the ledger, fetch its updates (by the
// digests the round result names, in its order) and its previous model (by the digest the
// previous round recorded, or the terms' initial model) from an UpdateStore, check each update's
// signature and that it is the worker and sample claim the ledger names, re-run the recorded
// recipe (round_recipe.hpp: bounds, rule, server step) and compare the new model's digest with
// the recorded one. Cosine scores are re-computed too; scores of the validation scorers need
// the coordinator's validation set and are only checked for range. The payouts are checked
// against the recorded scores by `fl-ledger verify`. No torch here.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/coordinator/store_service.hpp"
#include "fl/coordinator/update_store.hpp"
#include "fl/ledger/commands.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::coordinator {

struct RoundAudit {
  std::uint64_t round = 0;
  std::uint64_t height = 0;  // the block holding the round result
  bool ok = false;
  bool rerun = false;       // the aggregate was re-run (false: not auditable, see `note`)
  std::size_t updates = 0;  // updates fetched and checked
  common::Digest recorded{}, derived{};  // model digests: on the ledger, and re-derived
  bool scores_rerun = false;
  std::string problem;  // why the round fails the audit (empty when ok)
  std::string note;     // what was not re-run and why
  double seconds = 0;   // the re-run's time (fetch, checks, aggregation)
};

struct AuditRange {
  std::optional<std::uint64_t> from, to;  // rounds, inclusive; unset: the job's first / last
};

// kNotFound for an unknown job or a range without recorded rounds; kInvalidArgument for a
// stateful rule (centered clipping) audited from past its first round. Everything
// else, a missing update included, is a failed RoundAudit naming the round.
Result<std::vector<RoundAudit>> audit_rounds(const ledger::Chain& chain, const std::string& job_id,
                                             const UpdateStore& store, AuditRange range);

// Where an audit fetches the entries its store lacks (`--fetch PEERS --key KEY`): the members'
// store servers, asked with the auditor's key (which the consortium must name).
struct StoreFetch {
  std::vector<StorePeer> peers;
  std::filesystem::path key_file;
};
// Fetches what auditing the rounds of `jobs` in `range` reads into `store` (store_service.hpp),
// printing what was present, fetched and missing to `log`. Missing entries are left to the
// audit to name.
Status fetch_for_audit(const ledger::Chain& chain, const std::vector<std::string>& jobs, const UpdateStore& store,
                       const StoreFetch& fetch, std::ostream& log, AuditRange range = {});

// What a witness runs before it cosigns (`fl-ledger witness cosign --audit STORE`): every round
// of `jobs` (empty: every job with recorded rounds) re-run from the store. The error names the
// first round that fails.
Status audit_chain(const std::filesystem::path& db, const std::filesystem::path& store_dir,
                   const std::vector<std::string>& jobs, const std::optional<StoreFetch>& fetch = std::nullopt,
                   std::ostream* log = nullptr);

// `fl-ledger audit JOB --store DIR [--round N | --from A --to B] [--json]`: prints one line (or
// JSON object) per round; exit 0 when every round passes, 1 when one fails (naming it) or the
// ledger cannot be read.
int command_audit(const ledger::CommandContext& c, const std::string& job_id,
                  const std::filesystem::path& store_dir, AuditRange range,
                  const std::optional<StoreFetch>& fetch = std::nullopt);

// `fl-ledger store serve --store DIR --key KEY --db LEDGER --listen tcp://HOST:PORT`: serves the
// store to the members and witnesses of the ledger's consortium until SIGINT/SIGTERM.
int command_store_serve(const ledger::CommandContext& c, const std::filesystem::path& store_dir,
                        const std::filesystem::path& key_file, const std::string& listen);

}  // namespace fl::coordinator
