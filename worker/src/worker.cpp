#include "fl/worker/worker.hpp"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include "fl/common/config_table.hpp"
#include "fl/common/zmq_channel.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/model_fit.hpp"
#include "fl/models/runtime.hpp"
#include "fl/worker/job_check.hpp"
#include "fl/worker/stop_signal.hpp"
#include "local_share.hpp"
#include "worker_session.hpp"

namespace fl::worker {
namespace {

Result<LocalData> load_local_data(const WorkerOptions& o) {
  FL_ASSIGN_OR_RETURN(auto share, select_local_share(o));
  const auto& full = share.full;
  auto& mine = share.indices;
  LocalData local;
  local.fingerprint = models::dataset_fingerprint(full, mine);
  auto idx = torch::from_blob(mine.data(), {static_cast<std::int64_t>(mine.size())}, torch::kInt64)
                 .clone();
  local.data.images = full.images.index_select(0, idx);
  local.data.labels = full.labels.index_select(0, idx);
  local.data.input_shape = full.input_shape;
  local.data.num_classes = full.num_classes;
  if (o.attack.kind == AttackKind::kLabelFlip) {
    local.data.labels = (full.num_classes - 1) - local.data.labels;
  }
  local.indices.resize(mine.size());
  for (std::size_t i = 0; i < mine.size(); ++i) local.indices[i] = static_cast<std::int64_t>(i);
  return local;
}

std::filesystem::path default_model_cache() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "fedledger" / "models";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".cache" / "fedledger" / "models";
  }
  return std::filesystem::temp_directory_path() / "fedledger-models";
}

// What run and check both need: a partition that exists and a coordinator key to pin.
Status check_connection_options(const WorkerOptions& options) {
  if (options.num_parts < 1 || options.part_index < 0 || options.part_index >= options.num_parts) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--partition " + std::to_string(options.part_index) + "/" +
                          std::to_string(options.num_parts) + ": need 0 <= k < n");
  }
  if (!options.coordinator_key) {
    return make_error(ErrorCode::kInvalidArgument,
                      "no coordinator key to pin: pass --job-card FILE (from the researcher) or "
                      "--coordinator-key HEX|FILE; a worker never trains for a coordinator it cannot identify");
  }
  if (options.plaintext) {
    spdlog::warn("RESEARCH MODE: --plaintext; the connection to {} is neither encrypted nor authenticated "
                 "(messages are still checked against coordinator key {})",
                 options.coordinator, common::short_id(*options.coordinator_key));
  }
  const auto endpoints = coordinator_endpoints(options.coordinator);
  for (const auto& endpoint : endpoints) {
    if (auto s = common::check_endpoint(endpoint); !s.ok()) return with_context(s.error(), "--coordinator");
  }
  if (!options.coordinator_keys.empty() && options.coordinator_keys.size() != endpoints.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--coordinator-key lists " + std::to_string(options.coordinator_keys.size()) + " keys for " +
                          std::to_string(endpoints.size()) +
                          " --coordinator endpoints: give one key for all, or one per endpoint in the same order");
  }
  return ok_status();
}

Status run_checked(WorkerOptions options) {
  if (options.model_cache_dir.empty()) options.model_cache_dir = default_model_cache();
  FL_RETURN_IF_ERROR(check_connection_options(options));
  if (options.policy) {
    FL_RETURN_IF_ERROR(apply_resource_limits(*options.policy, options.threads));
    spdlog::info("policy {}: at most {} threads{}{}", options.policy->source, options.threads,
                 options.policy->memory_mb ? ", " + std::to_string(options.policy->memory_mb) + " MB of memory" : "",
                 options.policy->hours ? ", training hours " + to_string(*options.policy->hours) : "");
  }
  FL_ASSIGN_OR_RETURN(auto key, common::load_key_file(options.key_file));
  FL_ASSIGN_OR_RETURN(auto device, models::choose_device(options.device));
  if (options.threads > 0) models::set_compute_threads(options.threads);
  if (options.attack.kind != AttackKind::kNone) {
    spdlog::warn("RESEARCH MODE: this worker mounts the '{}' attack",
                 to_string(options.attack.kind));
  }
  FL_ASSIGN_OR_RETURN(auto local, load_local_data(options));
  spdlog::info("local data: {} examples of shape {}, {} classes", local.indices.size(),
               models::describe_shape(local.data.input_shape), local.data.num_classes);
  WorkerSession session(options, std::move(key), std::move(local), device);
  return session.run();
}

}  // namespace

std::vector<std::string> coordinator_endpoints(const std::string& list) { return common::split_list(list); }

Result<JobCheck> check_job(const WorkerOptions& options) {
  try {
    FL_RETURN_IF_ERROR(check_connection_options(options));
    FL_ASSIGN_OR_RETURN(auto key, common::load_key_file(options.key_file));
    WorkerSession session(options, std::move(key), LocalData{}, torch::Device(torch::kCPU));
    return session.check();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInternal, models::exception_summary(e));
  }
}

Status run_worker(const WorkerOptions& options) {
  try {
    return run_checked(options);
  } catch (const std::exception& e) {  // a bug or libtorch start-up failure: still no abort
    return make_error(ErrorCode::kInternal, models::exception_summary(e));
  }
}

}  // namespace fl::worker
