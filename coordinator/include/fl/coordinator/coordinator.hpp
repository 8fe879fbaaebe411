// fl-coordinator's engine: binds the ROUTER socket, enrols workers, and runs the job's rounds —
// sample, send the global model, collect and validate updates until the round closes, aggregate
// with the configured rule, evaluate, score, record the round on the ledger, answer each worker
// with its receipt, write metrics and a checkpoint. Restarted on the same run folder it resumes
// after the last checkpointed round.
#pragma once

#include <memory>
#include <string>

#include "fl/common/result.hpp"
#include "fl/coordinator/job_config.hpp"

namespace fl::coordinator {

class Coordinator {
 public:
  static Result<std::unique_ptr<Coordinator>> create(JobConfig config);
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
