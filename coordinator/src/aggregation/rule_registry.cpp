// The list of aggregation components and the parameter helpers derived from their descriptors.
// Adding a rule: define its descriptor beside its code, then add one line to kRegistry below.
#include "fl/coordinator/aggregation/rule_registry.hpp"

#include <charconv>
#include <cmath>

#include "batch.hpp"

namespace fl::coordinator {

// The registry: one line per component, in the order errors and --help list them.
namespace aggregation {
extern const RuleDescriptor kFedAvgRule, kMedianRule, kTrimmedMeanRule, kKrumRule, kMultiKrumRule,
    kGeoMedRule, kBulyanRule, kCClipRule, kNnmStep, kBucketingStep, kClipStep, kArcStep;
}  // namespace aggregation

namespace {

using namespace aggregation;

const RuleDescriptor* const kRegistry[] = {
    &kFedAvgRule,       // coordinate_rules.cpp
    &kMedianRule,       // coordinate_rules.cpp
    &kTrimmedMeanRule,  // coordinate_rules.cpp
    &kKrumRule,         // krum.cpp
    &kMultiKrumRule,    // krum.cpp
    &kGeoMedRule,       // iterative_rules.cpp
    &kBulyanRule,       // krum.cpp
    &kCClipRule,        // iterative_rules.cpp
    &kNnmStep,          // preaggregation.cpp
    &kBucketingStep,    // preaggregation.cpp
    &kClipStep,         // preaggregation.cpp
    &kArcStep,          // preaggregation.cpp
};

const RuleParam kSharedParams[] = {
    {.spec_key = "f",
     .option_key = "f",
     .field = &RuleOptions::f,
     .min = 0,
     .max = 100000,
     .help = "assumed number of Byzantine updates"},
    {.spec_key = "",
     .option_key = "threads",
     .field = &RuleOptions::threads,
     .min = 0,
     .max = 1024,
     .help = "threads (0: all cores); results do not depend on the count"},
};

std::string bound_text(const RuleParam& p) {
  std::string out = (p.min_exclusive ? "> " : ">= ") + format_number(p.min);
  if (p.max < 1e30) out += " and <= " + format_number(p.max);
  return out;
}

double value_of(const RuleParam& p, const RuleOptions& o) {
  return std::visit([&](auto field) { return static_cast<double>(o.*field); }, p.field);
}

}  // namespace

std::span<const RuleDescriptor* const> rule_registry() { return kRegistry; }

const RuleDescriptor* find_rule_component(std::string_view name) {
  for (const auto* d : kRegistry) {
    if (d->name == name) return d;
  }
  return nullptr;
}

std::span<const RuleParam> shared_rule_params() { return kSharedParams; }

std::vector<const RuleParam*> rule_option_params() {
  std::vector<const RuleParam*> out;
  auto add = [&](const RuleParam& p) {
    for (const auto* q : out) {
      if (q->option_key == p.option_key) return;
    }
    out.push_back(&p);
  };
  for (const auto& p : kSharedParams) add(p);
  for (const auto* d : kRegistry) {
    for (const auto& p : d->params) add(p);
  }
  return out;
}

Status check_rule_param(const RuleParam& p, const RuleOptions& o, std::string_view component) {
  if (std::holds_alternative<std::uint64_t RuleOptions::*>(p.field)) return ok_status();
  const double v = value_of(p, o);
  const bool ok = std::isfinite(v) && (p.min_exclusive ? v > p.min : v >= p.min) && v <= p.max;
  if (ok) return ok_status();
  const std::string who = component.empty() ? "" : std::string(component) + ": ";
  const double fallback = value_of(p, RuleOptions{});
  if (v == fallback && !component.empty()) {  // a parameter without a usable default
    return make_error(ErrorCode::kInvalidArgument,
                      who + "needs a " + std::string(p.spec_key) + " bound " + bound_text(p) +
                          " (" + std::string(p.option_key) + ", or " + std::string(component) +
                          "(" + std::string(p.spec_key) + "=...))");
  }
  return make_error(ErrorCode::kInvalidArgument,
                    who + std::string(p.spec_key.empty() ? p.option_key : p.spec_key) +
                        " must be " + bound_text(p) + ", got " + format_rule_param(p, o));
}

Status set_rule_param(const RuleParam& p, std::string_view text, RuleOptions& o,
                      const std::string& where) {
  return std::visit(
      [&](auto field) -> Status {
        auto& out = o.*field;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        if (ec != std::errc() || end != text.data() + text.size()) {
          return make_error(ErrorCode::kInvalidArgument,
                            where + ": '" + std::string(text) + "' is not a valid number");
        }
        return ok_status();
      },
      p.field);
}

std::string format_rule_param(const RuleParam& p, const RuleOptions& o) {
  return std::visit(
      [&](auto field) -> std::string {
        const auto v = o.*field;
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, double>) {
          return format_number(v);
        } else {
          return std::to_string(v);
        }
      },
      p.field);
}

}  // namespace fl::coordinator
