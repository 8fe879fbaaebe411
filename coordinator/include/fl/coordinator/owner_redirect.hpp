// A standby member of the federation, waiting for a job's owner lease, answers the workers that
// reach it: every registration is refused, signed by this member's key, with the key of the
// job's owner now (RegisterAck::owner_key), so a worker holding the job's list of coordinators
// moves to the owner at once instead of waiting out a timeout. It serves nothing else, and it
// is closed before the member binds the same endpoint to run the job itself.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::coordinator {

class OwnerRedirect {
 public:
  // Binds `endpoint` (CURVE with `own` unless `plaintext`) and answers on a thread.
  static Result<std::unique_ptr<OwnerRedirect>> start(const std::string& endpoint, const common::KeyPair& own,
                                                      std::string job_id, bool plaintext);
  ~OwnerRedirect();  // stops answering and unbinds
  OwnerRedirect(const OwnerRedirect&) = delete;
  OwnerRedirect& operator=(const OwnerRedirect&) = delete;

  // The owner key's value in etcd (the owner's public key in hex); anything else is ignored.
  void set_owner(const std::string& holder);
  const std::string& endpoint() const { return endpoint_; }
  std::uint64_t redirected() const { return redirected_; }

 private:
  OwnerRedirect() = default;
  void loop();
  std::unique_ptr<struct RedirectSocket> socket_;
  common::KeyPair own_;
  std::string job_id_, endpoint_;
  std::mutex mutex_;
  common::PublicKey owner_{};
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> redirected_{0};
  std::thread thread_;
};

}  // namespace fl::coordinator
