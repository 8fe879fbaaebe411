#include <gtest/gtest.h>

#include "fl/common/model_file.hpp"
#include "support/builders.hpp"

namespace fl::common {
namespace {

ModelFileHeader header_for(const std::vector<float>& values) {
  ModelFileHeader h;
  h.job_id = "job";
  h.round = 4;
  h.model = "mlp";
  h.layout = test::small_layout();
  h.digest = digest_of(values);
  return h;
}

TEST(ModelFile, RoundTrips) {
  test::TempDir dir;
  auto values = test::ramp(9);
  ASSERT_TRUE(save_model_file(dir / "m.flm", header_for(values), values).ok());
  auto loaded = load_model_file(dir / "m.flm");
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_EQ(loaded->parameters, values);
  EXPECT_EQ(loaded->header.round, 4u);
}

TEST(ModelFile, TruncatedFileIsCorrupt) {
  test::TempDir dir;
  auto values = test::ramp(9);
  ASSERT_TRUE(save_model_file(dir / "m.flm", header_for(values), values).ok());
  std::string bytes = test::read_file(dir / "m.flm");
  test::write_file(dir / "m.flm", bytes.substr(0, bytes.size() - 4));
  auto loaded = load_model_file(dir / "m.flm");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("layout needs 36"), std::string::npos);
}

TEST(ModelFile, AlteredParameterFailsItsDigest) {
  test::TempDir dir;
  auto values = test::ramp(9);
  ASSERT_TRUE(save_model_file(dir / "m.flm", header_for(values), values).ok());
  std::string bytes = test::read_file(dir / "m.flm");
  bytes[bytes.size() - 1] ^= 0x40;
  test::write_file(dir / "m.flm", bytes);
  auto loaded = load_model_file(dir / "m.flm");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("digest"), std::string::npos);
}

TEST(ModelFile, OtherFileIsNotAModel) {
  test::TempDir dir;
  test::write_file(dir / "x", "hello world, not a model");
  auto loaded = load_model_file(dir / "x");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("bad magic"), std::string::npos);
}

}  // namespace
}  // namespace fl::common
