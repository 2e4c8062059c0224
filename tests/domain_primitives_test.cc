// Domain primitives: identifiers, working days, premium rates, waiting periods.
// Examples are those of /work/shared/DOMAIN.md; holiday dates are those of data/holiday-cn.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "ledger/domain/calendar.h"
#include "ledger/domain/command.h"
#include "ledger/domain/command_handler.h"
#include "ledger/domain/dates.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/premium_table.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/rocks_options.h"
#include "ledger/sha256.h"
#include "ledger/domain/rule.h"
#include "ledger/domain/waiting_period.h"
#include "tests/test_util.h"

using namespace shebao::domain;
using shebao::ledger::Code;
using shebao::ledger::Status;
using shebao::testing::TempDir;

namespace {

const std::string kDataDir = SHEBAO_DATA_DIR;
const std::string kHolidayDir = kDataDir + "/holiday-cn";

Day D(std::string_view iso) {
  const std::optional<Day> day = ParseIsoDay(iso);
  REQUIRE(day.has_value());
  return *day;
}

void WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

const WorkingDayCalendar& Calendar() {
  static const WorkingDayCalendar* calendar = [] {
    auto* c = new WorkingDayCalendar;
    const Status s = WorkingDayCalendar::Load(kHolidayDir, c);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return c;
  }();
  return *calendar;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Citizen IDs (GB 11643-1999)

TEST_CASE("citizen id: DOMAIN.md valid examples") {
  for (const char* id : {"11010519491231002X", "440308199901101512", "810000199408230021",
                         "110105201503010010", "440305201208150026", "310115201801010035",
                         "510107201006300049"}) {
    CAPTURE(id);
    CHECK(CheckCitizenId(id) == Rule::ok);
  }
}

TEST_CASE("citizen id: residence permits and unknown address codes are accepted") {
  CHECK(CheckCitizenId("810000199408230021") == Rule::ok);  // Hong Kong
  CHECK(CheckCitizenId(MakeCitizenId("82000020100101002")) == Rule::ok);  // Macau
  CHECK(CheckCitizenId(MakeCitizenId("83000020100101003")) == Rule::ok);  // Taiwan
  CHECK(CheckCitizenId(MakeCitizenId("99999920100101004")) == Rule::ok);  // no such code
}

TEST_CASE("citizen id: MakeCitizenId reproduces the examples, including an X check char") {
  CHECK(MakeCitizenId("11010519491231002") == "11010519491231002X");
  CHECK(MakeCitizenId("11010520150301001") == "110105201503010010");
  CHECK(MakeCitizenId("51010720100630004") == "510107201006300049");
}

TEST_CASE("citizen id: invalid ones name the rule") {
  CHECK(CheckCitizenId("110105201503010011") == Rule::citizen_id_checksum);  // wrong check char
  CHECK(CheckCitizenId("110105201503010X10") == Rule::citizen_id_charset);
  CHECK(CheckCitizenId("11010519491231002x") == Rule::citizen_id_charset);  // lower-case x
  CHECK(CheckCitizenId("11010519491231002Y") == Rule::citizen_id_charset);
  CHECK(CheckCitizenId("") == Rule::citizen_id_length);
  CHECK(CheckCitizenId("11010520150301001") == Rule::citizen_id_length);
  CHECK(CheckCitizenId("1101052015030100100") == Rule::citizen_id_length);
  // Right checksum, impossible birth dates.
  CHECK(CheckCitizenId(MakeCitizenId("11010520150230001")) == Rule::citizen_id_birth_date);
  CHECK(CheckCitizenId(MakeCitizenId("11010520151301001")) == Rule::citizen_id_birth_date);
  CHECK(CheckCitizenId(MakeCitizenId("11010520150100001")) == Rule::citizen_id_birth_date);
  CHECK(CheckCitizenId(MakeCitizenId("11010518991231001")) == Rule::citizen_id_birth_date);
  CHECK(CheckCitizenId(MakeCitizenId("11010520130229001")) == Rule::citizen_id_birth_date);
  CHECK(CheckCitizenId(MakeCitizenId("11010520120229001")) == Rule::ok);  // leap year
}

TEST_CASE("citizen id: birth day") {
  CHECK(CitizenIdBirthDay("110105201503010010") == D("2015-03-01"));
  CHECK(CitizenIdBirthDay("11010519491231002X") == D("1949-12-31"));
  CHECK(CitizenIdBirthDay("440305201208150026") == D("2012-08-15"));
  CHECK_FALSE(CitizenIdBirthDay("110105201503010011").has_value());
  CHECK_FALSE(CitizenIdBirthDay(MakeCitizenId("11010520150230001")).has_value());
  CHECK_FALSE(CitizenIdBirthDay("short").has_value());
}

TEST_CASE("citizen id: the minors of DOMAIN.md are minors on 2026-01-01, the adults are not") {
  const Day coverage = D("2026-01-01");
  for (const char* id : {"110105201503010010", "440305201208150026", "310115201801010035",
                         "510107201006300049"}) {
    CAPTURE(id);
    CHECK(IsMinorOn(*CitizenIdBirthDay(id), coverage));
  }
  for (const char* id : {"11010519491231002X", "440308199901101512", "810000199408230021"}) {
    CAPTURE(id);
    CHECK_FALSE(IsMinorOn(*CitizenIdBirthDay(id), coverage));
  }
}

TEST_CASE("IsMinorOn around the 18th birthday") {
  const Day birth = D("2008-03-15");
  CHECK(IsMinorOn(birth, D("2026-03-14")));
  CHECK_FALSE(IsMinorOn(birth, D("2026-03-15")));  // the birthday itself: adult
  CHECK_FALSE(IsMinorOn(birth, D("2026-03-16")));
  CHECK(IsMinorOn(birth, birth));
  // 510107201006300049 turns 18 on 2028-06-30.
  const Day child = *CitizenIdBirthDay("510107201006300049");
  CHECK(IsMinorOn(child, D("2028-06-29")));
  CHECK_FALSE(IsMinorOn(child, D("2028-06-30")));
}

TEST_CASE("IsMinorOn: born on 29 February, adult on 1 March of the 18th year") {
  const Day birth = D("2008-02-29");
  CHECK(IsMinorOn(birth, D("2026-02-28")));
  CHECK_FALSE(IsMinorOn(birth, D("2026-03-01")));
}

TEST_CASE("MaskCitizenId") {
  CHECK(MaskCitizenId("110105201503010010") == "110105********0010");
  CHECK(MaskCitizenId("11010519491231002X") == "110105********002X");
  CHECK(MaskCitizenId("12345") == "*****");
  CHECK(MaskCitizenId("") == "");
  CHECK(MaskCitizenId("1101052015030100100") == "*******************");
}

// ---------------------------------------------------------------------------------------------
// Unified Social Credit Codes (GB 32100-2015) and division codes

TEST_CASE("uscc: valid examples and MakeUscc") {
  CHECK(CheckUscc("91350100M000100Y43") == Rule::ok);
  CHECK(CheckUscc("91110000600037341L") == Rule::ok);
  CHECK(MakeUscc("91350100M000100Y4") == "91350100M000100Y43");
  CHECK(MakeUscc("91110000600037341") == "91110000600037341L");
  const std::string school = MakeUscc("12110105400000001");  // a public institution (12...)
  CHECK(CheckUscc(school) == Rule::ok);
}

TEST_CASE("uscc: the pilot code fails the checksum") {
  CHECK(CheckUscc("91350100M0001TGQXM") == Rule::uscc_checksum);
  CHECK(CheckUscc("91350100M000100Y44") == Rule::uscc_checksum);
}

TEST_CASE("uscc: I, O, S, V, Z and lower case are outside the charset") {
  for (char bad : {'I', 'O', 'S', 'V', 'Z', 'a', 'm', '-', ' '}) {
    std::string code = "91350100M000100Y43";
    code[8] = bad;
    CAPTURE(code);
    CHECK(CheckUscc(code) == Rule::uscc_charset);
  }
  CHECK(CheckUscc("91350100M000100Y4S") == Rule::uscc_charset);  // in the check position too
}

TEST_CASE("uscc: length") {
  CHECK(CheckUscc("") == Rule::uscc_length);
  CHECK(CheckUscc("91350100M000100Y4") == Rule::uscc_length);
  CHECK(CheckUscc("91350100M000100Y433") == Rule::uscc_length);
}

TEST_CASE("division codes") {
  for (const char* ok : {"110000", "110105", "440300", "810000", "510107"}) {
    CAPTURE(ok);
    CHECK(CheckDivisionCode(ok) == Rule::ok);
  }
  for (const char* bad : {"", "11010", "1101050", "011000", "11010A", " 11010", "11-105"}) {
    CAPTURE(bad);
    CHECK(CheckDivisionCode(bad) == Rule::division_code_invalid);
  }
}

// ---------------------------------------------------------------------------------------------
// Working days (Civil Code Art. 201; State Council holiday schedules)

TEST_CASE("calendar: loads the shipped data, 2020-2026 published, 2027 not") {
  const WorkingDayCalendar& c = Calendar();
  CHECK(c.published_years() == std::set<int>{2020, 2021, 2022, 2023, 2024, 2025, 2026});
  CHECK(c.version().rfind("holiday-cn/2020-2026/sha256:", 0) == 0);
  // Pinned: recorded due dates cite this version; it changes only when the data does.
  CHECK(c.version() == "holiday-cn/2020-2026/sha256:37992ac51ad413fe");
}

TEST_CASE("calendar: Spring Festival 2026 (off 02-15..02-23, make-up Sat 02-14 and Sat 02-28)") {
  const WorkingDayCalendar& c = Calendar();
  CHECK(Weekday(D("2026-02-14")) == 5);
  CHECK(c.IsWorkingDay(D("2026-02-14")));  // Saturday make-up day
  for (Day d = D("2026-02-15"); d <= D("2026-02-23"); ++d) {
    CAPTURE(FormatIsoDay(d));
    CHECK_FALSE(c.IsWorkingDay(d));
  }
  CHECK(c.IsWorkingDay(D("2026-02-24")));
  CHECK(c.IsWorkingDay(D("2026-02-28")));  // Saturday make-up day
  CHECK_FALSE(c.IsWorkingDay(D("2026-03-01")));  // ordinary Sunday
  // 20 working days after Tue 2026-02-10: 02-11..02-14 (4), 02-24..02-28 (9), 03-02..03-16 (20).
  const auto due = c.AddWorkingDays(D("2026-02-10"), 20);
  CHECK(FormatIsoDay(due.day) == "2026-03-16");
  CHECK_FALSE(due.provisional);
  // The day before the holiday: the make-up Saturday is the 1st, the next is after the break.
  CHECK(FormatIsoDay(c.AddWorkingDays(D("2026-02-13"), 1).day) == "2026-02-14");
  CHECK(FormatIsoDay(c.AddWorkingDays(D("2026-02-13"), 2).day) == "2026-02-24");
}

TEST_CASE("calendar: National Day 2025 (off 10-01..10-08, make-up Sun 09-28 and Sat 10-11)") {
  const WorkingDayCalendar& c = Calendar();
  CHECK(Weekday(D("2025-09-28")) == 6);
  CHECK(c.IsWorkingDay(D("2025-09-28")));  // Sunday make-up day
  CHECK_FALSE(c.IsWorkingDay(D("2025-09-27")));  // ordinary Saturday
  for (Day d = D("2025-10-01"); d <= D("2025-10-08"); ++d) {
    CAPTURE(FormatIsoDay(d));
    CHECK_FALSE(c.IsWorkingDay(d));
  }
  CHECK(c.IsWorkingDay(D("2025-10-09")));
  CHECK(c.IsWorkingDay(D("2025-10-11")));  // Saturday make-up day
  CHECK_FALSE(c.IsWorkingDay(D("2025-10-12")));
  // 20 working days after Thu 2025-09-25: 09-26, 09-28, 09-29, 09-30 (4), 10-09, 10-10,
  // 10-11 (7), 10-13..10-29 (20).
  const auto due = c.AddWorkingDays(D("2025-09-25"), 20);
  CHECK(FormatIsoDay(due.day) == "2025-10-29");
  CHECK_FALSE(due.provisional);  // in 2025: final
  CHECK(FormatIsoDay(c.AddWorkingDays(D("2025-09-26"), 1).day) == "2025-09-28");
}

TEST_CASE("calendar: the start day is not counted (Civil Code Art. 201)") {
  const WorkingDayCalendar& c = Calendar();
  CHECK(FormatIsoDay(c.AddWorkingDays(D("2025-03-03"), 1).day) == "2025-03-04");  // Mon -> Tue
  CHECK(FormatIsoDay(c.AddWorkingDays(D("2025-03-07"), 1).day) == "2025-03-10");  // Fri -> Mon
  CHECK(FormatIsoDay(c.AddWorkingDays(D("2025-03-08"), 1).day) == "2025-03-10");  // Sat -> Mon
  CHECK(FormatIsoDay(c.AddWorkingDays(D("2025-10-01"), 1).day) == "2025-10-09");  // holiday
  CHECK(FormatIsoDay(c.AddWorkingDays(D("2025-03-03"), 5).day) == "2025-03-10");
}

TEST_CASE("calendar: a holiday of the next year reaching back (2022-12-31 in 2023.json)") {
  const WorkingDayCalendar& c = Calendar();
  CHECK_FALSE(c.IsWorkingDay(D("2022-12-31")));
  CHECK(c.IsFinal(D("2022-12-31")));
}

TEST_CASE("calendar: finality and provisional due dates") {
  const WorkingDayCalendar& c = Calendar();
  CHECK(c.IsFinal(D("2025-12-31")));  // 2026 is published
  CHECK(c.IsFinal(D("2026-11-30")));
  CHECK_FALSE(c.IsFinal(D("2026-12-01")));  // 2027 New Year may reach back
  CHECK_FALSE(c.IsFinal(D("2027-01-04")));
  CHECK_FALSE(c.IsFinal(D("2019-06-03")));  // before the data

  // Crossing into 2027 (unpublished): 2027-01-01 counts as an ordinary Friday for now.
  const auto across = c.AddWorkingDays(D("2026-12-20"), 20);
  CHECK(FormatIsoDay(across.day) == "2027-01-15");
  CHECK(across.provisional);
  // Entirely in late 2026, but December depends on the 2027 schedule.
  const auto december = c.AddWorkingDays(D("2026-12-01"), 5);
  CHECK(FormatIsoDay(december.day) == "2026-12-08");
  CHECK(december.provisional);
  // December 2025 is final: 2026 is published.
  const auto final_2025 = c.AddWorkingDays(D("2025-12-01"), 5);
  CHECK(FormatIsoDay(final_2025.day) == "2025-12-08");
  CHECK_FALSE(final_2025.provisional);
  CHECK_FALSE(c.AddWorkingDays(D("2026-11-02"), 5).provisional);
  const auto new_year = c.AddWorkingDays(D("2025-12-10"), 20);  // across 2026 New Year (01-01..03)
  CHECK(FormatIsoDay(new_year.day) == "2026-01-08");
  CHECK_FALSE(new_year.provisional);
}

TEST_CASE("calendar: an empty calendar is Monday-Friday and never final") {
  const WorkingDayCalendar c;
  CHECK(c.IsWorkingDay(D("2025-10-01")));
  CHECK_FALSE(c.IsWorkingDay(D("2025-10-04")));
  CHECK(c.AddWorkingDays(D("2025-10-03"), 1).day == D("2025-10-06"));
  CHECK(c.AddWorkingDays(D("2025-10-03"), 1).provisional);
}

TEST_CASE("calendar: version is stable for the same data and changes with it") {
  WorkingDayCalendar a, b;
  REQUIRE(WorkingDayCalendar::Load(kHolidayDir, &a).ok());
  REQUIRE(WorkingDayCalendar::Load(kHolidayDir, &b).ok());
  CHECK(a.version() == b.version());

  TempDir dir("calendar");
  for (const auto& entry : std::filesystem::directory_iterator(kHolidayDir)) {
    std::filesystem::copy_file(entry.path(), dir.sub(entry.path().filename().string()));
  }
  std::filesystem::remove(dir.sub("LICENSE"));
  WorkingDayCalendar copy;
  REQUIRE(WorkingDayCalendar::Load(dir.path(), &copy).ok());
  CHECK(copy.version() == a.version());

  // Publishing 2027 changes the version and the range.
  WriteFile(dir.sub("2027.json"),
            R"({"year": 2027, "papers": ["https://example.invalid/notice"], "days": [
                 {"name": "元旦", "date": "2027-01-01", "isOffDay": true}]})");
  WorkingDayCalendar published;
  REQUIRE(WorkingDayCalendar::Load(dir.path(), &published).ok());
  CHECK(published.version() != a.version());
  CHECK(published.version().rfind("holiday-cn/2020-2027/sha256:", 0) == 0);
  CHECK_FALSE(published.IsWorkingDay(D("2027-01-01")));
  CHECK_FALSE(published.AddWorkingDays(D("2026-12-01"), 5).provisional);
  CHECK(FormatIsoDay(published.AddWorkingDays(D("2026-12-20"), 20).day) == "2027-01-18");
}

TEST_CASE("calendar: load errors name the file and the field") {
  TempDir dir("calendar");
  WorkingDayCalendar c;

  Status s = WorkingDayCalendar::Load(dir.path(), &c);
  CHECK(s.code() == Code::not_found);  // no year file
  s = WorkingDayCalendar::Load(dir.sub("missing"), &c);
  CHECK(s.code() == Code::not_found);

  WriteFile(dir.sub("README.txt"), "not a year file, ignored");
  WriteFile(dir.sub("2026.json"), "{ \"year\": 2026, \"days\": [ ");
  s = WorkingDayCalendar::Load(dir.path(), &c);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(s.message().find("2026.json") != std::string::npos);
  CHECK(c.version().empty());  // *out unchanged

  WriteFile(dir.sub("2026.json"), R"({"year": 2026, "papers": [], "days": [
      {"name": "a", "date": "2026-01-01", "isOffDay": true},
      {"name": "b", "date": "2026-01-02", "isOffDay": true},
      {"name": "c", "date": "2026-01-03", "isOffDay": true},
      {"name": "d", "date": "2026-02-30", "isOffDay": true}]})");
  s = WorkingDayCalendar::Load(dir.path(), &c);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(s.message() == "2026.json: days[3].date: not a date");

  WriteFile(dir.sub("2026.json"), R"({"year": 2026, "papers": [], "days": [
      {"name": "a", "date": "2026-01-01", "isOffDay": "yes"}]})");
  s = WorkingDayCalendar::Load(dir.path(), &c);
  CHECK(s.message() == "2026.json: days[0].isOffDay: not a boolean");

  WriteFile(dir.sub("2026.json"), R"({"year": 2025, "papers": [], "days": []})");
  s = WorkingDayCalendar::Load(dir.path(), &c);
  CHECK(s.message() == "2026.json: year: 2025 does not match the file name");

  WriteFile(dir.sub("2026.json"), R"({"year": 2026, "papers": [], "days": [
      {"name": "a", "date": "2028-01-01", "isOffDay": true}]})");
  s = WorkingDayCalendar::Load(dir.path(), &c);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(s.message().find("2026.json: days[0].date") == 0);

  // One date listed twice with different answers.
  WriteFile(dir.sub("2026.json"), R"({"year": 2026, "papers": [], "days": [
      {"name": "a", "date": "2025-12-31", "isOffDay": true}]})");
  WriteFile(dir.sub("2025.json"), R"({"year": 2025, "papers": [], "days": [
      {"name": "a", "date": "2025-12-31", "isOffDay": false}]})");
  s = WorkingDayCalendar::Load(dir.path(), &c);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(s.message() == "2026.json: days[0].isOffDay: 2025-12-31 contradicts 2025.json");

  // Listed twice with the same answer: fine. Empty papers and days: not published.
  WriteFile(dir.sub("2025.json"), R"({"year": 2025, "papers": [], "days": [
      {"name": "a", "date": "2025-12-31", "isOffDay": true}]})");
  WriteFile(dir.sub("2027.json"), R"({"year": 2027, "papers": [], "days": []})");
  s = WorkingDayCalendar::Load(dir.path(), &c);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(c.published_years() == std::set<int>{2025, 2026});
}

// ---------------------------------------------------------------------------------------------
// Premium table

TEST_CASE("premiums: shipped data") {
  PremiumTable table;
  const Status s = PremiumTable::Load(kDataDir + "/premiums.json", &table);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  CHECK(table.version() == "premiums/2026-1");

  PremiumTable::Rate rate;
  CHECK(table.Lookup("110105", 2025, &rate).ok());  // Beijing Chaoyang: province rate
  CHECK(rate.region == "110000");
  CHECK(rate.individual_fen == 40000);
  CHECK(rate.subsidy_fen == 70000);
  CHECK(rate.certificate_fee_fen == 1000);
  CHECK(table.Lookup("310115", 2024, &rate).ok());  // Shanghai Pudong
  CHECK(rate.region == "310000");
  CHECK(rate.subsidy_fen == 67000);
  CHECK(table.Lookup("440305", 2026, &rate).ok());  // Shenzhen Nanshan: city rate
  CHECK(rate.region == "440300");
  CHECK(rate.source.find("CARRIED FORWARD") != std::string::npos);
  CHECK(table.Lookup("510107", 2025, &rate).ok());  // Chengdu Wuhou
  CHECK(rate.region == "510100");

  const Rejection guangzhou = table.Lookup("440106", 2025, &rate);  // no 440000 or 440100
  CHECK(guangzhou.rule == Rule::premium_rate_unknown);
  CHECK(guangzhou.field == "household_division_code");
  const Rejection old_year = table.Lookup("110105", 2023, &rate);
  CHECK(old_year.rule == Rule::premium_rate_unknown);
  CHECK(table.Lookup("110105", 2027, &rate).rule == Rule::premium_rate_unknown);
  CHECK(table.Lookup("11010", 2025, &rate).rule == Rule::division_code_invalid);
}

TEST_CASE("premiums: the most specific region wins") {
  TempDir dir("premiums");
  WriteFile(dir.sub("p.json"), R"({"version": "test/1", "source": "test", "rates": [
      {"region": "110000", "coverage_year": 2026, "individual_fen": 100, "subsidy_fen": 1,
       "certificate_fee_fen": 0},
      {"region": "110100", "coverage_year": 2026, "individual_fen": 200, "subsidy_fen": 2,
       "certificate_fee_fen": 0},
      {"region": "110105", "coverage_year": 2026, "individual_fen": 300, "subsidy_fen": 3,
       "certificate_fee_fen": 0, "source": "exact"}]})");
  PremiumTable table;
  REQUIRE(PremiumTable::Load(dir.sub("p.json"), &table).ok());
  PremiumTable::Rate rate;
  CHECK(table.Lookup("110105", 2026, &rate).ok());
  CHECK(rate.individual_fen == 300);
  CHECK(rate.source == "exact");
  CHECK(table.Lookup("110108", 2026, &rate).ok());
  CHECK(rate.individual_fen == 200);
  CHECK(rate.region == "110100");
  CHECK(table.Lookup("110100", 2026, &rate).ok());
  CHECK(rate.individual_fen == 200);
  CHECK(table.Lookup("112233", 2026, &rate).ok());
  CHECK(rate.individual_fen == 100);
  CHECK(table.Lookup("120105", 2026, &rate).rule == Rule::premium_rate_unknown);
  CHECK(table.Lookup("110105", 2025, &rate).rule == Rule::premium_rate_unknown);
}

TEST_CASE("premiums: load errors name the entry and field") {
  TempDir dir("premiums");
  const std::string path = dir.sub("premiums.json");
  auto load = [&](std::string_view rates) {
    WriteFile(path, std::string(R"({"version": "test/1", "source": "t", "rates": [)") +
                        std::string(rates) + "]}");
    PremiumTable table;
    return PremiumTable::Load(path, &table);
  };
  const std::string good =
      R"({"region": "110000", "coverage_year": 2025, "individual_fen": 40000,
          "subsidy_fen": 70000, "certificate_fee_fen": 1000})";
  CHECK(load(good).ok());
  CHECK(load(good + "," + good).message() ==
        "premiums.json: rates[1]: region 110000 coverage_year 2025 repeats rates[0]");
  CHECK(load(good + R"(, {"region": "110000", "coverage_year": 2026, "individual_fen": -1,
        "subsidy_fen": 0, "certificate_fee_fen": 0})")
            .message() == "premiums.json: rates[1].individual_fen: -1 is outside 0..999999999");
  CHECK(load(R"({"region": "110000", "coverage_year": 2025, "individual_fen": 400.5,
        "subsidy_fen": 0, "certificate_fee_fen": 0})")
            .message() == "premiums.json: rates[0].individual_fen: not an integer");
  CHECK(load(R"({"region": "110000", "coverage_year": 2025, "individual_fen": 0,
        "subsidy_fen": 1000000000, "certificate_fee_fen": 0})")
            .message()
            .find("rates[0].subsidy_fen") != std::string::npos);
  CHECK(load(R"({"region": "11000", "coverage_year": 2025, "individual_fen": 0,
        "subsidy_fen": 0, "certificate_fee_fen": 0})")
            .message() == "premiums.json: rates[0].region: not a 6-digit division code");
  CHECK(load(R"({"region": "110000", "coverage_year": 1999, "individual_fen": 0,
        "subsidy_fen": 0, "certificate_fee_fen": 0})")
            .message() == "premiums.json: rates[0].coverage_year: 1999 is outside 2000..2100");
  CHECK(load(R"({"region": "110000", "coverage_year": 2025, "individual_fen": 0,
        "subsidy_fen": 0})")
            .message() == "premiums.json: rates[0].certificate_fee_fen: missing");
  CHECK(load(R"({"region": "110000", "coverage_year": 2025, "individual_fen": 0,
        "subsidy_fen": 0, "certificate_fee_fen": 0, "subsidy": 1})")
            .message() == "premiums.json: rates[0].subsidy: unknown field");

  WriteFile(path, "{\"version\": ");
  PremiumTable table;
  Status s = PremiumTable::Load(path, &table);
  CHECK(s.code() == Code::invalid_argument);
  CHECK(s.message().find("premiums.json: not valid JSON") == 0);
  CHECK(PremiumTable::Load(dir.sub("missing.json"), &table).code() == Code::io_error);
  CHECK(table.version().empty());
}

// ---------------------------------------------------------------------------------------------
// Waiting period (国办发〔2024〕38号)

namespace {

WaitingInput Input(std::string_view payment, int coverage_year) {
  WaitingInput in;
  in.payment_day = D(payment);
  in.coverage_year = coverage_year;
  in.birth_day = D("2015-03-01");
  in.in_concentrated_period = InConcentratedPeriod(in.payment_day, coverage_year);
  return in;
}

}  // namespace

TEST_CASE("waiting: concentrated period boundaries") {
  CHECK_FALSE(InConcentratedPeriod(D("2025-08-31"), 2026));
  CHECK(InConcentratedPeriod(D("2025-09-01"), 2026));
  CHECK(InConcentratedPeriod(D("2025-12-31"), 2026));
  CHECK_FALSE(InConcentratedPeriod(D("2026-01-01"), 2026));
  CHECK_FALSE(InConcentratedPeriod(D("2025-10-15"), 2025));
}

TEST_CASE("waiting: paid in the concentrated period, no wait, covered from 1 January") {
  const WaitingResult r = ComputeWaitingPeriod(Input("2025-10-15", 2026));
  CHECK(r.waiting_months == 0);
  CHECK(FormatIsoDay(r.effective_day) == "2026-01-01");
  CHECK(r.reason.rfind("concentrated_period:", 0) == 0);
}

TEST_CASE("waiting: outside the concentrated period, 3 months") {
  const WaitingResult r = ComputeWaitingPeriod(Input("2026-04-10", 2026));
  CHECK(r.waiting_months == 3);
  CHECK(FormatIsoDay(r.effective_day) == "2026-07-10");
  CHECK(r.reason.rfind("outside_concentrated_period:", 0) == 0);
}

TEST_CASE("waiting: end-of-month clamping") {
  // 31 March + 3 months -> 30 June.
  CHECK(FormatIsoDay(ComputeWaitingPeriod(Input("2026-03-31", 2026)).effective_day) ==
        "2026-06-30");
  // 30 November + 3 months -> 28 February (2027 is not a leap year).
  CHECK(FormatIsoDay(ComputeWaitingPeriod(Input("2026-11-30", 2026)).effective_day) ==
        "2027-02-28");
  // 31 October 2023 + 4 months (lapse of 2) -> 29 February 2024.
  WaitingInput in = Input("2023-10-31", 2024);
  in.lapsed_years = 2;
  const WaitingResult r = ComputeWaitingPeriod(in);
  CHECK(r.waiting_months == 4);
  CHECK(FormatIsoDay(r.effective_day) == "2024-02-29");
}

TEST_CASE("waiting: lapses") {
  // A lapse applies even when paid in the concentrated period.
  WaitingInput in = Input("2025-10-15", 2026);
  REQUIRE(in.in_concentrated_period);
  in.lapsed_years = 1;
  WaitingResult r = ComputeWaitingPeriod(in);
  CHECK(r.waiting_months == 3);
  CHECK(FormatIsoDay(r.effective_day) == "2026-01-15");
  CHECK(r.reason.rfind("lapse:", 0) == 0);

  in.lapsed_years = 2;
  CHECK(ComputeWaitingPeriod(in).waiting_months == 4);
  in.paid_back_years = 1;
  CHECK(ComputeWaitingPeriod(in).waiting_months == 3);
  in.paid_back_years = 5;  // more than needed: never below the fixed 3
  CHECK(ComputeWaitingPeriod(in).waiting_months == 3);

  in.paid_back_years = 0;
  in.lapsed_years = 3;
  CHECK(ComputeWaitingPeriod(in).waiting_months == 5);
  in.lapsed_years = 4;
  CHECK(ComputeWaitingPeriod(in).waiting_months == 6);
  in.lapsed_years = 5;
  CHECK(ComputeWaitingPeriod(in).waiting_months == 7);
  in.paid_back_years = 4;  // 3 + 0 variable, but at least 6 after 4+ years
  r = ComputeWaitingPeriod(in);
  CHECK(r.waiting_months == 6);
  CHECK(FormatIsoDay(r.effective_day) == "2026-04-15");
  in.paid_back_years = 2;
  CHECK(ComputeWaitingPeriod(in).waiting_months == 6);  // 3 + 2 = 5 -> 6
}

TEST_CASE("waiting: exemptions") {
  // Newborn paid within 90 days: covered from birth.
  WaitingInput in = Input("2026-05-20", 2026);
  in.birth_day = D("2026-03-10");
  in.lapsed_years = 0;
  WaitingResult r = ComputeWaitingPeriod(in);
  CHECK(r.waiting_months == 0);
  CHECK(FormatIsoDay(r.effective_day) == "2026-03-10");
  CHECK(r.reason.rfind("newborn:", 0) == 0);
  // Born in December, paid in January: covered from 1 January of the coverage year.
  in = Input("2026-01-10", 2026);
  in.birth_day = D("2025-12-20");
  r = ComputeWaitingPeriod(in);
  CHECK(r.waiting_months == 0);
  CHECK(FormatIsoDay(r.effective_day) == "2026-01-01");
  // Exactly 90 days: still a newborn; 91: not.
  in = Input("2026-06-08", 2026);
  in.birth_day = D("2026-03-10");
  REQUIRE(in.payment_day - in.birth_day == 90);
  CHECK(ComputeWaitingPeriod(in).waiting_months == 0);
  in.payment_day += 1;
  r = ComputeWaitingPeriod(in);
  CHECK(r.waiting_months == 3);
  CHECK(FormatIsoDay(r.effective_day) == "2026-09-09");

  // First enrollment through a school, outside the concentrated period.
  in = Input("2026-04-10", 2026);
  in.first_enrollment_via_school = true;
  r = ComputeWaitingPeriod(in);
  CHECK(r.waiting_months == 0);
  CHECK(FormatIsoDay(r.effective_day) == "2026-04-10");
  CHECK(r.reason.rfind("school_first_enrollment:", 0) == 0);

  // Low-income certificate, even after a lapse.
  in = Input("2026-04-10", 2026);
  in.low_income_certificate = true;
  in.lapsed_years = 5;
  r = ComputeWaitingPeriod(in);
  CHECK(r.waiting_months == 0);
  CHECK(FormatIsoDay(r.effective_day) == "2026-04-10");
  CHECK(r.reason.rfind("low_income_certificate:", 0) == 0);
  // Paid in the concentrated period: covered from 1 January.
  in = Input("2025-11-01", 2026);
  in.low_income_certificate = true;
  CHECK(FormatIsoDay(ComputeWaitingPeriod(in).effective_day) == "2026-01-01");
}

TEST_CASE("projection keys: a person's case and payment rows share the prefix filter's prefix") {
  const std::string id = "110105201503010010";
  const std::string c = CaseKey(id, 2026), p = PaymentKey(id, 42);
  // The store puts one generation byte in front of each key.
  const size_t prefix = shebao::ledger::kProjectionPrefixBytes - 1;
  CHECK(c.substr(0, prefix) == p.substr(0, prefix));
  CHECK(c.starts_with(CasePrefix(id)));
  CHECK(p.starts_with(PaymentPrefix(id)));
  CHECK(c < p);  // the rights rows come first, then the payment lines in position order
  CHECK(PaymentKey(id, 255) < PaymentKey(id, 256));
  CHECK(RowFamily(c) == 'C');
  CHECK(RowFamily(p) == 'P');
  CHECK(RowFamily(EmploymentKey("91110000100000000A", id)) == 'E');
  CHECK(RowFamily(QueueKey("110105", id, 2026)) == 'Q');
  CHECK(RowFamily(OrgKey("91110000100000000A")) == 'O');
  CHECK(RowPersonId(c) == id);
  CHECK(RowPersonId(p) == id);
  CHECK(RowPersonId(OrgKey("x")).empty());
  // Ids that are not citizen IDs (the projector folds whatever the log holds) split back whole.
  for (std::string_view odd : {"a/b", "x/P/y", "x/C/2026", "%2F", "100%", "/", ""}) {
    CHECK(RowFamily(CaseKey(odd, 2026)) == 'C');
    CHECK(RowPersonId(CaseKey(odd, 2026)) == odd);
    CHECK(RowFamily(PaymentKey(odd, 0x2f2f2f2f2f2f2f2f)) == 'P');
    CHECK(RowPersonId(PaymentKey(odd, 0x2f2f2f2f2f2f2f2f)) == odd);
    CHECK(CaseKey(odd, 2026).starts_with(CasePrefix(odd)));
    CHECK_FALSE(CaseKey("a", 2026).starts_with(CasePrefix(odd)));
  }
  for (std::string_view bad : {"", "R", "R/", "R/x", "R/x/", "R/x/Z/1", "C/x/2026", "P/", "Ex"}) {
    CHECK_MESSAGE(RowFamily(bad) == '\0', bad);
  }
}

// The keys' text, byte for byte: rebuilt projections are compared with live ones by their bytes,
// and a ledger written by one build is read by the next. Years of any int (a fold reads stored
// events) keep "{:04}"'s text: zero-padded to four digits, a sign counting as one.
TEST_CASE("projection keys and case stream ids: their exact text") {
  const std::string id = "110105201503010010";
  CHECK(CaseKey(id, 2026) == "R/" + id + "/C/2026");
  CHECK(CasePrefix(id) == "R/" + id + "/C/");
  CHECK(PaymentPrefix(id) == "R/" + id + "/P/");
  CHECK(PaymentKey(id, 258) == "R/" + id + "/P/" + std::string("\0\0\0\0\0\0\1\2", 8));
  CHECK(EmploymentKey("91110000100000000A", id) == "E/91110000100000000A/" + id);
  CHECK(EmployerPrefix("91110000100000000A") == "E/91110000100000000A/");
  CHECK(QueueKey("110105", id, 2026) == "Q/110105/" + id + "/2026");
  CHECK(QueuePrefix("110105") == "Q/110105/");
  CHECK(OrgKey("91110000100000000A") == "O/91110000100000000A");
  CHECK(QueueKey("a", "b", 7) == "Q/a/b/0007");
  CHECK(QueueKey("a", "b", 987) == "Q/a/b/0987");
  CHECK(QueueKey("a", "b", 0) == "Q/a/b/0000");
  CHECK(QueueKey("a", "b", 9999) == "Q/a/b/9999");
  CHECK(QueueKey("a", "b", 10000) == "Q/a/b/10000");
  CHECK(QueueKey("a", "b", -5) == "Q/a/b/-005");
  CHECK(QueueKey("a", "b", -12345) == "Q/a/b/-12345");
  CHECK(CaseKey("x", 42) == "R/x/C/0042");
  CHECK(CaseKey("x", std::numeric_limits<int>::min()) == "R/x/C/-2147483648");
  CHECK(CaseStreamId(2026, id) == "case/2026/" + id);
  CHECK(CaseStreamId(42, "x") == "case/42/x");
  CHECK(CaseStreamId(-7, "") == "case/-7/");
  CHECK(CaseStreamId(std::numeric_limits<int>::min(), "x") == "case/-2147483648/x");
}

// A command's digest is stored in the idempotency record of its batch (the content digest): a
// retry of a recorded line is a duplicate only if it hashes alike. These digests were computed
// by the first implementation; any later one must give the same bytes, or every ledger written
// before it would refuse its retries as idempotency conflicts.
TEST_CASE("command digest: the same bytes as ever, for string, number and true/false fields") {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {R"({"command":"confirm_low_income_list","key":"mz-2026-0042-02","at":"2025-10-09T09:00:00","actor":{"role":"guardian","id":"11010519491231002X"},"child_id":"110105201503010010","coverage_year":2026,"list_no":"MZ-2025-001","low_income_certificate_no":"DB-110105-0042","sealed":true})",
       "50ce36485e7c1aa0f1be03679d96f2247a6c1240b913b6c5794fcc372695241c"},
      {R"({"command":"collect_premium","key":"sch-2026-0001-10","at":"2025-09-20T10:00:00","actor":{"role":"bank","org":"102100099996","id":"teller-42"},"child_id":"110105201503010010","coverage_year":2026,"amount_fen":40000,"bank_ref":"ICBC-20250920-000001"})",
       "d25a5f522ce7f950e924dc9c180085f69d232655f73ae609488872ee4be860b4"},
      {R"({"command":"register_employee","key":"emp-91110000600037341L-0001","at":"2026-01-02T10:00:00","actor":{"role":"employer","org":"91110000600037341L","id":"hr-1"},"employee_id":"440308199901101512","employee_name":"赵六","start_month":"2026-01"})",
       "6e3804f38d14db438ba0fa8d4283d4cc76230980fd5b906132de87780a01b1f4"},
  };
  for (const auto& [line, hex] : cases) {
    CAPTURE(line);
    Command c;
    REQUIRE(ParseCommand(line, &c).ok());
    CHECK(shebao::ledger::HexEncode(CommandHandler::CommandDigest(c)) == hex);
  }
}
