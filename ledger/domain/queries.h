// The records the ledger answers (DOMAIN.md "Records the ledger must answer"; Social Insurance
// Law Art. 4 and 74), read from a consistent view of the projections. Time travel: the same
// queries run on a view folded from the log up to an earlier position (ViewAsOf), with the same
// projector code, so "what the ledger said then" and "what it says now" cannot disagree in kind.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/domain/case_state.h"
#include "ledger/domain/employer.h"
#include "ledger/event_store.h"
#include "shebao/projections_generated.h"

namespace shebao::domain {

// One line of a payment record.
struct PaymentLine {
  uint64_t position = 0;
  fb::PaymentKind kind = fb::PaymentKind::unknown;
  Day day = 0;
  int64_t recorded_us = 0;
  int64_t amount_fen = 0;  // reversals and refunds are negative
  fb::PayerKind payer = fb::PayerKind::unknown;
  std::string payer_id;
  fb::Channel channel = fb::Channel::unknown;
  std::string bank_code;
  std::string bank_ref;
  Day period_start_day = 0;
  Day period_end_day = 0;
  std::string stream_id;
  uint64_t original_position = 0;
  std::string note;
};

// A person's payment record, oldest first: premium shares, subsidies, fees, failures,
// reversals, refunds, and employer contributions for them.
ledger::Status QueryPayments(const ledger::ReadView& view, std::string_view person_id,
                             std::vector<PaymentLine>* out);

// A person's rights record: one case per coverage year, oldest first.
ledger::Status QueryRights(const ledger::ReadView& view, std::string_view child_id,
                           std::vector<CaseState>* out);

ledger::Status QueryCase(const ledger::ReadView& view, std::string_view child_id, int coverage_year,
                         CaseState* out, bool* found);

struct QueueItem {
  std::string child_id;
  int coverage_year = 0;
  std::string stream_id;
  Step step = Step::none;
  Step next_step = Step::none;
  fb::Role owner = fb::Role::unknown;
  Day since_day = 0;
  Day certificate_due_day = 0;
  bool due_provisional = false;
};
// The open cases of an agency (by the next step's owner).
ledger::Status QueryQueue(const ledger::ReadView& view, std::string_view agency,
                          std::vector<QueueItem>* out);

// An employer's employments (all, or one employee's).
ledger::Status QueryEmployer(const ledger::ReadView& view, std::string_view employer_uscc,
                             std::optional<std::string_view> employee_id,
                             std::vector<EmploymentState>* out);

// Whether the child was covered on day: the case of that year is active and the day is between
// its effective day (after any waiting period) and 31 December.
struct CoverageAnswer {
  bool covered = false;
  std::string reason;
  std::optional<CaseState> coverage_case;
};
CoverageAnswer CoveredOn(const std::vector<CaseState>& rights, Day day);

// The events of one person's streams (see ViewAsOf) up to position, in position order.
ledger::Status PersonEventsAsOf(const ledger::EventStore& store, std::string_view person_id,
                                uint64_t position, std::vector<ledger::RecordedEvent>* out);

// Folds events with DomainProjector into an in-memory view whose position() is position.
// REQUIRES: events in increasing position order, each at most position.
ledger::Status FoldView(const std::vector<ledger::RecordedEvent>& events, uint64_t position,
                        std::unique_ptr<ledger::ReadView>* out);

// A view of one person's records as the ledger knew them at position: their case streams
// (and the employment streams that pay for them) folded up to position with DomainProjector.
ledger::Status ViewAsOf(const ledger::EventStore& store, std::string_view person_id,
                        uint64_t position, std::unique_ptr<ledger::ReadView>* out);

// The last position recorded at or before utc_us (0 if none).
ledger::Status PositionAtTime(const ledger::EventStore& store, int64_t utc_us, uint64_t* position);

}  // namespace shebao::domain
