#include "support/builders.hpp"

#include <fstream>
#include <random>
#include <sstream>

namespace fl::test {

TempDir::TempDir(const std::string& tag) {
  std::random_device rd;
  path_ = std::filesystem::temp_directory_path() / (tag + "-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

common::TensorLayout small_layout() {
  common::TensorLayout layout;
  layout.tensors.push_back({"w", {2, 3}});
  layout.tensors.push_back({"b", {3}});
  return layout;
}

std::vector<float> ramp(std::size_t n, float start, float step) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = start + step * static_cast<float>(i);
  return v;
}

SignedUpdate make_signed_update(const common::KeyPair& key, const std::string& job, std::uint64_t round,
                                const common::TensorLayout& layout, std::vector<float> values) {
  SignedUpdate u;
  u.values = std::move(values);
  u.header.job_id = job;
  u.header.round = round;
  u.header.worker_key = key.public_key;
  u.header.layout = layout;
  u.header.num_samples = 100;
  u.header.train_loss = 0.5f;
  u.header.payload_digest = common::blake2b_256(u.payload());
  common::sign_update(u.header, key.secret_key);
  return u;
}

void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

namespace {

// A ubyte IDX file: magic 00 00 08 rank, big-endian dims, then the bytes.
std::string idx_bytes(const std::vector<std::uint32_t>& dims, const std::string& body) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (const auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  return out + body;
}

}  // namespace

void write_idx_dataset(const std::filesystem::path& dir, int examples, int height, int width,
                       int classes) {
  std::filesystem::create_directories(dir);
  const auto n = static_cast<std::uint32_t>(examples);
  std::string pixels, labels;
  for (int i = 0; i < examples; ++i) {
    const int label = i % classes;
    labels.push_back(static_cast<char>(label));
    for (int p = 0; p < height * width; ++p) pixels.push_back(static_cast<char>((p * 7 + label * 40) % 256));
  }
  const auto h = static_cast<std::uint32_t>(height);
  const auto w = static_cast<std::uint32_t>(width);
  for (const std::string prefix : {"train", "t10k"}) {
    write_file(dir / (prefix + "-images-idx3-ubyte"), idx_bytes({n, h, w}, pixels));
    write_file(dir / (prefix + "-labels-idx1-ubyte"), idx_bytes({n}, labels));
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_gaussian_csv(const std::filesystem::path& path, int rows, int features,
                        const std::vector<std::string>& class_names, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::ofstream out(path);
  for (int j = 0; j < features; ++j) out << "f" << j << ",";
  out << "species\n";
  const int classes = static_cast<int>(class_names.size());
  for (int i = 0; i < rows; ++i) {
    const int c = i % classes;
    for (int j = 0; j < features; ++j) {
      const double centre = j < 30 && ((c >> j) & 1) ? 4.0 : 0.0;
      out << centre + noise(rng) << ",";
    }
    out << class_names[static_cast<std::size_t>(c)] << "\n";
  }
}

common::JobTerms job_terms(const std::string& job_id, const common::PublicKey& researcher,
                           const common::PublicKey& coordinator) {
  common::JobTerms t;
  t.job_id = job_id;
  t.researcher = researcher;
  t.purpose = "a test job";
  t.model = "mlp";
  t.model_digest = common::blake2b_256(std::string("initial model"));
  t.data = "idx:fashion-mnist, 10 classes";
  t.rounds = 5;
  t.reward_per_round = 1000;
  t.coordinators = {coordinator};
  return t;
}

}  // namespace fl::test
