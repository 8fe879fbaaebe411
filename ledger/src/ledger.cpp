#include "fl/ledger/ledger.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "fl/common/merkle.hpp"
#include "fl/ledger/rewards.hpp"
#include "replay.hpp"

namespace fl::ledger {

using common::short_id;

namespace {
constexpr int kAppendAttempts = 32;  // another process appending first makes us build again
}  // namespace

struct Ledger::Impl {
  std::unique_ptr<BlockStore> store;
  ReplayCursor chain;

  // Applies blocks committed since the last look (by this or another process), without
  // re-checking signatures: verify_ledger() does that.
  Status catch_up();
  using Builder = std::function<Result<std::vector<Transaction>>(const LedgerState&)>;
  // Catches up, builds the block's transactions from the current state, checks and appends
  // them; if another writer appended first, does it all again.
  Result<AppendedBlock> append(const common::KeyPair& proposer, const Builder& build, bool check_signatures);
  Result<AppendedBlock> write_block(const common::KeyPair& proposer, std::vector<Transaction> txs,
                                    bool check_signatures);
};

Status Ledger::Impl::catch_up() {
  FL_ASSIGN_OR_RETURN(auto records, store->read_from(chain.block_count));
  if (records.blocks.empty() && records.txs.empty()) return ok_status();
  if (auto failure = replay_chain(chain, records, ReplayOptions{})) {
    return failure->to_error(store->name(), "run `fl-ledger verify`");
  }
  return ok_status();
}

Result<AppendedBlock> Ledger::Impl::append(const common::KeyPair& proposer, const Builder& build,
                                           bool check_signatures) {
  for (int attempt = 1;; ++attempt) {
    FL_RETURN_IF_ERROR(catch_up());
    FL_ASSIGN_OR_RETURN(auto txs, build(chain.state));
    auto block = write_block(proposer, std::move(txs), check_signatures);
    if (block.ok() || block.error().code != ErrorCode::kAlreadyExists || attempt == kAppendAttempts) return block;
  }
}

Result<AppendedBlock> Ledger::Impl::write_block(const common::KeyPair& proposer, std::vector<Transaction> txs,
                                                bool check_signatures) {
  AppendedBlock out;
  out.txs = std::move(txs);

  BlockHeader header;
  header.height = chain.block_count;
  header.prev_hash = chain.head_hash;
  header.time_ms = std::max(now_ms(), chain.head_time_ms);
  header.tx_count = out.txs.size();
  header.proposer = proposer.public_key;

  LedgerState next = chain.block_count == 0 ? LedgerState(proposer.public_key) : chain.state;
  next.begin_block(header.height);
  FL_RETURN_IF_ERROR(next.check_block_contents(header, out.txs));
  std::vector<std::vector<std::uint8_t>> bodies;
  bodies.reserve(out.txs.size());
  for (std::size_t i = 0; i < out.txs.size(); ++i) {
    const auto& tx = out.txs[i];
    const std::string at = "new block " + std::to_string(header.height) + " tx " + std::to_string(i) + " (" +
                           std::string(to_string(tx.type())) + " by " + short_id(tx.issuer) + ")";
    if ((check_signatures || tx.type() == TxType::kRegister) && !signature_valid(tx)) {
      return make_error(ErrorCode::kBadSignature, at + ": signature does not verify");
    }
    auto applied = next.apply(tx);
    if (!applied.ok()) return with_context(applied.error(), at);
    bodies.push_back(encode(tx));
    out.tx_hashes.push_back(tx_hash(bodies.back(), tx.signature));
  }
  auto end = next.check_block_end();
  if (!end.ok()) return with_context(end.error(), "new block " + std::to_string(header.height));

  header.merkle_root = common::merkle_root(out.tx_hashes);
  out.block = seal_block(header, proposer);
  FL_RETURN_IF_ERROR(store->append(out.block, out.txs, bodies, out.tx_hashes));
  chain.state = std::move(next);
  chain.block_count = header.height + 1;
  chain.head_hash = out.block.hash;
  if (header.height == 0) chain.genesis_hash = out.block.hash;
  chain.head_time_ms = header.time_ms;
  chain.transactions += out.txs.size();
  return out;
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Ledger::~Ledger() = default;
Ledger::Ledger(Ledger&&) noexcept = default;
Ledger& Ledger::operator=(Ledger&&) noexcept = default;

Result<std::unique_ptr<Ledger>> Ledger::open(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(auto store, open_sqlite_block_store(path, StoreAccess::kReadWrite));
  return open(std::move(store));
}

Result<std::unique_ptr<Ledger>> Ledger::open(std::unique_ptr<BlockStore> store) {
  if (!store) return make_error(ErrorCode::kInvalidArgument, "Ledger::open without a block store");
  auto impl = std::make_unique<Impl>();
  impl->store = std::move(store);
  FL_RETURN_IF_ERROR(impl->catch_up());
  return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
}

Status Ledger::initialize(const common::KeyPair& member, const std::optional<Consortium>& consortium) {
  for (int attempt = 1;; ++attempt) {
    FL_RETURN_IF_ERROR(impl_->catch_up());
    if (impl_->chain.block_count > 0) {
      const auto& state = impl_->chain.state;
      if (consortium && state.founding_consortium() != *consortium) {
        return make_error(ErrorCode::kAlreadyExists,
                          impl_->store->name() + ": the ledger was founded by another consortium (" +
                              std::to_string(state.founding_consortium().members.size()) + " members, founder " +
                              short_id(state.authority()) + ") than the one configured; check the consortium file");
      }
      if (!state.consortium().is_member(member.public_key)) {
        return make_error(ErrorCode::kAlreadyExists,
                          impl_->store->name() + ": " + short_id(member.public_key) +
                              " is not a member of the ledger's consortium (epoch " +
                              std::to_string(state.consortium().epoch) + ", founder " + short_id(state.authority()) +
                              "); `fl-ledger consortium show` lists the members");
      }
      return ok_status();
    }
    std::vector<Transaction> txs;
    if (consortium) txs.push_back(make_signed(member, 1, now_ms(), ConsortiumBody{*consortium, {}}));
    auto genesis = impl_->write_block(member, std::move(txs), false);
    if (genesis.ok()) return ok_status();
    if (genesis.error().code != ErrorCode::kAlreadyExists || attempt == kAppendAttempts) return genesis.error();
  }
}

bool Ledger::initialized() const { return impl_->chain.block_count > 0; }
common::PublicKey Ledger::authority() const { return impl_->chain.state.authority(); }
std::uint64_t Ledger::height() const { return impl_->chain.block_count == 0 ? 0 : impl_->chain.block_count - 1; }
std::uint64_t Ledger::block_count() const { return impl_->chain.block_count; }
common::Digest Ledger::head_hash() const { return impl_->chain.head_hash; }
common::Digest Ledger::genesis_hash() const { return impl_->chain.genesis_hash; }
Result<std::vector<BlockHeader>> Ledger::headers(std::uint64_t from, std::uint64_t to) const {
  FL_ASSIGN_OR_RETURN(auto records, impl_->store->read_from(from));
  std::vector<BlockHeader> out;
  for (const auto& r : records.blocks) {
    if (r.height > to) break;
    FL_ASSIGN_OR_RETURN(auto block, to_block(r));
    out.push_back(block.header);
  }
  return out;
}
const LedgerState& Ledger::state() const { return impl_->chain.state; }
std::uint64_t Ledger::next_nonce(const common::PublicKey& account) const {
  return impl_->chain.state.next_nonce(account);
}

std::optional<RecordedRound> Ledger::last_round(std::string_view job_id) const {
  const auto& jobs = impl_->chain.state.jobs();
  const auto job = jobs.find(std::string(job_id));
  return job == jobs.end() ? std::nullopt : job->second.last_round;
}

Result<std::vector<RoundReceipt>> Ledger::record_round(const common::KeyPair& authority,
                                                       const common::KeyPair& researcher, const JobRecord& job,
                                                       std::span<const RegistrationRecord> registrations,
                                                       const RoundRecord& round) {
  if (!initialized()) return make_error(ErrorCode::kPrecondition, "record_round on a ledger without a genesis block");
  if (!impl_->chain.state.consortium().is_member(authority.public_key)) {
    return make_error(ErrorCode::kPrecondition, "record_round signed by " + short_id(authority.public_key) +
                                                    ", which is not a member of the ledger's consortium");
  }
  if (job.job_id != round.job_id) {
    return make_error(ErrorCode::kInvalidArgument, "round names job '" + round.job_id + "', job record '" + job.job_id + "'");
  }
  std::size_t round_index = 0;
  std::vector<std::uint64_t> rewards;
  auto build = [&](const LedgerState& s) -> Result<std::vector<Transaction>> {
    std::vector<Transaction> txs;
    std::map<common::PublicKey, std::uint64_t> nonces;
    auto next = [&](const common::PublicKey& k) {
      auto [it, fresh] = nonces.try_emplace(k, s.next_nonce(k));
      return it->second++;
    };
    const std::uint64_t now = now_ms();
    std::set<common::PublicKey> added;
    for (const auto& r : registrations) {
      const auto* known = s.find(r.worker);
      if ((known && known->registered) || !added.insert(r.worker).second) continue;
      txs.push_back(Transaction{r.worker, 0, r.timestamp_ms, RegisterBody{r.dataset_fingerprint}, r.worker_signature});
    }
    auto existing = s.jobs().find(job.job_id);
    if (existing == s.jobs().end()) {
      txs.push_back(make_signed(researcher, next(researcher.public_key), now,
                                OpenJobBody{job.job_id, job.model, job.rule, job.reward_per_round,
                                            job.privacy_budget, job.terms}));
      if (job.bounty > 0) {
        txs.push_back(make_signed(researcher, next(researcher.public_key), now, EscrowBody{job.job_id, job.bounty}));
      }
    } else if (existing->second.job.privacy_budget != job.privacy_budget) {
      return make_error(ErrorCode::kPrecondition,
                        "job '" + job.job_id + "' is on the ledger with another privacy budget; a "
                        "job's budget cannot change once it is open");
    } else if (existing->second.job.terms != job.terms) {
      return make_error(ErrorCode::kPrecondition,
                        "job '" + job.job_id + "' is on the ledger under other terms; a job's terms cannot "
                        "change once it is open (was its config edited? restore it, or run a new job id)");
    } else if (existing->second.job.reward_per_round != job.reward_per_round) {
      return make_error(ErrorCode::kPrecondition,
                        "job '" + job.job_id + "' is on the ledger with reward_per_round " +
                            std::to_string(existing->second.job.reward_per_round) + ", not " +
                            std::to_string(job.reward_per_round));
    }
    // Consents to the job's terms, each signed by its worker at registration, once per worker.
    const auto* consented = existing == s.jobs().end() ? nullptr : &existing->second.consents;
    for (const auto& r : registrations) {
      if (!job.terms || r.terms_digest == common::Digest{} || (consented && consented->count(r.worker))) continue;
      txs.push_back(Transaction{r.worker, 0, r.timestamp_ms, ConsentBody{job.job_id, r.terms_digest}, r.consent_signature});
    }
    // What the workers signed is checked here too: the ledger never records a forged consent.
    for (const auto& tx : txs) {
      if ((tx.type() == TxType::kRegister || tx.type() == TxType::kConsent) && !signature_valid(tx)) {
        return make_error(ErrorCode::kBadSignature, std::string(to_string(tx.type())) + " of " +
                                                        short_id(tx.issuer) + ": the worker's signature does not verify");
      }
    }
    round_index = txs.size();
    RoundResultBody result = round;
    if (job.terms) {
      result.terms_digest = existing != s.jobs().end() ? existing->second.terms_digest : common::terms_digest(*job.terms);
    }
    txs.push_back(make_signed(authority, next(authority.public_key), now, std::move(result)));
    // The ledger's rules say what the round pays (minted or out of the escrow): apply the block
    // so far to a copy of the state and write the payments it then expects.
    LedgerState preview = s;
    for (const auto& tx : txs) {
      if (auto applied = preview.apply(tx); !applied.ok()) {
        return with_context(applied.error(), "round " + std::to_string(round.round) + " of job '" + job.job_id + "'");
      }
    }
    std::map<common::PublicKey, std::uint64_t> paid;
    for (const auto& p : preview.pending_payments()) {
      paid[p.to] = p.amount;
      TxBody body = p.type == TxType::kPayout ? TxBody(PayoutBody{p.job_id, p.round, p.to, p.amount})
                                              : TxBody(RewardMintBody{p.job_id, p.round, p.to, p.amount});
      txs.push_back(make_signed(authority, next(authority.public_key), now, std::move(body)));
    }
    rewards.clear();
    for (const auto& a : round.accepted) rewards.push_back(paid.count(a.worker) ? paid.at(a.worker) : 0);
    return txs;
  };
  FL_ASSIGN_OR_RETURN(auto block, impl_->append(authority, build, false));

  std::vector<RoundReceipt> receipts;
  const auto proof = common::inclusion_proof(block.tx_hashes, round_index);
  for (std::size_t i = 0; i < round.accepted.size(); ++i) {
    RoundReceipt r;
    r.worker = round.accepted[i].worker;
    r.update_digest = round.accepted[i].update_digest;
    r.reward = rewards[i];
    r.tx_hash = block.tx_hashes[round_index];
    r.block_height = block.block.header.height;
    r.block_hash = block.block.hash;
    r.merkle_root = block.block.header.merkle_root;
    r.leaf_index = round_index;
    r.tree_size = block.tx_hashes.size();
    r.proof = proof;
    receipts.push_back(std::move(r));
  }
  return receipts;
}

Result<AppendedBlock> Ledger::submit(const common::KeyPair& holder, TxBody body) {
  if (!initialized()) return make_error(ErrorCode::kPrecondition, "submit on a ledger without a genesis block");
  return impl_->append(
      holder,
      [&](const LedgerState& s) -> Result<std::vector<Transaction>> {
        return std::vector<Transaction>{make_signed(holder, s.next_nonce(holder.public_key), now_ms(), body)};
      },
      false);
}

Result<AppendedBlock> Ledger::append_block(const common::KeyPair& proposer, std::vector<Transaction> txs) {
  if (!initialized()) return make_error(ErrorCode::kPrecondition, "append_block on a ledger without a genesis block");
  return impl_->append(
      proposer, [&](const LedgerState&) -> Result<std::vector<Transaction>> { return txs; },  // a copy: may retry
      true);
}

}  // namespace fl::ledger
