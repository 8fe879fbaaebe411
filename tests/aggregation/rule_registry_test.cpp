// rule_registry: every component is reachable by name, its parameters round-trip through specs
// and configs, and the bounds are the same for a spec, a config and the checks.
#include "fl/coordinator/aggregation/rule_registry.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "fl/common/config_table.hpp"
#include "fl/coordinator/aggregation/rule_config.hpp"

namespace fl::coordinator {
namespace {

using ::testing::HasSubstr;

RuleOptions usable_options() {
  RuleOptions o;
  o.clip_norm = 1;  // the one parameter without a usable default
  return o;
}

TEST(RuleRegistry, EveryComponentHasAUniqueNameAndAFunction) {
  std::set<std::string_view> names;
  for (const auto* d : rule_registry()) {
    EXPECT_TRUE(names.insert(d->name).second) << d->name;
    EXPECT_EQ(d->kind == ComponentKind::kRule, d->rule != nullptr) << d->name;
    EXPECT_EQ(d->kind == ComponentKind::kStep, d->step != nullptr) << d->name;
    EXPECT_FALSE(d->help.empty()) << d->name;
    EXPECT_EQ(find_rule_component(d->name), d);
  }
  EXPECT_EQ(find_rule_component("nope"), nullptr);
}

TEST(RuleRegistry, EveryComponentsCanonicalNameParsesBackToItself) {
  for (const auto* d : rule_registry()) {
    const std::string spec =
        d->kind == ComponentKind::kRule ? std::string(d->name) : std::string(d->name) + "+fedavg";
    auto rule = make_rule(spec, usable_options());
    ASSERT_TRUE(rule.ok()) << spec << ": " << rule.error().to_string();
    auto again = make_rule((*rule)->name(), RuleOptions{});
    ASSERT_TRUE(again.ok()) << (*rule)->name() << ": " << again.error().to_string();
    EXPECT_EQ((*again)->name(), (*rule)->name());
  }
}

TEST(RuleRegistry, OptionKeysAreUniqueAndIncludeTheSharedOnes) {
  std::set<std::string_view> keys;
  for (const auto* p : rule_option_params()) EXPECT_TRUE(keys.insert(p->option_key).second);
  for (const char* key : {"f", "threads", "seed", "cclip_tau", "bucket_size", "clip_norm"}) {
    EXPECT_TRUE(keys.contains(key)) << key;
  }
}

TEST(RuleRegistry, ConfigAndSpecRejectTheSameOutOfBoundsValue) {
  auto table = common::ConfigTable::parse_text("cclip_tau = 0.0\n", "job.toml");
  ASSERT_TRUE(table.ok());
  RuleOptions o;
  auto st = read_rule_options(*table, o);
  ASSERT_FALSE(st.ok());
  EXPECT_THAT(st.error().message, HasSubstr("cclip_tau"));
  auto rule = make_rule("cclip(tau=0)", RuleOptions{});
  ASSERT_FALSE(rule.ok());
  EXPECT_THAT(rule.error().message, HasSubstr("tau must be > 0"));
}

TEST(RuleRegistry, ConfigReadsEveryOptionKeyIntoItsField) {
  auto table = common::ConfigTable::parse_text(
      "f = 3\nmultikrum_m = 5\ngeomed_nu = 0.5\ncclip_iters = 4\nbucket_size = 3\n"
      "clip_norm = 2.5\nthreads = 2\n",
      "job.toml");
  ASSERT_TRUE(table.ok());
  RuleOptions o;
  ASSERT_TRUE(read_rule_options(*table, o).ok());
  EXPECT_EQ(o.f, 3);
  EXPECT_EQ(o.multikrum_m, 5);
  EXPECT_DOUBLE_EQ(o.geomed_nu, 0.5);
  EXPECT_EQ(o.cclip_iters, 4);
  EXPECT_EQ(o.bucket_size, 3);
  EXPECT_DOUBLE_EQ(o.clip_norm, 2.5);
  EXPECT_EQ(o.threads, 2);
}

TEST(RuleRegistry, UnknownComponentErrorListsTheRegistry) {
  auto rule = make_rule("krumm", RuleOptions{});
  ASSERT_FALSE(rule.ok());
  EXPECT_THAT(rule.error().message,
              HasSubstr("rules: fedavg, median, trimmed_mean, krum, multikrum, geomed, bulyan, "
                        "cclip; steps: nnm, bucketing, clip, arc"));
}

}  // namespace
}  // namespace fl::coordinator
