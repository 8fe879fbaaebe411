#include "fl/coordinator/enrolment.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace fl::coordinator {

Result<std::set<common::PublicKey>> read_approval_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kNotFound, "approval file " + path.string() + " cannot be opened");
  std::set<common::PublicKey> keys;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    auto key = common::public_key_from_hex(std::string_view(line).substr(first, last - first + 1));
    if (!key.ok()) {
      return make_error(ErrorCode::kInvalidArgument,
                        path.string() + ":" + std::to_string(number) + ": " + key.error().message);
    }
    keys.insert(*key);
  }
  return keys;
}

SamplingGate::SamplingGate(SamplingRequirement requirement, StakeLookup stake_of)
    : requirement_(std::move(requirement)), stake_of_(std::move(stake_of)) {}

void SamplingGate::reload_approvals() {
  std::error_code ec;
  const auto mtime = std::filesystem::last_write_time(requirement_.approval_file, ec);
  if (!ec && approvals_loaded_ && mtime == approvals_mtime_) return;
  auto keys = read_approval_file(requirement_.approval_file);
  if (!keys.ok()) {
    spdlog::warn("{}; keeping the {} approved key(s) read before (enrolment.approval_file)", keys.error().message,
                 approved_.size());
    return;
  }
  if (!approvals_loaded_ || *keys != approved_) {
    spdlog::info("approval file {}: {} approved key(s)", requirement_.approval_file.string(), keys->size());
  }
  approved_ = std::move(keys).value();
  approvals_mtime_ = mtime;
  approvals_loaded_ = true;
}

std::vector<common::PublicKey> SamplingGate::eligible(const std::vector<common::PublicKey>& registered) {
  const bool by_stake = requirement_.min_stake > 0;
  const bool by_approval = !requirement_.approval_file.empty();
  if (!by_stake && !by_approval) return registered;
  if (by_approval) reload_approvals();
  std::vector<common::PublicKey> out;
  for (const auto& k : registered) {
    const bool staked = by_stake && stake_of_ && stake_of_(k) >= requirement_.min_stake;
    const bool approved = by_approval && approved_.count(k);
    if (staked || approved) out.push_back(k);
  }
  return out;
}

std::vector<common::PublicKey> sample_preferring_history(
    const std::vector<common::PublicKey>& eligible,
    const std::function<bool(const common::PublicKey&)>& has_answered, const SamplingPolicy& policy,
    double newcomer_share, std::uint64_t seed, std::uint64_t round, std::set<common::PublicKey>& newcomers) {
  std::vector<common::PublicKey> veterans, fresh;
  for (const auto& k : eligible) (has_answered(k) ? veterans : fresh).push_back(k);
  newcomers.clear();
  if (veterans.empty()) {
    auto sample = sample_workers(fresh, policy, seed, round);
    newcomers.insert(sample.begin(), sample.end());
    return sample;
  }
  const auto n = eligible.size();
  const auto want = std::min(n, std::max<std::size_t>(
                                    static_cast<std::size_t>(std::max(policy.min_workers, 0)),
                                    static_cast<std::size_t>(std::ceil(policy.fraction * static_cast<double>(n)))));
  const auto fresh_places = std::min(
      fresh.size(), static_cast<std::size_t>(std::ceil(std::clamp(newcomer_share, 0.0, 1.0) * static_cast<double>(want))));
  const auto veteran_places = std::min(veterans.size(), want - std::min(want, fresh_places));
  // Two independent draws (distinct streams), each through the one sampling function.
  auto sample = sample_workers(veterans, {0.0, static_cast<int>(veteran_places)}, seed, round);
  auto chosen_fresh = sample_workers(fresh, {0.0, static_cast<int>(fresh_places)}, seed ^ 0x9e3779b97f4a7c15ull, round);
  newcomers.insert(chosen_fresh.begin(), chosen_fresh.end());
  sample.insert(sample.end(), chosen_fresh.begin(), chosen_fresh.end());
  std::sort(sample.begin(), sample.end());
  return sample;
}

}  // namespace fl::coordinator
