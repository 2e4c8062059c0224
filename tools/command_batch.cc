#include "tools/command_batch.h"

namespace shebao::tools {

CommandBatch::~CommandBatch() { (void)handler_->FinishAppends(); }

ledger::Status CommandBatch::Add(uint64_t line_no, std::string_view line) {
  Lines& l = lines_[filling_];
  domain::Command command;
  domain::Rejection parse = domain::ParseCommand(line, &command);
  if (parse.ok()) {
    l.entries.push_back(Entry{line_no, {}, l.commands.size()});
    l.commands.push_back(std::move(command));
  } else {
    l.entries.push_back(Entry{line_no, std::move(parse), 0});
  }
  return l.entries.size() >= lines_max_ ? Execute(/*finish=*/false) : ledger::Status::OK();
}

ledger::Status CommandBatch::Flush() { return Execute(/*finish=*/true); }

ledger::Status CommandBatch::Execute(bool finish) {
  Lines& l = lines_[filling_];
  if (l.entries.empty() && !other_executed_) return ledger::Status::OK();
  // Returns once every chunk of the other lines has landed (and, with finish, every chunk of
  // these); otherwise these lines' last chunk may still be appending.
  ledger::Status s = handler_->ExecuteMany(l.commands, &l.outcomes, !finish);
  if (!s.ok()) return s;
  if (other_executed_) {
    ReportAndClear(&lines_[1 - filling_]);
    other_executed_ = false;
  }
  if (finish) {
    ReportAndClear(&l);
  } else {
    other_executed_ = true;
    filling_ = 1 - filling_;
  }
  return ledger::Status::OK();
}

void CommandBatch::ReportAndClear(Lines* lines) {
  static const domain::CommandOutcome kNone;
  for (const Entry& e : lines->entries) {
    if (!e.parse.ok()) {
      report_(e.line_no, e.parse, kNone);
    } else {
      const domain::CommandOutcome& out = lines->outcomes[e.command];
      report_(e.line_no, out.rejection, out);
    }
  }
  lines->entries.clear();
  lines->commands.clear();
  lines->outcomes.clear();
}

}  // namespace shebao::tools
