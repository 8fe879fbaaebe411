// fl-ledger consortium through the real binary: found a ledger with a consortium file, show it,
// change it with a quorum of approvals gathered in one change file (propose, approve by each
// member, submit), and verify --consortium against the founding file.
#include <fstream>

#include "cli_fixture.hpp"

namespace fl::test {
namespace {

class CliConsortiumTest : public CliTest {
 protected:
  void SetUp() override {}  // a fresh ledger: the genesis is the point
  std::string key(int i) {
    const auto file = dir_ / ("m" + std::to_string(i) + ".key");
    EXPECT_TRUE(common::save_key_file(file, member(i)).ok());
    return file.string();
  }
  static common::KeyPair member(int i) { return common::key_pair_from_label("cli-member-" + std::to_string(i)); }
  // A consortium file naming members 0..n-1 by their .pub files (written beside it).
  std::string consortium_file(const std::string& name, int n, int quorum) {
    std::string list;
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(common::save_public_key_file(dir_ / ("m" + std::to_string(i) + ".pub"), member(i).public_key).ok());
      list += (i ? ", \"m" : "\"m") + std::to_string(i) + ".pub\"";
    }
    std::ofstream(dir_ / name) << "members = [" << list << "]\nwitnesses = [" << list << "]\nquorum = " << quorum
                               << "\nminters = [\"m0.pub\"]\n";
    return (dir_ / name).string();
  }
};

TEST_F(CliConsortiumTest, FoundsShowsChangesByQuorumAndVerifiesTheFoundingFile) {
  const auto founding = consortium_file("c.toml", 3, 2);
  auto found = run("consortium found " + db() + " --key " + key(1) + " --consortium " + founding);
  ASSERT_EQ(found.code, 0) << found.err;
  EXPECT_NE(found.out.find("3 members, 3 witnesses, quorum 2, 1 minter"), std::string::npos) << found.out;
  auto shown = run("consortium show --json " + db());
  ASSERT_EQ(shown.code, 0) << shown.err;
  EXPECT_EQ(shown.parsed()["consortium"]["members"].size(), 3u);
  EXPECT_EQ(shown.parsed()["consortium"]["minters"][0], hex(member(0).public_key));

  const auto next = consortium_file("next.toml", 4, 3);
  const auto change = (dir_ / "change.json").string();
  ASSERT_EQ(run("consortium propose " + db() + " --consortium " + next + " --out " + change).code, 0);
  ASSERT_EQ(run("consortium approve " + change + " " + db() + " --key " + key(0)).code, 0);
  auto early = run("consortium submit " + change + " " + db() + " --key " + key(0));
  EXPECT_EQ(early.code, 1);
  EXPECT_NE(early.err.find("approved by 1 of the 3 members; the quorum is 2"), std::string::npos) << early.err;
  auto outsider = run("consortium approve " + change + " " + db() + " --key " + key(3));
  EXPECT_EQ(outsider.code, 1);
  EXPECT_NE(outsider.err.find("not a member"), std::string::npos) << outsider.err;
  ASSERT_EQ(run("consortium approve " + change + " " + db() + " --key " + key(2)).code, 0);
  auto submitted = run("consortium submit " + change + " " + db() + " --key " + key(2));
  ASSERT_EQ(submitted.code, 0) << submitted.err;
  EXPECT_NE(submitted.out.find("epoch 1: 4 members"), std::string::npos) << submitted.out;
  // The change file is spent: the ledger's consortium is no longer the one it replaces.
  auto again = run("consortium submit " + change + " " + db() + " --key " + key(2));
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("propose it again"), std::string::npos) << again.err;

  auto verified = run("verify " + db() + " --consortium " + founding);
  EXPECT_EQ(verified.code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("consortium epoch 1: 4 members, 4 witnesses, quorum 3"), std::string::npos)
      << verified.out;
  auto other = run("verify --json " + db() + " --consortium " + next);
  EXPECT_EQ(other.code, 1);
  EXPECT_EQ(other.parsed()["failure"]["height"], 0);
  EXPECT_NE(other.out.find("another federation's chain"), std::string::npos) << other.out;
}

TEST_F(CliConsortiumTest, RefusesAFounderOutsideTheConsortiumAndABadFile) {
  const auto file = consortium_file("c.toml", 2, 1);
  auto outsider = run("consortium found " + db() + " --key " + key(5) + " --consortium " + file);
  EXPECT_EQ(outsider.code, 1);
  EXPECT_NE(outsider.err.find("is not one of the members"), std::string::npos) << outsider.err;
  std::ofstream(dir_ / "bad.toml") << "members = [\"nope.pub\"]\n";
  auto bad = run("consortium found " + db() + " --key " + key(0) + " --consortium " + (dir_ / "bad.toml").string());
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.err.find("members[0]"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace fl::test
