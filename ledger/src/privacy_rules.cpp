#include "privacy_rules.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace fl::ledger {
namespace {

// Replays on other machines may differ from the writer's libm in the last bits; anything past
// this relative difference is a changed record, not rounding.
constexpr double kEpsilonTolerance = 1e-9;

Error rule_error(std::string message) {
  return make_error(ErrorCode::kPrecondition, std::move(message));
}

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", v);
  return buffer;
}

}  // namespace

Status check_privacy_budget(const OpenJobBody& job) {
  if (!job.privacy_budget) return ok_status();
  const auto& b = *job.privacy_budget;
  if (!(std::isfinite(b.epsilon) && b.epsilon > 0)) {
    return rule_error("job '" + job.job_id + "' declares privacy epsilon " + number(b.epsilon) +
                      "; it must be a finite number above 0");
  }
  if (!(b.delta > 0 && b.delta < 1)) {
    return rule_error("job '" + job.job_id + "' declares privacy delta " + number(b.delta) +
                      "; it must be in (0, 1)");
  }
  return ok_status();
}

Result<std::optional<AccountedRound>> account_round_privacy(const JobState& job,
                                                            const RoundResultBody& round) {
  const std::string where = "job '" + round.job_id + "' round " + std::to_string(round.round);
  const auto& budget = job.job.privacy_budget;
  if (!budget) {
    if (round.privacy) {
      return rule_error(where + " records DP parameters, but the job declared no privacy budget");
    }
    return std::optional<AccountedRound>{};
  }
  if (!round.privacy) {
    return rule_error(where +
                      " records no DP parameters, but the job declared a privacy budget "
                      "(epsilon " +
                      number(budget->epsilon) + ")");
  }
  const auto& p = *round.privacy;
  if (!(std::isfinite(p.clip_norm) && p.clip_norm > 0)) {
    return rule_error(where + " records clip norm " + number(p.clip_norm) + "; it must be above 0");
  }
  AccountedRound out{job.privacy_spent, 0};
  if (auto added = out.composition.add_round(p.sample_rate, p.noise_multiplier); !added.ok()) {
    return rule_error(where + ": " + added.error().message);
  }
  auto epsilon = out.composition.epsilon(budget->delta);
  if (!epsilon.ok()) return rule_error(where + ": " + epsilon.error().message);
  out.epsilon = *epsilon;
  const double tolerance = kEpsilonTolerance * std::max(1.0, std::abs(out.epsilon));
  if (!(std::abs(p.epsilon - out.epsilon) <= tolerance)) {
    return rule_error(where + " records cumulative epsilon " + number(p.epsilon) +
                      ", but re-accounting its recorded rounds (q, sigma) gives " +
                      number(out.epsilon));
  }
  if (!(out.epsilon <= budget->epsilon)) {
    return rule_error(where + " spends cumulative epsilon " + number(out.epsilon) +
                      ", over the job's privacy budget of " + number(budget->epsilon) +
                      " at delta " + number(budget->delta));
  }
  return std::optional<AccountedRound>(std::move(out));
}

}  // namespace fl::ledger
