// The auditor's walk over the whole log (`shebao audit verify`): everything that must hold of
// the history, checked from the stored bytes alone with the same rule code the commands use.
//
// For each event in position order:
//   flatbuffer      the stored bytes verify as an Event (identifier SHB1)
//   chain           SHA-256(previous chain hash || bytes) equals the stored chain hash
//   position        positions are dense from 1 and the envelope's position equals its key
//   stream_version  each stream's versions are dense from 1
//   recorded_time   recorded_us never decreases
//   rule            the event is legal given its stream's history: CheckCaseEvent,
//                   CheckEmploymentEvent or CheckOrgEvent on the state folded so far
//                   (ApplyCaseEvent, ...), exactly as the command path decided it
// and for the log as a whole:
//   head            the stored head names the last event
//   checkpoint      every recorded checkpoint (and every one given by the auditor) has the
//                   Merkle root and chain hash of the log at its size, and, when a trusted key
//                   is given, a valid signature by that key; a checkpoint beyond the log's end
//                   is a failure (the log was truncated)
//   merkle_block    every recorded Merkle block root equals the root of its events
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ledger/domain/calendar.h"
#include "ledger/domain/premium_table.h"
#include "ledger/event_store.h"
#include "replay/checkpoint.h"
#include "replay/merkle.h"
#include "replay/signing.h"

namespace shebao::replay {

// The first thing found wrong.
struct Finding {
  uint64_t position = 0;    // the event concerned (0 if none, e.g. a checkpoint beyond the end)
  std::string stream_id;    // its stream, when known
  std::string check;        // which check failed: "chain", "rule", "checkpoint", ... (above)
  std::string what;         // what is wrong, e.g. the rule's name, field and message
};

struct VerifyOptions {
  // The data the rules need. Not owned; REQUIRES: not null.
  const domain::PremiumTable* premiums = nullptr;
  const domain::WorkingDayCalendar* calendar = nullptr;
  // The agency's public key, trusted by the auditor. Not owned; may be null: then checkpoint
  // roots are still checked against the log, but their signatures are not.
  const PublicKey* trusted_key = nullptr;
  // Checkpoints the auditor kept outside the ledger (files), checked like recorded ones.
  std::vector<Checkpoint> external_checkpoints;
  // Re-run the domain rules (and stream-version density). Off only to show what the other
  // checks catch on their own (tests).
  bool check_rules = true;
  // Called about every 64k events with (events done, events in the log). May be empty.
  std::function<void(uint64_t done, uint64_t total)> progress;
};

struct VerifyReport {
  uint64_t events = 0;            // events that passed every check
  uint64_t streams = 0;
  uint64_t checkpoints = 0;       // checkpoints whose root and chain hash matched
  uint64_t signatures = 0;        // of those, signatures verified with the trusted key
  uint64_t merkle_blocks = 0;     // recorded block roots that matched
  Hash256 root{};                 // Merkle root of the whole log
  ledger::Head head;
  std::optional<Finding> failure; // set if anything is wrong; the walk stops there
};

// Walks the log as described above. A failure of the history is reported in
// report->failure with an OK status; a non-OK status means the walk itself could not run
// (io_error, or a malformed audit record: corruption). Reads only; thread-compatible with
// appends (it checks the log up to the head as of the call).
ledger::Status VerifyLedger(const ledger::EventStore& store, const VerifyOptions& options,
                            VerifyReport* report);

}  // namespace shebao::replay
