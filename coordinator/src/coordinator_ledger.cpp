// What the coordinator writes on the ledger (each round, slashes for equivocation, the refund at
// the job's end) and what it checks there when a job resumes (its terms and privacy budget).
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "coordinator_state.hpp"
#include "fl/common/checkpoint.hpp"
#include "fl/ledger/economy.hpp"
#include "fl/ledger/etcd_checkpoints.hpp"
#include "fl/ledger/json.hpp"
#include "fl/common/model_file.hpp"
#include "fl/coordinator/round_recipe.hpp"
#include "round_validation.hpp"

namespace fl::coordinator {

// A resumed job keeps the terms it opened with: workers consented to those.
Status Coordinator::State::check_terms_unchanged() const {
  if (!ledger) return ok_status();
  const auto& jobs = ledger->state().jobs();
  const auto job = jobs.find(config.job_id);
  if (job == jobs.end() || job->second.job.terms == terms) return ok_status();
  const auto recorded = job->second.job.terms ? common::to_hex(job->second.terms_digest).substr(0, 16) : "none";
  return make_error(ErrorCode::kPrecondition,
                    "job '" + config.job_id + "' is on the ledger under terms " + recorded + ", and its config now gives " +
                        common::to_hex(common::terms_digest(terms)).substr(0, 16) +
                        "; a job's terms cannot change once it is open (restore the config, or use a new job id)");
}
// A resumed DP job continues from the privacy its recorded rounds spent; its budget is the one
// on the ledger, which job.toml must still declare.
Status Coordinator::State::resume_privacy_budget() {
  if (!ledger) return ok_status();
  const auto& jobs = ledger->state().jobs();
  const auto job = jobs.find(config.job_id);
  if (job == jobs.end()) return ok_status();
  const auto& recorded = job->second.job.privacy_budget;
  const auto& p = config.close.privacy;
  const bool same = recorded ? p.enabled() && recorded->epsilon == p.target_epsilon &&
                                   recorded->delta == p.target_delta
                             : !p.enabled();
  if (!same) {
    return make_error(ErrorCode::kPrecondition,
                      "job '" + config.job_id + "' is on the ledger with " +
                          (recorded ? "privacy budget epsilon " + std::to_string(recorded->epsilon) +
                                          " at delta " + std::to_string(recorded->delta)
                                    : std::string("no privacy budget")) +
                          ", but the config says " + describe(p) +
                          "; a job's budget cannot change (use a new job id)");
  }
  privacy_spent = job->second.privacy_spent;
  if (recorded) {
    spdlog::info("job '{}' has spent epsilon {} of its budget {} over {} DP rounds", config.job_id,
                 job->second.epsilon_spent, recorded->epsilon, privacy_spent.rounds());
  }
  return ok_status();
}

Result<std::vector<ledger::RoundReceipt>> Coordinator::State::record_on_ledger(
    std::uint64_t round, const CollectedRound& collected, const ClosedRound& closed,
    const std::optional<RoundSpend>& spend) {
  if (!ledger) return std::vector<ledger::RoundReceipt>{};
  ledger::JobRecord job{config.job_id, researcher.public_key, config.model, rule->name(), config.reward_per_round};
  job.bounty = config.bounty;
  job.terms = terms;
  const auto& dp = config.close.privacy;
  if (dp.enabled()) job.privacy_budget = ledger::PrivacyBudget{dp.target_epsilon, dp.target_delta};
  std::vector<ledger::RegistrationRecord> registrations;
  std::vector<common::PublicKey> newly_recorded;
  for (const auto& [k, rec] : registry.all()) {
    if (rec.on_ledger) continue;
    const auto& r = rec.registration;
    registrations.push_back({r.worker_key, r.dataset_fingerprint, r.timestamp_ms, r.signature, r.terms_digest,
                             r.consent_signature});
    newly_recorded.push_back(k);
  }
  ledger::RoundRecord record;
  record.job_id = config.job_id;
  record.round = round;
  record.model_digest = closed.model_digest;
  record.rule = recipe_text(recipe_of(rule->name(), config.close));  // all that re-runs the round
  record.scorer = closed.scorer;
  record.validation = validation_record(closed);
  record.score_reasons = closed.score_reasons;  // not encoded when all are empty
  for (std::size_t i = 0; i < collected.accepted.size(); ++i) {
    const auto& u = collected.accepted[i];
    record.accepted.push_back(ledger::accepted_entry(u.header, u.digest, closed.scores[i]));
  }
  for (const auto& r : collected.rejected) record.rejected.push_back({r.worker, r.digest, r.reason});
  if (spend) {
    record.privacy = ledger::RoundPrivacy{dp.clip_norm, dp.noise_multiplier, spend->sample_rate, spend->epsilon};
  }
  auto receipts = ledger->record_round(key, researcher, job, registrations, record);
  if (!receipts.ok()) {
    return with_context(receipts.error(), "round " + std::to_string(round) +
                                              ": the ledger refused the round, so the job stops here (run "
                                              "fl-ledger verify on " + (config.output_dir / "ledger.db").string() + ")");
  }
  for (const auto& k : newly_recorded) registry.find(k)->on_ledger = true;
  return std::move(receipts).value();
}

Status Coordinator::State::fetch_model_from_etcd(std::uint64_t round, const common::Digest& digest) const {
  for (const auto& path : {global_model_path(config.output_dir), checkpoint_path(config.output_dir, round)}) {
    if (auto held = common::load_model_file(path); held.ok() && held->header.digest == digest) return ok_status();
  }
  auto values = replicated.models->get(config.job_id, digest);
  if (!values.ok()) {
    return with_context(values.error(), "the ledger records round " + std::to_string(round) + " of job '" +
                                            config.job_id + "' with model " + common::to_hex(digest).substr(0, 16) +
                                            ", which this run folder lacks");
  }
  spdlog::info("taking over job '{}' after round {}: its model {} comes from etcd, checked against the ledger",
               config.job_id, round, common::to_hex(digest).substr(0, 16));
  return save_model(checkpoint_path(config.output_dir, round), round, *values, digest);
}

Status Coordinator::State::open_update_store() {
  if (terms.retention_days == 0) {
    spdlog::info("updates are not kept ([terms] retention_days = 0): the rounds cannot be re-run by an audit");
    return ok_status();
  }
  store.emplace(config.output_dir / "store");
  auto removed = store->remove_older_than(terms.retention_days);
  if (!removed.ok()) return with_context(removed.error(), "the update store");
  if (*removed > 0) {
    spdlog::info("update store: removed {} entries older than the terms' {} days", *removed, terms.retention_days);
  }
  FL_RETURN_IF_ERROR(store->put_model(terms.model_digest, model->layout(), model->initial_parameters()));
  spdlog::info("accepted updates and global models kept {} days in {} for audits (`fl-ledger audit`)",
               terms.retention_days, store->dir().string());
  return ok_status();
}

Status Coordinator::State::start_store_server() {
  if (config.ledger_store_listen.empty()) return ok_status();
  if (!store || !ledger) {
    return make_error(ErrorCode::kInvalidArgument,
                      "[ledger] store_listen serves the update store to the consortium, but this job keeps " +
                          std::string(!ledger ? "no ledger ([ledger] enabled = false)"
                                              : "no updates ([terms] retention_days = 0)") +
                          ": remove store_listen or keep them");
  }
  refresh_store_readers();
  auto readers = store_allowed;
  FL_ASSIGN_OR_RETURN(store_server, StoreServer::start(store->dir(), key, config.ledger_store_listen,
                                                       [readers] { return readers->get(); }));
  spdlog::info("serving the update store at {} to the consortium's {} member and witness keys (fl-ledger audit "
               "--fetch {}@{})",
               store_server->endpoint(), store_allowed->get().size(), store_server->endpoint(),
               common::to_hex(key.public_key));
  return ok_status();
}

void Coordinator::State::refresh_store_readers() {
  if (!ledger) return;
  store_allowed->set(coordinator::store_readers(ledger->state().consortium()));
}

void Coordinator::State::refresh_checkpoint() {
  if (config.ledger_etcd.empty() || !ledger || !engine) return;
  const auto& consortium = ledger->state().consortium();
  if (consortium.witnesses.empty()) return;
  ledger::EtcdStoreOptions options;
  options.etcd.endpoints = config.ledger_etcd;
  options.chain = config.ledger_chain;
  constexpr std::uint64_t kLookBack = 64;  // blocks below the head searched for cosignatures
  const auto height = ledger->height();
  auto found = ledger::latest_final_checkpoint(options, ledger->genesis_hash(), consortium.witnesses,
                                               consortium.quorum, height > kLookBack ? height - kLookBack : 0);
  if (!found.ok()) {
    spdlog::warn("cannot read the witnesses' checkpoints from etcd: {}", found.error().message);
    return;
  }
  if (!*found || (*found)->checkpoint.height <= checkpoint_height) return;
  checkpoint_height = (*found)->checkpoint.height;
  // The headers up to it, so workers can settle their receipts for those blocks.
  const auto first = checkpoint_height >= common::kMaxChainHeaders ? checkpoint_height - common::kMaxChainHeaders + 1 : 0;
  auto headers = ledger->headers(first, checkpoint_height);
  if (!headers.ok()) spdlog::warn("the block headers below the checkpoint are not sent: {}", headers.error().message);
  engine->set_checkpoint(common::cosigned_checkpoint_to_json(**found),
                         headers.ok() ? std::move(headers).value() : std::vector<common::BlockHeader>{});
  spdlog::info("ledger final at height {} (head {}): {} cosignatures of the consortium's witnesses, quorum {}; "
               "the next round tasks carry it to the workers",
               checkpoint_height, common::to_hex((*found)->checkpoint.head_hash).substr(0, 16),
               (*found)->cosignatures.size(), consortium.quorum);
}

Status Coordinator::State::store_round(const CollectedRound& collected, const ClosedRound& closed) const {
  if (!store) return ok_status();
  for (const auto& u : collected.accepted) {
    if (auto s = store->put_update(u.header, u.payload.bytes); !s.ok()) return with_context(s.error(), "the update store");
  }
  if (auto s = store->put_model(closed.model_digest, model->layout(), closed.global); !s.ok()) {
    return with_context(s.error(), "the update store");
  }
  return ok_status();
}

// The round's updates are dropped unused (nothing of them is released), the workers are told,
// and the metrics row says why the job ends here.
void Coordinator::State::stop_for_budget(std::uint64_t round, const CollectedRound& collected,
                                         const std::string& why) {
  budget_stop = why;
  spdlog::warn("round {}: {}", round, why);
  RoundMetrics m;
  m.round = round;
  m.sampled = static_cast<int>(collected.sampled);
  m.answered = static_cast<int>(collected.answered);
  m.rule = rule->name();
  m.scorer = scorer->name();
  m.close_reason = collected.close_reason + ", not combined: " + why;
  m.ledger_height = ledger ? ledger->height() : 0;
  for (auto* o : observers) o->on_round(m);
  spdlog::default_logger()->flush();
}

void Coordinator::State::write_evidence(std::uint64_t round, const Equivocation& e) {
  auto line = ledger::evidence_json({e.first_claim, e.second_claim});
  line["first_update"] = common::to_hex(e.first);
  line["second_update"] = common::to_hex(e.second);
  evidence << line.dump() << '\n';
  evidence.flush();
  spdlog::warn("round {}: worker {} sent two different signed updates; evidence in {}", round,
               common::short_id(e.worker), (config.output_dir / "evidence.jsonl").string());
  to_slash.push_back(e);
}

// After the round is recorded: each equivocator loses [ledger] slashable_fraction of its stake,
// the slash carrying both signed updates. No stake, no slash (the evidence file keeps the proof).
void Coordinator::State::slash_equivocators() {
  auto pending = std::move(to_slash);
  to_slash.clear();
  if (!ledger || config.slashable_fraction <= 0) return;
  for (const auto& e : pending) {
    auto slashed = ledger::slash_equivocation(*ledger, key, {e.first_claim, e.second_claim}, config.slashable_fraction);
    if (slashed.ok()) {
      spdlog::warn("slashed {} of the stake of {} for equivocation (ledger block {})",
                   *slashed->txs.front().amount(), common::short_id(e.worker), slashed->block.header.height);
    } else {
      spdlog::info("no slash for {}: {}", common::short_id(e.worker), slashed.error().message);
    }
  }
}

// A job that ends (all rounds, or its privacy budget) returns its unspent escrow.
void Coordinator::State::refund_bounty() {
  if (!ledger) return;
  auto refund = ledger::refund_escrow(*ledger, key, config.job_id);
  if (!refund.ok()) {
    spdlog::error("job '{}': the refund of its escrow failed: {} (the researcher can refund it with "
                  "`fl-ledger refund`)", config.job_id, refund.error().message);
  } else if (*refund) {
    spdlog::info("job '{}' closed: {} unspent tokens of its bounty returned to researcher {}", config.job_id,
                 *(*refund)->txs.front().amount(), common::short_id(researcher.public_key));
  }
}
}  // namespace fl::coordinator
