#include "fl/worker/data_provenance.hpp"

#include <spdlog/spdlog.h>

#include <numeric>

#include "fl/common/npy.hpp"
#include "fl/models/dataset_provenance.hpp"
#include "local_share.hpp"

namespace fl::worker {
namespace {

Error bad_query(const std::string& what) { return make_error(ErrorCode::kInvalidArgument, what); }

Status check_query(const ExampleQuery& q) {
  const int given =
      (q.index ? 1 : 0) + (q.example_file.empty() ? 0 : 1) + (q.digest_hex.empty() ? 0 : 1);
  if (given != 1) {
    return bad_query(
        "name the example with exactly one of --index I, --example FILE.npy "
        "--label L, or --digest HEX");
  }
  if (!q.example_file.empty() && !q.label) return bad_query("--example needs --label L");
  if (q.label && q.example_file.empty()) return bad_query("--label goes with --example FILE.npy");
  if (!q.save_example.empty() && !q.index) return bad_query("--save-example needs --index I");
  return ok_status();
}

std::int64_t values_per_example(const models::Dataset& data) {
  return std::accumulate(data.input_shape.begin(), data.input_shape.end(), std::int64_t{1},
                         std::multiplies<>());
}

Status save_example(const models::Dataset& full, std::int64_t row,
                    const std::filesystem::path& path) {
  const auto example = full.images[row].to(torch::kCPU, torch::kFloat32).contiguous();
  const std::span<const float> values(example.data_ptr<float>(),
                                      static_cast<std::size_t>(example.numel()));
  const std::size_t shape[] = {values.size()};
  FL_RETURN_IF_ERROR(common::write_npy(path, values, shape));
  spdlog::info("wrote the example ({} float32 values of shape {}, label {}) to {}", values.size(),
               models::describe_shape(full.input_shape), full.labels[row].item<std::int64_t>(),
               path.string());
  return ok_status();
}

Result<common::Digest> digest_of_index(const LocalShare& share, const ExampleQuery& q) {
  const auto count = static_cast<std::int64_t>(share.indices.size());
  if (*q.index < 0 || *q.index >= count) {
    return bad_query("--index " + std::to_string(*q.index) + ": the local data has " +
                     std::to_string(count) + " examples (0 .. " + std::to_string(count - 1) + ")");
  }
  const std::int64_t row = share.indices[static_cast<std::size_t>(*q.index)];
  if (!q.save_example.empty()) FL_RETURN_IF_ERROR(save_example(share.full, row, q.save_example));
  return models::example_digests(share.full, std::span(&row, 1)).front();
}

Result<common::Digest> digest_of_file(const models::Dataset& full, const ExampleQuery& q) {
  FL_ASSIGN_OR_RETURN(auto array, common::read_npy(q.example_file));
  const auto expected = values_per_example(full);
  if (static_cast<std::int64_t>(array.values.size()) != expected) {
    return bad_query("--example " + q.example_file.string() + ": " +
                     std::to_string(array.values.size()) + " values, an example of this data has " +
                     std::to_string(expected) + " (shape " +
                     models::describe_shape(full.input_shape) + ")");
  }
  return common::example_digest(array.values, *q.label);
}

Result<common::Digest> digest_of(const LocalShare& share, const ExampleQuery& q) {
  if (q.index) return digest_of_index(share, q);
  if (!q.example_file.empty()) return digest_of_file(share.full, q);
  auto d = common::digest_from_hex(q.digest_hex);
  if (!d.ok()) return with_context(d.error(), "--digest");
  return d;
}

}  // namespace

Result<std::string> fingerprint_local_data(const WorkerOptions& options) {
  FL_ASSIGN_OR_RETURN(auto share, select_local_share(options));
  return models::dataset_fingerprint(share.full, share.indices);
}

Result<common::ExampleProof> prove_local_example(const WorkerOptions& options,
                                                 const ExampleQuery& query) {
  FL_RETURN_IF_ERROR(check_query(query));
  FL_ASSIGN_OR_RETURN(auto share, select_local_share(options));
  FL_ASSIGN_OR_RETURN(const auto digest, digest_of(share, query));
  const auto leaves = models::committed_leaves(share.full, share.indices);
  return common::prove_example(leaves, digest);
}

}  // namespace fl::worker
