// fl-coordinator: run | edge | job-card | aggregate | simulate | compare | export | dp-epsilon.
// Parses arguments and calls fl_coordinator.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>

#include "fl/common/logging.hpp"
#include "fl/coordinator/aggregation/aggregate_file.hpp"
#include "fl/coordinator/aggregation/rule_registry.hpp"
#include "fl/coordinator/coordinator.hpp"
#include "fl/coordinator/edge.hpp"
#include "fl/coordinator/job_card_writer.hpp"
#include "fl/coordinator/job_config.hpp"
#include "fl/coordinator/run_comparison.hpp"
#include "fl/coordinator/model_export.hpp"
#include "fl/common/rdp_accountant.hpp"
#include "fl/coordinator/simulation/simulation.hpp"

namespace {

std::atomic<bool> g_stop{false};
volatile std::sig_atomic_t g_signal = 0;

void on_stop_signal(int signal) {
  g_signal = signal;
  g_stop = true;
}

// Ctrl-C and SIGTERM ask the coordinator to stop between steps, never inside a write.
void install_stop_handlers() {
  struct sigaction action{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

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

  auto* edge = app.add_subcommand(
      "edge", "run an edge coordinator: combine a subset of a job's workers and send the result to the job's owner");
  std::string edge_config, edge_bind;
  edge->add_option("--config", edge_config, "edge config (TOML: [edge] parent and parent_key, this level's rule)")
      ->required()->check(CLI::ExistingFile);
  edge->add_option("--bind", edge_bind, "override network.bind, e.g. tcp://127.0.0.1:5556");

  auto* card = app.add_subcommand("job-card", "write the signed job card device owners pass to fl-worker --job-card");
  std::string card_config, card_out = "job.card", card_endpoint;
  card->add_option("--config", card_config, "job config (TOML)")->required()->check(CLI::ExistingFile);
  card->add_option("--out", card_out, "job card to write")->capture_default_str();
  card->add_option("--endpoint", card_endpoint, "endpoint workers dial (default: network.bind)");

  auto* aggregate = app.add_subcommand("aggregate", "apply an aggregation rule to an n x d float32 .npy file");
  std::string rule_spec, in_path, out_path, weights_path;
  fl::coordinator::RuleOptions rule;
  std::string rules_help = "rule spec: steps joined by '+', the last a rule, e.g. nnm+trimmed_mean, cclip(tau=5);";
  for (const auto* d : fl::coordinator::rule_registry()) {
    rules_help += "\n  " + std::string(d->name) +
                  (d->kind == fl::coordinator::ComponentKind::kStep ? " (step): " : ": ") + std::string(d->help);
  }
  aggregate->add_option("--rule", rule_spec, rules_help)->required();
  aggregate->add_option("--in", in_path, "updates, one per row (float32 .npy)")->required()->check(CLI::ExistingFile);
  aggregate->add_option("--out", out_path, "where to write the aggregate (float32 .npy)")->required();
  aggregate->add_option("--weights", weights_path, "per-row weights (1-D float32 .npy); default 1 each");
  for (const auto* param : fl::coordinator::rule_option_params()) {
    std::string flag = "--" + std::string(param->option_key);
    std::replace(flag.begin(), flag.end(), '_', '-');
    std::visit([&](auto field) {
      aggregate->add_option(flag, rule.*field, std::string(param->help))->capture_default_str();
    }, param->field);
  }

  auto* simulate = app.add_subcommand(
      "simulate", "RESEARCH MODE: sweep rules x attacks x Byzantine counts x partitions with virtual workers");
  std::string sweep_path, sim_out, sim_filter;
  bool no_progress = false;
  int sim_threads = 0;
  simulate->add_option("--config", sweep_path, "sweep config (TOML)")->required()->check(CLI::ExistingFile);
  simulate->add_option("--out", sim_out, "output folder (instead of simulation.output_dir)");
  simulate->add_option("--filter", sim_filter, "run only settings whose id contains this text");
  simulate->add_option("--threads", sim_threads, "training threads (instead of simulation.threads)");
  simulate->add_flag("--no-progress", no_progress, "no progress bar");

  auto* compare = app.add_subcommand("compare", "print the test accuracy per round of runs side by side, and plot it");
  std::vector<std::filesystem::path> compare_dirs;
  std::string compare_out = "comparison.svg";
  compare->add_option("RUN_DIR", compare_dirs, "run folders (output.dir of each job)")->required()->check(CLI::ExistingDirectory);
  compare->add_option("--out", compare_out, "where to write the chart (SVG)")->capture_default_str();


  auto* export_cmd = app.add_subcommand(
      "export", "write a model file (global.flm) as TorchScript (.pt) or NumPy arrays (.npz)");
  std::string export_in, export_to;
  export_cmd->add_option("model", export_in, "a .flm model file, e.g. RUN/global.flm")
      ->required()->check(CLI::ExistingFile);
  export_cmd->add_option("--to", export_to, "output: model.pt (torch.jit.load) or model.npz (numpy.load)")
      ->required();

  auto* dp_epsilon = app.add_subcommand(
      "dp-epsilon", "epsilon spent by rounds of the sampled Gaussian mechanism (Renyi DP)");
  fl::common::SampledGaussianQuery dp_query;
  std::string dp_conversion = "balle2020";
  bool dp_json = false;
  dp_epsilon->add_option("--q", dp_query.q, "probability a client is sampled in a round, in [0, 1]")
      ->required();
  dp_epsilon->add_option("--sigma", dp_query.sigma, "noise multiplier: noise std / clip norm")
      ->required();
  dp_epsilon->add_option("--rounds", dp_query.rounds, "number of rounds (steps)")->required();
  dp_epsilon->add_option("--delta", dp_query.delta, "target delta, in (0, 1)")->required();
  dp_epsilon->add_option("--conversion", dp_conversion,
                         "RDP to (epsilon, delta): balle2020 (Balle et al. 2020, Thm 21) or "
                         "mironov2017 (classic)")
      ->capture_default_str();
  dp_epsilon->add_flag("--json", dp_json, "print a JSON object with the RDP at every order");

  CLI11_PARSE(app, argc, argv);

  if (*dp_epsilon) {
    auto conversion = fl::common::parse_rdp_conversion(dp_conversion);
    if (!conversion.ok()) return fail(conversion.error());
    dp_query.conversion = *conversion;
    auto spent = fl::common::privacy_spent(dp_query);
    if (!spent.ok()) return fail(spent.error());
    std::cout << (dp_json ? fl::common::privacy_spent_json(*spent)
                          : fl::common::privacy_spent_text(*spent));
    return 0;
  }

  if (*export_cmd) {
    if (auto s = fl::coordinator::export_model(export_in, export_to); !s.ok()) return fail(s.error());
    std::cout << "wrote " << export_to << "\n";
    return 0;
  }

  if (*compare) {
    if (auto s = fl::coordinator::compare_runs(compare_dirs, compare_out, std::cout); !s.ok()) return fail(s.error());
    return 0;
  }

  if (*simulate) {
    fl::coordinator::SimulationOverrides o;
    if (!sim_out.empty()) o.output_dir = sim_out;
    o.show_progress = !no_progress;
    o.filter = sim_filter;
    o.threads = sim_threads;
    if (auto s = fl::common::init_logging("warn", "simulate"); !s.ok()) return fail(s.error());
    if (auto s = fl::coordinator::run_simulation(sweep_path, o); !s.ok()) return fail(s.error());
    return 0;
  }

  if (*card) {
    if (auto s = fl::common::init_logging("warn", "coordinator"); !s.ok()) return fail(s.error());
    auto written = fl::coordinator::write_job_card(card_config, card_endpoint, card_out);
    if (!written.ok()) return fail(written.error());
    std::cout << "job card " << card_out << ": job '" << written->job_id << "' at " << written->endpoint
              << "\ncoordinator key " << fl::common::to_hex(written->coordinator_key) << "\nresearcher key "
              << fl::common::to_hex(written->researcher_key) << "\n";
    return 0;
  }

  if (*aggregate) {
    std::optional<std::filesystem::path> weights;
    if (!weights_path.empty()) weights = weights_path;
    auto s = fl::coordinator::aggregate_npy_file(in_path, out_path, rule_spec, rule, weights);
    if (!s.ok()) return fail(s.error());
    return 0;
  }

  if (*edge) {
    auto config = fl::coordinator::load_edge_config(edge_config);
    if (!config.ok()) return fail(config.error());
    if (!edge_bind.empty()) config->level.bind = edge_bind;
    std::error_code ec;
    std::filesystem::create_directories(config->level.output_dir, ec);
    if (auto s = fl::common::init_logging(config->level.log_level, "edge",
                                          (config->level.output_dir / "edge.log").string());
        !s.ok()) {
      return fail(s.error());
    }
    install_stop_handlers();
    if (auto s = fl::coordinator::run_edge(*config, g_stop); !s.ok()) return fail(s.error());
    return 0;
  }

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
    install_stop_handlers();
    auto coordinator = fl::coordinator::Coordinator::create(std::move(config).value(), &g_stop);
    if (!coordinator.ok()) return fail(coordinator.error());
    if (auto s = (*coordinator)->run(); !s.ok()) {
      if (g_stop) {
        std::cerr << "fl-coordinator: stopped by " << (g_signal == SIGINT ? "SIGINT" : "SIGTERM") << ": "
                  << s.error().message << "\nfl-coordinator: to resume, run the same command again: fl-coordinator run --config "
                  << config_path << "\n";
        return 0;
      }
      return fail(s.error());
    }
    return 0;
  }
  return 0;
}
