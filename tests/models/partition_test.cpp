#include "fl/models/partition.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "fl/models/idx.hpp"

namespace fl::models {
namespace {

// 6000 labels, 600 of each of 10 classes, in a scrambled but fixed order.
std::vector<std::int64_t> balanced_labels(std::int64_t n = 6000) {
  std::vector<std::int64_t> labels(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) labels[i] = (i * 7919) % 10;
  return labels;
}

PartitionSpec spec_of(std::string_view text, std::uint64_t seed = 1) {
  auto spec = parse_partition(text);
  EXPECT_TRUE(spec.ok()) << spec.error().to_string();
  spec->seed = seed;
  return *spec;
}

// Mean Shannon entropy (bits) of the label distribution inside each part: log2(10) for
// perfectly mixed parts, lower as parts become dominated by few classes.
double mean_label_entropy(const std::vector<std::vector<std::int64_t>>& parts,
                          const std::vector<std::int64_t>& labels) {
  double total = 0;
  for (const auto& part : parts) {
    std::vector<double> counts(10, 0);
    for (const auto i : part) counts[labels[i]] += 1;
    double h = 0;
    for (const double c : counts) {
      if (c > 0) h -= c / part.size() * std::log2(c / part.size());
    }
    total += h;
  }
  return total / static_cast<double>(parts.size());
}

void expect_exact_cover(const std::vector<std::vector<std::int64_t>>& parts, std::int64_t n) {
  std::vector<int> seen(static_cast<std::size_t>(n), 0);
  std::int64_t total = 0;
  for (const auto& part : parts) {
    EXPECT_FALSE(part.empty());
    EXPECT_TRUE(std::is_sorted(part.begin(), part.end()));
    for (const auto i : part) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, n);
      ++seen[i];
    }
    total += static_cast<std::int64_t>(part.size());
  }
  EXPECT_EQ(total, n);
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), n) << "an example is missing or repeated";
}

TEST(ParsePartition, ReadsEveryKindAndPrintsItBack) {
  EXPECT_EQ(to_string(spec_of("iid")), "iid");
  EXPECT_EQ(to_string(spec_of("dirichlet:0.3")), "dirichlet:0.3");
  EXPECT_EQ(spec_of("dirichlet:0.3").alpha, 0.3);
  EXPECT_EQ(to_string(spec_of("shards:3")), "shards:3");
  EXPECT_EQ(spec_of("shards:3").shards_per_part, 3);
  EXPECT_EQ(spec_of("dirichlet").alpha, 0.5);
}

TEST(ParsePartition, RejectsUnknownKindsAndBadArguments) {
  for (const auto* text : {"", "random", "iid:2", "dirichlet:", "dirichlet:-1", "dirichlet:abc",
                           "dirichlet:nan", "shards:0", "shards:1.5", "shards:x"}) {
    auto spec = parse_partition(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(spec.error().message.find(text), std::string::npos) << spec.error().message;
  }
}

class EveryPartitioner : public ::testing::TestWithParam<const char*> {};

TEST_P(EveryPartitioner, CoversEveryExampleExactlyOnceWithNoEmptyPart) {
  const auto labels = balanced_labels();
  auto parts = partition(labels, 10, 8, spec_of(GetParam()));
  ASSERT_TRUE(parts.ok()) << parts.error().to_string();
  ASSERT_EQ(parts->size(), 8u);
  expect_exact_cover(*parts, static_cast<std::int64_t>(labels.size()));
}

TEST_P(EveryPartitioner, GivesTheSameSplitForTheSameSeed) {
  const auto labels = balanced_labels();
  auto first = partition(labels, 10, 8, spec_of(GetParam(), 42));
  auto second = partition(labels, 10, 8, spec_of(GetParam(), 42));
  auto other = partition(labels, 10, 8, spec_of(GetParam(), 43));
  ASSERT_TRUE(first.ok() && second.ok() && other.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_NE(*first, *other);
}

TEST_P(EveryPartitioner, FailsWhenThereAreTooFewExamplesForNonEmptyParts) {
  const auto labels = balanced_labels(5);
  auto parts = partition(labels, 10, 8, spec_of(GetParam()));
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().code, ErrorCode::kPrecondition);
  EXPECT_NE(parts.error().message.find("non-empty"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Kinds, EveryPartitioner,
                         ::testing::Values("iid", "dirichlet:0.5", "dirichlet:0.01", "shards:2"));

TEST(Partition, IidPartsHaveNearlyEqualSizes) {
  auto parts = partition(balanced_labels(6003), 10, 8, spec_of("iid"));
  ASSERT_TRUE(parts.ok());
  for (const auto& part : *parts) {
    EXPECT_GE(part.size(), 750u);
    EXPECT_LE(part.size(), 751u);
  }
}

TEST(Partition, DirichletSkewGrowsAsAlphaFalls) {
  const auto labels = balanced_labels();
  double previous = std::log2(10.0) + 1e-9;
  for (const double alpha : {100.0, 1.0, 0.3, 0.05}) {
    PartitionSpec spec{PartitionKind::kDirichlet, alpha, 2, 7};
    auto parts = partition(labels, 10, 8, spec);
    ASSERT_TRUE(parts.ok()) << parts.error().to_string();
    const double entropy = mean_label_entropy(*parts, labels);
    EXPECT_LT(entropy, previous) << "alpha " << alpha;
    previous = entropy;
  }
  // Near-uniform at alpha 100, dominated by one or two classes at alpha 0.05.
  PartitionSpec mixed{PartitionKind::kDirichlet, 100.0, 2, 7};
  PartitionSpec skewed{PartitionKind::kDirichlet, 0.05, 2, 7};
  EXPECT_GT(mean_label_entropy(*partition(labels, 10, 8, mixed), labels), 3.2);
  EXPECT_LT(mean_label_entropy(*partition(labels, 10, 8, skewed), labels), 1.5);
}

TEST(Partition, ShardsGiveEachPartAtMostShardsPerPartClasses) {
  const auto labels = balanced_labels();
  auto parts = partition(labels, 10, 10, spec_of("shards:2"));
  ASSERT_TRUE(parts.ok());
  for (const auto& part : *parts) {
    std::set<std::int64_t> classes;
    for (const auto i : part) classes.insert(labels[i]);
    EXPECT_LE(classes.size(), 2u);
    EXPECT_EQ(part.size(), 600u);
  }
}

TEST(Partition, RejectsLabelsOutsideTheClassRange) {
  std::vector<std::int64_t> labels = balanced_labels(100);
  labels[37] = 10;
  auto parts = partition(labels, 10, 4, spec_of("iid"));
  ASSERT_FALSE(parts.ok());
  EXPECT_EQ(parts.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(parts.error().message.find("index 37"), std::string::npos) << parts.error().message;
}

TEST(Partition, SplitsRealFashionMnistLabelsAmongEightWorkers) {
  auto raw = read_idx("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz");
  ASSERT_TRUE(raw.ok()) << raw.error().to_string();
  const std::vector<std::int64_t> labels(raw->data.begin(), raw->data.end());
  auto parts = partition(labels, 10, 8, spec_of("dirichlet:0.5"));
  ASSERT_TRUE(parts.ok()) << parts.error().to_string();
  expect_exact_cover(*parts, 60000);
}

}  // namespace
}  // namespace fl::models
