// Key files (enrolment.allow_files, --coordinator-key, worker keys) and the hex readers behind
// every key and digest given on a command line or in a config.
#include <cstdint>

#include "fl/common/crypto.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace fl::common;
  const auto text = fl::fuzz::as_text(data, size);
  if (auto bytes = from_hex(text); bytes.ok()) FL_FUZZ_CHECK(bytes->size() * 2 == size);
  if (auto key = public_key_from_hex(text); key.ok()) FL_FUZZ_CHECK(to_hex(*key).size() == 64);
  (void)digest_from_hex(text);
  const auto path = fl::fuzz::in_memory_file({data, size});
  (void)load_public_key_file(path);
  if (auto pair = load_key_file(path); pair.ok()) (void)short_id(pair->public_key);
  return 0;
}
