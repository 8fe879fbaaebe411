#include "fl/common/result.hpp"

namespace fl {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kCorrupt: return "corrupt";
    case ErrorCode::kIo: return "i/o error";
    case ErrorCode::kBadSignature: return "bad signature";
    case ErrorCode::kProtocol: return "protocol error";
    case ErrorCode::kLimitExceeded: return "limit exceeded";
    case ErrorCode::kPrecondition: return "precondition failed";
    case ErrorCode::kUnavailable: return "unavailable";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kAlreadyExists: return "already exists";
    case ErrorCode::kInternal: return "internal error";
  }
  return "unknown error";
}

std::string Error::to_string() const {
  return std::string(fl::to_string(code)) + ": " + message;
}

}  // namespace fl
