// images:DIR — one sub-folder per class holding PNG or JPEG files, decoded with stb_image
// (Debian's libstb-dev). With DIR/train/ and DIR/test/ the two splits are those folders;
// otherwise every fifth image (in class, then file-name order) is held out for testing. Class
// numbers follow the sorted folder names of the training folder, or the spec's classes=a,b,c. Every
// image must have the size of the first; the first image's colour (grey or RGB) sets the channel
// count.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_NO_STDIO_WARNINGS
#include <stb/stb_image.h>

#include <algorithm>

#include "dataset_formats.hpp"

namespace fl::models {
namespace {

bool is_image(const std::filesystem::path& file) {
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<std::filesystem::path> sorted_entries(const std::filesystem::path& dir, bool dirs) {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (dirs ? entry.is_directory() : (entry.is_regular_file() && is_image(entry.path()))) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Decoded {
  int width = 0, height = 0, channels = 0;
  std::vector<torch::Tensor> images;  // each uint8 [C, H, W]
  std::vector<std::int64_t> labels;
};

Status decode_into(const DatasetSpec& spec, const std::filesystem::path& file, std::int64_t label,
                   Decoded& out) {
  FL_ASSIGN_OR_RETURN(auto bytes, read_whole_file(spec, file, std::uint64_t{256} << 20));
  const auto size = static_cast<int>(bytes.size());
  int w = 0, h = 0, c = 0;
  if (!stbi_info_from_memory(bytes.data(), size, &w, &h, &c)) {
    return data_error(ErrorCode::kCorrupt, spec, file,
                      std::string("cannot be decoded as PNG or JPEG: ") + stbi_failure_reason());
  }
  if (out.channels == 0) {
    out.width = w, out.height = h, out.channels = c >= 3 ? 3 : 1;
  } else if (w != out.width || h != out.height) {
    return data_error(ErrorCode::kInvalidArgument, spec, file,
                      "is " + std::to_string(w) + "x" + std::to_string(h) +
                          ", the first image is " + std::to_string(out.width) + "x" +
                          std::to_string(out.height) + "; resize all images to one size");
  }
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes.data(), size, &w, &h, &c, out.channels), stbi_image_free);
  if (!pixels) {
    return data_error(ErrorCode::kCorrupt, spec, file,
                      std::string("cannot be decoded: ") + stbi_failure_reason());
  }
  // stb gives [H, W, C] interleaved; models want [C, H, W].
  out.images.push_back(torch::from_blob(pixels.get(), {h, w, out.channels}, torch::kUInt8)
                           .permute({2, 0, 1})
                           .clone());
  out.labels.push_back(label);
  return ok_status();
}

Result<RawSplit> read_folder(const DatasetSpec& spec, const std::filesystem::path& dir,
                             const std::vector<std::string>& classes) {
  Decoded decoded;
  for (const auto& class_dir : sorted_entries(dir, /*dirs=*/true)) {
    const auto name = class_dir.filename().string();
    const auto at = std::find(classes.begin(), classes.end(), name);
    if (at == classes.end()) {
      return data_error(
          ErrorCode::kInvalidArgument, spec, class_dir,
          "is a class folder that is not among the classes (those of the training folder, or the "
          "spec's classes=...)");
    }
    for (const auto& file : sorted_entries(class_dir, /*dirs=*/false)) {
      FL_RETURN_IF_ERROR(decode_into(spec, file, at - classes.begin(), decoded));
    }
  }
  if (decoded.images.empty()) {
    return data_error(ErrorCode::kInvalidArgument, spec, dir,
                      "holds no .png/.jpg images in class sub-folders (DIR/CLASS/IMAGE.png)");
  }
  RawSplit raw;
  raw.x = torch::stack(decoded.images).to(torch::kFloat32).div_(255.0f);
  raw.y = torch::tensor(decoded.labels, torch::kInt64);
  raw.input_shape = {decoded.channels, decoded.height, decoded.width};
  raw.num_classes = static_cast<int>(classes.size());
  raw.class_names = classes;
  return raw;
}

}  // namespace

Result<RawSplit> load_image_folder_split(const DatasetSpec& spec, Split split) {
  if (!std::filesystem::is_directory(spec.path)) {
    return data_error(ErrorCode::kNotFound, spec, spec.path, "is not a directory");
  }
  const bool split_folders = std::filesystem::is_directory(spec.path / "train") &&
                             std::filesystem::is_directory(spec.path / "test");
  const auto train_dir = split_folders ? spec.path / "train" : spec.path;
  std::vector<std::string> classes = spec.class_list();
  if (classes.empty()) {
    for (const auto& dir : sorted_entries(train_dir, /*dirs=*/true)) {
      classes.push_back(dir.filename().string());
    }
  }
  if (classes.empty()) {
    return data_error(ErrorCode::kInvalidArgument, spec, train_dir,
                      "has no class sub-folders (expected DIR/CLASS/IMAGE.png)");
  }
  try {
    if (split_folders) {
      return read_folder(spec, split == Split::kTrain ? train_dir : spec.path / "test", classes);
    }
    FL_ASSIGN_OR_RETURN(auto all, read_folder(spec, train_dir, classes));
    return hold_out(std::move(all), split);
  } catch (const std::filesystem::filesystem_error& e) {
    return data_error(ErrorCode::kIo, spec, spec.path, e.what());
  }
}

}  // namespace fl::models
