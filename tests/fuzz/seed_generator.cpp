// Writes the valid seed inputs of tests/fuzz/corpus/<harness>/ (the binary formats; the TOML
// and the finding reproducers are checked in by hand). Deterministic: fixed keys and values,
// so rerunning it rewrites the same files. Usage: fuzz_seed_generator CORPUS_DIR
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "command_format.hpp"
#include "fl/common/job_terms.hpp"
#include "fl/common/merkle.hpp"
#include "fl/common/model_file.hpp"
#include "fl/common/npy.hpp"
#include "fl/common/receipt_json.hpp"
#include "fl/common/wire.hpp"
#include "fl/ledger/block.hpp"
#include "fl/ledger/transaction.hpp"

namespace fs = std::filesystem;
using namespace fl;
using namespace fl::common;

namespace {

fs::path g_root;

void put(const std::string& harness, const std::string& name, const std::string& bytes) {
  const auto dir = g_root / harness;
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TensorLayout small_layout() {
  TensorLayout layout;
  layout.tensors.push_back({"fc.weight", {2, 3}, DType::kFloat32});
  layout.tensors.push_back({"fc.bias", {3}, DType::kFloat32});
  return layout;
}

Digest digest_of_text(std::string_view s) { return blake2b_256(s); }

Receipt sample_receipt() {
  std::vector<Digest> leaves;
  for (int i = 0; i < 5; ++i) leaves.push_back(digest_of_text("tx" + std::to_string(i)));
  Receipt r;
  r.update_digest = digest_of_text("update");
  r.reward = 250;
  r.tx_hash = leaves[2];
  r.block_height = 4;
  r.block_hash = digest_of_text("block");
  r.merkle_root = merkle_root(leaves);
  r.leaf_index = 2;
  r.tree_size = leaves.size();
  r.proof = inclusion_proof(leaves, 2);
  return r;
}

// Job terms run by (and, for brevity, researched by) `key`.
JobTerms fuzz_terms(const PublicKey& key) {
  JobTerms t;
  t.job_id = "job";
  t.researcher = key;
  t.purpose = "fuzzing";
  t.model = "mlp";
  t.data = "idx:fashion-mnist, 10 classes";
  t.rounds = 5;
  t.reward_per_round = 1000;
  t.coordinators = {key};
  return t;
}

template <typename T>
void wire(MessageType type, const std::string& name, const T& message) {
  put("wire", name, std::string(1, static_cast<char>(type)) + encode(message));
}

void wire_seeds() {
  const KeyPair worker = key_pair_from_label("fuzz-worker");
  const KeyPair coordinator = key_pair_from_label("fuzz-coordinator");
  RegisterRequest reg;
  reg.worker_key = worker.public_key;
  reg.num_samples = 600;
  reg.dataset_fingerprint = to_hex(digest_of_text("data"));
  reg.timestamp_ms = 1'700'000'000'000;
  reg.device = "cpu";
  sign_registration(reg, worker.secret_key);
  wire(MessageType::kRegister, "register", reg);
  wire(MessageType::kRegisterAck, "register_ack", RegisterAck{true, "", "job", coordinator.public_key});
  wire(MessageType::kRegisterAck, "register_ack_refused",
       RegisterAck{false, "key not allowed", "job", coordinator.public_key});
  {  // the challenge with the job's terms, and the registration consenting to them
    const JobTerms terms = fuzz_terms(coordinator.public_key);
    RegisterAck challenge{false, "sign this connection's challenge", "job", coordinator.public_key,
                          digest_of_text("challenge"), terms_text(terms)};
    challenge.terms_signature = sign(coordinator.secret_key, terms_digest(terms));
    sign_register_ack(challenge, coordinator.secret_key);
    wire(MessageType::kRegisterAck, "register_ack_terms", challenge);
    auto consenting = reg;
    answer_challenge(consenting, challenge);
    sign_registration(consenting, worker.secret_key);
    wire(MessageType::kRegister, "register_consent", consenting);
  }
  wire(MessageType::kHeartbeat, "heartbeat", Heartbeat{worker.public_key, 1'700'000'000'000});
  RoundTask task;
  task.job_id = "job";
  task.round = 3;
  task.model = "mlp";
  task.layout = small_layout();
  task.model_digest = digest_of_text("model");
  task.training.epochs = 1;
  task.training.batch_size = 32;
  task.training.learning_rate = 0.05;
  task.seed = 7;
  task.deadline_ms = 1'700'000'060'000;
  wire(MessageType::kRoundTask, "round_task", task);
  UpdateHeader update;
  update.job_id = "job";
  update.round = 3;
  update.worker_key = worker.public_key;
  update.base_model_digest = task.model_digest;
  update.layout = small_layout();
  const std::vector<float> delta(9, 0.25f);
  update.payload_digest = digest_of(delta);
  update.num_samples = 600;
  update.train_loss = 0.5f;
  update.train_seconds = 1.25;
  sign_update(update, worker.secret_key);
  wire(MessageType::kUpdate, "update", update);
  UpdateAck ack;
  ack.job_id = "job";
  ack.round = 3;
  ack.update_digest = update_signing_digest(update);
  ack.accepted = true;
  sign_update_ack(ack, coordinator.secret_key);
  wire(MessageType::kUpdateAck, "update_ack", ack);
  ack.receipt = sample_receipt();
  sign_update_ack(ack, coordinator.secret_key);
  wire(MessageType::kUpdateAck, "update_ack_receipt", ack);
  wire(MessageType::kShutdown, "shutdown", Shutdown{"job", "all rounds done"});
  wire(MessageType::kError, "error", ErrorMessage{"malformed header"});
  wire(MessageType::kTaskError, "task_error", TaskError{"job", 3, "data does not fit the model"});
  put("wire", "receipt", std::string(1, '\x0a') + encode(sample_receipt()));
  put("wire", "model_file_header",
      std::string(1, '\x0b') + encode(ModelFileHeader{"job", 3, "mlp", small_layout(), digest_of(delta)}));
}

void tensor_seeds() {
  // count, (rank, dims...)..., shift, payload: the small layout with 9 floats.
  std::string in;
  in += '\x02';
  auto dims = [&](std::initializer_list<std::int64_t> shape) {
    in += static_cast<char>(shape.size());
    for (auto d : shape) in.append(reinterpret_cast<const char*>(&d), 8);
  };
  dims({2, 3});
  dims({3});
  in += '\0';
  const std::vector<float> values(9, 1.5f);
  in.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
  put("tensor_payload", "small_layout", in);
  put("tensor_payload", "empty_layout", std::string(2, '\0'));
}

void file_seeds(const fs::path& scratch) {
  const std::vector<float> values{1, 2, 3, 4, 5, 6};
  const std::size_t two_d[] = {2, 3}, one_d[] = {6};
  (void)write_npy(scratch / "a.npy", values, two_d);
  put("npy", "two_d", slurp(scratch / "a.npy"));
  (void)write_npy(scratch / "b.npy", values, one_d);
  put("npy", "one_d", slurp(scratch / "b.npy"));

  const std::vector<float> params(9, 0.125f);
  (void)save_model_file(scratch / "m.flm", {"job", 3, "mlp", small_layout(), digest_of(params)}, params);
  put("model_file", "small", slurp(scratch / "m.flm"));

  // IDX: 3 images of 2x2 and their labels, plain and gzipped.
  const std::string images = std::string("\0\0\x08\x03\0\0\0\x03\0\0\0\x02\0\0\0\x02", 16) +
                             std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c", 12);
  const std::string labels = std::string("\0\0\x08\x01\0\0\0\x03", 8) + std::string("\x00\x01\x02", 3);
  put("idx", "images", images);
  put("idx", "labels", labels);
  gzFile gz = gzopen((scratch / "i.gz").c_str(), "wb");
  gzwrite(gz, images.data(), static_cast<unsigned>(images.size()));
  gzclose(gz);
  put("idx", "images_gz", slurp(scratch / "i.gz"));

  const KeyPair key = key_pair_from_label("fuzz-key");
  (void)save_key_file(scratch / "w.key", key);
  put("key_file", "key", slurp(scratch / "w.key"));
  (void)save_public_key_file(scratch / "w.key.pub", key.public_key);
  put("key_file", "public_key", slurp(scratch / "w.key.pub"));
  put("key_file", "hex", to_hex(key.public_key));
}

void ledger_seeds() {
  const KeyPair authority = key_pair_from_label("fuzz-authority");
  const KeyPair worker = key_pair_from_label("fuzz-worker");
  const auto body = [](const ledger::Transaction& tx) {
    const auto bytes = ledger::encode(tx);
    return std::string(bytes.begin(), bytes.end());
  };
  ledger::RoundResultBody round{"job", 3, digest_of_text("model"), "median", "cosine", {}, {}};
  round.accepted.push_back({worker.public_key, digest_of_text("u1"), 0.75, 600});
  round.rejected.push_back({authority.public_key, digest_of_text("u2"), "bad signature"});
  const std::pair<const char*, ledger::TxBody> bodies[] = {
      {"register", ledger::RegisterBody{"fingerprint"}},
      {"open_job", ledger::OpenJobBody{"job", "mlp", "fedavg", 1000}},
      {"round_result", round},
      {"reward_mint", ledger::RewardMintBody{"job", 3, worker.public_key, 250}},
      {"transfer", ledger::TransferBody{worker.public_key, 10}},
      {"stake", ledger::StakeBody{100}},
      {"unstake", ledger::UnstakeBody{50}},
      {"slash", ledger::SlashBody{worker.public_key, "equivocation", 20}},
      {"escrow", ledger::EscrowBody{"job", 500}},
      {"payout", ledger::PayoutBody{"job", 3, worker.public_key, 250}},
      {"refund", ledger::RefundBody{"job", 250}},
      {"issue", ledger::IssueBody{worker.public_key, 1000}},
  };
  std::uint64_t nonce = 1;
  for (const auto& [name, b] : bodies) {
    put("transaction", name, body(ledger::make_signed(authority, nonce++, 1'700'000'000'000, b)));
  }
  {  // version 4: a round result with its validation record and screening reasons, a slash
     // with equivocation evidence
    auto v4 = round;
    v4.validation = ledger::RoundValidation{0.9, 0.8};
    v4.score_reasons = {"a zero update"};
    put("transaction", "round_result_v4", body(ledger::make_signed(authority, nonce, 1'700'000'000'000, v4)));
    UpdateHeader h;
    h.job_id = "job";
    h.round = 3;
    h.worker_key = worker.public_key;
    sign_update(h, worker.secret_key);
    const auto first = update_claim(h);
    h.payload_digest = digest_of_text("other");
    sign_update(h, worker.secret_key);
    put("transaction", "slash_evidence",
        body(ledger::make_signed(authority, nonce, 1'700'000'000'000,
                                 ledger::SlashBody{worker.public_key, "equivocation", 20,
                                                   ledger::EquivocationEvidence{first, update_claim(h)}})));
  }
  {  // job terms: an open-job carrying them (version 4), a round naming them, a consent
    JobTerms terms = fuzz_terms(authority.public_key);
    terms.privacy = TermsPrivacy{8.0, 1e-5};
    terms.retention_days = 7;
    terms.readers = {"coordinators"};
    put("transaction", "open_job_terms",
        body(ledger::make_signed(authority, nonce, 1'700'000'000'000,
                                 ledger::OpenJobBody{"job", "mlp", "fedavg", 1000, ledger::PrivacyBudget{8.0, 1e-5}, terms})));
    auto named = round;
    named.terms_digest = terms_digest(terms);
    put("transaction", "round_result_terms", body(ledger::make_signed(authority, nonce, 1'700'000'000'000, named)));
    ledger::Transaction consent{worker.public_key, 0, 1'700'000'000'000, ledger::ConsentBody{"job", terms_digest(terms)}, {}};
    ledger::sign_transaction(consent, worker);
    put("transaction", "consent", body(consent));
  }
  round.scorer.clear();  // version 1: a round result written before scorers were recorded
  put("transaction", "round_result_v1",
      body(ledger::make_signed(authority, nonce, 1'700'000'000'000, round)));

  const Receipt r = sample_receipt();
  put("receipt_json", "verified", receipt_to_json_line("job", 3, r, true));
  Receipt single = r;
  single.leaf_index = 0;
  single.tree_size = 1;
  single.proof.clear();
  single.merkle_root = merkle_leaf_hash(single.tx_hash);
  put("receipt_json", "single_leaf", receipt_to_json_line("job", 1, single, false));

  ledger::MerkleProof proof;
  proof.tx_hash = r.tx_hash;
  proof.leaf_index = r.leaf_index;
  proof.tree_size = r.tree_size;
  proof.path = r.proof;
  ledger::BlockHeader header;
  header.height = 4;
  header.prev_hash = digest_of_text("block 3");
  header.merkle_root = r.merkle_root;
  header.time_ms = 1'700'000'000'000;
  header.tx_count = r.tree_size;
  header.proposer = authority.public_key;
  proof.block = ledger::seal_block(header, authority);
  put("merkle_proof", "valid", ledger::proof_json(proof).dump(2));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  g_root = argv[1];
  const auto scratch = fs::temp_directory_path() / ("fl-fuzz-seeds-" + std::to_string(::getpid()));
  fs::create_directories(scratch);
  wire_seeds();
  tensor_seeds();
  file_seeds(scratch);
  ledger_seeds();
  fs::remove_all(scratch);
  std::printf("seed corpus written under %s\n", g_root.c_str());
  return 0;
}
