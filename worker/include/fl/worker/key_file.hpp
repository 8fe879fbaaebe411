// `fl-worker keygen`: a worker's key is its identity and earns its rewards, so an existing key
// file is never replaced unless the user asks for it by name (--force).
#pragma once

#include <filesystem>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::worker {

// Writes a fresh key to `out` (0600) and its public key to `out` + ".pub"; returns the public
// key. kAlreadyExists naming the file and --force when either exists and `force` is false.
Result<common::PublicKey> create_key_files(const std::filesystem::path& out, bool force);

}  // namespace fl::worker
