#include "fl/coordinator/job_config.hpp"

#include "fl/models/dataset_spec.hpp"

#include <fstream>
#include <sstream>

#include "fl/common/config_table.hpp"
#include "fl/common/text_file.hpp"
#include "fl/coordinator/aggregation/rule_config.hpp"
#include "fl/coordinator/contribution.hpp"
#include "fl/ledger/http_server.hpp"
#include "fl/ledger/replicated_block_store.hpp"

namespace fl::coordinator {

namespace {

using common::ConfigTable;
using common::resolve_config_path;

using common::resolve_model_spec;

Status read_enrolment(const ConfigTable& section, const std::filesystem::path& base_dir, JobConfig& job) {
  FL_ASSIGN_OR_RETURN(job.open_enrolment, section.boolean("open", false));
  FL_ASSIGN_OR_RETURN(auto keys, section.text_list("allow", std::vector<std::string>{}));
  FL_ASSIGN_OR_RETURN(auto files, section.text_list("allow_files", std::vector<std::string>{}));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto key = common::public_key_from_hex(keys[i]);
    if (!key.ok()) return make_error(ErrorCode::kInvalidArgument, section.where("allow") + "[" +
                                                                      std::to_string(i) + "]: " + key.error().message);
    job.allowed_workers.push_back(*key);
  }
  for (const auto& file : files) {
    auto key = common::load_public_key_file(resolve_config_path(base_dir, file));
    if (!key.ok()) return with_context(key.error(), section.where("allow_files"));
    job.allowed_workers.push_back(*key);
  }
  auto& lim = job.enrolment_limits;
  FL_ASSIGN_OR_RETURN(lim.new_keys_per_minute, section.number("max_new_per_minute", lim.new_keys_per_minute, 0, 1e9));
  FL_ASSIGN_OR_RETURN(lim.new_keys_per_source_per_minute,
                      section.number("max_new_per_source_per_minute", lim.new_keys_per_source_per_minute, 0, 1e9));
  auto& req = job.sampling_requirement;
  FL_ASSIGN_OR_RETURN(auto min_stake, section.integer("min_stake", 0, 0, INT64_MAX));
  req.min_stake = static_cast<std::uint64_t>(min_stake);
  FL_ASSIGN_OR_RETURN(auto approvals, section.text("approval_file", ""));
  if (!approvals.empty()) req.approval_file = resolve_config_path(base_dir, approvals);
  FL_ASSIGN_OR_RETURN(req.newcomer_share, section.number("newcomer_share", req.newcomer_share, 0, 1));
  if (!job.open_enrolment && job.allowed_workers.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      section.where("allow") + ": no worker keys allowed; list keys in enrolment.allow / "
                                               "enrolment.allow_files or set enrolment.open = true explicitly");
  }
  return ok_status();
}

Status read_terms(const ConfigTable& section, const std::filesystem::path& base_dir, TermsSettings& terms) {
  FL_ASSIGN_OR_RETURN(terms.purpose, section.text("purpose", ""));
  FL_ASSIGN_OR_RETURN(terms.data, section.text("data", ""));
  FL_ASSIGN_OR_RETURN(auto days, section.integer("retention_days", 7, 0, 36'500));
  terms.retention_days = static_cast<std::uint64_t>(days);
  FL_ASSIGN_OR_RETURN(terms.readers, section.text_list("readers", std::vector<std::string>{}));
  FL_ASSIGN_OR_RETURN(auto keys, section.text_list("coordinators", std::vector<std::string>{}));
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto key = common::public_key_from_text(keys[i], base_dir);
    if (!key.ok()) {
      return with_context(key.error(), section.where("coordinators") + "[" + std::to_string(i) +
                                           "] (64 hex digits or a public-key file)");
    }
    terms.coordinators.push_back(*key);
  }
  return ok_status();
}

// [round], [limits] and [network]: what a job's coordinator and an edge coordinator read alike.
Status read_round(const ConfigTable& cfg, JobConfig& job) {
  FL_ASSIGN_OR_RETURN(auto r, cfg.section("round"));
  FL_ASSIGN_OR_RETURN(job.sample_fraction, r.number("sample_fraction", 1.0, 1e-6, 1.0));
  FL_ASSIGN_OR_RETURN(auto min_workers, r.integer("min_workers", 2, 1, 100000));
  job.min_workers = static_cast<int>(min_workers);
  FL_ASSIGN_OR_RETURN(job.quorum_fraction, r.number("quorum_fraction", 0.5, 1e-6, 1.0));
  FL_ASSIGN_OR_RETURN(job.soft_deadline_s, r.number("soft_deadline_s", 30, 0, 1e6));
  FL_ASSIGN_OR_RETURN(job.deadline_s, r.number("deadline_s", 120, 0.1, 1e6));
  if (job.soft_deadline_s > job.deadline_s) {
    return make_error(ErrorCode::kInvalidArgument, r.where("soft_deadline_s") + " (" +
                                                       std::to_string(job.soft_deadline_s) +
                                                       ") must not exceed round.deadline_s");
  }
  FL_ASSIGN_OR_RETURN(job.registration_wait_s, r.number("registration_wait_s", 60, 0, 1e6));
  FL_ASSIGN_OR_RETURN(job.heartbeat_timeout_s, r.number("heartbeat_timeout_s", 15, 0.1, 1e6));
  return ok_status();
}

Status read_limits(const ConfigTable& cfg, JobConfig& job) {
  FL_ASSIGN_OR_RETURN(auto l, cfg.section("limits"));
  FL_ASSIGN_OR_RETURN(auto max_mb, l.integer("max_message_mb", 64, 1, 16384));
  job.max_message_bytes = static_cast<std::uint64_t>(max_mb) << 20;
  FL_ASSIGN_OR_RETURN(auto max_samples, l.integer("max_samples_per_update", 10'000'000, 1, INT64_MAX));
  job.max_samples_per_update = static_cast<std::uint64_t>(max_samples);
  FL_ASSIGN_OR_RETURN(job.max_update_norm, l.number("max_update_norm", 0, 0, 1e30));
  FL_ASSIGN_OR_RETURN(job.peer_messages.per_second,
                      l.number("peer_messages_per_s", job.peer_messages.per_second, 0, 1e9));
  FL_ASSIGN_OR_RETURN(job.peer_messages.burst, l.number("peer_burst", job.peer_messages.burst, 1, 1e9));
  return ok_status();
}

Status read_network(const ConfigTable& cfg, JobConfig& job) {
  FL_ASSIGN_OR_RETURN(auto n, cfg.section("network"));
  FL_ASSIGN_OR_RETURN(job.bind, n.text("bind", job.bind));
  FL_ASSIGN_OR_RETURN(job.plaintext, n.boolean("plaintext", false));
  FL_ASSIGN_OR_RETURN(auto max_conn, n.integer("max_connections", 20000, 1, 10'000'000));
  job.max_connections = static_cast<std::size_t>(max_conn);
  FL_ASSIGN_OR_RETURN(auto per_address, n.integer("max_connections_per_address", 64, 1, 10'000'000));
  job.max_connections_per_address = static_cast<std::size_t>(per_address);
  FL_ASSIGN_OR_RETURN(job.register_timeout_s, n.number("register_timeout_s", 10, 0.1, 3600));
  return ok_status();
}

Result<JobConfig> parse(const ConfigTable& cfg, const std::filesystem::path& base_dir) {
  JobConfig job;
  FL_ASSIGN_OR_RETURN(auto j, cfg.section("job"));
  FL_ASSIGN_OR_RETURN(job.job_id, j.text("id"));
  if (job.job_id.empty() || job.job_id.size() > 128) {
    return make_error(ErrorCode::kInvalidArgument, j.where("id") + " must be 1 to 128 characters");
  }
  FL_ASSIGN_OR_RETURN(auto model, j.text("model", "mlp"));
  job.model = resolve_model_spec(base_dir, model);
  FL_ASSIGN_OR_RETURN(auto rounds, j.integer("rounds", 10, 1, 1'000'000));
  job.rounds = static_cast<int>(rounds);
  FL_ASSIGN_OR_RETURN(auto seed, j.integer("seed", 1, 0, INT64_MAX));
  job.seed = static_cast<std::uint64_t>(seed);
  FL_ASSIGN_OR_RETURN(job.device, j.text("device", job.device));

  FL_ASSIGN_OR_RETURN(auto d, cfg.section("data"));
  if (d.has("spec") && d.has("dir")) {
    return make_error(ErrorCode::kInvalidArgument,
                      d.where("spec") + " and data.dir both name the data; keep one (dir = \"DIR\" "
                                        "is the same as spec = \"idx:DIR\")");
  }
  FL_ASSIGN_OR_RETURN(auto dir, d.text("dir", ""));
  FL_ASSIGN_OR_RETURN(auto spec, d.text("spec", dir.empty() ? job.data : "idx:" + dir));
  job.data = models::resolve_dataset_spec(base_dir, spec);
  FL_ASSIGN_OR_RETURN(job.eval_limit, d.integer("eval_limit", 0, 0, INT64_MAX));

  FL_ASSIGN_OR_RETURN(auto t, cfg.section("training"));
  FL_RETURN_IF_ERROR(common::read_training_settings(t, job.training));

  FL_RETURN_IF_ERROR(read_round(cfg, job));

  FL_ASSIGN_OR_RETURN(auto a, cfg.section("aggregation"));
  FL_ASSIGN_OR_RETURN(job.rule, a.text("rule", job.rule));
  job.rule_options.seed = job.seed;
  FL_RETURN_IF_ERROR(read_rule_options(a, job.rule_options));
  FL_RETURN_IF_ERROR(read_close_settings(a, job.close));
  FL_RETURN_IF_ERROR(make_rule(job.rule, job.rule_options));  // the spec itself must parse

  FL_ASSIGN_OR_RETURN(auto privacy, cfg.section("privacy"));
  FL_RETURN_IF_ERROR(read_client_dp_settings(privacy, job.seed, job.close.privacy));
  // A DP job's accounted epsilon is a proven bound for the mean of the noisy sum only, so its
  // default rule is fedavg (README, "Robust rules under DP").
  if (!a.has("rule") && job.close.privacy.enabled()) job.rule = "fedavg";
  if (job.close.privacy.mode == DpPlacement::kDistributed &&
      job.close.privacy.min_workers > job.min_workers) {
    return make_error(ErrorCode::kInvalidArgument,
                      privacy.where("min_workers") + " (" +
                          std::to_string(job.close.privacy.min_workers) +
                          ") exceeds round.min_workers (" + std::to_string(job.min_workers) +
                          "): rounds would sample fewer workers than distributed DP needs");
  }

  FL_ASSIGN_OR_RETURN(auto sc, cfg.section("scoring"));
  FL_RETURN_IF_ERROR(read_scoring_settings(sc, job.scoring));

  FL_RETURN_IF_ERROR(read_limits(cfg, job));

  FL_ASSIGN_OR_RETURN(auto e, cfg.section("enrolment"));
  FL_RETURN_IF_ERROR(read_enrolment(e, base_dir, job));

  FL_RETURN_IF_ERROR(read_network(cfg, job));

  FL_ASSIGN_OR_RETURN(auto http, cfg.section("http"));
  FL_ASSIGN_OR_RETURN(job.http_listen, http.text("listen", ""));
  if (!job.http_listen.empty()) {
    if (auto a = ledger::parse_listen(job.http_listen); !a.ok()) return with_context(a.error(), http.where("listen"));
  }
  FL_ASSIGN_OR_RETURN(job.http_token, http.text("token", ""));
  FL_ASSIGN_OR_RETURN(job.http_linger_s, http.number("linger_s", 0, 0, 86400));
  if (!job.http_token.empty() && job.http_token.size() < 16) {
    return make_error(ErrorCode::kInvalidArgument,
                      http.where("token") + " must be at least 16 characters (or leave it out to have one generated)");
  }

  FL_ASSIGN_OR_RETURN(auto led, cfg.section("ledger"));
  FL_ASSIGN_OR_RETURN(job.ledger_enabled, led.boolean("enabled", true));
  FL_ASSIGN_OR_RETURN(auto reward, led.integer("reward_per_round", 1000, 0, INT64_MAX / 1'000'000));
  job.reward_per_round = static_cast<std::uint64_t>(reward);
  FL_ASSIGN_OR_RETURN(auto bounty, led.integer("bounty", 0, 0, INT64_MAX / 2));
  job.bounty = static_cast<std::uint64_t>(bounty);
  FL_ASSIGN_OR_RETURN(job.slashable_fraction, led.number("slashable_fraction", 0.5, 0, 1));
  FL_ASSIGN_OR_RETURN(auto etcd, led.text("etcd", ""));
  FL_ASSIGN_OR_RETURN(job.ledger_etcd, ledger::parse_etcd_endpoints(etcd, led.where("etcd")));
  FL_ASSIGN_OR_RETURN(job.ledger_chain, led.text("chain", "main"));
  if (job.ledger_chain.empty() || job.ledger_chain.find('/') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      led.where("chain") + " must be a non-empty name without '/', e.g. \"main\"");
  }
  FL_ASSIGN_OR_RETURN(job.ledger_lease_ttl_s, led.number("lease_ttl_s", 10, 2, 3600));
  FL_ASSIGN_OR_RETURN(auto consortium_file, led.text("consortium", ""));
  if (!consortium_file.empty()) {
    auto consortium = ledger::load_consortium_file(resolve_config_path(base_dir, consortium_file));
    if (!consortium.ok()) return with_context(consortium.error(), led.where("consortium"));
    job.ledger_consortium = std::move(consortium).value();
  }
  FL_ASSIGN_OR_RETURN(job.ledger_store_listen, led.text("store_listen", ""));
  // The full check is the bind at start; this one catches the usual slip early, by name.
  const auto& sl = job.ledger_store_listen;
  if (!sl.empty() && (!sl.starts_with("tcp://") || sl.find(':', 6) == std::string::npos)) {
    return make_error(ErrorCode::kInvalidArgument, led.where("store_listen") + " is '" + sl +
                                                       "': expected tcp://HOST:PORT, e.g. \"tcp://127.0.0.1:7300\"");
  }

  FL_ASSIGN_OR_RETURN(auto terms, cfg.section("terms"));
  FL_RETURN_IF_ERROR(read_terms(terms, base_dir, job.terms));

  FL_ASSIGN_OR_RETURN(auto o, cfg.section("output"));
  FL_ASSIGN_OR_RETURN(auto out_dir, o.text("dir", "runs/" + job.job_id));
  job.output_dir = resolve_config_path(base_dir, out_dir);
  FL_ASSIGN_OR_RETURN(auto ckey, o.text("coordinator_key", ""));
  job.coordinator_key = ckey.empty() ? job.output_dir / "keys" / "coordinator.key"
                                     : resolve_config_path(base_dir, ckey);
  FL_ASSIGN_OR_RETURN(auto rkey, o.text("researcher_key", ""));
  job.researcher_key = rkey.empty() ? job.coordinator_key : resolve_config_path(base_dir, rkey);
  FL_ASSIGN_OR_RETURN(job.log_level, o.text("log_level", "info"));
  FL_ASSIGN_OR_RETURN(auto eval_threads, o.integer("eval_threads", 0, 0, 1024));
  job.eval_threads = static_cast<int>(eval_threads);
  FL_ASSIGN_OR_RETURN(job.live_table, o.boolean("live_table", true));

  FL_RETURN_IF_ERROR(cfg.reject_unknown_keys());
  return job;
}

Result<EdgeConfig> parse_edge(const ConfigTable& cfg, const std::filesystem::path& base_dir) {
  EdgeConfig edge;
  FL_ASSIGN_OR_RETURN(auto eg, cfg.section("edge"));
  FL_ASSIGN_OR_RETURN(auto parents, eg.text("parent"));
  for (auto& p : common::split_list(parents)) {
    if (!p.starts_with("tcp://") || p.find(':', 6) == std::string::npos) {
      return make_error(ErrorCode::kInvalidArgument, eg.where("parent") + " names '" + p +
                                                         "': expected the job owner's endpoint, tcp://HOST:PORT "
                                                         "(several, for a federation: tcp://A:P,tcp://B:P)");
    }
    edge.parents.push_back(std::move(p));
  }
  FL_ASSIGN_OR_RETURN(auto parent_keys, eg.text("parent_key"));
  for (const auto& k : common::split_list(parent_keys)) {
    auto key = common::public_key_from_text(k, base_dir);
    if (!key.ok()) return with_context(key.error(), eg.where("parent_key") + " (64 hex digits or a public-key file)");
    edge.parent_keys.push_back(*key);
  }
  if (edge.parent_keys.size() == 1) edge.parent_keys.resize(edge.parents.size(), edge.parent_keys.front());
  if (edge.parent_keys.size() != edge.parents.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      eg.where("parent_key") + " names " + std::to_string(edge.parent_keys.size()) + " keys for " +
                          std::to_string(edge.parents.size()) + " endpoints in edge.parent: give one key, or one per endpoint");
  }
  FL_ASSIGN_OR_RETURN(edge.job_id, eg.text("job", ""));
  FL_ASSIGN_OR_RETURN(edge.heartbeat_s, eg.number("heartbeat_s", edge.heartbeat_s, 0.05, 3600));
  FL_ASSIGN_OR_RETURN(edge.connect_timeout_s, eg.number("connect_timeout_s", edge.connect_timeout_s, 0, 1e6));
  FL_ASSIGN_OR_RETURN(edge.margin_s, eg.number("margin_s", edge.margin_s, 0, 3600));

  auto& job = edge.level;
  FL_RETURN_IF_ERROR(read_round(cfg, job));
  FL_ASSIGN_OR_RETURN(auto a, cfg.section("aggregation"));
  FL_ASSIGN_OR_RETURN(job.rule, a.text("rule", job.rule));
  FL_RETURN_IF_ERROR(read_rule_options(a, job.rule_options));
  FL_RETURN_IF_ERROR(read_close_settings(a, job.close));
  if (job.close.server_learning_rate != 1.0 || job.close.bounds.rescale_to_reference) {
    return make_error(ErrorCode::kInvalidArgument,
                      a.where("server_learning_rate") + " and aggregation.rescale_to_reference are the job owner's: an "
                                                        "edge forwards what its rule combines, unscaled");
  }
  FL_RETURN_IF_ERROR(make_rule(job.rule, job.rule_options));
  FL_RETURN_IF_ERROR(read_limits(cfg, job));
  FL_ASSIGN_OR_RETURN(auto e, cfg.section("enrolment"));
  FL_RETURN_IF_ERROR(read_enrolment(e, base_dir, job));
  FL_RETURN_IF_ERROR(read_network(cfg, job));
  FL_ASSIGN_OR_RETURN(auto o, cfg.section("output"));
  FL_ASSIGN_OR_RETURN(auto out_dir, o.text("dir", "runs/edge"));
  job.output_dir = resolve_config_path(base_dir, out_dir);
  FL_ASSIGN_OR_RETURN(auto ckey, o.text("coordinator_key", ""));
  job.coordinator_key =
      ckey.empty() ? job.output_dir / "keys" / "edge.key" : resolve_config_path(base_dir, ckey);
  FL_ASSIGN_OR_RETURN(job.log_level, o.text("log_level", "info"));
  if (auto unknown = cfg.reject_unknown_keys(); !unknown.ok()) {
    return make_error(ErrorCode::kInvalidArgument,
                      unknown.error().message +
                          " (an edge config has [edge], [round], [aggregation], [limits], [enrolment], [network] and "
                          "[output]; the model, data, training, rounds and terms come from the job's owner)");
  }
  return edge;
}

}  // namespace

Result<EdgeConfig> parse_edge_config(std::string_view text, const std::string& source_name,
                                     const std::filesystem::path& base_dir) {
  FL_ASSIGN_OR_RETURN(auto cfg, ConfigTable::parse_text(text, source_name));
  return parse_edge(cfg, base_dir);
}

Result<EdgeConfig> load_edge_config(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(auto text, common::read_text_file(path));
  std::error_code ec;
  auto folder = std::filesystem::absolute(path, ec).parent_path();
  if (ec) folder = path.parent_path();
  return parse_edge_config(text, path.string(), folder);
}

Result<JobConfig> parse_job_config(std::string_view text, const std::string& source_name,
                                   const std::filesystem::path& base_dir) {
  FL_ASSIGN_OR_RETURN(auto cfg, ConfigTable::parse_text(text, source_name));
  return parse(cfg, base_dir);
}

Result<JobConfig> load_job_config(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::kNotFound, "config file " + path.string() + " cannot be opened");
  std::stringstream text;
  text << in.rdbuf();
  // Relative paths in the file are relative to the file's folder.
  std::error_code ec;
  auto folder = std::filesystem::absolute(path, ec).parent_path();
  if (ec) folder = path.parent_path();
  return parse_job_config(text.str(), path.string(), folder);
}

}  // namespace fl::coordinator
