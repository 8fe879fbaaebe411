// fl-coordinator's job runner: binds the worker channel, enrols workers, and runs the job's
// rounds through the RoundEngine and close_round, then records each round in this order: its
// checkpoint file, the ledger block (the source of truth), global.flm, the metrics row, the
// workers' receipts. Restarted on the same run folder it resumes where the ledger says the job
// is, after checking the files against it; a second coordinator on the folder is refused.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/job_config.hpp"
#include "fl/coordinator/round_engine.hpp"
#include "fl/coordinator/worker_channel.hpp"

namespace fl::coordinator {

// The key file at `path`, created (0600) when it does not exist yet.
Result<common::KeyPair> load_or_create_key(const std::filesystem::path& path);

// What a config's [network] and [enrolment] make of the worker channel, and its [round],
// [limits], [training] and [privacy] of the round engine: a job's coordinator and an edge
// coordinator (edge.hpp) read them alike.
ChannelOptions channel_options(const JobConfig& c, const common::KeyPair& key);
EngineSettings engine_settings(const JobConfig& c, const common::TensorLayout& layout);

class Coordinator {
 public:
  // `stop` (optional) is polled while waiting for workers and updates: once set, run() returns
  // kUnavailable after saying where the job stopped and how to resume it.
  static Result<std::unique_ptr<Coordinator>> create(JobConfig config, const std::atomic<bool>* stop = nullptr);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Runs the remaining rounds; returns when the job is done or cannot go on.
  Status run();
  const std::string& endpoint() const;

 private:
  struct State;
  explicit Coordinator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace fl::coordinator
