// fl-coordinator: run | aggregate | simulate. Parses arguments and calls fl_coordinator.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "fl/common/logging.hpp"
#include "fl/coordinator/coordinator.hpp"
#include "fl/coordinator/job_config.hpp"

namespace {
int fail(const fl::Error& e) {
  std::cerr << "fl-coordinator: " << e.to_string() << "\n";
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"fl-coordinator: runs federated training jobs with Byzantine-robust aggregation"};
  app.require_subcommand(1);

  auto* run = app.add_subcommand("run", "run a training job described by a TOML config");
  std::string config_path;
  std::string bind_override;
  run->add_option("--config", config_path, "job config (TOML)")->required()->check(CLI::ExistingFile);
  run->add_option("--bind", bind_override, "override network.bind, e.g. tcp://127.0.0.1:5555");

  CLI11_PARSE(app, argc, argv);

  if (*run) {
    auto config = fl::coordinator::load_job_config(config_path);
    if (!config.ok()) return fail(config.error());
    if (!bind_override.empty()) config->bind = bind_override;
    std::error_code ec;
    std::filesystem::create_directories(config->output_dir, ec);
    if (auto s = fl::common::init_logging(config->log_level, "coordinator",
                                          (config->output_dir / "coordinator.log").string());
        !s.ok()) {
      return fail(s.error());
    }
    auto coordinator = fl::coordinator::Coordinator::create(std::move(config).value());
    if (!coordinator.ok()) return fail(coordinator.error());
    if (auto s = (*coordinator)->run(); !s.ok()) return fail(s.error());
    return 0;
  }
  return 0;
}
