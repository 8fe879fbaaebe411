#include "fl/coordinator/rate_limiter.hpp"

#include <algorithm>

namespace fl::coordinator {

RateLimiter::RateLimiter(RateLimit limit, std::size_t max_keys)
    : limit_(limit), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

void RateLimiter::forget_refilled(LimitClock::time_point now) {
  // A sweep walks every bucket; at most one a second, so a flood of new keys stays cheap.
  if (now - last_sweep_ < std::chrono::seconds(1)) return;
  last_sweep_ = now;
  const auto refill = std::chrono::duration<double>(limit_.burst / limit_.per_second);
  std::erase_if(buckets_, [&](const auto& entry) { return now - entry.second.updated >= refill; });
}

bool RateLimiter::allow(const std::string& key, LimitClock::time_point now) {
  if (limit_.per_second <= 0) return true;
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) forget_refilled(now);
    if (buckets_.size() >= max_keys_) return false;
    it = buckets_.emplace(key, Bucket{limit_.burst, now}).first;
  }
  auto& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(limit_.burst, b.tokens + std::max(elapsed, 0.0) * limit_.per_second);
  b.updated = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

bool LogThrottle::allow(LimitClock::time_point now, std::uint64_t& suppressed) {
  if (now - window_start_ >= std::chrono::seconds(1)) {
    window_start_ = now;
    in_window_ = 0;
  }
  if (in_window_ >= per_second_) {
    ++suppressed_;
    return false;
  }
  ++in_window_;
  suppressed = suppressed_;
  suppressed_ = 0;
  return true;
}

}  // namespace fl::coordinator
