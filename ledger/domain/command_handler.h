// Executes domain commands: loads the state of the streams a command touches (folded from their
// events), builds the command's events, checks each against the rules (case_rules.h,
// employer.h) and appends them atomically with the expected stream versions, or refuses the
// command with a named rejection and appends nothing.
//
// Thread-safe if the store is: concurrent commands on one stream are serialised by optimistic
// concurrency (a version conflict reloads the state and tries again, up to kConflictRetriesMax).
#pragma once

#include <cstdint>
#include <memory>

#include "ledger/domain/calendar.h"
#include "ledger/domain/command.h"
#include "ledger/domain/premium_table.h"
#include "ledger/event_store.h"

namespace shebao::domain {

inline constexpr int kConflictRetriesMax = 3;
// Commands planned ahead and appended together by ExecuteMany.
inline constexpr size_t kExecuteChunkMax = 512;

struct CommandOutcome {
  Rejection rejection;      // Rule::ok if the command was accepted (or was a duplicate)
  bool duplicate = false;   // the idempotency key was executed before: nothing appended
  uint64_t first_position = 0;
  uint64_t last_position = 0;
};

class CommandHandler {
 public:
  // None owned; all must outlive the handler. With states_from_projections the state of a
  // stream is read from its projection row (one read; REQUIRES the store to run a
  // DomainProjector), else folded from the stream's events. pipelined: ExecuteMany appends a
  // chunk on a helper thread while it plans the next, reading the store meanwhile; false for a
  // store whose methods may not run concurrently (EventStore promises they may).
  CommandHandler(ledger::EventStore* store, const PremiumTable* premiums,
                 const WorkingDayCalendar* calendar, bool states_from_projections = false,
                 bool pipelined = true);
  ~CommandHandler();  // joins ExecuteMany's helper thread, if it was started
  CommandHandler(const CommandHandler&) = delete;
  CommandHandler& operator=(const CommandHandler&) = delete;

  // Returns a non-OK Status only when the ledger itself fails (io_error, corruption,
  // store_failed); a refused command returns OK with outcome->rejection set.
  ledger::Status Execute(const Command& command, CommandOutcome* outcome);

  // Executes commands in order with the outcome of calling Execute on each in turn, but plans a
  // chunk of up to kExecuteChunkMax commands against the states the earlier ones leave, and
  // appends the chunk in one group commit (EventStore::AppendMany). While a chunk is appended
  // (on a helper thread the handler keeps), the next is planned; every append has landed when
  // the call returns, failed or not (but see leave_last_appending). REQUIRES:
  // states_from_projections, no other writer on the store meanwhile (positions are predicted),
  // and one ExecuteMany at a time on a handler.
  // Returns non-OK for ledger failures, or if the store refused a planned batch (which this
  // single-writer discipline rules out).
  //
  // leave_last_appending: the call may return while its last chunk is still being appended on
  // the helper thread, so that the caller can prepare the next call meanwhile (a file ingest
  // parses its next lines). That chunk's outcomes are set, and its events are in the store, once
  // it lands: when the next ExecuteMany returns (its first chunk is planned against the one
  // still appending, then waits for it; a call with no commands just waits), or FinishAppends
  // does. REQUIRES then: commands and *outcomes unchanged and alive until that return, and no
  // Execute before it.
  ledger::Status ExecuteMany(const std::vector<Command>& commands,
                             std::vector<CommandOutcome>* outcomes,
                             bool leave_last_appending = false);

  // Waits for a chunk that ExecuteMany left appending and returns its append's Status (OK if
  // there was none). Every append has landed when it returns.
  ledger::Status FinishAppends();

  // A digest of the command's content (kind, time, actor, fields), independent of JSON
  // formatting; it identifies "the same command" for idempotency.
  static ledger::Hash256 CommandDigest(const Command& command);

 private:
  class AppendThread;  // ExecuteMany's helper, started on its first call
  struct Pipeline;      // ExecuteMany's two chunks, kept across calls

  ledger::EventStore* const store_;
  const PremiumTable* const premiums_;
  const WorkingDayCalendar* const calendar_;
  const bool states_from_projections_;
  const bool pipelined_;
  std::unique_ptr<AppendThread> append_thread_;
  // Made by the constructor, never null: Execute asserts that no chunk was left appending (it
  // would plan without that chunk's changes), from whichever thread it runs on.
  const std::unique_ptr<Pipeline> pipeline_;
};

}  // namespace shebao::domain
