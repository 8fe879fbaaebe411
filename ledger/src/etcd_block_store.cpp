// EtcdBlockStore: the key layout and append protocol are described in etcd_block_store.hpp.
#include "fl/ledger/etcd_block_store.hpp"

#include <algorithm>
#include <charconv>
#include <exception>
#include <nlohmann/json.hpp>

namespace fl::ledger {
namespace {

constexpr std::string_view kMagic = "FLB1";
constexpr std::uint8_t kInline = 0, kManifest = 1;
constexpr std::int64_t kPageBlocks = 16;  // blocks per range request (each <= ~1 MiB)

std::string as_string(std::span<const std::uint8_t> b) { return std::string(b.begin(), b.end()); }
std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
template <typename A>
std::vector<std::uint8_t> to_vector(const A& a) {
  return std::vector<std::uint8_t>(a.begin(), a.end());
}

std::string head_value(std::uint64_t height, const common::Digest& hash) {
  return "{\"height\":" + std::to_string(height) + ",\"hash\":\"" + common::to_hex(hash) + "\"}";
}

std::optional<std::uint64_t> parse_head_height(const std::string& value) {
  const auto j = nlohmann::json::parse(value, nullptr, false);
  if (!j.is_object() || !j.contains("height") || !j["height"].is_number_unsigned()) {
    return std::nullopt;
  }
  return j["height"].get<std::uint64_t>();
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
std::uint64_t get_u64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(in[i])) << (8 * i);
  return v;
}

// The chunk digests a block value's manifest names (none for an inline block).
std::vector<std::string> manifest_chunks(std::string_view prefix, std::string_view v) {
  std::vector<std::string> out;
  if (v.size() < kMagic.size() + 1 || static_cast<std::uint8_t>(v[kMagic.size()]) != kManifest) return out;
  const std::string_view rest = v.substr(kMagic.size() + 1);
  for (std::size_t off = 16; off + 32 <= rest.size(); off += 32) {
    out.push_back(std::string(prefix) + "chunk/" + common::to_hex(as_bytes(rest.substr(off, 32))));
  }
  return out;
}

}  // namespace

std::string archive_marker_json(const ArchiveMarker& m) {
  nlohmann::ordered_json j;
  j["below"] = m.below;
  j["by"] = common::to_hex(m.by);
  j["checkpoint"] = nlohmann::json::parse(common::cosigned_checkpoint_to_json(m.checkpoint));
  j["chunks"] = m.chunks;
  return j.dump();
}

Result<ArchiveMarker> archive_marker_from_json(std::string_view text) {
  const auto bad = [](const std::string& what) {
    return make_error(ErrorCode::kCorrupt, "archive marker: " + what);
  };
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return bad("not a JSON object");
  ArchiveMarker m;
  if (!j.contains("below") || !j["below"].is_number_unsigned()) return bad("\"below\" is not a height");
  m.below = j["below"].get<std::uint64_t>();
  if (!j.contains("by") || !j["by"].is_string()) return bad("\"by\" is not a key");
  auto by = common::public_key_from_hex(j["by"].get<std::string>());
  if (!by.ok()) return bad("\"by\": " + by.error().message);
  m.by = *by;
  if (!j.contains("checkpoint")) return bad("no \"checkpoint\"");
  auto cp = common::cosigned_checkpoint_from_json(j["checkpoint"].dump());
  if (!cp.ok()) return bad("\"checkpoint\": " + cp.error().message);
  m.checkpoint = std::move(cp).value();
  if (!j.contains("chunks") || !j["chunks"].is_array()) return bad("\"chunks\" is not a list");
  for (const auto& c : j["chunks"]) {
    if (!c.is_string()) return bad("\"chunks\" holds a non-string");
    m.chunks.push_back(c.get<std::string>());
  }
  if (m.checkpoint.checkpoint.height != m.below) {
    return bad("its checkpoint is at height " + std::to_string(m.checkpoint.checkpoint.height) + ", not " +
               std::to_string(m.below));
  }
  return m;
}

EtcdBlockStore::EtcdBlockStore(EtcdStoreOptions options, std::unique_ptr<EtcdClient> client)
    : options_(std::move(options)),
      client_(std::move(client)),
      prefix_(chain_prefix(options_.chain)) {}

Result<std::unique_ptr<EtcdBlockStore>> EtcdBlockStore::open(EtcdStoreOptions options) {
  if (options.chain.empty() || options.chain.find('/') != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "etcd chain name '" + options.chain + "' must be non-empty, without '/'");
  }
  if (!options.owner_lease_key.empty() && options.owner_lease_id == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "owner lease key " + options.owner_lease_key + " given without its lease id");
  }
  FL_ASSIGN_OR_RETURN(auto client, EtcdClient::create(options.etcd));
  std::unique_ptr<EtcdBlockStore> store(new EtcdBlockStore(std::move(options), std::move(client)));
  auto head = store->read_head();
  if (!head.ok()) return with_context(head.error(), "cannot open " + store->name());
  return store;
}

std::string EtcdBlockStore::name() const {
  return "etcd " + options_.etcd.endpoints.front() + " " + prefix_;
}

Result<EtcdBlockStore::Head> EtcdBlockStore::read_head() const {
  const std::string key = prefix_ + "head";
  FL_ASSIGN_OR_RETURN(auto r, client_->range(RangeRequest{key, "", 0, 1, false}));
  Head head{r.revision, std::nullopt};
  if (r.kvs.empty()) return head;
  head.height = parse_head_height(r.kvs.front().value);
  if (!head.height) {
    return make_error(ErrorCode::kCorrupt, name() + ": key " + key +
                                               " is not a chain head {\"height\":N,\"hash\":...}; "
                                               "something other than FedLedger wrote it");
  }
  return head;
}

Result<StoredBlock> EtcdBlockStore::load(const KeyValue& kv, std::int64_t revision) const {
  const std::string where = name() + " key " + kv.key;
  const std::string_view v = kv.value;
  if (v.size() < kMagic.size() + 1 || v.substr(0, kMagic.size()) != kMagic) {
    return make_error(ErrorCode::kCorrupt, where + ": not a FedLedger block value");
  }
  const auto kind = static_cast<std::uint8_t>(v[kMagic.size()]);
  const std::string_view rest = v.substr(kMagic.size() + 1);
  if (kind == kInline) return decode_stored_block(as_bytes(rest), where);
  if (kind != kManifest || rest.size() < 16 || (rest.size() - 16) % 32 != 0 ||
      get_u64(rest.substr(8)) != (rest.size() - 16) / 32) {
    return make_error(ErrorCode::kCorrupt, where + ": malformed block value or chunk manifest");
  }
  const std::uint64_t total = get_u64(rest);
  std::string record;
  for (std::size_t off = 16; off < rest.size(); off += 32) {
    common::Digest digest{};
    std::copy_n(rest.begin() + off, 32, reinterpret_cast<char*>(digest.data()));
    const std::string key = prefix_ + "chunk/" + common::to_hex(digest);
    FL_ASSIGN_OR_RETURN(auto chunk, client_->get(key, revision));
    if (!chunk)
      return make_error(ErrorCode::kCorrupt, where + ": its chunk " + key + " is missing");
    if (common::blake2b_256(chunk->value) != digest) {
      return make_error(ErrorCode::kCorrupt,
                        where + ": chunk " + key + " does not match its digest");
    }
    record += chunk->value;
  }
  if (record.size() != total) {
    return make_error(ErrorCode::kCorrupt,
                      where + ": chunks hold " + std::to_string(record.size()) +
                          " bytes, the manifest says " + std::to_string(total));
  }
  return decode_stored_block(as_bytes(record), where);
}

Result<ChainRecords> EtcdBlockStore::read_from(std::uint64_t from_height) const {
  FL_ASSIGN_OR_RETURN(auto head, read_head());
  ChainRecords out;
  if (!head.height || from_height > *head.height) return out;
  RangeRequest page{block_key(prefix_, from_height), prefix_end(prefix_ + "block/"), head.revision,
                    kPageBlocks, false};
  while (true) {
    FL_ASSIGN_OR_RETURN(auto r, client_->range(page));  // every page at the head's revision
    for (const auto& kv : r.kvs) {
      FL_ASSIGN_OR_RETURN(auto stored, load(kv, head.revision));
      out.blocks.push_back(std::move(stored.block));
      for (auto& t : stored.txs) out.txs.push_back(std::move(t));
    }
    if (!r.more || r.kvs.empty()) break;
    page.key = r.kvs.back().key + std::string(1, '\0');
  }
  if (out.blocks.empty() || out.blocks.front().height != from_height) {
    const std::string first = out.blocks.empty() ? "none" : std::to_string(out.blocks.front().height);
    return make_error(ErrorCode::kPrecondition,
                      name() + " does not hold block " + std::to_string(from_height) + " (its first block from there is " +
                          first + "): older history was archived out of etcd (`fl-ledger archive`) or deleted; read "
                          "a member's replica instead (`fl-ledger replicate --db REPLICA` keeps one)");
  }
  return out;
}

Result<std::optional<ArchiveMarker>> EtcdBlockStore::archive_marker() const {
  FL_ASSIGN_OR_RETURN(auto kv, client_->get(prefix_ + "archive"));
  if (!kv) return std::optional<ArchiveMarker>{};
  auto m = archive_marker_from_json(kv->value);
  if (!m.ok()) return with_context(m.error(), name() + " key " + prefix_ + "archive");
  return std::optional<ArchiveMarker>(std::move(m).value());
}

Result<std::vector<std::string>> EtcdBlockStore::chunk_keys(std::uint64_t from, std::uint64_t below) const {
  std::vector<std::string> out;
  if (from >= below) return out;
  RangeRequest page{block_key(prefix_, from), block_key(prefix_, below), 0, kPageBlocks, false};
  while (true) {
    FL_ASSIGN_OR_RETURN(auto r, client_->range(page));
    for (const auto& kv : r.kvs) {
      for (auto& c : manifest_chunks(prefix_, kv.value)) out.push_back(std::move(c));
    }
    if (!r.more || r.kvs.empty()) break;
    page.key = r.kvs.back().key + std::string(1, '\0');
  }
  return out;
}

Status EtcdBlockStore::archive(const ArchiveMarker& marker, const std::optional<ArchiveMarker>& previous) const {
  const std::string key = prefix_ + "archive";
  const auto guard = previous ? Compare::value_is(key, archive_marker_json(*previous)) : Compare::absent(key);
  FL_ASSIGN_OR_RETURN(auto put, client_->txn({guard}, {TxnOp::put(key, archive_marker_json(marker))}, {}));
  if (!put.succeeded) {
    return make_error(ErrorCode::kAlreadyExists,
                      name() + ": another archive marker was written meanwhile; read it and try again");
  }
  // One range delete for the blocks; the chunks (content-addressed keys) one by one.
  auto erased = client_->erase(block_key(prefix_, 0), block_key(prefix_, marker.below));
  if (!erased.ok()) return with_context(erased.error(), name() + ": deleting the archived blocks");
  for (const auto& chunk : marker.chunks) {
    if (auto e = client_->erase(chunk); !e.ok()) return with_context(e.error(), name() + ": deleting " + chunk);
  }
  return ok_status();
}

Result<std::uint64_t> EtcdBlockStore::block_count() const {
  FL_ASSIGN_OR_RETURN(auto head, read_head());
  return head.height ? *head.height + 1 : 0;
}

Result<std::optional<BlockRecord>> EtcdBlockStore::head() const {
  FL_ASSIGN_OR_RETURN(auto head, read_head());
  if (!head.height) return std::optional<BlockRecord>{};
  const std::string key = block_key(prefix_, *head.height);
  FL_ASSIGN_OR_RETURN(auto kv, client_->get(key, head.revision));
  if (!kv) return make_error(ErrorCode::kCorrupt, name() + ": the head names " + key + ", absent");
  FL_ASSIGN_OR_RETURN(auto stored, load(*kv, head.revision));
  return std::optional<BlockRecord>(std::move(stored.block));
}

Result<std::string> EtcdBlockStore::block_value(const StoredBlock& stored) {
  const auto record = encode_stored_block(stored);
  std::string value(kMagic);
  if (record.size() <= kInlineBytes) {
    value.push_back(static_cast<char>(kInline));
    return value + as_string(record);
  }
  value.push_back(static_cast<char>(kManifest));
  const std::uint64_t n = (record.size() + kChunkBytes - 1) / kChunkBytes;
  put_u64(value, record.size());
  put_u64(value, n);
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::span<const std::uint8_t> piece(
        record.data() + i * kChunkBytes, std::min(kChunkBytes, record.size() - i * kChunkBytes));
    const auto digest = common::blake2b_256(piece);
    const std::string key = prefix_ + "chunk/" + common::to_hex(digest);
    // Put-if-absent: a chunk is written once, so the rewrite watch can flag any second write.
    auto put = client_->txn({Compare::absent(key)}, {TxnOp::put(key, as_string(piece))}, {});
    if (!put.ok()) return with_context(put.error(), name() + ": writing chunk " + key);
    value.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  }
  return value;
}

Status EtcdBlockStore::append(const Block& block, std::span<const Transaction> txs,
                              std::span<const std::vector<std::uint8_t>> bodies,
                              std::span<const common::Digest> hashes) {
  const auto& h = block.header;
  StoredBlock stored;
  stored.block = {h.height,
                  to_vector(block.hash),
                  to_vector(h.prev_hash),
                  to_vector(h.merkle_root),
                  to_vector(h.proposer),
                  to_vector(block.signature),
                  h.time_ms,
                  h.tx_count};
  for (std::size_t i = 0; i < txs.size(); ++i) {
    stored.txs.push_back({h.height, i, to_vector(hashes[i]), to_vector(txs[i].issuer), bodies[i],
                          to_vector(txs[i].signature), static_cast<std::int64_t>(txs[i].type()),
                          txs[i].nonce, txs[i].amount()});
  }
  const std::string at = name() + ": block " + std::to_string(h.height);
  auto value = block_value(stored);
  if (!value.ok()) return value.error();

  const std::string head_key = prefix_ + "head", key = block_key(prefix_, h.height);
  std::vector<Compare> guard{
      h.height == 0 ? Compare::absent(head_key)
                    : Compare::value_is(head_key, head_value(h.height - 1, h.prev_hash)),
      Compare::absent(key)};
  std::vector<TxnOp> failure{TxnOp::get(key), TxnOp::get(head_key)};
  const bool owned = !options_.owner_lease_key.empty();
  if (owned) {
    guard.push_back(Compare::lease_is(options_.owner_lease_key, options_.owner_lease_id));
    failure.push_back(TxnOp::get(options_.owner_lease_key));
  }
  auto r = client_->txn(
      guard, {TxnOp::put(key, *value), TxnOp::put(head_key, head_value(h.height, block.hash))},
      failure);
  if (!r.ok()) return with_context(r.error(), at + " not appended");
  if (r->succeeded) return ok_status();
  if (r->responses.size() != failure.size()) {
    return make_error(ErrorCode::kProtocol, at + ": etcd's txn reply lacks the failure reads");
  }
  const auto& existing = r->responses[0].kvs;
  // Our own earlier try, whose reply was lost: the same bytes are already there.
  if (!existing.empty() && existing.front().value == *value) return ok_status();
  if (owned && (r->responses[2].kvs.empty() ||
                r->responses[2].kvs.front().lease != options_.owner_lease_id)) {
    return make_error(ErrorCode::kPrecondition,
                      at + " not appended: owner lease " + std::to_string(options_.owner_lease_id) +
                          " no longer holds " + options_.owner_lease_key +
                          "; another member owns the job now, stop writing for it");
  }
  if (!existing.empty()) {
    return make_error(ErrorCode::kAlreadyExists, at + " was appended by another writer first");
  }
  // The head moved past our parent (another writer: catch up and retry), or the chain does not
  // hold our parent at all (a fork or a lost store: retrying cannot help).
  const auto& heads = r->responses[1].kvs;
  const auto head_height = heads.empty() ? std::nullopt : parse_head_height(heads.front().value);
  const std::string seen = heads.empty() ? std::string("empty chain") : heads.front().value;
  if (head_height && *head_height >= h.height) {
    return make_error(ErrorCode::kAlreadyExists,
                      at + ": the chain's head moved on (" + seen + "); catch up and build again");
  }
  return make_error(ErrorCode::kPrecondition,
                    at + " does not extend the chain's head (" + seen +
                        "); the block's parent is not the newest block in etcd");
}

Result<std::unique_ptr<ChainRewriteWatch>> ChainRewriteWatch::start(const EtcdStoreOptions& options,
                                                                    std::int64_t start_revision) {
  const std::string prefix = chain_prefix(options.chain);
  FL_ASSIGN_OR_RETURN(auto watch, EtcdWatch::start(options.etcd, prefix + "block/",
                                                   prefix_end(prefix + "chunk/"), start_revision));
  FL_ASSIGN_OR_RETURN(auto store, EtcdBlockStore::open(options));
  return std::unique_ptr<ChainRewriteWatch>(new ChainRewriteWatch(std::move(watch), std::move(store)));
}

Result<std::vector<ChainRewrite>> ChainRewriteWatch::poll(std::chrono::milliseconds wait,
                                                          std::vector<ChainArchived>* archived) {
  FL_ASSIGN_OR_RETURN(auto events, watch_->poll(wait));
  std::vector<ChainRewrite> out;
  const std::string& prefix = store_->prefix();
  const std::string blocks = prefix + "block/";
  std::optional<ArchiveMarker> marker;  // read once, at the first delete of this batch
  bool read_marker = false;
  for (const auto& e : events) {
    const bool deleted = e.kind == WatchEvent::Kind::kDelete;
    if (!deleted && e.kv.version <= 1) continue;  // the one write of a new block or chunk
    ChainRewrite rw{0, e.kv.key, deleted};
    const bool block = e.kv.key.rfind(blocks, 0) == 0;
    if (block) {
      const std::string_view digits = std::string_view(e.kv.key).substr(blocks.size());
      std::from_chars(digits.data(), digits.data() + digits.size(), rw.height);
    }
    if (deleted && !read_marker) {
      read_marker = true;
      auto m = store_->archive_marker();
      if (m.ok()) marker = std::move(*m);  // unreadable: every delete stays an alarm
    }
    const bool accounted =
        deleted && marker &&
        (block ? rw.height < marker->below
               : std::find(marker->chunks.begin(), marker->chunks.end(), e.kv.key) != marker->chunks.end());
    if (!accounted) {
      out.push_back(std::move(rw));
    } else if (marker->below > archived_below_) {
      archived_below_ = marker->below;
      if (archived) archived->push_back({marker->below, marker->by});
    }
  }
  return out;
}

}  // namespace fl::ledger
