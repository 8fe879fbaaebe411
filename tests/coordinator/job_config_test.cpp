#include <gtest/gtest.h>

#include <fstream>

#include "fl/coordinator/job_config.hpp"

namespace fl::coordinator {
namespace {

Result<JobConfig> parse(const std::string& body) {
  return parse_job_config("[job]\nid = \"j\"\n" + body, "job.toml", "/base");
}

TEST(JobConfig, DefaultsNeedAnExplicitEnrolmentPolicy) {
  auto cfg = parse("");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("enrolment.open = true explicitly"), std::string::npos);
}

TEST(JobConfig, OpenEnrolmentWithDefaults) {
  auto cfg = parse("[enrolment]\nopen = true\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->rule, "median");  // robust by default
  EXPECT_EQ(cfg->output_dir, std::filesystem::path("/base/runs/j"));
  EXPECT_EQ(cfg->coordinator_key, std::filesystem::path("/base/runs/j/keys/coordinator.key"));
}

TEST(JobConfig, ADpJobDefaultsToFedavgAndAnExplicitRuleIsKept) {
  const std::string open = "[enrolment]\nopen = true\n";
  const std::string dp = "[privacy]\nmode = \"central\"\ntarget_epsilon = 8.0\n";
  auto dp_job = parse(open + dp);
  ASSERT_TRUE(dp_job.ok()) << dp_job.error().to_string();
  EXPECT_EQ(dp_job->rule, "fedavg");  // the rule the accountant's epsilon is proven for
  auto chosen = parse(open + dp + "[aggregation]\nrule = \"trimmed_mean\"\n");
  ASSERT_TRUE(chosen.ok()) << chosen.error().to_string();
  EXPECT_EQ(chosen->rule, "trimmed_mean");
}

TEST(JobConfig, TermsSectionIsReadAndBadCoordinatorKeysAreNamed) {
  const std::string open = "[enrolment]\nopen = true\n";
  auto cfg = parse(open + "[terms]\npurpose = \"p\"\nretention_days = 3\nreaders = [\"auditors\"]\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->terms.purpose, "p");
  EXPECT_EQ(cfg->terms.retention_days, 3u);
  EXPECT_EQ(cfg->terms.readers, std::vector<std::string>{"auditors"});
  auto bad = parse(open + "[terms]\ncoordinators = [\"nothex\"]\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("terms.coordinators[0]"), std::string::npos) << bad.error().message;
}

TEST(JobConfig, LedgerOnEtcdReadsTheMembersChainAndLeaseAndDefaultsToSqlite) {
  auto embedded = parse("[enrolment]\nopen = true\n");
  ASSERT_TRUE(embedded.ok()) << embedded.error().to_string();
  EXPECT_TRUE(embedded->ledger_etcd.empty());
  auto cfg = parse("[enrolment]\nopen = true\n[ledger]\netcd = \"http://127.0.0.1:2379, "
                   "http://127.0.0.1:22379\"\nchain = \"fed\"\nlease_ttl_s = 4\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->ledger_etcd,
            (std::vector<std::string>{"http://127.0.0.1:2379", "http://127.0.0.1:22379"}));
  EXPECT_EQ(cfg->ledger_chain, "fed");
  EXPECT_EQ(cfg->ledger_lease_ttl_s, 4);
}

TEST(JobConfig, LedgerEtcdThatIsNotAListOfUrlsNamesTheKeyAndTheForm) {
  auto cfg = parse("[enrolment]\nopen = true\n[ledger]\netcd = \"127.0.0.1:2379\"\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("ledger.etcd"), std::string::npos) << cfg.error().message;
  EXPECT_NE(cfg.error().message.find("http://HOST:PORT"), std::string::npos) << cfg.error().message;
}

TEST(JobConfig, StoreListenTakesAZeroMqEndpointAndNamesTheKeyWhenItIsNot) {
  auto none = parse("[enrolment]\nopen = true\n");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->ledger_store_listen.empty()) << "the store is not served unless asked";
  auto cfg = parse("[enrolment]\nopen = true\n[ledger]\nstore_listen = \"tcp://127.0.0.1:7300\"\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->ledger_store_listen, "tcp://127.0.0.1:7300");
  auto bad = parse("[enrolment]\nopen = true\n[ledger]\nstore_listen = \"127.0.0.1:7300\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("ledger.store_listen"), std::string::npos) << bad.error().message;
}

TEST(JobConfig, AllowListTakesHexKeys) {
  auto cfg = parse("[enrolment]\nallow = [\"" + std::string(64, 'a') + "\"]\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  ASSERT_EQ(cfg->allowed_workers.size(), 1u);
}

TEST(JobConfig, MalformedAllowedKeyNamesItsIndex) {
  auto cfg = parse("[enrolment]\nallow = [\"abc\"]\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("job.toml: enrolment.allow[0]"), std::string::npos) << cfg.error().message;
}

TEST(JobConfig, ReadsEnrolmentLimitsAndTheSamplingRequirement) {
  auto cfg = parse("[enrolment]\nopen = true\nmax_new_per_minute = 30\nmax_new_per_source_per_minute = 3\n"
                   "min_stake = 500\napproval_file = \"approved.txt\"\nnewcomer_share = 0.1\n"
                   "[limits]\npeer_messages_per_s = 20\npeer_burst = 40\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->enrolment_limits.new_keys_per_minute, 30);
  EXPECT_EQ(cfg->enrolment_limits.new_keys_per_source_per_minute, 3);
  EXPECT_EQ(cfg->sampling_requirement.min_stake, 500u);
  EXPECT_EQ(cfg->sampling_requirement.approval_file, std::filesystem::path("/base/approved.txt"));
  EXPECT_EQ(cfg->sampling_requirement.newcomer_share, 0.1);
  EXPECT_EQ(cfg->peer_messages.per_second, 20);
  EXPECT_EQ(cfg->peer_messages.burst, 40);
}

TEST(JobConfig, ANewcomerShareAboveOneIsRefused) {
  auto cfg = parse("[enrolment]\nopen = true\nnewcomer_share = 1.5\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("enrolment.newcomer_share"), std::string::npos) << cfg.error().message;
}

TEST(JobConfig, MissingJobIdIsNamed) {
  auto cfg = parse_job_config("[enrolment]\nopen = true\n", "job.toml", "/");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message, "job.toml: job.id is required");
}

TEST(JobConfig, NegativeLearningRateIsRejected) {
  auto cfg = parse("[training]\nlearning_rate = -1.0\n[enrolment]\nopen = true\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("training.learning_rate"), std::string::npos);
}

TEST(JobConfig, SoftDeadlineAfterDeadlineIsRejected) {
  auto cfg = parse("[round]\nsoft_deadline_s = 50\ndeadline_s = 10\n[enrolment]\nopen = true\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("round.soft_deadline_s"), std::string::npos);
}

TEST(JobConfig, ScorerDefaultsToOutputShapleyAndUnknownOnesAreRejected) {
  auto cfg = parse("[enrolment]\nopen = true\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->scoring.scorer, "output_shapley");
  auto bad = parse("[scoring]\nscorer = \"shapley\"\n[enrolment]\nopen = true\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("scoring.scorer"), std::string::npos) << bad.error().message;
}

TEST(JobConfig, TrainingSettingsComeFromTheSharedReader) {
  auto cfg = parse("[training]\nepochs = 3\nmax_steps = 10\n[enrolment]\nopen = true\n");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->training.epochs, 3);
  EXPECT_EQ(cfg->training.max_steps, 10);
  EXPECT_EQ(cfg->training.batch_size, 64);
}

TEST(JobConfig, RelativePathsResolveAgainstTheConfigFolder) {
  auto ok = parse_job_config(
      "[job]\nid = \"j\"\nmodel = \"torchscript:models/m.pt\"\n"
      "[data]\ndir = \"data/fmnist\"\n[enrolment]\nopen = true\n"
      "[output]\ndir = \"out\"\ncoordinator_key = \"keys/c.key\"\n"
      "researcher_key = \"/abs/r.key\"\n",
      "job.toml", "/base");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->model, "torchscript:/base/models/m.pt");
  EXPECT_EQ(ok->data, "idx:/base/data/fmnist");
  EXPECT_EQ(ok->output_dir, std::filesystem::path("/base/out"));
  EXPECT_EQ(ok->coordinator_key, std::filesystem::path("/base/keys/c.key"));
  EXPECT_EQ(ok->researcher_key, std::filesystem::path("/abs/r.key"));
}

TEST(JobConfig, LoadResolvesAgainstTheFilesFolderNotTheCurrentDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / "fl_job_config_test" / "conf";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "job.toml") << "[job]\nid = \"j\"\n[data]\ndir = \"data\"\n"
                                     "[enrolment]\nopen = true\n[output]\ndir = \"run\"\n";
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.parent_path());
  auto cfg = load_job_config("conf/job.toml");
  std::filesystem::current_path(cwd);
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->data, "idx:" + (dir / "data").string());
  EXPECT_EQ(cfg->output_dir, dir / "run");
  std::filesystem::remove_all(dir.parent_path());
}

TEST(JobConfig, DataSpecNamesAnyFormatRelativeToTheConfigFolder) {
  auto ok = parse_job_config(
      "[job]\nid = \"j\"\n[data]\nspec = \"csv:d/iris.csv?label=species\"\n"
      "[enrolment]\nopen = true\n",
      "job.toml", "/base");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ(ok->data, "csv:/base/d/iris.csv?label=species");
}

TEST(JobConfig, DataSpecAndDirTogetherAreRefused) {
  auto both = parse_job_config(
      "[job]\nid = \"j\"\n[data]\nspec = \"npz:a.npz\"\ndir = \"b\"\n[enrolment]\nopen = true\n",
      "job.toml", "/base");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("keep one"), std::string::npos) << both.error().message;
}

TEST(JobConfig, UnknownRuleIsRejected) {
  auto cfg = parse("[aggregation]\nrule = \"average-ish\"\n[enrolment]\nopen = true\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("average-ish"), std::string::npos) << cfg.error().message;
}

TEST(JobConfig, MisspeltKeyIsRejected) {
  auto cfg = parse("[training]\nlearnig_rate = 0.1\n[enrolment]\nopen = true\n");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message, "job.toml: unknown key 'training.learnig_rate'");
}

TEST(JobConfig, DeviceIsOverridable) {
  auto cfg = parse_job_config("[job]\nid = \"j\"\ndevice = \"cpu\"\n[enrolment]\nopen = true\n", "job.toml", "/");
  ASSERT_TRUE(cfg.ok()) << cfg.error().to_string();
  EXPECT_EQ(cfg->device, "cpu");
}

TEST(JobConfig, WrongTypeIsRejected) {
  auto cfg = parse("[job.x]\n[round]\nmin_workers = \"three\"\n[enrolment]\nopen = true\n");
  ASSERT_FALSE(cfg.ok());
}

}  // namespace
}  // namespace fl::coordinator

namespace fl::coordinator {
namespace {

TEST(JobConfigNetwork, CurveIsOnAndConnectionsAreBoundedByDefault) {
  auto cfg = parse_job_config("[job]\nid = \"j\"\n[enrolment]\nopen = true\n", "job.toml", "/");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_FALSE(cfg->plaintext);
  EXPECT_EQ(cfg->max_connections_per_address, 64u);
  EXPECT_EQ(cfg->register_timeout_s, 10);
}

TEST(JobConfigNetwork, PlaintextMustBeAskedForByName) {
  auto cfg = parse_job_config("[job]\nid = \"j\"\n[enrolment]\nopen = true\n[network]\nplaintext = true\n"
                              "max_connections_per_address = 8\n",
                              "job.toml", "/");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  EXPECT_TRUE(cfg->plaintext);
  EXPECT_EQ(cfg->max_connections_per_address, 8u);
}

}  // namespace
}  // namespace fl::coordinator
