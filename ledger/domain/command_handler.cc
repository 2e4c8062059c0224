#include "ledger/domain/command_handler.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <variant>

#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/domain/case_rules.h"
#include "ledger/domain/case_state.h"
#include "ledger/domain/employer.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/domain/waiting_period.h"
#include "ledger/envelope.h"

namespace shebao::domain {
namespace {

using ledger::Code;
using ledger::Status;

// Events not yet appended are folded at this position (their real one is assigned on append).
constexpr uint64_t kPendingPosition = UINT64_MAX;
// How far back a child's earlier coverage years are looked up for lapses.
constexpr int kPriorYearsMax = 18;
constexpr size_t kReferenceBytesMax = 64;

bool PrintableAscii(std::string_view s) {
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// How far ahead of `at` an employment command may name a month (date_out_of_range).
constexpr int kEmploymentMonthsAheadMax = 12;

// The dates of an employment event: not before the employee was born (far past), and its month
// at most kEmploymentMonthsAheadMax months after the month of `at` (far future: 2062-01 for
// 2026-01 would otherwise be recorded as a real employment or contribution).
Rejection CheckEmploymentDates(const fb::Event& e, std::string_view employee) {
  const Day birth = *CitizenIdBirthDay(employee);
  if (e.effective_day() < birth) {
    return Reject(Rule::date_out_of_range, "at",
                  fmt::format("{} is before the employee was born ({})",
                              FormatIsoDay(e.effective_day()), FormatIsoDay(birth)));
  }
  int32_t yyyymm = 0;
  std::string_view field;
  switch (e.payload_type()) {
    case fb::Payload::EmployeeRegistered:
      yyyymm = e.payload_as_EmployeeRegistered()->start_month();
      field = "start_month";
      break;
    case fb::Payload::EmployeeDeregistered:
      yyyymm = e.payload_as_EmployeeDeregistered()->end_month();
      field = "end_month";
      break;
    case fb::Payload::ContributionDeclared:
      yyyymm = e.payload_as_ContributionDeclared()->contribution_month();
      field = "month";
      break;
    case fb::Payload::ContributionPaid:
      yyyymm = e.payload_as_ContributionPaid()->contribution_month();
      field = "month";
      break;
    default:
      return Rejection::None();
  }
  const Ymd at = ToYmd(e.effective_day());
  const Ymd born = ToYmd(birth);
  const int month = (yyyymm / 100) * 12 + yyyymm % 100 - 1;
  if (month < born.year * 12 + static_cast<int>(born.month) - 1) {
    return Reject(Rule::date_out_of_range, std::string(field),
                  fmt::format("{} is before the employee was born ({})", yyyymm,
                              FormatIsoDay(birth)));
  }
  if (month > at.year * 12 + static_cast<int>(at.month) - 1 + kEmploymentMonthsAheadMax) {
    return Reject(Rule::date_out_of_range, std::string(field),
                  fmt::format("{} is more than {} months after the month of at ({})", yyyymm,
                              kEmploymentMonthsAheadMax, FormatIsoDay(e.effective_day())));
  }
  return Rejection::None();
}

// A stream's state after a planned command, as its projection row will hold it.
using PendingRow = std::variant<std::monostate, CaseState, EmploymentState, OrgState>;

// The events one command appends, all on one stream.
struct Plan {
  std::string stream;
  uint64_t expected_version = 0;
  std::vector<std::string> events;
  std::vector<std::string> claims;
  // With a known first position: the stream's projection row after these events, decoded (it
  // answers later plans of the same stream until the store has it; encoding it is the
  // projector's work).
  std::string row_key;
  PendingRow row;
};

// What the commands of one chunk, planned but not yet appended, change (ExecuteMany): their
// streams' projection rows, the claims they take, their idempotency keys.
struct PendingKey {
  ledger::Hash256 digest;
  uint64_t first_position;  // predicted: the store assigns exactly these (asserted)
  uint64_t last_position;
};
struct Pending {
  std::unordered_map<std::string, PendingRow> rows;
  std::unordered_set<std::string> claims;
  std::unordered_map<std::string, PendingKey> keys;
  void Clear() {
    rows.clear();
    claims.clear();
    keys.clear();
  }
};

// The changes a plan must see beside the store's: the chunk being planned, and the chunk
// being appended meanwhile (either may be null). Neither may change while a planner reads it.
struct PendingView {
  const Pending* planning = nullptr;
  const Pending* appending = nullptr;

  const PendingRow* Row(const std::string& key) const {
    for (const Pending* p : {planning, appending}) {
      if (p == nullptr) continue;
      if (auto it = p->rows.find(key); it != p->rows.end()) return &it->second;
    }
    return nullptr;
  }
  bool HasClaim(const std::string& claim) const {
    return (planning != nullptr && planning->claims.contains(claim)) ||
           (appending != nullptr && appending->claims.contains(claim));
  }
  const PendingKey* Key(const std::string& key) const {
    for (const Pending* p : {planning, appending}) {
      if (p == nullptr) continue;
      if (auto it = p->keys.find(key); it != p->keys.end()) return &it->second;
    }
    return nullptr;
  }
};

// Reads every event of a stream and folds it with apply.
template <typename State, typename Apply>
Status LoadStream(const ledger::EventStore& store, const std::string& stream, State* state,
                  Apply apply) {
  uint64_t from = 1;
  while (true) {
    std::vector<ledger::RecordedEvent> events;
    Status s = store.ReadStream(stream, from, ledger::Direction::forward, 1024, &events);
    if (!s.ok()) return s;
    for (const auto& re : events) apply(state, *re.event(), re.position);
    if (events.size() < 1024) return Status::OK();
    from += events.size();
  }
}

// Builds the envelope of each event of one command.
class EventMaker {
 public:
  EventMaker(const Command& command, std::string stream, uint64_t base_version)
      : command_(command), stream_(std::move(stream)), version_(base_version),
        causation_(fmt::format("cmd:{}", SpecOf(command.kind).name)) {}

  flatbuffers::FlatBufferBuilder& fbb() { return fbb_; }

  // An event by the command's actor.
  std::string Make(fb::Payload type, flatbuffers::Offset<void> payload) {
    return Finish(type, payload, command_.actor.role, command_.actor.org, command_.actor.id,
                  command_.channel);
  }
  // An entry the agency's system records with the command (subsidy, coverage status).
  std::string MakeByAgencySystem(fb::Payload type, flatbuffers::Offset<void> payload,
                                 std::string_view agency) {
    return Finish(type, payload, fb::Role::agency, agency, "system", fb::Channel::system);
  }

 private:
  std::string Finish(fb::Payload type, flatbuffers::Offset<void> payload, fb::Role role,
                     std::string_view org, std::string_view person, fb::Channel channel) {
    ledger::EnvelopeFields env;
    env.stream_id = stream_;
    env.effective_day = command_.day;
    env.effective_second = command_.second;
    env.role = role;
    env.org_id = org;
    env.person_id = person;
    env.channel = channel;
    env.idempotency_key = command_.idempotency_key;
    env.correlation_id = stream_;
    env.causation_id = causation_;
    std::string bytes = ledger::FinishEvent(fbb_, env, type, payload);
    // The version the store will assign, so the event can be folded before it is appended.
    SHEBAO_ASSERT(fb::GetMutableEvent(bytes.data())->mutate_stream_version(++version_));
    return bytes;
  }

  const Command& command_;
  const std::string stream_;
  uint64_t version_;
  const std::string causation_;
  flatbuffers::FlatBufferBuilder fbb_{1024};
};

// Where the current state of a stream comes from: its projection row, or a fold of its events.
class StateSource {
 public:
  StateSource(const ledger::EventStore& store, bool from_projections, const PendingView* pending)
      : store_(store), from_projections_(from_projections), pending_(pending) {
    SHEBAO_ASSERT(pending_ == nullptr || from_projections_);
  }

  Status Case(const std::string& stream, std::string_view child, int year, CaseState* state) const {
    if (!from_projections_) return LoadStream(store_, stream, state, ApplyCaseEvent);
    return Row(CaseKey(child, year), state, DecodeCaseState);
  }
  Status Employment(const std::string& stream, std::string_view uscc, std::string_view employee,
                    EmploymentState* state) const {
    if (!from_projections_) return LoadStream(store_, stream, state, ApplyEmploymentEvent);
    return Row(EmploymentKey(uscc, employee), state, DecodeEmploymentState);
  }
  Status Org(std::string_view org_id, OrgState* state) const {
    if (!from_projections_) return LoadStream(store_, OrgStreamId(org_id), state, ApplyOrgEvent);
    return Row(OrgKey(org_id), state, DecodeOrgState);
  }

 private:
  template <typename State, typename Decode>
  Status Row(const std::string& key, State* state, Decode decode) const {
    if (pending_ != nullptr) {
      if (const PendingRow* row = pending_->Row(key); row != nullptr) {
        // A key names one kind of row: a case key a CaseState, and so on.
        SHEBAO_ASSERT(std::holds_alternative<State>(*row));
        *state = std::get<State>(*row);
        return Status::OK();
      }
    }
    std::string bytes;
    bool found = false;
    Status s = store_.GetProjection(key, &bytes, &found);
    if (!s.ok() || !found) return s;
    if (!decode(bytes, state)) {
      return Status(Code::corruption, fmt::format("projection row {} is malformed", key));
    }
    return Status::OK();
  }
  const ledger::EventStore& store_;
  const bool from_projections_;
  const PendingView* pending_;
};

class Planner {
 public:
  // pending (may be null) describes commands planned but not yet appended; first_position (0
  // if unknown) is the position the plan's first event will get, and makes the plan carry the
  // stream's new projection row.
  Planner(const ledger::EventStore& store, const PremiumTable& premiums,
          const WorkingDayCalendar& calendar, bool from_projections,
          const PendingView* pending = nullptr, uint64_t first_position = 0)
      : store_(store),
        premiums_(premiums),
        calendar_(calendar),
        source_(store, from_projections, pending),
        pending_(pending),
        first_position_(first_position) {
    ctx_.premiums = &premiums_;
    ctx_.calendar = &calendar_;
    ctx_.pilot_uscc_accepted = [this](std::string_view uscc) {
      OrgState org;
      Status s = source_.Org(uscc, &org);
      if (!s.ok()) {
        load_status_ = s;
        return false;
      }
      return org.pilot_uscc_accepted;
    };
  }

  // Plans the command. A non-OK Status is a ledger failure; *rejection a refusal.
  Status PlanCommand(const Command& c, Plan* plan, Rejection* rejection) {
    *rejection = PlanImpl(c, plan);
    return load_status_;
  }

  // A claim already held, or taken by a command planned before this one: bank_ref_taken.
  Rejection CheckClaim(const std::string& claim) {
    uint64_t holder = 0;
    Status s = store_.ClaimHolder(claim, &holder);
    if (!s.ok()) {
      load_status_ = s;
      return Rejection::None();
    }
    if (holder != 0 || (pending_ != nullptr && pending_->HasClaim(claim))) {
      return Reject(Rule::bank_ref_taken, "bank_ref",
                    holder != 0 ? fmt::format("claim {} is held by the batch at position {}",
                                              claim, holder)
                                : fmt::format("claim {} is taken by an earlier command", claim));
    }
    return Rejection::None();
  }

  // Folds the plan's events (at the positions they will get) into state and keeps the row.
  template <typename State, typename Apply>
  void KeepRow(State state, const std::string& key, Apply apply, Plan* plan) {
    if (first_position_ == 0) return;
    for (size_t i = 0; i < plan->events.size(); ++i) {
      apply(&state, *fb::GetEvent(plan->events[i].data()), first_position_ + i);
    }
    plan->row_key = key;
    plan->row = std::move(state);
  }

 private:
  Rejection PlanImpl(const Command& c, Plan* plan) {
    switch (c.kind) {
      case CommandKind::register_employee:
      case CommandKind::deregister_employee:
      case CommandKind::declare_contribution:
      case CommandKind::pay_contribution:
        return PlanEmployment(c, plan);
      case CommandKind::record_override:
        if (c.str("kind") == "pilot_uscc_checksum") return PlanOrgOverride(c, plan);
        return PlanCase(c, plan);
      default:
        return PlanCase(c, plan);
    }
  }

  Rejection LoadCase(const Command& c, std::string* stream, CaseState* state) {
    if (!c.has("child_id") || !c.has("coverage_year")) {
      return Reject(Rule::field_missing, c.has("child_id") ? "coverage_year" : "child_id",
                    "which case: child_id and coverage_year");
    }
    const std::string& child = c.str("child_id");
    if (Rule r = CheckCitizenId(child); r != Rule::ok) {
      return Reject(r, "child_id", "the child's citizen ID is not valid (GB 11643-1999)");
    }
    const int64_t year = c.num("coverage_year");
    if (year < kYearMin || year > kYearMax) {
      return Reject(Rule::coverage_year_out_of_range, "coverage_year", "not a plausible year");
    }
    *stream = CaseStreamId(static_cast<int>(year), child);
    Status s = source_.Case(*stream, child, static_cast<int>(year), state);
    if (!s.ok()) load_status_ = s;
    state->stream_id = *stream;
    return Rejection::None();
  }

  // Checks each planned event against the state folded so far.
  Rejection CheckCase(CaseState state, const std::vector<std::string>& events) {
    for (const auto& bytes : events) {
      const fb::Event* e = fb::GetEvent(bytes.data());
      if (auto r = CheckCaseEvent(state, *e, ctx_); !r.ok()) return r;
      ApplyCaseEvent(&state, *e, kPendingPosition);
    }
    return Rejection::None();
  }

  Rejection PriorCoverage(const CaseState& s, bool* ever_covered, int* lapsed_years) {
    *ever_covered = false;
    *lapsed_years = 0;
    const int birth_year = ToYmd(s.birth_day).year;
    int uncovered = 0;
    for (int y = s.coverage_year - 1; y >= birth_year && y >= s.coverage_year - kPriorYearsMax;
         --y) {
      const std::string stream = CaseStreamId(y, s.child_id);
      CaseState prior;
      Status st = source_.Case(stream, s.child_id, y, &prior);
      if (!st.ok()) {
        load_status_ = st;
        return Rejection::None();
      }
      const bool covered = prior.version > 0 && prior.coverage == fb::CoverageStatus::active;
      if (covered) {
        *ever_covered = true;
        *lapsed_years = uncovered;
        return Rejection::None();
      }
      ++uncovered;
    }
    return Rejection::None();  // never covered: a first enrollment, not a lapse
  }

  Rejection PlanCase(const Command& c, Plan* plan) {
    CaseState s;
    if (auto r = LoadCase(c, &plan->stream, &s); !r.ok()) return r;
    if (!load_status_.ok()) return Rejection::None();
    plan->expected_version = s.version;
    EventMaker m(c, plan->stream, s.version);
    auto& b = m.fbb();
    const std::string& child = c.str("child_id");
    const auto year = static_cast<uint16_t>(c.num("coverage_year"));
    const char* case_id = plan->stream.c_str();
    auto& ev = plan->events;

    switch (c.kind) {
      case CommandKind::issue_materials: {
        fb::Pathway pathway = c.str("pathway") == "school"          ? fb::Pathway::school
                              : c.str("pathway") == "not_in_school" ? fb::Pathway::not_in_school
                                                                    : fb::Pathway::low_income;
        ev.push_back(m.Make(fb::Payload::MaterialsIssued,
                            fb::CreateMaterialsIssuedDirect(b, case_id, child.c_str(), pathway, year,
                                                            c.actor.org.c_str())
                                .Union()));
        break;
      }
      case CommandKind::confirm_low_income_list:
        ev.push_back(m.Make(fb::Payload::LowIncomeListConfirmed,
                            fb::CreateLowIncomeListConfirmedDirect(
                                b, case_id, c.str("list_no").c_str(),
                                c.str("low_income_certificate_no").c_str(), c.flag("sealed"))
                                .Union()));
        break;
      case CommandKind::declare: {
        const auto rel = c.str("relationship") == "father"   ? fb::Relationship::father
                         : c.str("relationship") == "mother" ? fb::Relationship::mother
                                                             : fb::Relationship::other_guardian;
        const Day birth = CitizenIdBirthDay(child).value_or(0);
        ev.push_back(m.Make(
            fb::Payload::DeclarationSubmitted,
            fb::CreateDeclarationSubmittedDirect(
                b, case_id, child.c_str(), c.str("child_name").c_str(), birth,
                c.str("guardian_id").c_str(), c.str("guardian_name").c_str(), rel,
                c.str("household_division_code").c_str(), s.pathway, year,
                (c.has("school_uscc") ? c.str("school_uscc") : s.school_uscc).c_str(),
                c.flag("settled_outside_city"), c.flag("resubmission"),
                c.str("declaration_ref").c_str())
                .Union()));
        break;
      }
      case CommandKind::submit_materials:
        ev.push_back(m.Make(fb::Payload::MaterialsSubmitted,
                            fb::CreateMaterialsSubmittedDirect(b, case_id, c.str("to_org").c_str(),
                                                               c.flag("resubmission"))
                                .Union()));
        break;
      case CommandKind::review: {
        const auto stage = c.str("stage") == "school"          ? fb::ReviewStage::school
                           : c.str("stage") == "civil_affairs" ? fb::ReviewStage::civil_affairs
                                                               : fb::ReviewStage::agency;
        const auto outcome = c.str("outcome") == "accepted" ? fb::ReviewOutcome::accepted
                             : c.str("outcome") == "refused"
                                 ? fb::ReviewOutcome::refused
                                 : fb::ReviewOutcome::returned_for_correction;
        ev.push_back(m.Make(fb::Payload::ReviewDecided,
                            fb::CreateReviewDecidedDirect(b, case_id, stage, outcome,
                                                          c.str("reason_code").c_str(),
                                                          c.str("reason").c_str())
                                .Union()));
        break;
      }
      case CommandKind::forward_to_agency:
        ev.push_back(m.Make(fb::Payload::ForwardedToAgency,
                            fb::CreateForwardedToAgencyDirect(
                                b, case_id, c.actor.org.c_str(),
                                c.str("agency_division_code").c_str(), c.str("batch_ref").c_str())
                                .Union()));
        break;
      case CommandKind::receive:
        ev.push_back(m.Make(fb::Payload::AgencyReceived,
                            fb::CreateAgencyReceivedDirect(b, case_id, c.actor.org.c_str(),
                                                           c.str("receipt_no").c_str())
                                .Union()));
        break;
      case CommandKind::enter_info:
        ev.push_back(m.Make(fb::Payload::InsuranceInfoEntered,
                            fb::CreateInsuranceInfoEnteredDirect(b, case_id, c.actor.org.c_str(),
                                                                 child.c_str(), year)
                                .Union()));
        break;
      case CommandKind::establish_account:
        ev.push_back(m.Make(fb::Payload::CollectionAccountEstablished,
                            fb::CreateCollectionAccountEstablishedDirect(
                                b, case_id, c.str("account_no").c_str(), c.actor.org.c_str(),
                                c.str("bank_code").c_str())
                                .Union()));
        break;
      case CommandKind::collect_premium:
        if (auto r = PlanCollection(c, s, m, plan); !r.ok()) return r;
        break;
      case CommandKind::collection_failed:
        ev.push_back(m.Make(
            fb::Payload::CollectionFailed,
            fb::CreateCollectionFailedDirect(
                b, case_id, year, c.actor.org.c_str(), c.str("bank_ref").c_str(),
                c.str("reason_code").c_str(), c.str("reason").c_str(),
                static_cast<uint16_t>(s.failed_collections + 1), child.c_str(),
                s.pathway == fb::Pathway::low_income ? fb::PayerKind::civil_affairs
                                                     : fb::PayerKind::guardian,
                c.num("amount_fen"))
                .Union()));
        break;
      case CommandKind::reverse_payment:
        ev.push_back(m.Make(fb::Payload::PaymentReversed,
                            fb::CreatePaymentReversedDirect(
                                b, case_id, static_cast<uint64_t>(c.num("original_position")),
                                s.bank_ref.c_str(), s.premium_fen, c.str("reason_code").c_str(),
                                c.str("reason").c_str(), child.c_str(), year, c.actor.org.c_str(),
                                c.str("reversal_ref").c_str())
                                .Union()));
        ev.push_back(CoverageChange(m, s, fb::CoverageStatus::pending, 0, 0,
                                    "premium reversed by the bank"));
        break;
      case CommandKind::refund_payment:
        ev.push_back(m.Make(fb::Payload::PaymentRefunded,
                            fb::CreatePaymentRefundedDirect(
                                b, case_id, static_cast<uint64_t>(c.num("original_position")),
                                s.bank_ref.c_str(), c.num("amount_fen"), c.str("refund_ref").c_str(),
                                c.str("reason_code").c_str(), c.str("reason").c_str(), child.c_str(),
                                year, "")
                                .Union()));
        ev.push_back(CoverageChange(m, s, fb::CoverageStatus::refunded, 0, 0,
                                    "premium refunded by the agency"));
        break;
      case CommandKind::withdraw:
        ev.push_back(m.Make(fb::Payload::ApplicationWithdrawn,
                            fb::CreateApplicationWithdrawnDirect(b, case_id, c.str("reason").c_str(),
                                                                 c.str("reason_code").c_str())
                                .Union()));
        break;
      case CommandKind::request_certificate:
        ev.push_back(m.Make(fb::Payload::CertificateRequested,
                            fb::CreateCertificateRequestedDirect(b, case_id, s.certificate_holder,
                                                                 child.c_str())
                                .Union()));
        break;
      case CommandKind::print_certificate_list:
        ev.push_back(m.Make(
            fb::Payload::CertificateListPrinted,
            fb::CreateCertificateListPrintedDirect(b, case_id, c.str("list_no").c_str()).Union()));
        break;
      case CommandKind::pay_certificate_fee:
        ev.push_back(m.Make(fb::Payload::CertificateFeePaid,
                            fb::CreateCertificateFeePaidDirect(b, case_id, c.num("amount_fen"),
                                                               c.str("receipt_no").c_str(),
                                                               child.c_str(), s.certificate_holder)
                                .Union()));
        break;
      case CommandKind::accept_certificate_procedures: {
        Day due = 0;
        bool provisional = false;
        uint16_t working_days = 0;
        std::string calendar_version;
        if (PathwayHasCertificateDueDate(s.pathway)) {
          const auto d = calendar_.AddWorkingDays(c.day, kCertificateWorkingDays);
          due = d.day;
          provisional = d.provisional;
          working_days = kCertificateWorkingDays;
          calendar_version = calendar_.version();
        }
        ev.push_back(m.Make(fb::Payload::CertificateProceduresAccepted,
                            fb::CreateCertificateProceduresAcceptedDirect(
                                b, case_id, c.day, due, working_days, calendar_version.c_str(),
                                provisional)
                                .Union()));
        break;
      }
      case CommandKind::certificate_ready:
        ev.push_back(m.Make(
            fb::Payload::CertificateReady,
            fb::CreateCertificateReadyDirect(b, case_id, c.str("certificate_no").c_str()).Union()));
        break;
      case CommandKind::collect_certificate:
        ev.push_back(m.Make(fb::Payload::CertificateCollected,
                            fb::CreateCertificateCollectedDirect(b, case_id, s.certificate_holder,
                                                                 s.certificate_no.c_str())
                                .Union()));
        break;
      case CommandKind::issue_certificate:
        ev.push_back(m.Make(fb::Payload::CertificateIssued,
                            fb::CreateCertificateIssuedDirect(b, case_id, s.certificate_no.c_str(),
                                                              child.c_str(),
                                                              s.early_issue_override_position)
                                .Union()));
        break;
      case CommandKind::record_override:
        ev.push_back(m.Make(fb::Payload::OverrideRecorded,
                            fb::CreateOverrideRecordedDirect(
                                b, fb::OverrideKind::early_certificate_issue, case_id, 0,
                                c.str("reason").c_str(), c.str("legal_basis").c_str(),
                                c.actor.id.c_str(), "", c.actor.org.c_str())
                                .Union()));
        break;
      default:
        SHEBAO_ASSERT(false);
    }
    if (auto r = CheckCase(s, ev); !r.ok()) return r;
    KeepRow(s, CaseKey(child, year), ApplyCaseEvent, plan);
    return Rejection::None();
  }

  std::string CoverageChange(EventMaker& m, const CaseState& s, fb::CoverageStatus status,
                             Day effective_day, int waiting_months, std::string_view reason) {
    return m.MakeByAgencySystem(
        fb::Payload::CoverageStatusChanged,
        fb::CreateCoverageStatusChangedDirect(m.fbb(), s.child_id.c_str(),
                                              static_cast<uint16_t>(s.coverage_year), status,
                                              effective_day, std::string(reason).c_str(),
                                              s.stream_id.c_str(), s.coverage,
                                              static_cast<uint8_t>(waiting_months))
            .Union(),
        s.agency_division_code);
  }

  // collect_premium: the individual share (by the guardian, or by civil affairs for a
  // low-income child: a subsidy, Art. 25), the government subsidy, and the coverage decision
  // with its waiting period, in one atomic batch. The bank reference is claimed for the year.
  Rejection PlanCollection(const Command& c, const CaseState& s, EventMaker& m, Plan* plan) {
    const std::string& bank_ref = c.str("bank_ref");
    if (bank_ref.size() > kReferenceBytesMax || !PrintableAscii(bank_ref)) {
      return Reject(Rule::field_type, "bank_ref",
                    fmt::format("a bank reference is 1..{} printable ASCII characters",
                                kReferenceBytesMax));
    }
    if (c.actor.org.size() > kReferenceBytesMax || !PrintableAscii(c.actor.org)) {
      return Reject(Rule::bank_code_invalid, "actor.org", "a bank code is printable ASCII");
    }
    const int64_t paid_back = c.num("paid_back_years");
    if (paid_back < 0 || paid_back > kPriorYearsMax) {
      return Reject(Rule::field_type, "paid_back_years", "0..18 years");
    }
    auto& b = m.fbb();
    const char* case_id = plan->stream.c_str();
    const auto year = static_cast<uint16_t>(s.coverage_year);
    const auto attempt = static_cast<uint16_t>(s.failed_collections + 1);
    if (s.pathway == fb::Pathway::low_income) {
      plan->events.push_back(m.Make(
          fb::Payload::SubsidyRecorded,
          fb::CreateSubsidyRecordedDirect(b, case_id, s.child_id.c_str(), year,
                                          fb::PayerKind::civil_affairs, c.num("amount_fen"),
                                          "low-income individual share", bank_ref.c_str(),
                                          s.issuing_org.c_str())
              .Union()));
    } else {
      const auto payer = c.str("payer") == "person" ? fb::PayerKind::person : fb::PayerKind::guardian;
      plan->events.push_back(m.Make(
          fb::Payload::PremiumCollected,
          fb::CreatePremiumCollectedDirect(
              b, case_id, s.child_id.c_str(), year, payer, c.num("amount_fen"),
              c.actor.org.c_str(), bank_ref.c_str(), attempt,
              (c.has("payer_id") ? c.str("payer_id") : s.guardian_id).c_str())
              .Union()));
    }
    // The first event is checked now: the amounts and order must hold before anything else
    // is derived from them.
    if (auto r = CheckCase(s, plan->events); !r.ok()) return r;

    PremiumTable::Rate rate;
    if (auto r = premiums_.Lookup(s.household_division_code, s.coverage_year, &rate); !r.ok()) {
      return r;
    }
    plan->events.push_back(m.MakeByAgencySystem(
        fb::Payload::SubsidyRecorded,
        fb::CreateSubsidyRecordedDirect(b, case_id, s.child_id.c_str(), year,
                                        fb::PayerKind::government_subsidy, rate.subsidy_fen,
                                        "resident medical insurance subsidy (Art. 25)",
                                        fmt::format("subsidy/{}", bank_ref).c_str(),
                                        s.agency_division_code.c_str())
            .Union(),
        s.agency_division_code));

    bool ever_covered = false;
    int lapsed = 0;
    if (auto r = PriorCoverage(s, &ever_covered, &lapsed); !r.ok()) return r;
    WaitingInput in;
    in.payment_day = c.day;
    in.coverage_year = s.coverage_year;
    in.birth_day = s.birth_day;
    in.in_concentrated_period = InConcentratedPeriod(c.day, s.coverage_year);
    in.lapsed_years = lapsed;
    in.paid_back_years = static_cast<int>(paid_back);
    in.first_enrollment_via_school = s.pathway == fb::Pathway::school && !ever_covered;
    in.low_income_certificate =
        s.pathway == fb::Pathway::low_income && !s.low_income_certificate_no.empty();
    const WaitingResult w = ComputeWaitingPeriod(in);
    plan->events.push_back(CoverageChange(m, s, fb::CoverageStatus::active, w.effective_day,
                                          w.waiting_months, w.reason));
    plan->claims.push_back(fmt::format("bank_ref/{}/{}", s.coverage_year, bank_ref));
    return CheckClaim(plan->claims.back());
  }

  Rejection PlanOrgOverride(const Command& c, Plan* plan) {
    if (!c.has("uscc")) {
      return Reject(Rule::field_missing, "uscc", "a pilot_uscc_checksum override names the USCC");
    }
    const std::string& uscc = c.str("uscc");
    if (uscc.size() != kUsccLength || !PrintableAscii(uscc)) {
      return Reject(Rule::uscc_length, "uscc", "a USCC has 18 characters");
    }
    plan->stream = OrgStreamId(uscc);
    OrgState org;
    Status s = source_.Org(uscc, &org);
    if (!s.ok()) {
      load_status_ = s;
      return Rejection::None();
    }
    plan->expected_version = org.version;
    EventMaker m(c, plan->stream, org.version);
    plan->events.push_back(m.Make(
        fb::Payload::OverrideRecorded,
        fb::CreateOverrideRecordedDirect(m.fbb(), fb::OverrideKind::pilot_uscc_checksum,
                                         plan->stream.c_str(), 0, c.str("reason").c_str(),
                                         c.str("legal_basis").c_str(), c.actor.id.c_str(),
                                         uscc.c_str(), c.actor.org.c_str())
            .Union()));
    if (auto r = CheckOrgEvent(org, *fb::GetEvent(plan->events.back().data())); !r.ok()) return r;
    KeepRow(org, OrgKey(uscc), ApplyOrgEvent, plan);
    return Rejection::None();
  }

  Rejection PlanEmployment(const Command& c, Plan* plan) {
    const std::string& employee = c.str("employee_id");
    if (Rule r = CheckCitizenId(employee); r != Rule::ok) {
      return Reject(r, "employee_id", "the employee's citizen ID is not valid");
    }
    if (c.actor.role != fb::Role::employer) {
      return Reject(Rule::wrong_actor_for_step, "actor.role", "done by the employer");
    }
    if (auto r = CheckOrgUscc(c.actor.org, "actor.org", ctx_); !r.ok()) return r;
    if (!load_status_.ok()) return Rejection::None();
    plan->stream = EmploymentStreamId(c.actor.org, employee);
    EmploymentState st;
    Status s = source_.Employment(plan->stream, c.actor.org, employee, &st);
    if (!s.ok()) {
      load_status_ = s;
      return Rejection::None();
    }
    plan->expected_version = st.version;
    EventMaker m(c, plan->stream, st.version);
    auto& b = m.fbb();
    const char* uscc = c.actor.org.c_str();
    switch (c.kind) {
      case CommandKind::register_employee:
        plan->events.push_back(m.Make(fb::Payload::EmployeeRegistered,
                                      fb::CreateEmployeeRegisteredDirect(
                                          b, uscc, employee.c_str(),
                                          c.str("employee_name").c_str(),
                                          static_cast<int32_t>(c.num("start_month")))
                                          .Union()));
        break;
      case CommandKind::deregister_employee:
        plan->events.push_back(m.Make(fb::Payload::EmployeeDeregistered,
                                      fb::CreateEmployeeDeregisteredDirect(
                                          b, uscc, employee.c_str(),
                                          static_cast<int32_t>(c.num("end_month")),
                                          c.str("reason").c_str())
                                          .Union()));
        break;
      case CommandKind::declare_contribution: {
        const int64_t rate_bp = c.num("rate_bp");
        if (rate_bp <= 0 || rate_bp > 10'000) {
          return Reject(Rule::field_type, "rate_bp", "a rate in basis points, 1..10000");
        }
        plan->events.push_back(m.Make(fb::Payload::ContributionDeclared,
                                      fb::CreateContributionDeclaredDirect(
                                          b, uscc, employee.c_str(),
                                          static_cast<int32_t>(c.num("month")), c.num("base_fen"),
                                          static_cast<int32_t>(rate_bp), c.num("amount_fen"))
                                          .Union()));
        break;
      }
      case CommandKind::pay_contribution: {
        const std::string& bank_ref = c.str("bank_ref");
        if (bank_ref.size() > kReferenceBytesMax || !PrintableAscii(bank_ref)) {
          return Reject(Rule::field_type, "bank_ref", "1..64 printable ASCII characters");
        }
        plan->events.push_back(m.Make(fb::Payload::ContributionPaid,
                                      fb::CreateContributionPaidDirect(
                                          b, uscc, employee.c_str(),
                                          static_cast<int32_t>(c.num("month")), c.num("amount_fen"),
                                          c.str("bank_code").c_str(), bank_ref.c_str())
                                          .Union()));
        plan->claims.push_back(fmt::format("contribution/{}/{}/{}", c.actor.org, employee, bank_ref));
        if (auto r = CheckClaim(plan->claims.back()); !r.ok()) return r;
        break;
      }
      default:
        SHEBAO_ASSERT(false);
    }
    if (auto r = CheckEmploymentEvent(st, *fb::GetEvent(plan->events.back().data()), ctx_);
        !r.ok()) {
      return r;
    }
    if (auto r = CheckEmploymentDates(*fb::GetEvent(plan->events.back().data()), employee);
        !r.ok()) {
      return r;
    }
    KeepRow(st, EmploymentKey(c.actor.org, employee), ApplyEmploymentEvent, plan);
    return Rejection::None();
  }

  const ledger::EventStore& store_;
  const PremiumTable& premiums_;
  const WorkingDayCalendar& calendar_;
  StateSource source_;
  const PendingView* pending_;
  const uint64_t first_position_;
  RuleContext ctx_;
  Status load_status_;
};

}  // namespace

// One thread that runs one task at a time for ExecuteMany's pipeline. It lives as long as the
// handler: a thread per chunk cost more than the overlap won (fresh allocator and RocksDB
// thread caches, page faults: ingest 54k -> 33k events/s).
class CommandHandler::AppendThread {
 public:
  // May throw std::system_error (no thread to be had); the caller then appends unpipelined.
  AppendThread() : thread_([this] { Run(); }) {}
  ~AppendThread() {
    {
      std::lock_guard lock(mu_);
      SHEBAO_ASSERT(!task_);  // REQUIRES: no task running
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

  // REQUIRES: no task started since the last Wait.
  void Start(std::function<Status()> task) {
    {
      std::lock_guard lock(mu_);
      SHEBAO_ASSERT(!task_ && !result_);
      task_ = std::move(task);
    }
    cv_.notify_all();
  }
  // Waits for the started task and returns its Status. REQUIRES: a task was started.
  Status Wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return result_.has_value(); });
    Status s = std::move(*result_);
    result_.reset();
    return s;
  }

 private:
  void Run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [this] { return stop_ || task_; });
      if (!task_) return;  // stop_
      std::function<Status()> task = std::move(*task_);
      lock.unlock();
      Status s = task();
      lock.lock();
      task_.reset();
      result_ = std::move(s);
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::function<Status()>> task_;  // started, not yet finished
  std::optional<Status> result_;                 // finished, not yet waited for
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

CommandHandler::CommandHandler(ledger::EventStore* store, const PremiumTable* premiums,
                               const WorkingDayCalendar* calendar, bool states_from_projections,
                               bool pipelined)
    : store_(store),
      premiums_(premiums),
      calendar_(calendar),
      states_from_projections_(states_from_projections),
      pipelined_(pipelined),
      pipeline_(std::make_unique<Pipeline>()) {
  SHEBAO_ASSERT(store_ != nullptr && premiums_ != nullptr && calendar_ != nullptr);
}

ledger::Hash256 CommandHandler::CommandDigest(const Command& c) {
  // A canonical, length-prefixed serialisation: kind, time, actor, channel, sorted fields; each
  // part as its length (be32) and its bytes. Built in one buffer and hashed once: a hash update
  // and a formatted string per part were a fifth of the planning of a city ingest (perf).
  // The bytes must never change: the digest is stored in each batch's idempotency record
  // (tests/domain_primitives_test.cc "command digest").
  fmt::memory_buffer bytes;
  const auto begin_part = [&] {
    const size_t at = bytes.size();
    bytes.append(std::string_view("\0\0\0\0", 4));
    return at;
  };
  const auto end_part = [&](size_t at) {
    const uint32_t n = static_cast<uint32_t>(bytes.size() - at - 4);
    bytes[at] = static_cast<char>(n >> 24);
    bytes[at + 1] = static_cast<char>(n >> 16);
    bytes[at + 2] = static_cast<char>(n >> 8);
    bytes[at + 3] = static_cast<char>(n);
  };
  const auto put = [&](std::string_view part) {
    const size_t at = begin_part();
    bytes.append(part);
    end_part(at);
  };
  // Integers in decimal, as fmt's "{}" writes them, through fmt::format_int: formatting them
  // with format_to was 29% of the digest (perf, 20,000 children).
  const auto append_int = [&](int64_t n) {
    const fmt::format_int digits(n);
    bytes.append(std::string_view(digits.data(), digits.size()));
  };
  put(SpecOf(c.kind).name);
  size_t at = begin_part();
  append_int(c.day);
  bytes.append(std::string_view("T"));
  append_int(c.second);
  end_part(at);
  put(fb::EnumNameRole(c.actor.role));
  put(c.actor.org);
  put(c.actor.id);
  put(fb::EnumNameChannel(c.channel));
  for (const auto& [name, value] : c.fields) {
    put(name);
    at = begin_part();
    if (const auto* text = std::get_if<std::string>(&value)) {
      bytes.append(std::string_view("s:"));
      bytes.append(*text);
    } else if (const auto* i = std::get_if<int64_t>(&value)) {
      bytes.append(std::string_view("i:"));
      append_int(*i);
    } else {
      bytes.append(std::string_view(std::get<bool>(value) ? "b:1" : "b:0"));
    }
    end_part(at);
  }
  ledger::Sha256 hasher;
  hasher.Update(bytes.data(), bytes.size());
  return hasher.Finish();
}

namespace {

Rejection CheckKey(const std::string& key) {
  if (key.empty() || key.size() > ledger::kIdempotencyKeyBytesMax || !PrintableAscii(key)) {
    return Reject(key.size() > ledger::kIdempotencyKeyBytesMax ? Rule::field_too_long
                                                                : Rule::field_type,
                  "key", "an idempotency key is 1..128 printable ASCII characters");
  }
  return Rejection::None();
}

Rejection KeyConflict(const std::string& key, uint64_t first, uint64_t last) {
  return Reject(Rule::idempotency_conflict, "key",
                fmt::format("key {} was used for a different command at positions {}..{}", key,
                            first, last));
}

}  // namespace

namespace {

// A chunk of ExecuteMany: its plans, as the batches to append, and what they change.
struct Chunk {
  Pending pending;
  std::vector<ledger::AppendBatch> batches;
  std::vector<size_t> batch_command;  // command index of each batch
  std::vector<uint64_t> predicted;    // first position of each batch
  uint64_t next_position = 0;         // the position after the chunk's last event

  void Clear() {
    pending.Clear();
    batches.clear();
    batch_command.clear();
    predicted.clear();
  }
};

// Plans commands [begin, end) into *chunk, against the store, the chunk itself and appending
// (the chunk whose append runs meanwhile, or null). Sets the outcome of every command that
// appends nothing (rejected, duplicate); the others are set by AppendChunk.
Status PlanChunk(const ledger::EventStore& store, const PremiumTable& premiums,
                 const WorkingDayCalendar& calendar, const std::vector<Command>& commands,
                 size_t begin, size_t end, uint64_t first_position, const Chunk* appending,
                 Chunk* chunk_out, std::vector<CommandOutcome>* outcomes) {
  Chunk& chunk = *chunk_out;
  SHEBAO_ASSERT(chunk.batches.empty() && chunk.pending.rows.empty());
  const PendingView view{&chunk.pending, appending != nullptr ? &appending->pending : nullptr};
  // The chunk's idempotency keys in the store, read together (one batched read). The store
  // gains no key meanwhile but those of the chunk being appended, which the view answers first.
  std::vector<std::string_view> keys;
  std::vector<size_t> key_of(end - begin, SIZE_MAX);  // index into keys and stored
  for (size_t i = begin; i < end; ++i) {
    if (!CheckKey(commands[i].idempotency_key).ok()) continue;
    key_of[i - begin] = keys.size();
    keys.push_back(commands[i].idempotency_key);
  }
  std::vector<ledger::IdempotencyLookup> stored;
  if (Status s = store.LookupIdempotencyMany(keys, &stored); !s.ok()) return s;
  uint64_t next_position = first_position;
  for (size_t i = begin; i < end; ++i) {
    const Command& c = commands[i];
    CommandOutcome& out = (*outcomes)[i];
    if (key_of[i - begin] == SIZE_MAX) {  // the key failed CheckKey above: say why
      out.rejection = CheckKey(c.idempotency_key);
      SHEBAO_ASSERT(!out.rejection.ok());
      continue;
    }
    const ledger::Hash256 digest = CommandHandler::CommandDigest(c);
    // A key planned in this chunk or the one being appended: its batch is not in the store's
    // index yet (or may not be), and answers as a committed one will.
    if (const PendingKey* k = view.Key(c.idempotency_key); k != nullptr) {
      if (k->digest == digest) {
        out.duplicate = true;
        out.first_position = k->first_position;
        out.last_position = k->last_position;
      } else {
        out.rejection = KeyConflict(c.idempotency_key, k->first_position, k->last_position);
      }
      continue;
    }
    SHEBAO_ASSERT(key_of[i - begin] < stored.size());
    if (const ledger::IdempotencyLookup& seen = stored[key_of[i - begin]]; seen.found) {
      if (seen.info.content_digest != digest) {
        out.rejection =
            KeyConflict(c.idempotency_key, seen.info.first_position, seen.info.last_position);
      } else {
        out.duplicate = true;
        out.first_position = seen.info.first_position;
        out.last_position = seen.info.last_position;
      }
      continue;
    }
    Planner planner(store, premiums, calendar, true, &view, next_position);
    Plan plan;
    Rejection rejection;
    Status s = planner.PlanCommand(c, &plan, &rejection);
    if (!s.ok()) return s;
    if (!rejection.ok()) {
      out.rejection = std::move(rejection);
      continue;
    }
    SHEBAO_ASSERT(!plan.events.empty() && !plan.row_key.empty());
    const uint64_t last_position = next_position + plan.events.size() - 1;
    chunk.pending.rows.insert_or_assign(plan.row_key, std::move(plan.row));
    for (const auto& claim : plan.claims) chunk.pending.claims.insert(claim);
    chunk.pending.keys[c.idempotency_key] = PendingKey{digest, next_position, last_position};
    ledger::AppendBatch& batch = chunk.batches.emplace_back();
    batch.idempotency_key = c.idempotency_key;
    batch.expectations.push_back(
        {plan.stream, ledger::ExpectedVersion::Exactly(plan.expected_version)});
    batch.claims = std::move(plan.claims);
    batch.content_digest = digest;
    chunk.predicted.push_back(next_position);
    next_position = last_position + 1;
    batch.events = std::move(plan.events);
    chunk.batch_command.push_back(i);
  }
  chunk.next_position = next_position;
  return Status::OK();
}

// Appends a planned chunk in one group commit and sets the outcomes of its batches' commands.
Status AppendChunk(ledger::EventStore* store, const Chunk& chunk,
                   std::vector<CommandOutcome>* outcomes) {
  std::vector<ledger::AppendResult> results;
  std::vector<Status> statuses;
  Status s = store->AppendMany(chunk.batches, &results, &statuses);
  if (!s.ok()) return s;
  for (size_t b = 0; b < chunk.batches.size(); ++b) {
    if (!statuses[b].ok()) {
      if (statuses[b].code() == Code::io_error || statuses[b].code() == Code::corruption ||
          statuses[b].code() == Code::store_failed) {
        return statuses[b];
      }
      return Status(Code::invalid_argument,
                    fmt::format("a planned command was refused by the store ({}); "
                                "ExecuteMany needs to be the only writer",
                                statuses[b].ToString()));
    }
    // The positions the plan predicted (and answered retries within the pipeline with).
    SHEBAO_ASSERT(results[b].first_position == chunk.predicted[b] && !results[b].duplicate);
    SHEBAO_ASSERT(results[b].last_position ==
                  chunk.predicted[b] + chunk.batches[b].events.size() - 1);
    CommandOutcome& out = (*outcomes)[chunk.batch_command[b]];
    out.first_position = results[b].first_position;
    out.last_position = results[b].last_position;
  }
  return Status::OK();
}

}  // namespace

// The two chunks of ExecuteMany's pipeline, kept across calls: one is planned while the other
// may be appending, and the one a call leaves appending is the next call's first "appending".
struct CommandHandler::Pipeline {
  Chunk chunks[2];
  int planning = 0;
  // chunks[1 - planning] is being appended on append_thread_. Written by ExecuteMany's thread;
  // atomic so that Execute may assert it is false from any thread.
  std::atomic<bool> appending{false};
};

CommandHandler::~CommandHandler() {
  // A chunk left appending writes into its caller's outcomes: it must land first.
  if (pipeline_->appending) (void)FinishAppends();
}

Status CommandHandler::ExecuteMany(const std::vector<Command>& commands,
                                   std::vector<CommandOutcome>* outcomes,
                                   bool leave_last_appending) {
  SHEBAO_ASSERT(states_from_projections_);
  outcomes->assign(commands.size(), CommandOutcome());
  Pipeline& p = *pipeline_;
  // Two chunks in a pipeline: while one is appended (on a helper thread), the next is planned
  // against the store and both chunks' pending changes. At most one append runs at a time, so
  // chunks are appended in order; the last one is appended on this thread, unless the caller
  // lets it run on after the return.
  if (pipelined_ && append_thread_ == nullptr &&
      (commands.size() > kExecuteChunkMax || leave_last_appending)) {
    try {
      append_thread_ = std::make_unique<AppendThread>();
    } catch (const std::system_error&) {
      // No thread to be had: every chunk is appended on this thread, unpipelined.
    }
  }
  SHEBAO_ASSERT(!p.appending || append_thread_ != nullptr);
  // The positions the first plan's events will get: after the chunk still appending, if any.
  uint64_t next_position = p.appending ? p.chunks[1 - p.planning].next_position
                                       : store_->head().position + 1;
  for (size_t begin = 0; begin < commands.size(); begin += kExecuteChunkMax) {
    const size_t end = std::min(commands.size(), begin + kExecuteChunkMax);
    Chunk& chunk = p.chunks[p.planning];
    chunk.Clear();
    Status s = PlanChunk(*store_, *premiums_, *calendar_, commands, begin, end, next_position,
                         p.appending ? &p.chunks[1 - p.planning] : nullptr, &chunk, outcomes);
    if (p.appending) {
      // The plan may have read what that append changes (its pending rows answered first); it
      // must land before the next append starts, and before a failure is returned.
      if (const Status a = FinishAppends(); !a.ok()) return a;
    }
    if (!s.ok()) return s;
    next_position = chunk.next_position;
    const bool last = end == commands.size();
    if (append_thread_ == nullptr || (last && !leave_last_appending)) {
      if (s = AppendChunk(store_, chunk, outcomes); !s.ok()) return s;
    } else {
      append_thread_->Start([this, &chunk, outcomes] { return AppendChunk(store_, chunk, outcomes); });
      p.appending = true;
    }
    p.planning = 1 - p.planning;
  }
  // No command: a chunk an earlier call left appending still lands before this call returns.
  if (commands.empty()) return FinishAppends();
  SHEBAO_ASSERT(!p.appending || leave_last_appending);
  return Status::OK();
}

Status CommandHandler::FinishAppends() {
  if (!pipeline_->appending) return Status::OK();
  Status s = append_thread_->Wait();
  pipeline_->appending = false;
  return s;
}

Status CommandHandler::Execute(const Command& c, CommandOutcome* out) {
  // REQUIRES: no chunk left appending by ExecuteMany (this plan would not see its changes).
  SHEBAO_ASSERT(!pipeline_->appending);
  *out = CommandOutcome();
  const std::string& key = c.idempotency_key;
  if (auto r = CheckKey(key); !r.ok()) {
    out->rejection = std::move(r);
    return Status::OK();
  }
  const ledger::Hash256 digest = CommandDigest(c);

  for (int attempt = 0; attempt <= kConflictRetriesMax; ++attempt) {
    // A command executed before is answered from the idempotency index, before any rule: its
    // events changed the state it would be checked against now.
    bool found = false;
    ledger::IdempotencyInfo seen;
    Status s = store_->LookupIdempotency(key, &found, &seen);
    if (!s.ok()) return s;
    if (found) {
      if (seen.content_digest != digest) {
        out->rejection = KeyConflict(key, seen.first_position, seen.last_position);
      } else {
        out->duplicate = true;
        out->first_position = seen.first_position;
        out->last_position = seen.last_position;
      }
      return Status::OK();
    }

    Planner planner(*store_, *premiums_, *calendar_, states_from_projections_);
    Plan plan;
    Rejection rejection;
    s = planner.PlanCommand(c, &plan, &rejection);
    if (!s.ok()) return s;
    if (!rejection.ok()) {
      out->rejection = std::move(rejection);
      return Status::OK();
    }
    SHEBAO_ASSERT(!plan.events.empty());

    ledger::AppendBatch batch;
    batch.idempotency_key = key;
    batch.expectations.push_back({plan.stream, ledger::ExpectedVersion::Exactly(plan.expected_version)});
    batch.events = std::move(plan.events);
    batch.claims = std::move(plan.claims);
    batch.content_digest = digest;
    ledger::AppendResult result;
    s = store_->Append(batch, &result);
    switch (s.code()) {
      case Code::ok:
        out->duplicate = result.duplicate;
        out->first_position = result.first_position;
        out->last_position = result.last_position;
        return Status::OK();
      case Code::version_conflict:
        continue;  // another writer moved the stream: reload and decide again
      case Code::idempotency_conflict:
        out->rejection = Reject(Rule::idempotency_conflict, "key", s.message());
        return Status::OK();
      case Code::claim_taken:
        out->rejection = Reject(Rule::bank_ref_taken, "bank_ref", s.message());
        return Status::OK();
      case Code::io_error:
      case Code::corruption:
      case Code::store_failed:
        return s;
      default:
        // The command built events the store refused on shape: report it as a rejection of
        // the command, naming the store's rule.
        out->rejection = Reject(Rule::field_type, "", s.ToString());
        return Status::OK();
    }
  }
  out->rejection = Reject(Rule::version_conflict, "child_id",
                          "the stream kept changing under concurrent writers; retry the command");
  return Status::OK();
}

}  // namespace shebao::domain
