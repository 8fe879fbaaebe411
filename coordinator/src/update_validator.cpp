#include "fl/coordinator/update_validator.hpp"

#include "fl/coordinator/contribution.hpp"

namespace fl::coordinator {

namespace {
Error reject(Rejection& r, ErrorCode code, std::string reason) {
  r.reason = reason;
  return make_error(code, std::move(reason));
}
}  // namespace

Result<ValidatedUpdate> validate_update(const InboundMessage& message, const RoundExpectation& expect,
                                        Rejection& rejection) {
  auto header = common::decode<common::UpdateHeader>(message.header.bytes);
  if (!header.ok()) return reject(rejection, header.error().code, header.error().message);
  const auto& h = *header;
  rejection.worker = h.worker_key;
  rejection.digest = common::update_signing_digest(h);

  rejection.standing = Standing::kUnregistered;
  if (!expect.sender) {
    return reject(rejection, ErrorCode::kPrecondition, "update from a connection with no registered worker: register first");
  }
  if (*expect.sender != h.worker_key) {
    return reject(rejection, ErrorCode::kPrecondition,
                  "update names worker " + common::short_id(h.worker_key) + " but this connection registered " +
                      common::short_id(*expect.sender));
  }
  // ZeroMQ hands small frames (up to 8 KB over TCP) out of its receive buffer at any offset;
  // floats are read in place, so such a payload is first copied to aligned memory (cheap: small).
  SharedBytes payload = message.payload;
  if (reinterpret_cast<std::uintptr_t>(payload.bytes.data()) % alignof(float) != 0) {
    payload = SharedBytes::copy_of(payload.bytes);
  }
  rejection.standing = Standing::kBadSignature;
  if (auto s = common::verify_update(h, payload.bytes); !s.ok()) {
    return reject(rejection, s.error().code, s.error().message);
  }
  rejection.standing = Standing::kUnsampled;
  if (!expect.sampled->count(h.worker_key)) {
    return reject(rejection, ErrorCode::kPrecondition,
                  "worker " + common::short_id(h.worker_key) + " was not asked for round " +
                      std::to_string(expect.round));
  }
  rejection.standing = Standing::kVerified;
  if (h.version != common::kProtocolVersion) {
    return reject(rejection, ErrorCode::kProtocol, "protocol version " + std::to_string(h.version));
  }
  if (h.job_id != expect.job_id || h.round != expect.round) {
    return reject(rejection, ErrorCode::kPrecondition,
                  "update is for job '" + h.job_id + "' round " + std::to_string(h.round) + ", expected '" +
                      expect.job_id + "' round " + std::to_string(expect.round));
  }
  if (h.base_model_digest != expect.base_model_digest) {
    return reject(rejection, ErrorCode::kPrecondition, "update was trained from another global model");
  }
  if (!(h.layout == *expect.layout)) {
    return reject(rejection, ErrorCode::kProtocol,
                  "wrong shape: update layout " + h.layout.describe() + " does not match the model's " +
                      expect.layout->describe());
  }
  auto values = common::view_payload(h.layout, payload.bytes);
  if (!values.ok()) return reject(rejection, values.error().code, values.error().message);
  if (auto bad = common::first_non_finite(*values); bad >= 0) {
    return reject(rejection, ErrorCode::kProtocol,
                  "non-finite value at index " + std::to_string(bad) + " of " + std::to_string(values->size()));
  }
  if (h.num_samples == 0 || h.num_samples > expect.max_samples) {
    return reject(rejection, ErrorCode::kLimitExceeded,
                  "sample count " + std::to_string(h.num_samples) + " outside [1, " +
                      std::to_string(expect.max_samples) + "]");
  }
  if (expect.max_norm > 0) {
    const double norm = l2_norm(*values);
    if (norm > expect.max_norm) {
      return reject(rejection, ErrorCode::kLimitExceeded,
                    "update norm " + std::to_string(norm) + " exceeds limit " + std::to_string(expect.max_norm));
    }
  }
  return ValidatedUpdate{std::move(header).value(), rejection.digest, std::move(payload), *values};
}

}  // namespace fl::coordinator
