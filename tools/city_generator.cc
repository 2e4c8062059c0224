#include "tools/city_generator.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <random>
#include <vector>

#include "ledger/domain/dates.h"
#include "ledger/domain/ids.h"

namespace shebao::tools {
namespace {

using domain::Day;
__extension__ using Uint128 = unsigned __int128;

// The ID scheme (see the header): birth dates of children 2009-01-01 + [0, 5113) days, of
// guardians 1975-01-01 + [0, 7305) days.
constexpr uint32_t kChildBirthDays = 5113;     // 2009-01-01 .. 2022-12-31 (a prime)
constexpr uint32_t kGuardianBirthDays = 7305;  // 1975-01-01 .. 1994-12-31
constexpr uint64_t kBlockStride = 7;           // coprime to both spans
constexpr uint64_t kChildSeqStride = 1237;
constexpr uint64_t kGuardianSeqStride = 2029;
constexpr uint64_t kChildrenPerSchool = 500;
constexpr uint64_t kChildrenPerEmployer = 50;

// Probabilities in 1/10000.
constexpr uint64_t kSchoolShare = 8000;
constexpr uint64_t kNotInSchoolShare = 1200;  // the rest (8 %) low income
constexpr uint64_t kSkipYear = 400;
constexpr uint64_t kLateStart = 800;
constexpr uint64_t kReturn = 500;
constexpr uint64_t kFailure = 300;
constexpr uint64_t kReversal = 50;
constexpr uint64_t kWithdrawal = 100;
constexpr uint64_t kRefusal = 50;
constexpr uint64_t kRefund = 100;
constexpr uint64_t kOtherGuardian = 400;
constexpr uint64_t kSettledOutside = 2000;
constexpr uint64_t kUnpaidMonth = 300;
constexpr uint64_t kLeaver = 300;

// Calendar days from the acceptance of the certificate procedures to the collection: never
// before the due date (20 working days; at most ~37 calendar days across the Spring Festival).
constexpr int kCertificateCollectDays = 45;

enum Pathway : uint8_t { kSchool = 0, kNotInSchool = 1, kLowIncome = 2 };
constexpr std::string_view kPathwayNames[3] = {"school", "not_in_school", "low_income"};

constexpr std::string_view kSurnames[16] = {"王", "李", "张", "刘", "陈", "杨", "黄", "赵",
                                            "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"};
constexpr std::string_view kChildNames[16] = {"小明", "小红", "子涵", "浩然", "欣怡", "宇轩",
                                              "梓萱", "一诺", "思远", "雨桐", "俊杰", "诗涵",
                                              "博文", "佳怡", "天佑", "若曦"};
constexpr std::string_view kMaleNames[8] = {"建国", "伟", "强", "军", "磊", "勇", "斌", "涛"};
constexpr std::string_view kFemaleNames[8] = {"丽华", "芳", "敏", "静", "燕", "娟", "霞", "玲"};

constexpr std::string_view kReturnReasons[4] = {
    "the photo is missing", "the household register page is missing",
    "the guardian's signature is missing", "the household division code is wrong"};

// A fixed mix of the index, for names (seed-independent, like the IDs).
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void PutDigits(char* out, uint64_t value, int n) {
  for (int i = n - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// GB 11643-1999 check character (the same as domain::MakeCitizenId, without an allocation).
char CitizenCheckChar(const char* first17) {
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 17; ++i) sum += (first17[i] - '0') * kWeights[i];
  return "10X98765432"[sum % 11];
}

struct Person {
  std::array<char, 18> id{};
  Day birth = 0;
  uint64_t sequence = 0;
  std::string_view view() const { return {id.data(), id.size()}; }
};

Day DayOf(int year, unsigned month, unsigned day) {
  return domain::DayFromYmd(year, month, day).value_or(0);
}

// The first 17 characters of person `index` of the scheme, and the birth date.
Person PersonOf(uint64_t index, Day first_birth, uint64_t days, uint64_t seq_stride) {
  Person p;
  const uint64_t r = index / 4;
  p.sequence = r % 1000;
  const uint64_t block = r / 1000;
  p.birth = first_birth +
            static_cast<Day>(((block % days) * kBlockStride + p.sequence * seq_stride) % days);
  const domain::Ymd ymd = domain::ToYmd(p.birth);
  std::memcpy(p.id.data(), kCityDivisions[index % 4].data(), 6);
  PutDigits(p.id.data() + 6, static_cast<uint64_t>(ymd.year), 4);
  PutDigits(p.id.data() + 10, ymd.month, 2);
  PutDigits(p.id.data() + 12, ymd.day, 2);
  PutDigits(p.id.data() + 14, p.sequence, 3);
  return p;
}

Person ChildOf(uint64_t index) {
  static const Day first = DayOf(2009, 1, 1);
  Person p = PersonOf(index, first, kChildBirthDays, kChildSeqStride);
  p.id[17] = CitizenCheckChar(p.id.data());
  return p;
}

Person GuardianOf(uint64_t index) {
  static const Day first = DayOf(1975, 1, 1);
  Person p = PersonOf(index, first, kGuardianBirthDays, kGuardianSeqStride);
  p.id[17] = CitizenCheckChar(p.id.data());
  return p;
}

// 18-character USCC: prefix ("12" school, "91" employer) + division + tag + 7 digits + check.
std::array<char, 18> OrgUscc(std::string_view prefix, uint64_t index, std::string_view tag) {
  char first17[17];
  std::memcpy(first17, prefix.data(), 2);
  std::memcpy(first17 + 2, kCityDivisions[index % 4].data(), 6);
  std::memcpy(first17 + 8, tag.data(), 2);
  PutDigits(first17 + 10, index % 10'000'000, 7);
  const std::string code = domain::MakeUscc(std::string_view(first17, 17));
  std::array<char, 18> out{};
  std::memcpy(out.data(), code.data(), 18);
  return out;
}

std::string_view View(const std::array<char, 18>& a) { return {a.data(), a.size()}; }

struct Employment {
  uint64_t guardian = 0;
  int start = 0;  // month index: year * 12 + month - 1
  int end = -1;   // last month, -1 while employed
};

enum class Actor { school, guardian, agency, civil_affairs, bank, holder, issuer, org_reviewer };

class City {
 public:
  City(const CityOptions& options, const std::function<void(std::string_view)>& emit)
      : options_(options), emit_(emit), rng_(options.seed), position_(options.first_position) {}

  CityStats Run() {
    if (options_.first_year <= domain::kYearMin || options_.last_year >= domain::kYearMax ||
        options_.first_year > options_.last_year) {
      return stats_;
    }
    const uint64_t n = options_.children;
    stats_.children = n;
    pathways_.resize(n);
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t u = U(10'000);
      const Pathway p = u < kSchoolShare                       ? kSchool
                        : u < kSchoolShare + kNotInSchoolShare ? kNotInSchool
                                                               : kLowIncome;
      pathways_[i] = p;
      ++(p == kSchool        ? stats_.school
         : p == kNotInSchool ? stats_.not_in_school
                             : stats_.low_income);
    }
    const uint64_t wanted = (n + kChildrenPerSchool - 1) / kChildrenPerSchool;
    const uint64_t schools = std::max<uint64_t>(4, (wanted + 3) / 4 * 4);
    schools_.reserve(schools);
    for (uint64_t s = 0; s < schools; ++s) schools_.push_back(OrgUscc("12", s, "MB"));

    employer_count_ = n == 0                    ? 0
                      : options_.employers != 0 ? options_.employers
                                                : std::max<uint64_t>(1, n / kChildrenPerEmployer);
    per_employer_ = std::min<uint64_t>(kCityEmployeesPerEmployer, n);
    const int first_month = options_.first_year * 12;
    const int last_month = options_.last_year * 12 + 11;
    employers_.reserve(employer_count_);
    employments_.reserve(employer_count_ * per_employer_);
    for (uint64_t e = 0; e < employer_count_; ++e) {
      employers_.push_back(OrgUscc("91", e, "MA"));
      for (uint64_t k = 0; k < per_employer_; ++k) {
        Employment m;
        m.guardian = (e * kCityEmployeesPerEmployer + k) % n;
        m.start = std::min(last_month, first_month + static_cast<int>(U(18)));
        if (Chance(kLeaver))
          m.end = m.start + static_cast<int>(U(static_cast<uint64_t>(last_month - m.start + 1)));
        employments_.push_back(m);
      }
    }

    for (int year = options_.first_year; year <= options_.last_year; ++year) {
      for (uint64_t i = 0; i < n; ++i) Case(i, year);
      EmployerYear(year);
    }
    stats_.events = position_ - options_.first_position;
    return stats_;
  }

 private:
  // --- randomness (portable: no std distributions) ---
  uint64_t U(uint64_t n) { return static_cast<uint64_t>((static_cast<Uint128>(rng_()) * n) >> 64); }
  bool Chance(uint64_t per_10000) { return U(10'000) < per_10000; }

  // --- the case clock: dates never go back ---
  void Next(int min_days, int max_days) {
    const int d = min_days + static_cast<int>(U(static_cast<uint64_t>(max_days - min_days + 1)));
    if (d == 0) {
      minute_ += 10 + static_cast<int>(U(50));
      if (minute_ >= 20 * 60) {
        ++day_;
        minute_ = 8 * 60 + static_cast<int>(U(60));
      }
    } else {
      day_ += d;
      minute_ = 8 * 60 + static_cast<int>(U(600));
    }
  }
  void JumpTo(Day day) {
    if (day <= day_) return Next(0, 0);
    day_ = day;
    minute_ = 8 * 60 + static_cast<int>(U(480));
  }

  // --- line writing ---
  fmt::appender Out() { return fmt::appender(buf_); }

  void Append(std::string_view text) { buf_.append(text.data(), text.data() + text.size()); }

  // "at":"YYYY-MM-DDTHH:MM:00", written by hand (the hottest field).
  void WriteAt(Day day, int minute) {
    if (day != at_day_) {
      at_day_ = day;
      const domain::Ymd d = domain::ToYmd(day);
      PutDigits(at_ + 6, static_cast<uint64_t>(d.year), 4);
      PutDigits(at_ + 11, d.month, 2);
      PutDigits(at_ + 14, d.day, 2);
    }
    PutDigits(at_ + 17, static_cast<uint64_t>(minute / 60), 2);
    PutDigits(at_ + 20, static_cast<uint64_t>(minute % 60), 2);
    Append(std::string_view(at_, sizeof(at_) - 1));
  }

  void WriteAtParts(int year, unsigned month, unsigned day, int minute) {
    at_day_ = INT32_MIN;
    PutDigits(at_ + 6, static_cast<uint64_t>(year), 4);
    PutDigits(at_ + 11, month, 2);
    PutDigits(at_ + 14, day, 2);
    PutDigits(at_ + 17, static_cast<uint64_t>(minute / 60), 2);
    PutDigits(at_ + 20, static_cast<uint64_t>(minute % 60), 2);
    Append(std::string_view(at_, sizeof(at_) - 1));
  }

  // "YYYY-MM" of a month index (year * 12 + month - 1), into a small buffer.
  std::string_view MonthText(int month) {
    PutDigits(month_, static_cast<uint64_t>(month / 12), 4);
    PutDigits(month_ + 5, static_cast<uint64_t>(month % 12 + 1), 2);
    return {month_, 7};
  }

  void Begin(std::string_view command, Actor actor) {
    buf_.clear();
    fmt::format_to(Out(), FMT_COMPILE("{{\"command\":\"{}\",\"key\":\"c{}-{}-{}-{}\","), command,
                   options_.seed, child_, year_, line_in_case_++);
    WriteAt(day_, minute_);
    if (actor == Actor::holder || actor == Actor::issuer) {
      actor = pathway_ == kSchool      ? Actor::school
              : pathway_ == kLowIncome ? Actor::civil_affairs
              : actor == Actor::holder ? Actor::guardian
                                       : Actor::agency;
    } else if (actor == Actor::org_reviewer) {
      actor = pathway_ == kSchool ? Actor::school : Actor::civil_affairs;
    }
    switch (actor) {
      case Actor::school:
        fmt::format_to(
            Out(),
            FMT_COMPILE(",\"actor\":{{\"role\":\"school\",\"org\":\"{}\",\"id\":\"teacher-{}\"}}"),
            school_, child_ % 40 + 1);
        break;
      case Actor::guardian:
        fmt::format_to(Out(), FMT_COMPILE(",\"actor\":{{\"role\":\"guardian\",\"id\":\"{}\"}}"),
                       guardian_.view());
        break;
      case Actor::agency:
        fmt::format_to(
            Out(),
            FMT_COMPILE(",\"actor\":{{\"role\":\"agency\",\"org\":\"{}\",\"id\":\"staff-{}\"}}"),
            division_, child_ % 12 + 1);
        break;
      case Actor::civil_affairs:
        fmt::format_to(
            Out(),
            FMT_COMPILE(
                ",\"actor\":{{\"role\":\"civil_affairs\",\"org\":\"{}\",\"id\":\"ca-{}\"}}"),
            division_, child_ % 5 + 1);
        break;
      default:
        fmt::format_to(
            Out(),
            FMT_COMPILE(",\"actor\":{{\"role\":\"bank\",\"org\":\"{}\",\"id\":\"teller-{}\"}}"),
            bank_, child_ % 30 + 1);
        break;
    }
    fmt::format_to(Out(), FMT_COMPILE(",\"child_id\":\"{}\",\"coverage_year\":{}"),
                   child_id_.view(), year_);
  }

  void Finish(uint64_t events = 1) {
    buf_.push_back('}');
    emit_(std::string_view(buf_.data(), buf_.size()));
    ++stats_.lines;
    position_ += events;
  }

  void Simple(std::string_view command, Actor actor) {
    Begin(command, actor);
    Finish();
  }

  // --- case steps ---
  void Declare(bool resubmission) {
    Begin("declare", Actor::guardian);
    const uint64_t h = Mix(child_);
    const bool male = guardian_.sequence % 2 == 1;
    const std::string_view relationship = other_guardian_ ? "other_guardian"
                                          : male          ? "father"
                                                          : "mother";
    fmt::format_to(
        Out(),
        FMT_COMPILE(",\"child_name\":\"{}{}\",\"guardian_id\":\"{}\",\"guardian_name\":\"{}{}\","
                    "\"relationship\":\"{}\",\"household_division_code\":\"{}\","
                    "\"declaration_ref\":\"D{}-{}-{}\""),
        kSurnames[h % 16], kChildNames[(h >> 8) % 16], guardian_.view(),
        other_guardian_ ? kSurnames[(h >> 16) % 16] : kSurnames[h % 16],
        male ? kMaleNames[(h >> 24) % 8] : kFemaleNames[(h >> 24) % 8], relationship, division_,
        year_, child_, resubmission ? 2 : 1);
    if (pathway_ == kSchool) fmt::format_to(Out(), FMT_COMPILE(",\"school_uscc\":\"{}\""), school_);
    if (settled_outside_) fmt::format_to(Out(), FMT_COMPILE(",\"settled_outside_city\":true"));
    if (resubmission) fmt::format_to(Out(), FMT_COMPILE(",\"resubmission\":true"));
    Finish();
  }

  void Submit(bool resubmission) {
    Begin("submit_materials", Actor::guardian);
    fmt::format_to(Out(), FMT_COMPILE(",\"to_org\":\"{}\""),
                   pathway_ == kSchool ? school_ : division_);
    if (resubmission) fmt::format_to(Out(), FMT_COMPILE(",\"resubmission\":true"));
    Finish();
  }

  void Review(bool agency, std::string_view outcome, std::string_view reason = {},
              std::string_view reason_code = {}) {
    Begin("review", agency ? Actor::agency : Actor::org_reviewer);
    const std::string_view stage = agency                ? "agency"
                                   : pathway_ == kSchool ? "school"
                                                         : "civil_affairs";
    fmt::format_to(Out(), FMT_COMPILE(",\"stage\":\"{}\",\"outcome\":\"{}\""), stage, outcome);
    if (!reason.empty()) fmt::format_to(Out(), FMT_COMPILE(",\"reason\":\"{}\""), reason);
    if (!reason_code.empty())
      fmt::format_to(Out(), FMT_COMPILE(",\"reason_code\":\"{}\""), reason_code);
    Finish();
  }

  void ReturnAt(bool agency) {
    const uint64_t which = U(4);
    Review(agency, "returned_for_correction", kReturnReasons[which],
           which == 0   ? "PHOTO"
           : which == 3 ? "DIVISION"
                        : "DOCS");
    ++stats_.returns;
  }

  void Forward() {
    Begin("forward_to_agency", Actor::issuer);
    // Begin wrote today's date into at_: one batch per organisation and day.
    fmt::format_to(Out(),
                   FMT_COMPILE(",\"agency_division_code\":\"{}\",\"batch_ref\":\"BATCH-{}\""),
                   division_, std::string_view(at_ + 6, 10));
    Finish();
  }

  void Receive() {
    Begin("receive", Actor::agency);
    fmt::format_to(Out(), FMT_COMPILE(",\"receipt_no\":\"RCV{}-{}\""), year_, child_);
    Finish();
  }

  void Collect() {
    Begin("collect_premium", Actor::bank);
    fmt::format_to(Out(), FMT_COMPILE(",\"amount_fen\":{},\"bank_ref\":\"B{}-{}-{}\""),
                   kCityIndividualFen, year_, child_, ++collections_);
    premium_position_ = position_;
    Finish(3);  // the individual share, the government subsidy, the coverage decision
  }

  void Withdraw() {
    Begin("withdraw", Actor::guardian);
    fmt::format_to(
        Out(),
        FMT_COMPILE(
            ",\"reason\":\"the family is moving to another city\",\"reason_code\":\"MOVE\""));
    Finish();
    ++stats_.withdrawals;
  }

  void Refuse(bool agency) {
    Review(agency, "refused", "the child is not registered in this household area", "HOUSEHOLD");
    ++stats_.refusals;
  }

  void Case(uint64_t child, int year) {
    if (Chance(kSkipYear)) {
      ++stats_.skipped_years;
      return;
    }
    const bool late = Chance(kLateStart);
    const Day start = late ? DayOf(year, 2, 1) + static_cast<Day>(U(46))
                           : DayOf(year - 1, 9, 1) + static_cast<Day>(U(50));
    const Person kid = ChildOf(child);
    if (kid.birth > start || !domain::IsMinorOn(kid.birth, DayOf(year, 1, 1))) return;

    child_ = child;
    year_ = year;
    child_id_ = kid;
    guardian_ = GuardianOf(child);
    pathway_ = static_cast<Pathway>(pathways_[child]);
    division_ = kCityDivisions[child % 4];
    const uint64_t school = child % 4 + 4 * ((child / 4) % (schools_.size() / 4));
    school_ = View(schools_[school]);
    bank_ = kCityBanks[child % 4];
    other_guardian_ = Mix(child ^ 0x5eed) % 10'000 < kOtherGuardian;
    settled_outside_ = pathway_ == kNotInSchool && Mix(child ^ 0xfa11) % 10'000 < kSettledOutside;
    line_in_case_ = 0;
    collections_ = 0;
    day_ = start;
    minute_ = 8 * 60 + static_cast<int>(U(120));
    ++stats_.cases;
    if (late) ++stats_.late_cases;

    // The incidents of this case.
    const uint64_t ending = U(10'000);
    const bool withdraw = ending < kWithdrawal;
    const bool refuse = !withdraw && ending < kWithdrawal + kRefusal;
    const bool refund = !withdraw && !refuse && ending < kWithdrawal + kRefusal + kRefund;
    const bool has_org_review = pathway_ != kNotInSchool;
    const bool ret = Chance(kReturn);
    const bool ret_at_org = has_org_review && U(2) == 0;
    const bool refuse_at_org = has_org_review && U(2) == 0;
    const bool fail = Chance(kFailure);
    const bool reverse = !refund && Chance(kReversal);
    const uint64_t withdraw_at = U(3);  // after the declaration, the agency review, the account

    // Step 1: materials (and the sealed list on the low-income pathway).
    Begin("issue_materials", Actor::issuer);
    fmt::format_to(Out(), FMT_COMPILE(",\"pathway\":\"{}\""), kPathwayNames[pathway_]);
    Finish();
    if (pathway_ == kLowIncome) {
      Next(0, 2);
      Begin("confirm_low_income_list", Actor::guardian);
      fmt::format_to(
          Out(),
          FMT_COMPILE(",\"list_no\":\"MZ{}-{}\",\"low_income_certificate_no\":\"DB-{}-{}\","
                      "\"sealed\":true"),
          year_, child_, division_, child_);
      Finish();
    }
    Next(0, 3);
    Declare(false);
    if (withdraw && withdraw_at == 0) {
      Next(0, 3);
      return Withdraw();
    }
    Next(0, 2);
    Submit(false);

    // The school's or civil affairs' review, and the report to the agency.
    if (has_org_review) {
      Next(1, 3);
      if (refuse && refuse_at_org) return Refuse(false);
      if (ret && ret_at_org) {
        ReturnAt(false);
        Next(1, 4);
        if (U(2) == 0) {
          Declare(true);
          Next(0, 1);
        }
        Submit(true);
        Next(1, 3);
      }
      Review(false, "accepted");
      Next(0, 2);
      Forward();
    }

    // The agency: receipt, review, entry, account.
    Next(0, 3);
    Receive();
    Next(0, 2);
    if (refuse && !refuse_at_org) return Refuse(true);
    if (ret && !ret_at_org) {
      ReturnAt(true);
      Next(1, 4);
      if (pathway_ == kNotInSchool) {
        if (U(2) == 0) {
          Declare(true);
          Next(0, 1);
        }
        Submit(true);
      } else {
        Forward();
      }
      Next(0, 2);
      Receive();
      Next(0, 2);
    }
    Review(true, "accepted");
    if (withdraw && withdraw_at == 1) {
      Next(0, 3);
      return Withdraw();
    }
    Next(0, 1);
    Simple("enter_info", Actor::agency);
    Next(0, 2);
    Begin("establish_account", Actor::agency);
    fmt::format_to(Out(), FMT_COMPILE(",\"account_no\":\"ACC-{}-{}\",\"bank_code\":\"{}\""),
                   division_, child_, bank_);
    Finish();
    if (withdraw) {
      Next(0, 3);
      return Withdraw();
    }

    // The bank: a failed attempt, the collection, a reversal and a new collection.
    if (fail) {
      Next(1, 5);
      Begin("collection_failed", Actor::bank);
      fmt::format_to(
          Out(),
          FMT_COMPILE(
              ",\"amount_fen\":{},\"reason\":\"insufficient funds\",\"reason_code\":\"NSF\","
              "\"bank_ref\":\"F{}-{}\""),
          kCityIndividualFen, year_, child_);
      Finish();
      ++stats_.failures;
    }
    Next(1, 7);
    Collect();
    if (reverse) {
      Next(1, 3);
      Begin("reverse_payment", Actor::bank);
      fmt::format_to(
          Out(),
          FMT_COMPILE(
              ",\"original_position\":{},\"reason\":\"duplicate debit\",\"reason_code\":\"DUP\","
              "\"reversal_ref\":\"R{}-{}\""),
          premium_position_, year_, child_);
      Finish(2);  // the reversal, coverage back to pending
      ++stats_.reversals;
      Next(1, 3);
      Collect();
    }
    if (refund) {
      Next(5, 30);
      Begin("refund_payment", Actor::agency);
      fmt::format_to(
          Out(),
          FMT_COMPILE(",\"original_position\":{},\"amount_fen\":{},\"refund_ref\":\"RF{}-{}\","
                      "\"reason\":\"enrolled in another city\",\"reason_code\":\"MOVE\""),
          premium_position_, kCityIndividualFen, year_, child_);
      Finish(2);  // the refund, coverage refunded
      ++stats_.refunds;
      return;
    }

    // The certificate.
    Next(0, 3);
    Simple("request_certificate", Actor::holder);
    Next(0, 1);
    Begin("print_certificate_list", Actor::holder);
    fmt::format_to(Out(), FMT_COMPILE(",\"list_no\":\"CL{}-{}\""), year_, child_);
    Finish();
    Next(0, 2);
    Begin("pay_certificate_fee", Actor::holder);
    fmt::format_to(Out(), FMT_COMPILE(",\"amount_fen\":{},\"receipt_no\":\"CF{}-{}\""),
                   kCityCertificateFeeFen, year_, child_);
    Finish();
    Next(0, 3);
    Simple("accept_certificate_procedures", Actor::agency);
    const Day accepted = day_;
    JumpTo(accepted + 15 + static_cast<Day>(U(16)));
    Begin("certificate_ready", Actor::agency);
    fmt::format_to(Out(), FMT_COMPILE(",\"certificate_no\":\"CERT-{}-{}-{}\""), division_, year_,
                   child_);
    Finish();
    if (pathway_ == kNotInSchool) {
      Next(1, 7);  // no due date on this pathway
    } else {
      JumpTo(accepted + kCertificateCollectDays + static_cast<Day>(U(4)));
    }
    Simple("collect_certificate", Actor::holder);
    Next(0, 2);
    Simple("issue_certificate", Actor::holder);
  }

  // --- employers ---
  void BeginEmployer(std::string_view command, uint64_t employer, uint64_t k, int month, char tag,
                     int at_month, unsigned at_day, int minute, std::string_view employee) {
    buf_.clear();
    fmt::format_to(Out(), FMT_COMPILE("{{\"command\":\"{}\",\"key\":\"e{}-{}-{}-{}-{}\","), command,
                   options_.seed, employer, k, MonthText(month), tag);
    WriteAtParts(at_month / 12, static_cast<unsigned>(at_month % 12 + 1), at_day, minute);
    fmt::format_to(
        Out(),
        FMT_COMPILE(",\"actor\":{{\"role\":\"employer\",\"org\":\"{}\",\"id\":\"hr-{}\"}},"
                    "\"employee_id\":\"{}\""),
        View(employers_[employer]), employer % 9 + 1, employee);
  }

  void EmployerYear(int year) {
    const int first = year * 12, last = year * 12 + 11;
    for (uint64_t e = 0; e < employer_count_; ++e) {
      for (uint64_t k = 0; k < per_employer_; ++k) {
        const Employment& m = employments_[e * per_employer_ + k];
        const int from = std::max(first, m.start);
        const int to = m.end >= 0 ? std::min(last, m.end) : last;
        const bool registers = m.start >= first && m.start <= last;
        const bool leaves = m.end >= first && m.end <= last;
        if (!registers && from > to && !leaves) continue;
        const Person g = GuardianOf(m.guardian);
        if (registers) {
          BeginEmployer("register_employee", e, k, m.start, 'r', m.start, 2, 9 * 60, g.view());
          const uint64_t h = Mix(m.guardian);
          const bool male = g.sequence % 2 == 1;
          fmt::format_to(Out(), FMT_COMPILE(",\"employee_name\":\"{}{}\",\"start_month\":\"{}\""),
                         kSurnames[h % 16],
                         male ? kMaleNames[(h >> 24) % 8] : kFemaleNames[(h >> 24) % 8],
                         MonthText(m.start));
          Finish();
          ++stats_.employees;
        }
        for (int month = from; month <= to; ++month) {
          BeginEmployer("declare_contribution", e, k, month, 'd', month, 5, 10 * 60, g.view());
          fmt::format_to(
              Out(),
              FMT_COMPILE(",\"month\":\"{}\",\"base_fen\":{},\"rate_bp\":{},\"amount_fen\":{}"),
              MonthText(month), kCityContributionBaseFen, kCityContributionRateBp,
              kCityContributionFen);
          Finish();
          if (Chance(kUnpaidMonth)) {
            ++stats_.unpaid_months;
            continue;
          }
          BeginEmployer("pay_contribution", e, k, month, 'p', month + 1, 10, 10 * 60, g.view());
          fmt::format_to(Out(),
                         FMT_COMPILE(",\"month\":\"{}\",\"amount_fen\":{},\"bank_code\":\"{}\","
                                     "\"bank_ref\":\"E{}-{}-{}\""),
                         MonthText(month), kCityContributionFen, kCityBanks[e % 4], e, k,
                         std::string_view(month_, 7));
          Finish();
        }
        if (leaves) {
          BeginEmployer("deregister_employee", e, k, m.end, 'x', m.end + 1, 1, 10 * 60, g.view());
          fmt::format_to(Out(), FMT_COMPILE(",\"end_month\":\"{}\",\"reason\":\"contract ended\""),
                         MonthText(m.end));
          Finish();
        }
      }
    }
  }

  const CityOptions& options_;
  const std::function<void(std::string_view)>& emit_;
  std::mt19937_64 rng_;
  uint64_t position_;
  CityStats stats_;
  fmt::memory_buffer buf_;
  Day at_day_ = INT32_MIN;  // the day at_ holds
  char at_[27] = "\"at\":\"YYYY-MM-DDTHH:MM:00\"";
  char month_[8] = "YYYY-MM";

  std::vector<uint8_t> pathways_;
  std::vector<std::array<char, 18>> schools_;
  std::vector<std::array<char, 18>> employers_;
  std::vector<Employment> employments_;
  uint64_t employer_count_ = 0;
  uint64_t per_employer_ = 0;

  // The case being written.
  uint64_t child_ = 0;
  int year_ = 0;
  Person child_id_;
  Person guardian_;
  Pathway pathway_ = kSchool;
  std::string_view division_, school_, bank_;
  bool other_guardian_ = false;
  bool settled_outside_ = false;
  int line_in_case_ = 0;
  uint64_t collections_ = 0;
  uint64_t premium_position_ = 0;
  Day day_ = 0;
  int minute_ = 0;
};

}  // namespace

CityStats GenerateCity(const CityOptions& options,
                       const std::function<void(std::string_view line)>& emit) {
  City city(options, emit);
  return city.Run();
}

std::string CityChildId(uint64_t index) {
  const Person p = ChildOf(index);
  return domain::MakeCitizenId(std::string_view(p.id.data(), 17));
}

}  // namespace shebao::tools
