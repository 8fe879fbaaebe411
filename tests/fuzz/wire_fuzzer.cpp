// Wire headers: the first byte picks the decoder (1-9 the MessageType values, 10 a receipt, 11 a
// model-file header), the rest is the header frame. A header that decodes must re-encode to the
// same bytes (the encoding is canonical) and survive what a receiver does next with it.
#include <cstdint>
#include <span>
#include <string>

#include "fl/common/merkle.hpp"
#include "fl/common/model_file.hpp"
#include "fl/common/wire.hpp"
#include "fuzz_support.hpp"

namespace fl::common {
namespace {

template <typename T>
Result<T> decode_canonical(std::span<const std::uint8_t> bytes) {
  auto message = decode<T>(bytes);
  if (message.ok()) {
    const std::string again = encode(*message);
    FL_FUZZ_CHECK(again.size() == bytes.size() &&
                  std::equal(again.begin(), again.end(), reinterpret_cast<const char*>(bytes.data())));
  }
  return message;
}

// Reads a flag the way a receiver branches on it, so a bool holding neither 0 nor 1 is caught.
int use_flag(bool flag) {
  static volatile int taken = 0;
  if (flag) taken = taken + 1;
  return taken;
}

void use_layout(const TensorLayout& layout) {
  (void)layout.describe();
  (void)layout.digest();
  if (validate_layout(layout).ok()) (void)layout.payload_bytes();
}

void use_receipt(const Receipt& r) {
  (void)verify_inclusion(r.tx_hash, r.leaf_index, r.tree_size, r.proof, r.merkle_root);
}

void decode_frame(std::uint8_t kind, std::span<const std::uint8_t> header) {
  const PublicKey someone{};
  switch (kind) {
    case 1:
      if (auto m = decode_canonical<RegisterRequest>(header); m.ok()) (void)verify_registration(*m);
      break;
    case 2:
      if (auto m = decode_canonical<RegisterAck>(header); m.ok()) use_flag(m->accepted);
      break;
    case 3: (void)decode_canonical<Heartbeat>(header); break;
    case 4:
      if (auto m = decode_canonical<RoundTask>(header); m.ok()) use_layout(m->layout);
      break;
    case 5:
      if (auto m = decode_canonical<UpdateHeader>(header); m.ok()) {
        use_layout(m->layout);
        (void)verify_update(*m, {});
      }
      break;
    case 6:
      if (auto m = decode_canonical<UpdateAck>(header); m.ok()) {
        (void)verify_update_ack(*m, someone);
        use_flag(m->accepted);
        if (m->receipt) use_receipt(*m->receipt);
      }
      break;
    case 7: (void)decode_canonical<Shutdown>(header); break;
    case 8: (void)decode_canonical<ErrorMessage>(header); break;
    case 9: (void)decode_canonical<TaskError>(header); break;
    case 10:
      if (auto m = decode_canonical<Receipt>(header); m.ok()) use_receipt(*m);
      break;
    case 11:
      if (auto m = decode_canonical<ModelFileHeader>(header); m.ok()) use_layout(m->layout);
      break;
    default: break;
  }
}

}  // namespace
}  // namespace fl::common

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  (void)fl::common::parse_message_type({data, 1});
  fl::common::decode_frame(data[0], {data + 1, size - 1});
  return 0;
}
