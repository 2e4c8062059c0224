// Subcommands that read or check the event store itself: init, head, history, log, verify.
#include <chrono>
#include <csignal>
#include <iostream>

#include <fmt/format.h>

#include "ledger/domain/projector.h"
#include "ledger/envelope.h"
#include "ledger/event_json.h"
#include "tools/cli.h"

namespace po = boost::program_options;

namespace shebao::cli {

using ledger::Code;
using ledger::Status;

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::ok: return kExitOk;
    case Code::corruption: return kExitCorrupt;
    case Code::io_error:
    case Code::store_failed:
    case Code::ledger_not_found:
    case Code::projections_outdated: return kExitIo;
    case Code::ledger_locked: return kExitLocked;
    case Code::limit_invalid:
    case Code::invalid_argument: return kExitUsage;  // the caller's words were off
    default: return kExitRejected;
  }
}

int Fail(const Status& status) {
  // Errors can quote identifiers (stream ids hold citizen IDs): always masked.
  std::cerr << MaskPersonalData("error: " + status.ToString() + "\n", /*reveal=*/false);
  return ExitCodeFor(status);
}

std::string Csv(std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(field);
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string MaskName(std::string_view name) {
  const std::string json = fmt::format("{{\"x_name\":\"{}\"}}", name);
  const std::string masked = MaskPersonalData(json, /*reveal=*/false);
  return masked.substr(11, masked.size() - 13);
}

ledger::Projector* TheProjector() {
  static domain::DomainProjector* projector = new domain::DomainProjector();
  return projector;
}

bool OpenLedger(const GlobalOptions& options, bool create, std::unique_ptr<ledger::EventStore>* out,
                int* exit_code, bool sync) {
  // A file-size limit (RLIMIT_FSIZE, e.g. `ulimit -f`) must fail the write with EFBIG, reported
  // as an io_error naming the file, like a full disk: by default SIGXFSZ kills the process.
  std::signal(SIGXFSZ, SIG_IGN);
  ledger::StoreOptions store_options;
  store_options.create_if_missing = create;
  store_options.sync = sync;
  store_options.projector = TheProjector();
  Status s = ledger::EventStore::Open(options.db_path, store_options, out);
  if (!s.ok()) {
    *exit_code = Fail(s);
    return false;
  }
  return true;
}

bool OpenLedgerReadOnly(const GlobalOptions& options, std::unique_ptr<ledger::EventStore>* out,
                        int* exit_code) {
  ledger::StoreOptions store_options;
  store_options.read_only = true;
  store_options.projector = TheProjector();
  Status s = ledger::EventStore::Open(options.db_path, store_options, out);
  if (!s.ok()) {
    *exit_code = Fail(s);
    return false;
  }
  return true;
}

std::optional<int> ParseArgs(const std::vector<std::string>& args, const std::string& usage,
                             const std::string& example, const po::options_description& options,
                             const po::positional_options_description& positional,
                             po::variables_map* vm) {
  po::options_description all(options);
  all.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(all).positional(positional).run(), *vm);
    if (vm->count("help")) {
      std::cout << "usage: " << usage << "\n\n" << all << "\nexample:\n  " << example << "\n";
      return kExitOk;
    }
    po::notify(*vm);
  } catch (const po::error& e) {
    std::cerr << "error: usage: " << e.what() << "\nusage: " << usage << "\n";
    return kExitUsage;
  }
  return std::nullopt;
}

std::string MaskPersonalData(std::string_view text, bool reveal) {
  if (reveal) return std::string(text);
  std::string out(text);
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto is_word = [&](char c) {
    return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  };
  // Citizen-ID-shaped tokens.
  for (size_t i = 0; i + 18 <= out.size(); ++i) {
    if (i > 0 && is_word(out[i - 1])) continue;
    bool id = true;
    for (size_t k = 0; k < 17 && id; ++k) id = is_digit(out[i + k]);
    id = id && (is_digit(out[i + 17]) || out[i + 17] == 'X');
    if (!id || (i + 18 < out.size() && is_word(out[i + 18]))) continue;
    for (size_t k = 6; k < 14; ++k) out[i + k] = '*';
    i += 17;
  }
  // JSON "..._name": "value" fields.
  static constexpr std::string_view kSuffix = "_name\":";
  for (size_t at = out.find(kSuffix); at != std::string::npos; at = out.find(kSuffix, at + 1)) {
    size_t open = at + kSuffix.size();
    while (open < out.size() && out[open] == ' ') ++open;
    if (open >= out.size() || out[open] != '"') continue;
    size_t close = out.find('"', open + 1);
    if (close == std::string::npos || close == open + 1) continue;
    // Keep the first UTF-8 character, star the rest (one star per character).
    size_t first_end = open + 2;
    while (first_end < close && (static_cast<uint8_t>(out[first_end]) & 0xC0) == 0x80) ++first_end;
    size_t chars = 0;
    for (size_t k = first_end; k < close; ++k) {
      if ((static_cast<uint8_t>(out[k]) & 0xC0) != 0x80) ++chars;
    }
    out.replace(first_end, close - first_end, std::string(chars, '*'));
  }
  return out;
}

std::string FormatDay(int32_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::string FormatUtcMicros(int64_t us) {
  const int64_t day = us >= 0 ? us / 86'400'000'000 : (us - 86'399'999'999) / 86'400'000'000;
  const int64_t rest = us - day * 86'400'000'000;
  const int64_t s = rest / 1'000'000;
  return fmt::format("{}T{:02}:{:02}:{:02}.{:06}Z", FormatDay(static_cast<int32_t>(day)), s / 3600,
                     (s / 60) % 60, s % 60, rest % 1'000'000);
}

namespace {

// Prints events in the chosen format. Returns the exit code.
int PrintEvents(const GlobalOptions& options, const std::vector<ledger::RecordedEvent>& events) {
  if (options.format == "json") {
    for (const auto& re : events) {
      std::string json;
      Status s = ledger::EventToJson(re.bytes, &json);
      if (!s.ok()) return Fail(s);
      std::cout << MaskPersonalData(
                       fmt::format("{{\"position\":{},\"chain_hash\":\"{}\",\"event\":{}}}",
                                   re.position, ledger::HexEncode(re.hash), json),
                       options.reveal)
                << "\n";
    }
    return kExitOk;
  }
  const bool csv = options.format == "csv";
  const char* header = csv ? "position,stream,version,recorded_utc,effective_day,actor_role,"
                             "actor,payload,chain_hash\n"
                           : nullptr;
  if (csv) {
    std::cout << header;
  } else {
    std::cout << fmt::format("{:>8}  {:<32} {:>4}  {:<27} {:<10}  {:<13} {:<28} {}\n", "position",
                             "stream", "ver", "recorded (UTC)", "effective", "actor", "payload",
                             "chain hash");
  }
  for (const auto& re : events) {
    const fb::Event* e = re.event();
    const std::string actor = e->actor() != nullptr && e->actor()->person_id() != nullptr
                                  ? e->actor()->person_id()->str()
                                  : "";
    const std::string line =
        csv ? fmt::format("{},{},{},{},{},{},{},{},{}\n", re.position, e->stream_id()->str(),
                          e->stream_version(), FormatUtcMicros(e->recorded_us()),
                          FormatDay(e->effective_day()),
                          fb::EnumNameRole(e->actor() ? e->actor()->role() : fb::Role::unknown),
                          Csv(actor), fb::EnumNamePayload(e->payload_type()),
                          ledger::HexEncode(re.hash))
            : fmt::format("{:>8}  {:<32} {:>4}  {:<27} {:<10}  {:<13} {:<28} {}…\n", re.position,
                          e->stream_id()->str(), e->stream_version(),
                          FormatUtcMicros(e->recorded_us()), FormatDay(e->effective_day()),
                          fb::EnumNameRole(e->actor() ? e->actor()->role() : fb::Role::unknown),
                          fb::EnumNamePayload(e->payload_type()),
                          ledger::HexEncode(re.hash).substr(0, 16));
    std::cout << MaskPersonalData(line, options.reveal);
  }
  return kExitOk;
}

}  // namespace

int CmdInit(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("init options");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao [--db PATH] init", "shebao --db ./city.db init", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  std::unique_ptr<ledger::EventStore> store;
  int code = 0;
  if (!OpenLedger(options, /*create=*/true, &store, &code)) return code;
  const ledger::Head head = store->head();
  std::cout << fmt::format("ledger at {}: {} events, head {}\n", options.db_path, head.position,
                           ledger::HexEncode(head.hash));
  return kExitOk;
}

int CmdHead(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("head options");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao [--db PATH] head", "shebao --db ./city.db head", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  std::unique_ptr<ledger::EventStore> store;
  int code = 0;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  const ledger::Head head = store->head();
  if (options.format == "json") {
    std::cout << fmt::format("{{\"position\":{},\"chain_hash\":\"{}\",\"recorded_utc\":\"{}\"}}\n",
                             head.position, ledger::HexEncode(head.hash),
                             FormatUtcMicros(head.recorded_us));
  } else {
    std::cout << fmt::format("position {}\nchain hash {}\nrecorded {}\n", head.position,
                             ledger::HexEncode(head.hash), FormatUtcMicros(head.recorded_us));
  }
  return kExitOk;
}

int CmdHistory(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("history options");
  desc.add_options()("stream", po::value<std::string>()->required(), "stream id")(
      "from", po::value<uint64_t>()->default_value(1), "first version (backward: 0 = last)")(
      "limit", po::value<size_t>()->default_value(1000), "at most this many events")(
      "backward", po::bool_switch(), "newest first");
  po::positional_options_description pos;
  pos.add("stream", 1);
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao [--db PATH] [--format F] history STREAM [--from V] "
                                  "[--limit N] [--backward]",
                            "shebao --format json history case/2026/110105201503010010", desc, pos,
                            &vm)) {
    return *code;
  }
  std::unique_ptr<ledger::EventStore> store;
  int code = 0;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  std::vector<ledger::RecordedEvent> events;
  const bool backward = vm["backward"].as<bool>();
  Status s = store->ReadStream(vm["stream"].as<std::string>(),
                               backward && vm["from"].defaulted() ? 0 : vm["from"].as<uint64_t>(),
                               backward ? ledger::Direction::backward : ledger::Direction::forward,
                               vm["limit"].as<size_t>(), &events);
  if (!s.ok()) return Fail(s);
  return PrintEvents(options, events);
}

int CmdLog(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("log options");
  desc.add_options()("from", po::value<uint64_t>()->default_value(1), "first position")(
      "limit", po::value<size_t>()->default_value(100), "at most this many events");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao [--db PATH] [--format F] log [--from P] [--limit N]",
                            "shebao --format csv log --from 1 --limit 20", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  std::unique_ptr<ledger::EventStore> store;
  int code = 0;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  std::vector<ledger::RecordedEvent> events;
  Status s = store->ReadAll(vm["from"].as<uint64_t>(), vm["limit"].as<size_t>(), &events);
  if (!s.ok()) return Fail(s);
  return PrintEvents(options, events);
}

int CmdVerify(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("verify options");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao [--db PATH] verify", "shebao --db ./city.db verify",
                            desc, po::positional_options_description(), &vm)) {
    return *code;
  }
  std::unique_ptr<ledger::EventStore> store;
  int code = 0;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  uint64_t checked = 0;
  const auto start = std::chrono::steady_clock::now();
  Status s = store->VerifyChain(&checked);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!s.ok()) {
    std::cerr << fmt::format("verify: FAILED after {} good events\n", checked);
    return Fail(s);
  }
  std::cout << fmt::format("verify: ok, {} events, dense positions, intact hash chain, stream "
                           "index consistent, head {} ({:.2f} s)\n",
                           checked, ledger::HexEncode(store->head().hash), seconds);
  return kExitOk;
}

}  // namespace shebao::cli
