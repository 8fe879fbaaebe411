#include "fl/worker/policy.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "fl/common/config_table.hpp"

namespace fl::worker {

namespace {

std::string number_text(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

Result<TrainingHours> parse_hours(const std::string &text, const std::string &where) {
  TrainingHours h;
  const auto dash = text.find('-');
  try {
    if (dash == std::string::npos) throw std::invalid_argument("no dash");
    std::size_t used = 0;
    h.start = std::stoi(text.substr(0, dash), &used);
    if (used != dash) throw std::invalid_argument("trailing");
    const auto rest = text.substr(dash + 1);
    h.end = std::stoi(rest, &used);
    if (used != rest.size()) throw std::invalid_argument("trailing");
  } catch (const std::exception &) {
    return make_error(ErrorCode::kInvalidArgument,
                      where + " = \"" + text + "\": expected \"START-END\" in local hours, e.g. \"22-7\"");
  }
  if (h.start < 0 || h.start > 23 || h.end < 1 || h.end > 24 || h.start == h.end) {
    return make_error(ErrorCode::kInvalidArgument,
                      where + " = \"" + text + "\": START is 0..23, END 1..24 and they differ");
  }
  return h;
}

Result<WorkerPolicy> policy_from_table(const common::ConfigTable &cfg) {
  FL_ASSIGN_OR_RETURN(auto p, cfg.section("policy"));
  WorkerPolicy policy;
  policy.source = cfg.source_name();
  FL_ASSIGN_OR_RETURN(auto keys, p.text_list("researchers", std::vector<std::string>{}));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto key = common::public_key_from_hex(keys[i]);
    if (!key.ok()) return with_context(key.error(), p.where("researchers") + "[" + std::to_string(i) + "]");
    policy.researchers.push_back(*key);
  }
  FL_ASSIGN_OR_RETURN(auto reward, p.integer("min_reward_per_round", 0, 0, INT64_MAX));
  policy.min_reward_per_round = static_cast<std::uint64_t>(reward);
  if (p.has("max_epsilon")) {
    FL_ASSIGN_OR_RETURN(auto eps, p.number("max_epsilon", std::nullopt, 1e-6, 1e6));
    policy.max_epsilon = eps;
  }
  FL_ASSIGN_OR_RETURN(policy.require_dp, p.boolean("require_dp", false));
  FL_ASSIGN_OR_RETURN(auto rounds, p.integer("max_rounds", 0, 0, INT64_MAX));
  policy.max_rounds = static_cast<std::uint64_t>(rounds);
  if (p.has("max_retention_days")) {
    FL_ASSIGN_OR_RETURN(auto days, p.integer("max_retention_days", std::nullopt, 0, 36'500));
    policy.max_retention_days = static_cast<std::uint64_t>(days);
  }
  FL_ASSIGN_OR_RETURN(policy.models, p.text_list("models", std::vector<std::string>{}));
  FL_ASSIGN_OR_RETURN(auto hours, p.text("hours", ""));
  if (!hours.empty()) {
    FL_ASSIGN_OR_RETURN(auto h, parse_hours(hours, p.where("hours")));
    policy.hours = h;
  }
  FL_ASSIGN_OR_RETURN(auto threads, p.integer("threads", 0, 0, 4096));
  policy.threads = static_cast<int>(threads);
  FL_ASSIGN_OR_RETURN(auto memory, p.integer("memory_mb", 0, 0, 1 << 30));
  if (memory > 0 && memory < 256) {
    return make_error(ErrorCode::kInvalidArgument, p.where("memory_mb") + " = " + std::to_string(memory) +
                                                       ": at least 256 (libtorch alone needs more), or 0 for no limit");
  }
  policy.memory_mb = static_cast<std::uint64_t>(memory);
  FL_RETURN_IF_ERROR(cfg.reject_unknown_keys());
  return policy;
}

}  // namespace

Result<WorkerPolicy> parse_policy(std::string_view text, const std::string &source_name) {
  FL_ASSIGN_OR_RETURN(auto cfg, common::ConfigTable::parse_text(text, source_name));
  return policy_from_table(cfg);
}

Result<WorkerPolicy> load_policy(const std::filesystem::path &path) {
  FL_ASSIGN_OR_RETURN(auto cfg, common::ConfigTable::parse_file(path));
  return policy_from_table(cfg);
}

std::optional<std::string> policy_refusal(const WorkerPolicy &p, const common::JobTerms &t) {
  const auto clause = [&p](const std::string &key) { return p.source + ": " + key; };
  if (!p.researchers.empty() &&
      std::find(p.researchers.begin(), p.researchers.end(), t.researcher) == p.researchers.end()) {
    return clause("researchers") + " does not list the job's researcher " + common::to_hex(t.researcher);
  }
  if (t.reward_per_round < p.min_reward_per_round) {
    return clause("min_reward_per_round = " + std::to_string(p.min_reward_per_round)) + ", but the job pays " +
           std::to_string(t.reward_per_round) + " a round";
  }
  if (p.require_dp && !t.privacy)
    return clause("require_dp = true") + ", but the job makes no differential-privacy promise";
  if (p.max_epsilon) {
    if (!t.privacy) {
      return clause("max_epsilon = " + number_text(*p.max_epsilon)) +
             ", but the job makes no differential-privacy promise (epsilon is "
             "unbounded)";
    }
    if (t.privacy->epsilon > *p.max_epsilon) {
      return clause("max_epsilon = " + number_text(*p.max_epsilon)) + ", but the job's DP target is epsilon " +
             number_text(t.privacy->epsilon);
    }
  }
  if (p.max_rounds > 0 && t.rounds > p.max_rounds) {
    return clause("max_rounds = " + std::to_string(p.max_rounds)) + ", but the job runs " + std::to_string(t.rounds) +
           " rounds";
  }
  if (p.max_retention_days && t.retention_days > *p.max_retention_days) {
    return clause("max_retention_days = " + std::to_string(*p.max_retention_days)) + ", but the job keeps updates " +
           std::to_string(t.retention_days) + " days";
  }
  const auto kind = common::model_kind(t.model);
  if (!p.models.empty() && std::find(p.models.begin(), p.models.end(), kind) == p.models.end()) {
    std::string listed;
    for (const auto &m : p.models) listed += (listed.empty() ? "" : ", ") + m;
    return clause("models = [" + listed + "]") + ", but the job runs a '" + kind + "' model";
  }
  return std::nullopt;
}

bool may_train_at(const WorkerPolicy &p, std::time_t now) {
  if (!p.hours) return true;
  std::tm local{};
  localtime_r(&now, &local);
  const int h = local.tm_hour;
  const auto &w = *p.hours;
  return w.start < w.end ? (h >= w.start && h < w.end) : (h >= w.start || h < w.end);
}

std::string to_string(const TrainingHours &hours) {
  return std::to_string(hours.start) + "-" + std::to_string(hours.end);
}

Status apply_resource_limits(const WorkerPolicy &p, int &threads) {
  if (p.threads > 0 && (threads <= 0 || threads > p.threads)) threads = p.threads;
  if (p.memory_mb > 0) {
    const rlim_t bytes = static_cast<rlim_t>(p.memory_mb) << 20;
    rlimit limit{bytes, bytes};
    rlimit current{};
    if (getrlimit(RLIMIT_DATA, &current) == 0 && current.rlim_max != RLIM_INFINITY && current.rlim_max < bytes) {
      limit = {current.rlim_max, current.rlim_max};
    }
    if (setrlimit(RLIMIT_DATA, &limit) != 0) {
      return make_error(ErrorCode::kIo, p.source + ": memory_mb: setrlimit failed: " + std::strerror(errno));
    }
  }
  return ok_status();
}

}  // namespace fl::worker
