// EtcdClient: one libcurl handle (keep-alive) behind a mutex; each call tries the preferred
// member first, then the others, until the retry budget is spent.
#include "fl/ledger/etcd_client.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <exception>

#include "etcd_wire.hpp"

namespace fl::ledger {

using nlohmann::json;

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's "\0" range end)
}

Compare Compare::value_is(std::string key, std::string value) {
  return Compare{std::move(key), CompareTarget::kValue, CompareResult::kEqual, std::move(value), 0};
}
Compare Compare::absent(std::string key) {
  return Compare{std::move(key), CompareTarget::kCreateRevision, CompareResult::kEqual, "", 0};
}
Compare Compare::lease_is(std::string key, std::int64_t lease) {
  return Compare{std::move(key), CompareTarget::kLease, CompareResult::kEqual, "", lease};
}
TxnOp TxnOp::put(std::string key, std::string value, std::int64_t lease) {
  return TxnOp{Kind::kPut, std::move(key), std::move(value), "", lease};
}
TxnOp TxnOp::get(std::string key) { return TxnOp{Kind::kRange, std::move(key), "", "", 0}; }
TxnOp TxnOp::erase(std::string key) { return TxnOp{Kind::kDelete, std::move(key), "", "", 0}; }

namespace {

json compare_json(const Compare& c) {
  static constexpr const char* kTargets[] = {"VALUE", "VERSION", "CREATE", "MOD", "LEASE"};
  static constexpr const char* kFields[] = {"value", "version", "create_revision", "mod_revision",
                                            "lease"};
  static constexpr const char* kResults[] = {"EQUAL", "NOT_EQUAL", "GREATER", "LESS"};
  const auto t = static_cast<std::size_t>(c.target);
  json j{{"key", etcd::base64(c.key)},
         {"target", kTargets[t]},
         {"result", kResults[static_cast<std::size_t>(c.result)]}};
  if (c.target == CompareTarget::kValue) {
    j[kFields[t]] = etcd::base64(c.value);
  } else {
    j[kFields[t]] = std::to_string(c.number);
  }
  return j;
}

json op_json(const TxnOp& op) {
  json body{{"key", etcd::base64(op.key)}};
  if (!op.range_end.empty()) body["range_end"] = etcd::base64(op.range_end);
  switch (op.kind) {
    case TxnOp::Kind::kPut:
      body["value"] = etcd::base64(op.value);
      if (op.lease != 0) body["lease"] = std::to_string(op.lease);
      return json{{"request_put", body}};
    case TxnOp::Kind::kDelete:
      return json{{"request_delete_range", body}};
    case TxnOp::Kind::kRange:
      break;
  }
  return json{{"request_range", body}};
}

size_t append_to_string(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// Parses a gateway reply and runs `read` on it; JSON surprises become kProtocol errors.
template <typename T, typename Read>
Result<T> decode_reply(std::string_view what, const std::string& body, Read read) {
  try {
    const json reply = json::parse(body);
    return read(reply);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kProtocol,
                      "etcd " + std::string(what) + " reply is not what etcd 3.4 sends (" +
                          e.what() + "); check that the endpoints are etcd v3.4+ members");
  }
}

}  // namespace

struct EtcdClient::Connection {
  CURL* handle = nullptr;
  Connection() : handle(curl_easy_init()) {}
  ~Connection() {
    if (handle) curl_easy_cleanup(handle);
  }
};

EtcdClient::EtcdClient(EtcdOptions options)
    : options_(std::move(options)), connection_(std::make_unique<Connection>()) {}
EtcdClient::~EtcdClient() = default;

Result<std::unique_ptr<EtcdClient>> EtcdClient::create(EtcdOptions options) {
  if (options.endpoints.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      "no etcd endpoints given; pass the members' client URLs, e.g. "
                      "http://127.0.0.1:2379");
  }
  for (const auto& e : options.endpoints) {
    if (e.rfind("http://", 0) != 0 && e.rfind("https://", 0) != 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "etcd endpoint '" + e + "' is not an http:// or https:// URL");
    }
  }
  etcd::init_curl();
  std::unique_ptr<EtcdClient> client(new EtcdClient(std::move(options)));
  if (!client->connection_->handle) {
    return make_error(ErrorCode::kInternal, "libcurl could not create a handle");
  }
  return client;
}

Result<std::string> EtcdClient::call_one(std::size_t endpoint, std::string_view path,
                                         const std::string& body, bool& retry_elsewhere) {
  const std::string& base = options_.endpoints[endpoint];
  CURL* h = connection_->handle;
  curl_easy_reset(h);
  const std::string url = base + std::string(path);
  std::string reply;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_to_string);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply);
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip for big bodies
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  const CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    retry_elsewhere = true;
    return make_error(
        rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
        "etcd member " + base + ": " + curl_easy_strerror(rc) +
            "; check that it is running and reachable");
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return etcd::reply_error(base, status, reply, retry_elsewhere);
  retry_elsewhere = false;
  return reply;
}

Result<std::string> EtcdClient::call(std::string_view path, const std::string& body) {
  std::lock_guard lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + options_.retry_budget;
  const std::size_t n = options_.endpoints.size();
  std::chrono::milliseconds backoff{25};
  std::optional<Error> last;
  while (true) {
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t e = (preferred_ + k) % n;
      bool retry = false;
      auto reply = call_one(e, path, body, retry);
      if (reply.ok()) {
        preferred_ = e;
        return reply;
      }
      if (!retry) return reply.error();
      last = reply.error();
    }
    if (std::chrono::steady_clock::now() + backoff >= deadline) break;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(400));
  }
  return make_error(
      last->code == ErrorCode::kTimeout ? ErrorCode::kTimeout : ErrorCode::kUnavailable,
      "no etcd member answered " + std::string(path) + " within " +
          std::to_string(options_.retry_budget.count()) + " ms (" + std::to_string(n) +
          " tried; last: " + last->message + ")");
}

Result<RangeResult> EtcdClient::range(const RangeRequest& request) {
  json body{{"key", etcd::base64(request.key)}};
  if (!request.range_end.empty()) body["range_end"] = etcd::base64(request.range_end);
  if (request.revision != 0) body["revision"] = std::to_string(request.revision);
  if (request.limit != 0) body["limit"] = std::to_string(request.limit);
  if (request.keys_only) body["keys_only"] = true;
  FL_ASSIGN_OR_RETURN(auto reply, call("/v3/kv/range", body.dump()));
  return decode_reply<RangeResult>("range", reply, etcd::parse_range);
}

Result<std::optional<KeyValue>> EtcdClient::get(const std::string& key, std::int64_t revision) {
  FL_ASSIGN_OR_RETURN(auto r, range(RangeRequest{key, "", revision, 1, false}));
  if (r.kvs.empty()) return std::optional<KeyValue>{};
  return std::optional<KeyValue>(std::move(r.kvs.front()));
}

Result<std::int64_t> EtcdClient::put(const std::string& key, const std::string& value,
                                     std::int64_t lease) {
  json body{{"key", etcd::base64(key)}, {"value", etcd::base64(value)}};
  if (lease != 0) body["lease"] = std::to_string(lease);
  FL_ASSIGN_OR_RETURN(auto reply, call("/v3/kv/put", body.dump()));
  return decode_reply<std::int64_t>("put", reply, [](const json& j) -> Result<std::int64_t> {
    return etcd::int_field(j.at("header"), "revision");
  });
}

Result<std::int64_t> EtcdClient::erase(const std::string& key, const std::string& range_end) {
  json body{{"key", etcd::base64(key)}};
  if (!range_end.empty()) body["range_end"] = etcd::base64(range_end);
  FL_ASSIGN_OR_RETURN(auto reply, call("/v3/kv/deleterange", body.dump()));
  return decode_reply<std::int64_t>("delete", reply, [](const json& j) -> Result<std::int64_t> {
    return etcd::int_field(j, "deleted");
  });
}

Result<TxnResult> EtcdClient::txn(const std::vector<Compare>& compares,
                                  const std::vector<TxnOp>& success,
                                  const std::vector<TxnOp>& failure) {
  json body{{"compare", json::array()}, {"success", json::array()}, {"failure", json::array()}};
  for (const auto& c : compares) body["compare"].push_back(compare_json(c));
  for (const auto& op : success) body["success"].push_back(op_json(op));
  for (const auto& op : failure) body["failure"].push_back(op_json(op));
  FL_ASSIGN_OR_RETURN(auto reply, call("/v3/kv/txn", body.dump()));
  return decode_reply<TxnResult>("txn", reply, [](const json& j) -> Result<TxnResult> {
    TxnResult out;
    out.succeeded = j.value("succeeded", false);  // the gateway leaves out a false
    out.revision = etcd::int_field(j.at("header"), "revision");
    if (auto rs = j.find("responses"); rs != j.end()) {
      for (const auto& r : *rs) {
        RangeResult range;
        if (auto rr = r.find("response_range"); rr != r.end()) {
          FL_ASSIGN_OR_RETURN(range, etcd::parse_range(*rr));
        }
        out.responses.push_back(std::move(range));
      }
    }
    return out;
  });
}

Result<Lease> EtcdClient::grant_lease(std::int64_t ttl_s) {
  FL_ASSIGN_OR_RETURN(auto reply, call("/v3/lease/grant", json{{"TTL", ttl_s}}.dump()));
  return decode_reply<Lease>("lease grant", reply, [](const json& j) -> Result<Lease> {
    if (j.contains("error")) {
      return make_error(ErrorCode::kUnavailable,
                        "etcd refused a lease: " + j.value("error", std::string()));
    }
    return Lease{etcd::int_field(j, "ID"), etcd::int_field(j, "TTL")};
  });
}

Result<std::int64_t> EtcdClient::keep_alive(std::int64_t lease) {
  FL_ASSIGN_OR_RETURN(auto reply,
                      call("/v3/lease/keepalive", json{{"ID", std::to_string(lease)}}.dump()));
  // A stream endpoint: one {"result": ...} line per request sent (we send one).
  return decode_reply<std::int64_t>(
      "lease keepalive", reply, [lease](const json& j) -> Result<std::int64_t> {
        const std::int64_t ttl = etcd::int_field(j.at("result"), "TTL");
        if (ttl <= 0) {
          return make_error(ErrorCode::kNotFound, "etcd lease " + std::to_string(lease) +
                                                      " has expired or was revoked; grant a "
                                                      "new one (what it guarded is released)");
        }
        return ttl;
      });
}

Status EtcdClient::revoke_lease(std::int64_t lease) {
  auto reply = call("/v3/lease/revoke", json{{"ID", std::to_string(lease)}}.dump());
  if (!reply.ok() && reply.error().code == ErrorCode::kNotFound) return ok_status();  // gone
  if (!reply.ok()) return reply.error();
  return ok_status();
}

Result<MemberStatus> EtcdClient::member_status(std::size_t endpoint) {
  if (endpoint >= options_.endpoints.size()) {
    return make_error(ErrorCode::kInvalidArgument, "no etcd endpoint " + std::to_string(endpoint));
  }
  std::lock_guard lock(mutex_);
  bool retry = false;
  FL_ASSIGN_OR_RETURN(auto reply, call_one(endpoint, "/v3/maintenance/status", "{}", retry));
  return decode_reply<MemberStatus>("status", reply, [](const json& j) -> Result<MemberStatus> {
    MemberStatus s;
    s.member_id = static_cast<std::uint64_t>(etcd::int_field(j.at("header"), "member_id"));
    s.leader_id = static_cast<std::uint64_t>(etcd::int_field(j, "leader"));
    s.raft_term = etcd::int_field(j, "raftTerm");
    return s;
  });
}

}  // namespace fl::ledger
