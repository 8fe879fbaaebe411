#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "fl/common/tensor_codec.hpp"
#include "fl/common/wire.hpp"
#include "support/builders.hpp"

namespace fl::common {
namespace {

class CodecShapes : public ::testing::TestWithParam<std::vector<std::vector<std::int64_t>>> {};

TEST_P(CodecShapes, PayloadRoundTripsThroughTheWire) {
  TensorLayout layout;
  int i = 0;
  for (const auto& shape : GetParam()) layout.tensors.push_back({"t" + std::to_string(i++), shape});
  auto values = test::ramp(static_cast<std::size_t>(layout.numel()), -1.0f, 0.25f);
  RoundTask task;
  task.layout = layout;
  const std::string header = encode(task);
  auto back = decode<RoundTask>({reinterpret_cast<const std::uint8_t*>(header.data()), header.size()});
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->layout, layout);
  auto view = view_payload(back->layout, as_bytes(values));
  ASSERT_TRUE(view.ok()) << view.error().to_string();
  ASSERT_EQ(view->size(), values.size());
  EXPECT_EQ(view->data(), values.data()) << "decoding must not copy";
}

INSTANTIATE_TEST_SUITE_P(Shapes, CodecShapes,
                         ::testing::Values(std::vector<std::vector<std::int64_t>>{{1}},
                                           std::vector<std::vector<std::int64_t>>{{200, 784}, {200}},
                                           std::vector<std::vector<std::int64_t>>{{32, 1, 5, 5}, {32}, {10, 512}},
                                           std::vector<std::vector<std::int64_t>>{{0}, {3, 0, 2}}));

TEST(TensorCodec, PayloadOfTheWrongSizeIsRejected) {
  auto values = test::ramp(8);
  auto view = view_payload(test::small_layout(), as_bytes(values));
  ASSERT_FALSE(view.ok());
  EXPECT_NE(view.error().message.find("layout needs 36"), std::string::npos);
}

TEST(TensorCodec, NegativeDimensionIsRejected) {
  TensorLayout layout;
  layout.tensors.push_back({"w", {-1, 3}});
  EXPECT_FALSE(validate_layout(layout).ok());
}

TEST(TensorCodec, OversizedLayoutIsRejectedBeforeAllocation) {
  TensorLayout layout;
  layout.tensors.push_back({"w", {1 << 20, 1 << 20}});
  auto s = validate_layout(layout);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kLimitExceeded);
}

TEST(TensorCodec, FindsTheFirstNonFiniteValue) {
  auto values = test::ramp(100);
  EXPECT_EQ(first_non_finite(values), -1);
  values[42] = std::numeric_limits<float>::quiet_NaN();
  values[70] = std::numeric_limits<float>::infinity();
  EXPECT_EQ(first_non_finite(values), 42);
}

TEST(TensorCodec, LayoutDescribesItself) {
  EXPECT_EQ(test::small_layout().describe(), "w[2,3] b[3]");
}

}  // namespace
}  // namespace fl::common
