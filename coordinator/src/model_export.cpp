#include "fl/coordinator/model_export.hpp"

#include "fl/common/model_file.hpp"
#include "fl/models/model_script.hpp"
#include "fl/models/npz.hpp"

namespace fl::coordinator {
namespace {

Status write_parameter_npz(const common::ModelFile& model, const std::filesystem::path& out) {
  std::vector<models::NpzArray> arrays;
  std::size_t offset = 0;
  const std::span<const float> all(model.parameters);
  for (const auto& tensor : model.header.layout.tensors) {
    std::size_t count = 1;
    for (const auto d : tensor.shape) count *= static_cast<std::size_t>(d);
    arrays.push_back(
        models::NpzArray::float32(tensor.name, tensor.shape, all.subspan(offset, count)));
    offset += count;
  }
  return models::write_npz(out, arrays);
}

}  // namespace

Status export_model(const std::filesystem::path& flm, const std::filesystem::path& out) {
  const auto ext = out.extension().string();
  if (ext != ".pt" && ext != ".npz") {
    return make_error(
        ErrorCode::kInvalidArgument,
        "--to " + out.string() + ": name a .pt file (TorchScript) or a .npz file (NumPy arrays)");
  }
  FL_ASSIGN_OR_RETURN(const auto model, common::load_model_file(flm));
  const auto& h = model.header;
  auto done = ext == ".npz" ? write_parameter_npz(model, out)
                            : models::save_torchscript(h.model, h.layout, model.parameters, out);
  if (!done.ok()) return with_context(done.error(), "export " + flm.string());
  return ok_status();
}

}  // namespace fl::coordinator
