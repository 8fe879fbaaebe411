// NumPy .npy files: round trips, files written by NumPy itself, and malformed files refused with
// an error that names the problem.
#include "fl/common/npy.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace fl::common {
namespace {

using ::testing::HasSubstr;

class NpyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("fl_npy_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A file with a hand-written header: version 1.0, `dict` padded with spaces, then `data_bytes`
  // zero bytes.
  std::filesystem::path handmade(const std::string& dict, std::size_t data_bytes,
                                 std::uint8_t major = 1) {
    std::string header = dict;
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    std::string bytes = "\x93NUMPY";
    bytes += static_cast<char>(major);
    bytes += '\0';
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>(header.size() >> 8);
    if (major == 2) bytes += std::string(2, '\0');
    bytes += header + std::string(data_bytes, '\0');
    return raw(bytes);
  }
  std::filesystem::path raw(const std::string& bytes) {
    const auto path = dir_ / ("f" + std::to_string(count_++) + ".npy");
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  std::string error_of(const std::filesystem::path& path) {
    auto r = read_npy(path);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message;
  }

  std::filesystem::path dir_;
  int count_ = 0;
};

TEST_F(NpyFile, RoundTripsATwoDimensionalArray) {
  const std::vector<float> values = {1.5f, -2, 3, 4, 5, 6.25f};
  const std::size_t shape[] = {2, 3};
  ASSERT_TRUE(write_npy(dir_ / "a.npy", values, shape).ok());
  auto back = read_npy(dir_ / "a.npy");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->shape, (std::vector<std::size_t>{2, 3}));
  EXPECT_EQ(back->values, values);
}

TEST_F(NpyFile, RoundTripsAOneDimensionalArrayWithAlignedData) {
  const std::vector<float> values = {7, 8, 9};
  const std::size_t shape[] = {3};
  ASSERT_TRUE(write_npy(dir_ / "v.npy", values, shape).ok());
  // As NumPy does: the data starts on a 64-byte boundary (this header needs two lines of 64).
  EXPECT_EQ(std::filesystem::file_size(dir_ / "v.npy"), 128u + 12u);
  auto back = read_npy(dir_ / "v.npy");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->shape, (std::vector<std::size_t>{3}));
  EXPECT_EQ(back->values, values);
}

TEST_F(NpyFile, ReadsAVersionTwoHeader) {
  auto r = read_npy(handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, 2));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->values.size(), 2u);
}

TEST_F(NpyFile, RefusesWritingAShapeThatDoesNotMatchTheValues) {
  const std::vector<float> values = {1, 2, 3};
  const std::size_t shape[] = {2, 2};
  EXPECT_FALSE(write_npy(dir_ / "bad.npy", values, shape).ok());
}

TEST_F(NpyFile, RefusesFloat64) {
  EXPECT_THAT(error_of(handmade("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16)),
              HasSubstr("float64"));
}

TEST_F(NpyFile, RefusesFortranOrder) {
  EXPECT_THAT(error_of(handmade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16)),
              HasSubstr("Fortran order"));
}

TEST_F(NpyFile, RefusesBigEndian) {
  EXPECT_THAT(error_of(handmade("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8)),
              HasSubstr("big-endian"));
}

TEST_F(NpyFile, RefusesOtherDtypes) {
  EXPECT_THAT(error_of(handmade("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 8)),
              HasSubstr("dtype '<i4'"));
}

TEST_F(NpyFile, RefusesTruncatedData) {
  EXPECT_THAT(
      error_of(handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (100, 10), }", 3996)),
      HasSubstr("truncated: shape needs 4000 data bytes, file has 3996"));
}

TEST_F(NpyFile, RefusesAShapeFarLargerThanTheFileWithoutAllocatingIt) {
  EXPECT_THAT(error_of(handmade(
                  "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000, 1000000), }", 8)),
              HasSubstr("truncated"));
  EXPECT_THAT(error_of(handmade("{'descr': '<f4', 'fortran_order': False, 'shape': "
                                "(99999999999999999999, 2), }",
                                8)),
              HasSubstr("'shape' is not a tuple of integers"));
}

TEST_F(NpyFile, RefusesTrailingBytes) {
  EXPECT_THAT(error_of(handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 12)),
              HasSubstr("trailing bytes"));
}

TEST_F(NpyFile, RefusesAnOversizedHeader) {
  std::string bytes = "\x93NUMPY";
  bytes += std::string("\x02\x00", 2) + std::string("\x00\x00\x10\x00", 4);  // 1 MiB header
  EXPECT_THAT(error_of(raw(bytes + std::string(100, ' '))), HasSubstr("exceeds the 65536-byte limit"));
}

TEST_F(NpyFile, RefusesAFileThatIsNotNpy) {
  EXPECT_THAT(error_of(raw("PK\x03\x04 this is a zip")), HasSubstr("bad magic"));
}

TEST_F(NpyFile, RefusesAnUnknownVersion) {
  EXPECT_THAT(error_of(handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8, 3)),
              HasSubstr("unsupported format version 3.0"));
}

TEST_F(NpyFile, RefusesThreeDimensions) {
  EXPECT_THAT(
      error_of(handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 2), }", 8)),
      HasSubstr("3 dimensions"));
}

TEST_F(NpyFile, RefusesAHeaderMissingAKey) {
  EXPECT_THAT(error_of(handmade("{'descr': '<f4', 'shape': (2,), }", 8)),
              HasSubstr("lacks one of"));
}

TEST_F(NpyFile, ParsesAnEmptyArrayHeldInMemory) {
  // Found by fuzzing: an empty shape once handed memcpy a null destination.
  const auto path = handmade("{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", 0);
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = parse_npy({reinterpret_cast<const std::uint8_t*>(text.data()), text.size()}, "mem");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(parsed->shape, std::vector<std::size_t>{0});
  EXPECT_TRUE(parsed->values.empty());
}

TEST_F(NpyFile, RefusesAMissingFileAsNotFound) {
  auto r = read_npy(dir_ / "absent.npy");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

// Interoperability with NumPy itself (Debian's python3-numpy, which the project depends on).
bool numpy_available() { return std::system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0; }

TEST_F(NpyFile, ReadsWhatNumPyWritesInBothVersions) {
  if (!numpy_available()) GTEST_SKIP() << "/usr/bin/python3 with numpy is not installed";
  const std::string script =
      "import numpy as np\n"
      "x = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5) / 4\n"
      "np.save('" + (dir_ / "v1.npy").string() + "', x)\n"
      "with open('" + (dir_ / "v2.npy").string() + "', 'wb') as f:\n"
      "    np.lib.format.write_array(f, x, version=(2, 0))\n";
  std::ofstream(dir_ / "w.py") << script;
  ASSERT_EQ(std::system(("/usr/bin/python3 " + (dir_ / "w.py").string()).c_str()), 0);
  for (const char* name : {"v1.npy", "v2.npy"}) {
    auto r = read_npy(dir_ / name);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->shape, (std::vector<std::size_t>{3, 4}));
    for (std::size_t i = 0; i < 12; ++i) EXPECT_EQ(r->values[i], (static_cast<float>(i) - 5) / 4);
  }
}

TEST_F(NpyFile, WritesWhatNumPyReads) {
  if (!numpy_available()) GTEST_SKIP() << "/usr/bin/python3 with numpy is not installed";
  const std::vector<float> values = {0.5f, -1, 2, 3e-8f, 4, 5};
  const std::size_t shape[] = {3, 2};
  ASSERT_TRUE(write_npy(dir_ / "ours.npy", values, shape).ok());
  const std::string script =
      "import numpy as np, sys\n"
      "x = np.load('" + (dir_ / "ours.npy").string() + "')\n"
      "ok = x.dtype == np.float32 and x.shape == (3, 2) and x.flags.c_contiguous and "
      "(x == np.array([[0.5, -1], [2, 3e-8], [4, 5]], dtype=np.float32)).all()\n"
      "sys.exit(0 if ok else 1)\n";
  std::ofstream(dir_ / "r.py") << script;
  EXPECT_EQ(std::system(("/usr/bin/python3 " + (dir_ / "r.py").string()).c_str()), 0);
}

}  // namespace
}  // namespace fl::common
