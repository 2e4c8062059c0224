#include "replay/projection_replay.h"

#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/constants.h"
#include "ledger/domain/memory_projections.h"
#include "ledger/domain/projector.h"
#include "replay/row_json.h"

namespace shebao::replay {
namespace {

using ledger::Status;

constexpr uint64_t kProgressEvents = 1 << 16;

}  // namespace

Status ReplayProjections(const ledger::EventStore& store,
                         const std::function<void(uint64_t, uint64_t)>& progress,
                         ReplayReport* report) {
  *report = ReplayReport{};
  // The stored side: one snapshot, whose projections reflect exactly position().
  const std::unique_ptr<ledger::ReadView> stored = store.NewReadView();
  report->position = stored->position();

  // The expected side: the same fold, from the log, into memory.
  domain::MemoryProjections expected(report->position);
  domain::DomainProjector projector;
  if (report->position > 0) {
    auto cursor = store.NewCursor(1);
    for (; cursor->Valid() && cursor->event().position <= report->position; cursor->Next()) {
      Status s = projector.Apply(cursor->event(), &expected);
      if (!s.ok()) return s;
      ++report->events;
      if (progress && report->events % kProgressEvents == 0) progress(report->events, report->position);
    }
    if (!cursor->status().ok()) return cursor->status();
  }
  SHEBAO_ASSERT(report->events == report->position);
  if (progress) progress(report->events, report->position);
  report->rows_expected = expected.rows().size();

  // Merge the two sorted key sequences.
  auto add = [&](std::string_view key, std::string expected_json, std::string found_json) {
    ++report->difference_count;
    if (report->differences.size() < ledger::kReplayDifferencesMax) {
      report->differences.push_back(
          ProjectionDifference{std::string(key), std::move(expected_json), std::move(found_json)});
    }
  };
  auto it = expected.rows().begin();
  const auto end = expected.rows().end();
  Status s = stored->Scan("", [&](std::string_view key, std::string_view value) {
    ++report->rows_found;
    while (it != end && std::string_view(it->first) < key) {
      add(it->first, RowToJson(it->first, it->second), "");
      ++it;
    }
    if (it != end && it->first == key) {
      if (it->second != value) add(key, RowToJson(key, it->second), RowToJson(key, value));
      ++it;
    } else {
      add(key, "", RowToJson(key, value));
    }
    return true;
  });
  if (!s.ok()) return s;
  for (; it != end; ++it) add(it->first, RowToJson(it->first, it->second), "");
  return Status::OK();
}

}  // namespace shebao::replay
