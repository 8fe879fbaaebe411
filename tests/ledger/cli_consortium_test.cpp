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

TEST_F(CliConsortiumTest, ACheckpointIsFinalWhenAQuorumOfTheConsortiumsWitnessesCosignedIt) {
  ASSERT_EQ(run("consortium found " + db() + " --key " + key(0) + " --consortium " + consortium_file("c.toml", 3, 2)).code, 0);
  std::vector<std::string> files;
  for (int w : {0, 1, 5}) {  // two members, and an outside witness the consortium does not name
    const auto state = (dir_ / ("witness-" + std::to_string(w))).string();
    ASSERT_EQ(run("witness init --key " + key(w) + " --state " + state).code, 0);
    files.push_back((dir_ / ("cp-" + std::to_string(w) + ".json")).string());
    auto cosigned = run("witness cosign " + db() + " --key " + key(w) + " --state " + state + " --out " + files.back());
    ASSERT_EQ(cosigned.code, 0) << cosigned.err;
  }
  auto one = run("checkpoint verify " + files[0] + " " + db());
  EXPECT_EQ(one.code, 1);
  EXPECT_NE(one.out.find("1 valid cosignature(s) of the 2 required"), std::string::npos) << one.out;
  const auto both = (dir_ / "final.json").string();
  auto combined = run("checkpoint combine " + files[0] + " " + files[2] + " " + files[1] + " " + files[0] + " --out " + both);
  ASSERT_EQ(combined.code, 0) << combined.err;
  EXPECT_NE(combined.out.find("with 3 cosignatures"), std::string::npos) << combined.out;
  auto final_cp = run("checkpoint verify " + both + " " + db());
  EXPECT_EQ(final_cp.code, 0) << final_cp.out << final_cp.err;
  EXPECT_NE(final_cp.out.find("final by the consortium's quorum"), std::string::npos) << final_cp.out;
  // The same witnesses' checkpoint says nothing about another chain.
  const auto other_db = dir_ / "other.db";
  ASSERT_EQ(run("consortium found --db " + other_db.string() + " --key " + key(1) + " --consortium " +
                (dir_ / "c.toml").string()).code, 0);
  auto other = run("checkpoint verify " + both + " --db " + other_db.string());
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.out.find("not this ledger's"), std::string::npos) << other.out;
  // Cosignatures of two different heads do not combine.
  ASSERT_EQ(run("issue --key " + key(0) + " --to " + hex(member(1).public_key) + " --amount 5 " + db()).code, 0);
  const auto later = (dir_ / "later.json").string();
  ASSERT_EQ(run("witness cosign " + db() + " --key " + key(0) + " --state " + (dir_ / "witness-0").string() + " --out " +
                later).code, 0);
  auto mixed = run("checkpoint combine " + files[1] + " " + later + " --out " + (dir_ / "mixed.json").string());
  EXPECT_EQ(mixed.code, 1);
  EXPECT_NE(mixed.err.find("only cosignatures of one checkpoint combine"), std::string::npos) << mixed.err;
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
