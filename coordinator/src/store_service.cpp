#include "fl/coordinator/store_service.hpp"

#include <spdlog/spdlog.h>

#include <set>
#include <zmq.hpp>

#include "fl/common/wire.hpp"
#include "fl/common/zmq_channel.hpp"

namespace fl::coordinator {

using common::MessageType;
using common::SocketRole;

struct StoreServerSockets {
  zmq::context_t context{1};
  zmq::socket_t zap{context, zmq::socket_type::rep};
  zmq::socket_t router{context, zmq::socket_type::router};
};

namespace {

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

Result<std::vector<StorePeer>> parse_store_peers(std::string_view text, const std::filesystem::path& base_dir) {
  std::vector<StorePeer> peers;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    const auto item = trim(std::string(text.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                                                          : comma - start)));
    start = comma == std::string_view::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    const auto at = item.rfind('@');
    if (at == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument,
                        "store peer '" + item + "': expected ENDPOINT@KEY, e.g. tcp://127.0.0.1:7000@keys/c1.key.pub");
    }
    StorePeer peer{item.substr(0, at), {}};
    FL_RETURN_IF_ERROR(common::check_endpoint(peer.endpoint));
    auto key = common::public_key_from_text(item.substr(at + 1), base_dir);
    if (!key.ok()) return with_context(key.error(), "store peer '" + item + "' (its key: 64 hex digits or a key file)");
    peer.key = *key;
    peers.push_back(std::move(peer));
  }
  if (peers.empty()) return make_error(ErrorCode::kInvalidArgument, "no store peer given (ENDPOINT@KEY,...)");
  return peers;
}

std::vector<common::PublicKey> store_readers(const ledger::Consortium& c) {
  std::vector<common::PublicKey> keys = c.members;
  keys.insert(keys.end(), c.witnesses.begin(), c.witnesses.end());
  return keys;
}

Result<std::unique_ptr<StoreServer>> StoreServer::start(std::filesystem::path store_dir, const common::KeyPair& own,
                                                        const std::string& endpoint, Allowed allowed) {
  FL_RETURN_IF_ERROR(common::check_endpoint(endpoint));
  std::unique_ptr<StoreServer> server(new StoreServer());
  server->store_ = UpdateStore(std::move(store_dir));
  server->allowed_ = std::move(allowed);
  server->sockets_ = std::make_unique<StoreServerSockets>();
  auto& s = *server->sockets_;
  try {
    s.zap.bind(common::kZapEndpoint);
    s.router.set(zmq::sockopt::linger, 0);
    s.router.set(zmq::sockopt::zap_domain, "fedledger-store");
    s.router.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 16);  // requests are tiny
  } catch (const zmq::error_t& e) {
    return make_error(ErrorCode::kIo, std::string("store server: ZeroMQ: ") + e.what());
  }
  FL_RETURN_IF_ERROR(common::set_curve_server(s.router, own));
  FL_ASSIGN_OR_RETURN(server->endpoint_, common::bind_socket(s.router, endpoint));
  server->thread_ = std::thread([raw = server.get()] { raw->loop(); });
  return server;
}

StoreServer::~StoreServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

// The allow-list is of Ed25519 keys: a client is admitted when one of them maps to its key.
bool StoreServer::admits(const common::CurvePublicKey& client) const {
  for (const auto& key : allowed_()) {
    auto curve = common::curve_public_key(key);
    if (curve.ok() && *curve == client) return true;
  }
  return false;
}

void StoreServer::loop() {
  auto& s = *sockets_;
  while (!stop_) {
    zmq::pollitem_t items[] = {{s.zap.handle(), 0, ZMQ_POLLIN, 0}, {s.router.handle(), 0, ZMQ_POLLIN, 0}};
    try {
      zmq::poll(items, 2, std::chrono::milliseconds(200));
      if (items[0].revents & ZMQ_POLLIN) {
        const auto refused = common::answer_zap_request(s.zap, [this](const common::CurvePublicKey& curve) {
          return admits(curve) ? std::string() : std::string("not a member of the consortium");
        });
        if (refused) ++refused_;
      }
      if (!(items[1].revents & ZMQ_POLLIN)) continue;
      std::string bad_identity;
      auto received = common::receive_message(s.router, SocketRole::kRouter, std::chrono::milliseconds(0), &bad_identity);
      if (!received.ok() || !*received) continue;
      auto& env = **received;
      common::StoreReply reply;
      auto request = env.type == MessageType::kStoreRequest ? common::decode<common::StoreRequest>(env.header_bytes())
                                                            : Result<common::StoreRequest>(make_error(
                                                                  ErrorCode::kProtocol, "expected a store request"));
      if (!request.ok()) {
        reply.reason = request.error().message;
        (void)common::send_typed(s.router, SocketRole::kRouter, env.identity, MessageType::kStoreReply, reply);
        continue;
      }
      reply.model = request->model;
      reply.digest = request->digest;
      auto bytes = store_.raw(request->model, request->digest);
      if (!bytes.ok()) {
        reply.reason = bytes.error().message;
        (void)common::send_typed(s.router, SocketRole::kRouter, env.identity, MessageType::kStoreReply, reply);
        continue;
      }
      reply.found = true;
      ++served_;
      (void)common::send_typed(s.router, SocketRole::kRouter, env.identity, MessageType::kStoreReply, reply,
                               {reinterpret_cast<const std::uint8_t*>(bytes->data()), bytes->size()});
    } catch (const zmq::error_t& e) {
      if (stop_) break;
      spdlog::warn("store server: ZeroMQ: {}", e.what());
    }
  }
}

std::vector<StoreEntry> entries_for_rounds(const ledger::Chain& chain, const std::string& job_id, std::uint64_t from,
                                           std::uint64_t to) {
  std::set<StoreEntry> wanted;
  std::optional<common::Digest> before;
  const auto job = chain.state.jobs().find(job_id);
  if (job != chain.state.jobs().end() && job->second.job.terms) before = job->second.job.terms->model_digest;
  for (const auto& stx : chain.txs) {
    const auto* body = std::get_if<ledger::RoundResultBody>(&stx.tx.body);
    if (body == nullptr || body->job_id != job_id) continue;
    if (body->round >= from && body->round <= to) {
      if (before) wanted.insert({true, *before});
      wanted.insert({true, body->model_digest});
      for (const auto& a : body->accepted) wanted.insert({false, a.update_digest});
    }
    before = body->model_digest;
  }
  return {wanted.begin(), wanted.end()};
}

Result<FetchReport> fetch_missing(const UpdateStore& store, const std::vector<StoreEntry>& wanted,
                                  const std::vector<StorePeer>& peers, const common::KeyPair& own,
                                  std::chrono::milliseconds timeout) {
  FetchReport report;
  std::vector<StoreEntry> missing;
  for (const auto& e : wanted) {
    if (store.has(e.model, e.digest)) {
      ++report.present;
    } else {
      missing.push_back(e);
    }
  }
  if (missing.empty()) return report;
  zmq::context_t context(1);
  for (const auto& peer : peers) {
    if (missing.empty()) break;
    zmq::socket_t socket(context, zmq::socket_type::dealer);
    try {
      socket.set(zmq::sockopt::linger, 0);
      socket.set(zmq::sockopt::maxmsgsize, std::int64_t{1} << 32);
      FL_RETURN_IF_ERROR(common::set_curve_client(socket, own, peer.key));
      socket.connect(peer.endpoint);
    } catch (const zmq::error_t& e) {
      return make_error(ErrorCode::kIo, "cannot connect to the store at " + peer.endpoint + ": " + e.what());
    }
    std::vector<StoreEntry> still;
    bool reachable = true;
    for (const auto& e : missing) {
      if (!reachable) {
        still.push_back(e);
        continue;
      }
      (void)common::send_typed(socket, SocketRole::kDealer, {}, MessageType::kStoreRequest,
                               common::StoreRequest{e.model, e.digest});
      auto received = common::receive_message(socket, SocketRole::kDealer, timeout);
      if (!received.ok() || !*received || (*received)->type != MessageType::kStoreReply) {
        report.problems.push_back("the store at " + peer.endpoint + " (" + common::short_id(peer.key) +
                                  ") did not answer within " + std::to_string(timeout.count()) +
                                  " ms (down, another key, or this key is not a member)");
        reachable = false;
        still.push_back(e);
        continue;
      }
      auto reply = common::decode<common::StoreReply>((*received)->header_bytes());
      if (!reply.ok() || reply->digest != e.digest || reply->model != e.model || !reply->found) {
        still.push_back(e);
        continue;
      }
      const auto bytes = (*received)->payload_bytes();
      auto kept = store.put_raw(e.model, e.digest,
                                {reinterpret_cast<const char*>(bytes.data()), bytes.size()});
      if (!kept.ok()) {
        report.problems.push_back("the store at " + peer.endpoint + " served a bad " + UpdateStore::entry_name(e.model, e.digest) +
                                  ": " + kept.error().message);
        still.push_back(e);
        continue;
      }
      ++report.fetched;
    }
    missing = std::move(still);
  }
  for (const auto& e : missing) report.problems.push_back(UpdateStore::entry_name(e.model, e.digest) + ": no member's store has it");
  return report;
}

}  // namespace fl::coordinator
