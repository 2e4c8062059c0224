// Feeds command lines to CommandHandler::ExecuteMany in batches and reports every line's
// outcome in line order (parse rejections included), for `shebao ingest`, `shebao demo` and the
// city benchmark.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "ledger/domain/command_handler.h"

namespace shebao::tools {

// Lines per ExecuteMany for `shebao ingest`, `shebao demo` and the city benchmark: one of its
// chunks. The chunk is left appending on the handler's helper thread while the next lines are
// parsed and planned, so parsing overlaps an append at every chunk; with several chunks a call
// (5,000 lines until 2026-11-30) each call's parse left the helper idle (measured: 20% of the
// ingest's wall time, half that with one chunk a call).
inline constexpr size_t kCommandBatchLines = domain::kExecuteChunkMax;

// `shebao ingest` (and the city benchmark, alike) syncs the WAL after every this many lines: a
// whole number of batches, so that a reader sees exactly the synced lines' events while the
// writer waits for more input within a batch (tests/fault_test.sh).
inline constexpr size_t kIngestSyncEveryLines = 20 * kCommandBatchLines;

class CommandBatch {
 public:
  // Called once per line, in line order: rejection is the parse or rule rejection (ok if the
  // command was accepted or was a duplicate), outcome the execution's (empty if not parsed).
  using Report = std::function<void(uint64_t line_no, const domain::Rejection& rejection,
                                    const domain::CommandOutcome& outcome)>;

  // handler is not owned and must outlive the batch. Lines are executed once lines_max have
  // been added (the last chunk of those may still be appending when Add returns: the next lines
  // are parsed meanwhile), and on Flush. A line is reported once its append has landed.
  CommandBatch(domain::CommandHandler* handler, size_t lines_max, Report report)
      : handler_(handler), lines_max_(lines_max), report_(std::move(report)) {}
  ~CommandBatch();  // waits for an append still running (it writes into this batch's outcomes)
  CommandBatch(const CommandBatch&) = delete;
  CommandBatch& operator=(const CommandBatch&) = delete;

  ledger::Status Add(uint64_t line_no, std::string_view line);
  // Executes the lines added so far and reports every line not yet reported; every append has
  // landed when it returns.
  ledger::Status Flush();

 private:
  struct Entry {
    uint64_t line_no;
    domain::Rejection parse;  // not ok: the line did not parse
    size_t command;           // index into commands when parsed
  };
  // Lines executed together by one ExecuteMany.
  struct Lines {
    std::vector<Entry> entries;
    std::vector<domain::Command> commands;
    std::vector<domain::CommandOutcome> outcomes;
  };
  // Executes filling_ (leaving its last chunk appending unless finish), then reports what has
  // landed.
  ledger::Status Execute(bool finish);
  void ReportAndClear(Lines* lines);

  domain::CommandHandler* handler_;
  const size_t lines_max_;
  Report report_;
  Lines lines_[2];
  int filling_ = 0;             // lines_[filling_] takes Add's lines
  bool other_executed_ = false;  // lines_[1 - filling_] executed, not yet reported
};

}  // namespace shebao::tools
