// The etcd v3 JSON gateway's encoding, shared by the client and the watch: base64 keys and
// values, 64-bit integers as JSON strings, error replies, and libcurl's one-time set-up.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "fl/common/result.hpp"
#include "fl/ledger/etcd_client.hpp"

namespace fl::ledger::etcd {

std::string base64(std::string_view bytes);
Result<std::string> unbase64(std::string_view text);

// A gateway integer ("123", 123 or absent: 0). Throws (std::exception) on a bad type, as the
// callers' JSON access does; they catch it at the adapter boundary.
std::int64_t int_field(const nlohmann::json& object, const char* name);
Result<KeyValue> parse_kv(const nlohmann::json& kv);
Result<RangeResult> parse_range(const nlohmann::json& reply);

// A gateway error reply {"error","code"} as an Error naming the member; `retry` is set when
// another member (or a later try) may succeed: no leader, leader changed, request timed out.
Error reply_error(const std::string& endpoint, long http_status, std::string_view body,
                  bool& retry);

// curl_global_init once per process, before the first handle.
void init_curl();

}  // namespace fl::ledger::etcd
