// load_dataset on small files each test writes: npz (stored, and NumPy's compressed ones where
// Debian's python3-numpy is present), csv, CIFAR-10 binary batches and folders of PNGs. Shapes
// and class counts come from the data; every malformed file is named in the error.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "fl/models/dataset.hpp"
#include "fl/models/npz.hpp"
#include "support/builders.hpp"

namespace fl::models {
namespace {

Dataset must_load(const std::string& spec, Split split) {
  auto data = load_dataset(spec, split);
  EXPECT_TRUE(data.ok()) << data.error().to_string();
  return data.ok() ? std::move(data).value() : Dataset{};
}

std::string load_error(const std::string& spec, Split split = Split::kTrain) {
  auto data = load_dataset(spec, split);
  EXPECT_FALSE(data.ok());
  return data.ok() ? "" : data.error().message;
}

// x: [n, 2, 3] float32 ramps; y: i % classes.
void write_xy_npz(const std::filesystem::path& path, int n, int classes) {
  std::vector<float> x;
  std::vector<std::int64_t> y;
  for (int i = 0; i < n; ++i) {
    for (int v = 0; v < 6; ++v) x.push_back(static_cast<float>(i * 6 + v));
    y.push_back(i % classes);
  }
  const std::vector<NpzArray> arrays = {NpzArray::float32("x", {n, 2, 3}, x),
                                        NpzArray::int64("y", {n}, y)};
  ASSERT_TRUE(write_npz(path, arrays).ok());
}

TEST(NpzDataset, TakesShapeAndClassesFromTheArraysAndHoldsOutEveryFifthExample) {
  test::TempDir dir;
  write_xy_npz(dir / "d.npz", 20, 3);
  const auto train = must_load("npz:" + (dir / "d.npz").string(), Split::kTrain);
  const auto test = must_load("npz:" + (dir / "d.npz").string(), Split::kTest);
  EXPECT_EQ(train.size(), 16);
  EXPECT_EQ(test.size(), 4);
  EXPECT_EQ(train.input_shape, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(train.num_classes, 3);
  EXPECT_EQ(test.labels[0].item<std::int64_t>(), 4 % 3);  // example 4 is the first held out
}

TEST(NpzDataset, UsesTheTestFileTheSpecNames) {
  test::TempDir dir;
  write_xy_npz(dir / "train.npz", 12, 4);
  write_xy_npz(dir / "test.npz", 5, 4);
  const auto spec = "npz:" + (dir / "train.npz").string() + "?test=" + (dir / "test.npz").string();
  EXPECT_EQ(must_load(spec, Split::kTrain).size(), 12);
  EXPECT_EQ(must_load(spec, Split::kTest).size(), 5);
}

TEST(NpzDataset, ReadsWhatNumpySavezCompressedWrites) {
  test::TempDir dir;
  const auto script = dir / "make.py";
  std::ofstream(script) << "import numpy as np, sys\n"
                           "x = np.arange(60, dtype=np.uint8).reshape(10, 1, 2, 3)\n"
                           "np.savez_compressed(sys.argv[1], x=x, y=np.arange(10) % 5)\n";
  const auto command =
      "/usr/bin/python3 " + script.string() + " " + (dir / "d.npz").string() + " 2>/dev/null";
  if (std::system(command.c_str()) != 0) {
    GTEST_SKIP() << "Debian's python3-numpy is not installed (apt-get install python3-numpy)";
  }
  const auto data = must_load("npz:" + (dir / "d.npz").string(), Split::kTrain);
  EXPECT_EQ(data.size(), 8);
  EXPECT_EQ(data.input_shape, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(data.num_classes, 5);
}

TEST(NpzDataset, NamesAMissingArray) {
  test::TempDir dir;
  const std::vector<float> x(6, 1.0f);
  const std::vector<NpzArray> only_x = {NpzArray::float32("x", {2, 3}, x)};
  ASSERT_TRUE(write_npz(dir / "d.npz", only_x).ok());
  const auto message = load_error("npz:" + (dir / "d.npz").string());
  EXPECT_NE(message.find((dir / "d.npz").string() + ": has no array 'y'"), std::string::npos)
      << message;
}

TEST(NpzDataset, NamesATruncatedFile) {
  test::TempDir dir;
  write_xy_npz(dir / "d.npz", 20, 3);
  const auto bytes = test::read_file(dir / "d.npz");
  test::write_file(dir / "d.npz", bytes.substr(0, bytes.size() / 2));
  const auto message = load_error("npz:" + (dir / "d.npz").string());
  EXPECT_NE(message.find((dir / "d.npz").string()), std::string::npos) << message;
  EXPECT_NE(message.find("zip"), std::string::npos) << message;
}

TEST(CsvDataset, MapsStringLabelsToClassesInSortedOrder) {
  test::TempDir dir;
  test::write_file(dir / "d.csv", "a,b,kind\n1,2,zebra\n3,4,ant\n5,6,moth\n7,8,ant\n9,1,zebra\n");
  const auto data = must_load("csv:" + (dir / "d.csv").string() + "?label=kind", Split::kTrain);
  EXPECT_EQ(data.class_names, (std::vector<std::string>{"ant", "moth", "zebra"}));
  EXPECT_EQ(data.input_shape, (std::vector<std::int64_t>{2}));
  ASSERT_EQ(data.size(), 4);  // row 5 is held out
  EXPECT_EQ(data.labels[0].item<std::int64_t>(), 2);
  EXPECT_EQ(data.labels[1].item<std::int64_t>(), 0);
  EXPECT_EQ(data.labels[2].item<std::int64_t>(), 1);
}

// A worker whose file lacks a label still numbers the classes as the job does.
TEST(CsvDataset, ClassesNamedInTheSpecFixTheNumbering) {
  test::TempDir dir;
  test::write_file(dir / "d.csv", "a,kind\n1,zebra\n2,ant\n");
  const auto data = must_load(
      "csv:" + (dir / "d.csv").string() + "?label=kind&classes=ant,moth,zebra", Split::kTrain);
  EXPECT_EQ(data.num_classes, 3);
  EXPECT_EQ(data.labels[0].item<std::int64_t>(), 2);
  EXPECT_EQ(data.labels[1].item<std::int64_t>(), 0);
  const auto message =
      load_error("csv:" + (dir / "d.csv").string() + "?label=kind&classes=ant,moth");
  EXPECT_NE(message.find("label 'zebra' is not one of the 2 classes"), std::string::npos)
      << message;
}

TEST(CsvDataset, NumericLabelsAreClassNumbers) {
  test::TempDir dir;
  test::write_file(dir / "d.csv", "label,x\n0,1.5\n7,2\n3,-1e3\n");
  const auto data = must_load("csv:" + (dir / "d.csv").string(), Split::kTrain);
  EXPECT_EQ(data.num_classes, 8);
  EXPECT_EQ(data.labels[1].item<std::int64_t>(), 7);
}

TEST(CsvDataset, NamesANonNumericFeatureWithItsLineAndColumn) {
  test::TempDir dir;
  test::write_file(dir / "d.csv", "a,b,label\n1,2,x\n3,oops,y\n");
  const auto message = load_error("csv:" + (dir / "d.csv").string());
  EXPECT_NE(message.find("line 3: column 'b' holds 'oops'"), std::string::npos) << message;
}

TEST(CsvDataset, NamesAMissingLabelColumnAndListsTheColumns) {
  test::TempDir dir;
  test::write_file(dir / "d.csv", "a,b,species\n1,2,x\n");
  const auto message = load_error("csv:" + (dir / "d.csv").string() + "?label=kind");
  EXPECT_NE(message.find("has no column 'kind' (columns: a, b, species)"), std::string::npos)
      << message;
}

TEST(CsvDataset, NamesARowWithTheWrongNumberOfFields) {
  test::TempDir dir;
  test::write_file(dir / "d.csv", "a,b,label\n1,2,x\n3,y\n");
  const auto message = load_error("csv:" + (dir / "d.csv").string());
  EXPECT_NE(message.find("line 3: 2 fields, the header has 3"), std::string::npos) << message;
}

TEST(CsvDataset, TrainingFeaturesAreNormalisedToZeroMeanAndUnitVariance) {
  test::TempDir dir;
  test::write_gaussian_csv(dir / "d.csv", 200, 3, {"a", "b"}, 5);
  const auto data = must_load("csv:" + (dir / "d.csv").string() + "?label=species", Split::kTrain);
  const auto mean = data.images.mean(0);
  const auto std_dev = data.images.std(0, /*unbiased=*/false);
  EXPECT_LT(mean.abs().max().item<float>(), 1e-4f);
  EXPECT_LT((std_dev - 1).abs().max().item<float>(), 1e-4f);
}

TEST(CsvDataset, UsesTheNormalisationTheSpecStates) {
  test::TempDir dir;
  test::write_file(dir / "d.csv", "a,b,label\n1,2,0\n3,4,1\n");
  const auto data = must_load("csv:" + (dir / "d.csv").string() + "?mean=1,2&std=2", Split::kTrain);
  EXPECT_FLOAT_EQ(data.images[1][0].item<float>(), 1.0f);  // (3 - 1) / 2
  EXPECT_FLOAT_EQ(data.images[1][1].item<float>(), 1.0f);  // (4 - 2) / 2
}

// One CIFAR-10 record: label byte, then red, green and blue 32x32 planes.
std::string cifar_records(int n, int first_label) {
  std::string bytes;
  for (int i = 0; i < n; ++i) {
    bytes.push_back(static_cast<char>((first_label + i) % 10));
    bytes.append(1024, static_cast<char>(200));  // red
    bytes.append(1024, static_cast<char>(20));   // green
    bytes.append(1024, static_cast<char>(100 + i));
  }
  return bytes;
}

TEST(Cifar10Dataset, ReadsTheBinaryBatchesAsThreeChannelImages) {
  test::TempDir dir;
  test::write_file(dir / "data_batch_1.bin", cifar_records(4, 0));
  test::write_file(dir / "data_batch_2.bin", cifar_records(3, 4));
  test::write_file(dir / "test_batch.bin", cifar_records(2, 9));
  const auto train = must_load("cifar10:" + dir.path().string(), Split::kTrain);
  const auto test = must_load("cifar10:" + dir.path().string(), Split::kTest);
  EXPECT_EQ(train.size(), 7);
  EXPECT_EQ(test.size(), 2);
  EXPECT_EQ(train.input_shape, (std::vector<std::int64_t>{3, 32, 32}));
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(test.labels[1].item<std::int64_t>(), 0);  // (9 + 1) % 10
}

TEST(Cifar10Dataset, NamesATruncatedBatch) {
  test::TempDir dir;
  test::write_file(dir / "data_batch_1.bin", cifar_records(2, 0).substr(0, 5000));
  const auto message = load_error("cifar10:" + dir.path().string());
  EXPECT_NE(message.find("data_batch_1.bin: 5000 bytes is not a whole number of 3073-byte"),
            std::string::npos)
      << message;
}

void write_png(const std::filesystem::path& path, int width, int height, int shade) {
  std::filesystem::create_directories(path.parent_path());
  std::vector<unsigned char> pixels(static_cast<std::size_t>(width * height * 3));
  for (std::size_t i = 0; i < pixels.size(); ++i)
    pixels[i] = static_cast<unsigned char>(shade + i % 7);
  ASSERT_TRUE(stbi_write_png(path.c_str(), width, height, 3, pixels.data(), width * 3));
}

// "c3.png" (snprintf: GCC 12 warns falsely about string concatenation inlined here).
std::string numbered_png(const char* prefix, int i) {
  char name[32];
  std::snprintf(name, sizeof name, "%s%d.png", prefix, i);
  return name;
}

TEST(ImageFolderDataset, ReadsOneClassPerSubFolder) {
  test::TempDir dir;
  for (int i = 0; i < 5; ++i) {
    write_png(dir / "cat" / numbered_png("c", i), 8, 6, 10);
    write_png(dir / "dog" / numbered_png("d", i), 8, 6, 200);
  }
  const auto train = must_load("images:" + dir.path().string(), Split::kTrain);
  const auto test = must_load("images:" + dir.path().string(), Split::kTest);
  EXPECT_EQ(train.input_shape, (std::vector<std::int64_t>{3, 6, 8}));
  EXPECT_EQ(train.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_EQ(train.size(), 8);
  EXPECT_EQ(test.size(), 2);
  EXPECT_EQ(test.labels[1].item<std::int64_t>(), 1);
}

TEST(ImageFolderDataset, NamesAnImageOfAnotherSize) {
  test::TempDir dir;
  write_png(dir / "a" / "1.png", 8, 6, 10);
  write_png(dir / "a" / "2.png", 9, 6, 10);
  const auto message = load_error("images:" + dir.path().string());
  EXPECT_NE(message.find("2.png: is 9x6, the first image is 8x6"), std::string::npos) << message;
}

TEST(ImageFolderDataset, NamesAFileThatIsNotAnImage) {
  test::TempDir dir;
  write_png(dir / "a" / "1.png", 8, 6, 10);
  test::write_file(dir / "a" / "2.png", "not a png at all");
  const auto message = load_error("images:" + dir.path().string());
  EXPECT_NE(message.find("2.png: cannot be decoded as PNG or JPEG"), std::string::npos) << message;
}

TEST(DatasetSpec, RefusesAnUnknownOptionListingTheKnownOnes) {
  const auto message = load_error("csv:/tmp/x.csv?labels=kind");
  EXPECT_NE(message.find("unknown option 'labels'"), std::string::npos) << message;
  EXPECT_NE(message.find("label (csv)"), std::string::npos) << message;
}

}  // namespace
}  // namespace fl::models
