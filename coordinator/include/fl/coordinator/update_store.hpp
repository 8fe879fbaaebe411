// The coordinator's content-addressed store of what its rounds were made of: every accepted
// update (its signed header and payload, as received) under its update digest, and every global
// model under its model digest, in a folder (`<output>/store/`). The ledger names both digests,
// so the store is a cache the ledger checks: whatever is read back is verified against the
// digest it was asked for (and an update against its worker's signature). Kept for the job's
// terms' retention_days, then removed. No torch here.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/common/tensor_codec.hpp"
#include "fl/common/wire.hpp"

namespace fl::coordinator {

struct StoredUpdate {
  common::UpdateHeader header;
  std::vector<float> values;
};

class UpdateStore {
 public:
  explicit UpdateStore(std::filesystem::path dir) : dir_(std::move(dir)) {}
  const std::filesystem::path& dir() const { return dir_; }

  // Both write to a temporary file, fsync it and rename it into place; an existing entry (same
  // digest, so the same bytes) is left as it is.
  Status put_update(const common::UpdateHeader& header,
                    std::span<const std::uint8_t> payload) const;
  Status put_model(const common::Digest& digest, const common::TensorLayout& layout,
                   std::span<const float> values) const;

  // kNotFound when absent ("... is not in the store at DIR"); kCorrupt when the bytes do not
  // decode, or do not match the digest or the worker's signature.
  Result<StoredUpdate> update(const common::Digest& update_digest) const;
  Result<std::vector<float>> model(const common::Digest& model_digest) const;

  // An entry's file as stored (what a member's store server sends); kNotFound when absent.
  Result<std::string> raw(bool model, const common::Digest& digest) const;
  // Keeps an entry fetched from another member: written beside its place, read back through the
  // same checks as update() / model(), and renamed into place only when it checks out, so the
  // digest's name never holds bytes that do not (kCorrupt, naming why).
  Status put_raw(bool model, const common::Digest& digest, std::string_view bytes) const;
  bool has(bool model, const common::Digest& digest) const;

  // Removes entries written more than `days` days ago; returns how many.
  Result<std::size_t> remove_older_than(std::uint64_t days) const;

  std::filesystem::path update_path(const common::Digest& d) const;
  std::filesystem::path model_path(const common::Digest& d) const;
  std::filesystem::path entry_path(bool model, const common::Digest& d) const {
    return model ? model_path(d) : update_path(d);
  }
  // "update 3fa1c09e..." / "model 9a41...": an entry as messages name it.
  static std::string entry_name(bool model, const common::Digest& d);

 private:
  Result<StoredUpdate> update_at(const std::filesystem::path& path, const common::Digest& digest) const;
  Result<std::vector<float>> model_at(const std::filesystem::path& path, const common::Digest& digest) const;
  std::filesystem::path dir_;
};

}  // namespace fl::coordinator
