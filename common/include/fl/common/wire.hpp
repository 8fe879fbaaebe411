// The wire protocol between fl-worker (DEALER) and fl-coordinator (ROUTER).
// A message is multipart: [type][header][payload]; the header is a versioned cereal binary
// struct, the payload the raw float32 tensor bytes (never copied into the header).
// Signing: Ed25519 over BLAKE2b-256(version, job id, round, worker key, header digest,
// payload digest), see update_signing_digest().
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/checkpoint.hpp"
#include "fl/common/crypto.hpp"
#include "fl/common/dp_noise.hpp"
#include "fl/common/result.hpp"
#include "fl/common/training_settings.hpp"
#include "fl/common/tensor_codec.hpp"

namespace fl::common {

// 2: RoundTask carries TrainingSettings (double rates, max_steps); a v1 worker cannot read it.
// 3: RoundTask names the TorchScript model file's digest; workers fetch the file by it.
// 4: registration bound to job, coordinator key and a challenge; task, shutdown and
//    registration answers signed by the coordinator.
// 5: RoundTask carries the distributed-DP noise a worker adds (clip norm, noise multiplier, m).
// 6: the challenge answer carries the job's terms signed by the researcher; a registration
//    carries the worker's consent to them (terms digest and consent signature).
inline constexpr std::uint32_t kProtocolVersion = 6;
inline constexpr std::size_t kMaxHeaderBytes = 256 * 1024;
inline constexpr std::size_t kMaxTextBytes = 4096;        // any string field in a header
inline constexpr std::size_t kMaxCheckpointBytes = 256 * 1024;  // RoundTask.checkpoint (~1,000 cosignatures)
inline constexpr std::size_t kMaxChainHeaders = 256;             // RoundTask.chain_headers
inline constexpr std::size_t kMaxListItems = 1 << 16;     // any list field in a header

enum class MessageType : std::uint8_t {
  kRegister = 1,     // worker -> coordinator: public key, proof of key ownership
  kRegisterAck = 2,  // coordinator -> worker: accepted or the reason for refusal
  kHeartbeat = 3,    // worker -> coordinator: still here
  kRoundTask = 4,    // coordinator -> worker: global model + round config
  kUpdate = 5,       // worker -> coordinator: signed model delta
  kUpdateAck = 6,    // coordinator -> worker: accepted/rejected, later the signed receipt
  kShutdown = 7,     // coordinator -> worker: the job is over
  kError = 8,        // either way: a message could not be handled, with the reason
  kTaskError = 9,    // worker -> coordinator: this round's task could not be done, and why
  kModelFileRequest = 10,  // worker -> coordinator: send me the model file with this digest
  kModelFileReply = 11,    // coordinator -> worker: the file's bytes (payload), or why not
  kStoreRequest = 12,      // member -> member's store server: an update or model by digest
  kStoreReply = 13,        // store server -> member: the stored file (payload), or why not
};

std::string_view to_string(MessageType type);
Result<MessageType> parse_message_type(std::span<const std::uint8_t> frame);

struct RegisterRequest {
  std::uint32_t version = kProtocolVersion;
  PublicKey worker_key{};
  std::uint64_t num_samples = 0;
  std::string dataset_fingerprint;
  std::uint64_t timestamp_ms = 0;
  std::string device;       // "cpu", "cuda:0": informational
  Signature signature{};    // over registration_digest(worker_key, fingerprint, timestamp_ms)
  // Freshness and binding: the job and coordinator this registration is for, and the challenge
  // the coordinator gave this connection (all zero on first contact: the coordinator answers
  // with a challenge). session_signature covers them and the registration digest.
  std::string job_id;
  PublicKey coordinator_key{};
  Digest challenge{};
  Signature session_signature{};
  // Consent: the digest of the job terms the worker accepted (zero: none) and its signature over
  // consent_digest(worker_key, job_id, terms_digest, timestamp_ms) (job_terms.hpp).
  Digest terms_digest{};
  Signature consent_signature{};
};

struct RegisterAck {
  bool accepted = false;
  std::string reason;
  std::string job_id;
  PublicKey coordinator_key{};
  Digest challenge{};      // set when the coordinator asks the worker to sign this challenge
  // With a challenge: the job's terms (common::terms_text(), empty when the job has none) and
  // the researcher's signature over their digest.
  std::string terms;
  Signature terms_signature{};
  // A refusal by a member of the federation that does not own the job now: the owner's key, so a
  // worker holding the job's list of coordinators moves to it at once (zero otherwise).
  PublicKey owner_key{};
  Signature signature{};   // coordinator's, over register_ack_digest()
};

struct Heartbeat {
  PublicKey worker_key{};
  std::uint64_t timestamp_ms = 0;
};

struct RoundTask {
  std::uint32_t version = kProtocolVersion;
  std::string job_id;
  std::uint64_t round = 0;
  std::string model;  // model spec, e.g. "mlp"
  // For a TorchScript model: BLAKE2b-256 of the .pt file, which the worker fetches by this
  // digest (ModelFileRequest) instead of reading the coordinator's path. Zero: a zoo model.
  Digest model_file_digest{};
  TensorLayout layout;
  Digest model_digest{};  // digest_of(global parameters) = the payload
  TrainingSettings training;  // checked against the training bounds when decoded
  std::uint64_t seed = 0;
  std::uint64_t deadline_ms = 0;  // wall-clock deadline (ms since epoch) for the update
  TaskPrivacy privacy{};          // distributed DP: clip and add noise before sending (dp_noise.hpp)
  // The latest checkpoint of the ledger that k of the consortium's witnesses cosigned
  // (cosigned_checkpoint_to_json), or empty. A worker keeps the highest it saw and reports a
  // lower or diverging one (checkpoint_keeper.hpp); the cosignatures, not the coordinator's
  // signature, are what make it worth keeping.
  std::string checkpoint;
  // The headers of the blocks below and at that checkpoint's height (at most kMaxChainHeaders,
  // ascending, the last at its height), so a worker can settle its receipts for those blocks:
  // a receipt is final once verify_under_checkpoint() links its block to the cosigned head.
  std::vector<BlockHeader> chain_headers;
  Signature signature{};          // coordinator's, over round_task_digest()
};

struct UpdateHeader {
  std::uint32_t version = kProtocolVersion;
  std::string job_id;
  std::uint64_t round = 0;
  PublicKey worker_key{};
  Digest base_model_digest{};  // the global model this delta was trained from
  TensorLayout layout;
  Digest payload_digest{};
  std::uint64_t num_samples = 0;
  float train_loss = 0.0f;
  double train_seconds = 0.0;
  // An edge coordinator's partial result (fl/coordinator/edge.hpp): the RFC 6962 Merkle root of
  // the signing digests of the updates it combined, in the order combined, and their number.
  // Zero for a worker's own update.
  Digest inputs_root{};
  std::uint64_t inputs = 0;
  Signature signature{};  // see update_signing_digest()
};

// How a worker's update reached the ledger through an edge coordinator: the edge's signed
// partial result (its inputs_root commits to the updates the edge combined) and the Merkle
// path of the worker's update digest to that root. The ledger's transaction names the edge's
// update; verify_edge_link() checks the chain from the worker's update to it.
struct EdgeLink {
  UpdateHeader edge_update;
  std::uint64_t leaf_index = 0;
  std::vector<Digest> proof;  // in a tree of edge_update.inputs leaves
};

// A receipt binds an accepted update to the ledger: the round-result transaction that names it,
// the block holding that transaction, and the Merkle path from the transaction to the block's
// root. The coordinator signs it; the worker checks both the signature and the path.
struct Receipt {
  Digest update_digest{};
  std::uint64_t reward = 0;
  Digest tx_hash{};
  std::uint64_t block_height = 0;
  Digest block_hash{};
  Digest merkle_root{};
  std::uint64_t leaf_index = 0;
  std::uint64_t tree_size = 0;
  std::vector<Digest> proof;
  // Set when an edge coordinator took the update in: the rest of the receipt is then the job
  // owner's, for the edge's partial result, and `reward` is what the edge was paid.
  std::optional<EdgeLink> edge;
};

// Ok for a receipt without an edge link; with one: the edge's partial result is signed by its
// key, and `receipt.update_digest` is leaf edge->leaf_index of its inputs_root. The error
// names the link that does not hold.
Status verify_edge_link(const Receipt& receipt);
// The update the ledger's round transaction names for this receipt: the edge's partial
// result when there is an edge link, else receipt.update_digest.
Digest recorded_update(const Receipt& receipt);

struct UpdateAck {
  std::string job_id;
  std::uint64_t round = 0;
  Digest update_digest{};
  bool accepted = false;
  std::string reason;
  std::optional<Receipt> receipt;  // present once the round is on the ledger
  Signature signature{};           // coordinator's, over update_ack_digest()
};

struct Shutdown {
  std::string job_id;
  std::string reason;
  Signature signature{};  // coordinator's, over shutdown_digest()
};

struct ErrorMessage {
  std::string reason;
};

// A worker that cannot do a round's task (its data does not fit the model, training failed)
// says so instead of going silent; the coordinator logs it against that worker and the round.
struct TaskError {
  std::string job_id;
  std::uint64_t round = 0;
  std::string reason;
};

// A worker asks for the TorchScript file a task names (RoundTask::model_file_digest).
struct ModelFileRequest {
  Digest file_digest{};
};

// The answer: `found` with the file's bytes as the payload (the worker checks their digest), or
// the reason it cannot be served.
struct ModelFileReply {
  Digest file_digest{};
  bool found = false;
  std::string reason;
};

// A consortium member asks another member's store server (coordinator/store_service.hpp) for
// one entry of its update store: an accepted update (model = false) or a global model, by
// digest. The reply carries the stored file as its payload when found; the asker checks it
// against the digest (and an update against its worker's signature) before keeping it.
struct StoreRequest {
  bool model = false;
  Digest digest{};
};
struct StoreReply {
  bool model = false;
  Digest digest{};
  bool found = false;
  std::string reason;
};

// Digest of the header's fields except its signature.
Digest header_digest(const UpdateHeader& header);
// BLAKE2b-256(version, job id, round, worker key, header digest, payload digest): what a worker
// signs and what identifies an update everywhere (ledger, metrics, receipts).
Digest update_signing_digest(const UpdateHeader& header);
void sign_update(UpdateHeader& header, const SecretKey& key);

// What a worker's update signature commits to, without the payload or the other header fields
// (they enter through header_digest): enough for anyone to check the signature later. Two valid
// claims with one job, round and key but different signing digests prove equivocation (the
// evidence a slashing transaction carries, ledger/transaction.hpp).
struct UpdateClaim {
  std::uint32_t version = 0;
  std::string job_id;
  std::uint64_t round = 0;
  PublicKey worker{};
  Digest header_digest{};
  Digest payload_digest{};
  Signature signature{};
  bool operator==(const UpdateClaim&) const = default;
};
UpdateClaim update_claim(const UpdateHeader& header);
Digest claim_signing_digest(const UpdateClaim& claim);  // == update_signing_digest(header)
bool claim_signature_valid(const UpdateClaim& claim);
// Checks the signature against the header's worker key and that the payload digest matches.
Status verify_update(const UpdateHeader& header, std::span<const std::uint8_t> payload);

Digest update_ack_digest(const UpdateAck& ack);
void sign_update_ack(UpdateAck& ack, const SecretKey& coordinator_key);
bool verify_update_ack(const UpdateAck& ack, const PublicKey& coordinator_key);

// Signs the ledger registration (signature), the consent to request.terms_digest when it is set
// (consent_signature) and the session binding (session_signature).
void sign_registration(RegisterRequest& request, const SecretKey& key);
// For peers that accept whatever a coordinator offers (tests, benchmarks; fl-worker judges the
// terms first, worker/job_check.hpp): binds `request` to the challenge's job, coordinator and
// challenge, and consents to the terms it offers. Sign afterwards.
void answer_challenge(RegisterRequest& request, const RegisterAck& challenge);
// The ledger part only: the key owner registered this fingerprint at this time.
bool verify_registration(const RegisterRequest& request);
// The consent part: the key owner accepted the terms with request.terms_digest for this job.
bool verify_consent(const RegisterRequest& request);
Digest registration_session_digest(const RegisterRequest& request);
// The session part: signed by the worker key, for this job, this coordinator and this challenge;
// the error names which of them does not match (a replay from another connection fails here).
Status verify_registration_session(const RegisterRequest& request, std::string_view job_id,
                                   const PublicKey& coordinator_key, const Digest& challenge);

// Coordinator messages a worker acts on are signed by the coordinator key it pinned.
Digest register_ack_digest(const RegisterAck& ack);
void sign_register_ack(RegisterAck& ack, const SecretKey& coordinator_key);
bool verify_register_ack(const RegisterAck& ack, const PublicKey& coordinator_key);
Digest round_task_digest(const RoundTask& task);
void sign_round_task(RoundTask& task, const SecretKey& coordinator_key);
bool verify_round_task(const RoundTask& task, const PublicKey& coordinator_key);
Digest shutdown_digest(const Shutdown& shutdown);
void sign_shutdown(Shutdown& shutdown, const SecretKey& coordinator_key);
bool verify_shutdown(const Shutdown& shutdown, const PublicKey& coordinator_key);

// cereal binary encoding with bounded strings and lists; decoding never allocates more than
// the frame holds and reports the field that broke.
template <typename T>
std::string encode(const T& message);
template <typename T>
Result<T> decode(std::span<const std::uint8_t> bytes);

}  // namespace fl::common
