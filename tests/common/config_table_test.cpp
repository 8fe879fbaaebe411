#include <gtest/gtest.h>

#include "fl/common/config_table.hpp"

namespace fl::common {
namespace {

TEST(ConfigTable, ReadsTypedValuesFromSections) {
  auto cfg = ConfigTable::parse_text("[job]\nrounds = 5\nname = \"x\"\nlr = 0.1\n", "job.toml");
  ASSERT_TRUE(cfg.ok());
  auto job = cfg->section("job");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(*job->integer("rounds", std::nullopt, 1, 100), 5);
  EXPECT_EQ(*job->text("name"), "x");
  EXPECT_DOUBLE_EQ(*job->number("lr", std::nullopt, 0, 1), 0.1);
  EXPECT_EQ(*job->integer("missing", 7, 0, 10), 7);
  EXPECT_TRUE(cfg->reject_unknown_keys().ok());
}

TEST(ConfigTable, OutOfRangeValueNamesFileAndKey) {
  auto cfg = ConfigTable::parse_text("[job]\nrounds = 0\n", "job.toml");
  auto r = cfg->section("job")->integer("rounds", std::nullopt, 1, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "job.toml: job.rounds must be in [1, 100], got 0");
}

TEST(ConfigTable, WrongTypeNamesTheKey) {
  auto cfg = ConfigTable::parse_text("lr = \"fast\"\n", "job.toml");
  auto r = cfg->number("lr", std::nullopt, 0, 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("job.toml: lr must be a number, got a string"), std::string::npos);
}

TEST(ConfigTable, MissingRequiredKeyIsAnError) {
  auto cfg = ConfigTable::parse_text("", "job.toml");
  auto r = cfg->text("model");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "job.toml: model is required");
}

TEST(ConfigTable, MisspeltKeyIsRejected) {
  auto cfg = ConfigTable::parse_text("[job]\nrounds = 3\nroudns = 4\n", "job.toml");
  (void)cfg->section("job")->integer("rounds", std::nullopt, 1, 10);
  auto s = cfg->reject_unknown_keys();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message, "job.toml: unknown key 'job.roudns'");
}

TEST(ConfigTable, SyntaxErrorNamesLine) {
  auto cfg = ConfigTable::parse_text("a = 1\nb = = 2\n", "job.toml");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("job.toml:2"), std::string::npos) << cfg.error().message;
}

TEST(ConfigTable, ReadsStringLists) {
  auto cfg = ConfigTable::parse_text("keys = [\"a\", \"b\"]\nbad = [1]\n", "c.toml");
  EXPECT_EQ(cfg->text_list("keys")->size(), 2u);
  auto bad = cfg->text_list("bad");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("bad[0] must be a string"), std::string::npos);
}

}  // namespace
}  // namespace fl::common
