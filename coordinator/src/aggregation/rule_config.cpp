#include "fl/coordinator/aggregation/rule_config.hpp"

namespace fl::coordinator {

namespace {
Status read_int(const common::ConfigTable& t, const char* key, int& value, int min, int max) {
  FL_ASSIGN_OR_RETURN(auto v, t.integer(key, value, min, max));
  value = static_cast<int>(v);
  return ok_status();
}
}  // namespace

Status read_rule_options(const common::ConfigTable& t, RuleOptions& o) {
  FL_RETURN_IF_ERROR(read_int(t, "f", o.f, 0, 100000));
  FL_RETURN_IF_ERROR(read_int(t, "multikrum_m", o.multikrum_m, 0, 100000));
  FL_ASSIGN_OR_RETURN(o.geomed_nu, t.number("geomed_nu", o.geomed_nu, 0, 1e9));
  FL_RETURN_IF_ERROR(read_int(t, "geomed_max_iter", o.geomed_max_iter, 1, 100000));
  FL_ASSIGN_OR_RETURN(o.geomed_tol, t.number("geomed_tol", o.geomed_tol, 0, 1));
  FL_ASSIGN_OR_RETURN(o.cclip_tau, t.number("cclip_tau", o.cclip_tau, 0, 1e30));
  FL_RETURN_IF_ERROR(read_int(t, "cclip_iters", o.cclip_iters, 1, 1000));
  FL_RETURN_IF_ERROR(read_int(t, "bucket_size", o.bucket_size, 1, 100000));
  FL_ASSIGN_OR_RETURN(o.clip_norm, t.number("clip_norm", o.clip_norm, 0, 1e30));
  FL_RETURN_IF_ERROR(read_int(t, "threads", o.threads, 0, 1024));
  return ok_status();
}

}  // namespace fl::coordinator
