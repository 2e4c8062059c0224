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

#include <string>

#include "ledger/domain/case_state.h"
#include "ledger/event_store.h"

namespace shebao::domain {

class DomainProjector final : public ledger::Projector {
 public:
  ledger::Status Apply(const ledger::RecordedEvent& event, ledger::ProjectionWriter* writer) override;
};

// The agency whose queue holds a case: the agency it was submitted to, else the agency of
// the household-registration area, else the area of the organisation that issued the materials.
std::string QueueAgencyOf(const CaseState& state);

}  // namespace shebao::domain
