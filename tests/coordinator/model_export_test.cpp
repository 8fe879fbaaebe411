// fl-coordinator export: a .flm model file becomes a TorchScript module that gives the same
// logits as the zoo model it came from, or an .npz with one array per parameter.
#include "fl/coordinator/model_export.hpp"

#include <gtest/gtest.h>

#include "fl/common/model_file.hpp"
#include "fl/models/model.hpp"
#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

// A .flm of `spec` for `input` with its seeded parameters; returns the model.
std::unique_ptr<models::Model> write_flm(const std::filesystem::path& path, const std::string& spec,
                                         const models::ModelInput& input) {
  auto model = std::move(models::make_model(spec, 9, input)).value();
  const auto params = model->flat_parameters();
  common::ModelFileHeader header{"job", 3, spec, model->layout(), common::digest_of(params)};
  EXPECT_TRUE(common::save_model_file(path, header, params).ok());
  return model;
}

void expect_same_logits(const std::string& spec, const models::ModelInput& input,
                        std::vector<std::int64_t> batch_shape) {
  test::TempDir dir;
  auto zoo = write_flm(dir / "global.flm", spec, input);
  const auto exported = export_model(dir / "global.flm", dir / "model.pt");
  ASSERT_TRUE(exported.ok()) << exported.error().to_string();
  auto script = models::make_model("torchscript:" + (dir / "model.pt").string(), 0);
  ASSERT_TRUE(script.ok()) << script.error().to_string();
  EXPECT_EQ((*script)->layout(), zoo->layout());  // same names, shapes and order
  for (const auto& p : (*script)->parameters()) EXPECT_TRUE(p.requires_grad());  // trainable
  torch::manual_seed(4);
  const auto x = torch::randn(batch_shape);
  zoo->train(false);
  (*script)->train(false);
  EXPECT_TRUE(torch::allclose(zoo->forward(x), (*script)->forward(x), 1e-5, 1e-5)) << spec;
}

TEST(ExportModel, TorchScriptMlpGivesTheZooModelsLogits) {
  expect_same_logits("mlp", {{1, 28, 28}, 10}, {3, 1, 28, 28});
}

TEST(ExportModel, TorchScriptCnnGivesTheZooModelsLogits) {
  expect_same_logits("cnn", {{3, 12, 12}, 4}, {2, 3, 12, 12});
}

TEST(ExportModel, TorchScriptLogregGivesTheZooModelsLogits) {
  expect_same_logits("logreg", {{5}, 3}, {4, 5});
}

TEST(ExportModel, NpzNamesOneArrayPerParameter) {
  test::TempDir dir;
  write_flm(dir / "global.flm", "logreg", {{5}, 3});
  ASSERT_TRUE(export_model(dir / "global.flm", dir / "model.npz").ok());
  const auto bytes = test::read_file(dir / "model.npz");
  EXPECT_EQ(bytes.substr(0, 2), "PK");
  EXPECT_NE(bytes.find("fc.weight.npy"), std::string::npos);
  EXPECT_NE(bytes.find("'shape': (3, 5)"), std::string::npos);
  EXPECT_NE(bytes.find("fc.bias.npy"), std::string::npos);
}

TEST(ExportModel, RefusesAnotherExtension) {
  test::TempDir dir;
  write_flm(dir / "global.flm", "logreg", {{5}, 3});
  const auto s = export_model(dir / "global.flm", dir / "model.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("name a .pt file (TorchScript) or a .npz file"),
            std::string::npos);
}

TEST(ExportModel, NamesADamagedModelFile) {
  test::TempDir dir;
  test::write_file(dir / "global.flm", "not a model");
  const auto s = export_model(dir / "global.flm", dir / "model.pt");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("global.flm"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace fl::coordinator
