// Load generator for the coordinator (a benchmark, not a test): plays many lightweight workers
// over real ZeroMQ connections on 127.0.0.1 against the real channel, registry, collector and
// round engine running in a forked child (so its memory and descriptors are its own), and prints
// each figure beside the reference measured in the same run:
//   ingest_bench primitives            BLAKE2b MB/s, Ed25519 verifies/s, raw ZeroMQ MB/s (1, 4 MB)
//   ingest_bench ingest W MB           W workers each send one signed MB-megabyte update:
//                                      receive + hash + verify + validate, in MB/s and updates/s
//   ingest_bench scale C S ROUNDS P    C connected workers (P generator processes), S sampled a
//                                      round: coordinator memory per worker and round overhead
//   --curve (with ingest or scale)     every connection CurveZMQ, authenticated by the
//                                      coordinator's ZAP handler, as `fl-coordinator run` does
// Bounded: loopback only, every process ends itself after kLimitSeconds (alarm).
// Workers speak the wire API (common/wire.hpp, common/zmq_channel.hpp) through DEALER sockets
// (CURVE clients with their own keys under --curve) and answer the registration challenge as
// fl-worker does.
#include <signal.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "fl/common/crypto.hpp"
#include "fl/common/wire.hpp"
#include "fl/common/zmq_channel.hpp"
#include "fl/coordinator/round_collector.hpp"
#include "fl/coordinator/round_engine.hpp"
#include "fl/coordinator/worker_channel.hpp"
#include "fl/coordinator/worker_registry.hpp"

namespace {

using namespace fl;
using common::MessageType;
using Clock = std::chrono::steady_clock;
constexpr unsigned kLimitSeconds = 300;
const std::string kJob = "bench";
bool g_curve = false;  // --curve: CurveZMQ on every connection of ingest and scale

common::KeyPair coordinator_key() { return common::key_pair_from_label("bench-coordinator"); }

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string key;
  long value = 0;
  while (in >> key) {
    if (key == "VmRSS:") {
      in >> value;
      return value;
    }
    in.ignore(1 << 12, '\n');
  }
  return 0;
}

void raise_fd_limit() {
  rlimit r{};
  getrlimit(RLIMIT_NOFILE, &r);
  r.rlim_cur = r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
}

common::TensorLayout layout_of(std::size_t floats) {
  common::TensorLayout l;
  l.tensors.push_back({"w", {static_cast<std::int64_t>(floats)}});
  return l;
}

common::KeyPair worker_key(std::size_t i) { return common::key_pair_from_label("bench-worker-" + std::to_string(i)); }

// Forks `body` into a child with its own deadline; returns its pid.
template <typename Body>
pid_t fork_child(Body body) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(kLimitSeconds);
    body();
    std::fflush(stdout);
    _exit(0);
  }
  return pid;
}

// The coordinator child's endpoint travels back through a pipe.
struct EndpointPipe {
  int fds[2]{-1, -1};
  EndpointPipe() { (void)pipe(fds); }
  void send(const std::string& e) { (void)write(fds[1], e.c_str(), e.size() + 1); }
  std::string receive() {
    char buf[256] = {};
    (void)read(fds[0], buf, sizeof buf - 1);
    return buf;
  }
};

// A worker's socket: a CURVE client authenticating as `own` when `curve`, else plaintext.
std::unique_ptr<zmq::socket_t> make_dealer(zmq::context_t& ctx, const std::string& endpoint, bool curve,
                                           const common::KeyPair& own) {
  auto s = std::make_unique<zmq::socket_t>(ctx, zmq::socket_type::dealer);
  s->set(zmq::sockopt::linger, 0);
  if (curve && !common::set_curve_client(*s, own, coordinator_key().public_key).ok()) std::abort();
  s->connect(endpoint);
  return s;
}

// A registration; signed over the coordinator's challenge when `challenge` is given.
common::RegisterRequest registration(const common::KeyPair& key, const common::RegisterAck* challenge = nullptr) {
  common::RegisterRequest r;
  r.worker_key = key.public_key;
  r.num_samples = 100;
  r.dataset_fingerprint = "bench";
  r.timestamp_ms = common::now_ms();
  r.device = "cpu";
  if (challenge) common::answer_challenge(r, *challenge);
  common::sign_registration(r, key.secret_key);
  return r;
}

common::UpdateHeader signed_header(const common::KeyPair& key, std::uint64_t round, const common::Digest& base,
                                   const common::TensorLayout& layout, const common::Digest& payload_digest) {
  common::UpdateHeader h;
  h.job_id = kJob;
  h.round = round;
  h.worker_key = key.public_key;
  h.base_model_digest = base;
  h.layout = layout;
  h.payload_digest = payload_digest;
  h.num_samples = 100;
  common::sign_update(h, key.secret_key);
  return h;
}

// ---- primitives: the references every other figure is read against ----

void raw_zeromq(std::size_t mb, bool curve);

void primitives() {
  std::vector<std::uint8_t> buf(4u << 20, 7);
  auto t = Clock::now();
  int n = 0;
  while (seconds_since(t) < 1.0) {
    (void)common::blake2b_256(buf);
    ++n;
  }
  std::printf("blake2b-256: %.0f MB/s (4 MB buffers)\n", n * 4.0 / seconds_since(t));
  const auto key = worker_key(0);
  std::vector<float> tiny(16, 1.0f);
  const auto h = signed_header(key, 1, {}, layout_of(16), common::digest_of(tiny));
  t = Clock::now();
  n = 0;
  while (seconds_since(t) < 1.0) {
    if (!common::verify_update(h, common::as_bytes(std::span<const float>(tiny))).ok()) std::abort();
    ++n;
  }
  std::printf("ed25519 update verify (header digest + signature): %.0f /s\n", n / seconds_since(t));
  for (const bool curve : {false, true}) {
    for (std::size_t mb : {1u, 4u}) raw_zeromq(mb, curve);
  }
}

// Raw ZeroMQ DEALER->ROUTER throughput on TCP loopback, with CurveZMQ when `curve` (no ZAP
// handler: the encryption and framing cost alone).
void raw_zeromq(std::size_t mb, bool curve) {
  {
    EndpointPipe pipe;
    const int messages = static_cast<int>(512 / mb);
    const pid_t child = fork_child([&] {
      zmq::context_t ctx(1);
      zmq::socket_t router(ctx, zmq::socket_type::router);
      if (curve && !common::set_curve_server(router, coordinator_key()).ok()) std::abort();
      pipe.send(*common::bind_socket(router, "tcp://127.0.0.1:0"));
      for (int i = 0; i < messages; ++i) {
        std::vector<zmq::message_t> parts;
        (void)zmq::recv_multipart(router, std::back_inserter(parts));
        if (i + 1 == messages) zmq::send_multipart(router, std::array{std::move(parts[0]), zmq::message_t(1)});
      }
    });
    zmq::context_t ctx(1);
    auto dealer = make_dealer(ctx, pipe.receive(), curve, worker_key(0));
    std::vector<std::uint8_t> payload(mb << 20, 1);
    const auto t = Clock::now();
    for (int i = 0; i < messages; ++i) dealer->send(zmq::buffer(payload), zmq::send_flags::none);
    zmq::message_t done;
    (void)dealer->recv(done);
    std::printf("raw zeromq dealer->router, tcp loopback%s: %.0f MB/s (%d x %zu MB)\n", curve ? ", curve" : "",
                messages * static_cast<double>(mb) / seconds_since(t), messages, mb);
    waitpid(child, nullptr, 0);
  }
}

// ---- ingest: registry + collector, as the engine uses them, timed from the first update ----


// The bench's coordinator channel: open enrolment, no per-address cap (one host plays every
// worker); CurveZMQ with the ZAP check under --curve, else plaintext.
coordinator::ChannelOptions bench_channel(std::uint64_t max_message_bytes, const common::KeyPair& key) {
  coordinator::ChannelOptions o;
  o.endpoint = "tcp://127.0.0.1:0";
  o.max_message_bytes = max_message_bytes;
  o.plaintext = !g_curve;
  o.server_key = &key;
  o.open_enrolment = true;
  o.max_connections_per_address = 1'000'000;
  o.register_timeout_s = 600;
  return o;
}

void ingest_child(EndpointPipe& pipe, std::size_t workers, std::size_t floats) {
  const auto coordinator_key = ::coordinator_key();
  auto bound = coordinator::bind_zmq_channel(bench_channel(64ull << 20, coordinator_key));
  if (!bound.ok()) {
    std::fprintf(stderr, "bind: %s\n", bound.error().message.c_str());
    pipe.send("");
    return;
  }
  pipe.send(bound->endpoint);
  auto& channel = *bound->channel;
  coordinator::WorkerRegistry registry(true, {}, {0, 0});
  coordinator::RoundPlan plan;
  plan.job_id = kJob;
  plan.round = 1;
  plan.base_model_digest = common::blake2b_256(std::string_view("base"));
  plan.layout = layout_of(floats);
  for (std::size_t i = 0; i < workers; ++i) plan.sampled.insert(worker_key(i).public_key);
  plan.max_samples = 1'000'000;
  plan.hard_deadline = coordinator::RoundClock::now() + std::chrono::seconds(kLimitSeconds);
  coordinator::RoundCollector collector(plan);
  std::size_t accepted = 0, answered = 0;
  Clock::time_point first{};
  while (answered < workers) {
    auto r = channel.receive(std::chrono::milliseconds(100));
    if (!r.message) continue;
    auto& m = *r.message;
    if (m.type == MessageType::kRegister) {
      auto req = common::decode<common::RegisterRequest>(m.header.bytes);
      common::RegisterAck ack;
      ack.accepted = req.ok() && registry.enrol(*req, m.peer, coordinator::Clock::now(), m.source).ok();
      (void)coordinator::send_typed(channel, m.peer, MessageType::kRegisterAck, ack);
    } else if (m.type == MessageType::kUpdate) {
      if (answered == 0) first = Clock::now();
      auto outcome = collector.offer(m, registry.key_of(m.peer));
      ++answered;
      accepted += outcome.kind == coordinator::OfferOutcome::Kind::kAccepted;
      common::sign_update_ack(outcome.ack, coordinator_key.secret_key);
      (void)coordinator::send_typed(channel, m.peer, MessageType::kUpdateAck, outcome.ack);
    }
  }
  const double s = seconds_since(first);
  const double mb = static_cast<double>(floats * sizeof(float)) / (1 << 20);
  std::printf("ingest%s (receive, hash, verify, validate, ack): %zu x %.1f MB updates in %.3f s: %.0f MB/s, "
              "%.1f updates/s (%zu accepted)\n",
              g_curve ? ", curve" : "", workers, mb, s, workers * mb / s, workers / s, accepted);
}

void ingest(std::size_t workers, std::size_t mb) {
  const std::size_t floats = (mb << 20) / sizeof(float);
  EndpointPipe pipe;
  const pid_t child = fork_child([&] { ingest_child(pipe, workers, floats); });
  const auto endpoint = pipe.receive();
  zmq::context_t ctx(1);
  ctx.set(zmq::ctxopt::max_sockets, 65535);
  std::vector<std::unique_ptr<zmq::socket_t>> sockets;
  for (std::size_t i = 0; i < workers; ++i) {
    sockets.push_back(make_dealer(ctx, endpoint, g_curve, worker_key(i)));
    (void)common::send_typed(*sockets.back(), common::SocketRole::kDealer, "", MessageType::kRegister,
                             registration(worker_key(i)));
  }
  for (auto& s : sockets) (void)common::receive_message(*s, common::SocketRole::kDealer, std::chrono::seconds(30));
  // One payload for all (the signature binds each worker's key to its digest).
  std::vector<float> values(floats);
  for (std::size_t i = 0; i < floats; ++i) values[i] = static_cast<float>(i % 1000) * 1e-4f;
  const auto payload = common::as_bytes(std::span<const float>(values));
  const auto digest = common::blake2b_256(payload);
  std::vector<std::string> headers;
  for (std::size_t i = 0; i < workers; ++i) {
    headers.push_back(common::encode(
        signed_header(worker_key(i), 1, common::blake2b_256(std::string_view("base")), layout_of(floats), digest)));
  }
  for (std::size_t i = 0; i < workers; ++i) {
    (void)common::send_message(*sockets[i], common::SocketRole::kDealer, "", MessageType::kUpdate, headers[i],
                               payload);
  }
  for (auto& s : sockets) (void)common::receive_message(*s, common::SocketRole::kDealer, std::chrono::seconds(60));
  waitpid(child, nullptr, 0);
}

// ---- scale: many connected, some sampled, the real round engine ----

void scale_child(EndpointPipe& pipe, std::size_t connected, std::size_t sampled, int rounds) {
  raise_fd_limit();
  const long base_kib = rss_kib();
  const auto key = coordinator_key();
  auto bound = coordinator::bind_zmq_channel(bench_channel(1 << 20, key));
  if (!bound.ok()) {
    std::fprintf(stderr, "bind: %s\n", bound.error().message.c_str());
    pipe.send("");
    return;
  }
  pipe.send(bound->endpoint);
  coordinator::WorkerRegistry registry(true, {}, {0, 0});
  coordinator::EngineSettings s;
  s.job_id = kJob;
  s.model = "bench";
  s.layout = layout_of(100);
  s.sampling = {static_cast<double>(sampled) / static_cast<double>(connected), 1};
  s.soft_deadline_s = 60;
  s.deadline_s = 120;
  s.heartbeat_timeout_s = 0;
  s.peer_messages = {0, 1};
  s.require_authenticated_key = g_curve;
  std::atomic<bool> stop{false};
  coordinator::RoundEngine engine(s, *bound->channel, registry, key, stop);
  const auto t = Clock::now();
  while (registry.size() < connected && seconds_since(t) < kLimitSeconds - 60) engine.pump(std::chrono::milliseconds(50));
  const long held_kib = rss_kib();
  std::printf("connected: %zu workers registered in %.1f s; coordinator RSS %ld KiB (%ld before): %.1f KiB per worker\n",
              registry.size(), seconds_since(t), held_kib, base_kib,
              static_cast<double>(held_kib - base_kib) / static_cast<double>(std::max<std::size_t>(registry.size(), 1)));
  std::vector<float> global(100, 0.0f);
  for (int r = 1; r <= rounds; ++r) {
    const auto start = Clock::now();
    auto collected = engine.collect(r, global, common::digest_of(global));
    if (!collected.ok()) break;
    std::printf("round %d: %zu sampled, %zu accepted, closed (%s) in %.3f s\n", r, collected->sampled,
                collected->accepted.size(), collected->close_reason.c_str(), seconds_since(start));
    std::fflush(stdout);
  }
  engine.shutdown_all("bench done");
}

void play_workers(const std::string& endpoint, std::size_t from, std::size_t to) {
  raise_fd_limit();
  zmq::context_t ctx(1);
  ctx.set(zmq::ctxopt::max_sockets, 65535);
  std::vector<std::unique_ptr<zmq::socket_t>> sockets;
  std::vector<zmq::pollitem_t> items;
  for (std::size_t i = from; i < to; ++i) {
    sockets.push_back(make_dealer(ctx, endpoint, g_curve, worker_key(i)));
    (void)common::send_typed(*sockets.back(), common::SocketRole::kDealer, "", MessageType::kRegister,
                             registration(worker_key(i)));
  }
  for (auto& s : sockets) items.push_back({s->handle(), 0, ZMQ_POLLIN, 0});
  std::vector<float> values(100, 0.001f);
  const auto payload = common::as_bytes(std::span<const float>(values));
  const auto digest = common::blake2b_256(payload);
  for (;;) {
    if (zmq::poll(items.data(), items.size(), std::chrono::milliseconds(200)) == 0) continue;
    for (std::size_t k = 0; k < items.size(); ++k) {
      if (!(items[k].revents & ZMQ_POLLIN)) continue;
      auto env = common::receive_message(*sockets[k], common::SocketRole::kDealer, std::chrono::milliseconds(0));
      if (!env.ok() || !env->has_value()) continue;
      if ((*env)->type == MessageType::kShutdown) return;
      if ((*env)->type == MessageType::kRegisterAck) {  // the challenge: register again, signed over it
        auto ack = common::decode<common::RegisterAck>((*env)->header_bytes());
        if (ack.ok() && !ack->accepted && ack->challenge != common::Digest{}) {
          (void)common::send_typed(*sockets[k], common::SocketRole::kDealer, "", MessageType::kRegister,
                                   registration(worker_key(from + k), &*ack));
        }
        continue;
      }
      if ((*env)->type != MessageType::kRoundTask) continue;
      auto task = common::decode<common::RoundTask>((*env)->header_bytes());
      if (!task.ok()) continue;
      const auto h = signed_header(worker_key(from + k), task->round, task->model_digest, task->layout, digest);
      (void)common::send_typed(*sockets[k], common::SocketRole::kDealer, "", MessageType::kUpdate, h, payload);
    }
  }
}

void scale(std::size_t connected, std::size_t sampled, int rounds, std::size_t procs) {
  EndpointPipe pipe;
  const pid_t coordinator = fork_child([&] { scale_child(pipe, connected, sampled, rounds); });
  const auto endpoint = pipe.receive();
  std::vector<pid_t> generators;
  for (std::size_t p = 0; p < procs; ++p) {
    generators.push_back(fork_child([&, p] {
      play_workers(endpoint, connected * p / procs, connected * (p + 1) / procs);
    }));
  }
  waitpid(coordinator, nullptr, 0);
  for (auto g : generators) {
    kill(g, SIGTERM);
    waitpid(g, nullptr, 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  alarm(kLimitSeconds + 30);
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::vector<char*> args(argv, argv + argc);  // --curve may stand anywhere
  std::erase_if(args, [](const char* a) { return std::string_view(a) == "--curve" && (g_curve = true); });
  argc = static_cast<int>(args.size());
  argv = args.data();
  const std::string mode = argc > 1 ? argv[1] : "";
  auto arg = [&](int i, long fallback) { return argc > i ? std::stol(argv[i]) : fallback; };
  if (mode == "primitives") {
    primitives();
  } else if (mode == "ingest") {
    ingest(static_cast<std::size_t>(arg(2, 64)), static_cast<std::size_t>(arg(3, 1)));
  } else if (mode == "scale") {
    scale(static_cast<std::size_t>(arg(2, 1000)), static_cast<std::size_t>(arg(3, 100)), static_cast<int>(arg(4, 3)),
          static_cast<std::size_t>(arg(5, 1)));
  } else {
    std::fprintf(stderr,
                 "usage: ingest_bench primitives | ingest WORKERS MB [--curve] | scale CONNECTED SAMPLED ROUNDS "
                 "PROCESSES [--curve]\n");
    return 2;
  }
  return 0;
}
