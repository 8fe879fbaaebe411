// Rate limits for input the coordinator does not control: token buckets keyed by a string (a
// connection, a source address), so one peer cannot take the round engine's time or the
// registry's memory; and a throttle for the log, so a flood cannot fill the disk either.
// Both are bounded: at most `max_keys` buckets are held, whatever the number of peers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace fl::coordinator {

using LimitClock = std::chrono::steady_clock;

struct RateLimit {
  double per_second = 0;  // tokens added a second; 0: no limit
  double burst = 1;       // the most a quiet key can spend at once
};

// A token bucket per key (Turner 1986). A key seen for the first time starts full. When
// `max_keys` keys are held, buckets that have refilled are forgotten (they would start full
// anyway); if none has, a new key is refused until one does.
class RateLimiter {
 public:
  RateLimiter(RateLimit limit, std::size_t max_keys);

  // True (and one token spent) when `key` may go on now.
  bool allow(const std::string& key, LimitClock::time_point now);
  std::size_t keys_held() const { return buckets_.size(); }

 private:
  struct Bucket {
    double tokens = 0;
    LimitClock::time_point updated;
  };
  void forget_refilled(LimitClock::time_point now);

  RateLimit limit_;
  std::size_t max_keys_;
  std::unordered_map<std::string, Bucket> buckets_;
  LimitClock::time_point last_sweep_{};
};

// At most `per_second` log lines a second; the rest are counted and reported with the next
// line that is let through.
class LogThrottle {
 public:
  explicit LogThrottle(int per_second = 10) : per_second_(per_second) {}
  // True when a line may be written now; `suppressed` then says how many were held back since.
  bool allow(LimitClock::time_point now, std::uint64_t& suppressed);

 private:
  int per_second_;
  int in_window_ = 0;
  LimitClock::time_point window_start_{};
  std::uint64_t suppressed_ = 0;
};

}  // namespace fl::coordinator
