// Per-example digests and the dataset fingerprint (the sorted-leaf Merkle commitment) of a
// tiny IDX dataset: stable for the same data, different for other data, reproducible from the
// example's float values and label alone.
#include "fl/models/dataset_provenance.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "support/builders.hpp"

namespace fl::models {
namespace {

class DatasetProvenance : public ::testing::Test {
 protected:
  void SetUp() override {
    test::write_idx_dataset(dir_ / "data", 12, 4, 4, 3);
    auto data = load_dataset("idx:" + (dir_ / "data").string(), Split::kTrain);
    ASSERT_TRUE(data.ok()) << data.error().to_string();
    data_ = std::move(data).value();
  }

  test::TempDir dir_{"fl-provenance"};
  Dataset data_;
  std::vector<std::int64_t> first_ = {0, 1, 2, 3, 4, 5};
  // write_idx_dataset repeats an image per label, so change the label mix (5 has 2, 6 has 0).
  std::vector<std::int64_t> second_ = {0, 1, 2, 3, 4, 6};
};

TEST_F(DatasetProvenance, FingerprintIsAMerkleCommitmentToTheSelectedExamples) {
  const auto fp = dataset_fingerprint(data_, first_);
  auto parsed = common::parse_dataset_commitment(fp);
  ASSERT_TRUE(parsed.ok()) << fp;
  EXPECT_EQ(parsed->count, first_.size());
  EXPECT_EQ(parsed->root, common::commit_sorted_leaves(committed_leaves(data_, first_)).root);
}

TEST_F(DatasetProvenance, FingerprintOfTheSameDataIsStableAcrossLoads) {
  auto again = load_dataset("idx:" + (dir_ / "data").string(), Split::kTrain);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(dataset_fingerprint(data_, first_), dataset_fingerprint(*again, first_));
  const std::vector<std::int64_t> reversed(first_.rbegin(), first_.rend());
  EXPECT_EQ(dataset_fingerprint(data_, first_), dataset_fingerprint(data_, reversed));
}

TEST_F(DatasetProvenance, FingerprintDiffersForOtherData) {
  EXPECT_NE(dataset_fingerprint(data_, first_), dataset_fingerprint(data_, second_));
  auto changed = data_;
  changed.images = data_.images.clone();
  changed.images[2][0][1][1] += 0.25f;
  EXPECT_NE(dataset_fingerprint(data_, first_), dataset_fingerprint(changed, first_));
  changed = data_;
  changed.labels = data_.labels.clone();
  changed.labels[3] = (changed.labels[3].item<std::int64_t>() + 1) % 3;
  EXPECT_NE(dataset_fingerprint(data_, first_), dataset_fingerprint(changed, first_));
}

TEST_F(DatasetProvenance, ExampleDigestIsReproducibleFromItsValuesAndLabel) {
  const auto example = data_.images[5].contiguous();
  const std::vector<float> values(example.data_ptr<float>(),
                                  example.data_ptr<float>() + example.numel());
  const std::int64_t index = 5;
  EXPECT_EQ(example_digests(data_, std::span(&index, 1)).front(),
            common::example_digest(values, data_.labels[5].item<std::int64_t>()));
}

}  // namespace
}  // namespace fl::models
