// Whether a model can train on a dataset at all, asked before any round starts: one forward
// pass on a small batch, and a check that the output has one logit per class. A mismatch (an
// mlp for 28x28 images fed 16x16 ones, a 5-way head for 10 classes) becomes a message that
// says what does not fit and what to change, instead of a libtorch exception mid-round.
#pragma once

#include "fl/common/result.hpp"
#include "fl/models/dataset.hpp"
#include "fl/models/model.hpp"

namespace fl::models {

// The input a zoo model needs for this data: its example shape and class count.
ModelInput input_of(const Dataset& data);

// Ok when model.forward on a few examples of `data` gives [N, data.num_classes] floating
// logits; kInvalidArgument naming the model, the shapes and the remedy otherwise. Leaves the
// model's parameters untouched and the model in training mode.
Status check_model_fits(Model& model, const Dataset& data);

// The first line of a libtorch/std exception's message, without the C++ backtrace.
std::string exception_summary(const std::exception& e);

}  // namespace fl::models
