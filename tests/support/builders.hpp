// Small builders shared by the tests: deterministic keys, signed update envelopes, temp dirs.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/job_terms.hpp"
#include "fl/common/wire.hpp"

namespace fl::test {

// A fresh directory under the system temp dir, removed when the object goes away.
class TempDir {
 public:
  explicit TempDir(const std::string& tag = "fl-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

common::TensorLayout small_layout();  // w[2,3] + b[3]: 9 floats

// Valid job terms for tests: an mlp on Fashion-MNIST, 5 rounds of 1000, no DP, updates not
// kept, run by `coordinator`; tests change what they need.
common::JobTerms job_terms(const std::string& job_id, const common::PublicKey& researcher,
                           const common::PublicKey& coordinator);
std::vector<float> ramp(std::size_t n, float start = 0.0f, float step = 0.5f);

struct SignedUpdate {
  common::UpdateHeader header;
  std::vector<float> values;
  std::span<const std::uint8_t> payload() const { return common::as_bytes(values); }
};

// A correctly signed update by `key` for job/round over `values` laid out as `layout`.
SignedUpdate make_signed_update(const common::KeyPair& key, const std::string& job, std::uint64_t round,
                                const common::TensorLayout& layout, std::vector<float> values);

void write_file(const std::filesystem::path& path, const std::string& bytes);

// A tiny image dataset in the IDX layout that load_dataset reads from a directory: plain
// (not gzipped) train-/t10k-images-idx3-ubyte and ...-labels-idx1-ubyte, each split with
// `examples` images of height x width and labels cycling 0, 1, ..., classes - 1.
void write_idx_dataset(const std::filesystem::path& dir, int examples, int height, int width,
                       int classes);
std::string read_file(const std::filesystem::path& path);

// A tabular data set as CSV: header f0,...,f{features-1},species, then `rows` rows cycling
// through the classes. Class c's features are Gaussian (sigma 1) around a corner of a
// hypercube of side 4 (bit j of c sets feature j): a class is confused with each neighbour
// about 2.3% of the time, so at best about 95% of examples are classified right.
// Labels are class_names[c]. The same seed gives the same file.
void write_gaussian_csv(const std::filesystem::path& path, int rows, int features,
                        const std::vector<std::string>& class_names, std::uint64_t seed);

}  // namespace fl::test
