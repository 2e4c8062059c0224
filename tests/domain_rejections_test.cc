// One test per named rejection: each refused command names its rule and field, and appends
// nothing. Parse-level rejections come first, then identifiers, money, order and actors.
#include "tests/domain_test_util.h"

using namespace shebao;
using namespace shebao::testing;
using domain::Rule;

namespace {

const std::string kSchool = SchoolUscc();

Cmd Issue(std::string_view child = kChild, std::string_view pathway = "school") {
  return std::move(Cmd("issue_materials", "2025-09-01T09:00:00")
                       .Actor("school", kSchool, "t-1").Case(child, 2026).Str("pathway", pathway));
}
Cmd As(std::string_view role, std::string_view org, std::string_view name, std::string_view at,
       std::string_view child = kChild) {
  return std::move(Cmd(name, at).Actor(role, org, role == "guardian" ? kGuardian : "staff-1").Case(child, 2026));
}
Cmd Declare(std::string_view at = "2025-09-03T10:00:00") {
  return std::move(As("guardian", "", "declare", at)
                       .Str("child_name", "王小明").Str("guardian_id", kGuardian)
                       .Str("guardian_name", "王建国").Str("relationship", "father")
                       .Str("household_division_code", "110105"));
}

// A school case at account_established (or earlier, by count of steps).
void Walk(DomainLedger& l, int steps, std::string_view household = "110105") {
  std::vector<Cmd> path = {
      Issue(),
      std::move(Declare().Str("household_division_code", household)),
      std::move(As("guardian", "", "submit_materials", "2025-09-04T10:00:00").Str("to_org", kSchool)),
      std::move(As("school", kSchool, "review", "2025-09-05T10:00:00").Str("stage", "school").Str("outcome", "accepted")),
      std::move(As("school", kSchool, "forward_to_agency", "2025-09-05T11:00:00").Str("agency_division_code", "110105")),
      As("agency", "110105", "receive", "2025-09-08T10:00:00"),
      std::move(As("agency", "110105", "review", "2025-09-08T11:00:00").Str("stage", "agency").Str("outcome", "accepted")),
      As("agency", "110105", "enter_info", "2025-09-08T12:00:00"),
      std::move(As("agency", "110105", "establish_account", "2025-09-08T13:00:00").Str("account_no", "A-1")),
      std::move(As("bank", kBank, "collect_premium", "2025-09-10T10:00:00").Num("amount_fen", 40'000).Str("bank_ref", "B-1")),
      As("school", kSchool, "request_certificate", "2025-09-11T10:00:00"),
      std::move(As("school", kSchool, "print_certificate_list", "2025-09-11T11:00:00").Str("list_no", "L-1")),
  };
  for (int i = 0; i < steps; ++i) l.Ok(path[static_cast<size_t>(i)]);
}

}  // namespace

TEST_CASE("rejections of the input's shape") {
  DomainLedger l;
  const std::string good = Issue().Json();
  l.RefusedLine("{\"command\":\"issue_materials\",", Rule::json_malformed);
  l.RefusedLine("[1,2,3]", Rule::json_not_object);
  l.RefusedLine(std::string(domain::kCommandLineBytesMax + 1, ' '), Rule::line_too_long);
  l.RefusedLine(Issue().Str("pathway", "sch\xff\xfe").Json(), Rule::utf8_invalid);
  l.RefusedLine(Issue().Drop("pathway").Json(), Rule::field_missing, "pathway");
  l.RefusedLine(Issue().Drop("key").Json(), Rule::field_missing, "key");
  l.RefusedLine(Issue().Drop("actor").Json(), Rule::field_missing, "actor");
  l.RefusedLine(Issue().Str("colour", "blue").Json(), Rule::field_unknown, "colour");
  l.RefusedLine(Issue().Raw("actor", "{\"role\":\"school\",\"org\":\"x\",\"id\":\"y\",\"hat\":1}").Json(),
                Rule::field_unknown, "actor.hat");
  l.RefusedLine(Issue().Str("pathway", "by_post").Json(), Rule::field_type, "pathway");
  l.RefusedLine(Issue().Raw("coverage_year", "\"2026\"").Json(), Rule::field_type, "coverage_year");
  l.RefusedLine(Issue().Str("pathway", "").Json(), Rule::field_empty, "pathway");
  l.RefusedLine(Issue().Str("pathway", std::string(300, 's')).Json(), Rule::field_too_long, "pathway");
  l.RefusedLine(Cmd("teleport", "2025-09-01T09:00:00").Actor("school", kSchool, "t").Json(),
                Rule::command_unknown, "command");
  l.RefusedLine(Issue().Str("at", "2025-02-30T10:00:00").Json(), Rule::date_invalid, "at");
  l.RefusedLine(Issue().Key("has space").Json(), Rule::field_type, "key");
  l.RefusedLine("{\"command\":\"issue_materials\",\"command\":\"declare\"}", Rule::json_malformed);
  CHECK(l.store().head().position == 0);
}

TEST_CASE("rejections of identifiers") {
  DomainLedger l;
  l.RefusedLine(Issue("11010520150301001").Json(), Rule::citizen_id_length, "child_id");
  l.RefusedLine(Issue("11010520150301001x").Json(), Rule::citizen_id_charset, "child_id");
  l.RefusedLine(Issue("110105201503010011").Json(), Rule::citizen_id_checksum, "child_id");
  l.RefusedLine(Issue(domain::MakeCitizenId("11010520150230001")).Json(), Rule::citizen_id_birth_date,
                "child_id");
  l.RefusedLine(Cmd("issue_materials", "2025-09-01T09:00:00").Actor("school", "1211010", "t")
                    .Case(kChild, 2026).Str("pathway", "school").Json(),
                Rule::uscc_length, "actor.org");
  l.RefusedLine(Cmd("issue_materials", "2025-09-01T09:00:00").Actor("school", "12110105MB001234IO", "t")
                    .Case(kChild, 2026).Str("pathway", "school").Json(),
                Rule::uscc_charset, "actor.org");
  l.RefusedLine(Cmd("issue_materials", "2025-09-01T09:00:00").Actor("school", "91350100M0001TGQXM", "t")
                    .Case(kChild, 2026).Str("pathway", "school").Json(),
                Rule::uscc_checksum, "actor.org");
  l.RefusedLine(Cmd("issue_materials", "2025-09-01T09:00:00").Actor("agency", "11010", "t")
                    .Case(kChild, 2026).Str("pathway", "not_in_school").Json(),
                Rule::division_code_invalid, "actor.org");
  l.Ok(Issue());
  l.RefusedLine(Declare().Str("household_division_code", "11010X").Json(), Rule::division_code_invalid,
                "household_division_code");
  l.RefusedLine(Declare().Str("guardian_id", "11010519491231002Y").Json(), Rule::citizen_id_charset,
                "guardian_id");
  // An adult: 18 or older on 1 January of the coverage year.
  const std::string adult = domain::MakeCitizenId("11010520050601001");
  l.RefusedLine(Issue(adult).Json(), Rule::not_a_minor_on_coverage_date, "child_id");
  // Born on 2008-01-01: 18 on 2026-01-01, no longer a minor that day.
  const std::string eighteen = domain::MakeCitizenId("11010520080101001");
  l.RefusedLine(Issue(eighteen).Json(), Rule::not_a_minor_on_coverage_date, "child_id");
  const std::string seventeen = domain::MakeCitizenId("11010520080102001");
  l.Ok(Issue(seventeen));
}

TEST_CASE("rejections of dates, years and money") {
  DomainLedger l;
  l.RefusedLine(Cmd("issue_materials", "2025-09-01T09:00:00").Actor("school", kSchool, "t")
                    .Case(kChild, 2030).Str("pathway", "school").Json(),
                Rule::coverage_year_out_of_range, "coverage_year");
  Walk(l, 1);
  l.RefusedLine(Declare("2025-08-31T10:00:00").Json(), Rule::date_before_previous_step, "at");
  Walk(l, 0);
  DomainLedger m;
  Walk(m, 9);
  auto collect = [](int64_t amount, std::string_view ref) {
    return std::move(As("bank", kBank, "collect_premium", "2025-09-10T10:00:00")
                         .Num("amount_fen", amount).Str("bank_ref", ref));
  };
  m.RefusedLine(collect(39'999, "B-9").Json(), Rule::amount_mismatch, "amount_fen");
  m.RefusedLine(collect(0, "B-9").Json(), Rule::amount_not_positive, "amount_fen");
  m.RefusedLine(collect(-40'000, "B-9").Json(), Rule::amount_not_positive, "amount_fen");
  m.RefusedLine(collect(domain::kAmountFenMax + 1, "B-9").Json(), Rule::amount_too_large, "amount_fen");
  m.RefusedLine(collect(40'000, "B-9").Raw("amount_fen", "400.5").Json(), Rule::field_type, "amount_fen");
  m.RefusedLine(collect(40'000, "B-9").Raw("amount_fen", "18446744073709551615").Json(),
                Rule::amount_too_large, "amount_fen");
  m.RefusedLine(As("bank", "银行", "collect_premium", "2025-09-10T10:00:00").Num("amount_fen", 40'000)
                    .Str("bank_ref", "B-9").Json(),
                Rule::bank_code_invalid, "actor.org");
  m.Ok(collect(40'000, "B-9"));
  m.RefusedLine(collect(40'000, "B-10").Json(), Rule::premium_already_collected);
  // A region with no configured rate.
  DomainLedger u;
  Walk(u, 9, "650102");
  u.RefusedLine(collect(40'000, "B-1").Json(), Rule::premium_rate_unknown, "household_division_code");
}

TEST_CASE("rejections of order and actors") {
  DomainLedger l;
  l.RefusedLine(Declare().Json(), Rule::case_not_found, "child_id");
  l.RefusedLine(Cmd("issue_materials", "2025-09-01T09:00:00").Actor("agency", "110105", "s")
                    .Case(kChild, 2026).Str("pathway", "school").Json(),
                Rule::wrong_actor_for_pathway, "actor.role");
  Walk(l, 1);
  l.RefusedLine(Issue().Key("again").Json(), Rule::case_already_active, "child_id");
  l.RefusedLine(As("school", kSchool, "declare", "2025-09-03T10:00:00").Str("child_name", "x")
                    .Str("guardian_id", kGuardian).Str("guardian_name", "y").Str("relationship", "father")
                    .Str("household_division_code", "110105").Json(),
                Rule::wrong_actor_for_step, "actor.role");
  l.RefusedLine(As("agency", "110105", "enter_info", "2025-09-03T10:00:00").Json(), Rule::step_out_of_order);
  l.RefusedLine(As("guardian", "", "confirm_low_income_list", "2025-09-03T10:00:00").Str("list_no", "1")
                    .Str("low_income_certificate_no", "2").Bool("sealed", true).Json(),
                Rule::pathway_mismatch);
  l.Ok(As("guardian", "", "withdraw", "2025-09-03T10:00:00").Str("reason", "moving"));  // before collection
  l.RefusedLine(Declare().Json(), Rule::case_closed, "child_id");

  DomainLedger m;
  Walk(m, 3);
  m.RefusedLine(As("school", domain::MakeUscc("52110105MA0000001"), "review", "2025-09-05T10:00:00")
                    .Str("stage", "school").Str("outcome", "accepted").Json(),
                Rule::wrong_organisation, "actor.org");
  m.RefusedLine(As("school", kSchool, "review", "2025-09-05T10:00:00").Str("stage", "school")
                    .Str("outcome", "refused").Json(),
                Rule::reason_missing, "reason");
  DomainLedger c;
  Walk(c, 8);
  c.RefusedLine(As("bank", kBank, "collect_premium", "2025-09-10T10:00:00").Num("amount_fen", 40'000)
                    .Str("bank_ref", "B-1").Json(),
                Rule::collection_account_missing);
  c.Ok(As("agency", "110105", "establish_account", "2025-09-08T13:00:00").Str("account_no", "A-1"));
  c.RefusedLine(As("school", kSchool, "request_certificate", "2025-09-11T10:00:00").Json(),
                Rule::premium_not_collected);
  c.Ok(As("bank", kBank, "collect_premium", "2025-09-10T10:00:00").Num("amount_fen", 40'000).Str("bank_ref", "B-1"));
  c.RefusedLine(As("guardian", "", "withdraw", "2025-09-11T10:00:00").Str("reason", "x").Json(),
                Rule::withdrawal_after_collection);
  c.RefusedLine(As("school", kSchool, "print_certificate_list", "2025-09-11T10:00:00").Str("list_no", "L").Json(),
                Rule::certificate_not_requested);
  c.Ok(As("school", kSchool, "request_certificate", "2025-09-11T10:00:00"));
  c.Ok(As("school", kSchool, "print_certificate_list", "2025-09-11T11:00:00").Str("list_no", "L-1"));
  c.RefusedLine(As("agency", "110105", "accept_certificate_procedures", "2025-09-12T10:00:00").Json(),
                Rule::certificate_fee_unpaid);
  c.RefusedLine(As("school", kSchool, "pay_certificate_fee", "2025-09-12T10:00:00").Num("amount_fen", 40'000)
                    .Str("receipt_no", "R").Json(),
                Rule::amount_mismatch, "amount_fen");
  c.RefusedLine(As("agency", "110105", "record_override", "2025-09-12T10:00:00").Str("kind", "early_certificate_issue")
                    .Str("reason", "r").Str("legal_basis", "b").Json(),
                Rule::override_not_applicable, "kind");
}

TEST_CASE("employer contributions: register, declare, pay, arrears") {
  DomainLedger l;
  const std::string employer = EmployerUscc();
  const std::string employee = kGuardian2;
  auto emp = [&](std::string_view name, std::string_view at) {
    return std::move(Cmd(name, at).Actor("employer", employer, "hr-1").Str("employee_id", employee));
  };
  l.RefusedLine(emp("declare_contribution", "2026-01-05T10:00:00").Str("month", "2026-01")
                    .Num("base_fen", 800'000).Num("rate_bp", 200).Num("amount_fen", 16'000).Json(),
                Rule::employee_not_registered, "employee_id");
  l.Ok(emp("register_employee", "2026-01-02T10:00:00").Str("employee_name", "赵六").Str("start_month", "2026-01"));
  l.RefusedLine(emp("register_employee", "2026-01-03T10:00:00").Str("employee_name", "赵六")
                    .Str("start_month", "2026-01").Json(),
                Rule::employee_already_registered, "employee_id");
  l.RefusedLine(emp("register_employee", "2026-01-03T10:00:00").Str("employee_name", "x")
                    .Str("start_month", "2026-13").Json(),
                Rule::month_invalid, "start_month");
  for (std::string_view month : {"2026-01", "2026-02", "2026-03"}) {
    l.Ok(emp("declare_contribution", "2026-03-01T10:00:00").Str("month", month)
             .Num("base_fen", 800'000).Num("rate_bp", 200).Num("amount_fen", 16'000));
  }
  l.RefusedLine(emp("declare_contribution", "2026-03-02T10:00:00").Str("month", "2026-01")
                    .Num("base_fen", 800'000).Num("rate_bp", 200).Num("amount_fen", 16'000).Json(),
                Rule::contribution_already_declared, "month");
  l.RefusedLine(emp("declare_contribution", "2026-03-02T10:00:00").Str("month", "2026-04")
                    .Num("base_fen", 800'000).Num("rate_bp", 200).Num("amount_fen", 16'001).Json(),
                Rule::amount_mismatch, "amount_fen");
  l.RefusedLine(emp("pay_contribution", "2026-03-03T10:00:00").Str("month", "2026-05").Num("amount_fen", 16'000)
                    .Str("bank_code", kBank).Str("bank_ref", "E-1").Json(),
                Rule::contribution_not_declared, "month");
  l.Ok(emp("pay_contribution", "2026-03-03T10:00:00").Str("month", "2026-01").Num("amount_fen", 16'000)
           .Str("bank_code", kBank).Str("bank_ref", "E-1"));
  l.RefusedLine(emp("pay_contribution", "2026-03-04T10:00:00").Str("month", "2026-01").Num("amount_fen", 16'000)
                    .Str("bank_code", kBank).Str("bank_ref", "E-2").Json(),
                Rule::contribution_already_paid, "month");
  l.Ok(emp("pay_contribution", "2026-03-04T10:00:00").Str("month", "2026-02").Num("amount_fen", 16'000)
           .Str("bank_code", kBank).Str("bank_ref", "E-2"));
  const auto st = l.Employment(employer, employee);
  CHECK(st.registered);
  CHECK(st.months.size() == 3);
  int months = 0;
  // On 2026-04-10, March has ended unpaid: 1 month, 160 yuan in arrears.
  CHECK(domain::ArrearsFen(st, *domain::ParseIsoDay("2026-04-10"), &months) == 16'000);
  CHECK(months == 1);
  // During March it is not yet in arrears.
  CHECK(domain::ArrearsFen(st, *domain::ParseIsoDay("2026-03-20"), &months) == 0);
  // Another employer cannot write this employee's record (their stream is their own).
  l.RefusedLine(Cmd("pay_contribution", "2026-03-05T10:00:00").Actor("employer", "91350100M000100Y43", "x")
                    .Str("employee_id", employee).Str("month", "2026-03").Num("amount_fen", 16'000)
                    .Str("bank_code", kBank).Str("bank_ref", "E-3").Json(),
                Rule::contribution_not_declared, "month");
}

TEST_CASE("rejections of payments: reversals by the collecting bank, whole refunds only") {
  DomainLedger l;
  Walk(l, 9);
  l.RefusedLine(As("bank", kBank, "collection_failed", "2025-09-09T10:00:00").Num("amount_fen", 0)
                    .Str("reason", "no funds").Json(),
                Rule::amount_not_positive, "amount_fen");
  auto paid = l.Ok(As("bank", kBank, "collect_premium", "2025-09-10T10:00:00").Num("amount_fen", 40'000)
                       .Str("bank_ref", "B-1"));
  const auto premium = static_cast<int64_t>(paid.first_position);
  l.RefusedLine(As("bank", "103100000026", "reverse_payment", "2025-09-11T10:00:00")
                    .Num("original_position", premium).Str("reason", "x").Json(),
                Rule::wrong_organisation, "actor.org");
  l.RefusedLine(As("agency", "110105", "refund_payment", "2025-09-11T10:00:00")
                    .Num("original_position", premium).Num("amount_fen", 20'000)
                    .Str("refund_ref", "RF-1").Str("reason", "x").Json(),
                Rule::amount_mismatch, "amount_fen");
  l.RefusedLine(As("agency", "310115", "refund_payment", "2025-09-11T10:00:00")
                    .Num("original_position", premium).Num("amount_fen", 40'000)
                    .Str("refund_ref", "RF-1").Str("reason", "x").Json(),
                Rule::wrong_organisation, "actor.org");
  // An employer payment may reuse a reference a premium used: they are different claims.
  const std::string employer = EmployerUscc();
  auto emp = [&](std::string_view name, std::string_view at) {
    return std::move(Cmd(name, at).Actor("employer", employer, "hr-1").Str("employee_id", kGuardian2));
  };
  l.Ok(emp("register_employee", "2026-01-02T10:00:00").Str("employee_name", "赵六").Str("start_month", "2026-01"));
  l.Ok(emp("declare_contribution", "2026-01-05T10:00:00").Str("month", "2026-01")
           .Num("base_fen", 800'000).Num("rate_bp", 200).Num("amount_fen", 16'000));
  l.Ok(emp("pay_contribution", "2026-01-06T10:00:00").Str("month", "2026-01").Num("amount_fen", 16'000)
           .Str("bank_code", kBank).Str("bank_ref", "B-1"));
}

TEST_CASE("a guardian acts under a valid citizen ID") {
  DomainLedger l;
  Walk(l, 1);
  l.RefusedLine(Cmd("withdraw", "2025-09-03T10:00:00").Actor("guardian", "", "11010519491231002Y")
                    .Case(kChild, 2026).Str("reason", "x").Json(),
                Rule::citizen_id_charset, "actor.id");
  l.RefusedLine(Cmd("withdraw", "2025-09-03T10:00:00").Actor("guardian", "", "110105194912310021")
                    .Case(kChild, 2026).Str("reason", "x").Json(),
                Rule::citizen_id_checksum, "actor.id");
}
