// An in-process WorkerChannel for fast, deterministic tests of the round engine: the test
// pushes what workers send, and scripted workers (on_send) answer what the engine sends, inside
// the engine's own call, so a whole round runs on one thread without sockets or sleeps.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "fl/common/wire.hpp"
#include "fl/coordinator/worker_channel.hpp"
#include "support/builders.hpp"

namespace fl::test {

// A worker's registration before the coordinator's challenge (first contact).
inline common::RegisterRequest registration_of(const common::KeyPair& key) {
  common::RegisterRequest r;
  r.worker_key = key.public_key;
  r.num_samples = 100;
  r.dataset_fingerprint = "fp";
  r.timestamp_ms = 1;
  r.device = "cpu";
  common::sign_registration(r, key.secret_key);
  return r;
}

class FakeWorkerChannel : public coordinator::WorkerChannel {
 public:
  struct Sent {
    coordinator::PeerId peer;
    common::MessageType type;
    std::string header;
    std::vector<std::uint8_t> payload;

    template <typename T>
    Result<T> header_as() const {
      return common::decode<T>({reinterpret_cast<const std::uint8_t*>(header.data()), header.size()});
    }
  };

  // Called for every message the engine sends (after it is recorded in `sent`).
  std::function<void(const Sent&)> on_send;
  std::vector<Sent> sent;
  std::set<coordinator::PeerId> gone;  // sends to these fail like a vanished peer
  // Scripted workers by connection: they answer the registration challenge, like fl-worker.
  std::map<coordinator::PeerId, std::pair<common::KeyPair, std::string>> registering;  // key, source address
  // Connections that authenticated (CURVE) with these X25519 keys.
  std::map<coordinator::PeerId, common::CurvePublicKey> authenticated_as;

  void push(coordinator::PeerId peer, common::MessageType type, std::string_view header,
            std::span<const std::uint8_t> payload = {}, std::string source = {}) {
    auto authenticated = authenticated_as.find(peer);
    inbox_.push_back({peer, type, coordinator::SharedBytes::copy_of(header),
                      payload.empty() ? coordinator::SharedBytes{} : coordinator::SharedBytes::copy_of(payload),
                      std::move(source),
                      authenticated == authenticated_as.end() ? std::nullopt
                                                              : std::optional(authenticated->second)});
  }
  template <typename T>
  void push_typed(coordinator::PeerId peer, common::MessageType type, const T& message,
                  std::span<const std::uint8_t> payload = {}, std::string source = {}) {
    push(std::move(peer), type, common::encode(message), payload, std::move(source));
  }
  // A frame sequence the channel could not parse, as the ZeroMQ channel reports it.
  void push_malformed(coordinator::PeerId peer) { malformed_.push_back(std::move(peer)); }

  Received receive(std::chrono::milliseconds timeout) override {
    Received out;
    if (!malformed_.empty()) {
      out.malformed_from = malformed_.front();
      out.error = "expected 3 or 4 frames";
      malformed_.pop_front();
      return out;
    }
    if (inbox_.empty()) {
      // Nothing scripted: let a little real time pass so deadlines can arrive.
      std::this_thread::sleep_for(std::min(timeout, std::chrono::milliseconds(2)));
      return out;
    }
    out.message = std::move(inbox_.front());
    inbox_.pop_front();
    return out;
  }

  Status send(const coordinator::PeerId& peer, common::MessageType type, std::string_view header,
              std::span<const std::uint8_t> payload) override {
    if (gone.count(peer)) return make_error(ErrorCode::kUnavailable, "peer gone");
    sent.push_back({peer, type, std::string(header), {payload.begin(), payload.end()}});
    if (type == common::MessageType::kRegisterAck) answer_challenge(sent.back());
    if (on_send) on_send(sent.back());
    return ok_status();
  }

  std::vector<Sent> sent_of_type(common::MessageType type) const {
    std::vector<Sent> out;
    for (const auto& s : sent) {
      if (s.type == type) out.push_back(s);
    }
    return out;
  }

 private:
  void answer_challenge(const Sent& s) {
    auto ack = s.header_as<common::RegisterAck>();
    auto worker = registering.find(s.peer);
    if (!ack.ok() || ack->accepted || ack->challenge == common::Digest{} || worker == registering.end()) return;
    const auto [key, source] = worker->second;
    common::RegisterRequest r = registration_of(key);
    r.job_id = ack->job_id;
    r.coordinator_key = ack->coordinator_key;
    r.challenge = ack->challenge;
    common::sign_registration(r, key.secret_key);
    registering.erase(worker);  // one answer, as a worker gives
    // A worker answers the challenge before it sends anything else: ahead of what is queued.
    push_typed(s.peer, common::MessageType::kRegister, r, {}, source);
    inbox_.push_front(std::move(inbox_.back()));
    inbox_.pop_back();
  }

  std::deque<coordinator::InboundMessage> inbox_;
  std::deque<coordinator::PeerId> malformed_;
};

// A scripted worker: its key, its connection, and the messages it sends.
struct FakeWorker {
  common::KeyPair key;
  coordinator::PeerId peer;

  explicit FakeWorker(const std::string& label) : key(common::key_pair_from_label(label)), peer(label + "-conn") {}

  // First contact; the channel answers the coordinator's challenge for it.
  void join(FakeWorkerChannel& channel, const std::string& source = {}) const {
    channel.registering[peer] = {key, source};
    channel.push_typed(peer, common::MessageType::kRegister, registration_of(key), {}, source);
  }
  // A signed update answering `task` with `values`.
  void answer(FakeWorkerChannel& channel, const common::RoundTask& task, std::vector<float> values) const {
    auto u = make_signed_update(key, task.job_id, task.round, task.layout, std::move(values));
    u.header.base_model_digest = task.model_digest;
    common::sign_update(u.header, key.secret_key);
    channel.push_typed(peer, common::MessageType::kUpdate, u.header, u.payload());
  }
};

}  // namespace fl::test
