// Line charts over rounds as standalone SVG text: one polyline per series, a legend on the
// right, and optionally a second y axis for series in other units (test loss beside accuracy).
// The one chart drawer behind the simulator's sweep plots, a run folder's accuracy.svg and
// rewards.svg, and `fl-coordinator compare`. No torch, no files: callers write the text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fl::coordinator {

struct ChartSeries {
  std::string label;
  std::vector<std::uint64_t> rounds;  // x of each value; empty: 1, 2, ..., values.size()
  std::vector<double> values;         // a non-finite value is drawn at the axis minimum
  std::vector<bool> marked;           // per value: a hollow marker (e.g. the rule refused)
  bool right_axis = false;            // measured on LineChart::y_right
  bool dashed = false;
};

struct ChartAxis {
  std::string label;
  double min = 0;
  double max = 1;
  int ticks = 10;          // grid steps between min and max
  double label_scale = 1;  // tick text = value x label_scale (100 shows fractions as percent)
};

// Hollow circles on marked values, e.g. rounds where the rule refused and the model stayed.
struct ChartMarkers {
  std::string css_class = "marked";
  std::string note;    // each marker's tooltip: "round N: <note>"
  std::string legend;  // the legend entry explaining them, shown when any is drawn
};

struct LineChart {
  std::string title;
  std::string x_label = "round";
  ChartAxis y;
  std::optional<ChartAxis> y_right;  // drawn only when set
  std::vector<ChartSeries> series;
  ChartMarkers markers;
};

std::string line_chart_svg(const LineChart& chart);

// An axis from 0 just past `max_value` (1 when it is not positive) in at most `ticks` steps of
// 1, 2, 2.5 or 5 x 10^k, e.g. 2021 in 10 steps -> 0..2250 in steps of 250.
ChartAxis axis_up_to(double max_value, std::string label, int ticks = 5);

// Text safe inside SVG/XML elements and attribute values.
std::string xml_escape(const std::string& text);

}  // namespace fl::coordinator
