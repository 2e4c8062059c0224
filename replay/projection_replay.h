// The auditor's replay (`shebao audit replay`): recompute every projection from the log into
// scratch memory with the same fold the store runs (DomainProjector), and compare it with the
// stored projections, row by row. Any edited, missing or extra row is a difference.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "ledger/event_store.h"

namespace shebao::replay {

struct ProjectionDifference {
  std::string key;       // the projection key, e.g. "R/110105201503010010/C/2026"
  std::string expected;  // the row the fold of the log gives, as JSON; "" if it gives none
  std::string found;     // the stored row, as JSON; "" if none is stored
};

struct ReplayReport {
  uint64_t position = 0;      // log position both sides reflect (the stored projections')
  uint64_t events = 0;        // events folded
  uint64_t rows_expected = 0; // rows the fold produced
  uint64_t rows_found = 0;    // rows stored
  uint64_t difference_count = 0;
  // The first kReplayDifferencesMax differences, in key order.
  std::vector<ProjectionDifference> differences;
};

// Folds the log up to the position of a snapshot of the stored projections and compares.
// Differences are reported in *report with an OK status; non-OK means the replay could not
// run (corruption of the log, io_error). Memory: every projection row of the ledger is held
// at once (about 1 KiB per case year). progress (may be empty) gets (events done, total).
ledger::Status ReplayProjections(const ledger::EventStore& store,
                                 const std::function<void(uint64_t, uint64_t)>& progress,
                                 ReplayReport* report);

}  // namespace shebao::replay
