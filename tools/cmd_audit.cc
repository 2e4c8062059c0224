// shebao keygen, shebao audit ..., shebao statement: the auditor's and the insured person's side
// of the ledger (replay/). docs/cli.md documents each; exit code 3 means the ledger, a
// checkpoint or a statement failed verification.
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/domain/calendar.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/premium_table.h"
#include "ledger/domain/queries.h"
#include "ledger/domain/records_json.h"
#include "replay/checkpoint.h"
#include "replay/ledger_verifier.h"
#include "replay/log_tree.h"
#include "replay/projection_replay.h"
#include "replay/signing.h"
#include "replay/statement.h"
#include "tools/cli.h"
#include "tools/progress.h"

namespace po = boost::program_options;

namespace shebao::cli {
namespace {

using ledger::Code;
using ledger::Status;

Status ReadWholeFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::not_found, fmt::format("cannot open {}", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof()) return Status(Code::io_error, fmt::format("cannot read {}", path));
  *out = buf.str();
  return Status::OK();
}

Status WriteWholeFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.flush();
  if (!out) return Status(Code::io_error, fmt::format("cannot write {}", path));
  return Status::OK();
}

// Prints "<what>: FAILED: <message>" and returns the corruption exit code.
int Failed(std::string_view what, std::string_view message) {
  std::cerr << fmt::format("{}: FAILED: {}\n", what, message);
  return kExitCorrupt;
}

std::string Hex(const ledger::Hash256& h) { return ledger::HexEncode(h); }

int AuditVerify(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("audit verify options");
  desc.add_options()("key", po::value<std::string>(), "the agency's public key (PEM): check "
                     "checkpoint signatures with it")(
      "checkpoint", po::value<std::vector<std::string>>(),
      "a checkpoint file kept by the auditor (repeatable)")("quiet,q", po::bool_switch(),
                                                             "no progress bar");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao audit verify [--key PUB] [--checkpoint FILE]...",
                            "shebao --db ./city.db audit verify --key agency.pub", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  int code = 0;
  domain::WorkingDayCalendar calendar;
  domain::PremiumTable premiums;
  if (!LoadDomainData(options, &calendar, &premiums, &code)) return code;
  replay::PublicKey key;
  replay::VerifyOptions vo;
  vo.premiums = &premiums;
  vo.calendar = &calendar;
  if (vm.count("key")) {
    if (Status s = replay::PublicKey::Load(vm["key"].as<std::string>(), &key); !s.ok()) {
      return Fail(s);
    }
    vo.trusted_key = &key;
  }
  if (vm.count("checkpoint")) {
    for (const auto& path : vm["checkpoint"].as<std::vector<std::string>>()) {
      std::string text;
      replay::Checkpoint c;
      Status s = ReadWholeFile(path, &text);
      if (s.ok()) s = replay::CheckpointFromJson(text, &c);
      if (!s.ok()) return Fail(Status(s.code(), fmt::format("{}: {}", path, s.message())));
      vo.external_checkpoints.push_back(c);
    }
  }
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  replay::VerifyReport report;
  Status s;
  double secs = 0;
  {
    ProgressBar bar("verify", !vm["quiet"].as<bool>());
    vo.progress = [&](uint64_t done, uint64_t total) { bar.Update(done, total); };
    s = replay::VerifyLedger(*store, vo, &report);
    secs = bar.seconds();
  }
  if (!s.ok()) return Fail(s);
  if (report.failure) {
    const auto& f = *report.failure;
    if (options.format == "json") {
      std::cout << fmt::format("{{\"ok\":false,\"position\":{},\"stream\":{},\"check\":\"{}\","
                               "\"what\":{},\"events_verified\":{}}}\n",
                               f.position, domain::JsonString(f.stream_id), f.check,
                               domain::JsonString(f.what), report.events);
    }
    std::cerr << MaskPersonalData(
        fmt::format("audit verify: FAILED at position {}{}: {}: {} ({} events verified before "
                    "it)\n",
                    f.position, f.stream_id.empty() ? "" : " (stream " + f.stream_id + ")", f.check,
                    f.what, report.events),
        options.reveal);
    return kExitCorrupt;
  }
  if (options.format == "json") {
    std::cout << fmt::format(
        "{{\"ok\":true,\"events\":{},\"streams\":{},\"checkpoints\":{},\"signatures\":{},"
        "\"merkle_blocks\":{},\"root\":\"{}\",\"head\":{{\"position\":{},\"hash\":\"{}\"}},"
        "\"seconds\":{:.3f}}}\n",
        report.events, report.streams, report.checkpoints, report.signatures, report.merkle_blocks,
        Hex(report.root), report.head.position, Hex(report.head.hash), secs);
  } else {
    std::cout << fmt::format(
        "audit verify: OK: {} events in {} streams (FlatBuffers, hash chain, positions, stream "
        "versions, recorded time, domain rules); {} checkpoints match the log ({}); {} Merkle "
        "blocks match\n  Merkle root {}\n  head {} {}\n  {:.2f} s\n",
        report.events, report.streams, report.checkpoints,
        vo.trusted_key ? fmt::format("{} signatures verified with key {}", report.signatures,
                                     key.KeyId())
                       : std::string("signatures not checked: give --key"),
        report.merkle_blocks, Hex(report.root), report.head.position, Hex(report.head.hash), secs);
  }
  return kExitOk;
}

int AuditReplay(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("audit replay options");
  desc.add_options()("quiet,q", po::bool_switch(), "no progress bar");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao audit replay", "shebao --db ./city.db audit replay", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  replay::ReplayReport report;
  Status s;
  {
    ProgressBar bar("replay", !vm["quiet"].as<bool>());
    s = replay::ReplayProjections(*store, [&](uint64_t d, uint64_t t) { bar.Update(d, t); },
                                  &report);
  }
  if (!s.ok()) return Fail(s);
  std::string out;
  if (options.format == "json") {
    out = fmt::format("{{\"ok\":{},\"position\":{},\"rows_expected\":{},\"rows_found\":{},"
                      "\"difference_count\":{},\"differences\":[",
                      report.difference_count == 0, report.position, report.rows_expected,
                      report.rows_found, report.difference_count);
    for (size_t i = 0; i < report.differences.size(); ++i) {
      const auto& d = report.differences[i];
      out += fmt::format("{}{{\"key\":{},\"expected\":{},\"found\":{}}}", i ? "," : "",
                         domain::JsonString(d.key), d.expected.empty() ? "null" : d.expected,
                         d.found.empty() ? "null" : d.found);
    }
    out += "]}\n";
  } else {
    for (const auto& d : report.differences) {
      out += fmt::format("difference in projection {}, key {}\n  expected: {}\n  found:    {}\n",
                         d.key.substr(0, 1), d.key, d.expected.empty() ? "(no row)" : d.expected,
                         d.found.empty() ? "(no row)" : d.found);
    }
    out += fmt::format(
        "audit replay: {}: {} events folded into {} rows; {} rows stored; {} differences{}\n",
        report.difference_count == 0 ? "OK" : "FAILED", report.events, report.rows_expected,
        report.rows_found, report.difference_count,
        report.difference_count > report.differences.size()
            ? fmt::format(" (the first {} shown)", report.differences.size())
            : "");
  }
  std::cout << MaskPersonalData(out, options.reveal);
  return report.difference_count == 0 ? kExitOk : kExitCorrupt;
}

int AuditCheckpoint(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("audit checkpoint options");
  desc.add_options()("key", po::value<std::string>()->required(), "the agency's private key")(
      "out", po::value<std::string>(), "also write the checkpoint to this file (for auditors)");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao audit checkpoint --key PRIVATE_KEY [--out FILE]",
                            "shebao --db ./city.db audit checkpoint --key agency.key --out cp.json",
                            desc, po::positional_options_description(), &vm)) {
    return *code;
  }
  replay::PrivateKey key;
  if (Status s = replay::PrivateKey::Load(vm["key"].as<std::string>(), &key); !s.ok()) {
    return Fail(s);
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedger(options, false, &store, &code)) return code;
  replay::Checkpoint c;
  Status s = replay::CreateCheckpoint(*store, key, *ledger::SystemClock::Default(), &c);
  if (!s.ok()) return Fail(s);
  const std::string json = replay::CheckpointToJson(c);
  if (vm.count("out")) {
    if (Status w = WriteWholeFile(vm["out"].as<std::string>(), json + "\n"); !w.ok()) return Fail(w);
  }
  if (options.format == "json") {
    std::cout << json << "\n";
  } else {
    std::cout << fmt::format("checkpoint: {} events, Merkle root {}, signed by key {}\n", c.size,
                             Hex(c.root), key.public_key().KeyId());
  }
  return kExitOk;
}

// --size: a tree size, or the latest checkpoint's when absent.
bool TreeSize(const ledger::EventStore& store, const po::variables_map& vm, const char* option,
              uint64_t* size, int* code) {
  if (vm.count(option)) {
    *size = vm[option].as<uint64_t>();
  } else {
    replay::Checkpoint c;
    bool found = false;
    Status s = replay::LatestCheckpoint(store, &c, &found);
    if (!s.ok()) {
      *code = Fail(s);
      return false;
    }
    *size = found ? c.size : store.head().position;
  }
  if (*size == 0 || *size > store.head().position) {
    std::cerr << fmt::format("error: usage: --{} must be 1..{} (the log's length)\n", option,
                             store.head().position);
    *code = kExitUsage;
    return false;
  }
  return true;
}

std::string HashList(const std::vector<ledger::Hash256>& hashes) {
  std::string out = "[";
  for (size_t i = 0; i < hashes.size(); ++i) out += fmt::format("{}\"{}\"", i ? "," : "", Hex(hashes[i]));
  return out + "]";
}

int AuditProof(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("audit proof options");
  desc.add_options()("position", po::value<uint64_t>()->required(), "the event")(
      "size", po::value<uint64_t>(), "tree size (default: the latest checkpoint's)");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao audit proof --position P [--size N]",
                            "shebao --db ./city.db audit proof --position 12", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedger(options, false, &store, &code)) return code;
  uint64_t size = 0;
  if (!TreeSize(*store, vm, "size", &size, &code)) return code;
  const uint64_t position = vm["position"].as<uint64_t>();
  if (position == 0 || position > size) {
    std::cerr << fmt::format("error: usage: --position must be 1..{}\n", size);
    return kExitUsage;
  }
  replay::Hash256 root;
  std::vector<ledger::RecordedEvent> event;
  std::vector<replay::Hash256> proof;
  Status s = replay::ExtendBlockRoots(*store, size, &root);
  if (s.ok()) s = store->ReadAll(position, 1, &event);
  replay::LogSubtreeSource source(*store);
  if (s.ok()) s = replay::InclusionProof(position - 1, size, source, &proof);
  if (!s.ok()) return Fail(s);
  const replay::Hash256 leaf = replay::LeafHash(event.at(0).bytes);
  SHEBAO_ASSERT(replay::VerifyInclusion(leaf, position - 1, size, proof, root).ok());
  std::cout << fmt::format("{{\"position\":{},\"leaf_index\":{},\"tree_size\":{},\"leaf_hash\":"
                           "\"{}\",\"root\":\"{}\",\"proof\":{}}}\n",
                           position, position - 1, size, Hex(leaf), Hex(root), HashList(proof));
  return kExitOk;
}

int AuditConsistency(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("audit consistency options");
  desc.add_options()("old", po::value<uint64_t>()->required(), "the earlier tree size")(
      "new", po::value<uint64_t>(), "the later tree size (default: the latest checkpoint's)");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao audit consistency --old N [--new M]",
                            "shebao --db ./city.db audit consistency --old 1000", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedger(options, false, &store, &code)) return code;
  uint64_t new_size = 0;
  if (!TreeSize(*store, vm, "new", &new_size, &code)) return code;
  const uint64_t old_size = vm["old"].as<uint64_t>();
  if (old_size == 0 || old_size > new_size) {
    std::cerr << fmt::format("error: usage: --old must be 1..{}\n", new_size);
    return kExitUsage;
  }
  replay::Hash256 old_root, new_root;
  std::vector<replay::Hash256> proof;
  Status s = replay::ExtendBlockRoots(*store, new_size, &new_root);
  replay::LogSubtreeSource source(*store);
  if (s.ok()) s = replay::TreeRoot(old_size, source, &old_root);
  if (s.ok()) s = replay::ConsistencyProof(old_size, new_size, source, &proof);
  if (!s.ok()) return Fail(s);
  SHEBAO_ASSERT(replay::VerifyConsistency(old_size, new_size, old_root, new_root, proof).ok());
  std::cout << fmt::format("{{\"old_size\":{},\"old_root\":\"{}\",\"new_size\":{},\"new_root\":"
                           "\"{}\",\"proof\":{}}}\n",
                           old_size, Hex(old_root), new_size, Hex(new_root), HashList(proof));
  return kExitOk;
}

int AuditAsOf(const GlobalOptions& options, const std::vector<std::string>& args) {
  // "audit as-of TIME --person ID" is the rights and payment records with --as-of TIME;
  // "audit as-of TIME --case CASE" is the case with --as-of TIME.
  if (args.size() != 3 || args[0].starts_with("-") || (args[1] != "--person" && args[1] != "--case")) {
    std::cerr << "usage: shebao audit as-of TIME --person ID | --case case/<year>/<child id>\n"
                 "  (TIME: a position or a Beijing time YYYY-MM-DDTHH:MM:SS of recorded time)\n";
    return !args.empty() && (args[0] == "--help" || args[0] == "-h") ? kExitOk : kExitUsage;
  }
  if (args[1] == "--case") return CmdCase(options, {args[2], "--as-of", args[0]});
  const std::vector<std::string> rest = {"--person", args[2], "--as-of", args[0]};
  if (int code = CmdRights(options, rest); code != kExitOk) return code;
  if (options.format != "json") std::cout << "\n";
  return CmdPayments(options, rest);
}

int AuditCheckStatement(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("audit check-statement options");
  desc.add_options()("file", po::value<std::string>()->required(), "the statement (JSON)")(
      "key", po::value<std::string>()->required(), "the agency's public key (PEM)");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao audit check-statement FILE --key PUBLIC_KEY",
                            "shebao audit check-statement statement.json --key agency.pub", desc,
                            pos, &vm)) {
    return *code;
  }
  replay::PublicKey key;
  if (Status s = replay::PublicKey::Load(vm["key"].as<std::string>(), &key); !s.ok()) {
    return Fail(s);
  }
  const std::string path = vm["file"].as<std::string>();
  std::string text;
  replay::Statement st;
  Status s = ReadWholeFile(path, &text);
  if (s.ok()) s = replay::StatementFromJson(text, &st);
  if (!s.ok()) return Failed("check-statement", fmt::format("{}: {}", path, s.message()));
  s = replay::CheckStatement(st, text, key);
  if (!s.ok()) return Failed("check-statement", MaskPersonalData(s.message(), options.reveal));
  std::cout << MaskPersonalData(
      fmt::format("check-statement: OK: statement of {}: {} events proven in the log signed by "
                  "key {} at {} events; the summary is their fold; the agency's signature "
                  "holds\n",
                  st.person, st.events.size(), key.KeyId(), st.checkpoint.size),
      options.reveal);
  return kExitOk;
}

}  // namespace

int CmdKeygen(const GlobalOptions&, const std::vector<std::string>& args) {
  po::options_description desc("keygen options");
  desc.add_options()("out", po::value<std::string>()->required(),
                     "writes OUT.key (private, mode 0600) and OUT.pub (public)");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao keygen --out PREFIX", "shebao keygen --out agency", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  const std::string prefix = vm["out"].as<std::string>();
  replay::PrivateKey key;
  Status s = replay::GenerateKeyPair(prefix + ".key", prefix + ".pub", &key);
  if (!s.ok()) return Fail(s);
  std::cout << fmt::format("keygen: wrote {0}.key (private, keep it offline) and {0}.pub; key id "
                           "{1}\n",
                           prefix, key.public_key().KeyId());
  return kExitOk;
}

int CmdAudit(const GlobalOptions& options, const std::vector<std::string>& args) {
  static const std::vector<std::pair<std::string, int (*)(const GlobalOptions&,
                                                          const std::vector<std::string>&)>>
      subcommands = {{"verify", AuditVerify},
                     {"replay", AuditReplay},
                     {"checkpoint", AuditCheckpoint},
                     {"proof", AuditProof},
                     {"consistency", AuditConsistency},
                     {"as-of", AuditAsOf},
                     {"check-statement", AuditCheckStatement}};
  if (!args.empty()) {
    for (const auto& [name, run] : subcommands) {
      if (args[0] == name) return run(options, std::vector<std::string>(args.begin() + 1, args.end()));
    }
  }
  std::cerr << "usage: shebao audit <verify|replay|checkpoint|proof|consistency|as-of|"
               "check-statement> [options]\n"
               "  verify [--key PUB] [--checkpoint FILE]...  walk and check the whole log\n"
               "  replay                                     recompute projections, compare\n"
               "  checkpoint --key PRIV [--out FILE]         sign the log's Merkle root\n"
               "  proof --position P [--size N]              inclusion proof of an event\n"
               "  consistency --old N [--new M]              consistency proof of two roots\n"
               "  as-of TIME --person ID | --case CASE       records as the ledger had them\n"
               "  check-statement FILE --key PUB             check a statement offline\n";
  const bool help = !args.empty() && (args[0] == "--help" || args[0] == "-h");
  return help ? kExitOk : kExitUsage;
}

int CmdStatement(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("statement options");
  desc.add_options()("person", po::value<std::string>()->required(), "citizen ID")(
      "key", po::value<std::string>()->required(), "the agency's private key (signs it)")(
      "out", po::value<std::string>(), "write the statement (JSON) to this file");
  po::variables_map vm;
  if (auto code = ParseArgs(
          args, "shebao statement --person ID --key PRIVATE_KEY [--out FILE]",
          "shebao --db ./city.db statement --person 110105201503010010 --key agency.key --out s.json",
          desc, po::positional_options_description(), &vm)) {
    return *code;
  }
  const std::string person = vm["person"].as<std::string>();
  if (domain::Rule r = domain::CheckCitizenId(person); r != domain::Rule::ok) {
    std::cerr << fmt::format("error: usage: --person: {}: not a valid citizen ID\n",
                             domain::RuleName(r));
    return kExitUsage;
  }
  replay::PrivateKey key;
  if (Status s = replay::PrivateKey::Load(vm["key"].as<std::string>(), &key); !s.ok()) {
    return Fail(s);
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  replay::Statement st;
  Status s = replay::BuildStatement(*store, person, key, *ledger::SystemClock::Default(), &st);
  if (!s.ok()) return Fail(s);
  const std::string json = replay::StatementToJson(st);
  if (vm.count("out")) {
    if (Status w = WriteWholeFile(vm["out"].as<std::string>(), json); !w.ok()) return Fail(w);
  }
  if (options.format == "json") {
    std::cout << MaskPersonalData(json, options.reveal);
  } else {
    std::cout << MaskPersonalData(replay::StatementToText(st), options.reveal);
  }
  return kExitOk;
}

}  // namespace shebao::cli
