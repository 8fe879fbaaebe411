#include "fl/coordinator/aggregation/rule_config.hpp"

#include <cstdint>
#include <limits>

#include "fl/coordinator/aggregation/rule_registry.hpp"

namespace fl::coordinator {

namespace {

Status read_param(const common::ConfigTable& t, const RuleParam& p, RuleOptions& o) {
  const std::string key(p.option_key);
  if (!t.has(key)) return ok_status();
  FL_RETURN_IF_ERROR(std::visit(
      [&](auto field) -> Status {
        auto& value = o.*field;
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, double>) {
          FL_ASSIGN_OR_RETURN(value, t.number(key, value, p.min, p.max));
        } else {
          const std::int64_t max = std::is_same_v<T, int>
                                       ? static_cast<std::int64_t>(p.max)
                                       : std::numeric_limits<std::int64_t>::max();
          FL_ASSIGN_OR_RETURN(auto v,
                              t.integer(key, std::nullopt, static_cast<std::int64_t>(p.min), max));
          value = static_cast<T>(v);
        }
        return ok_status();
      },
      p.field));
  if (auto st = check_rule_param(p, o, ""); !st.ok()) {
    return make_error(ErrorCode::kInvalidArgument, t.where(key) + ": " + st.error().message);
  }
  return ok_status();
}

}  // namespace

Status read_rule_options(const common::ConfigTable& t, RuleOptions& o) {
  for (const auto* p : rule_option_params()) {
    if (p->in_config) FL_RETURN_IF_ERROR(read_param(t, *p, o));
  }
  return ok_status();
}

}  // namespace fl::coordinator
