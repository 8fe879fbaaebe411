#include "fl/worker/key_file.hpp"

namespace fl::worker {

Result<common::PublicKey> create_key_files(const std::filesystem::path& out, bool force) {
  const std::filesystem::path pub = out.string() + ".pub";
  for (const auto& path : {out, pub}) {
    std::error_code ec;
    if (!force && std::filesystem::exists(path, ec)) {
      return make_error(ErrorCode::kAlreadyExists,
                        path.string() +
                            " already exists; not replacing it (a worker's key is its identity "
                            "and its rewards). Pass --force to overwrite it, or choose another "
                            "--out");
    }
  }
  const auto key = common::generate_key_pair();
  FL_RETURN_IF_ERROR(common::save_key_file(out, key));
  FL_RETURN_IF_ERROR(common::save_public_key_file(pub, key.public_key));
  return key.public_key;
}

}  // namespace fl::worker
