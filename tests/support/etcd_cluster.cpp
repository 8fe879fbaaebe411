#include "support/etcd_cluster.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <exception>
#include <map>

namespace fl::test {
namespace {

namespace fs = std::filesystem;

}  // namespace

// `n` distinct free loopback ports: all bound at once (so they differ), then released.
Result<std::vector<int>> free_ports(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      for (int f : fds) ::close(f);
      if (fd >= 0) ::close(fd);
      return make_error(ErrorCode::kIo, "cannot find a free loopback port");
    }
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int f : fds) ::close(f);
  return ports;
}


std::optional<std::string> EtcdCluster::binary() {
  if (const char* env = std::getenv("FL_ETCD_BIN"); env && fs::exists(env)) return env;
  if (fs::exists("/usr/bin/etcd")) return "/usr/bin/etcd";
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    for (std::size_t start = 0; start <= p.size();) {
      const std::size_t end = std::min(p.find(':', start), p.size());
      const fs::path candidate = fs::path(p.substr(start, end - start)) / "etcd";
      std::error_code ec;
      if (fs::is_regular_file(candidate, ec)) return candidate.string();
      start = end + 1;
    }
  }
  return std::nullopt;
}

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::start(int members) {
  const auto etcd = binary();
  if (!etcd)
    return make_error(ErrorCode::kNotFound, "etcd is not installed (apt-get install etcd-server)");
  std::unique_ptr<EtcdCluster> c(new EtcdCluster());
  c->dir_ = std::make_unique<TempDir>("fl-etcd");
  FL_ASSIGN_OR_RETURN(auto ports, free_ports(2 * members));
  std::string initial;
  for (int i = 0; i < members; ++i) {
    Member m;
    m.name = "m" + std::to_string(i);
    m.client_url = "http://127.0.0.1:" + std::to_string(ports[2 * i]);
    m.peer_url = "http://127.0.0.1:" + std::to_string(ports[2 * i + 1]);
    initial += (i ? "," : "") + m.name + "=" + m.peer_url;
    c->members_.push_back(std::move(m));
  }
  for (auto& m : c->members_) {
    std::vector<std::string> argv{
        *etcd, "--name=" + m.name, "--data-dir=" + (c->dir_->path() / m.name).string(),
        "--listen-client-urls=" + m.client_url, "--advertise-client-urls=" + m.client_url,
        "--listen-peer-urls=" + m.peer_url, "--initial-advertise-peer-urls=" + m.peer_url,
        "--initial-cluster=" + initial, "--initial-cluster-state=new",
        "--initial-cluster-token=fl-test",
        // Loopback: elections in well under a second.
        "--heartbeat-interval=50", "--election-timeout=500", "--logger=zap", "--log-level=warn"};
    m.argv = std::move(argv);
    try {
      m.process = std::make_unique<ChildProcess>(m.argv, c->dir_->path() / (m.name + ".log"));
    } catch (const std::exception& e) {
      return make_error(ErrorCode::kIo, e.what());
    }
  }
  FL_ASSIGN_OR_RETURN(c->client_, ledger::EtcdClient::create(c->options()));
  FL_RETURN_IF_ERROR(c->wait_for_leader(std::chrono::seconds(30)));
  return c;
}

EtcdCluster::~EtcdCluster() = default;  // each ChildProcess kills its member

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (const auto& m : members_) urls.push_back(m.client_url);
  return urls;
}

ledger::EtcdOptions EtcdCluster::options() const {
  ledger::EtcdOptions o;
  o.endpoints = client_urls();
  o.connect_timeout = std::chrono::milliseconds(300);
  o.request_timeout = std::chrono::milliseconds(3000);
  o.retry_budget = std::chrono::milliseconds(15000);
  return o;
}

bool EtcdCluster::running(int member) { return members_.at(member).process->running(); }

void EtcdCluster::kill(int member) {
  auto& p = *members_.at(member).process;
  p.kill(SIGKILL);
  (void)p.wait(std::chrono::seconds(5));
}

Status EtcdCluster::restart(int member) {
  auto& m = members_.at(member);
  if (m.process && m.process->running()) return ok_status();
  try {
    m.process.reset();
    m.process = std::make_unique<ChildProcess>(m.argv, dir_->path() / (m.name + ".restarted.log"));
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kIo, e.what());
  }
  return ok_status();
}

Status EtcdCluster::wait_for_leader(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::string last = "no member answered";
  while (std::chrono::steady_clock::now() < until) {
    std::map<std::uint64_t, int> index_of;
    std::optional<std::uint64_t> leader;
    bool agreed = true;
    for (std::size_t i = 0; i < members_.size() && agreed; ++i) {
      if (!running(static_cast<int>(i))) continue;
      auto s = client_->member_status(i);
      if (!s.ok()) {
        last = s.error().message;
        agreed = false;
        break;
      }
      members_[i].id = s->member_id;
      index_of[s->member_id] = static_cast<int>(i);
      if (s->leader_id == 0 || (leader && *leader != s->leader_id)) agreed = false;
      leader = s->leader_id;
    }
    if (agreed && leader && index_of.count(*leader)) return ok_status();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return make_error(ErrorCode::kTimeout, "etcd cluster in " + dir_->path().string() +
                                             " has no leader (" + last + "); see the logs there");
}

Result<int> EtcdCluster::leader() {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    if (!running(static_cast<int>(i))) continue;
    FL_ASSIGN_OR_RETURN(auto s, client_->member_status(i));
    for (std::size_t j = 0; j < members_.size(); ++j) {
      if (members_[j].id == s.leader_id) return static_cast<int>(j);
    }
  }
  return make_error(ErrorCode::kNotFound, "no running etcd member knows a leader");
}

}  // namespace fl::test
