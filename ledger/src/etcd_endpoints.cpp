// parse_etcd_endpoints, apart from the replicated store so the job config (and its fuzz
// harness) can check [ledger] etcd without linking the etcd client.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "fl/ledger/replicated_block_store.hpp"

namespace fl::ledger {

Result<std::vector<std::string>> parse_etcd_endpoints(std::string_view text,
                                                      const std::string& where) {
  std::vector<std::string> urls;
  for (std::size_t start = 0; !text.empty() && start <= text.size();) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    std::string url(text.substr(start, end - start));
    url.erase(0, url.find_first_not_of(" \t"));
    url.erase(url.find_last_not_of(" \t") + 1);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      return make_error(
          ErrorCode::kInvalidArgument,
          where + ": '" + url +
              "' is not an etcd client URL; write the members as "
              "\"http://HOST:PORT,http://HOST:PORT\" (their --advertise-client-urls)");
    }
    urls.push_back(std::move(url));
    start = end + 1;
  }
  return urls;
}

}  // namespace fl::ledger
