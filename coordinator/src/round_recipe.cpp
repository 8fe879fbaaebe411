#include "fl/coordinator/round_recipe.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

namespace fl::coordinator {

namespace {

// Shortest text that reads back as the same double.
std::string exact(double v) {
  char buf[32];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

Error bad(std::string_view text, const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument,
                    "round recipe \"" + std::string(text) + "\": " + what);
}

Result<double> number(std::string_view text, const std::map<std::string, std::string>& fields,
                      const char* key) {
  const auto it = fields.find(key);
  if (it == fields.end()) return bad(text, std::string("has no ") + key);
  char* end = nullptr;
  const double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end != '\0') return bad(text, std::string(key) + " is not a number");
  return v;
}

}  // namespace

RoundRecipe recipe_of(const std::string& rule_name, const CloseSettings& settings) {
  return RoundRecipe{rule_name, settings.server_learning_rate, settings.bounds,
                     settings.privacy.enabled()};
}

std::string recipe_text(const RoundRecipe& r) {
  std::string weights = weighting_name(r.bounds.weighting);
  if (r.bounds.weighting == SampleWeighting::kCapped || r.bounds.weighting == SampleWeighting::kBacked) {
    weights += ":" + exact(r.bounds.weight_cap);
  }
  return r.rule + "; server_lr=" + exact(r.server_learning_rate) + "; weights=" + weights +
         "; norm_bound=" + exact(r.bounds.norm_multiple) +
         "; rescale_to_reference=" + (r.bounds.rescale_to_reference ? "1" : "0") +
         "; dp=" + (r.dp ? "1" : "0");
}

Result<RoundRecipe> parse_recipe(std::string_view text) {
  std::vector<std::string> parts;
  for (std::size_t start = 0;;) {
    const auto semi = text.find("; ", start);
    parts.emplace_back(text.substr(start, semi == std::string_view::npos ? semi : semi - start));
    if (semi == std::string_view::npos) break;
    start = semi + 2;
  }
  if (parts.size() == 1) {
    return bad(text,
               "does not record its aggregation settings (recorded by a coordinator older than "
               "round recipes)");
  }
  RoundRecipe r;
  r.rule = parts[0];
  std::map<std::string, std::string> fields;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto eq = parts[i].find('=');
    if (eq == std::string::npos) return bad(text, "'" + parts[i] + "' is not key=value");
    if (!fields.emplace(parts[i].substr(0, eq), parts[i].substr(eq + 1)).second) {
      return bad(text, parts[i].substr(0, eq) + " is given twice");
    }
  }
  for (const auto& [key, _] : fields) {
    if (key != "server_lr" && key != "weights" && key != "norm_bound" &&
        key != "rescale_to_reference" && key != "dp") {
      return bad(text, "unknown setting '" + key + "'");
    }
  }
  FL_ASSIGN_OR_RETURN(r.server_learning_rate, number(text, fields, "server_lr"));
  FL_ASSIGN_OR_RETURN(r.bounds.norm_multiple, number(text, fields, "norm_bound"));
  const auto weights = fields.count("weights") ? fields["weights"] : "";
  if (weights.rfind("capped:", 0) == 0 || weights.rfind("backed:", 0) == 0) {
    r.bounds.weighting = weights[0] == 'c' ? SampleWeighting::kCapped : SampleWeighting::kBacked;
    fields["weight_cap"] = weights.substr(7);
    FL_ASSIGN_OR_RETURN(r.bounds.weight_cap, number(text, fields, "weight_cap"));
  } else if (weights == "equal") {
    r.bounds.weighting = SampleWeighting::kEqual;
  } else if (weights == "claimed") {
    r.bounds.weighting = SampleWeighting::kClaimed;
  } else {
    return bad(text, "weights is \"" + weights + "\", not backed:CAP, capped:CAP, equal or claimed");
  }
  for (const char* flag : {"rescale_to_reference", "dp"}) {
    if (!fields.count(flag) || (fields[flag] != "0" && fields[flag] != "1")) {
      return bad(text, std::string(flag) + " must be 0 or 1");
    }
  }
  r.bounds.rescale_to_reference = fields["rescale_to_reference"] == "1";
  r.dp = fields["dp"] == "1";
  return r;
}

}  // namespace fl::coordinator
