// Which case events are legal in which state: the domain rules of DOMAIN.md's three pathways
// (each step only by its actor, only after the steps it depends on, with the right money and
// dates). Used by commands before they append, and by the auditor's replay on stored events.
#pragma once

#include <functional>
#include <string_view>

#include "ledger/domain/calendar.h"
#include "ledger/domain/case_state.h"
#include "ledger/domain/premium_table.h"
#include "ledger/domain/rule.h"

namespace shebao::domain {

// What the rules need beyond the case's own state. The pointers are not owned.
struct RuleContext {
  // Amounts due per region and year. REQUIRES: not null.
  const PremiumTable* premiums = nullptr;
  // Working days for certificate due dates. REQUIRES: not null.
  const WorkingDayCalendar* calendar = nullptr;
  // True if a recorded override accepts this USCC although it fails its checksum (an early
  // pilot code, DOMAIN.md). May be empty: then no pilot code is accepted.
  std::function<bool(std::string_view uscc)> pilot_uscc_accepted;
};

// Checks that event may follow state in the case's stream. Returns Rejection::None() if it
// may, else the rule it breaks, naming the payload field concerned.
// REQUIRES: event is a verified Event whose stream is a case stream.
Rejection CheckCaseEvent(const CaseState& state, const fb::Event& event, const RuleContext& ctx);

// The identifier checks shared by case and employer rules: a USCC passes if its checksum holds
// or the context accepts it as a pilot code.
Rejection CheckOrgUscc(std::string_view uscc, std::string_view field, const RuleContext& ctx);

}  // namespace shebao::domain
