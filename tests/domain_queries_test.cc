// The records the ledger answers, from the projections and as of an earlier position.
#include "ledger/domain/queries.h"
#include "tests/domain_test_util.h"

using namespace shebao;
using namespace shebao::testing;
using domain::Step;

namespace {

const std::string kSchool = SchoolUscc();

Cmd As(std::string_view role, std::string_view org, std::string_view name, std::string_view at) {
  return std::move(Cmd(name, at).Actor(role, org, role == "guardian" ? kGuardian : "staff-1").Case(kChild, 2026));
}

// A school case paid on 2025-09-10, certificate fee paid, procedures accepted.
uint64_t SchoolCase(DomainLedger& l) {
  l.Ok(Cmd("issue_materials", "2025-09-01T09:00:00").Actor("school", kSchool, "t").Case(kChild, 2026).Str("pathway", "school"));
  l.Ok(As("guardian", "", "declare", "2025-09-03T10:00:00").Str("child_name", "王小明").Str("guardian_id", kGuardian)
           .Str("guardian_name", "王建国").Str("relationship", "father").Str("household_division_code", "110105"));
  l.Ok(As("guardian", "", "submit_materials", "2025-09-04T10:00:00").Str("to_org", kSchool));
  l.Ok(As("school", kSchool, "review", "2025-09-05T10:00:00").Str("stage", "school").Str("outcome", "accepted"));
  l.Ok(As("school", kSchool, "forward_to_agency", "2025-09-05T11:00:00").Str("agency_division_code", "110105"));
  l.Ok(As("agency", "110105", "receive", "2025-09-08T10:00:00"));
  l.Ok(As("agency", "110105", "review", "2025-09-08T11:00:00").Str("stage", "agency").Str("outcome", "accepted"));
  l.Ok(As("agency", "110105", "enter_info", "2025-09-08T12:00:00"));
  l.Ok(As("agency", "110105", "establish_account", "2025-09-08T13:00:00").Str("account_no", "A-1"));
  l.Ok(As("bank", kBank, "collection_failed", "2025-09-09T10:00:00").Num("amount_fen", 40'000).Str("reason", "no funds"));
  const uint64_t before_payment = l.store().head().position;
  l.Ok(As("bank", kBank, "collect_premium", "2025-09-10T10:00:00").Num("amount_fen", 40'000).Str("bank_ref", "B-1"));
  l.Ok(As("school", kSchool, "request_certificate", "2025-09-11T10:00:00"));
  l.Ok(As("school", kSchool, "print_certificate_list", "2025-09-11T11:00:00").Str("list_no", "L-1"));
  l.Ok(As("school", kSchool, "pay_certificate_fee", "2025-09-12T10:00:00").Num("amount_fen", 1000).Str("receipt_no", "R-1"));
  l.Ok(As("agency", "110105", "accept_certificate_procedures", "2025-09-15T10:00:00"));
  return before_payment;
}

}  // namespace

TEST_CASE("payment record: shares, subsidy, fee and failure, each with its date and channel") {
  DomainLedger l;
  SchoolCase(l);
  auto view = l.store().NewReadView();
  std::vector<domain::PaymentLine> lines;
  REQUIRE(domain::QueryPayments(*view, kChild, &lines).ok());
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].kind == fb::PaymentKind::collection_failed);
  CHECK(lines[1].kind == fb::PaymentKind::premium);
  CHECK(lines[1].amount_fen == 40'000);
  CHECK(lines[1].payer == fb::PayerKind::guardian);
  CHECK(lines[1].bank_ref == "B-1");
  CHECK(lines[1].channel == fb::Channel::bank);
  CHECK(domain::FormatIsoDay(lines[1].day) == "2025-09-10");
  CHECK(domain::FormatIsoDay(lines[1].period_start_day) == "2026-01-01");
  CHECK(domain::FormatIsoDay(lines[1].period_end_day) == "2026-12-31");
  CHECK(lines[2].kind == fb::PaymentKind::subsidy);
  CHECK(lines[2].payer == fb::PayerKind::government_subsidy);
  CHECK(lines[2].amount_fen == 70'000);
  CHECK(lines[3].kind == fb::PaymentKind::certificate_fee);
  CHECK(lines[3].amount_fen == 1000);
  CHECK(lines[0].position < lines[1].position);
}

TEST_CASE("rights record, coverage on a date, the agency's queue") {
  DomainLedger l;
  SchoolCase(l);
  auto view = l.store().NewReadView();
  std::vector<domain::CaseState> rights;
  REQUIRE(domain::QueryRights(*view, kChild, &rights).ok());
  REQUIRE(rights.size() == 1);
  CHECK(rights[0].coverage_year == 2026);
  CHECK(rights[0].coverage == fb::CoverageStatus::active);
  CHECK(rights[0].subsidy_fen == 70'000);
  CHECK(rights[0].agency_division_code == "110105");
  CHECK(domain::FormatIsoDay(rights[0].certificate_due_day) == "2025-10-17");  // incl. make-up days Sep 28, Oct 11

  CHECK(domain::CoveredOn(rights, *domain::ParseIsoDay("2026-03-01")).covered);
  CHECK_FALSE(domain::CoveredOn(rights, *domain::ParseIsoDay("2025-12-31")).covered);
  CHECK_FALSE(domain::CoveredOn(rights, *domain::ParseIsoDay("2027-01-01")).covered);

  std::vector<domain::QueueItem> queue;
  REQUIRE(domain::QueryQueue(*view, "110105", &queue).ok());
  REQUIRE(queue.size() == 1);
  CHECK(queue[0].child_id == kChild);
  CHECK(queue[0].next_step == Step::certificate_ready);
  CHECK(queue[0].owner == fb::Role::agency);
  REQUIRE(domain::QueryQueue(*view, "310115", &queue).ok());
  CHECK(queue.empty());
}

TEST_CASE("time travel: the records as of an earlier position or time") {
  DomainLedger l;
  const uint64_t before_payment = SchoolCase(l);
  std::unique_ptr<ledger::ReadView> then;
  REQUIRE(domain::ViewAsOf(l.store(), kChild, before_payment, &then).ok());
  CHECK(then->position() == before_payment);
  std::vector<domain::PaymentLine> lines;
  REQUIRE(domain::QueryPayments(*then, kChild, &lines).ok());
  REQUIRE(lines.size() == 1);  // only the failed collection
  std::vector<domain::CaseState> rights;
  REQUIRE(domain::QueryRights(*then, kChild, &rights).ok());
  REQUIRE(rights.size() == 1);
  CHECK(rights[0].step == Step::account_established);
  CHECK_FALSE(domain::CoveredOn(rights, *domain::ParseIsoDay("2026-03-01")).covered);
  // As of now, the fold equals the live projections.
  std::unique_ptr<ledger::ReadView> now;
  REQUIRE(domain::ViewAsOf(l.store(), kChild, l.store().head().position, &now).ok());
  std::vector<domain::CaseState> now_rights, live_rights;
  REQUIRE(domain::QueryRights(*now, kChild, &now_rights).ok());
  REQUIRE(domain::QueryRights(*l.store().NewReadView(), kChild, &live_rights).ok());
  CHECK(now_rights == live_rights);

  // Positions by time: the test clock advances 1 ms per event.
  std::vector<ledger::RecordedEvent> e;
  REQUIRE(l.store().ReadAll(before_payment, 1, &e).ok());
  uint64_t at = 0;
  REQUIRE(domain::PositionAtTime(l.store(), e[0].event()->recorded_us(), &at).ok());
  CHECK(at == before_payment);
  REQUIRE(domain::PositionAtTime(l.store(), 0, &at).ok());
  CHECK(at == 0);
}
