// shebao ingest FILE|-: applies JSONL commands in order through the command path (parse, rules,
// atomic append). Every rejection is reported with its line, field and rule; the exit code is 1
// if any line was rejected. Idempotent: ingesting the same file again appends nothing.
//
// Durability: appends are written without a per-line fsync and the write-ahead log is synced
// every tools::kIngestSyncEveryLines lines (what has been appended by then) and at the end;
// the summary (the acknowledgement) is printed only after the final sync. A crash before it
// may lose the unsynced tail; running the same file again restores it, because every line is
// idempotent.
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "ledger/domain/calendar.h"
#include "ledger/domain/command_handler.h"
#include "ledger/domain/premium_table.h"
#include "tools/cli.h"
#include "tools/command_batch.h"

namespace po = boost::program_options;

namespace shebao::cli {

// Loads the calendar and the premium table from options.data_dir; prints the error.
std::string RejectionLine(uint64_t line_no, const domain::Rejection& r) {
  return fmt::format("line {}: rejected: {}{}: {}\n", line_no, domain::RuleName(r.rule),
                     r.field.empty() ? "" : fmt::format(" (field {})", r.field), r.message);
}

bool LoadDomainData(const GlobalOptions& options, domain::WorkingDayCalendar* calendar,
                    domain::PremiumTable* premiums, int* exit_code) {
  ledger::Status s = domain::WorkingDayCalendar::Load(options.data_dir + "/holiday-cn", calendar);
  if (s.ok()) s = domain::PremiumTable::Load(options.data_dir + "/premiums.json", premiums);
  if (!s.ok()) {
    std::cerr << fmt::format("error: data: {} (--data {})\n", s.ToString(), options.data_dir);
    *exit_code = kExitIo;
    return false;
  }
  return true;
}

int CmdIngest(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("ingest options");
  desc.add_options()("file", po::value<std::string>()->required(), "JSONL file, or - for stdin")(
      "quiet,q", po::bool_switch(), "print the summary only");
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao [--db PATH] ingest FILE|- [--quiet]",
                            "shebao --db ./city.db ingest commands.jsonl", desc, pos, &vm)) {
    return *code;
  }
  const std::string file = vm["file"].as<std::string>();
  std::ifstream in_file;
  if (file != "-") {
    in_file.open(file, std::ios::binary);
    in_file.peek();  // a directory opens, then fails to read: before the ledger is created
    if (!in_file || in_file.bad()) {
      std::cerr << fmt::format("error: io_error: cannot read {}\n", file);
      return kExitIo;
    }
    in_file.clear();  // an empty file: eof is not an error
  }
  std::istream& in = file == "-" ? std::cin : in_file;

  domain::WorkingDayCalendar calendar;
  domain::PremiumTable premiums;
  int code = 0;
  if (!LoadDomainData(options, &calendar, &premiums, &code)) return code;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedger(options, /*create=*/true, &store, &code, /*sync=*/false)) return code;
  ledger::Status s;
  domain::CommandHandler handler(store.get(), &premiums, &calendar,
                                 /*states_from_projections=*/true);

  const bool quiet = vm["quiet"].as<bool>();
  // A ledger failure stops the run: say how far it got, and how to complete it.
  uint64_t line_no = 0;
  auto stop = [&](const ledger::Status& failure) {
    const int exit_code = Fail(failure);
    std::cerr << fmt::format("ingest {}: stopped at line {}; the ledger's head is at position {}; "
                             "run the same file again to complete it (recorded lines are "
                             "duplicates)\n",
                             file, line_no, store->head().position);
    return exit_code;
  };
  uint64_t accepted = 0, duplicates = 0, rejected = 0, events = 0;
  std::string line;
  // Lines are executed in batches (one group commit each), reported in line order.
  tools::CommandBatch batch(
      &handler, tools::kCommandBatchLines,
      [&](uint64_t n, const domain::Rejection& r, const domain::CommandOutcome& out) {
        if (!r.ok()) {
          ++rejected;
          if (!quiet) {
            std::cerr << MaskPersonalData(RejectionLine(n, r), options.reveal);
          }
        } else if (out.duplicate) {
          ++duplicates;
        } else {
          ++accepted;
          events += out.last_position - out.first_position + 1;
        }
      });
  uint64_t since_sync = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.starts_with("\xEF\xBB\xBF")) line.erase(0, 3);  // a UTF-8 BOM
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    s = batch.Add(line_no, line);
    if (!s.ok()) return stop(s);
    if (++since_sync >= tools::kIngestSyncEveryLines) {
      // What has been appended so far (the lines still in the batch, or still appending, are
      // synced by a later call); the append running meanwhile is not held up.
      s = store->SyncWal();
      if (!s.ok()) return stop(s);
      since_sync = 0;
    }
  }
  s = batch.Flush();
  if (!s.ok()) return stop(s);
  if (in.bad()) {
    std::cerr << fmt::format("error: io_error: reading {} failed after line {}\n", file, line_no);
    return kExitIo;
  }
  s = store->SyncWal();
  if (!s.ok()) return stop(s);
  if (options.format == "json") {
    std::cout << fmt::format("{{\"lines\":{},\"accepted\":{},\"duplicates\":{},\"rejected\":{},"
                             "\"events_appended\":{},\"head\":{}}}\n",
                             line_no, accepted, duplicates, rejected, events,
                             store->head().position);
  } else {
    std::cout << fmt::format("ingest {}: {} lines: {} accepted ({} events), {} already recorded, "
                             "{} rejected; head at position {}\n",
                             file, line_no, accepted, events, duplicates, rejected,
                             store->head().position);
  }
  return rejected == 0 ? kExitOk : kExitRejected;
}

}  // namespace shebao::cli
