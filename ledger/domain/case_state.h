// One child's application for one coverage year (a "case"), as a state machine folded from the
// events of its stream "case/<coverage_year>/<child citizen id>". The fold is pure and total:
// Apply(state, event) -> state, the same code for commands (to decide), projections (to show)
// and the auditor's replay (to verify). Which events are legal in which state is decided by
// CheckCaseEvent (case_rules.h), not here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/domain/dates.h"
#include "shebao/event_generated.h"

namespace shebao::domain {

// Steps of DOMAIN.md "The three enrollment pathways", in the order a case passes them.
enum class Step : uint8_t {
  none,                   // no open case (never opened)
  materials_issued,       // materials handed out (school / agency / civil affairs)
  list_confirmed,         // low income: insurance list printed, confirmed, sealed
  declared,               // guardian filled in the forms / declared online
  materials_submitted,    // guardian returned the materials (school / agency / civil affairs)
  org_reviewed,           // school or civil affairs examined and accepted
  forwarded,              // school or civil affairs submitted to the agency
  agency_received,        // agency accepted the insurance information for review
  agency_reviewed,        // agency reviewed and accepted
  info_entered,           // agency entered the insurance information
  account_established,    // collection account set up; premium may be collected
  premium_collected,      // individual share (or its low-income subsidy) collected
  certificate_requested,  // certificate applied for
  list_printed,           // certificate-making list printed at the collection window
  fee_paid,               // certificate-making fee paid at the certificate window
  procedures_accepted,    // certificate procedures accepted: due date fixed
  certificate_ready,      // agency has made the certificate
  certificate_collected,  // school / civil affairs / guardian received it
  certificate_issued,     // issued to the child: the case is complete
  refused,                // a review refused the application (closed)
  withdrawn,              // the guardian withdrew before collection (closed)
  refunded,               // the premium was refunded (closed)
};

std::string_view StepName(Step step);

// True for steps after which nothing but a new application (materials_issued) may follow.
bool IsClosed(Step step);

struct CaseState {
  std::string stream_id;
  uint64_t version = 0;        // stream version folded so far
  uint64_t last_position = 0;  // global position of the last event folded
  Step step = Step::none;
  int attempt = 0;             // times the case was opened (a refused case can be reopened)
  fb::Pathway pathway = fb::Pathway::unknown;

  // Who and where.
  std::string child_id;
  int coverage_year = 0;
  Day birth_day = 0;
  std::string issuing_org;  // who handed out the materials: school USCC or division code
  std::string school_uscc;
  std::string guardian_id;
  std::string household_division_code;
  std::string agency_division_code;
  std::string low_income_certificate_no;
  bool returned_for_correction = false;  // the last review sent the materials back
  Step returned_from = Step::none;        // the review step that returned them

  // Collection.
  std::string account_no;
  int failed_collections = 0;
  uint64_t premium_position = 0;  // the PremiumCollected (or low-income SubsidyRecorded) event
  int64_t premium_fen = 0;        // individual share collected
  int64_t subsidy_fen = 0;        // government subsidy recorded
  std::string bank_ref;
  std::string bank_code;  // the bank that collected (the only one that may reverse it)
  Day paid_day = 0;
  int64_t refunded_fen = 0;
  int reversals = 0;

  // Coverage (from CoverageStatusChanged).
  fb::CoverageStatus coverage = fb::CoverageStatus::unknown;
  Day coverage_effective_day = 0;
  int waiting_months = 0;

  // Certificate.
  fb::CertificateHolder certificate_holder = fb::CertificateHolder::unknown;
  int64_t certificate_fee_fen = 0;
  Day procedures_accepted_day = 0;
  Day certificate_due_day = 0;  // 0 when the pathway sets no due date
  bool due_provisional = false;
  std::string calendar_version;
  std::string certificate_no;
  uint64_t early_issue_override_position = 0;
  Day certificate_issued_day = 0;

  Day last_effective_day = 0;  // business date of the last event (dates never go back)
  uint64_t opened_position = 0;  // the MaterialsIssued of the current application
  std::string child_name;

  bool operator==(const CaseState&) const = default;
};

// Folds one event of the case's stream into the state. position is the event's global position.
// REQUIRES: event belongs to state's stream (or state is fresh) and event->stream_version() ==
// state.version + 1.
void ApplyCaseEvent(CaseState* state, const fb::Event& event, uint64_t position);

// "case/<year>/<child id>".
std::string CaseStreamId(int coverage_year, std::string_view child_id);

// The party that holds the certificate steps in a pathway (school, guardian, civil affairs).
fb::CertificateHolder HolderForPathway(fb::Pathway pathway);
fb::Role RoleForHolder(fb::CertificateHolder holder);

// Whether the pathway waits 20 working days before the certificate is received (pathways 1
// and 3; the source text states no wait for pathway 2).
bool PathwayHasCertificateDueDate(fb::Pathway pathway);
inline constexpr int kCertificateWorkingDays = 20;

// The next step of a case and who owes it (for case status and the agency work queue).
struct NextStep {
  Step step = Step::none;
  fb::Role owner = fb::Role::unknown;
  std::string_view what;  // e.g. "school examines and collects the information"
};
NextStep NextStepOf(const CaseState& state);

}  // namespace shebao::domain
