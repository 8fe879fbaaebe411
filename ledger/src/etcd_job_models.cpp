#include "fl/ledger/etcd_job_models.hpp"

#include <cstring>
#include <set>

#include "fl/common/tensor_codec.hpp"

namespace fl::ledger {

namespace {

constexpr std::string_view kMagic = "FLJM1";

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[i])) << (8 * i);
  return v;
}
std::string short_hex(const common::Digest& d) { return common::to_hex(d).substr(0, 16); }

}  // namespace

Result<std::unique_ptr<EtcdJobModels>> EtcdJobModels::open(const EtcdStoreOptions& options) {
  FL_ASSIGN_OR_RETURN(auto client, EtcdClient::create(options.etcd));
  return std::unique_ptr<EtcdJobModels>(
      new EtcdJobModels(std::move(client), chain_prefix(options.chain), options));
}

std::string EtcdJobModels::chunk_key(const common::Digest& d) const {
  return prefix_ + "model-chunk/" + common::to_hex(d);
}

Result<std::optional<EtcdJobModels::Manifest>> EtcdJobModels::manifest(
    const std::string& job_id) const {
  const auto key = prefix_ + "model/" + job_id;
  FL_ASSIGN_OR_RETURN(auto kv, client_->get(key));
  if (!kv) return std::optional<Manifest>{};
  const auto& v = kv->value;
  const std::size_t fixed = kMagic.size() + 32 + 16;
  if (v.size() < fixed || v.compare(0, kMagic.size(), kMagic) != 0 ||
      (v.size() - fixed) % 32 != 0) {
    return make_error(ErrorCode::kCorrupt, key + " in etcd is not a model manifest");
  }
  Manifest m;
  std::memcpy(m.digest.data(), v.data() + kMagic.size(), 32);
  m.size = get_u64(v.data() + kMagic.size() + 32);
  const auto n = get_u64(v.data() + kMagic.size() + 40);
  if (n != (v.size() - fixed) / 32)
    return make_error(ErrorCode::kCorrupt, key + " in etcd names the wrong chunk count");
  for (std::uint64_t i = 0; i < n; ++i) {
    common::Digest d;
    std::memcpy(d.data(), v.data() + fixed + 32 * i, 32);
    m.chunks.push_back(d);
  }
  return std::optional<Manifest>(std::move(m));
}

Status EtcdJobModels::put(const std::string& job_id, const common::Digest& digest,
                          std::span<const float> values) {
  FL_ASSIGN_OR_RETURN(const auto previous, manifest(job_id));
  if (previous && previous->digest == digest) return ok_status();
  const auto bytes = common::as_bytes(values);
  Manifest m{digest, bytes.size(), {}};
  for (std::size_t at = 0; at < bytes.size(); at += kChunkBytes) {
    const auto piece = bytes.subspan(at, std::min(kChunkBytes, bytes.size() - at));
    const auto d = common::blake2b_256(piece);
    const auto key = chunk_key(d);
    const std::string value(reinterpret_cast<const char*>(piece.data()), piece.size());
    auto put = client_->txn({Compare::absent(key)}, {TxnOp::put(key, value)}, {});
    if (!put.ok()) return with_context(put.error(), "writing model chunk " + key);
    m.chunks.push_back(d);
  }
  std::string manifest_value(kMagic);
  manifest_value.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  put_u64(manifest_value, m.size);
  put_u64(manifest_value, m.chunks.size());
  for (const auto& d : m.chunks)
    manifest_value.append(reinterpret_cast<const char*>(d.data()), d.size());
  std::vector<Compare> guard;
  if (!options_.owner_lease_key.empty())
    guard.push_back(Compare::lease_is(options_.owner_lease_key, options_.owner_lease_id));
  auto put = client_->txn(guard, {TxnOp::put(prefix_ + "model/" + job_id, manifest_value)}, {});
  if (!put.ok()) return with_context(put.error(), "writing the model of job '" + job_id + "'");
  if (!put->succeeded) {
    return make_error(ErrorCode::kPrecondition, "the owner lease " + options_.owner_lease_key +
                                                    " is no longer held: the model of job '" +
                                                    job_id + "' stays");
  }
  if (previous) {
    const std::set<common::Digest> kept(m.chunks.begin(), m.chunks.end());
    for (const auto& d : previous->chunks) {
      if (!kept.count(d)) (void)client_->erase(chunk_key(d));  // a leftover chunk is harmless
    }
  }
  return ok_status();
}

Result<std::vector<float>> EtcdJobModels::get(const std::string& job_id,
                                              const common::Digest& digest) const {
  FL_ASSIGN_OR_RETURN(const auto m, manifest(job_id));
  if (!m) return make_error(ErrorCode::kNotFound, "etcd holds no model of job '" + job_id + "'");
  if (m->digest != digest) {
    return make_error(ErrorCode::kNotFound, "etcd holds model " + short_hex(m->digest) +
                                                " of job '" + job_id + "', not " +
                                                short_hex(digest));
  }
  if (m->size % sizeof(float) != 0)
    return make_error(ErrorCode::kCorrupt, "the model's size is not whole floats");
  std::vector<float> values(m->size / sizeof(float));
  auto* out = reinterpret_cast<char*>(values.data());
  std::size_t at = 0;
  for (const auto& d : m->chunks) {
    FL_ASSIGN_OR_RETURN(auto kv, client_->get(chunk_key(d)));
    if (!kv)
      return make_error(ErrorCode::kCorrupt, "model chunk " + chunk_key(d) + " is missing in etcd");
    if (common::blake2b_256(kv->value) != d || at + kv->value.size() > m->size) {
      return make_error(ErrorCode::kCorrupt,
                        "model chunk " + chunk_key(d) + " does not match its digest");
    }
    std::memcpy(out + at, kv->value.data(), kv->value.size());
    at += kv->value.size();
  }
  if (at != m->size || common::digest_of(values) != digest) {
    return make_error(ErrorCode::kCorrupt,
                      "the model of job '" + job_id + "' in etcd does not match its digest");
  }
  return values;
}

}  // namespace fl::ledger
