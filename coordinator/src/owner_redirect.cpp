#include "fl/coordinator/owner_redirect.hpp"

#include <spdlog/spdlog.h>

#include <zmq.hpp>

#include "fl/common/wire.hpp"
#include "fl/common/zmq_channel.hpp"

namespace fl::coordinator {

struct RedirectSocket {
  zmq::context_t context{1};
  zmq::socket_t router{context, zmq::socket_type::router};
};

Result<std::unique_ptr<OwnerRedirect>> OwnerRedirect::start(const std::string& endpoint, const common::KeyPair& own,
                                                            std::string job_id, bool plaintext) {
  FL_RETURN_IF_ERROR(common::check_endpoint(endpoint));
  std::unique_ptr<OwnerRedirect> r(new OwnerRedirect());
  r->own_ = own;
  r->job_id_ = std::move(job_id);
  r->socket_ = std::make_unique<RedirectSocket>();
  try {
    r->socket_->router.set(zmq::sockopt::linger, 0);
    r->socket_->router.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 16);  // registrations are small
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("ZeroMQ: ") + e.what());
  }
  if (!plaintext) FL_RETURN_IF_ERROR(common::set_curve_server(r->socket_->router, own));
  FL_ASSIGN_OR_RETURN(r->endpoint_, common::bind_socket(r->socket_->router, endpoint));
  r->thread_ = std::thread([raw = r.get()] { raw->loop(); });
  return r;
}

OwnerRedirect::~OwnerRedirect() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void OwnerRedirect::set_owner(const std::string& holder) {
  auto key = common::public_key_from_hex(holder);
  if (!key.ok()) return;
  std::lock_guard lock(mutex_);
  owner_ = *key;
}

void OwnerRedirect::loop() {
  auto& router = socket_->router;
  while (!stop_) {
    try {
      auto received = common::receive_message(router, common::SocketRole::kRouter, std::chrono::milliseconds(200));
      if (!received.ok() || !*received || (*received)->type != common::MessageType::kRegister) continue;
      common::RegisterAck ack;
      ack.job_id = job_id_;
      ack.coordinator_key = own_.public_key;
      {
        std::lock_guard lock(mutex_);
        ack.owner_key = owner_;
      }
      ack.reason = "this member (" + common::short_id(own_.public_key) + ") stands by for job '" + job_id_ +
                   "'; it is run by " +
                   (ack.owner_key == common::PublicKey{} ? std::string("another member")
                                                         : "the member with key " + common::short_id(ack.owner_key));
      common::sign_register_ack(ack, own_.secret_key);
      if (common::send_typed(router, common::SocketRole::kRouter, (*received)->identity,
                             common::MessageType::kRegisterAck, ack)
              .ok()) {
        ++redirected_;
      }
    } catch (const zmq::error_t& e) {
      if (stop_) break;
      spdlog::warn("standby redirect: ZeroMQ: {}", e.what());
    }
  }
}

}  // namespace fl::coordinator
