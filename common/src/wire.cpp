#include "fl/common/wire.hpp"

#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>

#include <sstream>
#include <streambuf>

#include "fl/common/job_terms.hpp"
#include "fl/common/merkle.hpp"
#include "fl/common/model_file.hpp"
#include "fl/common/registration.hpp"

namespace fl::common {

namespace {

// Thrown inside decoding only, caught in decode<T>() and turned into a Result.
struct FieldError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <class Archive>
void put_text(Archive& ar, const std::string& s) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(s.size())));
  ar(cereal::binary_data(s.data(), s.size()));
}

template <class Archive>
void get_text(Archive& ar, std::string& s, const char* field, std::size_t limit = kMaxTextBytes) {
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  if (n > limit) {
    throw FieldError(std::string(field) + " is " + std::to_string(n) + " bytes (limit " +
                     std::to_string(limit) + ")");
  }
  s.resize(n);
  ar(cereal::binary_data(s.data(), n));
}

template <class Archive>
cereal::size_type get_count(Archive& ar, std::size_t limit, const char* field) {
  cereal::size_type n = 0;
  ar(cereal::make_size_tag(n));
  if (n > limit) {
    throw FieldError(std::string(field) + " has " + std::to_string(n) + " items (limit " +
                     std::to_string(limit) + ")");
  }
  return n;
}

// A bool on the wire is one byte, 0 or 1; anything else is refused (reading it straight into a
// bool would be undefined behaviour).
template <class Archive>
void get_flag(Archive& ar, bool& flag, const char* field) {
  std::uint8_t byte = 0;
  ar(byte);
  if (byte > 1) throw FieldError(std::string(field) + " is " + std::to_string(byte) + ", not 0 or 1");
  flag = byte == 1;
}

template <class Archive, std::size_t N>
void put_bytes(Archive& ar, const std::array<std::uint8_t, N>& a) {
  ar(cereal::binary_data(a.data(), N));
}
template <class Archive, std::size_t N>
void get_bytes(Archive& ar, std::array<std::uint8_t, N>& a) {
  ar(cereal::binary_data(a.data(), N));
}

template <class Archive>
void put_layout(Archive& ar, const TensorLayout& layout) {
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(layout.tensors.size())));
  for (const auto& t : layout.tensors) {
    put_text(ar, t.name);
    ar(static_cast<std::uint8_t>(t.dtype));
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(t.shape.size())));
    for (auto d : t.shape) ar(d);
  }
}
template <class Archive>
void get_layout(Archive& ar, TensorLayout& layout) {
  layout.tensors.resize(get_count(ar, kMaxTensors, "layout.tensors"));
  for (auto& t : layout.tensors) {
    get_text(ar, t.name, "layout.tensor.name");
    std::uint8_t dtype = 0;
    ar(dtype);
    if (dtype != static_cast<std::uint8_t>(DType::kFloat32)) {
      throw FieldError("tensor '" + t.name + "' has unknown dtype " + std::to_string(dtype));
    }
    t.dtype = DType::kFloat32;
    t.shape.resize(get_count(ar, kMaxRank, "layout.tensor.shape"));
    for (auto& d : t.shape) ar(d);
  }
}

// Each message type: one put (writer) and one get (reader), fields in the same order.
template <class A> void put(A& ar, const RegisterRequest& m) {
  ar(m.version); put_bytes(ar, m.worker_key); ar(m.num_samples); put_text(ar, m.dataset_fingerprint);
  ar(m.timestamp_ms); put_text(ar, m.device); put_bytes(ar, m.signature);
  put_text(ar, m.job_id); put_bytes(ar, m.coordinator_key); put_bytes(ar, m.challenge);
  put_bytes(ar, m.session_signature); put_bytes(ar, m.terms_digest); put_bytes(ar, m.consent_signature);
}
template <class A> void get(A& ar, RegisterRequest& m) {
  ar(m.version); get_bytes(ar, m.worker_key); ar(m.num_samples);
  get_text(ar, m.dataset_fingerprint, "dataset_fingerprint"); ar(m.timestamp_ms);
  get_text(ar, m.device, "device"); get_bytes(ar, m.signature);
  get_text(ar, m.job_id, "job_id"); get_bytes(ar, m.coordinator_key); get_bytes(ar, m.challenge);
  get_bytes(ar, m.session_signature); get_bytes(ar, m.terms_digest); get_bytes(ar, m.consent_signature);
}

template <class A> void put_unsigned(A& ar, const RegisterAck& m) {
  ar(m.accepted); put_text(ar, m.reason); put_text(ar, m.job_id); put_bytes(ar, m.coordinator_key);
  put_bytes(ar, m.challenge); put_text(ar, m.terms); put_bytes(ar, m.terms_signature); put_bytes(ar, m.owner_key);
}
template <class A> void put(A& ar, const RegisterAck& m) { put_unsigned(ar, m); put_bytes(ar, m.signature); }
template <class A> void get(A& ar, RegisterAck& m) {
  get_flag(ar, m.accepted, "accepted"); get_text(ar, m.reason, "reason"); get_text(ar, m.job_id, "job_id");
  get_bytes(ar, m.coordinator_key); get_bytes(ar, m.challenge);
  get_text(ar, m.terms, "terms", kMaxTermsBytes); get_bytes(ar, m.terms_signature); get_bytes(ar, m.owner_key);
  get_bytes(ar, m.signature);
}

template <class A> void put(A& ar, const Heartbeat& m) { put_bytes(ar, m.worker_key); ar(m.timestamp_ms); }
template <class A> void get(A& ar, Heartbeat& m) { get_bytes(ar, m.worker_key); ar(m.timestamp_ms); }

// Training settings: every field of TrainingSettings, in declaration order.
template <class A> void put(A& ar, const TrainingSettings& t) {
  ar(static_cast<std::int32_t>(t.epochs), static_cast<std::int32_t>(t.batch_size),
     t.learning_rate, t.momentum, t.weight_decay, static_cast<std::int64_t>(t.max_steps));
}
template <class A> void get(A& ar, TrainingSettings& t) {
  std::int32_t epochs = 0, batch_size = 0;
  std::int64_t max_steps = 0;
  ar(epochs, batch_size, t.learning_rate, t.momentum, t.weight_decay, max_steps);
  t.epochs = epochs;
  t.batch_size = batch_size;
  t.max_steps = max_steps;
  if (auto st = check_training_settings(t); !st.ok()) throw FieldError(st.error().message);
}

template <class A> void put_unsigned(A& ar, const RoundTask& m) {
  ar(m.version); put_text(ar, m.job_id); ar(m.round); put_text(ar, m.model);
  put_bytes(ar, m.model_file_digest); put_layout(ar, m.layout); put_bytes(ar, m.model_digest); put(ar, m.training); ar(m.seed, m.deadline_ms);
  ar(m.privacy.clip_norm, m.privacy.noise_multiplier, m.privacy.min_workers); put_text(ar, m.checkpoint);
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(m.chain_headers.size())));
  for (const auto& h : m.chain_headers) {
    ar(h.height); put_bytes(ar, h.prev_hash); put_bytes(ar, h.merkle_root); ar(h.time_ms, h.tx_count);
    put_bytes(ar, h.proposer);
  }
}
template <class A> void put(A& ar, const RoundTask& m) { put_unsigned(ar, m); put_bytes(ar, m.signature); }
template <class A> void get(A& ar, RoundTask& m) {
  ar(m.version); get_text(ar, m.job_id, "job_id"); ar(m.round); get_text(ar, m.model, "model");
  get_bytes(ar, m.model_file_digest); get_layout(ar, m.layout); get_bytes(ar, m.model_digest); get(ar, m.training);
  ar(m.seed, m.deadline_ms);
  ar(m.privacy.clip_norm, m.privacy.noise_multiplier, m.privacy.min_workers);
  if (auto st = check_task_privacy(m.privacy); !st.ok()) throw FieldError(st.error().message);
  get_text(ar, m.checkpoint, "checkpoint", kMaxCheckpointBytes);
  m.chain_headers.resize(get_count(ar, kMaxChainHeaders, "chain_headers"));
  for (auto& h : m.chain_headers) {
    ar(h.height); get_bytes(ar, h.prev_hash); get_bytes(ar, h.merkle_root); ar(h.time_ms, h.tx_count);
    get_bytes(ar, h.proposer);
  }
  get_bytes(ar, m.signature);
}

template <class A> void put_unsigned(A& ar, const UpdateHeader& m) {
  ar(m.version); put_text(ar, m.job_id); ar(m.round); put_bytes(ar, m.worker_key);
  put_bytes(ar, m.base_model_digest); put_layout(ar, m.layout); put_bytes(ar, m.payload_digest);
  ar(m.num_samples, m.train_loss, m.train_seconds);
  put_bytes(ar, m.inputs_root); ar(m.inputs);
}
template <class A> void put(A& ar, const UpdateHeader& m) { put_unsigned(ar, m); put_bytes(ar, m.signature); }
template <class A> void get(A& ar, UpdateHeader& m) {
  ar(m.version); get_text(ar, m.job_id, "job_id"); ar(m.round); get_bytes(ar, m.worker_key);
  get_bytes(ar, m.base_model_digest); get_layout(ar, m.layout); get_bytes(ar, m.payload_digest);
  ar(m.num_samples, m.train_loss, m.train_seconds);
  get_bytes(ar, m.inputs_root); ar(m.inputs); get_bytes(ar, m.signature);
}

template <class A> void put(A& ar, const Receipt& m) {
  put_bytes(ar, m.update_digest); ar(m.reward); put_bytes(ar, m.tx_hash); ar(m.block_height);
  put_bytes(ar, m.block_hash); put_bytes(ar, m.merkle_root); ar(m.leaf_index, m.tree_size);
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(m.proof.size())));
  for (const auto& d : m.proof) put_bytes(ar, d);
  ar(m.edge.has_value());
  if (!m.edge) return;
  put(ar, m.edge->edge_update);
  ar(m.edge->leaf_index);
  ar(cereal::make_size_tag(static_cast<cereal::size_type>(m.edge->proof.size())));
  for (const auto& d : m.edge->proof) put_bytes(ar, d);
}
template <class A> void get(A& ar, Receipt& m) {
  get_bytes(ar, m.update_digest); ar(m.reward); get_bytes(ar, m.tx_hash); ar(m.block_height);
  get_bytes(ar, m.block_hash); get_bytes(ar, m.merkle_root); ar(m.leaf_index, m.tree_size);
  m.proof.resize(get_count(ar, 64, "receipt.proof"));
  for (auto& d : m.proof) get_bytes(ar, d);
  bool has_edge = false;
  get_flag(ar, has_edge, "receipt.has_edge");
  if (!has_edge) return;
  auto& e = m.edge.emplace();
  get(ar, e.edge_update);
  ar(e.leaf_index);
  e.proof.resize(get_count(ar, 64, "receipt.edge.proof"));
  for (auto& d : e.proof) get_bytes(ar, d);
}

template <class A> void put_unsigned(A& ar, const UpdateAck& m) {
  put_text(ar, m.job_id); ar(m.round); put_bytes(ar, m.update_digest); ar(m.accepted);
  put_text(ar, m.reason); ar(m.receipt.has_value());
  if (m.receipt) put(ar, *m.receipt);
}
template <class A> void put(A& ar, const UpdateAck& m) { put_unsigned(ar, m); put_bytes(ar, m.signature); }
template <class A> void get(A& ar, UpdateAck& m) {
  get_text(ar, m.job_id, "job_id"); ar(m.round); get_bytes(ar, m.update_digest);
  get_flag(ar, m.accepted, "accepted");
  get_text(ar, m.reason, "reason");
  bool has_receipt = false;
  get_flag(ar, has_receipt, "has_receipt");
  if (has_receipt) get(ar, m.receipt.emplace());
  get_bytes(ar, m.signature);
}

template <class A> void put(A& ar, const ModelFileHeader& m) {
  put_text(ar, m.job_id); ar(m.round); put_text(ar, m.model); put_layout(ar, m.layout); put_bytes(ar, m.digest);
}
template <class A> void get(A& ar, ModelFileHeader& m) {
  get_text(ar, m.job_id, "job_id"); ar(m.round); get_text(ar, m.model, "model"); get_layout(ar, m.layout);
  get_bytes(ar, m.digest);
}

template <class A> void put_unsigned(A& ar, const Shutdown& m) { put_text(ar, m.job_id); put_text(ar, m.reason); }
template <class A> void put(A& ar, const Shutdown& m) { put_unsigned(ar, m); put_bytes(ar, m.signature); }
template <class A> void get(A& ar, Shutdown& m) {
  get_text(ar, m.job_id, "job_id"); get_text(ar, m.reason, "reason"); get_bytes(ar, m.signature);
}
template <class A> void put(A& ar, const ErrorMessage& m) { put_text(ar, m.reason); }
template <class A> void get(A& ar, ErrorMessage& m) { get_text(ar, m.reason, "reason"); }
template <class A> void put(A& ar, const TaskError& m) {
  put_text(ar, m.job_id); ar(m.round); put_text(ar, m.reason);
}
template <class A> void get(A& ar, TaskError& m) {
  get_text(ar, m.job_id, "job_id"); ar(m.round); get_text(ar, m.reason, "reason");
}

template <class A> void put(A& ar, const ModelFileRequest& m) { put_bytes(ar, m.file_digest); }
template <class A> void get(A& ar, ModelFileRequest& m) { get_bytes(ar, m.file_digest); }
template <class A> void put(A& ar, const ModelFileReply& m) {
  put_bytes(ar, m.file_digest); ar(m.found); put_text(ar, m.reason);
}
template <class A> void get(A& ar, ModelFileReply& m) {
  get_bytes(ar, m.file_digest); get_flag(ar, m.found, "found"); get_text(ar, m.reason, "reason");
}
template <class A> void put(A& ar, const StoreRequest& m) { ar(m.model); put_bytes(ar, m.digest); }
template <class A> void get(A& ar, StoreRequest& m) { get_flag(ar, m.model, "model"); get_bytes(ar, m.digest); }
template <class A> void put(A& ar, const StoreReply& m) {
  ar(m.model); put_bytes(ar, m.digest); ar(m.found); put_text(ar, m.reason);
}
template <class A> void get(A& ar, StoreReply& m) {
  get_flag(ar, m.model, "model"); get_bytes(ar, m.digest); get_flag(ar, m.found, "found");
  get_text(ar, m.reason, "reason");
}

// Reads straight out of the received frame.
class SpanStreamBuf : public std::streambuf {
 public:
  explicit SpanStreamBuf(std::span<const std::uint8_t> bytes) {
    char* begin = const_cast<char*>(reinterpret_cast<const char*>(bytes.data()));
    setg(begin, begin, begin + bytes.size());
  }
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

constexpr std::uint32_t kHeaderFormat = 1;  // bumped when any header layout changes

template <typename F>
std::string write_archive(F&& body) {
  std::ostringstream out(std::ios::binary);
  {
    cereal::BinaryOutputArchive ar(out);
    ar(kHeaderFormat);
    body(ar);
  }
  return std::move(out).str();
}

}  // namespace

std::string_view to_string(MessageType type) {
  switch (type) {
    case MessageType::kRegister: return "register";
    case MessageType::kRegisterAck: return "register-ack";
    case MessageType::kHeartbeat: return "heartbeat";
    case MessageType::kRoundTask: return "round-task";
    case MessageType::kUpdate: return "update";
    case MessageType::kUpdateAck: return "update-ack";
    case MessageType::kShutdown: return "shutdown";
    case MessageType::kError: return "error";
    case MessageType::kTaskError: return "task-error";
    case MessageType::kModelFileRequest: return "model-file-request";
    case MessageType::kModelFileReply: return "model-file-reply";
    case MessageType::kStoreRequest: return "store-request";
    case MessageType::kStoreReply: return "store-reply";
  }
  return "unknown";
}

Result<MessageType> parse_message_type(std::span<const std::uint8_t> frame) {
  if (frame.size() != 1 || frame[0] < 1 || frame[0] > static_cast<std::uint8_t>(MessageType::kStoreReply)) {
    return make_error(ErrorCode::kProtocol, "unknown message type frame (" +
                                                std::to_string(frame.size()) + " bytes)");
  }
  return static_cast<MessageType>(frame[0]);
}

template <typename T>
std::string encode(const T& message) {
  return write_archive([&](auto& ar) { put(ar, message); });
}

template <typename T>
Result<T> decode(std::span<const std::uint8_t> bytes) {
  if (bytes.size() > kMaxHeaderBytes) {
    return make_error(ErrorCode::kLimitExceeded, "header is " + std::to_string(bytes.size()) +
                                                     " bytes (limit " + std::to_string(kMaxHeaderBytes) + ")");
  }
  SpanStreamBuf buf(bytes);
  std::istream in(&buf);
  T message;
  try {
    cereal::BinaryInputArchive ar(in);
    std::uint32_t format = 0;
    ar(format);
    if (format != kHeaderFormat) {
      return make_error(ErrorCode::kProtocol, "header format " + std::to_string(format) +
                                                  ", this build speaks " + std::to_string(kHeaderFormat));
    }
    get(ar, message);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kProtocol, std::string("malformed header: ") + e.what());
  }
  if (buf.remaining() != 0) {
    return make_error(ErrorCode::kProtocol,
                      "malformed header: " + std::to_string(buf.remaining()) + " trailing bytes");
  }
  return message;
}

#define FL_WIRE_INSTANTIATE(T)                 \
  template std::string encode<T>(const T&); \
  template Result<T> decode<T>(std::span<const std::uint8_t>);
FL_WIRE_INSTANTIATE(RegisterRequest)
FL_WIRE_INSTANTIATE(RegisterAck)
FL_WIRE_INSTANTIATE(Heartbeat)
FL_WIRE_INSTANTIATE(RoundTask)
FL_WIRE_INSTANTIATE(UpdateHeader)
FL_WIRE_INSTANTIATE(UpdateAck)
FL_WIRE_INSTANTIATE(Receipt)
FL_WIRE_INSTANTIATE(Shutdown)
FL_WIRE_INSTANTIATE(ErrorMessage)
FL_WIRE_INSTANTIATE(TaskError)
FL_WIRE_INSTANTIATE(ModelFileRequest)
FL_WIRE_INSTANTIATE(ModelFileReply)
FL_WIRE_INSTANTIATE(ModelFileHeader)
FL_WIRE_INSTANTIATE(StoreRequest)
FL_WIRE_INSTANTIATE(StoreReply)
#undef FL_WIRE_INSTANTIATE

Digest header_digest(const UpdateHeader& header) {
  return blake2b_256(write_archive([&](auto& ar) { put_unsigned(ar, header); }));
}

Digest update_signing_digest(const UpdateHeader& header) { return claim_signing_digest(update_claim(header)); }

UpdateClaim update_claim(const UpdateHeader& header) {
  return UpdateClaim{header.version,        header.job_id,         header.round,    header.worker_key,
                     header_digest(header), header.payload_digest, header.signature};
}

Digest claim_signing_digest(const UpdateClaim& claim) {
  return Hasher()
      .text("fl-update-v1")
      .u32(claim.version)
      .text(claim.job_id)
      .u64(claim.round)
      .array(claim.worker)
      .array(claim.header_digest)
      .array(claim.payload_digest)
      .finish();
}

bool claim_signature_valid(const UpdateClaim& claim) {
  return verify(claim.worker, claim_signing_digest(claim), claim.signature);
}

void sign_update(UpdateHeader& header, const SecretKey& key) {
  header.signature = sign(key, update_signing_digest(header));
}

Status verify_edge_link(const Receipt& receipt) {
  if (!receipt.edge) return ok_status();
  const auto& e = *receipt.edge;
  const auto& h = e.edge_update;
  if (!verify(h.worker_key, update_signing_digest(h), h.signature)) {
    return make_error(ErrorCode::kBadSignature,
                      "the edge coordinator's partial result is not signed by its key " + short_id(h.worker_key));
  }
  if (!verify_inclusion(receipt.update_digest, e.leaf_index, h.inputs, e.proof, h.inputs_root)) {
    return make_error(ErrorCode::kCorrupt, "update " + short_id(receipt.update_digest) +
                                               " is not among the updates the edge coordinator " +
                                               short_id(h.worker_key) + " combined (Merkle path to its inputs root)");
  }
  return ok_status();
}

Digest recorded_update(const Receipt& receipt) {
  return receipt.edge ? update_signing_digest(receipt.edge->edge_update) : receipt.update_digest;
}

Status verify_update(const UpdateHeader& header, std::span<const std::uint8_t> payload) {
  if (!verify(header.worker_key, update_signing_digest(header), header.signature)) {
    return make_error(ErrorCode::kBadSignature,
                      "update signature does not verify against worker key " + short_id(header.worker_key));
  }
  if (blake2b_256(payload) != header.payload_digest) {
    return make_error(ErrorCode::kBadSignature, "payload digest does not match the signed header");
  }
  return ok_status();
}

Digest update_ack_digest(const UpdateAck& ack) {
  return blake2b_256(write_archive([&](auto& ar) {
    put_text(ar, std::string("fl-update-ack-v1"));
    put_unsigned(ar, ack);
  }));
}

void sign_update_ack(UpdateAck& ack, const SecretKey& coordinator_key) {
  ack.signature = sign(coordinator_key, update_ack_digest(ack));
}

bool verify_update_ack(const UpdateAck& ack, const PublicKey& coordinator_key) {
  return verify(coordinator_key, update_ack_digest(ack), ack.signature);
}

void sign_registration(RegisterRequest& request, const SecretKey& key) {
  request.signature =
      sign(key, registration_digest(request.worker_key, request.dataset_fingerprint, request.timestamp_ms));
  request.consent_signature = {};
  if (request.terms_digest != Digest{}) {
    request.consent_signature =
        sign(key, consent_digest(request.worker_key, request.job_id, request.terms_digest, request.timestamp_ms));
  }
  request.session_signature = sign(key, registration_session_digest(request));
}

}  // namespace fl::common
