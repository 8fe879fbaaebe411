// round_metrics: every output comes from one field table; CSV text is quoted so a close reason
// with commas stays one column; MetricsWriter is a RoundObserver.
#include "fl/coordinator/round_metrics.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace fl::coordinator {
namespace {

// RFC 4180 split of one line (quoted fields, doubled quotes).
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      out.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

RoundMetrics sample() {
  RoundMetrics m;
  m.round = 7;
  m.sampled = 4;
  m.answered = 2;
  m.task_errors = 1;
  m.rule = "krum(f=1)";
  m.scorer = "cosine";
  m.close_reason = "quorum after soft deadline, no updates";
  m.never_answered = "ab12cd34 ef56ab78";
  return m;
}

TEST(RoundMetrics, CsvRowHasOneColumnPerHeaderEvenWithCommasInText) {
  const auto header = split_csv(csv_header());
  const auto row = split_csv(csv_row(sample()));
  ASSERT_EQ(row.size(), header.size());
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "close_reason") {
      EXPECT_EQ(row[i], "quorum after soft deadline, no updates");
    } else if (header[i] == "never_answered") {
      EXPECT_EQ(row[i], "ab12cd34 ef56ab78");
    } else if (header[i] == "task_errors") {
      EXPECT_EQ(row[i], "1");
    }
  }
}

TEST(RoundMetrics, CsvQuoteDoublesQuotes) {
  EXPECT_EQ(csv_quote("a \"b\", c"), "\"a \"\"b\"\", c\"");
}

TEST(RoundMetrics, JsonLineHasEveryField) {
  const auto j = nlohmann::json::parse(json_line(sample()));
  for (const auto& f : round_metric_fields())
    EXPECT_TRUE(j.contains(std::string(f.name))) << f.name;
  EXPECT_EQ(j["scorer"], "cosine");
  EXPECT_EQ(j["round"], 7);
}

TEST(RoundMetrics, LiveRowShowsTheCloseReason) {
  EXPECT_NE(live_header().find("closed"), std::string::npos);
  EXPECT_NE(live_row(sample()).find("no updates"), std::string::npos);
}

TEST(RoundMetrics, NeverAnsweredListsShortIdsSpaceSeparated) {
  const std::vector<common::PublicKey> keys{common::key_pair_from_label("a").public_key,
                                            common::key_pair_from_label("b").public_key};
  EXPECT_EQ(short_id_list(keys), common::short_id(keys[0]) + " " + common::short_id(keys[1]));
  EXPECT_EQ(short_id_list({}), "");
}

TEST(MetricsWriter, WritesRowsThroughTheObserverInterfaceAndMovesAsideOldLayouts) {
  const auto dir = std::filesystem::temp_directory_path() / "fl_round_metrics_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "metrics.csv") << "round,old_column\n1,2\n";
  {
    auto writer = MetricsWriter::open(dir, /*live_table=*/false);
    ASSERT_TRUE(writer.ok()) << writer.error().to_string();
    RoundObserver& observer = *writer;
    observer.on_job_start();
    observer.on_round(sample());
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "metrics.1.csv"));
  std::ifstream csv(dir / "metrics.csv");
  std::string header, row;
  std::getline(csv, header);
  std::getline(csv, row);
  EXPECT_EQ(header, csv_header());
  EXPECT_EQ(split_csv(row).size(), split_csv(header).size());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace fl::coordinator
