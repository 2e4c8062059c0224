#include "ledger/domain/case_state.h"
#include "ledger/domain/fb_strings.h"

#include <charconv>
#include <cstdint>
#include <limits>

#include <fmt/format.h>

#include "ledger/check.h"

namespace shebao::domain {

std::string_view StepName(Step step) {
  switch (step) {
    case Step::none: return "none";
    case Step::materials_issued: return "materials_issued";
    case Step::list_confirmed: return "list_confirmed";
    case Step::declared: return "declared";
    case Step::materials_submitted: return "materials_submitted";
    case Step::org_reviewed: return "org_reviewed";
    case Step::forwarded: return "forwarded";
    case Step::agency_received: return "agency_received";
    case Step::agency_reviewed: return "agency_reviewed";
    case Step::info_entered: return "info_entered";
    case Step::account_established: return "account_established";
    case Step::premium_collected: return "premium_collected";
    case Step::certificate_requested: return "certificate_requested";
    case Step::list_printed: return "list_printed";
    case Step::fee_paid: return "fee_paid";
    case Step::procedures_accepted: return "procedures_accepted";
    case Step::certificate_ready: return "certificate_ready";
    case Step::certificate_collected: return "certificate_collected";
    case Step::certificate_issued: return "certificate_issued";
    case Step::refused: return "refused";
    case Step::withdrawn: return "withdrawn";
    case Step::refunded: return "refunded";
  }
  return "unknown";
}

bool IsClosed(Step step) {
  return step == Step::refused || step == Step::withdrawn || step == Step::refunded;
}

std::string CaseStreamId(int coverage_year, std::string_view child_id) {
  // Called for every case event folded or planned: appends, no format string.
  char year[16];
  const auto [year_end, error] = std::to_chars(year, year + sizeof(year), coverage_year);
  SHEBAO_ASSERT(error == std::errc());
  std::string id;
  id.reserve(5 + static_cast<size_t>(year_end - year) + 1 + child_id.size());
  id.append("case/").append(year, year_end).append("/").append(child_id);
  return id;
}

fb::CertificateHolder HolderForPathway(fb::Pathway pathway) {
  switch (pathway) {
    case fb::Pathway::school: return fb::CertificateHolder::school;
    case fb::Pathway::not_in_school: return fb::CertificateHolder::guardian;
    case fb::Pathway::low_income: return fb::CertificateHolder::civil_affairs;
    default: return fb::CertificateHolder::unknown;
  }
}

fb::Role RoleForHolder(fb::CertificateHolder holder) {
  switch (holder) {
    case fb::CertificateHolder::school: return fb::Role::school;
    case fb::CertificateHolder::guardian: return fb::Role::guardian;
    case fb::CertificateHolder::civil_affairs: return fb::Role::civil_affairs;
    default: return fb::Role::unknown;
  }
}

bool PathwayHasCertificateDueDate(fb::Pathway pathway) {
  return pathway == fb::Pathway::school || pathway == fb::Pathway::low_income;
}

namespace {

// a + b, held at the end of the int64 range instead of overflowing: the folds add amounts of
// stored events, which the rules bound but the store does not, and a fold must be total.
int64_t AddFen(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

// The step a review's return for correction sends the case back to: the materials go back to
// whoever submitted them to the reviewer.
Step StepAfterReturn(fb::Pathway pathway, fb::ReviewStage stage) {
  if (stage == fb::ReviewStage::agency && pathway != fb::Pathway::not_in_school) {
    return Step::org_reviewed;  // school / civil affairs must submit to the agency again
  }
  return Step::declared;  // the guardian must correct and submit the materials again
}

}  // namespace

void ApplyCaseEvent(CaseState* s, const fb::Event& e, uint64_t position) {
  SHEBAO_ASSERT(e.stream_version() == s->version + 1);
  s->version = e.stream_version();
  s->last_position = position;
  if (s->stream_id.empty() && e.stream_id() != nullptr) s->stream_id = e.stream_id()->str();
  // The first event sets it (0 is "no event yet", not a date before which nothing may happen).
  if (s->version == 1 || e.effective_day() > s->last_effective_day) {
    s->last_effective_day = e.effective_day();
  }

  switch (e.payload_type()) {
    case fb::Payload::MaterialsIssued: {
      const auto* p = e.payload_as_MaterialsIssued();
      // A new application (first, or after a closed one) starts from a clean slate.
      CaseState fresh;
      fresh.stream_id = s->stream_id;
      fresh.version = s->version;
      fresh.last_position = s->last_position;
      fresh.last_effective_day = s->last_effective_day;
      fresh.attempt = s->attempt + 1;
      fresh.opened_position = position;
      *s = std::move(fresh);
      s->step = Step::materials_issued;
      s->pathway = p->pathway();
      s->child_id = Str(p->child_id());
      s->coverage_year = p->coverage_year();
      s->issuing_org = Str(p->issuing_org());
      s->certificate_holder = HolderForPathway(p->pathway());
      if (p->pathway() == fb::Pathway::school) s->school_uscc = s->issuing_org;
      break;
    }
    case fb::Payload::LowIncomeListConfirmed:
      s->step = Step::list_confirmed;
      s->low_income_certificate_no = Str(e.payload_as_LowIncomeListConfirmed()->low_income_certificate_no());
      break;
    case fb::Payload::DeclarationSubmitted: {
      const auto* p = e.payload_as_DeclarationSubmitted();
      s->step = Step::declared;
      s->birth_day = p->birth_day();
      s->guardian_id = Str(p->guardian_id());
      s->child_name = Str(p->child_name());
      s->household_division_code = Str(p->household_division_code());
      if (p->school_uscc() != nullptr && p->school_uscc()->size() > 0) {
        s->school_uscc = p->school_uscc()->str();
      }
      break;
    }
    case fb::Payload::MaterialsSubmitted:
      s->step = Step::materials_submitted;
      s->returned_for_correction = false;
      break;
    case fb::Payload::ReviewDecided: {
      const auto* p = e.payload_as_ReviewDecided();
      if (p->outcome() == fb::ReviewOutcome::accepted) {
        s->step = p->stage() == fb::ReviewStage::agency ? Step::agency_reviewed : Step::org_reviewed;
        s->returned_for_correction = false;
      } else if (p->outcome() == fb::ReviewOutcome::returned_for_correction) {
        s->returned_from = s->step;
        s->returned_for_correction = true;
        s->step = StepAfterReturn(s->pathway, p->stage());
      } else if (p->outcome() == fb::ReviewOutcome::refused) {
        s->step = Step::refused;
      }
      break;
    }
    case fb::Payload::ForwardedToAgency:
      s->step = Step::forwarded;
      s->agency_division_code = Str(e.payload_as_ForwardedToAgency()->agency_division_code());
      s->returned_for_correction = false;
      break;
    case fb::Payload::AgencyReceived:
      s->step = Step::agency_received;
      s->agency_division_code = Str(e.payload_as_AgencyReceived()->agency_division_code());
      s->returned_for_correction = false;
      break;
    case fb::Payload::InsuranceInfoEntered:
      s->step = Step::info_entered;
      break;
    case fb::Payload::CollectionAccountEstablished:
      s->step = Step::account_established;
      s->account_no = Str(e.payload_as_CollectionAccountEstablished()->account_no());
      break;
    case fb::Payload::CollectionFailed:
      s->failed_collections += 1;
      break;
    case fb::Payload::PremiumCollected: {
      const auto* p = e.payload_as_PremiumCollected();
      s->step = Step::premium_collected;
      s->premium_position = position;
      s->premium_fen = p->amount_fen();
      s->bank_ref = Str(p->bank_ref());
      s->bank_code = e.actor() != nullptr ? Str(e.actor()->org_id()) : std::string();
      s->paid_day = e.effective_day();
      break;
    }
    case fb::Payload::SubsidyRecorded: {
      const auto* p = e.payload_as_SubsidyRecorded();
      if (p->payer() == fb::PayerKind::civil_affairs) {
        // Low income: the individual share, paid for the child (Art. 25), collected by the bank.
        s->step = Step::premium_collected;
        s->premium_position = position;
        s->premium_fen = p->amount_fen();
        s->bank_ref = Str(p->reference());
        s->bank_code = e.actor() != nullptr ? Str(e.actor()->org_id()) : std::string();
        s->paid_day = e.effective_day();
      } else {
        s->subsidy_fen = AddFen(s->subsidy_fen, p->amount_fen());
      }
      break;
    }
    case fb::Payload::PaymentReversed:
      // The collection did not hold: back to collecting, nothing paid.
      s->step = Step::account_established;
      s->premium_position = 0;
      s->premium_fen = 0;
      s->subsidy_fen = 0;
      s->bank_ref.clear();
      s->bank_code.clear();
      s->reversals += 1;
      break;
    case fb::Payload::PaymentRefunded:
      s->refunded_fen = AddFen(s->refunded_fen, e.payload_as_PaymentRefunded()->amount_fen());
      s->step = Step::refunded;
      break;
    case fb::Payload::ApplicationWithdrawn:
      s->step = Step::withdrawn;
      break;
    case fb::Payload::CertificateRequested:
      s->step = Step::certificate_requested;
      break;
    case fb::Payload::CertificateListPrinted:
      s->step = Step::list_printed;
      break;
    case fb::Payload::CertificateFeePaid:
      s->step = Step::fee_paid;
      s->certificate_fee_fen =
          AddFen(s->certificate_fee_fen, e.payload_as_CertificateFeePaid()->amount_fen());
      break;
    case fb::Payload::CertificateProceduresAccepted: {
      const auto* p = e.payload_as_CertificateProceduresAccepted();
      s->step = Step::procedures_accepted;
      s->procedures_accepted_day = p->accepted_day();
      s->certificate_due_day = p->due_day();
      s->due_provisional = p->provisional();
      s->calendar_version = Str(p->calendar_version());
      break;
    }
    case fb::Payload::CertificateReady:
      s->step = Step::certificate_ready;
      s->certificate_no = Str(e.payload_as_CertificateReady()->certificate_no());
      break;
    case fb::Payload::CertificateCollected:
      s->step = Step::certificate_collected;
      break;
    case fb::Payload::CertificateIssued:
      s->step = Step::certificate_issued;
      s->certificate_issued_day = e.effective_day();
      break;
    case fb::Payload::OverrideRecorded: {
      const auto* p = e.payload_as_OverrideRecorded();
      if (p->kind() == fb::OverrideKind::early_certificate_issue) {
        s->early_issue_override_position = position;
      }
      break;
    }
    case fb::Payload::CoverageStatusChanged: {
      const auto* p = e.payload_as_CoverageStatusChanged();
      s->coverage = p->status();
      s->coverage_effective_day = p->effective_day();
      s->waiting_months = p->waiting_period_months();
      break;
    }
    default:
      break;  // events of other kinds do not change a case
  }
}

NextStep NextStepOf(const CaseState& s) {
  using R = fb::Role;
  const R holder = RoleForHolder(s.certificate_holder);
  const bool school = s.pathway == fb::Pathway::school;
  const bool low_income = s.pathway == fb::Pathway::low_income;
  switch (s.step) {
    case Step::none:
    case Step::refused:
    case Step::withdrawn:
    case Step::refunded:
    case Step::certificate_issued:
      return {Step::none, R::unknown, "nothing: the case is not open"};
    case Step::materials_issued:
      if (low_income) return {Step::list_confirmed, R::guardian, "print, confirm and seal the insurance list"};
      return {Step::declared, R::guardian, "fill in the forms and declare online"};
    case Step::list_confirmed:
      return {Step::declared, R::guardian, "fill in the insurance form"};
    case Step::declared:
      return {Step::materials_submitted, R::guardian,
              school ? "return the materials to the school"
                     : low_income ? "return the materials to civil affairs"
                                  : "submit the materials to the agency"};
    case Step::materials_submitted:
      if (school) return {Step::org_reviewed, R::school, "examine and collect the information"};
      if (low_income) return {Step::org_reviewed, R::civil_affairs, "review the forms and materials"};
      return {Step::agency_received, R::agency, "accept the insurance information"};
    case Step::org_reviewed:
      return {Step::forwarded, school ? R::school : R::civil_affairs, "submit to the agency"};
    case Step::forwarded:
      return {Step::agency_received, R::agency, "accept the insurance information"};
    case Step::agency_received:
      return {Step::agency_reviewed, R::agency, "review the insurance information"};
    case Step::agency_reviewed:
      return {Step::info_entered, R::agency, "enter the insurance information"};
    case Step::info_entered:
      return {Step::account_established, R::agency, "establish the collection account"};
    case Step::account_established:
      return {Step::premium_collected, R::bank, "collect the premium"};
    case Step::premium_collected:
      return {Step::certificate_requested, holder, "apply for the certificate"};
    case Step::certificate_requested:
      return {Step::list_printed, holder, "print the certificate-making list"};
    case Step::list_printed:
      return {Step::fee_paid, holder, "pay the certificate-making fee"};
    case Step::fee_paid:
      return {Step::procedures_accepted, R::agency, "accept the certificate procedures"};
    case Step::procedures_accepted:
      return {Step::certificate_ready, R::agency, "make the certificate"};
    case Step::certificate_ready:
      return {Step::certificate_collected, holder, "collect the certificate"};
    case Step::certificate_collected:
      return {Step::certificate_issued, holder, "issue the certificate to the child"};
  }
  return {Step::none, R::unknown, ""};
}

}  // namespace shebao::domain
