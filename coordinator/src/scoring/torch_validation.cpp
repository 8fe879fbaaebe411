#include "torch_validation.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <numeric>
#include <optional>
#include <stop_token>
#include <thread>

#include "fl/models/model_fit.hpp"
#include "fl/models/runtime.hpp"
#include "fl/models/train.hpp"

namespace fl::coordinator {

namespace {

// Threads that live as long as the oracle, each set once to one libtorch thread: setting a new
// thread's count costs 2-20 ms (measured), more than a forward pass. run(job) calls job(t) on
// thread t for every t and returns when all have.
class PassPool {
 public:
  explicit PassPool(std::size_t threads) {
    for (std::size_t t = 0; t < threads; ++t) {
      threads_.emplace_back([this, t](std::stop_token stop) { loop(t, stop); });
    }
  }
  ~PassPool() {
    for (auto& th : threads_) th.request_stop();
    wake_.notify_all();
  }
  void run(const std::function<void(std::size_t)>& job) {
    std::unique_lock lock(mutex_);
    job_ = &job;
    pending_ = threads_.size();
    ++generation_;
    wake_.notify_all();
    done_.wait(lock, [&] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(std::size_t t, std::stop_token stop) {
    models::set_compute_threads(1);
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, stop, [&] { return generation_ != seen; });
      if (stop.stop_requested()) return;
      seen = generation_;
      const auto* job = job_;
      lock.unlock();
      (*job)(t);
      lock.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::condition_variable_any done_;
  const std::function<void(std::size_t)>* job_ = nullptr;
  std::size_t pending_ = 0;
  std::uint64_t generation_ = 0;
  std::vector<std::jthread> threads_;  // last: joined before the members above go
};

models::Dataset slice(const models::Dataset& d, std::int64_t begin, std::int64_t count) {
  models::Dataset out = d;
  out.images = d.images.narrow(0, begin, count);
  out.labels = d.labels.narrow(0, begin, count);
  return out;
}

class TorchValidationOracle final : public ValidationOracle {
 public:
  TorchValidationOracle(std::unique_ptr<models::Model> model, models::Dataset validation,
                        common::TrainingSettings training, std::uint64_t seed, int threads)
      : model_(std::move(model)),
        data_(std::move(validation)),
        training_(training),
        seed_(seed),
        threads_(threads),
        indices_(static_cast<std::size_t>(data_.size())) {
    std::iota(indices_.begin(), indices_.end(), 0);
    make_replicas();
  }

  std::int64_t size() const override { return data_.size(); }

  Result<ValidationMetrics> measure(std::span<const float> parameters) override {
    if (threads_ > 0) models::set_compute_threads(threads_);
    FL_RETURN_IF_ERROR(model_->set_flat_parameters(parameters));
    FL_ASSIGN_OR_RETURN(auto r, models::evaluate(*model_, data_, 1000));
    return ValidationMetrics{r.accuracy, r.loss};
  }

  Result<std::vector<float>> reference_update(std::span<const float> global,
                                              std::uint64_t round) override {
    // A round asks for it twice when updates are rescaled to its norm (close_round) and fltrust
    // scores against it: the same global model and round train the same reference.
    if (remembers_reference(global, round)) return last_reference_;
    if (threads_ > 0) models::set_compute_threads(threads_);
    FL_ASSIGN_OR_RETURN(auto trained, train_reference(*model_, global, round));
    remember_reference(global, round, trained);
    return trained;
  }

  Result<ValidationOutputs> outputs(std::span<const float> global, std::span<const std::span<const float>> updates,
                                    double step, std::int64_t examples,
                                    std::optional<std::uint64_t> reference_round) override {
    if (threads_ > 0) models::set_compute_threads(threads_);
    for (std::size_t i = 0; i < updates.size(); ++i) {
      if (updates[i].size() != global.size()) {
        return make_error(ErrorCode::kInvalidArgument,
                          "the validation set's outputs: update " + std::to_string(i) + " has " +
                              std::to_string(updates[i].size()) + " values, the model " +
                              std::to_string(global.size()));
      }
    }
    ValidationOutputs out;
    const auto data = slice(data_, 0, std::clamp<std::int64_t>(examples, 0, data_.size()));
    out.examples = data.size();
    const auto labels = data.labels.to(torch::kCPU, torch::kInt64).contiguous();
    out.labels.assign(labels.data_ptr<std::int64_t>(), labels.data_ptr<std::int64_t>() + labels.numel());
    out.changes.resize(updates.size());
    // Tasks: the reference (when asked and not already trained), the global's pass, one pass
    // per update. On the CPU, each pass's matrix products run on one core (OpenBLAS is
    // single-threaded under libtorch, runtime.hpp), so the tasks are shared out over threads of
    // their own, each with a model replica and one libtorch thread, the long training first.
    const bool train = reference_round && !remembers_reference(global, *reference_round);
    if (reference_round && !train) out.reference = last_reference_;
    const std::size_t specials = train ? 2 : 1, tasks = specials + updates.size();
    const bool parallel = pool_ != nullptr;
    std::vector<Status> failed(std::max<std::size_t>(replicas_.size(), 1), ok_status());
    std::atomic<std::size_t> next{0};
    auto work = [&](std::size_t slot) {
      models::Model& model = parallel ? *replicas_[slot] : *model_;
      std::vector<float> params(global.size());
      for (std::size_t task = next++; task < tasks && failed[slot].ok(); task = next++) {
        if (train && task == 0) {
          auto trained = train_reference(model, global, *reference_round);
          if (!trained.ok()) {
            failed[slot] = trained.error();
            return;
          }
          out.reference = std::move(*trained);
          continue;
        }
        const bool base = task == specials - 1;
        const std::size_t i = task - specials;
        if (base) {
          std::copy(global.begin(), global.end(), params.begin());
        } else {
          for (std::size_t k = 0; k < params.size(); ++k) {
            params[k] = global[k] + static_cast<float>(step * updates[i][k]);
          }
        }
        if (auto set = model.set_flat_parameters(params); !set.ok()) {
          failed[slot] = set;
          return;
        }
        auto result = models::predict_logits(model, data);
        if (!result.ok()) {
          failed[slot] = result.error();
          return;
        }
        if (base) {
          out.base = std::move(*result);
        } else {
          out.changes[i] = std::move(*result);
        }
      }
    };
    if (parallel) {
      pool_->run(work);
    } else {
      work(0);
    }
    for (const auto& st : failed) {
      if (!st.ok()) return with_context(st.error(), "the validation set's outputs");
    }
    if (train) remember_reference(global, *reference_round, out.reference);
    out.classes = out.examples > 0 ? static_cast<std::int64_t>(out.base.size()) / out.examples : 0;
    for (auto& change : out.changes) {
      for (std::size_t k = 0; k < change.size() && k < out.base.size(); ++k) change[k] -= out.base[k];
    }
    return out;
  }

 private:
  // FLTrust's reference: `global` trained on the whole validation set with the round's task
  // settings, seeded with (seed, round), minus `global`.
  Result<std::vector<float>> train_reference(models::Model& model, std::span<const float> global,
                                             std::uint64_t round) {
    FL_RETURN_IF_ERROR(model.set_flat_parameters(global));
    const auto options = models::train_options(training_, seed_ * 1'000'003 + round);
    if (auto trained = models::train_local(model, data_, indices_, options); !trained.ok()) {
      return with_context(trained.error(), "the validation set's reference update");
    }
    auto trained = model.flat_parameters();
    for (std::size_t k = 0; k < trained.size(); ++k) trained[k] -= global[k];
    return trained;
  }
  bool remembers_reference(std::span<const float> global, std::uint64_t round) const {
    return last_round_ == round && std::ranges::equal(last_global_, global);
  }
  void remember_reference(std::span<const float> global, std::uint64_t round, const std::vector<float>& reference) {
    last_round_ = round;
    last_global_.assign(global.begin(), global.end());
    last_reference_ = reference;
  }

  // Replicas of the model for parallel forward passes, one per thread: on the CPU, one per
  // core (at most 4). None on a GPU or on one core, or if a replica cannot be made (the job's
  // own model was): the passes then run in turn.
  void make_replicas() {
    if (model_->device().type() != torch::kCPU) return;
    const auto cores = std::clamp<unsigned>(std::thread::hardware_concurrency(), 1, 4);
    const auto want = std::min<std::size_t>(threads_ > 0 ? static_cast<std::size_t>(threads_) : cores, 4);
    for (std::size_t t = 0; want > 1 && t < want; ++t) {
      auto replica = models::make_model(model_->spec(), seed_, models::input_of(data_));
      if (!replica.ok()) {
        replicas_.clear();
        return;
      }
      replicas_.push_back(std::move(*replica));
    }
    if (replicas_.size() > 1) pool_ = std::make_unique<PassPool>(replicas_.size());
  }

  std::unique_ptr<models::Model> model_;
  std::vector<std::unique_ptr<models::Model>> replicas_;
  std::unique_ptr<PassPool> pool_;  // one thread per replica
  models::Dataset data_;
  common::TrainingSettings training_;
  std::uint64_t seed_;
  int threads_;
  std::vector<std::int64_t> indices_;
  std::optional<std::uint64_t> last_round_;  // the last reference trained, and for what
  std::vector<float> last_global_, last_reference_;
};

}  // namespace

std::pair<models::Dataset, models::Dataset> split_validation(const models::Dataset& test,
                                                             std::int64_t n) {
  n = std::clamp<std::int64_t>(n, 0, test.size() / 2);
  return {slice(test, test.size() - n, n), slice(test, 0, test.size() - n)};
}

std::unique_ptr<ValidationOracle> make_validation_oracle(std::unique_ptr<models::Model> model,
                                                         models::Dataset validation,
                                                         common::TrainingSettings training,
                                                         std::uint64_t seed, int threads) {
  return std::make_unique<TorchValidationOracle>(std::move(model), std::move(validation), training,
                                                 seed, threads);
}

}  // namespace fl::coordinator
