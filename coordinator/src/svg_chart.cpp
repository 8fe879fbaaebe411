#include "fl/coordinator/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <sstream>

namespace fl::coordinator {
namespace {

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
// The page: plot area inside margins; the legend sits in the right margin, beyond the right
// axis when there is one.
constexpr double kW = 760, kH = 420, kLeft = 56, kRight = 210, kTop = 36, kBottom = 48;
constexpr double kRightAxisWidth = 50;
constexpr double kPlotWidth = kW - kLeft - kRight, kPlotHeight = kH - kTop - kBottom;

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// Integers as integers ("30", not "30.000000000000004"), anything else in 3 significant digits.
std::string tick_text(double v) {
  const double r = std::round(v);
  if (std::abs(v - r) <= 1e-9 * std::max(1.0, std::abs(v)))
    return std::to_string(static_cast<long long>(r));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", v);
  return buf;
}

std::uint64_t round_at(const ChartSeries& s, std::size_t i) {
  return s.rounds.empty() ? i + 1 : s.rounds[i];
}

std::size_t point_count(const ChartSeries& s) {
  return s.rounds.empty() ? s.values.size() : std::min(s.rounds.size(), s.values.size());
}

class Frame {
 public:
  explicit Frame(const LineChart& chart) : chart_(chart) {
    for (const auto& s : chart.series) {
      for (std::size_t i = 0; i < point_count(s); ++i)
        last_round_ = std::max(last_round_, round_at(s, i));
    }
  }
  double x_of(std::uint64_t round) const {  // rounds are 1-based
    return kLeft + (last_round_ == 1 ? kPlotWidth / 2
                                     : kPlotWidth * static_cast<double>(round - 1) /
                                           static_cast<double>(last_round_ - 1));
  }
  double y_of(double v, const ChartAxis& a) const {
    if (!std::isfinite(v)) v = a.min;
    return kTop + kPlotHeight * (1.0 - std::clamp((v - a.min) / (a.max - a.min), 0.0, 1.0));
  }
  const ChartAxis& axis_of(const ChartSeries& s) const {
    return s.right_axis && chart_.y_right ? *chart_.y_right : chart_.y;
  }
  std::uint64_t last_round() const { return last_round_; }
  double right_extra() const { return chart_.y_right ? kRightAxisWidth : 0; }
  double legend_x() const { return kLeft + kPlotWidth + right_extra(); }

 private:
  const LineChart& chart_;
  std::uint64_t last_round_ = 1;
};

void draw_axes(std::ostream& svg, const LineChart& chart, const Frame& f) {
  const auto& y = chart.y;
  for (int i = 0; i <= y.ticks; ++i) {  // horizontal grid at every tick of the left axis
    const double v = y.min + (y.max - y.min) * i / y.ticks;
    const double at = f.y_of(v, y);
    svg << "<line x1=\"" << kLeft << "\" y1=\"" << fixed(at, 1) << "\" x2=\"" << kLeft + kPlotWidth
        << "\" y2=\"" << fixed(at, 1) << "\" stroke=\"#e0e0e0\"/>\n"
        << "<text x=\"" << kLeft - 6 << "\" y=\"" << fixed(at + 4, 1) << "\" text-anchor=\"end\">"
        << tick_text(v * y.label_scale) << "</text>\n";
  }
  if (chart.y_right) {
    const auto& r = *chart.y_right;
    for (int i = 0; i <= r.ticks; ++i) {
      const double v = r.min + (r.max - r.min) * i / r.ticks;
      const double at = f.y_of(v, r);
      svg << "<line x1=\"" << kLeft + kPlotWidth << "\" y1=\"" << fixed(at, 1) << "\" x2=\""
          << kLeft + kPlotWidth + 4 << "\" y2=\"" << fixed(at, 1) << "\" stroke=\"#333\"/>\n"
          << "<text x=\"" << kLeft + kPlotWidth + 7 << "\" y=\"" << fixed(at + 4, 1) << "\">"
          << tick_text(v * r.label_scale) << "</text>\n";
    }
  }
  const std::uint64_t rounds = f.last_round();
  const std::uint64_t step = std::max<std::uint64_t>(1, (rounds + 9) / 10);
  for (std::uint64_t r = 1; r <= rounds; r += step) {
    svg << "<text x=\"" << fixed(f.x_of(r), 1) << "\" y=\"" << kTop + kPlotHeight + 16
        << "\" text-anchor=\"middle\">" << r << "</text>\n";
  }
  svg << "<rect x=\"" << kLeft << "\" y=\"" << kTop << "\" width=\"" << kPlotWidth << "\" height=\""
      << kPlotHeight << "\" fill=\"none\" stroke=\"#333\"/>\n"
      << "<text x=\"" << kLeft + kPlotWidth / 2 << "\" y=\"" << kH - 10
      << "\" text-anchor=\"middle\">" << xml_escape(chart.x_label) << "</text>\n"
      << "<text transform=\"translate(16," << kTop + kPlotHeight / 2
      << ") rotate(-90)\" text-anchor=\"middle\">" << xml_escape(y.label) << "</text>\n";
  if (chart.y_right) {
    svg << "<text transform=\"translate(" << kLeft + kPlotWidth + kRightAxisWidth - 6 << ","
        << kTop + kPlotHeight / 2 << ") rotate(90)\" text-anchor=\"middle\">"
        << xml_escape(chart.y_right->label) << "</text>\n";
  }
}

// One series: its line, its markers, its legend entry; true when it drew a marker.
bool draw_series(std::ostream& svg, const LineChart& chart, const Frame& f, std::size_t i) {
  const char* color = kColors[i % std::size(kColors)];
  const auto& s = chart.series[i];
  const auto& axis = f.axis_of(s);
  const char* dash = s.dashed ? " stroke-dasharray=\"6 4\"" : "";
  svg << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\"" << dash
      << " points=\"";
  for (std::size_t p = 0; p < point_count(s); ++p) {
    svg << (p ? " " : "") << fixed(f.x_of(round_at(s, p)), 1) << ','
        << fixed(f.y_of(s.values[p], axis), 1);
  }
  svg << "\"/>\n";
  bool marked = false;
  for (std::size_t p = 0; p < s.marked.size() && p < point_count(s); ++p) {
    if (!s.marked[p]) continue;
    const auto round = round_at(s, p);
    svg << "<circle class=\"" << xml_escape(chart.markers.css_class) << "\" cx=\""
        << fixed(f.x_of(round), 1) << "\" cy=\"" << fixed(f.y_of(s.values[p], axis), 1)
        << "\" r=\"4\" fill=\"white\" stroke=\"" << color << "\" stroke-width=\"2\"><title>round "
        << round << ": " << xml_escape(chart.markers.note) << "</title></circle>\n";
    marked = true;
  }
  const double ly = kTop + 8 + 18 * static_cast<double>(i);
  svg << "<line x1=\"" << f.legend_x() + 14 << "\" y1=\"" << ly << "\" x2=\"" << f.legend_x() + 36
      << "\" y2=\"" << ly << "\" stroke=\"" << color << "\" stroke-width=\"3\"" << dash << "/>\n"
      << "<text x=\"" << f.legend_x() + 42 << "\" y=\"" << ly + 4 << "\">" << xml_escape(s.label)
      << "</text>\n";
  return marked;
}

}  // namespace

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string line_chart_svg(const LineChart& chart) {
  const Frame f(chart);
  const double width = kW + f.right_extra();
  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << kH
      << "\" viewBox=\"0 0 " << width << ' ' << kH
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << kLeft << "\" y=\"22\" font-size=\"14\" font-weight=\"bold\">"
      << xml_escape(chart.title) << "</text>\n";
  draw_axes(svg, chart, f);
  bool any_marked = false;
  for (std::size_t i = 0; i < chart.series.size(); ++i) any_marked |= draw_series(svg, chart, f, i);
  if (any_marked && !chart.markers.legend.empty()) {
    const double ly = kTop + 8 + 18 * static_cast<double>(chart.series.size());
    svg << "<circle cx=\"" << f.legend_x() + 25 << "\" cy=\"" << ly
        << "\" r=\"4\" fill=\"white\" stroke=\"#333\" stroke-width=\"2\"/>\n"
        << "<text x=\"" << f.legend_x() + 42 << "\" y=\"" << ly + 4 << "\">"
        << xml_escape(chart.markers.legend) << "</text>\n";
  }
  svg << "</svg>\n";
  return svg.str();
}

ChartAxis axis_up_to(double max_value, std::string label, int ticks) {
  ChartAxis a;
  a.label = std::move(label);
  ticks = std::max(ticks, 1);
  if (!std::isfinite(max_value) || max_value <= 0) max_value = 1;
  // The step: the first 1, 2, 2.5 or 5 x 10^k that covers max_value in `ticks` steps.
  const double raw = max_value / ticks;
  const double decade = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * decade;
  for (double m : {1.0, 2.0, 2.5, 5.0}) {
    if (m * decade >= raw * (1 - 1e-12)) {
      step = m * decade;
      break;
    }
  }
  a.ticks = std::max(1, static_cast<int>(std::ceil(max_value / step - 1e-9)));
  a.max = a.ticks * step;
  return a;
}

}  // namespace fl::coordinator
