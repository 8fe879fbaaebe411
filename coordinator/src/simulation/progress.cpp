#include "progress.hpp"

#include <unistd.h>

#include <algorithm>

namespace fl::coordinator {

SweepProgress::SweepProgress(bool enabled, int settings, int rounds_per_setting)
    : enabled_(enabled),
      terminal_(isatty(STDERR_FILENO) != 0),
      settings_(std::max(settings, 1)),
      rounds_(std::max(rounds_per_setting, 1)),
      start_(std::chrono::steady_clock::now()) {}

std::string SweepProgress::eta(double fraction_done) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (fraction_done <= 0) return "--:--";
  const auto left = static_cast<long>(elapsed * (1 - fraction_done) / fraction_done);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld", left / 60, left % 60);
  return buf;
}

void SweepProgress::on_round(int setting_index, const SimulationSetting& setting,
                             const RoundRecord& record) {
  if (!enabled_ || !terminal_) return;
  const double done =
      (setting_index + static_cast<double>(record.round) / rounds_) / settings_;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(done * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r\033[K[%s] %3.0f%% %d/%d %s round %d/%d acc %.3f eta %s", bar.c_str(),
               100 * done, setting_index + 1, settings_, setting.id().c_str(), record.round,
               rounds_, record.test_accuracy, eta(done).c_str());
  std::fflush(stderr);
}

void SweepProgress::on_setting_done(int setting_index, const SettingResult& result) {
  if (!enabled_) return;
  const double done = static_cast<double>(setting_index + 1) / settings_;
  if (terminal_) std::fprintf(stderr, "\r\033[K");
  int refused = 0;
  for (const auto& r : result.rounds) refused += r.rule_refused ? 1 : 0;
  if (refused > 0 && refused == static_cast<int>(result.rounds.size())) {
    std::fprintf(stderr, "[%d/%d] %-40s refused (%d of %d rounds) %.1f s, eta %s\n",
                 setting_index + 1, settings_, result.setting.id().c_str(), refused, refused,
                 result.seconds, eta(done).c_str());
  } else {
    std::fprintf(stderr, "[%d/%d] %-40s final %.4f best %.4f (round %d)%s %.1f s, eta %s\n",
                 setting_index + 1, settings_, result.setting.id().c_str(),
                 result.final_accuracy, result.best_accuracy, result.best_round,
                 refused > 0 ? (", refused " + std::to_string(refused) + " rounds").c_str() : "",
                 result.seconds, eta(done).c_str());
  }
  std::fflush(stderr);
}

void SweepProgress::finish() {
  if (enabled_ && terminal_) std::fprintf(stderr, "\r\033[K");
}

}  // namespace fl::coordinator
