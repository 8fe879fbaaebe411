// fl-ledger store serve: a member's update store, served to the consortium over CURVE
// (store_service.hpp).
#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>

#include "fl/coordinator/round_audit.hpp"
#include "fl/coordinator/store_service.hpp"

namespace fl::coordinator {

namespace {

std::atomic<bool> g_stop{false};
void on_stop_signal(int) { g_stop = true; }

// The consortium's members and witnesses, read from the ledger at most every few seconds.
class ConsortiumKeys {
 public:
  explicit ConsortiumKeys(std::filesystem::path db) : db_(std::move(db)) {}
  Result<std::vector<common::PublicKey>> load() {
    FL_ASSIGN_OR_RETURN(const auto chain, ledger::load_chain(db_));
    return store_readers(chain.state.consortium());
  }
  std::vector<common::PublicKey> current() {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (now - loaded_at_ > std::chrono::seconds(5)) {
      if (auto keys = load(); keys.ok()) keys_ = std::move(keys).value();
      loaded_at_ = now;
    }
    return keys_;
  }

 private:
  std::filesystem::path db_;
  std::mutex mutex_;
  std::vector<common::PublicKey> keys_;
  std::chrono::steady_clock::time_point loaded_at_{};
};

}  // namespace

int command_store_serve(const ledger::CommandContext& c, const std::filesystem::path& store_dir,
                        const std::filesystem::path& key_file, const std::string& listen) {
  const auto fail = [&](const Error& e) {
    c.err << "fl-ledger store serve: " << e.message << '\n';
    return 1;
  };
  std::error_code ec;
  if (!std::filesystem::is_directory(store_dir, ec)) {
    return fail(make_error(ErrorCode::kNotFound, "--store " + store_dir.string() +
                                                     " is not a folder; give a coordinator's <output>/store"));
  }
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(with_context(key.error(), "--key"));
  auto keys = std::make_shared<ConsortiumKeys>(c.db);
  auto first = keys->load();
  if (!first.ok()) return fail(first.error());
  auto server = StoreServer::start(store_dir, *key, listen, [keys] { return keys->current(); });
  if (!server.ok()) return fail(server.error());
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  c.out << "serving the store " << store_dir.string() << " at " << (*server)->endpoint() << " (key "
        << common::short_id(key->public_key) << ") to the " << first->size()
        << " member and witness keys of the consortium in " << c.db.string() << "; Ctrl-C stops" << std::endl;
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  c.out << "stopped: " << (*server)->served() << " entries served, " << (*server)->refused_connections()
        << " connections refused" << std::endl;
  return 0;
}

Status fetch_for_audit(const ledger::Chain& chain, const std::vector<std::string>& jobs, const UpdateStore& store,
                       const StoreFetch& fetch, std::ostream& log, AuditRange range) {
  std::vector<StoreEntry> wanted;
  for (const auto& id : jobs) {
    auto entries = entries_for_rounds(chain, id, range.from.value_or(0), range.to.value_or(UINT64_MAX));
    wanted.insert(wanted.end(), entries.begin(), entries.end());
  }
  FL_ASSIGN_OR_RETURN(auto key, common::load_key_file(fetch.key_file));
  std::error_code ec;
  std::filesystem::create_directories(store.dir(), ec);
  FL_ASSIGN_OR_RETURN(const auto report, fetch_missing(store, wanted, fetch.peers, key));
  log << "store " << store.dir().string() << ": " << report.present << " entries present, " << report.fetched
      << " fetched from " << fetch.peers.size() << " member(s)\n";
  for (const auto& p : report.problems) log << "  " << p << '\n';
  return ok_status();
}

}  // namespace fl::coordinator
