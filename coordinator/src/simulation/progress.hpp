// The sweep's progress bar on stderr: redrawn in place on a terminal, one line per finished
// setting otherwise (logs, CI), nothing when disabled.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "fl/coordinator/simulation/simulator.hpp"

namespace fl::coordinator {

class SweepProgress {
 public:
  SweepProgress(bool enabled, int settings, int rounds_per_setting);
  void on_round(int setting_index, const SimulationSetting& setting, const RoundRecord& record);
  void on_setting_done(int setting_index, const SettingResult& result);
  void finish();

 private:
  std::string eta(double fraction_done) const;

  bool enabled_;
  bool terminal_;
  int settings_;
  int rounds_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace fl::coordinator
