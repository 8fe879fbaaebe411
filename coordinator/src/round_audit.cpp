#include "fl/coordinator/round_audit.hpp"

#include <chrono>
#include <cmath>
#include <memory>

#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/round_combine.hpp"
#include "fl/coordinator/round_recipe.hpp"

namespace fl::coordinator {

namespace {

struct RecordedRound {
  std::uint64_t height = 0;
  const ledger::RoundResultBody* body = nullptr;
};

// Centered clipping carries its centre from round to round: re-run from the job's first round.
bool stateful(const std::string& rule) { return rule.find("cclip") != std::string::npos; }

std::string short_hex(const common::Digest& d) { return common::to_hex(d).substr(0, 16); }

// The round re-run: fills `a` (ok, problem, derived, ...). `rule` carries state across rounds.
void rerun_round(const RecordedRound& r, const common::Digest& before, const UpdateStore& store,
                 const RoundRecipe& recipe, std::unique_ptr<AggregationRule>& rule, RoundAudit& a) {
  const auto& body = *r.body;
  const std::string where = "round " + std::to_string(body.round);
  auto global = store.model(before);
  if (!global.ok()) {
    a.problem = where + ": its previous model " + short_hex(before) +
                " cannot be checked: " + global.error().message;
    return;
  }
  std::vector<StoredUpdate> updates;
  for (const auto& entry : body.accepted) {
    auto u = store.update(entry.update_digest);
    if (!u.ok()) {
      a.problem = where + ": " + u.error().message;
      return;
    }
    const auto& h = u->header;
    if (h.worker_key != entry.worker || h.job_id != body.job_id || h.round != body.round ||
        h.num_samples != entry.num_samples) {
      a.problem = where + ": update " + short_hex(entry.update_digest) +
                  " is not what the ledger names (worker, job, round or sample claim differ)";
      return;
    }
    if (h.base_model_digest != before) {
      a.problem = where + ": update " + short_hex(entry.update_digest) +
                  " was trained from model " + short_hex(h.base_model_digest) +
                  ", not the round's previous model " + short_hex(before);
      return;
    }
    updates.push_back(std::move(*u));
  }
  a.updates = updates.size();
  std::vector<std::span<const float>> spans;
  std::vector<std::uint64_t> claims;
  for (const auto& u : updates) {
    if (u.values.size() != global->size()) {
      a.problem = where + ": an update has " + std::to_string(u.values.size()) +
                  " values, the model " + std::to_string(global->size());
      return;
    }
    spans.push_back(u.values);
    claims.push_back(u.header.num_samples);
  }
  std::vector<float> after = *global;
  a.rerun = true;
  if (!spans.empty()) {
    auto bounded = bound_updates(spans, claims, recipe.bounds, std::nullopt);
    auto combined = rule->aggregate(bounded.views);
    if (combined.ok()) {
      server_step(after, *combined, recipe.server_learning_rate);
      if (body.scorer == "cosine") {
        const auto scores = contribution_scores(spans, *combined);
        a.scores_rerun = true;
        for (std::size_t i = 0; i < scores.size(); ++i) {
          const double recorded = body.accepted[i].score;
          const bool screened = i < body.score_reasons.size() && !body.score_reasons[i].empty();
          if (!screened && a.problem.empty() &&
              std::abs(recorded - scores[i]) > 1e-9 * std::max(1.0, std::abs(scores[i]))) {
            a.problem = where + ": worker " + common::short_id(body.accepted[i].worker) +
                        " is recorded with score " + std::to_string(recorded) +
                        ", the re-run gives " + std::to_string(scores[i]);
          }
        }
      }
    } else {
      a.note =
          "the rule refused the updates (" + combined.error().message + "), so the model stays";
    }
  }
  if (!a.scores_rerun) {
    for (std::size_t i = 0; i < body.accepted.size(); ++i) {
      const double s = body.accepted[i].score;
      if (a.problem.empty() && !(std::isfinite(s) && s >= 0 && s <= 1)) {
        a.problem = where + ": worker " + common::short_id(body.accepted[i].worker) +
                    " is recorded with score " + std::to_string(s) + ", outside [0, 1]";
      }
    }
    if (!body.accepted.empty() && body.scorer != "cosine") {
      a.note +=
          std::string(a.note.empty() ? "" : "; ") + body.scorer +
          " scores not re-run (they need the coordinator's validation set), checked in [0, 1]";
    }
  }
  a.derived = common::digest_of(after);
  if (a.derived != body.model_digest && a.problem.empty()) {
    a.problem = where + ": the recorded model " + short_hex(body.model_digest) +
                " does not follow from its updates: re-running " + recipe.rule + " on the " +
                std::to_string(updates.size()) + " recorded updates gives " + short_hex(a.derived);
  }
}

}  // namespace

Result<std::vector<RoundAudit>> audit_rounds(const ledger::Chain& chain, const std::string& job_id,
                                             const UpdateStore& store, AuditRange range) {
  const auto job = chain.state.jobs().find(job_id);
  if (job == chain.state.jobs().end()) {
    return make_error(ErrorCode::kNotFound, "job '" + job_id + "' is not on the ledger");
  }
  std::vector<RecordedRound> recorded;
  for (const auto& stx : chain.txs) {
    const auto* body = std::get_if<ledger::RoundResultBody>(&stx.tx.body);
    if (body != nullptr && body->job_id == job_id) recorded.push_back({stx.height, body});
  }
  if (recorded.empty())
    return make_error(ErrorCode::kNotFound, "job '" + job_id + "' has no recorded round");
  const std::uint64_t from = range.from.value_or(recorded.front().body->round);
  const std::uint64_t to = range.to.value_or(recorded.back().body->round);
  std::optional<common::Digest> before;
  if (job->second.job.terms) before = job->second.job.terms->model_digest;
  std::unique_ptr<AggregationRule> rule;
  std::string rule_spec;
  std::vector<RoundAudit> out;
  for (const auto& r : recorded) {
    const auto& body = *r.body;
    if (body.round < from || body.round > to) {
      before = body.model_digest;
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    RoundAudit a;
    a.round = body.round;
    a.height = r.height;
    a.recorded = body.model_digest;
    const std::string where = "round " + std::to_string(body.round);
    auto recipe = parse_recipe(body.rule);
    if (!before) {
      a.problem =
          where + ": the job was opened without terms, so its initial model is not on the ledger";
    } else if (!recipe.ok()) {
      a.problem = where + ": " + recipe.error().message;
    } else if (recipe->dp || body.privacy) {
      a.ok = true;
      a.note = "not re-run: a differentially private round's noise is secret by design";
    } else if (recipe->bounds.rescale_to_reference) {
      a.ok = true;
      a.note =
          "not re-run: rescaling to the reference update needs the coordinator's validation set";
    } else if (recipe->rule.find("bucketing") != std::string::npos) {
      a.ok = true;  // re-run with another shuffle, it would accuse an honest coordinator
      a.note = "not re-run: bucketing's shuffle seed is not recorded with the round";
    } else if (stateful(recipe->rule) && from > recorded.front().body->round) {
      return make_error(ErrorCode::kInvalidArgument,
                        "rule " + recipe->rule + " carries state from round to round: audit job '" +
                            job_id + "' from its first round");
    } else {
      if (!rule || rule_spec != recipe->rule) {
        if (rule && stateful(recipe->rule)) {
          a.problem = where + ": the rule changed to the stateful " + recipe->rule + " mid-job";
        }
        auto made = make_rule(recipe->rule, RuleOptions{});
        if (!made.ok()) {
          a.problem = where + ": its rule cannot be rebuilt: " + made.error().message;
        } else {
          rule = std::move(*made);
          rule_spec = recipe->rule;
        }
      }
      if (a.problem.empty()) rerun_round(r, *before, store, *recipe, rule, a);
      a.ok = a.problem.empty();
    }
    a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    out.push_back(std::move(a));
    before = body.model_digest;
  }
  if (out.empty()) {
    return make_error(ErrorCode::kNotFound, "job '" + job_id + "' has no recorded round in " +
                                                std::to_string(from) + "-" + std::to_string(to));
  }
  return out;
}

}  // namespace fl::coordinator
