// /metrics: a job in the Prometheus text exposition format (version 0.0.4). Round figures come
// from the JobMonitor's copies; ledger figures (height, tokens minted, rejections by reason) from
// the ledger itself. Labels are bounded: rejection reasons are mapped to a fixed set of
// categories, never the raw text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fl/coordinator/http/job_monitor.hpp"

namespace fl::coordinator {

// "signature", "not_sampled", "wrong_round", "stale_model", "shape", "non_finite", "samples",
// "norm", "equivocation", "protocol" or "other".
std::string_view rejection_category(std::string_view reason);

struct LedgerFigures {
  bool present = false;
  std::uint64_t height = 0;
  std::uint64_t minted = 0;                                 // reward tokens minted for this job
  std::map<std::string, std::uint64_t> rejected_by_reason;  // rejection_category -> count
};

std::string prometheus_text(const JobSnapshot& job, const LedgerFigures& ledger);

}  // namespace fl::coordinator
