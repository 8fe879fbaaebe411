#include "fl/common/dp_noise.hpp"

#include <cmath>
#include <numbers>
#include <random>
#include <string>

namespace fl::common {

double TaskPrivacy::worker_stddev() const {
  if (!enabled() || min_workers == 0) return 0;
  return noise_multiplier * clip_norm / std::sqrt(static_cast<double>(min_workers));
}

Status check_task_privacy(const TaskPrivacy& p) {
  const auto bad = [](const std::string& what) {
    return make_error(ErrorCode::kInvalidArgument, "task privacy: " + what);
  };
  if (!std::isfinite(p.clip_norm) || p.clip_norm < 0) {
    return bad("clip norm " + std::to_string(p.clip_norm) + " is not a finite number >= 0");
  }
  if (!std::isfinite(p.noise_multiplier) || p.noise_multiplier < 0) {
    return bad("noise multiplier " + std::to_string(p.noise_multiplier) +
               " is not a finite number >= 0");
  }
  if (p.enabled() && p.min_workers == 0) return bad("min_workers must be at least 1");
  return ok_status();
}

double clip_to_norm(std::span<float> values, double clip_norm) {
  double sum = 0;
  for (float v : values) sum += static_cast<double>(v) * v;
  const double norm = std::sqrt(sum);
  if (!(norm > clip_norm)) return 1.0;
  const double scale = clip_norm / norm;
  for (auto& v : values) v = static_cast<float>(v * scale);
  return scale;
}

void add_gaussian_noise(std::span<float> values, double stddev, std::uint64_t seed) {
  if (!(stddev > 0)) return;
  std::mt19937_64 rng(seed);
  // Uniform in (0, 1]: 53 random bits, never 0 so the logarithm stays finite.
  const auto uniform = [&rng] { return (static_cast<double>(rng() >> 11) + 1.0) * 0x1.0p-53; };
  for (std::size_t i = 0; i < values.size(); i += 2) {
    const double radius = stddev * std::sqrt(-2.0 * std::log(uniform()));
    const double angle = 2.0 * std::numbers::pi * uniform();
    values[i] += static_cast<float>(radius * std::cos(angle));
    if (i + 1 < values.size()) values[i + 1] += static_cast<float>(radius * std::sin(angle));
  }
}

void privatize_local_update(std::span<float> values, const TaskPrivacy& privacy,
                            std::uint64_t noise_seed) {
  if (!privacy.enabled()) return;
  clip_to_norm(values, privacy.clip_norm);
  add_gaussian_noise(values, privacy.worker_stddev(), noise_seed);
}

}  // namespace fl::common
