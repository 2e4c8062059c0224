// End-to-end tests of the three enrollment pathways (DOMAIN.md), through the command path:
// JSONL line -> parse -> rules against the folded state -> atomic append.
#include "tests/domain_test_util.h"

using namespace shebao;
using namespace shebao::testing;
using domain::Rule;
using domain::Step;

namespace {

const std::string kSchool = SchoolUscc();

Cmd SchoolCmd(std::string_view name, std::string_view at, std::string_view child = kChild) {
  return std::move(Cmd(name, at).Actor("school", kSchool, "teacher-07").Case(child, 2026));
}
Cmd GuardianCmd(std::string_view name, std::string_view at, std::string_view child = kChild,
                std::string_view guardian = kGuardian) {
  return std::move(Cmd(name, at).Actor("guardian", "", guardian).Case(child, 2026));
}
Cmd AgencyCmd(std::string_view name, std::string_view at, std::string_view child = kChild) {
  return std::move(Cmd(name, at).Actor("agency", kAgency, "staff-311").Case(child, 2026));
}
Cmd BankCmd(std::string_view name, std::string_view at, std::string_view child = kChild) {
  return std::move(Cmd(name, at).Actor("bank", kBank, "teller-42").Case(child, 2026));
}
Cmd CivilCmd(std::string_view name, std::string_view at, std::string_view child = kChild) {
  return std::move(Cmd(name, at).Actor("civil_affairs", kCivilAffairs, "ca-09").Case(child, 2026));
}

Cmd Declare(std::string_view at, std::string_view child = kChild) {
  return std::move(GuardianCmd("declare", at, child)
                       .Str("child_name", "王小明")
                       .Str("guardian_id", kGuardian)
                       .Str("guardian_name", "王建国")
                       .Str("relationship", "father")
                       .Str("household_division_code", "110105"));
}

// The school pathway up to the given step (inclusive).
void SchoolUpTo(DomainLedger& l, Step last) {
  l.Ok(SchoolCmd("issue_materials", "2025-09-01T09:00:00").Str("pathway", "school"));
  if (last == Step::materials_issued) return;
  l.Ok(Declare("2025-09-03T20:15:00"));
  if (last == Step::declared) return;
  l.Ok(GuardianCmd("submit_materials", "2025-09-04T08:00:00").Str("to_org", kSchool));
  if (last == Step::materials_submitted) return;
  l.Ok(SchoolCmd("review", "2025-09-08T10:00:00").Str("stage", "school").Str("outcome", "accepted"));
  if (last == Step::org_reviewed) return;
  l.Ok(SchoolCmd("forward_to_agency", "2025-09-09T10:00:00").Str("agency_division_code", kAgency));
  if (last == Step::forwarded) return;
  l.Ok(AgencyCmd("receive", "2025-09-10T10:00:00").Str("receipt_no", "RCV-1"));
  if (last == Step::agency_received) return;
  l.Ok(AgencyCmd("review", "2025-09-11T10:00:00").Str("stage", "agency").Str("outcome", "accepted"));
  if (last == Step::agency_reviewed) return;
  l.Ok(AgencyCmd("enter_info", "2025-09-11T11:00:00"));
  if (last == Step::info_entered) return;
  l.Ok(AgencyCmd("establish_account", "2025-09-12T10:00:00").Str("account_no", "ACC-1"));
  if (last == Step::account_established) return;
  l.Ok(BankCmd("collect_premium", "2025-09-20T10:00:00").Num("amount_fen", 40'000).Str("bank_ref", "ICBC-1"));
  if (last == Step::premium_collected) return;
  l.Ok(SchoolCmd("request_certificate", "2025-09-22T10:00:00"));
  if (last == Step::certificate_requested) return;
  l.Ok(SchoolCmd("print_certificate_list", "2025-09-22T11:00:00").Str("list_no", "L-1"));
  if (last == Step::list_printed) return;
  l.Ok(SchoolCmd("pay_certificate_fee", "2025-09-23T10:00:00").Num("amount_fen", 1000).Str("receipt_no", "R-1"));
  if (last == Step::fee_paid) return;
  l.Ok(AgencyCmd("accept_certificate_procedures", "2025-09-25T10:00:00"));
  if (last == Step::procedures_accepted) return;
  l.Ok(AgencyCmd("certificate_ready", "2025-10-20T10:00:00").Str("certificate_no", "CERT-0001"));
}

}  // namespace

TEST_CASE("pathway 1 (school): every step from materials to certificate issue") {
  DomainLedger l;
  SchoolUpTo(l, Step::certificate_ready);
  auto s = l.Case(kChild, 2026);
  CHECK(s.step == Step::certificate_ready);
  // Acceptance on 2025-09-25; National Day 2025 (Oct 1-8 off, Sep 28 and Oct 11 make-up days):
  // the 20th working day after, the acceptance day not counted, is 2025-10-29.
  CHECK(domain::FormatIsoDay(s.certificate_due_day) == "2025-10-29");
  CHECK_FALSE(s.due_provisional);
  CHECK(s.calendar_version == l.calendar().version());

  // Received the day before the due date: refused. On the due date: accepted.
  l.Refused(SchoolCmd("collect_certificate", "2025-10-28T10:00:00"), Rule::certificate_before_due_date, "at");
  l.Ok(SchoolCmd("collect_certificate", "2025-10-29T10:00:00"));
  l.Ok(SchoolCmd("issue_certificate", "2025-10-30T10:00:00"));

  s = l.Case(kChild, 2026);
  CHECK(s.step == Step::certificate_issued);
  CHECK(s.pathway == fb::Pathway::school);
  CHECK(s.premium_fen == 40'000);
  CHECK(s.subsidy_fen == 70'000);
  CHECK(s.certificate_fee_fen == 1000);
  CHECK(s.certificate_no == "CERT-0001");
  // First enrollment through a school: no waiting period; paid in the concentrated period.
  CHECK(s.coverage == fb::CoverageStatus::active);
  CHECK(s.waiting_months == 0);
  CHECK(domain::FormatIsoDay(s.coverage_effective_day) == "2026-01-01");
  CHECK(domain::NextStepOf(s).step == Step::none);

  uint64_t checked = 0;
  CHECK(l.store().VerifyChain(&checked).ok());
}

TEST_CASE("pathway 2 (not in school): the guardian deals with the agency directly") {
  DomainLedger l;
  const std::string child = kChild3;  // Shanghai, born 2018
  auto agency = [&](std::string_view name, std::string_view at) {
    return std::move(Cmd(name, at).Actor("agency", "310115", "sh-staff-2").Case(child, 2026));
  };
  auto guardian = [&](std::string_view name, std::string_view at) {
    return std::move(Cmd(name, at).Actor("guardian", "", kGuardian2).Case(child, 2026));
  };
  l.Ok(agency("issue_materials", "2026-02-02T09:00:00").Str("pathway", "not_in_school"));
  // A school cannot take part in this pathway.
  l.Refused(Cmd("forward_to_agency", "2026-02-03T09:00:00")
                .Actor("school", kSchool, "t")
                .Case(child, 2026)
                .Str("agency_division_code", "310115"),
            Rule::wrong_actor_for_pathway);
  l.Ok(guardian("declare", "2026-02-03T09:00:00")
           .Str("child_name", "李小华")
           .Str("guardian_id", kGuardian2)
           .Str("guardian_name", "李强")
           .Str("relationship", "mother")
           .Str("household_division_code", "310115")
           .Bool("settled_outside_city", true));
  l.Refused(guardian("submit_materials", "2026-02-04T09:00:00").Str("to_org", "110105"),
            Rule::wrong_organisation, "to_org");
  l.Ok(guardian("submit_materials", "2026-02-04T09:00:00").Str("to_org", "310115"));
  l.Ok(agency("receive", "2026-02-05T09:00:00"));
  l.Ok(agency("review", "2026-02-06T09:00:00").Str("stage", "agency").Str("outcome", "accepted"));
  l.Ok(agency("enter_info", "2026-02-06T10:00:00"));
  l.Ok(agency("establish_account", "2026-02-06T11:00:00").Str("account_no", "SH-ACC-9"));
  l.Ok(Cmd("collect_premium", "2026-03-10T09:00:00")
           .Actor("bank", kBank, "t-1")
           .Case(child, 2026)
           .Num("amount_fen", 40'000)
           .Str("bank_ref", "BOC-77"));
  auto s = l.Case(child, 2026);
  // Outside the concentrated period, never covered, not via a school: 3 months' wait.
  CHECK(s.coverage == fb::CoverageStatus::active);
  CHECK(s.waiting_months == 3);
  CHECK(domain::FormatIsoDay(s.coverage_effective_day) == "2026-06-10");
  CHECK(domain::NextStepOf(s).owner == fb::Role::guardian);

  l.Ok(guardian("request_certificate", "2026-03-11T09:00:00"));
  l.Ok(guardian("print_certificate_list", "2026-03-11T09:10:00").Str("list_no", "SH-L-1"));
  l.Ok(guardian("pay_certificate_fee", "2026-03-11T09:20:00").Num("amount_fen", 1000).Str("receipt_no", "SH-R-1"));
  l.Ok(agency("accept_certificate_procedures", "2026-03-11T09:30:00"));
  l.Ok(agency("certificate_ready", "2026-03-13T09:00:00").Str("certificate_no", "SH-CERT-1"));
  // The source text sets no 20-working-day wait on this pathway.
  l.Ok(guardian("collect_certificate", "2026-03-13T15:00:00"));
  l.Ok(guardian("issue_certificate", "2026-03-13T16:00:00"));
  s = l.Case(child, 2026);
  CHECK(s.step == Step::certificate_issued);
  CHECK(s.certificate_due_day == 0);
}

TEST_CASE("pathway 3 (low income): civil affairs, the government pays the individual share") {
  DomainLedger l;
  l.Ok(CivilCmd("issue_materials", "2025-10-08T09:00:00").Str("pathway", "low_income"));
  // The declaration comes after the sealed list on this pathway.
  l.Refused(Declare("2025-10-09T09:00:00"), Rule::step_out_of_order);
  l.Ok(GuardianCmd("confirm_low_income_list", "2025-10-09T09:00:00")
           .Str("list_no", "MZ-2025-001")
           .Str("low_income_certificate_no", "DB-110105-0042")
           .Bool("sealed", true));
  l.Ok(Declare("2025-10-09T10:00:00"));
  l.Ok(GuardianCmd("submit_materials", "2025-10-09T11:00:00").Str("to_org", kCivilAffairs));
  l.Refused(SchoolCmd("review", "2025-10-10T09:00:00").Str("stage", "school").Str("outcome", "accepted"),
            Rule::wrong_actor_for_pathway);
  l.Ok(CivilCmd("review", "2025-10-10T09:00:00").Str("stage", "civil_affairs").Str("outcome", "accepted"));
  l.Ok(CivilCmd("forward_to_agency", "2025-10-10T10:00:00").Str("agency_division_code", kAgency));
  l.Ok(AgencyCmd("receive", "2025-10-11T09:00:00"));  // a make-up working day (Saturday)
  l.Ok(AgencyCmd("review", "2025-10-13T09:00:00").Str("stage", "agency").Str("outcome", "accepted"));
  l.Ok(AgencyCmd("enter_info", "2025-10-13T10:00:00"));
  l.Ok(AgencyCmd("establish_account", "2025-10-13T11:00:00").Str("account_no", "MZ-ACC"));
  l.Ok(BankCmd("collect_premium", "2025-10-20T09:00:00").Num("amount_fen", 40'000).Str("bank_ref", "CA-PAY-1"));
  auto s = l.Case(kChild, 2026);
  CHECK(s.step == Step::premium_collected);
  CHECK(s.premium_fen == 40'000);   // paid by civil affairs, recorded as a subsidy
  CHECK(s.subsidy_fen == 70'000);   // the government subsidy
  CHECK(s.waiting_months == 0);     // low-income certificate: no waiting period
  std::vector<ledger::RecordedEvent> events;
  REQUIRE(l.store().ReadStream(domain::CaseStreamId(2026, kChild), s.version - 2,
                               ledger::Direction::forward, 3, &events).ok());
  REQUIRE(events.size() == 3);
  REQUIRE(events[0].event()->payload_type() == fb::Payload::SubsidyRecorded);
  CHECK(events[0].event()->payload_as_SubsidyRecorded()->payer() == fb::PayerKind::civil_affairs);
  CHECK(events[1].event()->payload_as_SubsidyRecorded()->payer() == fb::PayerKind::government_subsidy);
  CHECK(events[2].event()->payload_type() == fb::Payload::CoverageStatusChanged);

  l.Ok(CivilCmd("request_certificate", "2025-10-21T09:00:00"));
  l.Ok(CivilCmd("print_certificate_list", "2025-10-21T09:30:00").Str("list_no", "MZ-L-1"));
  l.Ok(CivilCmd("pay_certificate_fee", "2025-10-21T10:00:00").Num("amount_fen", 1000).Str("receipt_no", "MZ-R-1"));
  l.Ok(AgencyCmd("accept_certificate_procedures", "2025-10-22T09:00:00"));
  l.Ok(AgencyCmd("certificate_ready", "2025-11-05T09:00:00").Str("certificate_no", "MZ-CERT-1"));
  s = l.Case(kChild, 2026);
  CHECK(domain::FormatIsoDay(s.certificate_due_day) == "2025-11-19");
  // Early issue needs an explicit override with reason and legal basis.
  l.Refused(CivilCmd("collect_certificate", "2025-11-06T09:00:00"), Rule::certificate_before_due_date);
  l.Ok(AgencyCmd("record_override", "2025-11-06T08:00:00")
           .Str("kind", "early_certificate_issue")
           .Str("reason", "child hospitalised, certificate needed at once")
           .Str("legal_basis", "agency rule 12: urgent medical need"));
  l.Ok(CivilCmd("collect_certificate", "2025-11-06T09:00:00"));
  l.Ok(CivilCmd("issue_certificate", "2025-11-06T10:00:00"));
  s = l.Case(kChild, 2026);
  CHECK(s.step == Step::certificate_issued);
  CHECK(s.early_issue_override_position != 0);
}

TEST_CASE("returns for correction, a failed collection, a retry and a refund") {
  DomainLedger l;
  SchoolUpTo(l, Step::materials_submitted);
  // The school returns the materials: back to the guardian, who resubmits.
  l.Refused(SchoolCmd("review", "2025-09-05T10:00:00").Str("stage", "school").Str("outcome", "returned_for_correction"),
            Rule::reason_missing, "reason");
  l.Ok(SchoolCmd("review", "2025-09-05T10:00:00")
           .Str("stage", "school").Str("outcome", "returned_for_correction").Str("reason", "photo missing"));
  auto s = l.Case(kChild, 2026);
  CHECK(s.step == Step::declared);
  CHECK(s.returned_for_correction);
  l.Refused(SchoolCmd("forward_to_agency", "2025-09-06T10:00:00").Str("agency_division_code", kAgency),
            Rule::step_out_of_order);
  l.Ok(GuardianCmd("submit_materials", "2025-09-06T10:00:00").Str("to_org", kSchool).Bool("resubmission", true));
  l.Ok(SchoolCmd("review", "2025-09-08T10:00:00").Str("stage", "school").Str("outcome", "accepted"));
  l.Ok(SchoolCmd("forward_to_agency", "2025-09-09T10:00:00").Str("agency_division_code", kAgency));
  l.Ok(AgencyCmd("receive", "2025-09-10T10:00:00"));
  // The agency returns it: back to the school, which submits again.
  l.Ok(AgencyCmd("review", "2025-09-11T10:00:00")
           .Str("stage", "agency").Str("outcome", "returned_for_correction").Str("reason", "wrong household code"));
  CHECK(l.Case(kChild, 2026).step == Step::org_reviewed);
  l.Ok(SchoolCmd("forward_to_agency", "2025-09-12T10:00:00").Str("agency_division_code", kAgency));
  l.Ok(AgencyCmd("receive", "2025-09-12T11:00:00"));
  l.Ok(AgencyCmd("review", "2025-09-15T10:00:00").Str("stage", "agency").Str("outcome", "accepted"));
  l.Ok(AgencyCmd("enter_info", "2025-09-15T11:00:00"));
  l.Ok(AgencyCmd("establish_account", "2025-09-15T12:00:00").Str("account_no", "ACC-1"));
  // The bank fails, then retries.
  l.Ok(BankCmd("collection_failed", "2025-09-20T10:00:00").Num("amount_fen", 40'000).Str("reason", "insufficient funds"));
  l.Refused(SchoolCmd("request_certificate", "2025-09-21T10:00:00"), Rule::premium_not_collected);
  auto collected = l.Ok(BankCmd("collect_premium", "2025-09-27T10:00:00").Num("amount_fen", 40'000).Str("bank_ref", "ICBC-2"));
  s = l.Case(kChild, 2026);
  CHECK(s.failed_collections == 1);
  CHECK(s.premium_position == collected.first_position);
  // A refund names the payment it answers.
  l.Refused(AgencyCmd("refund_payment", "2025-10-09T10:00:00")
                .Num("original_position", 1).Num("amount_fen", 40'000).Str("refund_ref", "RF-1").Str("reason", "x"),
            Rule::payment_not_found, "original_position");
  l.Refused(AgencyCmd("refund_payment", "2025-10-09T10:00:00")
                .Num("original_position", static_cast<int64_t>(collected.first_position))
                .Num("amount_fen", 40'001).Str("refund_ref", "RF-1").Str("reason", "x"),
            Rule::refund_exceeds_payment, "amount_fen");
  l.Ok(AgencyCmd("refund_payment", "2025-10-09T10:00:00")
           .Num("original_position", static_cast<int64_t>(collected.first_position))
           .Num("amount_fen", 40'000).Str("refund_ref", "RF-1").Str("reason", "enrolled in another city"));
  s = l.Case(kChild, 2026);
  CHECK(s.step == Step::refunded);
  CHECK(s.coverage == fb::CoverageStatus::refunded);
  CHECK(s.refunded_fen == 40'000);
  // Closed: nothing more, but a new application can start.
  l.Refused(SchoolCmd("request_certificate", "2025-10-10T10:00:00"), Rule::case_closed);
  l.Ok(SchoolCmd("issue_materials", "2025-10-10T10:00:00").Str("pathway", "school"));
  CHECK(l.Case(kChild, 2026).attempt == 2);
}

TEST_CASE("a reversed payment goes back to collection, the bank reference stays taken") {
  DomainLedger l;
  SchoolUpTo(l, Step::premium_collected);
  const auto s = l.Case(kChild, 2026);
  l.Ok(BankCmd("reverse_payment", "2025-09-21T10:00:00")
           .Num("original_position", static_cast<int64_t>(s.premium_position))
           .Str("reason", "duplicate debit"));
  auto after = l.Case(kChild, 2026);
  CHECK(after.step == Step::account_established);
  CHECK(after.coverage == fb::CoverageStatus::pending);
  l.Refused(BankCmd("collect_premium", "2025-09-22T10:00:00").Num("amount_fen", 40'000).Str("bank_ref", "ICBC-1"),
            Rule::bank_ref_taken, "bank_ref");
  l.Ok(BankCmd("collect_premium", "2025-09-22T10:00:00").Num("amount_fen", 40'000).Str("bank_ref", "ICBC-1B"));
  CHECK(l.Case(kChild, 2026).coverage == fb::CoverageStatus::active);
}

TEST_CASE("idempotency: the same command twice appends once, the same key for another is refused") {
  DomainLedger l;
  auto cmd = SchoolCmd("issue_materials", "2025-09-01T09:00:00").Str("pathway", "school").Key("k-1");
  auto first = l.Ok(cmd);
  CHECK_FALSE(first.duplicate);
  // The same action under a new key is a second application: refused.
  l.Refused(SchoolCmd("issue_materials", "2025-09-01T09:00:00").Str("pathway", "school").Key("k-2"),
            Rule::case_already_active, "child_id");
  auto again = l.Ok(cmd);
  CHECK(again.duplicate);
  CHECK(again.first_position == first.first_position);
  // Same key, other content.
  l.Refused(SchoolCmd("issue_materials", "2025-09-02T09:00:00").Str("pathway", "school").Key("k-1"),
            Rule::idempotency_conflict, "key");
}

TEST_CASE("a pilot USCC that fails its checksum needs a recorded override") {
  DomainLedger l;
  const std::string pilot = "91350100M0001TGQXM";
  auto issue = Cmd("issue_materials", "2025-09-01T09:00:00")
                   .Actor("school", pilot, "t-1").Case(kChild2, 2026).Str("pathway", "school");
  l.Refused(issue, Rule::uscc_checksum, "actor.org");
  l.Refused(Cmd("record_override", "2025-08-30T09:00:00")
                .Actor("agency", kAgency, "staff-1").Str("kind", "pilot_uscc_checksum")
                .Str("uscc", "91350100M000100Y43").Str("reason", "r").Str("legal_basis", "b"),
            Rule::override_not_applicable, "uscc");
  l.Ok(Cmd("record_override", "2025-08-30T09:00:00")
           .Actor("agency", kAgency, "staff-1").Str("kind", "pilot_uscc_checksum").Str("uscc", pilot)
           .Str("reason", "registered in the 2015 pilot before the checksum rule")
           .Str("legal_basis", "GB 32100-2015 transition; agency notice 2015-7"));
  l.Ok(issue);
}

namespace {

// A not-in-school case for coverage_year, paid on pay_day (YYYY-MM-DD), all steps that day.
void CollectedNotInSchool(DomainLedger& l, int year, std::string_view pay_day) {
  const std::string at = fmt::format("{}T09:00:00", pay_day);
  auto agency = [&](std::string_view name, int minute) {
    return std::move(Cmd(name, fmt::format("{}T10:{:02}:00", pay_day, minute))
                         .Actor("agency", "110105", "s").Case(kChild, year));
  };
  auto guardian = [&](std::string_view name, int minute) {
    return std::move(Cmd(name, fmt::format("{}T09:{:02}:00", pay_day, minute))
                         .Actor("guardian", "", kGuardian).Case(kChild, year));
  };
  l.Ok(Cmd("issue_materials", at).Actor("agency", "110105", "s").Case(kChild, year).Str("pathway", "not_in_school"));
  l.Ok(guardian("declare", 10).Str("child_name", "王小明").Str("guardian_id", kGuardian)
           .Str("guardian_name", "王建国").Str("relationship", "father").Str("household_division_code", "110105"));
  l.Ok(guardian("submit_materials", 20).Str("to_org", "110105"));
  l.Ok(agency("receive", 1));
  l.Ok(agency("review", 2).Str("stage", "agency").Str("outcome", "accepted"));
  l.Ok(agency("enter_info", 3));
  l.Ok(agency("establish_account", 4).Str("account_no", fmt::format("A-{}", year)));
  l.Ok(Cmd("collect_premium", fmt::format("{}T11:00:00", pay_day)).Actor("bank", kBank, "t")
           .Case(kChild, year).Num("amount_fen", 40'000).Str("bank_ref", fmt::format("P-{}", year)));
}

}  // namespace

TEST_CASE("waiting period: a lapsed year after earlier coverage waits 3 months (2025 rules)") {
  DomainLedger l;
  CollectedNotInSchool(l, 2024, "2023-10-16");  // in the concentrated period: no wait
  auto s2024 = l.Case(kChild, 2024);
  CHECK(s2024.waiting_months == 0);
  CHECK(domain::FormatIsoDay(s2024.coverage_effective_day) == "2024-01-01");
  // 2025 not covered; 2026 paid in the concentrated period after a 1-year lapse.
  CollectedNotInSchool(l, 2026, "2025-10-15");
  auto s2026 = l.Case(kChild, 2026);
  CHECK(s2026.waiting_months == 3);
  CHECK(domain::FormatIsoDay(s2026.coverage_effective_day) == "2026-01-15");
}

TEST_CASE("waiting period: continuous coverage paid in the concentrated period has none") {
  DomainLedger l;
  CollectedNotInSchool(l, 2025, "2024-11-05");
  CollectedNotInSchool(l, 2026, "2025-11-05");
  auto s = l.Case(kChild, 2026);
  CHECK(s.waiting_months == 0);
  CHECK(domain::FormatIsoDay(s.coverage_effective_day) == "2026-01-01");
}

TEST_CASE("projections: rebuilt from the log, byte-identical to the live ones") {
  DomainLedger l;
  SchoolUpTo(l, Step::certificate_ready);
  CollectedNotInSchool(l, 2025, "2024-11-05");
  const auto live = l.DumpProjections();
  CHECK(live.count(domain::CaseKey(kChild, 2026)) == 1);
  CHECK(live.count(domain::CaseKey(kChild, 2025)) == 1);
  // The 2026 school case is open (certificate to collect): it is in agency 110105's queue.
  CHECK(live.count(domain::QueueKey("110105", kChild, 2026)) == 1);
  REQUIRE(l.store().RebuildProjections(nullptr).ok());
  CHECK(l.DumpProjections() == live);
}
