#include "fl/coordinator/run_folder.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "fl/common/tensor_codec.hpp"

namespace fl::coordinator {

namespace fs = std::filesystem;

Result<RunFolderLock> RunFolderLock::acquire(const fs::path& dir) {
  const auto path = dir / "coordinator.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return make_error(ErrorCode::kIo, "cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {0};
    const auto n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "?";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    return make_error(ErrorCode::kAlreadyExists,
                      "run folder " + dir.string() + " is in use by another coordinator (pid " + holder +
                          "); stop it first, or give this job another output.dir");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    ::close(fd);
    return make_error(ErrorCode::kIo, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  return RunFolderLock(fd);
}

RunFolderLock::~RunFolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

fs::path checkpoint_path(const fs::path& dir, std::uint64_t round) {
  char name[40];
  std::snprintf(name, sizeof name, "round-%06llu.flm", static_cast<unsigned long long>(round));
  return dir / "checkpoints" / name;
}

fs::path global_model_path(const fs::path& dir) { return dir / "global.flm"; }

namespace {

// A model file of this job and model, or an error naming the file.
Result<std::optional<common::ModelFile>> read_if_present(const fs::path& path, const common::ModelFileHeader& expected) {
  if (!fs::exists(path)) return std::optional<common::ModelFile>{};
  auto file = common::load_model_file(path);
  if (!file.ok()) return with_context(file.error(), path.string());
  if (file->header.job_id != expected.job_id) {
    return make_error(ErrorCode::kPrecondition, path.string() + " belongs to job '" + file->header.job_id +
                                                    "', not '" + expected.job_id +
                                                    "'; give this job another output.dir");
  }
  if (!(file->header.layout == expected.layout)) {
    return make_error(ErrorCode::kCorrupt, path.string() + " holds another model's layout (" +
                                               file->header.layout.describe() + ") than " + expected.model);
  }
  return std::optional<common::ModelFile>(std::move(file).value());
}

Status restore_global(const fs::path& dir, const common::ModelFile& file) {
  return common::save_model_file(global_model_path(dir), file.header, file.parameters);
}

}  // namespace

Result<ResumePoint> resume_point(const fs::path& dir, const common::ModelFileHeader& expected,
                                 std::vector<float> initial, const LedgerView& ledger) {
  const auto global_path = global_model_path(dir);
  FL_ASSIGN_OR_RETURN(auto global, read_if_present(global_path, expected));
  ResumePoint out;
  out.global = std::move(initial);

  if (!ledger.enabled) {
    if (global) {
      out.next_round = global->header.round + 1;
      out.global = std::move(global->parameters);
      out.note = "resuming from " + global_path.string() + " without a ledger to check it against (ledger.enabled = false)";
    }
    return out;
  }
  const std::uint64_t on_file = global ? global->header.round : 0;
  if (!ledger.db_existed && on_file > 0) {
    return make_error(ErrorCode::kPrecondition,
                      "ledger.db is missing in " + dir.string() + " but " + global_path.string() + " is at round " +
                          std::to_string(on_file) +
                          "; the ledger is the record of those rounds: restore ledger.db, or start the job "
                          "in a new output.dir");
  }
  if (on_file > ledger.last_round) {
    return make_error(ErrorCode::kPrecondition,
                      global_path.string() + " is at round " + std::to_string(on_file) +
                          " but the ledger records only " + std::to_string(ledger.last_round) + " round(s) of job '" +
                          expected.job_id + "'; the file does not come from this ledger: restore the ledger.db "
                          "that goes with it, or start the job in a new output.dir");
  }
  if (ledger.last_round == 0) {
    out.note = "starting job '" + expected.job_id + "' at round 1";
    return out;
  }
  if (global && on_file == ledger.last_round) {
    if (global->header.digest != ledger.model_digest) {
      return make_error(ErrorCode::kCorrupt,
                        global_path.string() + " holds model " + common::short_id(global->header.digest) +
                            " for round " + std::to_string(on_file) + " but the ledger recorded " +
                            common::short_id(ledger.model_digest) +
                            "; the file was changed: restore it from " + checkpoint_path(dir, on_file).string());
    }
    out.next_round = on_file + 1;
    out.global = std::move(global->parameters);
    out.note = "resuming job '" + expected.job_id + "' at round " + std::to_string(out.next_round) +
               " (model matches the ledger's round " + std::to_string(on_file) + ")";
    return out;
  }
  // global.flm is missing or behind the ledger: a kill after the ledger block and before
  // global.flm, or a file rolled back. The ledger's round is finished from its checkpoint.
  const auto ckpt_path = checkpoint_path(dir, ledger.last_round);
  FL_ASSIGN_OR_RETURN(auto ckpt, read_if_present(ckpt_path, expected));
  if (!ckpt || ckpt->header.round != ledger.last_round || ckpt->header.digest != ledger.model_digest) {
    return make_error(ErrorCode::kCorrupt,
                      "the ledger records round " + std::to_string(ledger.last_round) + " of job '" + expected.job_id +
                          "' with model " + common::short_id(ledger.model_digest) + ", but neither " +
                          global_path.string() + " nor " + ckpt_path.string() +
                          " holds it; restore the run folder's files, or start the job in a new output.dir");
  }
  FL_RETURN_IF_ERROR(restore_global(dir, *ckpt));
  out.next_round = ledger.last_round + 1;
  out.global = std::move(ckpt->parameters);
  out.note = "finished round " + std::to_string(ledger.last_round) + " from " + ckpt_path.string() + " (" +
             global_path.string() + (global ? " was at round " + std::to_string(on_file) : " was missing") +
             "); resuming at round " + std::to_string(out.next_round);
  return out;
}

}  // namespace fl::coordinator
