#include "ledger/domain/case_rules.h"
#include "ledger/domain/fb_strings.h"

#include <algorithm>

#include <fmt/format.h>

#include "ledger/domain/ids.h"

namespace shebao::domain {
namespace {

using fb::Payload;
using fb::Role;

// The latest year a case's steps may be dated, after its coverage year (date_out_of_range).
constexpr int kCaseYearsAfterCoverageMax = 1;


std::string_view RoleName(Role role) { return fb::EnumNameRole(role); }

Rejection NeedRole(const fb::Event& e, Role role, std::string_view step) {
  const Role actual = e.actor() != nullptr ? e.actor()->role() : Role::unknown;
  if (actual == role) return Rejection::None();
  return Reject(Rule::wrong_actor_for_step, "actor.role",
                fmt::format("{} is done by the {}, not by the {}", step, RoleName(role),
                            RoleName(actual)));
}

std::string_view ActorOrg(const fb::Event& e) {
  return e.actor() != nullptr ? View(e.actor()->org_id()) : std::string_view();
}
std::string_view ActorPerson(const fb::Event& e) {
  return e.actor() != nullptr ? View(e.actor()->person_id()) : std::string_view();
}

Rejection NeedOrg(const fb::Event& e, std::string_view org, std::string_view step) {
  if (ActorOrg(e) == org) return Rejection::None();
  return Reject(Rule::wrong_organisation, "actor.org",
                fmt::format("{} belongs to organisation {}, not {}", step, org, ActorOrg(e)));
}

Rejection NeedStep(const CaseState& s, Step want, std::string_view step) {
  if (s.step == want) return Rejection::None();
  if (s.step == Step::none) {
    return Reject(Rule::case_not_found, "child_id",
                  fmt::format("{}: no open case {}", step, s.stream_id));
  }
  if (IsClosed(s.step)) {
    return Reject(Rule::case_closed, "child_id",
                  fmt::format("{}: the case is {}", step, StepName(s.step)));
  }
  return Reject(Rule::step_out_of_order, "command",
                fmt::format("{} needs the case at step {}, it is at {}", step, StepName(want),
                            StepName(s.step)));
}

// The certificate steps are done by the pathway's holder: the school (its own USCC), civil
// affairs (the office that issued the materials) or the guardian who declared.
Rejection NeedHolder(const CaseState& s, const fb::Event& e, std::string_view step) {
  const Role role = RoleForHolder(s.certificate_holder);
  if (auto r = NeedRole(e, role, step); !r.ok()) return r;
  switch (s.certificate_holder) {
    case fb::CertificateHolder::school: return NeedOrg(e, s.school_uscc, step);
    case fb::CertificateHolder::civil_affairs: return NeedOrg(e, s.issuing_org, step);
    case fb::CertificateHolder::guardian:
      if (ActorPerson(e) != s.guardian_id) {
        return Reject(Rule::wrong_actor_for_step, "actor.id",
                      fmt::format("{} is done by the declaring guardian", step));
      }
      return Rejection::None();
    default:
      return Reject(Rule::step_out_of_order, "command", "the case has no pathway");
  }
}

Rejection NeedChild(const CaseState& s, std::string_view child_id, std::string_view field) {
  if (child_id == s.child_id) return Rejection::None();
  return Reject(Rule::child_mismatch, std::string(field),
                fmt::format("the case is for child {}", MaskCitizenId(s.child_id)));
}

Rejection NeedReason(std::string_view reason, std::string_view field) {
  if (!reason.empty()) return Rejection::None();
  return Reject(Rule::reason_missing, std::string(field), "a reason is required");
}

Rejection NeedDueDate(const CaseState& s, const fb::Event& e, std::string_view step) {
  if (s.certificate_due_day == 0 || e.effective_day() >= s.certificate_due_day ||
      s.early_issue_override_position != 0) {
    return Rejection::None();
  }
  return Reject(Rule::certificate_before_due_date, "at",
                fmt::format("{} on {} is before the due date {} (20 working days after {}); an "
                            "early_certificate_issue override is required",
                            step, FormatIsoDay(e.effective_day()),
                            FormatIsoDay(s.certificate_due_day),
                            FormatIsoDay(s.procedures_accepted_day)));
}

Rejection CheckMaterialsIssued(const CaseState& s, const fb::Event& e, const RuleContext& ctx) {
  const auto* p = e.payload_as_MaterialsIssued();
  if (s.step != Step::none && !IsClosed(s.step)) {
    return Reject(Rule::case_already_active, "child_id",
                  fmt::format("child {} already has an open case for {} (step {})",
                              MaskCitizenId(s.child_id), s.coverage_year, StepName(s.step)));
  }
  const std::string_view child = View(p->child_id());
  if (Rule r = CheckCitizenId(child); r != Rule::ok) {
    return Reject(r, "child_id", "the child's citizen ID is not valid (GB 11643-1999)");
  }
  if (View(e.stream_id()) != CaseStreamId(p->coverage_year(), child)) {
    return Reject(Rule::stream_mismatch, "child_id", "the case stream is not this child's");
  }
  const int event_year = ToYmd(e.effective_day()).year;
  if (p->coverage_year() < event_year || p->coverage_year() > event_year + 1) {
    return Reject(Rule::coverage_year_out_of_range, "coverage_year",
                  fmt::format("materials issued in {} are for coverage year {} or {}", event_year,
                              event_year, event_year + 1));
  }
  // A command's year is in range when parsed; a stored event's need not be (2100 -> 2101).
  const std::optional<Day> coverage_start = DayFromYmd(p->coverage_year(), 1, 1);
  if (!coverage_start) {
    return Reject(Rule::coverage_year_out_of_range, "coverage_year",
                  fmt::format("{}..{}", kYearMin, kYearMax));
  }
  const Day birth = *CitizenIdBirthDay(child);
  if (birth > e.effective_day()) {
    return Reject(Rule::citizen_id_birth_date, "child_id", "the child is born after this date");
  }
  if (!IsMinorOn(birth, *coverage_start)) {
    return Reject(Rule::not_a_minor_on_coverage_date, "child_id",
                  fmt::format("the child is 18 or older on {}", FormatIsoDay(*coverage_start)));
  }
  const Role role = e.actor() != nullptr ? e.actor()->role() : Role::unknown;
  const std::string_view org = View(p->issuing_org());
  if (org != ActorOrg(e)) {
    return Reject(Rule::wrong_organisation, "actor.org",
                  "the issuing organisation must be the acting one");
  }
  switch (p->pathway()) {
    case fb::Pathway::school:
      if (role != Role::school) break;
      return CheckOrgUscc(org, "actor.org", ctx);
    case fb::Pathway::not_in_school:
      if (role != Role::agency) break;
      if (CheckDivisionCode(org) != Rule::ok) {
        return Reject(Rule::division_code_invalid, "actor.org", "the agency's division code");
      }
      return Rejection::None();
    case fb::Pathway::low_income:
      if (role != Role::civil_affairs) break;
      if (CheckDivisionCode(org) != Rule::ok) {
        return Reject(Rule::division_code_invalid, "actor.org",
                      "the civil affairs office's division code");
      }
      return Rejection::None();
    default:
      return Reject(Rule::field_missing, "pathway", "pathway must be school, not_in_school or "
                                                    "low_income");
  }
  return Reject(Rule::wrong_actor_for_pathway, "actor.role",
                fmt::format("materials of the {} pathway are handed out by the {}",
                            fb::EnumNamePathway(p->pathway()),
                            p->pathway() == fb::Pathway::school       ? "school"
                            : p->pathway() == fb::Pathway::low_income ? "civil affairs department"
                                                                      : "agency"));
}

Rejection CheckDeclaration(const CaseState& s, const fb::Event& e, const RuleContext& ctx) {
  const auto* p = e.payload_as_DeclarationSubmitted();
  if (auto r = NeedRole(e, Role::guardian, "the declaration"); !r.ok()) return r;
  const Step before = s.pathway == fb::Pathway::low_income ? Step::list_confirmed
                                                           : Step::materials_issued;
  if (s.step == Step::declared) {
    if (!p->resubmission()) {
      return Reject(Rule::step_out_of_order, "resubmission",
                    "the case is already declared; a correction must say resubmission: true");
    }
  } else if (auto r = NeedStep(s, before, "the declaration"); !r.ok()) {
    return r;
  }
  if (auto r = NeedChild(s, View(p->child_id()), "child_id"); !r.ok()) return r;
  if (p->pathway() != s.pathway) {
    return Reject(Rule::pathway_mismatch, "pathway",
                  fmt::format("the case is on the {} pathway", fb::EnumNamePathway(s.pathway)));
  }
  if (p->coverage_year() != s.coverage_year) {
    return Reject(Rule::coverage_year_out_of_range, "coverage_year",
                  fmt::format("the case is for {}", s.coverage_year));
  }
  const std::string_view guardian = View(p->guardian_id());
  if (Rule r = CheckCitizenId(guardian); r != Rule::ok) {
    return Reject(r, "guardian_id", "the guardian's citizen ID is not valid");
  }
  if (guardian == s.child_id) {
    return Reject(Rule::wrong_actor_for_step, "guardian_id", "the guardian cannot be the child");
  }
  if (ActorPerson(e) != guardian) {
    return Reject(Rule::wrong_actor_for_step, "actor.id",
                  "the declaration is made by the guardian it names");
  }
  if (s.step == Step::declared && guardian != s.guardian_id) {
    return Reject(Rule::wrong_actor_for_step, "guardian_id",
                  "a correction is made by the guardian who declared");
  }
  if (p->birth_day() != *CitizenIdBirthDay(s.child_id)) {
    return Reject(Rule::citizen_id_birth_date, "birth_day",
                  "the birth date differs from the one in the child's citizen ID");
  }
  if (p->relationship() == fb::Relationship::unknown) {
    return Reject(Rule::field_missing, "relationship", "father, mother or other_guardian");
  }
  if (CheckDivisionCode(View(p->household_division_code())) != Rule::ok) {
    return Reject(Rule::division_code_invalid, "household_division_code",
                  "a 6-digit administrative division code");
  }
  if (View(p->child_name()).empty()) return Reject(Rule::field_empty, "child_name", "required");
  if (View(p->guardian_name()).empty()) {
    return Reject(Rule::field_empty, "guardian_name", "required");
  }
  if (s.pathway == fb::Pathway::school && !View(p->school_uscc()).empty() &&
      View(p->school_uscc()) != s.school_uscc) {
    return Reject(Rule::wrong_organisation, "school_uscc",
                  "the school must be the one that handed out the materials");
  }
  (void)ctx;
  return Rejection::None();
}

Rejection CheckReview(const CaseState& s, const fb::Event& e) {
  const auto* p = e.payload_as_ReviewDecided();
  if (p->outcome() == fb::ReviewOutcome::unknown) {
    return Reject(Rule::field_missing, "outcome",
                  "accepted, returned_for_correction or refused");
  }
  if (p->outcome() != fb::ReviewOutcome::accepted) {
    if (auto r = NeedReason(View(p->reason_text()), "reason"); !r.ok()) return r;
  }
  switch (p->stage()) {
    case fb::ReviewStage::school:
      if (s.pathway != fb::Pathway::school) break;
      if (auto r = NeedRole(e, Role::school, "the school's review"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::materials_submitted, "the school's review"); !r.ok()) return r;
      return NeedOrg(e, s.school_uscc, "the school's review");
    case fb::ReviewStage::civil_affairs:
      if (s.pathway != fb::Pathway::low_income) break;
      if (auto r = NeedRole(e, Role::civil_affairs, "civil affairs' review"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::materials_submitted, "civil affairs' review"); !r.ok()) return r;
      return NeedOrg(e, s.issuing_org, "civil affairs' review");
    case fb::ReviewStage::agency:
      if (auto r = NeedRole(e, Role::agency, "the agency's review"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::agency_received, "the agency's review"); !r.ok()) return r;
      return NeedOrg(e, s.agency_division_code, "the agency's review");
    default:
      return Reject(Rule::field_missing, "stage", "school, civil_affairs or agency");
  }
  return Reject(Rule::wrong_actor_for_pathway, "stage",
                fmt::format("the {} pathway has no {} review", fb::EnumNamePathway(s.pathway),
                            fb::EnumNameReviewStage(p->stage())));
}

Rejection CheckCollection(const CaseState& s, const fb::Event& e, const RuleContext& ctx,
                          int64_t amount_fen, std::string_view child, int coverage_year,
                          std::string_view bank_ref, std::string_view what) {
  if (auto r = NeedRole(e, Role::bank, what); !r.ok()) return r;
  if (s.step >= Step::premium_collected && !IsClosed(s.step) && s.step <= Step::certificate_issued) {
    return Reject(Rule::premium_already_collected, "bank_ref",
                  fmt::format("the premium was collected at position {}", s.premium_position));
  }
  if (s.step != Step::account_established) {
    if (s.step == Step::none || IsClosed(s.step)) return NeedStep(s, Step::account_established, what);
    return Reject(Rule::collection_account_missing, "child_id",
                  fmt::format("no collection account yet (step {})", StepName(s.step)));
  }
  if (auto r = NeedChild(s, child, "child_id"); !r.ok()) return r;
  if (coverage_year != s.coverage_year) {
    return Reject(Rule::coverage_year_out_of_range, "coverage_year",
                  fmt::format("the case is for {}", s.coverage_year));
  }
  if (bank_ref.empty()) return Reject(Rule::field_empty, "bank_ref", "required");
  if (amount_fen <= 0) {
    return Reject(Rule::amount_not_positive, "amount_fen", "an amount must be positive");
  }
  PremiumTable::Rate rate;
  if (auto r = ctx.premiums->Lookup(s.household_division_code, s.coverage_year, &rate); !r.ok()) {
    return r;
  }
  if (amount_fen != rate.individual_fen) {
    return Reject(Rule::amount_mismatch, "amount_fen",
                  fmt::format("the individual share due for region {} in {} is {} fen, not {}",
                              rate.region, s.coverage_year, rate.individual_fen, amount_fen));
  }
  return Rejection::None();
}

Rejection CheckSubsidy(const CaseState& s, const fb::Event& e, const RuleContext& ctx) {
  const auto* p = e.payload_as_SubsidyRecorded();
  if (p->payer() == fb::PayerKind::civil_affairs) {
    if (s.pathway != fb::Pathway::low_income) {
      return Reject(Rule::pathway_mismatch, "payer",
                    "civil affairs pays the individual share only on the low-income pathway");
    }
    return CheckCollection(s, e, ctx, p->amount_fen(), View(p->child_id()), p->coverage_year(),
                           View(p->reference()), "the collection of the low-income share");
  }
  if (p->payer() != fb::PayerKind::government_subsidy) {
    return Reject(Rule::payer_invalid, "payer", "a subsidy is paid by government or civil affairs");
  }
  if (auto r = NeedRole(e, Role::agency, "recording the government subsidy"); !r.ok()) return r;
  if (s.step != Step::premium_collected) {
    return Reject(Rule::premium_not_collected, "child_id",
                  "the subsidy is recorded with the collection of the individual share");
  }
  if (s.subsidy_fen != 0) {
    return Reject(Rule::premium_already_collected, "amount_fen", "the subsidy is recorded already");
  }
  PremiumTable::Rate rate;
  if (auto r = ctx.premiums->Lookup(s.household_division_code, s.coverage_year, &rate); !r.ok()) {
    return r;
  }
  if (p->amount_fen() != rate.subsidy_fen) {
    return Reject(Rule::amount_mismatch, "amount_fen",
                  fmt::format("the subsidy for region {} in {} is {} fen", rate.region,
                              s.coverage_year, rate.subsidy_fen));
  }
  return Rejection::None();
}

bool PaymentHeld(const CaseState& s) {
  return s.premium_position != 0 && s.step >= Step::premium_collected &&
         s.step <= Step::certificate_issued;
}

Rejection CheckReversalOrRefund(const CaseState& s, uint64_t original, int64_t amount_fen,
                                std::string_view what) {
  if (!PaymentHeld(s)) {
    return Reject(Rule::premium_not_collected, "original_position",
                  fmt::format("{}: the case holds no collected premium", what));
  }
  if (original != s.premium_position) {
    return Reject(Rule::payment_not_found, "original_position",
                  fmt::format("the case's collected premium is at position {}",
                              s.premium_position));
  }
  if (amount_fen <= 0) return Reject(Rule::amount_not_positive, "amount_fen", "must be positive");
  if (amount_fen > s.premium_fen) {
    return Reject(Rule::refund_exceeds_payment, "amount_fen",
                  fmt::format("the payment was {} fen", s.premium_fen));
  }
  return Rejection::None();
}

}  // namespace

Rejection CheckOrgUscc(std::string_view uscc, std::string_view field, const RuleContext& ctx) {
  const Rule r = CheckUscc(uscc);
  if (r == Rule::ok) return Rejection::None();
  if (r == Rule::uscc_checksum && ctx.pilot_uscc_accepted && ctx.pilot_uscc_accepted(uscc)) {
    return Rejection::None();
  }
  return Reject(r, std::string(field),
                r == Rule::uscc_checksum
                    ? "the USCC fails its checksum (GB 32100-2015); a pilot code needs a recorded "
                      "pilot_uscc_checksum override"
                    : "not a Unified Social Credit Code (GB 32100-2015)");
}

Rejection CheckCaseEvent(const CaseState& s, const fb::Event& e, const RuleContext& ctx) {
  if (s.version > 0 && e.effective_day() < s.last_effective_day) {
    return Reject(Rule::date_before_previous_step, "at",
                  fmt::format("{} is before the case's last step on {}",
                              FormatIsoDay(e.effective_day()), FormatIsoDay(s.last_effective_day)));
  }
  if (s.step == Step::none && e.payload_type() != Payload::MaterialsIssued) {
    return Reject(Rule::case_not_found, "child_id",
                  fmt::format("no case {}: it starts when the materials are issued",
                              s.stream_id));
  }
  // Far future: a case's steps run from the year before its coverage year (materials_issued
  // checks that) to the end of the year after it (late certificates, refunds). A later date is
  // a typo (2062 for 2026) that would also block every later step (date_before_previous_step).
  if (s.step != Step::none && e.payload_type() != Payload::MaterialsIssued) {
    const int last_year = std::min(s.coverage_year + kCaseYearsAfterCoverageMax, kYearMax);
    if (const auto last = DayFromYmd(last_year, 12, 31); last && e.effective_day() > *last) {
      return Reject(Rule::date_out_of_range, "at",
                    fmt::format("{} is after {}: the steps of a case for coverage year {} end "
                                "by 31 December of the year after it",
                                FormatIsoDay(e.effective_day()), FormatIsoDay(*last),
                                s.coverage_year));
    }
  }
  switch (e.payload_type()) {
    case Payload::MaterialsIssued:
      return CheckMaterialsIssued(s, e, ctx);

    case Payload::LowIncomeListConfirmed: {
      const auto* p = e.payload_as_LowIncomeListConfirmed();
      if (s.pathway != fb::Pathway::low_income && s.step != Step::none) {
        return Reject(Rule::pathway_mismatch, "command",
                      "the insurance list is confirmed on the low-income pathway only");
      }
      if (auto r = NeedRole(e, Role::guardian, "confirming the insurance list"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::materials_issued, "confirming the insurance list"); !r.ok()) {
        return r;
      }
      if (View(p->low_income_certificate_no()).empty()) {
        return Reject(Rule::field_empty, "low_income_certificate_no", "required");
      }
      if (!p->sealed()) {
        return Reject(Rule::step_out_of_order, "sealed", "the list must be sealed by civil affairs");
      }
      return Rejection::None();
    }

    case Payload::DeclarationSubmitted:
      return CheckDeclaration(s, e, ctx);

    case Payload::MaterialsSubmitted: {
      const auto* p = e.payload_as_MaterialsSubmitted();
      if (auto r = NeedRole(e, Role::guardian, "returning the materials"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::declared, "returning the materials"); !r.ok()) return r;
      if (ActorPerson(e) != s.guardian_id) {
        return Reject(Rule::wrong_actor_for_step, "actor.id",
                      "the materials are returned by the declaring guardian");
      }
      const std::string_view want = s.pathway == fb::Pathway::school ? std::string_view(s.school_uscc)
                                                                     : std::string_view(s.issuing_org);
      if (View(p->submitted_to_org()) != want) {
        return Reject(Rule::wrong_organisation, "to_org",
                      fmt::format("the materials go to {}", want));
      }
      return Rejection::None();
    }

    case Payload::ReviewDecided:
      return CheckReview(s, e);

    case Payload::ForwardedToAgency: {
      const auto* p = e.payload_as_ForwardedToAgency();
      if (s.pathway == fb::Pathway::not_in_school) {
        return Reject(Rule::wrong_actor_for_pathway, "command",
                      "on the not-in-school pathway the guardian submits to the agency directly");
      }
      const bool school = s.pathway == fb::Pathway::school;
      if (auto r = NeedRole(e, school ? Role::school : Role::civil_affairs, "submitting to the agency");
          !r.ok()) {
        return r;
      }
      if (auto r = NeedOrg(e, school ? s.school_uscc : s.issuing_org, "submitting to the agency");
          !r.ok()) {
        return r;
      }
      if (auto r = NeedStep(s, Step::org_reviewed, "submitting to the agency"); !r.ok()) return r;
      if (CheckDivisionCode(View(p->agency_division_code())) != Rule::ok) {
        return Reject(Rule::division_code_invalid, "agency_division_code",
                      "a 6-digit administrative division code");
      }
      return Rejection::None();
    }

    case Payload::AgencyReceived: {
      const auto* p = e.payload_as_AgencyReceived();
      if (auto r = NeedRole(e, Role::agency, "the agency's receipt"); !r.ok()) return r;
      const bool direct = s.pathway == fb::Pathway::not_in_school;
      if (auto r = NeedStep(s, direct ? Step::materials_submitted : Step::forwarded,
                            "the agency's receipt");
          !r.ok()) {
        return r;
      }
      const std::string_view agency = direct ? std::string_view(s.issuing_org)
                                             : std::string_view(s.agency_division_code);
      if (auto r = NeedOrg(e, agency, "the agency's receipt"); !r.ok()) return r;
      if (View(p->agency_division_code()) != agency) {
        return Reject(Rule::wrong_organisation, "agency_division_code",
                      fmt::format("the materials were submitted to agency {}", agency));
      }
      return Rejection::None();
    }

    case Payload::InsuranceInfoEntered: {
      const auto* p = e.payload_as_InsuranceInfoEntered();
      if (auto r = NeedRole(e, Role::agency, "entering the information"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::agency_reviewed, "entering the information"); !r.ok()) return r;
      if (auto r = NeedOrg(e, s.agency_division_code, "entering the information"); !r.ok()) return r;
      return NeedChild(s, View(p->insured_id()), "child_id");
    }

    case Payload::CollectionAccountEstablished: {
      const auto* p = e.payload_as_CollectionAccountEstablished();
      if (auto r = NeedRole(e, Role::agency, "establishing the account"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::info_entered, "establishing the account"); !r.ok()) return r;
      if (auto r = NeedOrg(e, s.agency_division_code, "establishing the account"); !r.ok()) return r;
      if (View(p->account_no()).empty()) return Reject(Rule::field_empty, "account_no", "required");
      return Rejection::None();
    }

    case Payload::CollectionFailed: {
      const auto* p = e.payload_as_CollectionFailed();
      if (auto r = NeedRole(e, Role::bank, "a failed collection"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::account_established, "a failed collection"); !r.ok()) return r;
      if (p->amount_fen() <= 0) {
        return Reject(Rule::amount_not_positive, "amount_fen", "the amount that was not collected");
      }
      return NeedReason(View(p->reason_text()), "reason");
    }

    case Payload::PremiumCollected: {
      const auto* p = e.payload_as_PremiumCollected();
      if (s.pathway == fb::Pathway::low_income) {
        return Reject(Rule::pathway_mismatch, "payer",
                      "on the low-income pathway the individual share is paid by civil affairs "
                      "(a subsidy, Art. 25)");
      }
      if (p->payer() != fb::PayerKind::guardian && p->payer() != fb::PayerKind::person) {
        return Reject(Rule::payer_invalid, "payer", "the individual share is paid by the guardian");
      }
      return CheckCollection(s, e, ctx, p->amount_fen(), View(p->child_id()), p->coverage_year(),
                             View(p->bank_ref()), "collecting the premium");
    }

    case Payload::SubsidyRecorded:
      return CheckSubsidy(s, e, ctx);

    case Payload::CoverageStatusChanged: {
      const auto* p = e.payload_as_CoverageStatusChanged();
      if (auto r = NeedRole(e, Role::agency, "a coverage status"); !r.ok()) return r;
      if (auto r = NeedChild(s, View(p->child_id()), "child_id"); !r.ok()) return r;
      switch (p->status()) {
        case fb::CoverageStatus::active:
          if (!PaymentHeld(s) || s.subsidy_fen == 0) {
            return Reject(Rule::premium_not_collected, "status",
                          "coverage is active once the individual share and the subsidy are in");
          }
          return Rejection::None();
        case fb::CoverageStatus::refunded:
          if (s.step != Step::refunded) {
            return Reject(Rule::payment_not_found, "status", "no refund recorded");
          }
          return Rejection::None();
        case fb::CoverageStatus::pending:
          return Rejection::None();
        default:
          return NeedReason(View(p->reason_text()), "reason");
      }
    }

    case Payload::PaymentReversed: {
      const auto* p = e.payload_as_PaymentReversed();
      if (auto r = NeedRole(e, Role::bank, "a reversal"); !r.ok()) return r;
      if (auto r = NeedReason(View(p->reason_text()), "reason"); !r.ok()) return r;
      if (auto r = CheckReversalOrRefund(s, p->original_position(), p->amount_fen(), "a reversal");
          !r.ok()) {
        return r;
      }
      if (auto r = NeedOrg(e, s.bank_code, "a reversal"); !r.ok()) return r;
      if (p->amount_fen() != s.premium_fen) {
        return Reject(Rule::amount_mismatch, "amount_fen", "a reversal undoes the whole payment");
      }
      return Rejection::None();
    }

    case Payload::PaymentRefunded: {
      const auto* p = e.payload_as_PaymentRefunded();
      if (auto r = NeedRole(e, Role::agency, "a refund"); !r.ok()) return r;
      if (auto r = NeedReason(View(p->reason_text()), "reason"); !r.ok()) return r;
      if (auto r = CheckReversalOrRefund(s, p->original_position(), p->amount_fen(), "a refund");
          !r.ok()) {
        return r;
      }
      if (auto r = NeedOrg(e, s.agency_division_code, "a refund"); !r.ok()) return r;
      if (p->amount_fen() != s.premium_fen) {
        return Reject(Rule::amount_mismatch, "amount_fen",
                      fmt::format("a refund returns the whole premium of {} fen and ends the "
                                  "coverage",
                                  s.premium_fen));
      }
      return Rejection::None();
    }

    case Payload::ApplicationWithdrawn: {
      const auto* p = e.payload_as_ApplicationWithdrawn();
      if (auto r = NeedRole(e, Role::guardian, "a withdrawal"); !r.ok()) return r;
      if (s.step == Step::none || IsClosed(s.step)) return NeedStep(s, Step::declared, "a withdrawal");
      if (s.step >= Step::premium_collected) {
        return Reject(Rule::withdrawal_after_collection, "command",
                      "the premium is collected: ask the agency for a refund instead");
      }
      if (!s.guardian_id.empty() && ActorPerson(e) != s.guardian_id) {
        return Reject(Rule::wrong_actor_for_step, "actor.id",
                      "only the declaring guardian can withdraw");
      }
      return NeedReason(View(p->reason_text()), "reason");
    }

    case Payload::CertificateRequested:
      if (auto r = NeedHolder(s, e, "applying for the certificate"); !r.ok()) return r;
      if (s.step < Step::premium_collected && !IsClosed(s.step) && s.step != Step::none) {
        return Reject(Rule::premium_not_collected, "command",
                      "the certificate is applied for after the premium is collected");
      }
      return NeedStep(s, Step::premium_collected, "applying for the certificate");

    case Payload::CertificateListPrinted:
      if (auto r = NeedHolder(s, e, "printing the certificate list"); !r.ok()) return r;
      if (s.step == Step::premium_collected) {
        return Reject(Rule::certificate_not_requested, "command", "apply for the certificate first");
      }
      return NeedStep(s, Step::certificate_requested, "printing the certificate list");

    case Payload::CertificateFeePaid: {
      const auto* p = e.payload_as_CertificateFeePaid();
      if (auto r = NeedHolder(s, e, "paying the certificate fee"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::list_printed, "paying the certificate fee"); !r.ok()) return r;
      PremiumTable::Rate rate;
      if (auto r = ctx.premiums->Lookup(s.household_division_code, s.coverage_year, &rate); !r.ok()) {
        return r;
      }
      if (p->amount_fen() != rate.certificate_fee_fen) {
        return Reject(Rule::amount_mismatch, "amount_fen",
                      fmt::format("the certificate-making fee is {} fen", rate.certificate_fee_fen));
      }
      return Rejection::None();
    }

    case Payload::CertificateProceduresAccepted: {
      const auto* p = e.payload_as_CertificateProceduresAccepted();
      if (auto r = NeedRole(e, Role::agency, "accepting the certificate procedures"); !r.ok()) return r;
      if (s.step == Step::certificate_requested || s.step == Step::list_printed) {
        return Reject(Rule::certificate_fee_unpaid, "command", "the certificate fee is not paid");
      }
      if (auto r = NeedStep(s, Step::fee_paid, "accepting the certificate procedures"); !r.ok()) {
        return r;
      }
      if (auto r = NeedOrg(e, s.agency_division_code, "accepting the certificate procedures"); !r.ok()) {
        return r;
      }
      if (p->accepted_day() != e.effective_day()) {
        return Reject(Rule::date_invalid, "accepted_day", "the acceptance day is the event's day");
      }
      if (PathwayHasCertificateDueDate(s.pathway) &&
          View(p->calendar_version()) == ctx.calendar->version()) {
        const auto due = ctx.calendar->AddWorkingDays(p->accepted_day(), kCertificateWorkingDays);
        if (p->due_day() != due.day || p->provisional() != due.provisional ||
            p->working_days() != kCertificateWorkingDays) {
          return Reject(Rule::date_invalid, "due_day",
                        fmt::format("20 working days after {} is {}{}",
                                    FormatIsoDay(p->accepted_day()), FormatIsoDay(due.day),
                                    due.provisional ? " (provisional)" : ""));
        }
      }
      return Rejection::None();
    }

    case Payload::CertificateReady: {
      const auto* p = e.payload_as_CertificateReady();
      if (auto r = NeedRole(e, Role::agency, "making the certificate"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::procedures_accepted, "making the certificate"); !r.ok()) return r;
      if (auto r = NeedOrg(e, s.agency_division_code, "making the certificate"); !r.ok()) return r;
      if (View(p->certificate_no()).empty()) {
        return Reject(Rule::field_empty, "certificate_no", "required");
      }
      return Rejection::None();
    }

    case Payload::CertificateCollected:
      if (auto r = NeedHolder(s, e, "collecting the certificate"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::certificate_ready, "collecting the certificate"); !r.ok()) return r;
      return NeedDueDate(s, e, "collecting the certificate");

    case Payload::CertificateIssued: {
      const auto* p = e.payload_as_CertificateIssued();
      if (auto r = NeedHolder(s, e, "issuing the certificate"); !r.ok()) return r;
      if (auto r = NeedStep(s, Step::certificate_collected, "issuing the certificate"); !r.ok()) {
        return r;
      }
      if (auto r = NeedChild(s, View(p->issued_to_child_id()), "child_id"); !r.ok()) return r;
      if (View(p->certificate_no()) != s.certificate_no) {
        return Reject(Rule::field_type, "certificate_no",
                      fmt::format("the certificate made is {}", s.certificate_no));
      }
      return NeedDueDate(s, e, "issuing the certificate");
    }

    case Payload::OverrideRecorded: {
      const auto* p = e.payload_as_OverrideRecorded();
      if (auto r = NeedRole(e, Role::agency, "an override"); !r.ok()) return r;
      if (View(p->reason_text()).empty() || View(p->legal_basis()).empty()) {
        return Reject(Rule::override_reason_missing, View(p->reason_text()).empty() ? "reason" : "legal_basis",
                      "an override states its reason and its legal basis");
      }
      if (p->kind() == fb::OverrideKind::early_certificate_issue) {
        if (auto r = NeedOrg(e, s.agency_division_code, "an early issue override");
            !r.ok() && s.step >= Step::procedures_accepted) {
          return r;
        }
        if (s.step < Step::procedures_accepted || s.step > Step::certificate_collected ||
            s.certificate_due_day == 0) {
          return Reject(Rule::override_not_applicable, "kind",
                        "an early issue override applies to a certificate with a due date that "
                        "is not yet issued");
        }
        return Rejection::None();
      }
      return Reject(Rule::override_not_applicable, "kind",
                    fmt::format("a {} override does not apply to a case",
                                fb::EnumNameOverrideKind(p->kind())));
    }

    default:
      return Reject(Rule::command_unknown, "command",
                    fmt::format("{} is not a case event", fb::EnumNamePayload(e.payload_type())));
  }
}

}  // namespace shebao::domain
