// fl-ledger consortium: show who runs the federation, found a ledger with a consortium, and
// change the membership with a quorum of approvals (propose -> approve by each member -> submit).
#include <fstream>

#include "command_format.hpp"
#include "fl/common/text_file.hpp"
#include "fl/ledger/replicated_block_store.hpp"

namespace fl::ledger {
namespace {

using nlohmann::json;

// The ledger to change: the SQLite file c.db, or with `etcd` the etcd chain with c.db as its
// verified replica.
Result<std::unique_ptr<Ledger>> open_ledger(const CommandContext& c, const ConsortiumTarget& target) {
  if (target.etcd.empty()) return Ledger::open(c.db);
  FL_ASSIGN_OR_RETURN(auto urls, parse_etcd_endpoints(target.etcd, "--etcd"));
  ReplicaOptions options;
  options.store.etcd.endpoints = std::move(urls);
  options.store.chain = target.chain;
  options.replica_db = c.db;
  FL_ASSIGN_OR_RETURN(auto store, ReplicatedBlockStore::open(options));
  return Ledger::open(std::move(store));
}

Result<ConsortiumChange> read_change(const std::filesystem::path& file) {
  FL_ASSIGN_OR_RETURN(auto text, common::read_text_file(file));
  auto change = parse_consortium_change(text);
  if (!change.ok()) return with_context(change.error(), file.string());
  return change;
}

Status write_change(const std::filesystem::path& file, const ConsortiumChange& change) {
  const auto tmp = file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << consortium_change_json(change);
    if (!out.flush()) return make_error(ErrorCode::kIo, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file, ec);
  if (ec) return make_error(ErrorCode::kIo, "cannot replace " + file.string() + ": " + ec.message());
  return ok_status();
}

// The change must replace the ledger's consortium as it is now.
Status check_current(const ConsortiumChange& change, const Consortium& current, const std::filesystem::path& file) {
  if (change.current != consortium_digest(current)) {
    return make_error(ErrorCode::kPrecondition,
                      file.string() + " proposes a change to another consortium than the ledger's now (" +
                          describe_consortium(current) + "): propose it again");
  }
  if (change.next.epoch != current.epoch + 1) {
    return make_error(ErrorCode::kPrecondition, file.string() + " proposes epoch " + std::to_string(change.next.epoch) +
                                                    ", not " + std::to_string(current.epoch + 1));
  }
  return ok_status();
}

void print_keys(std::ostream& out, const char* name, const std::vector<common::PublicKey>& keys) {
  out << name << ":";
  if (keys.empty()) out << " none";
  out << '\n';
  for (const auto& k : keys) out << "  " << common::to_hex(k) << '\n';
}

}  // namespace

int command_consortium_show(const CommandContext& c) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  if (chain->blocks.empty()) {
    return fail(c, make_error(ErrorCode::kNotFound, c.db.string() + " holds no genesis block yet"));
  }
  const auto& now = chain->state.consortium();
  const auto& founding = chain->state.founding_consortium();
  if (c.json) {
    c.out << json{{"consortium", consortium_json(now)},
                  {"digest", common::to_hex(consortium_digest(now))},
                  {"founding_consortium", consortium_json(founding)},
                  {"genesis_hash", common::to_hex(chain->blocks.front().hash)}}
                 .dump(2)
          << '\n';
    return 0;
  }
  c.out << "consortium " << describe_consortium(now) << " (digest " << short_hex(consortium_digest(now)) << ")\n";
  print_keys(c.out, "members", now.members);
  print_keys(c.out, "witnesses", now.witnesses);
  print_keys(c.out, "minters", now.minters);
  if (now.epoch > 0) c.out << "founded as " << describe_consortium(founding) << '\n';
  c.out << "genesis " << common::to_hex(chain->blocks.front().hash) << '\n';
  return 0;
}

int command_consortium_found(const CommandContext& c, const ConsortiumTarget& target,
                             const std::filesystem::path& key_file, const std::filesystem::path& consortium_file) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, with_context(key.error(), "--key"));
  auto consortium = load_consortium_file(consortium_file);
  if (!consortium.ok()) return fail(c, consortium.error());
  if (!consortium->is_member(key->public_key)) {
    return fail(c, make_error(ErrorCode::kInvalidArgument, "--key " + common::short_id(key->public_key) +
                                                               " is not one of the members " + consortium_file.string() +
                                                               " names: the genesis is proposed by a member"));
  }
  auto led = open_ledger(c, target);
  if (!led.ok()) return fail(c, led.error());
  if (auto st = (*led)->initialize(*key, *consortium); !st.ok()) return fail(c, st.error());
  if (c.json) {
    c.out << json{{"ok", true}, {"consortium", consortium_json((*led)->state().founding_consortium())}}.dump(2) << '\n';
  } else {
    c.out << "ledger founded by the consortium " << describe_consortium((*led)->state().founding_consortium()) << '\n';
  }
  return 0;
}

int command_consortium_propose(const CommandContext& c, const std::filesystem::path& consortium_file,
                               const std::filesystem::path& out_file) {
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  auto next = load_consortium_file(consortium_file);
  if (!next.ok()) return fail(c, next.error());
  const auto& current = chain->state.consortium();
  ConsortiumChange change{consortium_digest(current), std::move(next).value(), {}};
  change.next.epoch = current.epoch + 1;
  if (auto st = write_change(out_file, change); !st.ok()) return fail(c, st.error());
  c.out << "proposed " << describe_consortium(change.next) << " to replace " << describe_consortium(current)
        << "; it needs " << current.quorum << " approvals (`fl-ledger consortium approve " << out_file.string()
        << " --key MEMBER.key`)\n";
  return 0;
}

int command_consortium_approve(const CommandContext& c, const std::filesystem::path& change_file,
                               const std::filesystem::path& key_file) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, with_context(key.error(), "--key"));
  auto change = read_change(change_file);
  if (!change.ok()) return fail(c, change.error());
  auto chain = load_chain(c.db);
  if (!chain.ok()) return fail(c, chain.error());
  const auto& current = chain->state.consortium();
  if (auto st = check_current(*change, current, change_file); !st.ok()) return fail(c, st.error());
  if (!current.is_member(key->public_key)) {
    return fail(c, make_error(ErrorCode::kPrecondition,
                              "--key " + common::short_id(key->public_key) + " is not a member of the consortium"));
  }
  std::erase_if(change->approvals, [&](const auto& a) { return a.member == key->public_key; });
  change->approvals.push_back(approve_consortium_change(current, change->next, *key));
  if (auto st = write_change(change_file, *change); !st.ok()) return fail(c, st.error());
  c.out << "approved by " << common::short_id(key->public_key) << ": " << change->approvals.size() << " of the "
        << current.quorum << " approvals needed\n";
  return 0;
}

int command_consortium_submit(const CommandContext& c, const ConsortiumTarget& target,
                              const std::filesystem::path& change_file, const std::filesystem::path& key_file) {
  auto key = common::load_key_file(key_file);
  if (!key.ok()) return fail(c, with_context(key.error(), "--key"));
  auto change = read_change(change_file);
  if (!change.ok()) return fail(c, change.error());
  auto led = open_ledger(c, target);
  if (!led.ok()) return fail(c, led.error());
  if (auto st = check_current(*change, (*led)->state().consortium(), change_file); !st.ok()) return fail(c, st.error());
  auto tx = make_signed(*key, (*led)->next_nonce(key->public_key), now_ms(),
                        ConsortiumBody{change->next, change->approvals});
  auto block = (*led)->append_block(*key, {tx});
  if (!block.ok()) return fail(c, block.error());
  print_appended(c, *block);
  return 0;
}

}  // namespace fl::ledger
