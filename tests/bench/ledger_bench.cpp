// Ledger throughput: signed transactions appended per second (blocks of 100 and 1000, each
// block one SQLite transaction with synchronous=FULL) and transactions verified per second by
// verify_ledger(), beside libsodium's raw Ed25519 sign and verify rates measured in the same run.
// Run: build-*/bin/ledger_bench (never part of ctest).
#include <benchmark/benchmark.h>
#include <sodium.h>

#include <filesystem>
#include <random>

#include "fl/common/registration.hpp"
#include "fl/ledger/ledger.hpp"

namespace {

using namespace fl;
constexpr int kAccounts = 100;

common::KeyPair account(int i) { return common::key_pair_from_label("bench-" + std::to_string(i)); }

struct BenchLedger {
  std::filesystem::path dir;
  std::unique_ptr<ledger::Ledger> led;
  std::vector<common::KeyPair> keys;
  common::KeyPair authority = common::key_pair_from_label("bench-authority");

  explicit BenchLedger(const std::string& tag) {
    dir = std::filesystem::temp_directory_path() / ("fl-ledger-bench-" + tag + "-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    led = ledger::Ledger::open(dir / "ledger.db").value();
    if (!led->initialize(authority).ok()) std::abort();
    std::vector<ledger::RegistrationRecord> regs;
    ledger::RoundRecord round{"bench", 1, {}, "mean", "cosine", {}, {}};
    for (int i = 0; i < kAccounts; ++i) {
      keys.push_back(account(i));
      const auto& k = keys.back();
      regs.push_back({k.public_key, "", 1,
                      common::sign(k.secret_key, common::registration_digest(k.public_key, "", 1))});
      round.accepted.push_back({k.public_key, {}, 1.0, 1});
    }
    ledger::JobRecord job{"bench", authority.public_key, "mlp", "mean", 1'000'000'000'000ull};
    if (!led->record_round(authority, authority, job, regs, round).ok()) std::abort();
  }
  ~BenchLedger() {
    led.reset();
    std::filesystem::remove_all(dir);
  }
  // n signed transfers, account i -> i+1, with each sender's next nonces.
  std::vector<ledger::Transaction> transfers(int n) {
    std::vector<ledger::Transaction> txs;
    std::vector<std::uint64_t> nonce(kAccounts);
    for (int i = 0; i < kAccounts; ++i) nonce[i] = led->next_nonce(keys[i].public_key);
    for (int t = 0; t < n; ++t) {
      const int from = t % kAccounts;
      txs.push_back(ledger::make_signed(keys[from], nonce[from]++, 1,
                                        ledger::TransferBody{keys[(from + 1) % kAccounts].public_key, 1}));
    }
    return txs;
  }
};

void BM_AppendSignedTransfers(benchmark::State& state) {
  BenchLedger b("append");
  const int n = static_cast<int>(state.range(0));
  for (auto _ : state) {
    auto txs = b.transfers(n);  // signing is part of the measured cost
    auto block = b.led->append_block(b.authority, std::move(txs));
    if (!block.ok()) state.SkipWithError(block.error().to_string().c_str());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.counters["blocks"] = static_cast<double>(state.iterations());
}
BENCHMARK(BM_AppendSignedTransfers)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_VerifyLedger(benchmark::State& state) {
  BenchLedger b("verify");
  const int blocks = static_cast<int>(state.range(0));
  for (int i = 0; i < blocks; ++i) {
    if (!b.led->append_block(b.authority, b.transfers(1000)).ok()) std::abort();
  }
  std::uint64_t txs = 0;
  for (auto _ : state) {
    auto report = ledger::verify_ledger(b.dir / "ledger.db");
    if (!report.ok() || !report->ok) state.SkipWithError("verify failed");
    txs = report->transactions;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * txs));
  state.counters["transactions"] = static_cast<double>(txs);
}
BENCHMARK(BM_VerifyLedger)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();

// Reference: libsodium alone, over 32-byte digests like the ledger's signed messages.
void BM_RawEd25519Verify(benchmark::State& state) {
  const auto key = account(0);
  std::array<unsigned char, 32> msg{};
  randombytes_buf(msg.data(), msg.size());
  std::array<unsigned char, 64> sig{};
  crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), key.secret_key.bytes().data());
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto_sign_verify_detached(sig.data(), msg.data(), msg.size(), key.public_key.data()));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEd25519Verify);

void BM_RawEd25519Sign(benchmark::State& state) {
  const auto key = account(0);
  std::array<unsigned char, 32> msg{};
  std::array<unsigned char, 64> sig{};
  for (auto _ : state) {
    crypto_sign_detached(sig.data(), nullptr, msg.data(), msg.size(), key.secret_key.bytes().data());
    benchmark::DoNotOptimize(sig);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RawEd25519Sign);

}  // namespace

BENCHMARK_MAIN();
