// make_rule: parses "step+step+rule" specs with optional "(key=value,...)" parameters into one
// AggregationRule that validates the updates, applies the steps in order, then the rule. What a
// component is called, which parameters it takes and their bounds come from rule_registry().
#include "batch.hpp"

namespace fl::coordinator {

namespace {

using namespace aggregation;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The parameter `key` names in a spec component: f (shared) or one of the component's own.
const RuleParam* find_param(const RuleDescriptor& d, std::string_view key) {
  for (const auto& p : shared_rule_params()) {
    if (!p.spec_key.empty() && p.spec_key == key) return &p;
  }
  for (const auto& p : d.params) {
    if (p.spec_key == key) return &p;
  }
  return nullptr;
}

std::string accepted_keys(const RuleDescriptor& d) {
  std::string out = "f";
  for (const auto& p : d.params) out += "," + std::string(p.spec_key);
  return out;
}

std::string component_list() {
  std::string rules, steps;
  for (const auto* d : rule_registry()) {
    auto& list = d->kind == ComponentKind::kRule ? rules : steps;
    list += (list.empty() ? "" : ", ") + std::string(d->name);
  }
  return "rules: " + rules + "; steps: " + steps;
}

Result<const RuleDescriptor*> parse_component(std::string_view text, RuleOptions& o) {
  const auto open = text.find('(');
  const std::string_view name = trim(text.substr(0, open));
  const RuleDescriptor* info = find_rule_component(name);
  if (info == nullptr) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "unknown aggregation component '" + std::string(name) + "'; " + component_list());
  }
  if (open == std::string_view::npos) return info;
  if (text.back() != ')') {
    return make_error(ErrorCode::kInvalidArgument, "'" + std::string(text) + "': missing ')'");
  }
  std::string_view params = text.substr(open + 1, text.size() - open - 2);
  while (!trim(params).empty()) {
    const auto comma = params.find(',');
    const std::string_view item = params.substr(0, comma);
    params = comma == std::string_view::npos ? std::string_view{} : params.substr(comma + 1);
    const auto eq = item.find('=');
    const std::string_view key = trim(item.substr(0, eq));
    const RuleParam* param = eq == std::string_view::npos ? nullptr : find_param(*info, key);
    if (param == nullptr) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(info->name) + ": unknown parameter '" +
                            std::string(trim(item)) + "' (accepted: " + accepted_keys(*info) + ")");
    }
    const std::string where = std::string(info->name) + "(" + std::string(key) + ")";
    FL_RETURN_IF_ERROR(set_rule_param(*param, trim(item.substr(eq + 1)), o, where));
  }
  return info;
}

Status check_options(const std::vector<const RuleDescriptor*>& parts, const RuleOptions& o) {
  for (const auto& p : shared_rule_params()) FL_RETURN_IF_ERROR(check_rule_param(p, o, ""));
  for (const auto* d : parts) {
    for (const auto& p : d->params) FL_RETURN_IF_ERROR(check_rule_param(p, o, d->name));
  }
  return ok_status();
}

Status check_order(std::string_view spec, const std::vector<const RuleDescriptor*>& parts) {
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const std::size_t i = (k + parts.size() - 1) % parts.size();  // the last component first
    const bool last = i + 1 == parts.size();
    if ((parts[i]->kind == ComponentKind::kStep) == last) {
      return make_error(ErrorCode::kInvalidArgument,
                        "aggregation spec '" + std::string(spec) + "': '" +
                            std::string(parts[i]->name) +
                            (last ? "' is a pre-aggregation step; the last component must be a rule"
                                  : "' is a rule; only the last component may be one"));
    }
  }
  return ok_status();
}

class ComposedRule final : public AggregationRule {
 public:
  ComposedRule(std::vector<const RuleDescriptor*> parts, RuleOptions options)
      : parts_(std::move(parts)), o_(options) {}

  std::string name() const override {
    bool any_f = false;
    for (const auto* p : parts_) any_f |= p->uses_f;
    std::string out;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      std::vector<std::string> params;
      if (i + 1 == parts_.size() && any_f) params.push_back("f=" + std::to_string(o_.f));
      for (const auto& p : parts_[i]->params) {
        const std::string value = format_rule_param(p, o_);
        if (p.omit_when_zero && value == "0") continue;
        params.push_back(std::string(p.spec_key) + "=" + value);
      }
      if (i > 0) out += '+';
      out += parts_[i]->name;
      for (std::size_t k = 0; k < params.size(); ++k) out += (k == 0 ? "(" : ",") + params[k];
      if (!params.empty()) out += ')';
    }
    return out;
  }

  Result<std::vector<float>> aggregate(std::span<const UpdateView> updates) override {
    FL_RETURN_IF_ERROR(validate_updates(updates, o_.threads));
    Batch batch = batch_from(updates);
    const std::uint64_t call = calls_++;
    for (std::size_t i = 0; i + 1 < parts_.size(); ++i) {
      FL_RETURN_IF_ERROR(parts_[i]->step(batch, o_, call));
    }
    return parts_.back()->rule(batch, o_, state_);
  }

 private:
  std::vector<const RuleDescriptor*> parts_;
  RuleOptions o_;
  std::uint64_t calls_ = 0;    // bucketing reshuffles every call
  std::vector<double> state_;  // the rule's state across rounds (centered clipping's centre)
};

}  // namespace

Result<std::unique_ptr<AggregationRule>> make_rule(std::string_view spec,
                                                   const RuleOptions& options) {
  RuleOptions o = options;
  std::vector<const RuleDescriptor*> parts;
  std::string_view rest = spec;
  for (;;) {
    const auto plus = rest.find('+');
    const std::string_view text = trim(rest.substr(0, plus));
    if (text.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "aggregation spec '" + std::string(spec) + "': empty component");
    }
    FL_ASSIGN_OR_RETURN(const RuleDescriptor* info, parse_component(text, o));
    parts.push_back(info);
    if (plus == std::string_view::npos) break;
    rest = rest.substr(plus + 1);
  }
  FL_RETURN_IF_ERROR(check_order(spec, parts));
  if (auto st = check_options(parts, o); !st.ok()) {
    return with_context(st.error(), "aggregation spec '" + std::string(spec) + "'");
  }
  return std::unique_ptr<AggregationRule>(std::make_unique<ComposedRule>(std::move(parts), o));
}

}  // namespace fl::coordinator
