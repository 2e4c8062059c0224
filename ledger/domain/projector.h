// The domain's projections, as one pure fold over the log: case rows, payment records, the
// agency work queue, employments and organisations (keys in projection_rows.h). Which events
// each projection reads:
//   C (case)        every event of case/<year>/<child> streams (ApplyCaseEvent)
//   P (payments)    PremiumCollected, SubsidyRecorded, CertificateFeePaid, CollectionFailed,
//                   PaymentReversed, PaymentRefunded (case streams); ContributionDeclared,
//                   ContributionPaid (employment streams)
//   Q (queue)       every case event (the case's next step and who owes it)
//   E (employment)  every event of employer/<uscc>/<employee> streams (ApplyEmploymentEvent)
//   O (org)         every event of org/<id> streams (ApplyOrgEvent)
// The same Apply runs for live appends (inside the store's atomic write), rebuilds and the
// auditor's replay.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "ledger/domain/case_state.h"
#include "ledger/domain/employer.h"
#include "ledger/event_store.h"

namespace shebao::domain {

// A row DomainProjector keeps in an undoable batch, as it was before one Apply: nullopt if
// that Apply added it.
struct KeptRowUndo {
  std::string key;
  std::variant<std::optional<CaseState>, std::optional<EmploymentState>, std::optional<OrgState>>
      previous;
};

class DomainProjector final : public ledger::Projector {
 public:
  ledger::Status Apply(const ledger::RecordedEvent& event, ledger::ProjectionWriter* writer) override;
  // In a batch, the case, employment and organisation rows are kept decoded (at most one per
  // stream the batch touches) and encoded once, at EndBatch: a rebuild otherwise decoded and
  // re-encoded a case's whole row, and an employment's every month, at each of its events.
  // Payment and queue rows are put at once, as outside a batch. Because of that batch state, one
  // DomainProjector serves one store at a time (Apply alone keeps no state).
  // A group commit's batch is undoable: each Apply first saves the kept row's earlier state (a
  // copy, cheaper than decoding and encoding the row at every event).
  void BeginBatch(bool undoable) override;
  ledger::Status EndBatch(ledger::ProjectionWriter* writer) override;
  void AbortBatch() override;
  size_t Mark() const override;
  void Rollback(size_t mark) override;
  // 2: a person's case and payment rows under "R/<id>/" (projection_rows.h); 1 had them
  // under "C/" and "P/".
  uint64_t layout_version() const override { return 2; }

 private:
  bool in_batch_ = false;
  bool undoable_ = false;
  std::unordered_map<std::string, CaseState> cases_;
  std::unordered_map<std::string, EmploymentState> employments_;
  std::unordered_map<std::string, OrgState> orgs_;
  std::vector<KeptRowUndo> undo_;  // in an undoable batch: one entry per Apply that kept a row
};

// The agency whose queue holds a case: the agency it was submitted to, else the agency of
// the household-registration area, else the area of the organisation that issued the materials.
std::string QueueAgencyOf(const CaseState& state);

}  // namespace shebao::domain
