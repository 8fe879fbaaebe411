#include "etcd_wire.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <charconv>
#include <mutex>
#include <stdexcept>

namespace fl::ledger::etcd {

std::string base64(std::string_view bytes) {
  constexpr int kVariant = sodium_base64_VARIANT_ORIGINAL;
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), kVariant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), kVariant);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

Result<std::string> unbase64(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return make_error(ErrorCode::kProtocol, "etcd sent a key or value that is not base64");
  }
  out.resize(len);
  return out;
}

std::int64_t int_field(const nlohmann::json& object, const char* name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_integer()) return it->get<std::int64_t>();
  const auto& text = it->get_ref<const std::string&>();  // throws type_error on other types
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) {
    // A uint64 member id above INT64_MAX: keep its bits.
    std::uint64_t u = 0;
    const auto [uend, uec] = std::from_chars(text.data(), text.data() + text.size(), u);
    if (uec != std::errc() || uend != text.data() + text.size()) {
      throw std::invalid_argument(std::string("etcd sent a non-integer ") + name);
    }
    value = static_cast<std::int64_t>(u);
  }
  return value;
}

Result<KeyValue> parse_kv(const nlohmann::json& kv) {
  KeyValue out;
  FL_ASSIGN_OR_RETURN(out.key, unbase64(kv.value("key", std::string())));
  FL_ASSIGN_OR_RETURN(out.value, unbase64(kv.value("value", std::string())));
  out.create_revision = int_field(kv, "create_revision");
  out.mod_revision = int_field(kv, "mod_revision");
  out.version = int_field(kv, "version");
  out.lease = int_field(kv, "lease");
  return out;
}

Result<RangeResult> parse_range(const nlohmann::json& reply) {
  RangeResult out;
  if (auto h = reply.find("header"); h != reply.end()) out.revision = int_field(*h, "revision");
  out.more = reply.value("more", false);
  if (auto kvs = reply.find("kvs"); kvs != reply.end()) {
    for (const auto& kv : *kvs) {
      FL_ASSIGN_OR_RETURN(auto parsed, parse_kv(kv));
      out.kvs.push_back(std::move(parsed));
    }
  }
  return out;
}

Error reply_error(const std::string& endpoint, long http_status, std::string_view body,
                  bool& retry) {
  const auto reply = nlohmann::json::parse(body, nullptr, false);
  std::string message = "HTTP " + std::to_string(http_status);
  long code = -1;
  if (reply.is_object()) {
    if (auto e = reply.find("error"); e != reply.end() && e->is_string()) {
      message = e->get<std::string>();
    }
    if (auto c = reply.find("code"); c != reply.end() && c->is_number_integer()) {
      code = c->get<long>();
    }
  }
  // gRPC codes: 4 deadline exceeded, 14 unavailable (no leader, leader changed, timed out).
  retry = code == 4 || code == 14 || (code < 0 && http_status >= 500);
  const std::string where = "etcd member " + endpoint + ": " + message;
  switch (code) {
    case 3:
      return make_error(ErrorCode::kInvalidArgument, where);
    case 8:
      return make_error(ErrorCode::kLimitExceeded,
                        where + " (raise the members' --max-request-bytes or write less at once)");
    case 11:
      return make_error(ErrorCode::kPrecondition,
                        where + " (the revision asked for is compacted or in the future)");
    case 5:
      return make_error(ErrorCode::kNotFound, where);
    default:
      return make_error(retry ? ErrorCode::kUnavailable : ErrorCode::kProtocol, where);
  }
}

void init_curl() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace fl::ledger::etcd
