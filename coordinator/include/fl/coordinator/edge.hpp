// An edge coordinator: the middle level of a two-level job (`fl-coordinator edge`). To the job's
// owner it is one worker: it registers, consents to the job's terms, and sends one signed update
// a round. To its own workers it is the job's coordinator, with the same RoundEngine, checks and
// bounds as `fl-coordinator run`, offering them the owner's terms (which must list the edge's
// key among the job's coordinators). Each round it relays the owner's task, combines the
// accepted updates with its own rule, and forwards the result with the Merkle root of the
// update digests it took in (UpdateHeader::inputs_root), so the owner's ledger names a digest
// that commits to every worker's update. When the owner's receipt for that result comes, each
// worker gets a receipt that chains its own update to the root block (common::EdgeLink).
//
// Which rules compose across levels, and how f is counted at each: docs/hierarchy.md.
#pragma once

#include <atomic>
#include <span>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"
#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/job_config.hpp"
#include "fl/coordinator/round_collector.hpp"
#include "fl/coordinator/update_bounds.hpp"

namespace fl::coordinator {

// One round's partial result: what the level's rule combined from the accepted updates, and
// the signed header forwarded with it.
struct PartialResult {
  std::vector<float> values;
  common::UpdateHeader header;             // inputs_root = merkle_root(inputs)
  std::vector<common::Digest> inputs;      // the combined updates' signing digests, in order
  std::vector<common::PublicKey> workers;  // their keys, in the same order
  int clipped = 0;                         // updates scaled down to the level's norm bound
};

// Bounds `collected.accepted` (claims become capped weights, norms bounded) and combines them
// with `rule`, as close_round does before its server step, for the parent's task; signs the
// header with `edge_key`. The claim forwarded is the sum of the bounded weights. Errors: no
// update to combine, or the rule refused (the message says which).
Result<PartialResult> combine_at_edge(const CollectedRound& collected, AggregationRule& rule,
                                      const UpdateBounds& bounds, const common::RoundTask& parent_task,
                                      const common::KeyPair& edge_key);

// The receipt for input `i` of `partial`, from the owner's receipt for the partial result: the
// owner's ledger fields, the worker's own update digest, and the edge link.
common::Receipt edge_receipt(const common::Receipt& owner_receipt, const PartialResult& partial, std::size_t i);

// Serves the job's owner and this level's workers until the owner ends the job (ok) or `stop`
// is set (ok). Never throws.
Status run_edge(const EdgeConfig& config, const std::atomic<bool>& stop);

}  // namespace fl::coordinator
