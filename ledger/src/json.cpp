#include "fl/ledger/json.hpp"

#include <ctime>

namespace fl::ledger {

using common::to_hex;
using nlohmann::json;

json block_json(const Block& b) {
  const auto& h = b.header;
  return {{"height", h.height},
          {"hash", to_hex(b.hash)},
          {"prev_hash", to_hex(h.prev_hash)},
          {"merkle_root", to_hex(h.merkle_root)},
          {"time_ms", h.time_ms},
          {"time", utc_time(h.time_ms)},
          {"tx_count", h.tx_count},
          {"proposer", to_hex(h.proposer)},
          {"signature", to_hex(b.signature)}};
}

json body_json(const TxBody& body) {
  return std::visit(
      [](const auto& b) -> json {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, RegisterBody>) {
          return {{"dataset_fingerprint", b.dataset_fingerprint}};
        } else if constexpr (std::is_same_v<T, OpenJobBody>) {
          json out = {{"job", b.job_id},
                      {"model", b.model},
                      {"rule", b.rule},
                      {"reward_per_round", b.reward_per_round}};
          if (b.privacy_budget) {
            out["privacy_budget"] = {{"epsilon", b.privacy_budget->epsilon},
                                     {"delta", b.privacy_budget->delta}};
          }
          if (b.terms) {
            out["terms"] = json::parse(common::terms_text(*b.terms));
            out["terms_digest"] = to_hex(common::terms_digest(*b.terms));
          }
          return out;
        } else if constexpr (std::is_same_v<T, ConsentBody>) {
          return {{"job", b.job_id}, {"terms_digest", to_hex(b.terms_digest)}};
        } else if constexpr (std::is_same_v<T, RoundResultBody>) {
          json acc = json::array(), rej = json::array();
          for (const auto& a : b.accepted) {
            acc.push_back({{"worker", to_hex(a.worker)},
                           {"update_digest", to_hex(a.update_digest)},
                           {"score", a.score},
                           {"num_samples", a.num_samples}});
          }
          for (const auto& r : b.rejected) {
            rej.push_back({{"worker", to_hex(r.worker)},
                           {"update_digest", to_hex(r.update_digest)},
                           {"reason", r.reason}});
          }
          json out = {{"job", b.job_id}, {"round", b.round},   {"model_digest", to_hex(b.model_digest)},
                      {"rule", b.rule},  {"scorer", b.scorer}, {"accepted", acc},
                      {"rejected", rej}};
          if (!b.score_reasons.empty()) out["score_reasons"] = b.score_reasons;
          if (b.terms_digest) out["terms_digest"] = to_hex(*b.terms_digest);
          if (b.validation) {
            out["validation"] = {{"loss_before", b.validation->loss_before},
                                 {"loss_after", b.validation->loss_after},
                                 {"improved", b.validation->improved()}};
          }
          if (b.privacy) {
            out["privacy"] = {{"clip_norm", b.privacy->clip_norm},
                              {"noise_multiplier", b.privacy->noise_multiplier},
                              {"sample_rate", b.privacy->sample_rate},
                              {"epsilon", b.privacy->epsilon}};
          }
          return out;
        } else if constexpr (std::is_same_v<T, RewardMintBody> || std::is_same_v<T, PayoutBody>) {
          return {
              {"job", b.job_id}, {"round", b.round}, {"to", to_hex(b.to)}, {"amount", b.amount}};
        } else if constexpr (std::is_same_v<T, TransferBody> || std::is_same_v<T, IssueBody>) {
          return {{"to", to_hex(b.to)}, {"amount", b.amount}};
        } else if constexpr (std::is_same_v<T, EscrowBody> || std::is_same_v<T, RefundBody>) {
          return {{"job", b.job_id}, {"amount", b.amount}};
        } else if constexpr (std::is_same_v<T, ConsortiumBody>) {
          json approvals = json::array();
          for (const auto& a : b.approvals) approvals.push_back(to_hex(a.member));
          return {{"consortium", consortium_json(b.consortium)}, {"approved_by", approvals}};
        } else if constexpr (std::is_same_v<T, SlashBody>) {
          json out = {{"account", to_hex(b.account)}, {"reason", b.reason}, {"amount", b.amount}};
          if (b.evidence) out["evidence"] = evidence_json(*b.evidence);
          return out;
        } else {
          return {{"amount", b.amount}};
        }
      },
      body);
}

json tx_json(const StoredTx& t) {
  json j{{"hash", to_hex(t.hash)},
         {"height", t.height},
         {"index", t.index},
         {"type", to_string(t.tx.type())},
         {"issuer", to_hex(t.tx.issuer)},
         {"nonce", t.tx.nonce},
         {"timestamp_ms", t.tx.timestamp_ms},
         {"signature", to_hex(t.tx.signature)},
         {"summary", describe(t.tx)},
         {"body", body_json(t.tx.body)}};
  if (auto a = t.tx.amount()) j["amount"] = *a;
  return j;
}

json account_json(const common::PublicKey& key, const AccountState& a,
                  const common::PublicKey& authority) {
  return {{"account", to_hex(key)},
          {"balance", a.balance},
          {"stake", a.stake},
          {"registered", a.registered},
          {"authority", key == authority},
          {"rounds_contributed", a.rounds_contributed},
          {"rejections", a.rejections},
          {"earned", a.earned},
          {"slashed", a.slashed},
          {"next_nonce", a.next_nonce}};
}

json round_json(const RoundSummary& r) {
  json updates = json::array();
  for (const auto& u : r.updates) {
    json j{{"worker", to_hex(u.worker)},
           {"update_digest", to_hex(u.update_digest)},
           {"accepted", u.accepted}};
    if (u.accepted) {
      j["score"] = u.score;
      j["num_samples"] = u.num_samples;
      j["reward"] = u.reward;
    } else {
      j["reason"] = u.reason;
    }
    updates.push_back(j);
  }
  return {{"job", r.job_id},
          {"round", r.round},
          {"height", r.height},
          {"tx", to_hex(r.tx_hash)},
          {"timestamp_ms", r.timestamp_ms},
          {"model_digest", to_hex(r.model_digest)},
          {"rule", r.rule},
          {"scorer", r.scorer},
          {"minted", r.minted},
          {"updates", updates}};
}

std::string short_hex(const common::Digest& d) { return to_hex(d).substr(0, 16); }

namespace {
// nlohmann converts a float or a negative number to an unsigned integer without complaint (and
// with undefined behaviour for one out of range), so integer fields are checked first.
Result<std::uint64_t> unsigned_at(const json& j, const char* key) {
  const json& v = j.at(key);
  if (!v.is_number_unsigned()) {
    return make_error(ErrorCode::kInvalidArgument, "not a proof as `fl-ledger proof TX --json` writes "
                                                   "it (\"" + std::string(key) +
                                                       "\" is not a non-negative integer)");
  }
  return v.get<std::uint64_t>();
}
}  // namespace

Result<MerkleProof> proof_from_json(const json& j) {
  try {
    MerkleProof p;
    FL_ASSIGN_OR_RETURN(p.tx_hash, common::digest_from_hex(j.at("tx_hash").get<std::string>()));
    FL_ASSIGN_OR_RETURN(p.leaf_index, unsigned_at(j, "leaf_index"));
    FL_ASSIGN_OR_RETURN(p.tree_size, unsigned_at(j, "tree_size"));
    for (const auto& h : j.at("proof")) {
      FL_ASSIGN_OR_RETURN(auto d, common::digest_from_hex(h.get<std::string>()));
      p.path.push_back(d);
    }
    const auto& b = j.at("block");
    auto& h = p.block.header;
    FL_ASSIGN_OR_RETURN(h.height, unsigned_at(b, "height"));
    FL_ASSIGN_OR_RETURN(h.time_ms, unsigned_at(b, "time_ms"));
    FL_ASSIGN_OR_RETURN(h.tx_count, unsigned_at(b, "tx_count"));
    FL_ASSIGN_OR_RETURN(h.prev_hash, common::digest_from_hex(b.at("prev_hash").get<std::string>()));
    FL_ASSIGN_OR_RETURN(h.merkle_root,
                        common::digest_from_hex(b.at("merkle_root").get<std::string>()));
    FL_ASSIGN_OR_RETURN(h.proposer,
                        common::public_key_from_hex(b.at("proposer").get<std::string>()));
    FL_ASSIGN_OR_RETURN(p.block.hash, common::digest_from_hex(b.at("hash").get<std::string>()));
    FL_ASSIGN_OR_RETURN(
        p.block.signature,
        (common::fixed_from_hex<64>(b.at("signature").get<std::string>(), "block signature")));
    return p;
  } catch (const json::exception& e) {
    // nlohmann's text starts with its own id, "[json.exception.out_of_range.403] ": keep the
    // sentence.
    std::string what = e.what();
    if (const auto end = what.find("] ");
        what.starts_with("[json.exception") && end != std::string::npos) {
      what = what.substr(end + 2);
    }
    return make_error(ErrorCode::kInvalidArgument,
                      "not a proof as `fl-ledger proof TX --json` writes it (" + what + ")");
  }
}

namespace {

json claim_json(const common::UpdateClaim& c) {
  return {{"version", c.version},
          {"header_digest", to_hex(c.header_digest)},
          {"payload_digest", to_hex(c.payload_digest)},
          {"signature", to_hex(c.signature)}};
}

}  // namespace

json evidence_json(const EquivocationEvidence& e) {
  return {{"worker", to_hex(e.first.worker)}, {"job_id", e.first.job_id}, {"round", e.first.round},
          {"first", claim_json(e.first)},     {"second", claim_json(e.second)}};
}

Result<EquivocationEvidence> evidence_from_json(const json& j) {
  try {
    EquivocationEvidence e;
    FL_ASSIGN_OR_RETURN(e.first.worker, common::public_key_from_hex(j.at("worker").get<std::string>()));
    e.first.job_id = j.at("job_id").get<std::string>();
    FL_ASSIGN_OR_RETURN(e.first.round, unsigned_at(j, "round"));
    e.second.worker = e.first.worker;
    e.second.job_id = e.first.job_id;
    e.second.round = e.first.round;
    for (auto* c : {&e.first, &e.second}) {
      const auto& u = j.at(c == &e.first ? "first" : "second");
      FL_ASSIGN_OR_RETURN(auto version, unsigned_at(u, "version"));
      c->version = static_cast<std::uint32_t>(version);
      FL_ASSIGN_OR_RETURN(c->header_digest, common::digest_from_hex(u.at("header_digest").get<std::string>()));
      FL_ASSIGN_OR_RETURN(c->payload_digest, common::digest_from_hex(u.at("payload_digest").get<std::string>()));
      FL_ASSIGN_OR_RETURN(c->signature,
                          (common::fixed_from_hex<64>(u.at("signature").get<std::string>(), "update signature")));
    }
    return e;
  } catch (const json::exception& e) {
    std::string what = e.what();
    if (const auto end = what.find("] "); what.starts_with("[json.exception") && end != std::string::npos) {
      what = what.substr(end + 2);
    }
    return make_error(ErrorCode::kInvalidArgument,
                      "not equivocation evidence as the coordinator's evidence file holds it (" + what + ")");
  }
}

json proof_json(const MerkleProof& p) {
  json path = json::array();
  for (const auto& d : p.path) path.push_back(to_hex(d));
  return {{"tx_hash", to_hex(p.tx_hash)},
          {"leaf_index", p.leaf_index},
          {"tree_size", p.tree_size},
          {"proof", path},
          {"merkle_root", to_hex(p.block.header.merkle_root)},
          {"block", block_json(p.block)}};
}

std::string utc_time(std::uint64_t time_ms) {
  const std::time_t seconds = static_cast<std::time_t>(time_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%SZ", &tm);
  return text;
}

json verify_json(const VerifyReport& r) {
  json j{{"ok", r.ok},
         {"blocks", r.blocks},
         {"transactions", r.transactions},
         {"signatures_checked", r.signatures_checked},
         {"authority", to_hex(r.authority)},
         {"consortium", consortium_json(r.consortium)},
         {"founding_consortium", consortium_json(r.founding_consortium)},
         {"head_hash", to_hex(r.head_hash)},
         {"genesis_hash", to_hex(r.genesis_hash)},
         {"minted", r.minted},
         {"slashed", r.slashed},
         {"total_balances", r.total_balances},
         {"total_stakes", r.total_stakes},
         {"total_escrow", r.total_escrow},
         {"failure", nullptr}};
  if (r.failure) {
    json f{{"height", r.failure->height},
           {"problem", r.failure->problem},
           {"message", r.failure->to_string()}};
    f["tx_index"] = r.failure->tx_index ? json(*r.failure->tx_index) : json(nullptr);
    f["tx_hash"] = r.failure->tx_hash ? json(to_hex(*r.failure->tx_hash)) : json(nullptr);
    j["failure"] = f;
  }
  return j;
}

}  // namespace fl::ledger
