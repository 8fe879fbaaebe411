#include "fl/coordinator/simulation/sweep_config.hpp"

#include "fl/coordinator/aggregation/rule_config.hpp"
#include "fl/coordinator/contribution.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "fl/common/config_table.hpp"
#include "fl/models/partition.hpp"

namespace fl::coordinator {
namespace {

using common::ConfigTable;

constexpr std::pair<ByzantineAttack, std::string_view> kAttackNames[] = {
    {ByzantineAttack::kNone, "none"},         {ByzantineAttack::kLabelFlip, "label_flip"},
    {ByzantineAttack::kSignFlip, "sign_flip"}, {ByzantineAttack::kGaussian, "gaussian"},
    {ByzantineAttack::kScaled, "scaled"},     {ByzantineAttack::kAlie, "alie"},
    {ByzantineAttack::kIpm, "ipm"},           {ByzantineAttack::kZero, "zero"},
    {ByzantineAttack::kNoise, "noise"},       {ByzantineAttack::kReplayGlobal, "replay_global"},
    {ByzantineAttack::kReplayNoise, "replay_noise"}, {ByzantineAttack::kLazy, "lazy"},
    {ByzantineAttack::kInflateSamples, "inflate_samples"}, {ByzantineAttack::kSybil, "sybil"},
    {ByzantineAttack::kRich, "rich"},
};

std::filesystem::path resolve(const std::filesystem::path& base, const std::string& p) {
  return common::resolve_config_path(base, p);
}

Status parse_simulation(const ConfigTable& cfg, const std::filesystem::path& base,
                        SweepConfig& c) {
  FL_ASSIGN_OR_RETURN(auto s, cfg.section("simulation"));
  FL_ASSIGN_OR_RETURN(c.name, s.text("name", c.name));
  FL_ASSIGN_OR_RETURN(c.model, s.text("model", c.model));
  c.model = common::resolve_model_spec(base, c.model);
  FL_ASSIGN_OR_RETURN(auto seed, s.integer("seed", 1, 0, std::numeric_limits<std::int64_t>::max()));
  c.seed = static_cast<std::uint64_t>(seed);
  FL_ASSIGN_OR_RETURN(auto rounds, s.integer("rounds", c.rounds, 1, 100000));
  c.rounds = static_cast<int>(rounds);
  FL_ASSIGN_OR_RETURN(auto workers, s.integer("workers", c.workers, 1, 100000));
  c.workers = static_cast<int>(workers);
  FL_ASSIGN_OR_RETURN(c.sample_fraction, s.number("sample_fraction", c.sample_fraction, 1e-9, 1));
  FL_ASSIGN_OR_RETURN(auto threads, s.integer("threads", c.threads, 1, 256));
  FL_ASSIGN_OR_RETURN(c.shapley_reference, s.boolean("shapley_reference", false));
  FL_ASSIGN_OR_RETURN(c.shapley_eval_limit, s.integer("shapley_eval_limit", c.shapley_eval_limit, 0, 1 << 30));
  c.threads = static_cast<int>(threads);
  FL_ASSIGN_OR_RETURN(auto out, s.text("output_dir", c.output_dir.string()));
  c.output_dir = resolve(base, out);
  if (c.model != "mlp" && c.model != "cnn" && !c.model.starts_with("torchscript:")) {
    return make_error(ErrorCode::kInvalidArgument,
                      s.where("model") + " must be mlp, cnn or torchscript:<path>, got '" +
                          c.model + "'");
  }
  return ok_status();
}

Status parse_data_and_training(const ConfigTable& cfg, const std::filesystem::path& base,
                               SweepConfig& c) {
  FL_ASSIGN_OR_RETURN(auto d, cfg.section("data"));
  FL_ASSIGN_OR_RETURN(auto dir, d.text("dir", c.data_dir.string()));
  c.data_dir = resolve(base, dir);
  FL_ASSIGN_OR_RETURN(c.max_samples_per_worker, d.integer("max_samples_per_worker", 0, 0, 1 << 30));
  FL_ASSIGN_OR_RETURN(c.eval_limit, d.integer("eval_limit", 0, 0, 1 << 30));

  FL_ASSIGN_OR_RETURN(auto t, cfg.section("training"));
  return common::read_training_settings(t, c.training);
}

Status parse_aggregation(const ConfigTable& cfg, SweepConfig& c) {
  FL_ASSIGN_OR_RETURN(auto a, cfg.section("aggregation"));
  auto& ro = c.rule_options;
  c.fixed_f = a.has("f");
  ro.seed = c.seed;
  ro.threads = 1;  // settings run in parallel threads already
  FL_RETURN_IF_ERROR(read_rule_options(a, ro));
  FL_RETURN_IF_ERROR(read_close_settings(a, c.close));
  FL_ASSIGN_OR_RETURN(auto privacy, cfg.section("privacy"));
  return read_client_dp_settings(privacy, c.seed, c.close.privacy);
}

Status parse_attack(const ConfigTable& cfg, SweepConfig& c) {
  FL_ASSIGN_OR_RETURN(auto a, cfg.section("attack"));
  auto& p = c.attack;
  FL_ASSIGN_OR_RETURN(p.sign_flip_scale, a.number("sign_flip_scale", p.sign_flip_scale, -1e6, 0));
  if (p.sign_flip_scale >= 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      a.where("sign_flip_scale") + " must be < 0 (a sign flip)");
  }
  FL_ASSIGN_OR_RETURN(p.scaled_factor, a.number("scaled_factor", p.scaled_factor, -1e6, 1e6));
  FL_ASSIGN_OR_RETURN(p.gaussian_sigma, a.number("gaussian_sigma", p.gaussian_sigma, 0, 1e6));
  p.alie_z_from_formula = !a.has("alie_z");
  FL_ASSIGN_OR_RETURN(p.alie_z, a.number("alie_z", 0, -100, 100));
  FL_ASSIGN_OR_RETURN(p.ipm_epsilon, a.number("ipm_epsilon", p.ipm_epsilon, 0, 1e6));
  FL_ASSIGN_OR_RETURN(p.free_rider_sigma, a.number("free_rider_sigma", p.free_rider_sigma, 0, 1e6));
  FL_ASSIGN_OR_RETURN(p.lazy_fraction, a.number("lazy_fraction", p.lazy_fraction, 1e-9, 1));
  FL_ASSIGN_OR_RETURN(auto claimed, a.integer("claimed_samples", static_cast<std::int64_t>(p.claimed_samples),
                                              1, std::numeric_limits<std::int64_t>::max()));
  p.claimed_samples = static_cast<std::uint64_t>(claimed);
  FL_ASSIGN_OR_RETURN(auto rich, a.integer("rich_factor", p.rich_factor, 1, 1000));
  p.rich_factor = static_cast<int>(rich);
  FL_ASSIGN_OR_RETURN(auto sybils, a.integer("sybil_keys", p.sybil_keys, 1, 1000));
  p.sybil_keys = static_cast<int>(sybils);
  FL_ASSIGN_OR_RETURN(auto placement, a.text("byzantine_placement", "first"));
  if (placement != "first" && placement != "random") {
    return make_error(ErrorCode::kInvalidArgument, a.where("byzantine_placement") +
                                                       " must be 'first' or 'random', got '" +
                                                       placement + "'");
  }
  p.byzantine_random = placement == "random";
  return ok_status();
}

Status parse_scoring(const ConfigTable& cfg, SweepConfig& c) {
  FL_ASSIGN_OR_RETURN(auto sc, cfg.section("scoring"));
  return read_scoring_settings(sc, c.scoring);
}

Status parse_sweep(const ConfigTable& cfg, SweepConfig& c) {
  FL_ASSIGN_OR_RETURN(auto s, cfg.section("sweep"));
  FL_ASSIGN_OR_RETURN(c.rules, s.text_list("rules", c.rules));
  FL_ASSIGN_OR_RETURN(auto attacks, s.text_list("attacks", std::vector<std::string>{"none"}));
  FL_ASSIGN_OR_RETURN(auto counts, s.integer_list("byzantine", std::vector<std::int64_t>{0}, 0,
                                                  c.workers - 1));
  FL_ASSIGN_OR_RETURN(c.partitions, s.text_list("partitions", c.partitions));
  FL_ASSIGN_OR_RETURN(c.scorers, s.text_list("scorers", c.scorers));
  for (std::size_t i = 0; i < c.scorers.size(); ++i) {
    if (auto scorer = make_scorer(c.scorers[i]); !scorer.ok()) {
      return with_context(scorer.error(), s.where("scorers") + "[" + std::to_string(i) + "]");
    }
  }
  if (c.rules.empty() || attacks.empty() || counts.empty() || c.partitions.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      s.where("") + " rules, attacks, byzantine and partitions must not be empty");
  }
  for (std::size_t i = 0; i < c.rules.size(); ++i) {
    RuleOptions probe = c.rule_options;
    if (auto rule = make_rule(c.rules[i], probe); !rule.ok()) {
      return make_error(ErrorCode::kInvalidArgument, s.where("rules") + "[" + std::to_string(i) +
                                                         "]: " + rule.error().message);
    }
  }
  c.attacks.clear();
  for (std::size_t i = 0; i < attacks.size(); ++i) {
    auto attack = parse_byzantine_attack(attacks[i]);
    if (!attack.ok()) {
      return with_context(attack.error(), s.where("attacks") + "[" + std::to_string(i) + "]");
    }
    c.attacks.push_back(*attack);
  }
  c.byzantine_counts.assign(counts.begin(), counts.end());
  for (std::size_t i = 0; i < c.partitions.size(); ++i) {
    if (auto spec = models::parse_partition(c.partitions[i]); !spec.ok()) {
      return with_context(spec.error(), s.where("partitions") + "[" + std::to_string(i) + "]");
    }
  }
  return ok_status();
}

}  // namespace

Result<ByzantineAttack> parse_byzantine_attack(std::string_view name) {
  for (const auto& [attack, text] : kAttackNames) {
    if (name == text) return attack;
  }
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown attack '" + std::string(name) +
                        "' (none, label_flip, sign_flip, gaussian, scaled, alie, ipm; the "
                        "strategic: zero, noise, replay_global, replay_noise, lazy, "
                        "inflate_samples, sybil, rich)");
}

std::string_view to_string(ByzantineAttack attack) {
  for (const auto& [a, text] : kAttackNames) {
    if (a == attack) return text;
  }
  return "none";
}

bool is_strategic(ByzantineAttack attack) {
  return attack >= ByzantineAttack::kZero;
}

std::string SimulationSetting::id() const {
  return rule + "/" + std::string(to_string(attack)) + "/f" + std::to_string(byzantine) + "/" +
         partition + (scorer.empty() ? "" : "/" + scorer);
}

Result<SweepConfig> parse_sweep_config(std::string_view text, const std::string& source_name,
                                       const std::filesystem::path& base_dir) {
  FL_ASSIGN_OR_RETURN(auto cfg, ConfigTable::parse_text(text, source_name));
  SweepConfig c;
  c.source_text = std::string(text);
  FL_RETURN_IF_ERROR(parse_simulation(cfg, base_dir, c));
  FL_RETURN_IF_ERROR(parse_data_and_training(cfg, base_dir, c));
  FL_RETURN_IF_ERROR(parse_aggregation(cfg, c));
  FL_RETURN_IF_ERROR(parse_attack(cfg, c));
  FL_RETURN_IF_ERROR(parse_scoring(cfg, c));
  FL_RETURN_IF_ERROR(parse_sweep(cfg, c));
  FL_RETURN_IF_ERROR(cfg.reject_unknown_keys());
  return c;
}

Result<SweepConfig> load_sweep_config(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kNotFound, "cannot open sweep config " + path.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_sweep_config(text.str(), path.string(), path.parent_path());
}

std::vector<SimulationSetting> expand_sweep(const SweepConfig& config) {
  std::vector<SimulationSetting> out;
  for (const auto& partition : config.partitions) {
    for (int b : config.byzantine_counts) {
      for (ByzantineAttack attack : config.attacks) {
        if (attack != ByzantineAttack::kNone && b == 0) continue;
        // With a fixed f, a clean run at b > 0 would repeat the one at b = 0.
        const bool has_clean = std::find(config.byzantine_counts.begin(), config.byzantine_counts.end(), 0) !=
                               config.byzantine_counts.end();
        if (attack == ByzantineAttack::kNone && b > 0 && config.fixed_f && has_clean) continue;
        for (const auto& rule : config.rules) {
          if (config.scorers.empty()) {
            out.push_back({rule, attack, b, partition, ""});
            continue;
          }
          for (const auto& scorer : config.scorers) out.push_back({rule, attack, b, partition, scorer});
        }
      }
    }
  }
  return out;
}

}  // namespace fl::coordinator
