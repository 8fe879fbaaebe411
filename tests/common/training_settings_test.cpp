// training_settings: one reader and one set of bounds for [training], and RoundTask carries the
// settings over the wire unchanged (and refuses ones outside the bounds).
#include "fl/common/training_settings.hpp"

#include <gtest/gtest.h>

#include "fl/common/config_table.hpp"
#include "fl/common/wire.hpp"

namespace fl::common {
namespace {

std::span<const std::uint8_t> bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Result<TrainingSettings> read(const std::string& text, TrainingSettings start = {}) {
  FL_ASSIGN_OR_RETURN(auto table, ConfigTable::parse_text(text, "job.toml"));
  FL_ASSIGN_OR_RETURN(auto section, table.section("training"));
  FL_RETURN_IF_ERROR(read_training_settings(section, start));
  return start;
}

TEST(TrainingSettings, ReadsEveryKey) {
  auto s = read(
      "[training]\nepochs = 3\nbatch_size = 16\nlearning_rate = 0.1\nmomentum = 0.9\n"
      "weight_decay = 0.001\nmax_steps = 40\n");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(*s, (TrainingSettings{.epochs = 3,
                                  .batch_size = 16,
                                  .learning_rate = 0.1,
                                  .momentum = 0.9,
                                  .weight_decay = 0.001,
                                  .max_steps = 40}));
}

TEST(TrainingSettings, AbsentKeysKeepTheCallersDefaults) {
  auto s = read("[training]\nepochs = 2\n", TrainingSettings{.batch_size = 32});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->epochs, 2);
  EXPECT_EQ(s->batch_size, 32);
}

TEST(TrainingSettings, RejectsOutOfBoundsValuesNamingTheKey) {
  auto s = read("[training]\nlearning_rate = -1.0\n");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("training.learning_rate"), std::string::npos);
  auto zero_steps = read("[training]\nmax_steps = 0\n");
  ASSERT_FALSE(zero_steps.ok());
  EXPECT_NE(zero_steps.error().message.find("training.max_steps"), std::string::npos);
}

TEST(TrainingSettings, RoundTaskCarriesThemOverTheWire) {
  RoundTask task;
  task.job_id = "job";
  task.training = {.epochs = 2,
                   .batch_size = 8,
                   .learning_rate = 0.125,
                   .momentum = 0.5,
                   .weight_decay = 0.25,
                   .max_steps = 9};
  task.seed = 77;
  auto decoded = decode<RoundTask>(bytes_of(encode(task)));
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  EXPECT_EQ(decoded->training, task.training);
  EXPECT_EQ(decoded->seed, 77u);
}

TEST(TrainingSettings, DecodingRefusesSettingsOutsideTheBounds) {
  RoundTask task;
  task.training.batch_size = 0;
  EXPECT_FALSE(decode<RoundTask>(bytes_of(encode(task))).ok());
}

}  // namespace
}  // namespace fl::common
