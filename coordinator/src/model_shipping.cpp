#include "fl/coordinator/model_shipping.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>

namespace fl::coordinator {

Status attach_model_file(EngineSettings& settings) {
  constexpr std::string_view kPrefix = "torchscript:";
  if (!std::string_view(settings.model).starts_with(kPrefix)) return ok_status();
  const std::filesystem::path path = settings.model.substr(kPrefix.size());
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kNotFound, "job.model: cannot read the TorchScript file " +
                                                path.string() + " to send it to the workers");
  }
  auto bytes = std::make_shared<std::vector<std::uint8_t>>((std::istreambuf_iterator<char>(in)),
                                                           std::istreambuf_iterator<char>());
  settings.task_template.model_file_digest = common::blake2b_256(*bytes);
  spdlog::info("workers fetch the model file {} ({} bytes) by digest {}", path.string(),
               bytes->size(), common::short_id(settings.task_template.model_file_digest));
  settings.model_file = std::move(bytes);
  return ok_status();
}

}  // namespace fl::coordinator
