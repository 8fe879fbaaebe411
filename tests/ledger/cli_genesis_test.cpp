// `fl-ledger verify --genesis HASH`: a chain is accepted only when it starts at the genesis the
// caller trusts; a valid chain with another genesis (another authority, or the same authority
// started again) fails at block 0, and a malformed hash is refused with what to give.
#include <thread>

#include "cli_fixture.hpp"

namespace fl::test {
namespace {

class CliGenesisTest : public CliTest {
 protected:
  std::string genesis_of(const std::string& db_args) {
    const auto r = run("verify " + db_args + " --json");
    EXPECT_EQ(r.code, 0) << r.out << r.err;
    return r.parsed()["genesis_hash"].get<std::string>();
  }
};

TEST_F(CliGenesisTest, AcceptsTheChainThatStartsAtTheGivenGenesis) {
  const auto genesis = genesis_of(db());
  const auto r = run("verify " + db() + " --genesis " + genesis);
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("genesis   " + genesis), std::string::npos) << r.out;
}

TEST_F(CliGenesisTest, FailsAValidChainWithAnyOtherGenesisAtBlockZero) {
  const auto other_db = dir_ / "other.db";
  std::this_thread::sleep_for(std::chrono::milliseconds(5));  // genesis time differs
  test::make_ledger(other_db, 3);  // same authority, same rounds, but another genesis block
  const auto other = genesis_of("--db " + other_db.string());
  ASSERT_NE(other, genesis_of(db()));
  const auto r = run("verify " + db() + " --genesis " + other + " --json");
  EXPECT_EQ(r.code, 1) << r.out;
  const auto j = r.parsed();
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["failure"]["height"], 0);
  EXPECT_NE(j["failure"]["problem"].get<std::string>().find("is not the expected " + other),
            std::string::npos)
      << r.out;
}

TEST_F(CliGenesisTest, RefusesAGenesisThatIsNotAHash) {
  const auto r = run("verify " + db() + " --genesis 12ab");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--genesis"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace fl::test
