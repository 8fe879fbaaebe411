// A hostile participant for deploy/hostile.sh (research tool, loopback only, ends by itself):
//   hostile_peer garbage ENDPOINT SECONDS        frames that are no message, undecodable headers,
//                                                updates from keys that never registered
//   hostile_peer replay ENDPOINT KEYFILE COUNT   a registration of KEYFILE's worker dated an hour
//                                                ago, sent from COUNT other connections
//   hostile_peer junk ENDPOINT SECONDS           registers, then answers each task with 20 signed
//                                                updates that are refused (and 20 naming others)
//   hostile_peer long-layout ENDPOINT SECONDS    registers, answers tasks with signed updates whose
//                                                layout has 4,000 long tensor names
//   hostile_peer sybil ENDPOINT COUNT SECONDS    COUNT fresh keys register and never answer
//   ... --curve PUBKEYFILE                       (any mode) every connection is a CurveZMQ client
//                                                with a key of its own, pinned to that coordinator
// Registering peers answer the coordinator's challenge as fl-worker does; a replay cannot (it has
// no secret key), and under CURVE its connection's key is not the registering one.
// Prints one line: what it sent and how the coordinator answered.
#include <signal.h>
#include <unistd.h>

#include <atomic>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "fl/common/crypto.hpp"
#include "fl/common/wire.hpp"
#include "fl/common/zmq_channel.hpp"

namespace {

using namespace fl;
using common::MessageType;
using common::SocketRole;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Set by SIGTERM: every loop ends and the tally is printed.
std::atomic<bool> g_stop{false};
void on_term(int) { g_stop = true; }

struct Tally {
  long sent = 0, accepted = 0, refused = 0;
};

// The coordinator this peer pins under --curve (unset: plaintext).
std::optional<common::PublicKey> g_coordinator;

// A connection that authenticates as `own` under --curve.
std::unique_ptr<zmq::socket_t> dealer(zmq::context_t& ctx, const std::string& endpoint, const common::KeyPair& own) {
  auto s = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
  s->set(zmq::sockopt::linger, 0);
  s->set(zmq::sockopt::sndhwm, 100);
  s->set(zmq::sockopt::sndtimeo, 100);  // a full queue drops, so the peer always ends on time
  if (g_coordinator && !common::set_curve_client(*s, own, *g_coordinator).ok()) std::exit(2);
  s->connect(endpoint);
  return s;
}

common::RegisterRequest registration(const common::KeyPair& key, std::uint64_t timestamp_ms,
                                     const common::RegisterAck* challenge = nullptr) {
  common::RegisterRequest r;
  r.worker_key = key.public_key;
  r.num_samples = 100;
  r.dataset_fingerprint = "hostile";
  r.timestamp_ms = timestamp_ms;
  if (challenge) common::answer_challenge(r, *challenge);
  common::sign_registration(r, key.secret_key);
  return r;
}

common::UpdateHeader update(const common::KeyPair& key, const common::RoundTask& task,
                            const common::TensorLayout& layout, std::span<const std::uint8_t> payload,
                            std::uint64_t samples) {
  common::UpdateHeader h;
  h.job_id = task.job_id;
  h.round = task.round;
  h.worker_key = key.public_key;
  h.base_model_digest = task.model_digest;
  h.layout = layout;
  h.payload_digest = common::blake2b_256(payload);
  h.num_samples = samples;
  common::sign_update(h, key.secret_key);
  return h;
}

// Reads answers on `s` for up to `wait`; counts register acks, calls on_task for tasks. With
// `key`, a challenge is answered by registering again signed over it (a key owner's peer).
template <typename OnTask>
void serve(zmq::socket_t& s, Clock::duration wait, Tally& t, OnTask on_task, const common::KeyPair* key = nullptr) {
  const auto until = Clock::now() + wait;
  auto next_heartbeat = Clock::now();
  while (Clock::now() < until && !g_stop) {
    // A registered attacker stays registered as fl-worker does, so a slow start of the honest
    // workers does not drop it before the rounds it attacks.
    if (key && Clock::now() >= next_heartbeat) {
      (void)common::send_typed(s, SocketRole::kDealer, {}, MessageType::kHeartbeat,
                               common::Heartbeat{key->public_key, common::now_ms()});
      next_heartbeat = Clock::now() + 1s;
    }
    auto m = common::receive_message(s, SocketRole::kDealer, 20ms);
    if (!m.ok() || !m->has_value()) continue;
    const auto& env = **m;
    if (env.type == MessageType::kRegisterAck) {
      auto ack = common::decode<common::RegisterAck>(env.header_bytes());
      if (key && ack.ok() && !ack->accepted && ack->challenge != common::Digest{}) {
        (void)common::send_typed(s, SocketRole::kDealer, {}, MessageType::kRegister,
                                 registration(*key, common::now_ms(), &*ack));
        continue;
      }
      (ack.ok() && ack->accepted ? t.accepted : t.refused)++;
    } else if (env.type == MessageType::kUpdateAck) {
      auto ack = common::decode<common::UpdateAck>(env.header_bytes());
      (ack.ok() && ack->accepted ? t.accepted : t.refused)++;
    } else if (env.type == MessageType::kRoundTask) {
      auto task = common::decode<common::RoundTask>(env.header_bytes());
      if (task.ok()) on_task(*task);
    } else if (env.type == MessageType::kShutdown) {
      return;
    }
  }
}

Tally garbage(const std::string& endpoint, double seconds) {
  zmq::context_t ctx;
  std::vector<std::unique_ptr<zmq::socket_t>> sockets;
  for (int i = 0; i < 50; ++i) {
    sockets.push_back(dealer(ctx, endpoint, common::key_pair_from_label("hostile-garbage-" + std::to_string(i))));
    sockets.back()->set(zmq::sockopt::sndtimeo, 0);  // drop what does not fit; never wait
  }
  const auto stranger = common::key_pair_from_label("hostile-stranger");
  common::TensorLayout layout;
  layout.tensors.push_back({"w", {4}});
  std::vector<float> values(4, 1.0f);
  common::RoundTask task;
  task.job_id = "any";
  task.round = 1;
  Tally t;
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until && !g_stop) {
    for (auto& s : sockets) {
      (void)s->send(zmq::str_buffer("one frame"), zmq::send_flags::dontwait);
      (void)common::send_message(*s, SocketRole::kDealer, {}, MessageType::kUpdate, "garbage");
      (void)common::send_message(*s, SocketRole::kDealer, {}, MessageType::kRegister, "garbage");
      (void)common::send_message(*s, SocketRole::kDealer, {}, MessageType::kHeartbeat, "garbage");
      (void)common::send_typed(*s, SocketRole::kDealer, {}, MessageType::kUpdate,
                               update(stranger, task, layout, common::as_bytes(std::span<const float>(values)), 10),
                               common::as_bytes(std::span<const float>(values)));
      t.sent += 5;
    }
    std::this_thread::sleep_for(10ms);
  }
  return t;
}

Tally replay(const std::string& endpoint, const std::string& key_file, int count) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) {
    std::fprintf(stderr, "%s\n", key.error().message.c_str());
    std::exit(2);
  }
  const auto recorded = registration(*key, common::now_ms() - 3'600'000);
  zmq::context_t ctx;
  std::vector<std::unique_ptr<zmq::socket_t>> sockets;
  Tally t;
  for (int i = 0; i < count; ++i) {
    // The replayer holds no secret of the victim: its connections authenticate as themselves.
    sockets.push_back(dealer(ctx, endpoint, common::key_pair_from_label("hostile-replayer-" + std::to_string(i))));
    (void)common::send_typed(*sockets.back(), SocketRole::kDealer, {}, MessageType::kRegister, recorded);
    ++t.sent;
  }
  for (auto& s : sockets) serve(*s, 20ms, t, [](const common::RoundTask&) {});
  return t;
}

Tally junk(const std::string& endpoint, double seconds, bool long_layout) {
  zmq::context_t ctx;
  const auto key = common::key_pair_from_label(long_layout ? "hostile-long-layout" : "hostile-junk");
  auto s = dealer(ctx, endpoint, key);
  const auto other = common::key_pair_from_label("hostile-other");
  Tally t;
  (void)common::send_typed(*s, SocketRole::kDealer, {}, MessageType::kRegister, registration(key, common::now_ms()));
  serve(*s, std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)), t,
        [&](const common::RoundTask& task) {
          common::TensorLayout layout = task.layout;
          if (long_layout) {
            layout.tensors.clear();
            for (int i = 0; i < 4000; ++i) {
              layout.tensors.push_back({std::string(200, 'x') + std::to_string(i), {1}});
            }
          }
          std::vector<float> values(static_cast<std::size_t>(layout.numel()), 0.01f);
          const auto payload = common::as_bytes(std::span<const float>(values));
          for (int i = 0; i < 20; ++i) {
            // Refused after its signature verified: no samples (or the long layout).
            (void)common::send_typed(*s, SocketRole::kDealer, {}, MessageType::kUpdate,
                                     update(key, task, layout, payload, long_layout ? 10 : 0), payload);
            (void)common::send_typed(*s, SocketRole::kDealer, {}, MessageType::kUpdate,
                                     update(other, task, layout, payload, 10), payload);
            t.sent += 2;
          }
        },
        &key);
  return t;
}

Tally sybil(const std::string& endpoint, int count, double seconds) {
  zmq::context_t ctx;
  ctx.set(zmq::ctxopt::max_sockets, 8192);
  std::vector<std::unique_ptr<zmq::socket_t>> sockets;
  Tally t;
  std::vector<common::KeyPair> keys;
  for (int i = 0; i < count; ++i) {
    keys.push_back(common::key_pair_from_label("hostile-sybil-" + std::to_string(i)));
    sockets.push_back(dealer(ctx, endpoint, keys.back()));
    (void)common::send_typed(*sockets.back(), SocketRole::kDealer, {}, MessageType::kRegister,
                             registration(keys.back(), common::now_ms()));
    ++t.sent;
  }
  // Each answers its challenge once, then counts the verdict.
  for (std::size_t i = 0; i < sockets.size(); ++i) serve(*sockets[i], 40ms, t, [](const common::RoundTask&) {}, &keys[i]);
  // Stay connected, silent, so the sybils that got in are there to be sampled.
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until && !g_stop) std::this_thread::sleep_for(50ms);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  alarm(600);
  signal(SIGTERM, on_term);
  std::vector<std::string> a(argv + 1, argv + argc);
  for (std::size_t i = 0; i + 1 < a.size(); ++i) {
    if (a[i] != "--curve") continue;
    auto key = common::load_public_key_file(a[i + 1]);
    if (!key.ok()) {
      std::fprintf(stderr, "--curve: %s\n", key.error().message.c_str());
      return 2;
    }
    g_coordinator = *key;
    a.erase(a.begin() + static_cast<std::ptrdiff_t>(i), a.begin() + static_cast<std::ptrdiff_t>(i) + 2);
    break;
  }
  auto num = [&](std::size_t i, double fallback) { return a.size() > i ? std::stod(a[i]) : fallback; };
  if (a.size() < 2) {
    std::fprintf(stderr, "usage: hostile_peer garbage|replay|junk|long-layout|sybil ENDPOINT ...\n");
    return 2;
  }
  Tally t;
  if (a[0] == "garbage") t = garbage(a[1], num(2, 10));
  else if (a[0] == "replay" && a.size() > 2) t = replay(a[1], a[2], static_cast<int>(num(3, 202)));
  else if (a[0] == "junk") t = junk(a[1], num(2, 30), false);
  else if (a[0] == "long-layout") t = junk(a[1], num(2, 30), true);
  else if (a[0] == "sybil") t = sybil(a[1], static_cast<int>(num(2, 300)), num(3, 30));
  else return 2;
  std::printf("hostile_peer %s: sent %ld, accepted %ld, refused %ld\n", a[0].c_str(), t.sent, t.accepted, t.refused);
  return 0;
}
