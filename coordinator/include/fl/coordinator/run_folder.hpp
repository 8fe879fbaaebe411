// The coordinator's run folder: a lock so one coordinator owns it, the model files
// (checkpoints/round-NNNNNN.flm for every round, global.flm for the latest), and the check on
// resume that these files agree with the ledger, which is the source of truth for what
// happened. A round is closed in this order: its checkpoint file, the ledger block, global.flm;
// so a kill between any two steps leaves either a checkpoint the ledger does not name (the
// round is redone) or a ledger round whose checkpoint exists (global.flm is finished from it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/model_file.hpp"
#include "fl/common/result.hpp"

namespace fl::coordinator {

// An exclusive lock on the run folder (flock on <dir>/coordinator.lock, holding the pid),
// released when the object goes away or the process dies.
class RunFolderLock {
 public:
  // kAlreadyExists naming the holder's pid when another process holds it.
  static Result<RunFolderLock> acquire(const std::filesystem::path& dir);
  RunFolderLock(RunFolderLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  RunFolderLock& operator=(RunFolderLock&&) = delete;
  ~RunFolderLock();

 private:
  explicit RunFolderLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

std::filesystem::path checkpoint_path(const std::filesystem::path& dir, std::uint64_t round);
std::filesystem::path global_model_path(const std::filesystem::path& dir);

// What the ledger says about the job: its last recorded round and that round's model digest.
struct LedgerView {
  bool enabled = true;       // false: research mode without a ledger; files are trusted as is
  bool db_existed = true;    // ledger.db was present before this start
  std::uint64_t last_round = 0;
  common::Digest model_digest{};
};

struct ResumePoint {
  std::uint64_t next_round = 1;
  std::vector<float> global;  // the parameters to start from
  std::string note;           // what was decided, for the log
};

// Decides where a job starts from `initial` (round 0) and the run folder's files, checked
// against `ledger`. Refuses, naming the file and what to do, when the files and the ledger
// disagree in a way a crash cannot explain (a missing ledger, global.flm ahead of the ledger or
// with another digest, the ledger's last model missing).
Result<ResumePoint> resume_point(const std::filesystem::path& dir, const common::ModelFileHeader& expected,
                                 std::vector<float> initial, const LedgerView& ledger);

}  // namespace fl::coordinator
