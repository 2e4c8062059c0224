#include "ledger/domain/projector.h"
#include "ledger/domain/fb_strings.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <system_error>
#include <type_traits>
#include <variant>

#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/domain/projection_rows.h"

namespace shebao::domain {
namespace {

using ledger::Code;
using ledger::Status;


Status Malformed(std::string_view what, uint64_t position) {
  return Status(Code::corruption, fmt::format("position {}: projection row {} is malformed", position, what));
}

Day YearStart(int year) { return DayFromYmd(year, 1, 1).value_or(0); }
Day YearEnd(int year) { return DayFromYmd(year, 12, 31).value_or(0); }

// A reversal or refund is shown as the negative of its amount (the most negative int64 has no
// negative: it is shown as the largest).
int64_t NegatedFen(int64_t amount) {
  return amount == std::numeric_limits<int64_t>::min() ? std::numeric_limits<int64_t>::max()
                                                       : -amount;
}

struct Payment {
  fb::PaymentKind kind = fb::PaymentKind::unknown;
  int64_t amount_fen = 0;
  fb::PayerKind payer = fb::PayerKind::unknown;
  std::string_view payer_id, bank_code, bank_ref, note;
  uint64_t original_position = 0;
};

void PutPayment(ledger::ProjectionWriter* w, const ledger::RecordedEvent& re, std::string_view person,
                const Payment& p, Day period_start, Day period_end) {
  const fb::Event& e = *re.event();
  flatbuffers::FlatBufferBuilder fbb(256);
  auto row = fb::CreatePaymentRowDirect(
      fbb, re.position, p.kind, e.effective_day(), e.recorded_us(), p.amount_fen, p.payer,
      std::string(p.payer_id).c_str(), e.channel(), std::string(p.bank_code).c_str(),
      std::string(p.bank_ref).c_str(), period_start, period_end, e.stream_id()->c_str(),
      p.original_position, std::string(p.note).c_str());
  fbb.Finish(row);
  w->Put(PaymentKey(person, re.position),
         std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
}

// The payment-record line of a case event, if it is one.
bool CasePayment(const fb::Event& e, const CaseState& s, Payment* p) {
  switch (e.payload_type()) {
    case fb::Payload::PremiumCollected: {
      const auto* x = e.payload_as_PremiumCollected();
      *p = {fb::PaymentKind::premium, x->amount_fen(), x->payer(), View(x->payer_id()),
            View(x->bank_code()), View(x->bank_ref()), "individual share", 0};
      return true;
    }
    case fb::Payload::SubsidyRecorded: {
      const auto* x = e.payload_as_SubsidyRecorded();
      *p = {fb::PaymentKind::subsidy, x->amount_fen(), x->payer(), View(x->payer_org()), "",
            View(x->reference()), View(x->program()), 0};
      return true;
    }
    case fb::Payload::CertificateFeePaid: {
      const auto* x = e.payload_as_CertificateFeePaid();
      *p = {fb::PaymentKind::certificate_fee, x->amount_fen(), fb::PayerKind::unknown,
            e.actor() != nullptr ? View(e.actor()->org_id()) : std::string_view(), "",
            View(x->receipt_no()), "certificate-making fee (not a premium)", 0};
      return true;
    }
    case fb::Payload::CollectionFailed: {
      const auto* x = e.payload_as_CollectionFailed();
      *p = {fb::PaymentKind::collection_failed, x->amount_fen(), x->payer(), "",
            View(x->bank_code()), View(x->bank_ref()), View(x->reason_text()), 0};
      return true;
    }
    case fb::Payload::PaymentReversed: {
      const auto* x = e.payload_as_PaymentReversed();
      *p = {fb::PaymentKind::reversal, NegatedFen(x->amount_fen()), fb::PayerKind::unknown, "",
            View(x->bank_code()), View(x->original_bank_ref()), View(x->reason_text()),
            x->original_position()};
      return true;
    }
    case fb::Payload::PaymentRefunded: {
      const auto* x = e.payload_as_PaymentRefunded();
      *p = {fb::PaymentKind::refund, NegatedFen(x->amount_fen()), fb::PayerKind::unknown, "",
            View(x->bank_code()), View(x->refund_ref()), View(x->reason_text()),
            x->original_position()};
      return true;
    }
    default:
      (void)s;
      return false;
  }
}

// The state a row holds before an event: from the rows kept in a batch (kept non-null), else
// read through the writer and decoded (and, in a batch, kept from now on). *state points into
// kept or at *local; *found says whether the row existed.
// With undo (an undoable batch), the kept row's state before this event is saved first.
template <typename State>
Status RowState(ledger::ProjectionWriter* w, const std::string& key, uint64_t position,
                bool (*decode)(std::string_view, State*),
                std::unordered_map<std::string, State>* kept, std::vector<KeptRowUndo>* undo,
                State* local, State** state, bool* found) {
  SHEBAO_ASSERT(undo == nullptr || kept != nullptr);
  if (kept != nullptr) {
    if (auto it = kept->find(key); it != kept->end()) {
      if (undo != nullptr) {
        undo->push_back({key, std::optional<State>(it->second)});
      }
      *state = &it->second;
      *found = true;
      return Status::OK();
    }
  }
  std::string bytes;
  *found = false;
  Status s = w->Get(key, &bytes, found);
  if (!s.ok()) return s;
  if (*found && !decode(bytes, local)) return Malformed(key, position);
  if (kept == nullptr) {
    *state = local;
    return Status::OK();
  }
  if (undo != nullptr) undo->push_back({key, std::optional<State>()});
  *state = &kept->emplace(key, std::move(*local)).first->second;
  return Status::OK();
}

Status ApplyCase(const ledger::RecordedEvent& re, ledger::ProjectionWriter* w,
                 std::unordered_map<std::string, CaseState>* kept,
                 std::vector<KeptRowUndo>* undo) {
  const fb::Event& e = *re.event();
  // "case/<year>/<child>"
  const std::string_view stream = View(e.stream_id());
  const size_t slash = stream.find('/', 5);
  if (slash == std::string_view::npos) return Status::OK();
  int year = 0;
  const std::string_view year_text = stream.substr(5, slash - 5);
  const auto [year_end, year_error] =
      std::from_chars(year_text.data(), year_text.data() + year_text.size(), year);
  if (year_error != std::errc() || year_end != year_text.data() + year_text.size()) {
    return Status::OK();
  }
  const std::string child(stream.substr(slash + 1));
  // Only the stream CaseStreamId names has the row: "case/02026/<child>" (which Append accepts
  // as well) would otherwise be folded into the row of "case/2026/<child>", out of its versions.
  if (stream != CaseStreamId(year, child)) return Status::OK();

  const std::string key = CaseKey(child, year);
  bool found = false;
  CaseState local;
  CaseState* row = nullptr;
  Status s = RowState(w, key, re.position, DecodeCaseState, kept, undo, &local, &row, &found);
  if (!s.ok()) return s;
  CaseState& state = *row;
  const bool was_open = found && NextStepOf(state).step != Step::none;
  const std::string old_queue = was_open ? QueueKey(QueueAgencyOf(state), child, year) : "";

  ApplyCaseEvent(&state, e, re.position);
  if (kept == nullptr) w->Put(key, EncodeCaseState(state));

  Payment payment;
  if (CasePayment(e, state, &payment)) {
    PutPayment(w, re, child, payment, YearStart(year), YearEnd(year));
  }

  const NextStep next = NextStepOf(state);
  const std::string new_queue = next.step != Step::none ? QueueKey(QueueAgencyOf(state), child, year) : "";
  if (!old_queue.empty() && old_queue != new_queue) w->Delete(old_queue);
  if (!new_queue.empty()) {
    flatbuffers::FlatBufferBuilder fbb(128);
    fbb.Finish(fb::CreateQueueRowDirect(fbb, state.stream_id.c_str(), static_cast<uint8_t>(state.step),
                                        static_cast<uint8_t>(next.step), next.owner,
                                        state.last_effective_day, state.certificate_due_day,
                                        state.due_provisional));
    w->Put(new_queue, std::string_view(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize()));
  }
  return Status::OK();
}

Status ApplyEmployment(const ledger::RecordedEvent& re, ledger::ProjectionWriter* w,
                       std::unordered_map<std::string, EmploymentState>* kept,
                       std::vector<KeptRowUndo>* undo) {
  const fb::Event& e = *re.event();
  const std::string_view stream = View(e.stream_id());  // "employer/<uscc>/<employee>"
  const size_t slash = stream.find('/', 9);
  if (slash == std::string_view::npos) return Status::OK();
  const std::string uscc(stream.substr(9, slash - 9));
  const std::string employee(stream.substr(slash + 1));
  const std::string key = EmploymentKey(uscc, employee);
  bool found = false;
  EmploymentState local;
  EmploymentState* state = nullptr;
  Status s =
      RowState(w, key, re.position, DecodeEmploymentState, kept, undo, &local, &state, &found);
  if (!s.ok()) return s;
  ApplyEmploymentEvent(state, e, re.position);
  if (kept == nullptr) w->Put(key, EncodeEmploymentState(*state));

  int month = 0;
  Payment p;
  if (e.payload_type() == fb::Payload::ContributionDeclared) {
    const auto* x = e.payload_as_ContributionDeclared();
    month = x->contribution_month();
    p = {fb::PaymentKind::employer_contribution_declared, x->amount_fen(), fb::PayerKind::employer,
         View(x->employer_uscc()), "", "", "declared", 0};
  } else if (e.payload_type() == fb::Payload::ContributionPaid) {
    const auto* x = e.payload_as_ContributionPaid();
    month = x->contribution_month();
    p = {fb::PaymentKind::employer_contribution_paid, x->amount_fen(), fb::PayerKind::employer,
         View(x->employer_uscc()), View(x->bank_code()), View(x->bank_ref()), "paid", 0};
  }
  if (month != 0) {
    const Day start = DayFromYmd(month / 100, static_cast<unsigned>(month % 100), 1).value_or(0);
    PutPayment(w, re, employee, p, start, AddMonths(start, 1) - 1);
  }
  return Status::OK();
}

Status ApplyOrg(const ledger::RecordedEvent& re, ledger::ProjectionWriter* w,
                std::unordered_map<std::string, OrgState>* kept, std::vector<KeptRowUndo>* undo) {
  const fb::Event& e = *re.event();
  const std::string key = OrgKey(View(e.stream_id()).substr(4));
  bool found = false;
  OrgState local;
  OrgState* state = nullptr;
  Status s = RowState(w, key, re.position, DecodeOrgState, kept, undo, &local, &state, &found);
  if (!s.ok()) return s;
  ApplyOrgEvent(state, e, re.position);
  if (kept == nullptr) w->Put(key, EncodeOrgState(*state));
  return Status::OK();
}

}  // namespace

std::string QueueAgencyOf(const CaseState& s) {
  if (!s.agency_division_code.empty()) return s.agency_division_code;
  if (s.pathway == fb::Pathway::not_in_school && !s.issuing_org.empty()) return s.issuing_org;
  if (!s.household_division_code.empty()) return s.household_division_code;
  // Before the declaration names the household area: a school's USCC carries the division code
  // of its registration area in characters 3-8 (GB 32100-2015); other issuers are agencies or
  // civil affairs offices identified by their division code.
  if (s.issuing_org.size() == 18) return s.issuing_org.substr(2, 6);
  return s.issuing_org;
}

Status DomainProjector::Apply(const ledger::RecordedEvent& re, ledger::ProjectionWriter* w) {
  const std::string_view stream = View(re.event()->stream_id());
  std::vector<KeptRowUndo>* undo = undoable_ ? &undo_ : nullptr;
  if (stream.starts_with("case/")) return ApplyCase(re, w, in_batch_ ? &cases_ : nullptr, undo);
  if (stream.starts_with("employer/")) {
    return ApplyEmployment(re, w, in_batch_ ? &employments_ : nullptr, undo);
  }
  if (stream.starts_with("org/")) return ApplyOrg(re, w, in_batch_ ? &orgs_ : nullptr, undo);
  return Status::OK();  // other streams have no projection
}

void DomainProjector::BeginBatch(bool undoable) {
  SHEBAO_ASSERT(!in_batch_ && cases_.empty() && employments_.empty() && orgs_.empty() &&
                undo_.empty());
  in_batch_ = true;
  undoable_ = undoable;
}

size_t DomainProjector::Mark() const {
  SHEBAO_ASSERT(in_batch_ && undoable_);
  return undo_.size();
}

void DomainProjector::Rollback(size_t mark) {
  SHEBAO_ASSERT(in_batch_ && undoable_ && mark <= undo_.size());
  while (undo_.size() > mark) {
    KeptRowUndo& u = undo_.back();
    std::visit(
        [&](auto& previous) {
          using State = typename std::remove_reference_t<decltype(previous)>::value_type;
          std::unordered_map<std::string, State>* kept = nullptr;
          if constexpr (std::is_same_v<State, CaseState>) kept = &cases_;
          if constexpr (std::is_same_v<State, EmploymentState>) kept = &employments_;
          if constexpr (std::is_same_v<State, OrgState>) kept = &orgs_;
          if (previous.has_value()) {
            kept->insert_or_assign(u.key, std::move(*previous));
          } else {
            SHEBAO_ASSERT(kept->erase(u.key) == 1);
          }
        },
        u.previous);
    undo_.pop_back();
  }
}

ledger::Status DomainProjector::EndBatch(ledger::ProjectionWriter* w) {
  SHEBAO_ASSERT(in_batch_);
  for (const auto& [key, state] : cases_) w->Put(key, EncodeCaseState(state));
  for (const auto& [key, state] : employments_) w->Put(key, EncodeEmploymentState(state));
  for (const auto& [key, state] : orgs_) w->Put(key, EncodeOrgState(state));
  AbortBatch();
  return Status::OK();
}

void DomainProjector::AbortBatch() {
  in_batch_ = false;
  undoable_ = false;
  undo_.clear();
  cases_.clear();
  employments_.clear();
  orgs_.clear();
}

}  // namespace shebao::domain
