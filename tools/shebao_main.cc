// shebao: the ledger's command-line tool. See docs/cli.md.
#include <boost/program_options.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

#include <fmt/format.h>

#include "tools/cli.h"

namespace po = boost::program_options;
using namespace shebao;

namespace {

struct Subcommand {
  int (*run)(const cli::GlobalOptions&, const std::vector<std::string>&);
  const char* summary;
};

const std::map<std::string, Subcommand>& Subcommands() {
  static const std::map<std::string, Subcommand> table = {
      {"init", {cli::CmdInit, "create an empty ledger"}},
      {"ingest", {cli::CmdIngest, "apply JSONL commands from a file or stdin (docs/commands.md)"}},
      {"demo", {cli::CmdDemo, "record a synthetic city, then answer a real inquiry"}},
      {"head", {cli::CmdHead, "print the last position and chain hash"}},
      {"history", {cli::CmdHistory, "print the events of one stream"}},
      {"log", {cli::CmdLog, "print the log from a position"}},
      {"payments", {cli::CmdPayments, "a person's payment record (Art. 4)"}},
      {"rights", {cli::CmdRights, "a person's personal rights record (Art. 4)"}},
      {"case", {cli::CmdCase, "one application: current step, next step, due date, history"}},
      {"queue", {cli::CmdQueue, "an agency's open cases, certificates due and overdue"}},
      {"employer", {cli::CmdEmployer, "an employer's declarations, payments and arrears"}},
      {"covered", {cli::CmdCovered, "was a child covered on a date (as the ledger knew then)"}},
      {"rebuild", {cli::CmdRebuild, "drop and recompute every projection from the log"}},
      {"stats", {cli::CmdStats, "ledger size, head and projection position"}},
      {"verify", {cli::CmdVerify, "verify the whole log: positions, hash chain, index"}},
      {"keygen", {cli::CmdKeygen, "create the agency's Ed25519 key pair (checkpoints, statements)"}},
      {"audit", {cli::CmdAudit, "auditor: verify, replay, checkpoint, proofs, as-of, check-statement"}},
      {"statement", {cli::CmdStatement, "a person's signed rights statement with proofs (Art. 74)"}},
  };
  return table;
}

void PrintUsage(const po::options_description& global) {
  std::cout << "usage: shebao [global options] <command> [command options]\n\ncommands:\n";
  for (const auto& [name, sub] : Subcommands()) {
    std::cout << fmt::format("  {:<10} {}\n", name, sub.summary);
  }
  std::cout << "\n" << global << "\n'shebao <command> --help' shows a command's options and an "
            << "example.\n";
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description global("global options");
  const char* env_db = std::getenv("SHEBAO_DB");
  global.add_options()
      ("db", po::value<std::string>()->default_value(env_db != nullptr ? env_db : "./shebao.db"),
       "ledger directory (default ./shebao.db, or $SHEBAO_DB)")
      ("format", po::value<std::string>()->default_value("table"), "output: table, json or csv")
      ("reveal", po::bool_switch(), "show citizen IDs and names unmasked")
      ("data", po::value<std::string>()->default_value(
                   std::getenv("SHEBAO_DATA") != nullptr ? std::getenv("SHEBAO_DATA")
                                                         : SHEBAO_DEFAULT_DATA_DIR),
       "data directory: holiday-cn/ and premiums.json ($SHEBAO_DATA)")
      ("help,h", "show this help");
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())(
      "args", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(global).add(hidden);
  po::positional_options_description positional;
  positional.add("command", 1).add("args", -1);

  po::variables_map vm;
  std::vector<std::string> rest;
  try {
    // Global options go before the command; everything after it belongs to the command.
    po::parsed_options parsed = po::command_line_parser(argc, argv)
                                    .options(all)
                                    .positional(positional)
                                    .allow_unregistered()
                                    .run();
    po::store(parsed, vm);
    po::notify(vm);
    rest = po::collect_unrecognized(parsed.options, po::include_positional);
  } catch (const po::error& e) {
    std::cerr << "error: usage: " << e.what() << "\n";
    return cli::kExitUsage;
  }
  if (!vm.count("command")) {
    PrintUsage(global);
    return vm.count("help") ? cli::kExitOk : cli::kExitUsage;
  }
  const std::string command = vm["command"].as<std::string>();
  auto it = Subcommands().find(command);
  if (it == Subcommands().end()) {
    std::cerr << fmt::format("error: usage: unknown command '{}'; 'shebao --help' lists them\n",
                             command);
    return cli::kExitUsage;
  }
  if (!rest.empty() && rest.front() == command) rest.erase(rest.begin());
  if (vm.count("help")) rest.push_back("--help");

  cli::GlobalOptions options;
  options.db_path = vm["db"].as<std::string>();
  options.format = vm["format"].as<std::string>();
  options.reveal = vm["reveal"].as<bool>();
  options.data_dir = vm["data"].as<std::string>();
  if (options.format != "table" && options.format != "json" && options.format != "csv") {
    std::cerr << fmt::format("error: usage: --format must be table, json or csv, not '{}'\n",
                             options.format);
    return cli::kExitUsage;
  }
  return it->second.run(options, rest);
}
