#include "ledger/domain/projection_rows.h"
#include "ledger/domain/fb_strings.h"

#include <initializer_list>

#include <fmt/format.h>

#include "ledger/keys.h"

namespace shebao::domain {
namespace {


std::string Finish(flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

template <typename T>
const T* Verified(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!verifier.VerifyBuffer<T>(nullptr)) return nullptr;
  return flatbuffers::GetRoot<T>(bytes.data());
}

}  // namespace

namespace {
// "R/" + the id, '%' and '/' escaped (as %25 and %2F) so that the first '/' after "R/" always
// ends it; a citizen ID holds neither, so its keys are the id itself. The projector folds any
// stored event, and an id with a '/' made a key no one could split (found by the fuzzer).
std::string PersonRowPrefix(std::string_view id) {
  std::string key = "R/";
  key.reserve(2 + id.size() + 3 + 8);
  for (const char c : id) {
    if (c == '%') {
      key += "%25";
    } else if (c == '/') {
      key += "%2F";
    } else {
      key += c;
    }
  }
  return key;
}
}  // namespace

namespace {
// The key builders run for every folded event (live and in a rebuild): plain appends into one
// reserved string, not a format string parsed per call.
std::string Joined(std::initializer_list<std::string_view> parts, size_t extra_bytes = 0) {
  size_t bytes = extra_bytes;
  for (const std::string_view p : parts) bytes += p.size();
  std::string out;
  out.reserve(bytes);
  for (const std::string_view p : parts) out.append(p);
  return out;
}
// Appends a year as at least four digits, as "{:04}" writes it (any int: a fold reads the
// years of stored events, which need not be plausible).
void AppendYear(std::string* out, int year) {
  if (year < 0 || year > 9999) {
    fmt::format_to(std::back_inserter(*out), "{:04}", year);
    return;
  }
  const char digits[4] = {static_cast<char>('0' + year / 1000), static_cast<char>('0' + year / 100 % 10),
                          static_cast<char>('0' + year / 10 % 10), static_cast<char>('0' + year % 10)};
  out->append(digits, 4);
}
}  // namespace

std::string CaseKey(std::string_view child_id, int coverage_year) {
  std::string key = CasePrefix(child_id);
  AppendYear(&key, coverage_year);
  return key;
}
std::string CasePrefix(std::string_view child_id) { return PersonRowPrefix(child_id) + "/C/"; }
std::string PaymentKey(std::string_view person_id, uint64_t position) {
  std::string key = PaymentPrefix(person_id);
  ledger::keys::PutBigEndian64(&key, position);
  return key;
}
std::string PaymentPrefix(std::string_view person_id) { return PersonRowPrefix(person_id) + "/P/"; }
std::string EmploymentKey(std::string_view employer_uscc, std::string_view employee_id) {
  return Joined({"E/", employer_uscc, "/", employee_id});
}
std::string EmployerPrefix(std::string_view employer_uscc) { return Joined({"E/", employer_uscc, "/"}); }
std::string QueueKey(std::string_view agency, std::string_view child_id, int coverage_year) {
  std::string key = Joined({"Q/", agency, "/", child_id, "/"}, 4);
  AppendYear(&key, coverage_year);
  return key;
}
std::string QueuePrefix(std::string_view agency) { return Joined({"Q/", agency, "/"}); }
std::string OrgKey(std::string_view org_id) { return Joined({"O/", org_id}); }

namespace {
// "R/<id>/C/..." or "R/<id>/P/...": the position of the slash before the family letter.
size_t PersonRowSlash(std::string_view key) {
  if (!key.starts_with("R/")) return std::string_view::npos;
  const size_t slash = key.find('/', 2);
  if (slash == std::string_view::npos || slash + 2 >= key.size() || key[slash + 2] != '/') {
    return std::string_view::npos;
  }
  return (key[slash + 1] == 'C' || key[slash + 1] == 'P') ? slash : std::string_view::npos;
}
}  // namespace

char RowFamily(std::string_view key) {
  if (const size_t slash = PersonRowSlash(key); slash != std::string_view::npos) {
    return key[slash + 1];
  }
  if (key.size() >= 2 && key[1] == '/' && (key[0] == 'E' || key[0] == 'Q' || key[0] == 'O')) {
    return key[0];
  }
  return '\0';
}

std::string RowPersonId(std::string_view key) {
  const size_t slash = PersonRowSlash(key);
  if (slash == std::string_view::npos) return std::string();
  const std::string_view escaped = key.substr(2, slash - 2);
  std::string id;
  id.reserve(escaped.size());
  for (size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '%' && escaped.substr(i + 1, 2) == "25") {
      id += '%';
      i += 2;
    } else if (escaped[i] == '%' && escaped.substr(i + 1, 2) == "2F") {
      id += '/';
      i += 2;
    } else {
      id += escaped[i];
    }
  }
  return id;
}

std::string EncodeCaseState(const CaseState& s) {
  flatbuffers::FlatBufferBuilder fbb(512);
  auto row = fb::CreateCaseRowDirect(
      fbb, s.stream_id.c_str(), s.version, s.last_position, static_cast<uint8_t>(s.step),
      s.attempt, s.pathway, s.child_id.c_str(), s.coverage_year, s.birth_day,
      s.issuing_org.c_str(), s.school_uscc.c_str(), s.guardian_id.c_str(),
      s.household_division_code.c_str(), s.agency_division_code.c_str(),
      s.low_income_certificate_no.c_str(), s.returned_for_correction,
      static_cast<uint8_t>(s.returned_from), s.account_no.c_str(), s.failed_collections,
      s.premium_position, s.premium_fen, s.subsidy_fen, s.bank_ref.c_str(), s.paid_day,
      s.refunded_fen, s.reversals, s.coverage, s.coverage_effective_day, s.waiting_months,
      s.certificate_holder, s.certificate_fee_fen, s.procedures_accepted_day,
      s.certificate_due_day, s.due_provisional, s.calendar_version.c_str(),
      s.certificate_no.c_str(), s.early_issue_override_position, s.certificate_issued_day,
      s.last_effective_day, s.opened_position, s.child_name.c_str(), s.bank_code.c_str());
  fbb.Finish(row);
  return Finish(fbb);
}

bool DecodeCaseState(std::string_view bytes, CaseState* s) {
  const auto* r = Verified<fb::CaseRow>(bytes);
  if (r == nullptr || r->step() > static_cast<uint8_t>(Step::refunded)) return false;
  *s = CaseState();
  s->stream_id = Str(r->stream_id());
  s->version = r->version();
  s->last_position = r->last_position();
  s->step = static_cast<Step>(r->step());
  s->attempt = r->attempt();
  s->pathway = r->pathway();
  s->child_id = Str(r->child_id());
  s->coverage_year = r->coverage_year();
  s->birth_day = r->birth_day();
  s->issuing_org = Str(r->issuing_org());
  s->school_uscc = Str(r->school_uscc());
  s->guardian_id = Str(r->guardian_id());
  s->household_division_code = Str(r->household_division_code());
  s->agency_division_code = Str(r->agency_division_code());
  s->low_income_certificate_no = Str(r->low_income_certificate_no());
  s->returned_for_correction = r->returned_for_correction();
  s->returned_from = static_cast<Step>(r->returned_from());
  s->account_no = Str(r->account_no());
  s->failed_collections = r->failed_collections();
  s->premium_position = r->premium_position();
  s->premium_fen = r->premium_fen();
  s->subsidy_fen = r->subsidy_fen();
  s->bank_ref = Str(r->bank_ref());
  s->paid_day = r->paid_day();
  s->refunded_fen = r->refunded_fen();
  s->reversals = r->reversals();
  s->coverage = r->coverage();
  s->coverage_effective_day = r->coverage_effective_day();
  s->waiting_months = r->waiting_months();
  s->certificate_holder = r->certificate_holder();
  s->certificate_fee_fen = r->certificate_fee_fen();
  s->procedures_accepted_day = r->procedures_accepted_day();
  s->certificate_due_day = r->certificate_due_day();
  s->due_provisional = r->due_provisional();
  s->calendar_version = Str(r->calendar_version());
  s->certificate_no = Str(r->certificate_no());
  s->early_issue_override_position = r->early_issue_override_position();
  s->certificate_issued_day = r->certificate_issued_day();
  s->last_effective_day = r->last_effective_day();
  s->opened_position = r->opened_position();
  s->child_name = Str(r->child_name());
  s->bank_code = Str(r->bank_code());
  return true;
}

std::string EncodeEmploymentState(const EmploymentState& s) {
  flatbuffers::FlatBufferBuilder fbb(512);
  std::vector<flatbuffers::Offset<fb::EmploymentMonth>> months;
  months.reserve(s.months.size());
  for (const auto& [month, m] : s.months) {
    months.push_back(fb::CreateEmploymentMonth(fbb, month, m.base_fen, m.rate_bp, m.declared_fen,
                                               m.paid_fen, m.declared_position, m.paid_position));
  }
  auto row = fb::CreateEmploymentRowDirect(fbb, s.stream_id.c_str(), s.version, s.registered,
                                           s.employer_uscc.c_str(), s.employee_id.c_str(),
                                           s.employee_name.c_str(), s.start_month, s.end_month,
                                           &months);
  fbb.Finish(row);
  return Finish(fbb);
}

bool DecodeEmploymentState(std::string_view bytes, EmploymentState* s) {
  const auto* r = Verified<fb::EmploymentRow>(bytes);
  if (r == nullptr) return false;
  *s = EmploymentState();
  s->stream_id = Str(r->stream_id());
  s->version = r->version();
  s->registered = r->registered();
  s->employer_uscc = Str(r->employer_uscc());
  s->employee_id = Str(r->employee_id());
  s->employee_name = Str(r->employee_name());
  s->start_month = r->start_month();
  s->end_month = r->end_month();
  if (r->months() != nullptr) {
    for (const auto* m : *r->months()) {
      s->months[m->month()] = MonthContribution{m->base_fen(),         m->rate_bp(),
                                                m->declared_fen(),     m->paid_fen(),
                                                m->declared_position(), m->paid_position()};
    }
  }
  return true;
}

std::string EncodeOrgState(const OrgState& s) {
  flatbuffers::FlatBufferBuilder fbb(64);
  fbb.Finish(fb::CreateOrgRow(fbb, s.version, s.pilot_uscc_accepted, s.pilot_override_position));
  return Finish(fbb);
}

bool DecodeOrgState(std::string_view bytes, OrgState* s) {
  const auto* r = Verified<fb::OrgRow>(bytes);
  if (r == nullptr) return false;
  s->version = r->version();
  s->pilot_uscc_accepted = r->pilot_uscc_accepted();
  s->pilot_override_position = r->pilot_override_position();
  return true;
}

bool VerifyPaymentRow(std::string_view bytes) { return Verified<fb::PaymentRow>(bytes) != nullptr; }
bool VerifyQueueRow(std::string_view bytes) { return Verified<fb::QueueRow>(bytes) != nullptr; }

}  // namespace shebao::domain
