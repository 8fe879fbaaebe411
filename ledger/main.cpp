// fl-ledger: admin and account-holder commands over a FedLedger ledger database.
#include <CLI/CLI.hpp>

#include <iostream>

#include "fl/ledger/ledger.hpp"

int main(int argc, char** argv) {
  CLI::App app{"fl-ledger: inspect, verify and use a FedLedger ledger"};
  std::string db;
  auto* verify = app.add_subcommand("verify", "check every hash, Merkle root, signature, nonce and balance");
  verify->add_option("--db", db, "ledger database")->required();
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  auto report = fl::ledger::verify_ledger(db);
  if (!report.ok()) {
    std::cerr << report.error().to_string() << '\n';
    return 1;
  }
  if (!report->ok) {
    std::cerr << report->failure->to_string() << '\n';
    return 1;
  }
  std::cout << "ok\n";
  return 0;
}
