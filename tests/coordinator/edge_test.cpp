// The edge coordinator's arithmetic and receipts (fl/coordinator/edge.hpp) without sockets:
// averaging composes across levels and the robust rules do not; every combined update's
// receipt chains to the partial result the owner's ledger names; the edge config.
#include "fl/coordinator/edge.hpp"

#include <gtest/gtest.h>

#include <random>

#include "fl/common/merkle.hpp"
#include "fl/common/receipt_json.hpp"
#include "fl/coordinator/round_combine.hpp"

namespace fl::coordinator {
namespace {

struct Level {
  std::vector<std::vector<float>> values;
  std::vector<std::uint64_t> claims;
  CollectedRound round;
};

// Updates with these claims, their values drawn around 1 with a fixed seed; digests 1, 2, ...
Level level_of(std::vector<std::uint64_t> claims, std::uint64_t seed, std::size_t dim = 64) {
  Level l;
  l.claims = std::move(claims);
  std::mt19937 rng(static_cast<std::uint32_t>(seed));
  std::normal_distribution<float> noise(1.0f, 0.3f);
  l.values.resize(l.claims.size());
  for (std::size_t i = 0; i < l.claims.size(); ++i) {
    for (std::size_t d = 0; d < dim; ++d) l.values[i].push_back(noise(rng));
  }
  l.round.round = 3;
  for (std::size_t i = 0; i < l.claims.size(); ++i) {
    ValidatedUpdate u;
    u.header.num_samples = l.claims[i];
    u.header.worker_key = common::key_pair_from_label("edge-test-worker-" + std::to_string(seed * 100 + i)).public_key;
    u.digest = common::blake2b_256("update " + std::to_string(seed * 100 + i));
    u.values = l.values[i];
    l.round.accepted.push_back(std::move(u));
  }
  return l;
}

common::RoundTask task_of(std::size_t dim) {
  common::RoundTask t;
  t.job_id = "job";
  t.round = 3;
  t.layout.tensors.push_back({"w", {static_cast<std::int64_t>(dim)}});
  t.model_digest = common::blake2b_256(std::string("global"));
  return t;
}

std::vector<float> combine(AggregationRule& rule, std::span<const std::span<const float>> updates,
                           std::span<const std::uint64_t> claims, const UpdateBounds& bounds = {}) {
  const auto bounded = bound_updates(updates, claims, bounds, std::nullopt);
  return rule.aggregate(bounded.views).value();
}

const common::KeyPair& edge_key() {
  static const auto key = common::key_pair_from_label("edge-test-edge");
  return key;
}

TEST(EdgeCombine, FedavgAtBothLevelsIsFedavgOverAllTheWorkers) {
  // Claims within the cap, weighed as claimed up to it: a level's cap, and the default's norm
  // backing of claims above the level's median, depend on that level's workers, so the match
  // is exact only where they do not bite (docs/hierarchy.md).
  auto fedavg = make_rule("fedavg", RuleOptions{}).value();
  auto a = level_of({100, 150}, 1);
  auto b = level_of({120, 80, 110}, 2);
  const auto task = task_of(64);
  const UpdateBounds capped{SampleWeighting::kCapped, 2, 3};
  const auto pa = combine_at_edge(a.round, *fedavg, capped, task, edge_key()).value();
  const auto pb = combine_at_edge(b.round, *fedavg, capped, task, edge_key()).value();
  EXPECT_EQ(pa.header.num_samples, 250u);
  EXPECT_EQ(pb.header.num_samples, 310u);
  const std::vector<std::span<const float>> partials{pa.values, pb.values};
  const std::vector<std::uint64_t> partial_claims{pa.header.num_samples, pb.header.num_samples};
  const auto two_level = combine(*fedavg, partials, partial_claims, capped);

  std::vector<std::span<const float>> all;
  std::vector<std::uint64_t> all_claims;
  for (const auto* l : {&a, &b}) {
    for (std::size_t i = 0; i < l->values.size(); ++i) {
      all.push_back(l->values[i]);
      all_claims.push_back(l->claims[i]);
    }
  }
  const auto flat = combine(*fedavg, all, all_claims, capped);
  ASSERT_EQ(two_level.size(), flat.size());
  for (std::size_t d = 0; d < flat.size(); ++d) EXPECT_NEAR(two_level[d], flat[d], 1e-5f) << d;
}

TEST(EdgeCombine, TheMedianOfMediansIsNotTheMedian) {
  // Edge A's workers say 0, 0, 10; edge B's say 10, 10, 10. The median of the six is 10; the
  // owner's median of the edges' medians (0 and 10) is 5: robust rules do not compose, each
  // level tolerates its own minority (docs/hierarchy.md).
  auto median = make_rule("median", RuleOptions{}).value();
  const std::vector<std::vector<float>> a{{0}, {0}, {10}}, b{{10}, {10}, {10}};
  const std::vector<std::uint64_t> ones{1, 1, 1};
  const auto span_of = [](const std::vector<std::vector<float>>& v) {
    std::vector<std::span<const float>> s;
    for (const auto& x : v) s.push_back(x);
    return s;
  };
  const UpdateBounds unbounded{SampleWeighting::kEqual, 2, 0};  // the rule alone
  const auto ma = combine(*median, span_of(a), ones, unbounded);
  const auto mb = combine(*median, span_of(b), ones, unbounded);
  const std::vector<std::span<const float>> partials{ma, mb};
  const std::vector<std::uint64_t> two{1, 1};
  EXPECT_FLOAT_EQ(combine(*median, partials, two, unbounded)[0], 5.0f);
  auto all = span_of(a);
  for (const auto& s : span_of(b)) all.push_back(s);
  const std::vector<std::uint64_t> six{1, 1, 1, 1, 1, 1};
  EXPECT_FLOAT_EQ(combine(*median, all, six, unbounded)[0], 10.0f);
}

TEST(EdgeCombine, AnInflatedClaimIsCappedBeforeItReachesTheOwner) {
  auto fedavg = make_rule("fedavg", RuleOptions{}).value();
  auto l = level_of({100, 100, 1'000'000}, 3);
  const auto p = combine_at_edge(l.round, *fedavg, UpdateBounds{}, task_of(64), edge_key()).value();
  // Its update is no longer than the others', so the claim counts as the median claim: 100 + 100
  // + 100 (under "capped", the cap: 2 x the median claim).
  EXPECT_EQ(p.header.num_samples, 300u);
  const UpdateBounds capped{SampleWeighting::kCapped, 2, 3};
  EXPECT_EQ(combine_at_edge(l.round, *fedavg, capped, task_of(64), edge_key())->header.num_samples, 400u);
}

TEST(EdgeCombine, NothingToCombineSaysWhy) {
  auto fedavg = make_rule("fedavg", RuleOptions{}).value();
  CollectedRound empty;
  empty.close_reason = "deadline";
  const auto p = combine_at_edge(empty, *fedavg, UpdateBounds{}, task_of(64), edge_key());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("no update"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("deadline"), std::string::npos) << p.error().message;
}

TEST(EdgeReceipt, EveryCombinedUpdateChainsToThePartialResultTheLedgerNames) {
  auto fedavg = make_rule("fedavg", RuleOptions{}).value();
  auto l = level_of({100, 90, 110, 95, 105}, 4);
  const auto p = combine_at_edge(l.round, *fedavg, UpdateBounds{}, task_of(64), edge_key()).value();
  EXPECT_EQ(p.header.inputs, 5u);
  EXPECT_EQ(p.header.inputs_root, common::merkle_root(p.inputs));
  EXPECT_EQ(p.header.worker_key, edge_key().public_key);
  EXPECT_EQ(p.header.base_model_digest, task_of(64).model_digest);
  common::Receipt owner;
  owner.update_digest = common::update_signing_digest(p.header);
  owner.reward = 500;
  owner.block_height = 4;
  for (std::size_t i = 0; i < p.inputs.size(); ++i) {
    const auto r = edge_receipt(owner, p, i);
    EXPECT_EQ(r.update_digest, l.round.accepted[i].digest);
    EXPECT_EQ(common::recorded_update(r), owner.update_digest);
    EXPECT_TRUE(common::verify_edge_link(r).ok()) << i;

    // Through the wire (an UpdateAck) and the receipts file, the chain still holds.
    common::UpdateAck ack;
    ack.job_id = "job";
    ack.round = 3;
    ack.update_digest = r.update_digest;
    ack.accepted = true;
    ack.receipt = r;
    const auto encoded = common::encode(ack);
    auto decoded = common::decode<common::UpdateAck>(
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size()));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    ASSERT_TRUE(decoded->receipt && decoded->receipt->edge);
    EXPECT_TRUE(common::verify_edge_link(*decoded->receipt).ok());
    EXPECT_EQ(common::recorded_update(*decoded->receipt), owner.update_digest);
    auto line = common::receipt_from_json_line(common::receipt_to_json_line("job", 3, r, true));
    ASSERT_TRUE(line.ok()) << line.error().message;
    EXPECT_TRUE(common::verify_edge_link(line->receipt).ok());
    EXPECT_EQ(common::recorded_update(line->receipt), owner.update_digest);
  }

  auto other = edge_receipt(owner, p, 1);
  other.update_digest[0] ^= 1;  // an update the edge did not combine
  auto st = common::verify_edge_link(other);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not among the updates"), std::string::npos) << st.error().message;

  auto forged = edge_receipt(owner, p, 1);
  forged.edge->edge_update.inputs_root = common::merkle_root(std::span<const common::Digest>(p.inputs).first(2));
  st = common::verify_edge_link(forged);  // a root the edge did not sign
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("not signed"), std::string::npos) << st.error().message;
}

constexpr const char* kEdgeToml = R"([edge]
parent = "tcp://127.0.0.1:5555"
parent_key = "0000000000000000000000000000000000000000000000000000000000000001"
[round]
min_workers = 3
[aggregation]
rule = "trimmed_mean"
f = 1
[enrolment]
open = true
[network]
bind = "tcp://127.0.0.1:5600"
)";

TEST(EdgeConfig, ReadsTheParentAndThisLevelsSections) {
  auto c = parse_edge_config(kEdgeToml, "edge.toml", "/tmp/edge");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->parents, std::vector<std::string>{"tcp://127.0.0.1:5555"});
  ASSERT_EQ(c->parent_keys.size(), 1u);
  EXPECT_EQ(c->parent_keys[0][31], 1);
  EXPECT_EQ(c->level.min_workers, 3);
  EXPECT_EQ(c->level.rule, "trimmed_mean");
  EXPECT_EQ(c->level.rule_options.f, 1);
  EXPECT_EQ(c->level.bind, "tcp://127.0.0.1:5600");
  EXPECT_EQ(c->level.coordinator_key, std::filesystem::path("/tmp/edge/runs/edge/keys/edge.key"));
}

TEST(EdgeConfig, ListsTheFederationsMembersWithOneKeyForAllOrOneEach) {
  std::string text = kEdgeToml;
  text.replace(text.find("tcp://127.0.0.1:5555"), 20, "tcp://127.0.0.1:5555, tcp://127.0.0.1:5556");
  auto shared = parse_edge_config(text, "edge.toml", "/tmp");
  ASSERT_TRUE(shared.ok()) << shared.error().message;
  EXPECT_EQ(shared->parents, (std::vector<std::string>{"tcp://127.0.0.1:5555", "tcp://127.0.0.1:5556"}));
  ASSERT_EQ(shared->parent_keys.size(), 2u);
  EXPECT_EQ(shared->parent_keys[0], shared->parent_keys[1]);

  const std::string one = std::string(63, '0') + "1", two = std::string(63, '0') + "2", three = std::string(63, '0') + "3";
  std::string each = text;
  each.replace(each.find("parent_key = \"") + 14, 64, one + "," + two);
  auto per_member = parse_edge_config(each, "edge.toml", "/tmp");
  ASSERT_TRUE(per_member.ok()) << per_member.error().message;
  EXPECT_EQ(per_member->parent_keys[1][31], 2);

  std::string too_many = text;
  too_many.replace(too_many.find("parent_key = \"") + 14, 64, one + "," + two + "," + three);
  auto refused = parse_edge_config(too_many, "edge.toml", "/tmp");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("3 keys for 2 endpoints"), std::string::npos) << refused.error().message;
}

TEST(EdgeConfig, RefusesWhatBelongsToTheJobsOwnerAndNamesIt) {
  auto data = parse_edge_config(std::string(kEdgeToml) + "[data]\nspec = \"idx:/data\"\n", "edge.toml", "/tmp");
  ASSERT_FALSE(data.ok());
  EXPECT_NE(data.error().message.find("data.spec"), std::string::npos) << data.error().message;
  EXPECT_NE(data.error().message.find("come from the job's owner"), std::string::npos) << data.error().message;

  std::string no_key = kEdgeToml;
  no_key.erase(no_key.find("parent_key"), no_key.find("[round]") - no_key.find("parent_key"));
  auto missing = parse_edge_config(no_key, "edge.toml", "/tmp");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("parent_key"), std::string::npos) << missing.error().message;

  std::string bad_parent = kEdgeToml;
  bad_parent.replace(bad_parent.find("tcp://127.0.0.1:5555"), 20, "127.0.0.1");
  auto parent = parse_edge_config(bad_parent, "edge.toml", "/tmp");
  ASSERT_FALSE(parent.ok());
  EXPECT_NE(parent.error().message.find("tcp://HOST:PORT"), std::string::npos) << parent.error().message;
}

}  // namespace
}  // namespace fl::coordinator
