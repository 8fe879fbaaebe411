// The registry of aggregation components: one descriptor per rule or pre-aggregation step,
// naming its parameters (type, default, bounds, help). make_rule's parsing and canonical names,
// the option checks, read_rule_options and the CLI's flags are all derived from it, so a new
// rule is one file (its code and descriptor) plus one line in rule_registry.cpp.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/coordinator/aggregation/rule.hpp"

namespace fl::coordinator {

namespace aggregation {
struct Batch;
}

enum class ComponentKind { kRule, kStep };

// One parameter: a field of RuleOptions; its default is RuleOptions{}'s value.
struct RuleParam {
  using Field =
      std::variant<int RuleOptions::*, std::uint64_t RuleOptions::*, double RuleOptions::*>;
  std::string_view spec_key;    // "tau" in "cclip(tau=5)"; empty: not settable in a spec
  std::string_view option_key;  // "cclip_tau": config key; CLI flag "--cclip-tau"
  Field field;
  double min = 0;
  double max = 0;
  bool min_exclusive = false;   // value must be > min rather than >= min
  bool in_config = true;        // read by read_rule_options
  bool omit_when_zero = false;  // canonical name leaves it out while 0 (0 means "derived")
  std::string_view help{};
};

// Steps rewrite the batch in place (`call` counts aggregate() calls, so reshuffles differ per
// round); rules combine it into one vector. `state` is kept across rounds by the composed rule
// (centered clipping's centre); stateless components ignore it.
using StepFn = Status (*)(aggregation::Batch& batch, const RuleOptions& options,
                          std::uint64_t call);
using RuleFn = Result<std::vector<float>> (*)(const aggregation::Batch& batch,
                                              const RuleOptions& options,
                                              std::vector<double>& state);

struct RuleDescriptor {
  std::string_view name{};
  ComponentKind kind = ComponentKind::kRule;
  bool uses_f = false;  // the canonical name records f when any component uses it
  std::span<const RuleParam> params{};
  std::string_view help{};
  StepFn step = nullptr;  // kind == kStep
  RuleFn rule = nullptr;  // kind == kRule
};

// Every component in registry order (rules first, then steps).
std::span<const RuleDescriptor* const> rule_registry();
// nullptr when no component has that name.
const RuleDescriptor* find_rule_component(std::string_view name);
// Parameters every spec shares (f) or only options carry (threads, seed).
std::span<const RuleParam> shared_rule_params();
// Shared parameters, then every component's, each option_key once: the config keys and CLI flags.
std::vector<const RuleParam*> rule_option_params();

// Checks the parameter's value in `options` against its bounds; `component` names it in errors
// (empty for a shared parameter).
Status check_rule_param(const RuleParam& param, const RuleOptions& options,
                        std::string_view component);
// Parses `text` into the parameter's field (errors name `where`).
Status set_rule_param(const RuleParam& param, std::string_view text, RuleOptions& options,
                      const std::string& where);
// The value as the canonical name writes it ("10", "1e-06").
std::string format_rule_param(const RuleParam& param, const RuleOptions& options);

}  // namespace fl::coordinator
