#include "fl/models/train.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <chrono>

#include "fl/models/model_fit.hpp"

namespace fl::models {
namespace {

// The examples to train on, on the model's device. When the dataset already lives there, batches
// are gathered from it directly through the index list; otherwise the subset moves once.
struct TrainingData {
  torch::Tensor images;
  torch::Tensor labels;
  torch::Tensor index_map;  // position -> row of `images`; undefined when rows are positions
};

TrainingData stage(const Dataset& data, std::span<const std::int64_t> indices,
                   torch::Device device) {
  auto index = torch::from_blob(const_cast<std::int64_t*>(indices.data()),
                                {static_cast<std::int64_t>(indices.size())}, torch::kInt64)
                   .clone();
  if (data.images.device() == device) {
    return {data.images, data.labels, index.to(device)};
  }
  return {data.images.index_select(0, index).to(device),
          data.labels.index_select(0, index).to(device), torch::Tensor()};
}

TrainResult train_unchecked(Model& model, const Dataset& data,
                            std::span<const std::int64_t> indices, const TrainOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  TrainResult result;
  const auto n = static_cast<std::int64_t>(indices.size());
  if (n == 0 || options.epochs <= 0 || options.max_steps == 0) return result;

  const torch::Device device = model.device();
  const TrainingData staged = stage(data, indices, device);
  const std::int64_t batch = std::max<std::int64_t>(1, options.batch_size);

  model.train(true);
  torch::optim::SGD optimizer(model.parameters(),
                              torch::optim::SGDOptions(options.learning_rate)
                                  .momentum(options.momentum)
                                  .weight_decay(options.weight_decay));
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const auto long_on_device = torch::TensorOptions().dtype(torch::kInt64).device(device);

  // Reused every step, so the gather allocates nothing after the first step (resizing keeps
  // the storage when a batch is not larger than before).
  torch::Tensor rows = torch::empty({0}, long_on_device);
  torch::Tensor x = torch::empty({0}, staged.images.options());
  torch::Tensor y = torch::empty({0}, staged.labels.options());

  double loss_sum = 0;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    const auto order = torch::randperm(n, generator, torch::TensorOptions().dtype(torch::kInt64))
                           .to(device);
    for (std::int64_t start = 0; start < n; start += batch) {
      if (options.max_steps >= 0 && result.steps >= options.max_steps) break;
      const std::int64_t size = std::min(batch, n - start);
      const auto positions = order.narrow(0, start, size);
      if (x.size(0) != size) {  // a shorter last batch: shrink in place, keeping the storage
        rows.resize_({0});
        x.resize_({0});
        y.resize_({0});
      }
      const torch::Tensor* gather = &positions;
      if (staged.index_map.defined()) {
        torch::index_select_out(rows, staged.index_map, 0, positions);
        gather = &rows;
      }
      torch::index_select_out(x, staged.images, 0, *gather);
      torch::index_select_out(y, staged.labels, 0, *gather);

      optimizer.zero_grad();
      const auto loss = torch::nn::functional::cross_entropy(model.forward(x), y);
      loss.backward();
      optimizer.step();

      const double value = loss.item<double>();
      loss_sum += value * static_cast<double>(size);
      result.num_samples += size;
      ++result.steps;
      if (options.on_progress) options.on_progress(epoch, result.steps, value);
    }
    if (options.max_steps >= 0 && result.steps >= options.max_steps) break;
  }
  result.mean_loss = result.num_samples > 0 ? loss_sum / static_cast<double>(result.num_samples) : 0;
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

EvalResult evaluate_unchecked(Model& model, const Dataset& data, std::int64_t batch_size,
                              std::int64_t limit) {
  torch::NoGradGuard no_grad;
  EvalResult result;
  const std::int64_t n = limit < 0 ? data.size() : std::min(limit, data.size());
  if (n == 0) return result;
  const torch::Device device = model.device();
  const auto images = data.images.narrow(0, 0, n).to(device);
  const auto labels = data.labels.narrow(0, 0, n).to(device);
  const std::int64_t batch = std::max<std::int64_t>(1, batch_size);

  model.train(false);
  auto loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  auto correct = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  for (std::int64_t start = 0; start < n; start += batch) {
    const std::int64_t size = std::min(batch, n - start);
    const auto y = labels.narrow(0, start, size);
    const auto logits = model.forward(images.narrow(0, start, size));
    loss_sum += torch::nn::functional::cross_entropy(
                    logits, y,
                    torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .to(torch::kFloat64);
    correct += logits.argmax(1).eq(y).sum();
  }
  model.train(true);
  result.num_samples = n;
  result.loss = loss_sum.item<double>() / static_cast<double>(n);
  result.accuracy = static_cast<double>(correct.item<std::int64_t>()) / static_cast<double>(n);
  return result;
}

// libtorch reports shape mismatches, out-of-memory and bad labels as exceptions; they stop at
// this adapter and become an error value naming what was being done.
template <typename Body>
auto guarded(const char* doing, const Model& model, const Dataset& data, Body body)
    -> Result<decltype(body())> {
  try {
    return body();
  } catch (const std::exception& e) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(doing) + " model '" + model.spec() + "' on data of shape " +
                          describe_shape(data.input_shape) + " failed: " + exception_summary(e));
  }
}

}  // namespace

Result<TrainResult> train_local(Model& model, const Dataset& data,
                                std::span<const std::int64_t> indices, const TrainOptions& options) {
  return guarded("training", model, data,
                 [&] { return train_unchecked(model, data, indices, options); });
}

Result<EvalResult> evaluate(Model& model, const Dataset& data, std::int64_t batch_size,
                            std::int64_t limit) {
  auto result = guarded("evaluating", model, data,
                        [&] { return evaluate_unchecked(model, data, batch_size, limit); });
  if (!result.ok()) model.train(true);
  return result;
}

Result<std::vector<float>> predict_logits(Model& model, const Dataset& data, std::int64_t batch_size) {
  auto result = guarded("predicting with", model, data, [&] {
    torch::NoGradGuard no_grad;
    model.train(false);
    const std::int64_t batch = std::max<std::int64_t>(1, batch_size);
    std::vector<torch::Tensor> parts;
    for (std::int64_t start = 0; start < data.size(); start += batch) {
      const auto x = data.images.narrow(0, start, std::min(batch, data.size() - start)).to(model.device());
      parts.push_back(model.forward(x).to(torch::kCPU, torch::kFloat32));
    }
    model.train(true);
    std::vector<float> out;
    if (parts.empty()) return out;
    const auto all = torch::cat(parts).contiguous();
    out.assign(all.data_ptr<float>(), all.data_ptr<float>() + all.numel());
    return out;
  });
  if (!result.ok()) model.train(true);
  return result;
}

}  // namespace fl::models
