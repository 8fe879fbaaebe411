// Dataset specs: the text a worker's --data and a job's [data] spec share.
#include "fl/models/dataset_spec.hpp"

#include <gtest/gtest.h>

namespace fl::models {
namespace {

TEST(DatasetSpecText, SplitsFormatPathAndOptions) {
  auto spec = parse_dataset_spec("csv:data/iris.csv?label=species&test=t.csv");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  EXPECT_EQ(spec->format, "csv");
  EXPECT_EQ(spec->path, std::filesystem::path("data/iris.csv"));
  EXPECT_EQ(spec->option("label"), "species");
  EXPECT_EQ(spec->option("test"), "t.csv");
  EXPECT_FALSE(spec->option("mean"));
}

TEST(DatasetSpecText, APlainDirectoryMeansIdx) {
  auto spec = parse_dataset_spec("/usr/share/datasets/fashion-mnist");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->format, "idx");
}

TEST(DatasetSpecText, RefusesAnOptionWithoutAValue) {
  auto spec = parse_dataset_spec("csv:x.csv?label");
  ASSERT_FALSE(spec.ok());
  EXPECT_NE(spec.error().message.find("option 'label' is not key=value"), std::string::npos);
}

TEST(DatasetSpecText, ResolvesRelativePathsAgainstTheConfigFolder) {
  EXPECT_EQ(resolve_dataset_spec("/jobs", "csv:d.csv?label=y&test=t.csv"),
            "csv:/jobs/d.csv?label=y&test=/jobs/t.csv");
  EXPECT_EQ(resolve_dataset_spec("/jobs", "npz:/abs/d.npz"), "npz:/abs/d.npz");
  EXPECT_EQ(resolve_dataset_spec("/jobs", "data"), "idx:/jobs/data");
}

}  // namespace
}  // namespace fl::models
