#include "fl/models/idx.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "support/builders.hpp"

namespace fl::models {
namespace {

const std::filesystem::path kFashion = "/usr/share/datasets/fashion-mnist";

// A ubyte IDX file: magic 00 00 08 rank, big-endian dims, then the bytes.
std::string idx_bytes(const std::vector<std::uint32_t>& dims, const std::string& body) {
  std::string out{'\0', '\0', '\x08', static_cast<char>(dims.size())};
  for (const auto d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((d >> shift) & 0xff));
  }
  return out + body;
}

void write_gzip(const std::filesystem::path& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())),
            static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK);
}

TEST(ReadIdx, ReadsFashionMnistTrainingImages) {
  auto images = read_idx(kFashion / "train-images-idx3-ubyte.gz");
  ASSERT_TRUE(images.ok()) << images.error().to_string();
  EXPECT_EQ(images->dims, (std::vector<std::int64_t>{60000, 28, 28}));
  EXPECT_EQ(images->data.size(), 60000u * 28 * 28);
  EXPECT_EQ(images->count(), 60000);
}

TEST(ReadIdx, ReadsFashionMnistTestLabelsInRange) {
  auto labels = read_idx(kFashion / "t10k-labels-idx1-ubyte.gz");
  ASSERT_TRUE(labels.ok()) << labels.error().to_string();
  ASSERT_EQ(labels->dims, (std::vector<std::int64_t>{10000}));
  std::vector<int> counts(10, 0);
  for (const auto label : labels->data) {
    ASSERT_LT(label, 10);
    ++counts[label];
  }
  for (const int count : counts) EXPECT_EQ(count, 1000);  // the test split is balanced
}

TEST(ReadIdx, ReadsPlainAndGzippedFilesAlike) {
  test::TempDir dir;
  const std::string bytes = idx_bytes({2, 3}, "abcdef");
  test::write_file(dir / "plain.idx", bytes);
  write_gzip(dir / "packed.idx", bytes);
  auto plain = read_idx(dir / "plain.idx");
  auto packed = read_idx(dir / "packed.idx");
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  ASSERT_TRUE(packed.ok()) << packed.error().to_string();
  EXPECT_EQ(plain->dims, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(plain->data, packed->data);
  EXPECT_EQ(std::string(plain->data.begin(), plain->data.end()), "abcdef");
}

TEST(ReadIdx, ReportsMissingFileAsNotFound) {
  auto result = read_idx("/nonexistent/train-images-idx3-ubyte.gz");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kNotFound);
  EXPECT_NE(result.error().message.find("/nonexistent/train-images"), std::string::npos);
}

TEST(ReadIdx, RejectsBadMagic) {
  test::TempDir dir;
  test::write_file(dir / "bad.idx", std::string("\x12\x34\x08\x01\0\0\0\x01", 8) + "x");
  auto result = read_idx(dir / "bad.idx");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(result.error().message.find("bad magic"), std::string::npos);
}

TEST(ReadIdx, RejectsTruncatedPlainFileBeforeAllocating) {
  test::TempDir dir;
  // Claims 60000x28x28 but holds ten bytes.
  test::write_file(dir / "short.idx", idx_bytes({60000, 28, 28}, "0123456789"));
  auto result = read_idx(dir / "short.idx");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(result.error().message.find("truncated"), std::string::npos) << result.error().message;
  EXPECT_NE(result.error().message.find("47040000"), std::string::npos) << result.error().message;
}

TEST(ReadIdx, RejectsPlainFileWithExtraBytes) {
  test::TempDir dir;
  test::write_file(dir / "long.idx", idx_bytes({4}, "abcdefgh"));
  auto result = read_idx(dir / "long.idx");
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("extra bytes"), std::string::npos) << result.error().message;
}

TEST(ReadIdx, RejectsGzipWhoseContentDisagreesWithDims) {
  test::TempDir dir;
  write_gzip(dir / "short.idx.gz", idx_bytes({100, 28, 28}, std::string(50, 'x')));
  auto result = read_idx(dir / "short.idx.gz");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(result.error().message.find("78416 uncompressed bytes"), std::string::npos) << result.error().message;
}

TEST(ReadIdx, RejectsTruncatedGzipStream) {
  test::TempDir dir;
  const std::string original = test::read_file(kFashion / "t10k-labels-idx1-ubyte.gz");
  test::write_file(dir / "cut.gz", original.substr(0, original.size() / 2));
  auto result = read_idx(dir / "cut.gz");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(result.error().message.find("cut.gz"), std::string::npos);
}

TEST(ReadIdx, RejectsGzipWithCorruptedBody) {
  test::TempDir dir;
  std::string bytes = test::read_file(kFashion / "t10k-labels-idx1-ubyte.gz");
  for (std::size_t i = bytes.size() / 2; i < bytes.size() / 2 + 64; ++i) bytes[i] ^= 0x5a;
  test::write_file(dir / "flipped.gz", bytes);
  auto result = read_idx(dir / "flipped.gz");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(result.error().message.find("gzip"), std::string::npos) << result.error().message;
}

TEST(ReadIdx, RejectsDimsClaimingMoreThanTheLimit) {
  test::TempDir dir;
  test::write_file(dir / "huge.idx", idx_bytes({0xffffffffu, 0xffffffffu}, ""));
  auto result = read_idx(dir / "huge.idx");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kLimitExceeded);
}

TEST(ReadIdx, RejectsNonByteElementType) {
  test::TempDir dir;
  test::write_file(dir / "float.idx", std::string("\0\0\x0d\x01\0\0\0\x01", 8) + "abcd");
  auto result = read_idx(dir / "float.idx");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(result.error().message.find("element type"), std::string::npos);
}

}  // namespace
}  // namespace fl::models
