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

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace fl::test
