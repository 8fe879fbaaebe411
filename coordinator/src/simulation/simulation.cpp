#include "fl/coordinator/simulation/simulation.hpp"

#include <cstdio>
#include <fstream>

#include "fl/coordinator/simulation/simulator.hpp"
#include "fl/coordinator/simulation/sweep_config.hpp"
#include "incentive_report.hpp"
#include "progress.hpp"
#include "report.hpp"

namespace fl::coordinator {

Status run_simulation(const std::filesystem::path& config_path,
                      const SimulationOverrides& overrides) {
  FL_ASSIGN_OR_RETURN(auto config, load_sweep_config(config_path));
  if (overrides.output_dir) config.output_dir = *overrides.output_dir;
  if (overrides.threads > 0) config.threads = overrides.threads;

  std::vector<SimulationSetting> settings;
  for (auto& s : expand_sweep(config)) {
    if (overrides.filter.empty() || s.id().find(overrides.filter) != std::string::npos) {
      settings.push_back(std::move(s));
    }
  }
  if (settings.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      config_path.string() + ": no setting matches filter '" + overrides.filter +
                          "'");
  }

  std::error_code ec;
  std::filesystem::create_directories(config.output_dir, ec);
  if (ec) {
    return make_error(ErrorCode::kIo,
                      "cannot create " + config.output_dir.string() + ": " + ec.message());
  }
  std::ofstream(config.output_dir / "config.toml", std::ios::trunc) << config.source_text;
  FL_ASSIGN_OR_RETURN(auto rounds_csv, RoundsCsv::create(config.output_dir / "rounds.csv"));
  FL_ASSIGN_OR_RETURN(auto data, load_simulation_data(config.data_dir));

  SweepProgress progress(overrides.show_progress, static_cast<int>(settings.size()),
                         config.rounds);
  std::vector<SettingResult> results;
  for (std::size_t i = 0; i < settings.size(); ++i) {
    auto observer = [&](const SettingResult& so_far) {
      rounds_csv.write(so_far.setting, so_far.rule_name, so_far.rounds.back());
      progress.on_round(static_cast<int>(i), so_far.setting, so_far.rounds.back());
    };
    auto result = run_setting(config, settings[i], *data, observer);
    if (!result.ok()) {
      progress.finish();
      return with_context(result.error(), "setting " + settings[i].id());
    }
    progress.on_setting_done(static_cast<int>(i), *result);
    results.push_back(std::move(*result));
  }
  progress.finish();

  FL_RETURN_IF_ERROR(write_summary_csv(config.output_dir / "summary.csv", results));
  FL_RETURN_IF_ERROR(write_summary_markdown(config.output_dir / "summary.md", config, results));
  FL_ASSIGN_OR_RETURN(auto plots,
                      write_accuracy_plots(config.output_dir / "plots", config, results));
  (void)plots;
  FL_ASSIGN_OR_RETURN(auto incentives, write_incentive_report(config.output_dir, results));
  if (!incentives.empty()) std::printf("\n%s", incentives.c_str());
  FL_ASSIGN_OR_RETURN(auto scoring, write_scoring_report(config.output_dir, results));
  if (config.shapley_reference) std::printf("\n%s", scoring.c_str());
  return ok_status();
}

}  // namespace fl::coordinator
