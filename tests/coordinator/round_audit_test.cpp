// The pieces a round audit re-runs a round with: the recipe recorded with each round, the
// content-addressed update store (checked against digests and signatures on every read), and
// the bounds close_round applies before the rule.
#include <gtest/gtest.h>

#include <fstream>

#include "fl/coordinator/round_combine.hpp"
#include "fl/coordinator/round_recipe.hpp"
#include "fl/coordinator/update_store.hpp"
#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

TEST(RoundRecipe, NamesEverySettingThatShapesTheAggregateAndReadsBackExactly) {
  CloseSettings settings;
  settings.server_learning_rate = 0.1;
  settings.bounds.weight_cap = 2.5;
  settings.bounds.norm_multiple = 3;
  const auto recipe = recipe_of("trimmed_mean(f=1)", settings);
  const auto text = recipe_text(recipe);
  EXPECT_EQ(text,
            "trimmed_mean(f=1); server_lr=0.1; weights=backed:2.5; norm_bound=3; "
            "rescale_to_reference=0; dp=0");
  auto back = parse_recipe(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->rule, "trimmed_mean(f=1)");
  EXPECT_EQ(back->server_learning_rate, 0.1);
  EXPECT_EQ(back->bounds.weighting, SampleWeighting::kBacked);
  EXPECT_EQ(back->bounds.weight_cap, 2.5);
  EXPECT_EQ(back->bounds.norm_multiple, 3);
  EXPECT_FALSE(back->dp);
  // A chain recorded before norm-backed claims names "capped" and is audited as capped.
  auto capped = parse_recipe("median; server_lr=1; weights=capped:2; norm_bound=3; rescale_to_reference=0; dp=0");
  ASSERT_TRUE(capped.ok());
  EXPECT_EQ(capped->bounds.weighting, SampleWeighting::kCapped);
  EXPECT_EQ(capped->bounds.weight_cap, 2);
  settings.bounds.weighting = SampleWeighting::kEqual;
  settings.server_learning_rate = 1.0 / 3;
  auto equal = parse_recipe(recipe_text(recipe_of("median", settings)));
  ASSERT_TRUE(equal.ok());
  EXPECT_EQ(equal->bounds.weighting, SampleWeighting::kEqual);
  EXPECT_EQ(equal->server_learning_rate, 1.0 / 3) << "the learning rate survives to the last bit";
}

TEST(RoundRecipe, RefusesABareRuleNameAndMalformedSettingsNamingThem) {
  auto bare = parse_recipe("median");
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("does not record its aggregation settings"),
            std::string::npos);
  const std::string good =
      "median; server_lr=1; weights=equal; norm_bound=3; rescale_to_reference=0; dp=0";
  ASSERT_TRUE(parse_recipe(good).ok());
  for (const auto& [text, needle] : std::vector<std::pair<std::string, std::string>>{
           {"median; server_lr=x; weights=equal; norm_bound=3; rescale_to_reference=0; dp=0",
            "server_lr"},
           {"median; server_lr=1; weights=most; norm_bound=3; rescale_to_reference=0; dp=0",
            "weights"},
           {"median; server_lr=1; weights=equal; norm_bound=3; rescale_to_reference=2; dp=0",
            "rescale_to_reference"},
           {"median; server_lr=1; weights=equal; norm_bound=3; rescale_to_reference=0", "dp"},
           {good + "; colour=blue", "unknown setting 'colour'"},
           {"median; server_lr=1; server_lr=2; weights=equal; norm_bound=3; "
            "rescale_to_reference=0; dp=0",
            "twice"}}) {
    auto r = parse_recipe(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
  }
}

class UpdateStoreTest : public ::testing::Test {
 protected:
  test::TempDir tmp_{"fl-store"};
  UpdateStore store_{tmp_.path() / "store"};
  common::TensorLayout layout_ = test::small_layout();
  common::KeyPair worker_ = common::key_pair_from_label("store-worker");
  test::SignedUpdate update_ = test::make_signed_update(
      worker_, "job", 3, layout_, test::ramp(static_cast<std::size_t>(layout_.numel())));
  common::Digest digest_ = common::update_signing_digest(update_.header);
};

TEST_F(UpdateStoreTest, GivesBackAnUpdateByItsDigestWithItsSignedHeader) {
  ASSERT_TRUE(store_.put_update(update_.header, update_.payload()).ok());
  ASSERT_TRUE(store_.put_update(update_.header, update_.payload()).ok())
      << "a second put is a no-op";
  auto back = store_.update(digest_);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->values, update_.values);
  EXPECT_EQ(back->header.worker_key, worker_.public_key);
  EXPECT_EQ(back->header.round, 3u);
  auto absent = store_.update(common::Digest{});
  ASSERT_FALSE(absent.ok());
  EXPECT_EQ(absent.error().code, ErrorCode::kNotFound);
  EXPECT_NE(absent.error().message.find("is not in the store"), std::string::npos);
}

TEST_F(UpdateStoreTest, RefusesAStoredUpdateWhoseBytesWereChangedOrSwapped) {
  ASSERT_TRUE(store_.put_update(update_.header, update_.payload()).ok());
  const auto path = store_.update_path(digest_);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.put('\x55');
  }
  auto changed = store_.update(digest_);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.error().code, ErrorCode::kCorrupt);
  // Another worker's valid update filed under this digest is not this update.
  auto other = test::make_signed_update(common::key_pair_from_label("other"), "job", 3, layout_,
                                        update_.values);
  ASSERT_TRUE(store_.put_update(other.header, other.payload()).ok());
  std::filesystem::copy_file(store_.update_path(common::update_signing_digest(other.header)), path,
                             std::filesystem::copy_options::overwrite_existing);
  auto swapped = store_.update(digest_);
  ASSERT_FALSE(swapped.ok());
  EXPECT_NE(swapped.error().message.find("another update"), std::string::npos)
      << swapped.error().message;
  test::write_file(path, "not an update");
  EXPECT_EQ(store_.update(digest_).error().code, ErrorCode::kCorrupt);
}

TEST_F(UpdateStoreTest, KeepsModelsByDigestAndRemovesWhatIsPastRetention) {
  const auto values = test::ramp(static_cast<std::size_t>(layout_.numel()), 1.0f);
  const auto digest = common::digest_of(values);
  ASSERT_TRUE(store_.put_model(digest, layout_, values).ok());
  auto back = store_.model(digest);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, values);
  EXPECT_EQ(store_.model(common::Digest{}).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_.put_update(update_.header, update_.payload()).ok());
  EXPECT_EQ(*store_.remove_older_than(1), 0u) << "both were written just now";
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(49);
  std::filesystem::last_write_time(store_.model_path(digest), old);
  EXPECT_EQ(*store_.remove_older_than(2), 1u);
  EXPECT_FALSE(store_.model(digest).ok());
  EXPECT_TRUE(store_.update(digest_).ok());
}

TEST(BoundUpdates, CapsClaimsAndScalesDownOnlyTheUpdatesOverTheNormBound) {
  std::vector<float> a(4, 1.0f), b(4, 1.0f), c(4, 100.0f);
  std::vector<std::span<const float>> updates = {a, b, c};
  std::vector<std::uint64_t> claims = {10, 10, 1'000'000};
  UpdateBounds bounds;  // claims capped at 2x the median (c's long update backs it), norms at the median
  auto bounded = bound_updates(updates, claims, bounds, std::nullopt);
  EXPECT_EQ(bounded.weights, (std::vector<double>{10, 10, 20}));
  EXPECT_EQ(bounded.norms, (std::vector<double>{2, 2, 200}));
  EXPECT_EQ(bounded.clipped, 1);
  ASSERT_EQ(bounded.views.size(), 3u);
  EXPECT_EQ(bounded.views[0].values.data(), a.data()) << "an update within the bound is not copied";
  EXPECT_NEAR(bounded.views[2].values[0], 1.0f, 1e-5);
  std::vector<float> global(4, 0.5f);
  const auto change = server_step(global, bounded.views[2].values, 0.5);
  EXPECT_NEAR(change[0], 0.5f, 1e-5);
  EXPECT_NEAR(global[0], 1.0f, 1e-5);
}

}  // namespace
}  // namespace fl::coordinator
