// fl-ledger witness init|cosign and fl-ledger checkpoint verify: a witness's
// view on disk, its cosignature of a ledger's head (or its refusal, with a
// proof of misbehaviour when it has one), and the offline check of a cosigned
// checkpoint or such a proof against a set of witnesses.
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "command_format.hpp"
#include "fl/common/checkpoint.hpp"
#include "fl/common/checkpoint_keeper.hpp"
#include "fl/common/text_file.hpp"
#include "fl/ledger/checkpoint.hpp"
#include "fl/ledger/commands.hpp"
#include "fl/ledger/etcd_checkpoints.hpp"
#include "fl/ledger/replicated_block_store.hpp"
#include "fl/ledger/witness.hpp"

namespace fl::ledger {

using common::to_hex;
using nlohmann::json;

int command_witness_init(const CommandContext& c, const std::filesystem::path& key_file,
                         const std::filesystem::path& state_dir) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, key.error());
  if (auto st = Witness::init(state_dir, key->public_key); !st.ok()) return fail(c, st.error());
  if (c.json) {
    c.out << json{{"ok", true}, {"witness", to_hex(key->public_key)}, {"state", state_dir.string()}}
                 .dump(2)
          << '\n';
  } else {
    c.out << "witness " << to_hex(key->public_key) << ": empty view in " << state_dir.string()
          << '\n';
  }
  return 0;
}

int command_witness_cosign(const CommandContext& c, const std::filesystem::path& key_file,
                           const std::filesystem::path& state_dir,
                           const std::optional<std::filesystem::path>& out_file, const ConsortiumTarget& publish) {
  std::optional<EtcdStoreOptions> publish_to;  // checked before anything is cosigned
  if (!publish.etcd.empty()) {
    auto urls = parse_etcd_endpoints(publish.etcd, "--publish");
    if (!urls.ok()) return fail(c, urls.error());
    publish_to.emplace();
    publish_to->etcd.endpoints = *urls;
    publish_to->chain = publish.chain;
  }
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, key.error());
  auto witness = Witness::open(state_dir, std::move(key).value());
  if (!witness.ok()) return fail(c, witness.error());
  auto store = open_sqlite_block_store(c.db, StoreAccess::kReadOnly);
  if (!store.ok()) return fail(c, store.error());
  auto outcome = witness->cosign(**store);
  if (!outcome.ok()) return fail(c, outcome.error());
  if (!outcome->verdict.ok()) {
    const std::string why = outcome->verdict.error().message;
    json j{{"ok", false},
           {"refused", why},
           {"misbehaviour_proof",
            outcome->proof ? misbehaviour_proof_json(*outcome->proof) : json(nullptr)}};
    c.out << j.dump(2, ' ', false, json::error_handler_t::replace) << '\n';  // paths in `why`
    c.err << "fl-ledger witness cosign: " << c.db.string() << ": " << why << '\n';
    return 1;
  }
  const std::string text = common::cosigned_checkpoint_to_json(*outcome->cosigned, 2) + "\n";
  if (out_file) {
    if (auto st = common::write_file_durably(*out_file, text); !st.ok()) return fail(c, st.error());
  }
  if (publish_to) {
    if (auto st = publish_cosignatures(*publish_to, *outcome->cosigned); !st.ok()) return fail(c, st.error());
  }
  c.out << text;
  return 0;
}

namespace {

// A witness named on the command line: a key or public-key file, or 64 hex digits.
Result<common::PublicKey> witness_key(const std::string& arg) {
  auto key = common::public_key_from_text(arg);
  if (!key.ok()) return with_context(key.error(), "--witness (a key file or 64 hex digits)");
  return key;
}

Result<std::string> read_text(const std::filesystem::path& file) { return common::read_text_file(file); }

}  // namespace

int command_checkpoint_verify(const CommandContext& c, const std::filesystem::path& file,
                              const std::vector<std::string>& witness_args, std::size_t k) {
  std::vector<common::PublicKey> witnesses;
  for (const auto& a : witness_args) {
    auto key = witness_key(a);
    if (!key.ok()) return fail(c, key.error());
    witnesses.push_back(*key);
  }
  std::optional<common::Digest> chain_id;
  if (!witness_args.empty() && k == 0) {
    return fail(c, make_error(ErrorCode::kInvalidArgument, "--k (how many of the --witness keys must cosign) is required"));
  }
  if (witness_args.empty()) {  // the ledger's consortium says who witnesses and how many must
    if (c.db.empty()) {
      return fail(c, make_error(ErrorCode::kInvalidArgument,
                                "give the allowed witnesses (--witness KEY ... --k N) or the ledger (--db) whose "
                                "consortium names them"));
    }
    auto chain = load_chain(c.db);
    if (!chain.ok()) return fail(c, chain.error());
    if (chain->blocks.empty()) return fail(c, make_error(ErrorCode::kNotFound, c.db.string() + " has no genesis block"));
    const auto& consortium = chain->state.consortium();
    if (consortium.witnesses.empty()) {
      return fail(c, make_error(ErrorCode::kPrecondition,
                                c.db.string() + ": the ledger's consortium names no witnesses (`fl-ledger consortium show`)"));
    }
    witnesses = consortium.witnesses;
    if (k == 0) k = consortium.quorum;
    chain_id = chain->blocks.front().hash;
  }
  auto text = read_text(file);
  if (!text.ok()) return fail(c, text.error());
  const json j = json::parse(*text, nullptr, false);
  Status st;
  std::string what;
  if (j.is_object() && j.contains("conflicting_block")) {
    auto proof = misbehaviour_proof_from_json(j);
    if (!proof.ok()) return fail(c, with_context(proof.error(), file.string()));
    st = verify_misbehaviour_proof(*proof, witnesses, k);
    what = "proof of misbehaviour: " + proof->conflict;
  } else if (j.is_object() && j.contains("held") && j.contains("offered")) {  // a worker's evidence
    auto evidence = common::checkpoint_evidence_from_json(*text);
    if (!evidence.ok()) return fail(c, with_context(evidence.error(), file.string()));
    st = common::verify_checkpoint_evidence(*evidence, witnesses, k);
    what = "proof of misbehaviour: both checkpoints carry " + std::to_string(k) +
           " valid cosignatures and cannot both be of one append-only chain (" + evidence->conflict + ")";
  } else {
    auto cp = common::cosigned_checkpoint_from_json(*text);
    if (!cp.ok()) return fail(c, with_context(cp.error(), file.string()));
    st = common::verify_cosigned(*cp, witnesses, k);
    if (st.ok() && chain_id && cp->checkpoint.chain_id != *chain_id) {
      st = make_error(ErrorCode::kPrecondition, "the checkpoint is about chain " + short_hex(cp->checkpoint.chain_id) +
                                                    ", not this ledger's " + short_hex(*chain_id));
    }
    what = "checkpoint at height " + std::to_string(cp->checkpoint.height) + " (head " +
           short_hex(cp->checkpoint.head_hash) + ") has at least " + std::to_string(k) + " valid cosignature(s)" +
           (chain_id ? ": final by the consortium's quorum" : "");
  }
  if (c.json) {
    c.out << json{{"ok", st.ok()}, {"error", st.ok() ? "" : st.error().to_string()}}.dump(2)
          << '\n';
  } else {
    c.out << (st.ok() ? "ok: " + what : "FAILED: " + st.error().to_string()) << '\n';
  }
  if (!st.ok())
    c.err << "fl-ledger checkpoint verify: " << file.string() << ": " << st.error().message << '\n';
  return st.ok() ? 0 : 1;
}

int command_checkpoint_combine(const CommandContext& c, const std::vector<std::filesystem::path>& files,
                               const std::filesystem::path& out_file) {
  std::optional<common::CosignedCheckpoint> combined;
  for (const auto& file : files) {
    auto text = read_text(file);
    if (!text.ok()) return fail(c, text.error());
    auto cp = common::cosigned_checkpoint_from_json(*text);
    if (!cp.ok()) return fail(c, with_context(cp.error(), file.string()));
    if (!combined) {
      combined = std::move(cp).value();
      continue;
    }
    if (!(cp->checkpoint == combined->checkpoint)) {
      return fail(c, make_error(ErrorCode::kInvalidArgument,
                                file.string() + " cosigns height " + std::to_string(cp->checkpoint.height) + " head " +
                                    short_hex(cp->checkpoint.head_hash) + ", not the same checkpoint as " +
                                    files.front().string() + " (height " + std::to_string(combined->checkpoint.height) +
                                    "): only cosignatures of one checkpoint combine"));
    }
    for (const auto& sig : cp->cosignatures) {
      const bool known = std::any_of(combined->cosignatures.begin(), combined->cosignatures.end(),
                                     [&](const auto& held) { return held.witness == sig.witness; });
      if (!known) combined->cosignatures.push_back(sig);
    }
  }
  if (!combined) return fail(c, make_error(ErrorCode::kInvalidArgument, "no checkpoint files given"));
  if (auto st = common::write_file_durably(out_file, common::cosigned_checkpoint_to_json(*combined, 2) + "\n"); !st.ok()) {
    return fail(c, st.error());
  }
  c.out << "checkpoint at height " << combined->checkpoint.height << " with " << combined->cosignatures.size()
        << " cosignatures written to " << out_file.string() << '\n';
  return 0;
}

}  // namespace fl::ledger
