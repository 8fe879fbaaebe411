// A training job as the researcher describes it in job.toml: model, data, rounds, sampling,
// deadlines, aggregation rule, client-level DP, enrolment policy, ledger, terms and output folder. load_job_config()
// validates every value and names the file and key of the first bad one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/common/training_settings.hpp"
#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/enrolment.hpp"
#include "fl/coordinator/rate_limiter.hpp"
#include "fl/coordinator/scoring/scoring_context.hpp"
#include "fl/coordinator/update_bounds.hpp"
#include "fl/ledger/consortium.hpp"

namespace fl::coordinator {

// [terms]: what the job's terms say beyond what the rest of the config fixes (job_terms.hpp).
struct TermsSettings {
  std::string purpose;  // empty: "train MODEL on DATA"
  std::string data;     // empty: the data spec's kind and file name, and the class count
  std::uint64_t retention_days = 0;  // accepted updates are kept this long (0: not kept)
  std::vector<std::string> readers;  // who may read kept updates (default: "coordinators")
  std::vector<common::PublicKey> coordinators;  // allowed besides this coordinator's own key
};

struct JobConfig {
  // [job]
  std::string job_id;
  std::string model = "mlp";
  int rounds = 10;
  std::uint64_t seed = 1;
  std::string device = "auto";  // evaluation: "auto" (CUDA when present), "cpu", "cuda", "cuda:N"
  // [data]
  // A dataset spec (models::load_dataset): [data] spec = "csv:FILE?label=COLUMN" etc., or the
  // older dir = "DIR" meaning idx:DIR. The coordinator evaluates on its test split.
  std::string data = "idx:/usr/share/datasets/fashion-mnist";
  std::int64_t eval_limit = 0;  // 0: the full test set
  // [training] (sent to workers each round)
  common::TrainingSettings training;
  // [round]
  double sample_fraction = 1.0;
  int min_workers = 2;
  double quorum_fraction = 0.5;  // of the sampled workers
  double soft_deadline_s = 30;   // after this, close as soon as the quorum is in
  double deadline_s = 120;       // hard: close with what has arrived
  double registration_wait_s = 60;
  double heartbeat_timeout_s = 15;
  // [aggregation]
  // Robust by default: the coordinate-wise median tolerates any minority of arbitrary updates
  // and needs no f. "fedavg" is an explicit choice (logged as not Byzantine-robust).
  std::string rule = "median";
  RuleOptions rule_options;
  CloseSettings close;  // server learning rate, the bounds on claims and norms, and [privacy]
  // [scoring]
  ScoringSettings scoring;  // [scoring]: the scorer, its validation set, free-rider screening
  // [limits]
  std::uint64_t max_message_bytes = 64ull << 20;
  std::uint64_t max_samples_per_update = 10'000'000;
  double max_update_norm = 0;  // 0: no limit
  RateLimit peer_messages{100, 200};  // messages a second per connection, and burst
  // [enrolment]
  bool open_enrolment = false;
  std::vector<common::PublicKey> allowed_workers;
  EnrolmentLimits enrolment_limits;          // new keys a minute (open enrolment)
  SamplingRequirement sampling_requirement;  // stake or approval to be sampled; newcomer share
  // [network]
  std::string bind = "tcp://127.0.0.1:5555";
  // [http] (off unless listen is set)
  std::string http_listen;  // "HOST:PORT": /metrics, /api/... and the dashboard
  std::string http_token;   // bearer token; required (generated into <output_dir>/http.token) off loopback
  double http_linger_s = 0;  // keep serving this long after the last round
  bool plaintext = false;  // RESEARCH MODE: no CURVE (workers need --plaintext too)
  std::size_t max_connections = 20000;
  std::size_t max_connections_per_address = 64;
  double register_timeout_s = 10;  // drop connections that have not registered by then
  // [ledger]
  bool ledger_enabled = true;
  // etcd = "http://HOST:PORT,...": the chain is the replicated one in etcd (output.dir/ledger.db
  // becomes this coordinator's verified replica); empty: the embedded SQLite ledger.
  std::vector<std::string> ledger_etcd;
  std::string ledger_chain = "main";  // etcd keys under /fedledger/<chain>/
  double ledger_lease_ttl_s = 10;     // the job's owner lease in etcd
  // consortium = "consortium.toml": the federation's members, witnesses, quorum and minters
  // (fl/ledger/consortium.hpp). A new ledger's genesis names it; an existing one must have been
  // founded by it, with the coordinator key a member now. Unset: the coordinator key alone.
  std::optional<ledger::Consortium> ledger_consortium;
  // store_listen = "tcp://HOST:PORT": serve the update store to the consortium's members and
  // witnesses over CURVE while the job runs (store_service.hpp); empty: not served.
  std::string ledger_store_listen;
  std::uint64_t reward_per_round = 1000;
  // > 0: the researcher escrows this bounty when the job opens; rounds are paid out of it
  // (never minted) and what is left returns to the researcher when the job ends.
  std::uint64_t bounty = 0;
  // Share of an equivocating worker's stake slashed, with both signed updates as the evidence.
  double slashable_fraction = 0.5;
  // [terms]
  TermsSettings terms;
  // [output]
  std::filesystem::path output_dir = "runs/job";
  std::filesystem::path coordinator_key;  // default: <output_dir>/keys/coordinator.key
  std::filesystem::path researcher_key;   // default: the coordinator key
  std::string log_level = "info";
  int eval_threads = 0;  // 0: all cores
  bool live_table = true;
};

// An edge coordinator's config (edge.hpp): its parent, and this level's [round], [aggregation]
// (rule, its options and the bounds), [limits], [enrolment], [network] and [output] (dir,
// coordinator_key: the edge's own key), read as a job's are. The model, data, training,
// rounds and terms are the job's, from the parent's tasks: those sections are refused here.
struct EdgeConfig {
  // [edge]
  // parent = "tcp://HOST:PORT[,tcp://...]": the job owner's endpoint, or every member of the
  // federation that may own the job (the edge follows a standby's redirect to the owner, and
  // moves to the next member when the one it serves stays unreachable).
  std::vector<std::string> parents;
  // parent_key = "KEY[,KEY...]": one key for all, or one per endpoint (64 hex digits or a
  // public-key file each), pinned.
  std::vector<common::PublicKey> parent_keys;
  std::string job_id;              // job: the job expected there (empty: the one it runs)
  double heartbeat_s = 2;          // to the parent
  double connect_timeout_s = 120;  // to register with the parent (0: forever)
  double margin_s = 2;             // the level's collection ends this long before the parent's deadline
  JobConfig level;                 // this level's sections (rule default "median")
};
Result<EdgeConfig> load_edge_config(const std::filesystem::path& path);
Result<EdgeConfig> parse_edge_config(std::string_view text, const std::string& source_name,
                                     const std::filesystem::path& base_dir);

// Relative paths in the file (data.dir, output.dir, output.*_key, enrolment.allow_files, a
// "torchscript:<path>" model) are resolved against the folder holding the file, not the
// current directory, so a job runs the same from anywhere.
Result<JobConfig> load_job_config(const std::filesystem::path& path);
// As load_job_config, with relative paths resolved against `base_dir`.
Result<JobConfig> parse_job_config(std::string_view text, const std::string& source_name,
                                   const std::filesystem::path& base_dir);

}  // namespace fl::coordinator
