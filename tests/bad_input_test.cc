// Bad input (docs/bad-input.md): each class of malformed or implausible command is refused with
// its named rule and field, and appends nothing (the head does not move). The classes that
// tests/domain_rejections_test.cc already covers are not repeated here; this file adds the
// variants it lacks, the far-future and far-past dates (date_out_of_range), and duplicate
// idempotency keys on both execution paths (Execute and ExecuteMany, as `shebao ingest` runs).
#include "tests/domain_test_util.h"

using namespace shebao;
using namespace shebao::testing;
using domain::Rule;

namespace {

const std::string kSchool = SchoolUscc();

Cmd Issue(std::string_view child = kChild, std::string_view at = "2025-09-01T09:00:00",
          int year = 2026) {
  return std::move(Cmd("issue_materials", at)
                       .Actor("school", kSchool, "t-1").Case(child, year).Str("pathway", "school"));
}
Cmd Declare(std::string_view at, std::string_view child = kChild, int year = 2026) {
  return std::move(Cmd("declare", at)
                       .Actor("guardian", "", kGuardian).Case(child, year)
                       .Str("child_name", "王小明").Str("guardian_id", kGuardian)
                       .Str("guardian_name", "王建国").Str("relationship", "father")
                       .Str("household_division_code", "110105"));
}
Cmd Register(std::string_view at, std::string_view start_month) {
  return std::move(Cmd("register_employee", at)
                       .Actor("employer", EmployerUscc(), "hr-1").Str("employee_id", kGuardian2)
                       .Str("employee_name", "赵六").Str("start_month", start_month));
}
Cmd DeclareContribution(std::string_view at, std::string_view month) {
  return std::move(Cmd("declare_contribution", at)
                       .Actor("employer", EmployerUscc(), "hr-1").Str("employee_id", kGuardian2)
                       .Str("month", month).Num("base_fen", 800'000).Num("rate_bp", 200)
                       .Num("amount_fen", 16'000));
}

}  // namespace

TEST_CASE("malformed JSON: every variant is json_malformed or json_not_object, nothing appended") {
  DomainLedger l;
  const std::string good = Issue().Json();
  l.RefusedLine("", Rule::json_malformed);
  l.RefusedLine(good + " trailing", Rule::json_malformed);
  l.RefusedLine(good + good, Rule::json_malformed);
  l.RefusedLine("{'command':'issue_materials'}", Rule::json_malformed);
  // A lone UTF-16 surrogate in an escape is not a string simdjson accepts.
  l.RefusedLine(Issue().Str("pathway", "\\ud800").Json(), Rule::json_malformed);
  // A number beyond 64 bits cannot be parsed at all (one within them is amount_too_large).
  l.RefusedLine(Issue().Raw("coverage_year", "99999999999999999999").Json(), Rule::json_malformed);
  // A field named twice: valid JSON, but which value would count? Refused, naming the field,
  // wherever the repeat is (after the envelope's fields, or after the payload's).
  for (auto [repeat, field] : {std::pair{",\"key\":\"again\"", "key"},
                               std::pair{",\"pathway\":\"school\"", "pathway"}}) {
    std::string twice = good;
    twice.insert(twice.size() - 1, repeat);
    l.RefusedLine(twice, Rule::json_malformed, field);
  }
  l.RefusedLine("\"a string\"", Rule::json_not_object);
  l.RefusedLine("null", Rule::json_not_object);
  CHECK(l.store().head().position == 0);
}

TEST_CASE("wrong types: each names its field") {
  DomainLedger l;
  l.RefusedLine(Issue().Raw("command", "5").Json(), Rule::field_type, "command");
  l.RefusedLine(Issue().Raw("key", "null").Json(), Rule::field_type, "key");
  l.RefusedLine(Issue().Raw("at", "20250901").Json(), Rule::field_type, "at");
  l.RefusedLine(Issue().Raw("actor", "\"school\"").Json(), Rule::field_type, "actor");
  l.RefusedLine(Issue().Raw("actor", "{\"role\":\"system\",\"org\":\"x\",\"id\":\"y\"}").Json(),
                Rule::field_type, "actor.role");
  l.RefusedLine(Issue().Raw("pathway", "null").Json(), Rule::field_type, "pathway");
  l.RefusedLine(Issue().Raw("coverage_year", "2026.0").Json(), Rule::field_type, "coverage_year");
  l.RefusedLine(Issue().Str("channel", "fax").Json(), Rule::field_type, "channel");
  // An escaped control character (a raw one is not JSON at all: json_malformed).
  l.RefusedLine(Issue().Str("pathway", "school\\t").Json(), Rule::field_type, "pathway");
  l.RefusedLine(Issue().Str("pathway", "school\t").Json(), Rule::json_malformed);
  l.RefusedLine(Register("2026-01-02T10:00:00", "2026-01").Raw("start_month", "202601").Json(),
                Rule::field_type, "start_month");
  l.RefusedLine(DeclareContribution("2026-01-05T10:00:00", "2026-01").Raw("amount_fen", "1.6e4").Json(),
                Rule::field_type, "amount_fen");
  l.Ok(Issue());
  const uint64_t head = l.store().head().position;
  l.RefusedLine(Cmd("confirm_low_income_list", "2025-09-02T10:00:00").Actor("guardian", "", kGuardian)
                    .Case(kChild, 2026).Str("list_no", "1").Str("low_income_certificate_no", "2")
                    .Str("sealed", "true").Json(),
                Rule::field_type, "sealed");
  CHECK(l.store().head().position == head);
}

TEST_CASE("missing and unknown fields name the field, dotted for the actor") {
  DomainLedger l;
  l.RefusedLine(Issue().Drop("command").Json(), Rule::field_missing, "command");
  l.RefusedLine(Issue().Drop("at").Json(), Rule::field_missing, "at");
  l.RefusedLine(Issue().Drop("child_id").Json(), Rule::field_missing, "child_id");
  l.RefusedLine(Issue().Drop("coverage_year").Json(), Rule::field_missing, "coverage_year");
  l.RefusedLine(Issue().Raw("actor", "{\"org\":\"x\",\"id\":\"y\"}").Json(), Rule::field_missing,
                "actor.role");
  l.RefusedLine(Issue().Raw("actor", "{\"role\":\"school\",\"org\":\"x\"}").Json(),
                Rule::field_missing, "actor.id");
  l.RefusedLine(Issue().Raw("actor", "{\"role\":\"school\",\"id\":\"y\"}").Json(),
                Rule::field_missing, "actor.org");
  l.RefusedLine(Declare("2025-09-03T10:00:00").Drop("guardian_id").Json(), Rule::field_missing,
                "guardian_id");
  // Field names are case-sensitive; an employer command has no case fields.
  l.RefusedLine(Issue().Str("Pathway", "school").Json(), Rule::field_unknown, "Pathway");
  l.RefusedLine(Register("2026-01-02T10:00:00", "2026-01").Str("child_id", kChild).Json(),
                Rule::field_unknown, "child_id");
  CHECK(l.store().head().position == 0);
}

TEST_CASE("unknown command and invalid UTF-8 anywhere in the line") {
  DomainLedger l;
  l.RefusedLine(Issue().Str("command", "Issue_Materials").Json(), Rule::command_unknown, "command");
  l.RefusedLine(Issue().Str("command", "").Json(), Rule::field_empty, "command");
  // Invalid UTF-8 in a field name, an overlong encoding, a truncated sequence.
  l.RefusedLine("{\"comm\xff\":\"issue_materials\"}", Rule::utf8_invalid);
  l.RefusedLine(Issue().Str("pathway", "\xc0\xaf").Json(), Rule::utf8_invalid);
  l.RefusedLine(Issue().Str("pathway", "school\xe4\xb8").Json(), Rule::utf8_invalid);
  CHECK(l.store().head().position == 0);
}

TEST_CASE("the line size limit: 16384 bytes pass, one more is line_too_long") {
  DomainLedger l;
  std::string line = Issue().Json();
  line.insert(line.size() - 1, std::string(domain::kCommandLineBytesMax - line.size(), ' '));
  REQUIRE(line.size() == domain::kCommandLineBytesMax);
  std::string longer = line;
  longer.insert(longer.size() - 1, " ");
  l.RefusedLine(longer, Rule::line_too_long);
  const auto out = l.Run(line);
  CHECK_MESSAGE(out.rejection.ok(), domain::RuleName(out.rejection.rule));
  CHECK(l.store().head().position == 1);
}

TEST_CASE("identifiers of the employer commands fail their checksums") {
  DomainLedger l;
  l.RefusedLine(Register("2026-01-02T10:00:00", "2026-01").Str("employee_id", "440308199901101513").Json(),
                Rule::citizen_id_checksum, "employee_id");
  l.RefusedLine(Cmd("register_employee", "2026-01-02T10:00:00").Actor("employer", "91110000600037341M", "hr")
                    .Str("employee_id", kGuardian2).Str("employee_name", "x").Str("start_month", "2026-01")
                    .Json(),
                Rule::uscc_checksum, "actor.org");
  CHECK(l.store().head().position == 0);
}

TEST_CASE("impossible dates and times: date_invalid (field at), month_invalid (a month field)") {
  DomainLedger l;
  l.RefusedLine(Issue(kChild, "2025-02-29T09:00:00").Json(), Rule::date_invalid, "at");  // not leap
  l.RefusedLine(Issue(kChild, "2025-13-01T09:00:00").Json(), Rule::date_invalid, "at");
  l.RefusedLine(Issue(kChild, "2025-09-01T24:00:00").Json(), Rule::date_invalid, "at");
  l.RefusedLine(Issue(kChild, "2025-09-01T09:60:00").Json(), Rule::date_invalid, "at");
  l.RefusedLine(Issue(kChild, "2025-09-01").Json(), Rule::date_invalid, "at");
  l.RefusedLine(Issue(kChild, "2025-09-01T09:00:00+09:00").Json(), Rule::date_invalid, "at");
  l.RefusedLine(Issue(kChild, "2025-09-01T09:00:00Z").Json(), Rule::date_invalid, "at");
  l.RefusedLine(Register("2026-01-02T10:00:00", "2026-00").Json(), Rule::month_invalid, "start_month");
  l.RefusedLine(Register("2026-01-02T10:00:00", "2026-1").Json(), Rule::month_invalid, "start_month");
  CHECK(l.store().head().position == 0);
  l.Ok(Issue(kChild, "2024-02-29T09:00:00", 2025));  // a leap day is a real date
}

TEST_CASE("far-past and far-future dates: date_out_of_range") {
  DomainLedger l;
  // Outside the years any date may carry (1900..2100), even when the date itself is real.
  l.RefusedLine(Issue(kChild, "2101-09-01T09:00:00").Json(), Rule::date_out_of_range, "at");
  l.RefusedLine(Issue(kChild, "1899-12-31T23:59:59").Json(), Rule::date_out_of_range, "at");
  l.RefusedLine(Issue(kChild, "9999-02-30T09:00:00").Json(), Rule::date_out_of_range, "at");
  // Far past for a case: before the child was born (the materials are the first step).
  l.RefusedLine(Issue(kChild, "2014-09-01T09:00:00", 2015).Json(), Rule::citizen_id_birth_date,
                "child_id");

  // Far future for a case: its steps end by 31 December of the year after its coverage year.
  l.Ok(Issue());
  l.RefusedLine(Declare("2062-09-03T10:00:00").Json(), Rule::date_out_of_range, "at");
  l.RefusedLine(Declare("2028-01-01T00:00:00").Json(), Rule::date_out_of_range, "at");
  CHECK(l.store().head().position == 1);
  // A refused far-future date does not block the case: the next step on a real date applies.
  l.Ok(Declare("2025-09-03T10:00:00"));
  DomainLedger boundary;
  boundary.Ok(Issue());
  boundary.Ok(Declare("2027-12-31T23:59:59"));  // the last day allowed

  // Employers: not before the employee was born (1999-01-10), a month at most 12 months ahead.
  DomainLedger e;
  e.RefusedLine(Register("1950-01-02T10:00:00", "1950-01").Json(), Rule::date_out_of_range, "at");
  e.RefusedLine(Register("2026-01-02T10:00:00", "1998-12").Json(), Rule::date_out_of_range,
                "start_month");
  e.RefusedLine(Register("2026-01-02T10:00:00", "2062-01").Json(), Rule::date_out_of_range,
                "start_month");
  e.RefusedLine(Register("2026-01-02T10:00:00", "2027-02").Json(), Rule::date_out_of_range,
                "start_month");
  CHECK(e.store().head().position == 0);
  e.Ok(Register("2026-01-02T10:00:00", "2027-01"));  // exactly 12 months ahead
  e.RefusedLine(DeclareContribution("2026-01-05T10:00:00", "2090-01").Json(),
                Rule::date_out_of_range, "month");
  CHECK(e.store().head().position == 1);
}

TEST_CASE("a case dated before 1970 is judged on its own dates, not against 1970-01-01") {
  // Day 0 (1970-01-01) stood for "no step yet": the first step of a case dated before it was
  // refused as date_before_previous_step "before the case's last step on 1970-01-01".
  DomainLedger l;
  const std::string child = domain::MakeCitizenId("11010519600301001");  // born 1960-03-01
  l.Ok(Issue(child, "1969-09-01T09:00:00", 1970));
  l.Ok(Declare("1969-09-03T10:00:00", child, 1970));
  l.RefusedLine(Declare("1969-08-31T10:00:00", child, 1970).Bool("resubmission", true).Json(),
                Rule::date_before_previous_step, "at");
  CHECK(l.Case(child, 1970).last_effective_day == *domain::ParseIsoDay("1969-09-03"));
}

TEST_CASE("amounts: negative, zero and overflowing on every amount field") {
  DomainLedger l;
  l.Ok(Register("2026-01-02T10:00:00", "2026-01"));
  const uint64_t head = l.store().head().position;
  l.RefusedLine(DeclareContribution("2026-01-05T10:00:00", "2026-01").Num("base_fen", -800'000).Json(),
                Rule::amount_not_positive, "base_fen");
  l.RefusedLine(DeclareContribution("2026-01-05T10:00:00", "2026-01")
                    .Raw("amount_fen", "-9223372036854775808").Json(),
                Rule::amount_too_large, "amount_fen");
  l.RefusedLine(DeclareContribution("2026-01-05T10:00:00", "2026-01")
                    .Raw("base_fen", "9223372036854775807").Json(),
                Rule::amount_too_large, "base_fen");
  l.RefusedLine(DeclareContribution("2026-01-05T10:00:00", "2026-01").Num("rate_bp", -200).Json(),
                Rule::field_type, "rate_bp");
  l.Ok(DeclareContribution("2026-01-05T10:00:00", "2026-01"));
  auto pay = [](int64_t amount) {
    return std::move(Cmd("pay_contribution", "2026-01-06T10:00:00")
                         .Actor("employer", EmployerUscc(), "hr-1").Str("employee_id", kGuardian2)
                         .Str("month", "2026-01").Num("amount_fen", amount).Str("bank_code", kBank)
                         .Str("bank_ref", "E-1"));
  };
  const uint64_t declared = l.store().head().position;
  CHECK(declared == head + 1);
  l.RefusedLine(pay(-16'000).Json(), Rule::amount_not_positive, "amount_fen");
  l.RefusedLine(pay(0).Json(), Rule::amount_not_positive, "amount_fen");
  l.RefusedLine(pay(domain::kAmountFenMax + 1).Json(), Rule::amount_too_large, "amount_fen");
  CHECK(l.store().head().position == declared);
  l.Ok(pay(16'000));
}

TEST_CASE("a duplicate idempotency key: same content is a retry, other content is refused") {
  DomainLedger l;
  const Cmd issue = std::move(Issue().Key("dup-1"));
  const auto first = l.Ok(issue);
  // The same command reformatted (field order, +08:00) is the same content: nothing appended.
  const std::string reformatted =
      "{\"pathway\":\"school\",\"coverage_year\":2026,\"child_id\":\"" + kChild +
      "\",\"actor\":{\"id\":\"t-1\",\"org\":\"" + kSchool +
      "\",\"role\":\"school\"},\"at\":\"2025-09-01T09:00:00+08:00\",\"key\":\"dup-1\","
      "\"command\":\"issue_materials\"}";
  const auto retry = l.Run(reformatted);
  CHECK(retry.rejection.ok());
  CHECK(retry.duplicate);
  CHECK(retry.first_position == first.first_position);
  CHECK(l.store().head().position == 1);
  // Other content under the same key: refused, naming the key and the original positions.
  l.RefusedLine(Issue().Key("dup-1").Str("at", "2025-09-02T09:00:00").Json(),
                Rule::idempotency_conflict, "key");
  l.RefusedLine(Issue().Key("dup-1").Str("channel", "online").Json(), Rule::idempotency_conflict,
                "key");
  l.RefusedLine(Declare("2025-09-03T10:00:00").Key("dup-1").Json(), Rule::idempotency_conflict,
                "key");

  // Within one file (ExecuteMany, as `shebao ingest` runs): the second line with the key and
  // other content is refused even though the first is not appended yet; the same content is a
  // duplicate of it.
  DomainLedger m;
  const std::string a = Issue().Key("dup-2").Json();
  const std::string b = Issue().Key("dup-2").Str("at", "2025-09-02T09:00:00").Json();
  const auto outcomes = m.RunMany({a, b, a});
  REQUIRE(outcomes.size() == 3);
  CHECK(outcomes[0].rejection.ok());
  CHECK(!outcomes[0].duplicate);
  CHECK(outcomes[1].rejection.rule == Rule::idempotency_conflict);
  CHECK(outcomes[1].rejection.field == "key");
  CHECK(outcomes[2].rejection.ok());
  CHECK(outcomes[2].duplicate);
  CHECK(outcomes[2].first_position == outcomes[0].first_position);
  CHECK(m.store().head().position == 1);
}

TEST_CASE("a refused command leaves no trace: its key is free for the corrected command") {
  DomainLedger l;
  l.RefusedLine(Issue().Key("fix-1").Str("child_id", "110105201503010011").Json(),
                Rule::citizen_id_checksum, "child_id");
  bool found = true;
  ledger::IdempotencyInfo info;
  REQUIRE(l.store().LookupIdempotency("fix-1", &found, &info).ok());
  CHECK(!found);
  l.Ok(Issue().Key("fix-1"));
  CHECK(l.store().head().position == 1);
}
