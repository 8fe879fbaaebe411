// EtcdWatch: a streamed POST /v3/watch on its own thread and libcurl handle. The gateway sends
// one JSON object per line ({"result": {...}}); events are queued for poll(). When a stream
// ends, the thread resumes on the next member after the last revision it saw.
#include <curl/curl.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <stdexcept>

#include "etcd_wire.hpp"
#include "fl/ledger/etcd_client.hpp"

namespace fl::ledger {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct EtcdWatch::State {
  EtcdOptions options;
  std::string key, range_end;

  std::mutex mutex;
  std::condition_variable changed;
  std::deque<WatchEvent> events;
  std::optional<Error> error;  // the watch has stopped for good
  bool created = false;        // a member confirmed the watch
  bool stop = false;
  std::int64_t next_revision = 0;  // resume from here (0: now)

  std::string line;  // a part-received line of the stream

  void fail(Error e) {
    std::lock_guard lock(mutex);
    if (!error) error = std::move(e);
    changed.notify_all();
  }
  bool stopping() {
    std::lock_guard lock(mutex);
    return stop;
  }
  // One line of the stream; false on a message that ends the watch.
  bool take_line(const std::string& text, const std::string& endpoint);
  void run();
  // One stream from one member, until it breaks or the watch stops; true if it carried data.
  bool stream_from(const std::string& endpoint);

  struct StreamContext {
    State* state = nullptr;
    const std::string* endpoint = nullptr;
    bool received = false;
  };
  static size_t on_write(char* data, size_t size, size_t count, void* user);
  static int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t);
};

bool EtcdWatch::State::take_line(const std::string& text, const std::string& endpoint) {
  try {
    const json j = json::parse(text);
    if (j.contains("error")) {  // the stream broke at the member: move on to another
      return true;
    }
    const json& r = j.at("result");
    std::vector<WatchEvent> got;
    if (auto evs = r.find("events"); evs != r.end()) {
      for (const auto& ev : *evs) {
        WatchEvent w;
        w.kind = ev.value("type", std::string("PUT")) == "DELETE" ? WatchEvent::Kind::kDelete
                                                                  : WatchEvent::Kind::kPut;
        auto kv = etcd::parse_kv(ev.at("kv"));
        if (!kv.ok()) throw std::runtime_error(kv.error().message);
        w.kv = std::move(kv).value();
        got.push_back(std::move(w));
      }
    }
    std::lock_guard lock(mutex);
    if (r.value("created", false)) {
      created = true;
      // Resume after what this member had at creation, so a break before any event loses none.
      if (next_revision == 0 && r.contains("header")) {
        next_revision = etcd::int_field(r.at("header"), "revision") + 1;
      }
    }
    if (r.value("canceled", false)) {
      const auto compacted = etcd::int_field(r, "compact_revision");
      error = make_error(
          compacted > 0 ? ErrorCode::kPrecondition : ErrorCode::kUnavailable,
          "etcd member " + endpoint + " cancelled the watch on " + key +
              (compacted > 0 ? " (revision " + std::to_string(next_revision) +
                                   " is compacted; re-read the chain and watch from " +
                                   std::to_string(compacted) + ")"
                             : ": " + r.value("cancel_reason", std::string("no reason given"))));
      changed.notify_all();
      return false;
    }
    for (auto& w : got) {
      next_revision = std::max(next_revision, w.kv.mod_revision + 1);
      events.push_back(std::move(w));
    }
    if (!got.empty() || created) changed.notify_all();
    return true;
  } catch (const std::exception& e) {
    std::lock_guard lock(mutex);
    error = make_error(ErrorCode::kProtocol, "etcd member " + endpoint +
                                                 " sent a watch message that is not etcd 3.4's (" +
                                                 e.what() + ")");
    changed.notify_all();
    return false;
  }
}

// libcurl callbacks: they must not throw; returning 0 (write) or 1 (progress) aborts.
size_t EtcdWatch::State::on_write(char* data, size_t size, size_t count, void* user) {
  auto* ctx = static_cast<StreamContext*>(user);
  auto* s = ctx->state;
  ctx->received = true;
  const size_t n = size * count;
  for (size_t i = 0; i < n; ++i) {
    if (data[i] != '\n') {
      s->line.push_back(data[i]);
      continue;
    }
    const bool go_on = s->line.empty() || s->take_line(s->line, *ctx->endpoint);
    s->line.clear();
    if (!go_on) return 0;
  }
  return n;
}

int EtcdWatch::State::on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<StreamContext*>(user)->state->stopping() ? 1 : 0;
}

bool EtcdWatch::State::stream_from(const std::string& endpoint) {
  CURL* h = curl_easy_init();
  if (!h) return false;
  json create{{"key", etcd::base64(key)}};
  if (!range_end.empty()) create["range_end"] = etcd::base64(range_end);
  {
    std::lock_guard lock(mutex);
    if (next_revision > 0) create["start_revision"] = std::to_string(next_revision);
  }
  const std::string body = json{{"create_request", create}}.dump();
  const std::string url = endpoint + "/v3/watch";
  StreamContext ctx{this, &endpoint, false};
  line.clear();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ctx);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_perform(h);  // returns when the stream breaks, is aborted, or the member goes
  curl_easy_cleanup(h);
  return ctx.received;
}

void EtcdWatch::State::run() {
  try {
    const std::size_t n = options.endpoints.size();
    auto last_success = Clock::now();
    std::chrono::milliseconds backoff{25};
    for (std::size_t e = 0;; e = (e + 1) % n) {
      if (stream_from(options.endpoints[e])) {
        last_success = Clock::now();
        backoff = std::chrono::milliseconds(25);
      }
      {
        std::lock_guard lock(mutex);
        if (stop || error) return;
      }
      if (Clock::now() - last_success > options.retry_budget) {
        fail(make_error(ErrorCode::kUnavailable, "no etcd member kept the watch on " + key +
                                                     " for " +
                                                     std::to_string(options.retry_budget.count()) +
                                                     " ms; check that the cluster is up"));
        return;
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(400));
    }
  } catch (const std::exception& e) {
    fail(make_error(ErrorCode::kInternal, std::string("etcd watch thread: ") + e.what()));
  }
}

EtcdWatch::EtcdWatch(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<EtcdWatch>> EtcdWatch::start(EtcdOptions options, std::string key,
                                                    std::string range_end,
                                                    std::int64_t start_revision) {
  if (options.endpoints.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "etcd watch without endpoints");
  }
  etcd::init_curl();
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  state->key = std::move(key);
  state->range_end = std::move(range_end);
  state->next_revision = start_revision;
  std::unique_ptr<EtcdWatch> watch(new EtcdWatch(state));
  watch->thread_ = std::thread([state] { state->run(); });
  std::unique_lock lock(state->mutex);
  const bool ready = state->changed.wait_for(lock, state->options.retry_budget, [&] {
    return state->created || state->error.has_value();
  });
  if (state->error) return *state->error;
  if (!ready) {
    return make_error(ErrorCode::kTimeout, "no etcd member confirmed the watch on " + state->key +
                                               "; check that the cluster is up");
  }
  return watch;
}

EtcdWatch::~EtcdWatch() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stop = true;
  }
  if (thread_.joinable()) thread_.join();
}

Result<std::vector<WatchEvent>> EtcdWatch::poll(std::chrono::milliseconds wait) {
  std::unique_lock lock(state_->mutex);
  state_->changed.wait_for(lock, wait,
                           [&] { return !state_->events.empty() || state_->error.has_value(); });
  if (state_->events.empty() && state_->error) return *state_->error;
  std::vector<WatchEvent> out(std::make_move_iterator(state_->events.begin()),
                              std::make_move_iterator(state_->events.end()));
  state_->events.clear();
  return out;
}

}  // namespace fl::ledger
