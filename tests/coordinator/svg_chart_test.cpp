// The one SVG line-chart drawer: lines, markers, axes and legend as text a browser renders.
#include "fl/coordinator/svg_chart.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace fl::coordinator {
namespace {

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

LineChart two_series() {
  LineChart chart;
  chart.title = "t";
  chart.y = ChartAxis{"test accuracy (%)", 0, 1, 10, 100};
  chart.series.push_back({"a", {}, {0.1, 0.5, 0.9}, {}, false, false});
  chart.series.push_back({"b", {}, {0.2, 0.3, 0.4}, {}, false, false});
  return chart;
}

TEST(SvgChart, DrawsOnePolylinePerSeriesAndALegendEntryForEach) {
  const auto svg = line_chart_svg(two_series());
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"420\"", 0),
            0u);
  EXPECT_EQ(count(svg, "<polyline"), 2u);
  EXPECT_NE(svg.find(">a</text>"), std::string::npos);
  EXPECT_NE(svg.find(">b</text>"), std::string::npos);
  EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
}

TEST(SvgChart, PlacesTheFirstAndLastRoundAtThePlotEdgesAndValuesByTheAxis) {
  const auto svg = line_chart_svg(two_series());
  // Plot area x 56..550, y 36..372: round 1 at the left edge, round 3 at the right; 0.5 mid-height.
  EXPECT_NE(svg.find("points=\"56.0,338.4 303.0,204.0 550.0,69.6\""), std::string::npos) << svg;
}

TEST(SvgChart, LabelsTicksScaledAsIntegersWhenTheyAreWhole) {
  const auto svg = line_chart_svg(two_series());
  EXPECT_NE(svg.find("text-anchor=\"end\">30</text>"), std::string::npos);
  EXPECT_NE(svg.find("text-anchor=\"end\">100</text>"), std::string::npos);
  EXPECT_EQ(svg.find("30.0000"), std::string::npos);
}

TEST(SvgChart, UsesExplicitRoundsForTheXPositions) {
  LineChart chart = two_series();
  chart.series.resize(1);
  chart.series[0].rounds = {1, 2, 5};  // round 5 is the right edge; 2 is a quarter of the way
  const auto svg = line_chart_svg(chart);
  EXPECT_NE(svg.find("points=\"56.0,338.4 179.5,204.0 550.0,69.6\""), std::string::npos) << svg;
}

TEST(SvgChart, DrawsNonFiniteValuesAtTheAxisMinimum) {
  LineChart chart = two_series();
  chart.series[0].values[1] = std::nan("");
  const auto svg = line_chart_svg(chart);
  EXPECT_NE(svg.find("303.0,372.0"), std::string::npos) << svg;
  EXPECT_EQ(svg.find("nan"), std::string::npos);
}

TEST(SvgChart, DrawsMarkersWithTheirNoteAndExplainsThemInTheLegend) {
  LineChart chart = two_series();
  chart.markers = {"refused", "rule refused", "rule refused the round"};
  chart.series[1].marked = {false, true, false};
  const auto svg = line_chart_svg(chart);
  EXPECT_EQ(count(svg, "class=\"refused\""), 1u);
  EXPECT_NE(svg.find("<title>round 2: rule refused</title>"), std::string::npos);
  EXPECT_NE(svg.find(">rule refused the round</text>"), std::string::npos);
}

TEST(SvgChart, LeavesTheMarkerLegendOutWhenNothingIsMarked) {
  LineChart chart = two_series();
  chart.markers = {"refused", "rule refused", "rule refused the round"};
  EXPECT_EQ(line_chart_svg(chart).find("rule refused the round"), std::string::npos);
}

TEST(SvgChart, DrawsASecondAxisOnTheRightAndWidensThePage) {
  LineChart chart = two_series();
  chart.y_right = axis_up_to(2.3, "test loss");  // 0..2.5 in steps of 0.5
  chart.series[1].right_axis = true;
  chart.series[1].dashed = true;
  const auto svg = line_chart_svg(chart);
  EXPECT_NE(svg.find("width=\"810\""), std::string::npos);
  EXPECT_NE(svg.find("rotate(90)\" text-anchor=\"middle\">test loss</text>"), std::string::npos);
  EXPECT_NE(svg.find(">2.5</text>"), std::string::npos);  // the right axis ends at 2.5
  EXPECT_EQ(count(svg, "stroke-dasharray"), 2u);          // the line and its legend entry
}

TEST(SvgChart, EscapesTextForXml) {
  LineChart chart = two_series();
  chart.title = "krum <f=2> & \"x\"";
  const auto svg = line_chart_svg(chart);
  EXPECT_NE(svg.find("krum &lt;f=2&gt; &amp; &quot;x&quot;"), std::string::npos);
  EXPECT_EQ(svg.find("<f=2>"), std::string::npos);
}

TEST(SvgChart, DrawsASingleRoundInTheMiddle) {
  LineChart chart = two_series();
  chart.series = {{"only", {}, {0.5}, {}, false, false}};
  EXPECT_NE(line_chart_svg(chart).find("points=\"303.0,204.0\""), std::string::npos);
}

TEST(AxisUpTo, EndsJustPastTheMaximumInRoundSteps) {
  const auto tokens = axis_up_to(2021, "", 10);  // steps of 250: 9 of them
  EXPECT_DOUBLE_EQ(tokens.max, 2250);
  EXPECT_EQ(tokens.ticks, 9);
  EXPECT_DOUBLE_EQ(axis_up_to(1.88, "", 5).max, 2);  // steps of 0.5
  EXPECT_DOUBLE_EQ(axis_up_to(2.3, "", 5).max, 2.5);
  EXPECT_DOUBLE_EQ(axis_up_to(1.0, "", 5).max, 1);
  EXPECT_DOUBLE_EQ(axis_up_to(3000, "", 5).max, 3000);
  EXPECT_DOUBLE_EQ(axis_up_to(7001, "", 5).max, 8000);
}

TEST(AxisUpTo, UsesZeroToOneWithoutAPositiveMaximum) {
  EXPECT_DOUBLE_EQ(axis_up_to(0, "").max, 1);
  EXPECT_DOUBLE_EQ(axis_up_to(-3, "").max, 1);
  EXPECT_DOUBLE_EQ(axis_up_to(std::nan(""), "").max, 1);
}

}  // namespace
}  // namespace fl::coordinator
