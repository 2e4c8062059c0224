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

// Lines per ExecuteMany for `shebao ingest`, `shebao demo` and the city benchmark: several of
// ExecuteMany's chunks, so that its pipeline (plan one chunk while the last is appended) runs
// most of the time; a call's last chunk is appended with nothing to overlap.
inline constexpr size_t kCommandBatchLines = 5'000;

class CommandBatch {
 public:
  // Called once per line, in line order: rejection is the parse or rule rejection (ok if the
  // command was accepted or was a duplicate), outcome the execution's (empty if not parsed).
  using Report = std::function<void(uint64_t line_no, const domain::Rejection& rejection,
                                    const domain::CommandOutcome& outcome)>;

  // handler is not owned. Lines are executed once lines_max have been added, or on Flush.
  CommandBatch(domain::CommandHandler* handler, size_t lines_max, Report report)
      : handler_(handler), lines_max_(lines_max), report_(std::move(report)) {}

  ledger::Status Add(uint64_t line_no, std::string_view line);
  ledger::Status Flush();

 private:
  struct Entry {
    uint64_t line_no;
    domain::Rejection parse;  // not ok: the line did not parse
    size_t command;           // index into commands_ when parsed
  };
  domain::CommandHandler* handler_;
  const size_t lines_max_;
  Report report_;
  std::vector<Entry> entries_;
  std::vector<domain::Command> commands_;
  std::vector<domain::CommandOutcome> outcomes_;
};

}  // namespace shebao::tools
