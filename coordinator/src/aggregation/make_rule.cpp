// make_rule: parses "step+step+rule" specs with optional "(key=value,...)" parameters into one
// AggregationRule that validates the updates, applies the steps in order, then the rule.
#include <array>
#include <charconv>
#include <cmath>

#include "batch.hpp"

namespace fl::coordinator {

namespace {

using namespace aggregation;

enum class Kind { kFedAvg, kMedian, kTrimmedMean, kKrum, kMultiKrum, kGeoMed, kBulyan, kCClip,
                  kNnm, kBucketing, kClip, kArc };

struct KindInfo {
  Kind kind;
  std::string_view name;
  bool is_step;
  bool uses_f;
  std::string_view params;  // accepted keys besides f, comma separated
};

constexpr std::array<KindInfo, 12> kKinds{{
    {Kind::kFedAvg, "fedavg", false, false, ""},
    {Kind::kMedian, "median", false, true, ""},
    {Kind::kTrimmedMean, "trimmed_mean", false, true, ""},
    {Kind::kKrum, "krum", false, true, ""},
    {Kind::kMultiKrum, "multikrum", false, true, "m"},
    {Kind::kGeoMed, "geomed", false, true, "nu,max_iter,tol"},
    {Kind::kBulyan, "bulyan", false, true, ""},
    {Kind::kCClip, "cclip", false, false, "tau,iters"},
    {Kind::kNnm, "nnm", true, true, ""},
    {Kind::kBucketing, "bucketing", true, false, "s,seed"},
    {Kind::kClip, "clip", true, false, "norm"},
    {Kind::kArc, "arc", true, true, ""},
}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool key_allowed(const KindInfo& info, std::string_view key) {
  if (key == "f") return true;
  std::string_view rest = info.params;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (rest.substr(0, comma) == key) return true;
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

template <typename T>
Status parse_value(std::string_view text, T& out, const std::string& where) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      where + ": '" + std::string(text) + "' is not a valid number");
  }
  return ok_status();
}

Status set_param(std::string_view key, std::string_view value, RuleOptions& o,
                 const std::string& where) {
  if (key == "f") return parse_value(value, o.f, where);
  if (key == "m") return parse_value(value, o.multikrum_m, where);
  if (key == "nu") return parse_value(value, o.geomed_nu, where);
  if (key == "max_iter") return parse_value(value, o.geomed_max_iter, where);
  if (key == "tol") return parse_value(value, o.geomed_tol, where);
  if (key == "tau") return parse_value(value, o.cclip_tau, where);
  if (key == "iters") return parse_value(value, o.cclip_iters, where);
  if (key == "s") return parse_value(value, o.bucket_size, where);
  if (key == "seed") return parse_value(value, o.seed, where);
  if (key == "norm") return parse_value(value, o.clip_norm, where);
  return make_error(ErrorCode::kInternal, where + ": unhandled key");
}

Result<const KindInfo*> parse_component(std::string_view text, RuleOptions& o) {
  const auto open = text.find('(');
  const std::string_view name = trim(text.substr(0, open));
  const KindInfo* info = nullptr;
  for (const auto& k : kKinds) {
    if (k.name == name) info = &k;
  }
  if (info == nullptr) {
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown aggregation component '" + std::string(name) +
                          "'; rules: fedavg, median, trimmed_mean, krum, multikrum, geomed, "
                          "bulyan, cclip; steps: nnm, bucketing, clip, arc");
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
    const std::string where = std::string(info->name) + "(" + std::string(key) + ")";
    if (eq == std::string_view::npos || !key_allowed(*info, key)) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(info->name) + ": unknown parameter '" + std::string(trim(item)) +
                            "' (accepted: f" + (info->params.empty() ? "" : ",") +
                            std::string(info->params) + ")");
    }
    FL_RETURN_IF_ERROR(set_param(key, trim(item.substr(eq + 1)), o, where));
  }
  return info;
}

Status check_options(const std::vector<const KindInfo*>& parts, const RuleOptions& o) {
  auto bad = [](const std::string& what) { return make_error(ErrorCode::kInvalidArgument, what); };
  if (o.f < 0) return bad("f must be >= 0, got " + std::to_string(o.f));
  for (const auto* p : parts) {
    switch (p->kind) {
      case Kind::kMultiKrum:
        if (o.multikrum_m < 0) return bad("multikrum: m must be >= 0 (0: n - f)");
        break;
      case Kind::kGeoMed:
        if (!(o.geomed_nu > 0) || !std::isfinite(o.geomed_nu)) return bad("geomed: nu must be > 0");
        if (o.geomed_max_iter < 0) return bad("geomed: max_iter must be >= 0");
        if (!(o.geomed_tol >= 0)) return bad("geomed: tol must be >= 0");
        break;
      case Kind::kCClip:
        if (!(o.cclip_tau > 0) || !std::isfinite(o.cclip_tau)) return bad("cclip: tau must be > 0");
        if (o.cclip_iters < 1) return bad("cclip: iters must be >= 1");
        break;
      case Kind::kBucketing:
        if (o.bucket_size < 1) return bad("bucketing: s must be >= 1");
        break;
      case Kind::kClip:
        if (!(o.clip_norm > 0) || !std::isfinite(o.clip_norm)) {
          return bad("clip: needs a norm bound > 0 (clip_norm, or clip(norm=...))");
        }
        break;
      default:
        break;
    }
  }
  return ok_status();
}

class ComposedRule final : public AggregationRule {
 public:
  ComposedRule(std::vector<const KindInfo*> parts, RuleOptions options)
      : parts_(std::move(parts)), o_(options) {}

  std::string name() const override {
    bool any_f = false;
    for (const auto* p : parts_) any_f |= p->uses_f;
    std::string out;
    for (std::size_t i = 0; i < parts_.size(); ++i) {
      std::vector<std::string> params;
      if (i + 1 == parts_.size() && any_f) params.push_back("f=" + std::to_string(o_.f));
      switch (parts_[i]->kind) {
        case Kind::kMultiKrum:
          if (o_.multikrum_m > 0) params.push_back("m=" + std::to_string(o_.multikrum_m));
          break;
        case Kind::kGeoMed:
          params.push_back("nu=" + format_number(o_.geomed_nu));
          params.push_back("max_iter=" + std::to_string(o_.geomed_max_iter));
          params.push_back("tol=" + format_number(o_.geomed_tol));
          break;
        case Kind::kCClip:
          params.push_back("tau=" + format_number(o_.cclip_tau));
          params.push_back("iters=" + std::to_string(o_.cclip_iters));
          break;
        case Kind::kBucketing:
          params.push_back("s=" + std::to_string(o_.bucket_size));
          params.push_back("seed=" + std::to_string(o_.seed));
          break;
        case Kind::kClip:
          params.push_back("norm=" + format_number(o_.clip_norm));
          break;
        default:
          break;
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
      FL_RETURN_IF_ERROR(apply_step(parts_[i]->kind, batch, call));
    }
    return apply_rule(parts_.back()->kind, batch);
  }

 private:
  Status apply_step(Kind kind, Batch& batch, std::uint64_t call) {
    switch (kind) {
      case Kind::kNnm: return nearest_neighbour_mixing(batch, o_.f, o_.threads);
      case Kind::kBucketing: return bucketing(batch, o_.bucket_size, o_.seed, call, o_.threads);
      case Kind::kClip: return static_clipping(batch, o_.clip_norm, o_.threads);
      case Kind::kArc: return adaptive_robust_clipping(batch, o_.f, o_.threads);
      default: return make_error(ErrorCode::kInternal, "not a pre-aggregation step");
    }
  }

  Result<std::vector<float>> apply_rule(Kind kind, const Batch& batch) {
    switch (kind) {
      case Kind::kFedAvg: return weighted_mean(batch, o_.threads);
      case Kind::kMedian: return coordinate_median(batch, o_.f, o_.threads);
      case Kind::kTrimmedMean: return trimmed_mean(batch, o_.f, o_.threads);
      case Kind::kKrum: return krum(batch, o_.f, o_.threads);
      case Kind::kMultiKrum: return multi_krum(batch, o_.f, o_.multikrum_m, o_.threads);
      case Kind::kGeoMed: return geometric_median(batch, o_);
      case Kind::kBulyan: return bulyan(batch, o_.f, o_.threads);
      case Kind::kCClip: return centered_clipping(batch, o_, centre_);
      default: return make_error(ErrorCode::kInternal, "not a rule");
    }
  }

  std::vector<const KindInfo*> parts_;
  RuleOptions o_;
  std::uint64_t calls_ = 0;      // bucketing reshuffles every call
  std::vector<double> centre_;   // centered clipping's centre, kept across rounds
};

}  // namespace

Result<std::unique_ptr<AggregationRule>> make_rule(std::string_view spec,
                                                   const RuleOptions& options) {
  RuleOptions o = options;
  std::vector<const KindInfo*> parts;
  std::string_view rest = spec;
  for (;;) {
    const auto plus = rest.find('+');
    const std::string_view text = trim(rest.substr(0, plus));
    if (text.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "aggregation spec '" + std::string(spec) + "': empty component");
    }
    FL_ASSIGN_OR_RETURN(const KindInfo* info, parse_component(text, o));
    parts.push_back(info);
    if (plus == std::string_view::npos) break;
    rest = rest.substr(plus + 1);
  }
  for (std::size_t k = 0; k < parts.size(); ++k) {
    const std::size_t i = (k + parts.size() - 1) % parts.size();  // the last component first
    const bool last = i + 1 == parts.size();
    if (parts[i]->is_step == last) {
      return make_error(ErrorCode::kInvalidArgument,
                        "aggregation spec '" + std::string(spec) + "': '" +
                            std::string(parts[i]->name) +
                            (last ? "' is a pre-aggregation step; the last component must be a rule"
                                  : "' is a rule; only the last component may be one"));
    }
  }
  if (auto st = check_options(parts, o); !st.ok()) {
    return with_context(st.error(), "aggregation spec '" + std::string(spec) + "'");
  }
  return std::unique_ptr<AggregationRule>(std::make_unique<ComposedRule>(std::move(parts), o));
}

}  // namespace fl::coordinator
