#include "fl/models/model.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <numeric>

#include "fl/models/runtime.hpp"
#include "support/builders.hpp"

namespace fl::models {
namespace {

const std::string kScriptFixture = "tests/data/tiny_mlp.pt";  // tests run in the source root

std::unique_ptr<Model> make(std::string_view spec, std::uint64_t seed = 1) {
  auto model = make_model(spec, seed);
  EXPECT_TRUE(model.ok()) << model.error().to_string();
  return model.ok() ? std::move(model).value() : nullptr;
}

TEST(MakeModel, MlpHasMcMahansTwoHiddenLayerShape) {
  auto model = make("mlp");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->num_parameters(), 199210);
  EXPECT_EQ(model->layout().describe(),
            "fc1.weight[200,784] fc1.bias[200] fc2.weight[200,200] fc2.bias[200] "
            "fc3.weight[10,200] fc3.bias[10]");
  EXPECT_EQ(model->spec(), "mlp");
}

TEST(MakeModel, CnnHasMcMahansConvolutionalShape) {
  auto model = make("cnn");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->num_parameters(), 1663370);
  EXPECT_EQ(model->layout().tensors.front().shape, (std::vector<std::int64_t>{32, 1, 5, 5}));
  const auto logits = model->forward(torch::zeros({3, 1, 28, 28}));
  EXPECT_EQ(logits.sizes(), (std::vector<std::int64_t>{3, 10}));
}

TEST(MakeModel, SameSeedGivesSameInitialParameters) {
  EXPECT_EQ(make("mlp", 7)->flat_parameters(), make("mlp", 7)->flat_parameters());
  EXPECT_NE(make("mlp", 7)->flat_parameters(), make("mlp", 8)->flat_parameters());
}

TEST(MakeModel, InitialisesWeightsWithinTheFanInBound) {
  const auto flat = make("mlp")->flat_parameters();
  const float bound = 1.0f / std::sqrt(784.0f);
  for (std::size_t i = 0; i < 784 * 200; ++i) ASSERT_LE(std::abs(flat[i]), bound);
}

TEST(MakeModel, RejectsUnknownNameNamingTheChoices) {
  auto model = make_model("resnet50", 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(model.error().message.find("resnet50"), std::string::npos);
  EXPECT_NE(model.error().message.find("mlp, cnn"), std::string::npos);
}

TEST(FlatParameters, RoundTripThroughSetFlatParameters) {
  auto model = make("mlp");
  std::vector<float> values(static_cast<std::size_t>(model->num_parameters()));
  std::iota(values.begin(), values.end(), -1000.0f);
  ASSERT_TRUE(model->set_flat_parameters(values).ok());
  EXPECT_EQ(model->flat_parameters(), values);
  // The layout order is the module order: the first tensor is fc1.weight.
  EXPECT_EQ(model->parameters().front().flatten()[0].item<float>(), -1000.0f);
}

TEST(FlatParameters, RejectsVectorOfTheWrongSize) {
  auto model = make("mlp");
  const auto before = model->flat_parameters();
  std::vector<float> values(199209, 0.0f);
  auto status = model->set_flat_parameters(values);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(status.error().message.find("199209"), std::string::npos);
  EXPECT_NE(status.error().message.find("199210"), std::string::npos);
  EXPECT_EQ(model->flat_parameters(), before);
}

TEST(FlatParameters, SetParametersChangeTheForwardPass) {
  auto model = make("mlp");
  ASSERT_TRUE(model->set_flat_parameters(std::vector<float>(199210, 0.0f)).ok());
  const auto logits = model->forward(torch::ones({2, 1, 28, 28}));
  EXPECT_TRUE(torch::equal(logits, torch::zeros({2, 10})));
}

TEST(TorchScriptModel, LoadsFixtureAndMatchesPythonLogits) {
  auto model = make("torchscript:" + kScriptFixture);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->num_parameters(), 784 * 4 + 4 + 4 * 10 + 10);
  EXPECT_EQ(model->layout().tensors.front().name, "fc1.weight");
  std::ifstream expected_file("tests/data/tiny_mlp_expected.txt");
  std::vector<float> expected(10);
  for (auto& v : expected) expected_file >> v;
  ASSERT_TRUE(expected_file);
  const auto logits = model->forward(torch::ones({1, 1, 28, 28}));
  ASSERT_EQ(logits.sizes(), (std::vector<std::int64_t>{1, 10}));
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(logits[0][i].item<float>(), expected[i], 1e-5) << i;
}

TEST(TorchScriptModel, FlatParametersRoundTrip) {
  auto model = make("torchscript:" + kScriptFixture);
  ASSERT_TRUE(model);
  auto values = model->flat_parameters();
  for (auto& v : values) v *= 2.0f;
  ASSERT_TRUE(model->set_flat_parameters(values).ok());
  EXPECT_EQ(model->flat_parameters(), values);
}

TEST(TorchScriptModel, ReportsMissingFile) {
  auto model = make_model("torchscript:/nonexistent/model.pt", 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code, ErrorCode::kNotFound);
  EXPECT_NE(model.error().message.find("/nonexistent/model.pt"), std::string::npos);
}

TEST(TorchScriptModel, ReportsFileThatIsNotTorchScript) {
  test::TempDir dir;
  test::write_file(dir / "junk.pt", "this is not a zip archive");
  auto model = make_model("torchscript:" + (dir / "junk.pt").string(), 1);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(model.error().message.find("junk.pt"), std::string::npos);
}

TEST(ChooseDevice, PicksCpuWhenAskedOrWhenNoCudaIsPresent) {
  auto cpu = choose_device("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_TRUE(cpu->is_cpu());
  auto automatic = choose_device("auto");
  ASSERT_TRUE(automatic.ok());
  EXPECT_EQ(automatic->is_cuda(), torch::cuda::is_available());
}

TEST(ChooseDevice, ExplainsCudaRequestWithoutCuda) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "CUDA present on this machine";
  for (const auto* request : {"cuda", "cuda:0"}) {
    auto device = choose_device(request);
    ASSERT_FALSE(device.ok());
    EXPECT_EQ(device.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(device.error().message.find("not available"), std::string::npos);
  }
}

TEST(ChooseDevice, RejectsMalformedRequests) {
  for (const auto* request : {"gpu", "cuda:", "cuda:x", "cuda:-1", ""}) {
    auto device = choose_device(request);
    ASSERT_FALSE(device.ok()) << request;
    EXPECT_EQ(device.error().code, ErrorCode::kInvalidArgument) << request;
  }
}

TEST(Runtime, LibtorchUsesOpenBlasAtRunTime) {
  // The reference BLAS makes training ~19x slower: install libopenblas0-pthread.
  EXPECT_TRUE(blas_is_openblas()) << "sgemm_ comes from \"" << blas_library_path() << "\"";
}

TEST(Runtime, SetComputeThreadsReachesLibtorch) {
  const int before = torch::get_num_threads();
  set_compute_threads(1);
  EXPECT_EQ(torch::get_num_threads(), 1);
  set_compute_threads(2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  set_compute_threads(before);
}

}  // namespace
}  // namespace fl::models
