// fl-ledger check-example: checks a worker's proof (from fl-worker prove-example) that an
// example is, or is not, in the dataset it committed to at registration, against the Merkle
// commitment the ledger recorded for that worker.
#include <fstream>
#include <nlohmann/json.hpp>

#include "command_format.hpp"
#include "fl/common/dataset_commitment.hpp"
#include "fl/ledger/commands.hpp"
#include "fl/ledger/queries.hpp"

namespace fl::ledger {
namespace {

using common::to_hex;
using nlohmann::json;

struct RecordedCommitment {
  std::uint64_t height = 0;
  std::string fingerprint;
};

// Every dataset fingerprint `worker` registered, oldest first.
std::vector<RecordedCommitment> registrations_of(const Chain& chain,
                                                 const common::PublicKey& worker) {
  std::vector<RecordedCommitment> out;
  for (const auto& stored : chain.txs) {
    const auto* reg = std::get_if<RegisterBody>(&stored.tx.body);
    if (reg && stored.tx.issuer == worker) out.push_back({stored.height, reg->dataset_fingerprint});
  }
  return out;
}

// The registration whose commitment has the proof's root; else the newest, so the check names
// the root the ledger holds.
Result<std::pair<RecordedCommitment, common::DatasetCommitment>> commitment_for(
    std::span<const RecordedCommitment> recorded, const common::ExampleProof& proof,
    const common::PublicKey& worker) {
  if (recorded.empty()) {
    return make_error(ErrorCode::kNotFound,
                      "worker " + to_hex(worker) + " has no registration on this ledger");
  }
  for (const auto& r : recorded) {
    auto c = common::parse_dataset_commitment(r.fingerprint);
    if (c.ok() && c->root == proof.root) return std::pair{r, *c};
  }
  const auto& newest = recorded.back();
  auto c = common::parse_dataset_commitment(newest.fingerprint);
  if (!c.ok()) {
    return with_context(c.error(), "worker " + common::short_id(worker) +
                                       "'s registration in block " + std::to_string(newest.height) +
                                       " (registered before data provenance?)");
  }
  return std::pair{newest, *c};
}

Result<common::ExampleProof> read_proof(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(ErrorCode::kNotFound, "cannot read proof file " + file.string());
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return common::example_proof_from_json(text, file.string());
}

}  // namespace

int command_check_example(const CommandContext& c, const std::string& worker_id,
                          const std::filesystem::path& proof_file) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  auto worker = resolve_account(*chain, worker_id);
  if (!worker.ok()) return fail(c, with_context(worker.error(), "--worker"));
  auto proof = read_proof(proof_file);
  if (!proof.ok()) return fail(c, proof.error());
  const auto recorded = registrations_of(*chain, *worker);
  auto found = commitment_for(recorded, *proof, *worker);
  if (!found.ok()) return fail(c, found.error());
  const auto& [registration, commitment] = *found;
  auto membership = common::check_example_proof(*proof, commitment);
  if (!membership.ok()) {
    return fail(c, with_context(membership.error(), "against worker " + common::short_id(*worker) +
                                                        "'s dataset recorded in block " +
                                                        std::to_string(registration.height)));
  }
  if (c.json) {
    c.out << json{{"ok", true},
                  {"membership", common::to_string(*membership)},
                  {"example", to_hex(proof->example)},
                  {"worker", to_hex(*worker)},
                  {"registered_in_block", registration.height},
                  {"commitment", registration.fingerprint}}
                 .dump(2)
          << '\n';
  } else {
    c.out << common::to_string(*membership) << ": example " << to_hex(proof->example)
          << (*membership == common::Membership::kIncluded ? " is" : " is not")
          << " in the dataset worker " << common::short_id(*worker) << " registered in block "
          << registration.height << " (" << registration.fingerprint << ")\n";
  }
  return 0;
}

}  // namespace fl::ledger
