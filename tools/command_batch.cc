#include "tools/command_batch.h"

namespace shebao::tools {

ledger::Status CommandBatch::Add(uint64_t line_no, std::string_view line) {
  domain::Command command;
  domain::Rejection parse = domain::ParseCommand(line, &command);
  if (parse.ok()) {
    entries_.push_back(Entry{line_no, {}, commands_.size()});
    commands_.push_back(std::move(command));
  } else {
    entries_.push_back(Entry{line_no, std::move(parse), 0});
  }
  return entries_.size() >= lines_max_ ? Flush() : ledger::Status::OK();
}

ledger::Status CommandBatch::Flush() {
  if (entries_.empty()) return ledger::Status::OK();
  ledger::Status s = handler_->ExecuteMany(commands_, &outcomes_);
  if (!s.ok()) return s;
  static const domain::CommandOutcome kNone;
  for (const Entry& e : entries_) {
    if (!e.parse.ok()) {
      report_(e.line_no, e.parse, kNone);
    } else {
      const domain::CommandOutcome& out = outcomes_[e.command];
      report_(e.line_no, out.rejection, out);
    }
  }
  entries_.clear();
  commands_.clear();
  return ledger::Status::OK();
}

}  // namespace shebao::tools
