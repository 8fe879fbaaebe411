// make_rule: the spec grammar, canonical names and configuration errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "updates.hpp"

namespace fl::coordinator {
namespace {

using ::testing::HasSubstr;

std::string name_of(std::string_view spec, RuleOptions o = {}) {
  auto rule = make_rule(spec, o);
  EXPECT_TRUE(rule.ok()) << spec << ": " << (rule.ok() ? "" : rule.error().to_string());
  return rule.ok() ? (*rule)->name() : "";
}

TEST(RuleSpec, NamesTheRuleWithItsParameters) {
  RuleOptions o;
  o.f = 4;
  EXPECT_EQ(name_of("nnm+trimmed_mean", o), "nnm+trimmed_mean(f=4)");
  EXPECT_EQ(name_of("fedavg", o), "fedavg");
  EXPECT_EQ(name_of("krum", o), "krum(f=4)");
  EXPECT_EQ(name_of("multikrum(m=7)", o), "multikrum(f=4,m=7)");
  EXPECT_EQ(name_of("geomed"), "geomed(f=0,nu=1e-06,max_iter=100,tol=1e-06)");
  EXPECT_EQ(name_of("bucketing+cclip"), "bucketing(s=2,seed=0)+cclip(tau=10,iters=1)");
  EXPECT_EQ(name_of("clip(norm=2.5)+median"), "clip(norm=2.5)+median(f=0)");
}

TEST(RuleSpec, PutsFOnTheRuleWhenOnlyAStepUsesIt) {
  RuleOptions o;
  o.f = 2;
  EXPECT_EQ(name_of("arc+fedavg", o), "arc+fedavg(f=2)");
}

TEST(RuleSpec, ParsesItsOwnCanonicalNamesBackToTheSameRule) {
  RuleOptions o;
  o.f = 3;
  o.seed = 9;
  for (const char* spec : {"nnm+trimmed_mean", "bucketing(s=4)+cclip(tau=0.5,iters=3)",
                           "geomed(nu=0.001,max_iter=7,tol=0)", "clip(norm=3)+arc+bulyan",
                           "multikrum(m=5)", "arc+fedavg"}) {
    const std::string name = name_of(spec, o);
    EXPECT_EQ(name_of(name), name);
  }
}

TEST(RuleSpec, ParametersInTheSpecOverrideTheOptions) {
  RuleOptions o;
  o.f = 1;
  EXPECT_EQ(name_of("krum(f=6)", o), "krum(f=6)");
}

TEST(RuleSpec, AcceptsSpacesAroundComponents) {
  EXPECT_EQ(name_of(" nnm + median ( f = 1 ) "), "nnm+median(f=1)");
}

TEST(RuleSpec, RefusesAnUnknownRuleListingTheKnownOnes) {
  auto rule = make_rule("krumm", {});
  ASSERT_FALSE(rule.ok());
  EXPECT_EQ(rule.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(rule.error().message, HasSubstr("'krumm'"));
  EXPECT_THAT(rule.error().message, HasSubstr("trimmed_mean"));
}

TEST(RuleSpec, RefusesAStepInTheLastPlace) {
  auto rule = make_rule("median+nnm", {});
  ASSERT_FALSE(rule.ok());
  EXPECT_THAT(rule.error().message, HasSubstr("'nnm' is a pre-aggregation step"));
}

TEST(RuleSpec, RefusesARuleBeforeTheLastPlace) {
  auto rule = make_rule("krum+median", {});
  ASSERT_FALSE(rule.ok());
  EXPECT_THAT(rule.error().message, HasSubstr("'krum' is a rule"));
}

TEST(RuleSpec, RefusesAnEmptyComponent) {
  EXPECT_FALSE(make_rule("", {}).ok());
  EXPECT_FALSE(make_rule("nnm++median", {}).ok());
}

TEST(RuleSpec, RefusesAParameterTheComponentDoesNotTake) {
  auto rule = make_rule("median(tau=3)", {});
  ASSERT_FALSE(rule.ok());
  EXPECT_THAT(rule.error().message, HasSubstr("unknown parameter 'tau=3'"));
}

TEST(RuleSpec, RefusesAMalformedNumber) {
  auto rule = make_rule("cclip(tau=abc)", {});
  ASSERT_FALSE(rule.ok());
  EXPECT_THAT(rule.error().message, HasSubstr("'abc' is not a valid number"));
}

TEST(RuleSpec, RefusesClippingWithoutANorm) {
  auto rule = make_rule("clip+median", {});
  ASSERT_FALSE(rule.ok());
  EXPECT_THAT(rule.error().message, HasSubstr("clip: needs a norm bound > 0"));
}

TEST(RuleSpec, RefusesNegativeF) {
  RuleOptions o;
  o.f = -1;
  EXPECT_FALSE(make_rule("median", o).ok());
}

TEST(RuleSpec, RefusesOutOfRangeParameters) {
  EXPECT_FALSE(make_rule("cclip(tau=0)", {}).ok());
  EXPECT_FALSE(make_rule("cclip(iters=0)", {}).ok());
  EXPECT_FALSE(make_rule("bucketing(s=0)+median", {}).ok());
  EXPECT_FALSE(make_rule("geomed(nu=0)", {}).ok());
}

}  // namespace
}  // namespace fl::coordinator
