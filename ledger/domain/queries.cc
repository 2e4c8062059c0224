#include "ledger/domain/queries.h"
#include "ledger/domain/fb_strings.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/memory_projections.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/domain/projector.h"

namespace shebao::domain {
namespace {

using ledger::Code;
using ledger::Status;


Status Malformed(std::string_view key) {
  return Status(Code::corruption, fmt::format("projection row {} is malformed", key));
}

}  // namespace

Status QueryPayments(const ledger::ReadView& view, std::string_view person_id,
                     std::vector<PaymentLine>* out) {
  out->clear();
  Status bad;
  Status s = view.Scan(PaymentPrefix(person_id), [&](std::string_view key, std::string_view value) {
    if (!VerifyPaymentRow(value)) {
      bad = Malformed(key);
      return false;
    }
    const auto* r = flatbuffers::GetRoot<fb::PaymentRow>(value.data());
    out->push_back(PaymentLine{r->position(), r->kind(), r->effective_day(), r->recorded_us(),
                               r->amount_fen(), r->payer(), Str(r->payer_id()), r->channel(),
                               Str(r->bank_code()), Str(r->bank_ref()), r->period_start_day(),
                               r->period_end_day(), Str(r->stream_id()), r->original_position(),
                               Str(r->note())});
    return true;
  });
  return s.ok() ? bad : s;
}

Status QueryRights(const ledger::ReadView& view, std::string_view child_id,
                   std::vector<CaseState>* out) {
  out->clear();
  Status bad;
  Status s = view.Scan(CasePrefix(child_id), [&](std::string_view key, std::string_view value) {
    CaseState state;
    if (!DecodeCaseState(value, &state)) {
      bad = Malformed(key);
      return false;
    }
    out->push_back(std::move(state));
    return true;
  });
  return s.ok() ? bad : s;
}

Status QueryCase(const ledger::ReadView& view, std::string_view child_id, int coverage_year,
                 CaseState* out, bool* found) {
  std::string bytes;
  const std::string key = CaseKey(child_id, coverage_year);
  Status s = view.Get(key, &bytes, found);
  if (!s.ok() || !*found) return s;
  if (!DecodeCaseState(bytes, out)) return Malformed(key);
  return Status::OK();
}

Status QueryQueue(const ledger::ReadView& view, std::string_view agency,
                  std::vector<QueueItem>* out) {
  out->clear();
  Status bad;
  const std::string prefix = QueuePrefix(agency);
  Status s = view.Scan(prefix, [&](std::string_view key, std::string_view value) {
    // "Q/<agency>/<child>/<year>"
    const std::string_view rest = key.substr(prefix.size());
    const size_t slash = rest.rfind('/');
    if (!VerifyQueueRow(value) || slash == std::string_view::npos) {
      bad = Malformed(key);
      return false;
    }
    const auto* r = flatbuffers::GetRoot<fb::QueueRow>(value.data());
    QueueItem item;
    item.child_id = std::string(rest.substr(0, slash));
    item.coverage_year = std::atoi(std::string(rest.substr(slash + 1)).c_str());
    item.stream_id = Str(r->stream_id());
    item.step = static_cast<Step>(r->step());
    item.next_step = static_cast<Step>(r->next_step());
    item.owner = r->owner();
    item.since_day = r->since_day();
    item.certificate_due_day = r->certificate_due_day();
    item.due_provisional = r->due_provisional();
    out->push_back(std::move(item));
    return true;
  });
  return s.ok() ? bad : s;
}

Status QueryEmployer(const ledger::ReadView& view, std::string_view employer_uscc,
                     std::optional<std::string_view> employee_id,
                     std::vector<EmploymentState>* out) {
  out->clear();
  Status bad;
  const std::string prefix = employee_id ? EmploymentKey(employer_uscc, *employee_id)
                                         : EmployerPrefix(employer_uscc);
  Status s = view.Scan(prefix, [&](std::string_view key, std::string_view value) {
    if (employee_id && key != prefix) return false;
    EmploymentState state;
    if (!DecodeEmploymentState(value, &state)) {
      bad = Malformed(key);
      return false;
    }
    out->push_back(std::move(state));
    return true;
  });
  return s.ok() ? bad : s;
}

CoverageAnswer CoveredOn(const std::vector<CaseState>& rights, Day day) {
  CoverageAnswer answer;
  const int year = ToYmd(day).year;
  for (const auto& c : rights) {
    if (c.coverage_year != year) continue;
    answer.coverage_case = c;
    const Day end = *DayFromYmd(year, 12, 31);
    if (c.coverage != fb::CoverageStatus::active) {
      answer.reason = fmt::format("coverage for {} is {}", year,
                                  c.coverage == fb::CoverageStatus::unknown
                                      ? std::string("not yet decided (premium not collected)")
                                      : std::string(fb::EnumNameCoverageStatus(c.coverage)));
    } else if (day < c.coverage_effective_day) {
      answer.reason = fmt::format("coverage for {} starts on {} (waiting period of {} months)",
                                  year, FormatIsoDay(c.coverage_effective_day), c.waiting_months);
    } else if (day > end) {
      answer.reason = "after the coverage year";
    } else {
      answer.covered = true;
      answer.reason = fmt::format("active from {} to {}", FormatIsoDay(c.coverage_effective_day),
                                  FormatIsoDay(end));
    }
    return answer;
  }
  answer.reason = fmt::format("no case for coverage year {}", year);
  return answer;
}

Status PersonEventsAsOf(const ledger::EventStore& store, std::string_view person_id,
                       uint64_t position, std::vector<ledger::RecordedEvent>* out) {
  out->clear();
  // The person's streams: a case stream per year of their minority, and the employment
  // streams that paid for them (found through today's payment record).
  std::set<std::string> streams;
  if (auto birth = CitizenIdBirthDay(person_id)) {
    const int birth_year = ToYmd(*birth).year;
    for (int y = birth_year; y <= birth_year + 19 && y <= kYearMax; ++y) {
      const std::string stream = CaseStreamId(y, person_id);
      uint64_t version = 0;
      Status s = store.StreamVersion(stream, &version);
      if (!s.ok()) return s;
      if (version > 0) streams.insert(stream);
    }
  }
  {
    auto live = store.NewReadView();
    std::vector<PaymentLine> lines;
    Status s = QueryPayments(*live, person_id, &lines);
    if (!s.ok()) return s;
    for (const auto& l : lines) {
      if (std::string_view(l.stream_id).starts_with("employer/")) streams.insert(l.stream_id);
    }
  }
  for (const auto& stream : streams) {
    std::vector<ledger::RecordedEvent> some;
    Status s = store.ReadStream(stream, 1, ledger::Direction::forward, ledger::kReadLimitMax, &some);
    if (!s.ok()) return s;
    for (auto& e : some) {
      if (e.position <= position) out->push_back(std::move(e));
    }
  }
  std::sort(out->begin(), out->end(),
            [](const auto& a, const auto& b) { return a.position < b.position; });
  return Status::OK();
}

Status FoldView(const std::vector<ledger::RecordedEvent>& events, uint64_t position,
                std::unique_ptr<ledger::ReadView>* out) {
  auto view = std::make_unique<MemoryProjections>(position);
  DomainProjector projector;
  uint64_t last = 0;
  for (const auto& e : events) {
    SHEBAO_ASSERT(e.position > last && e.position <= position);
    last = e.position;
    Status s = projector.Apply(e, view.get());
    if (!s.ok()) return s;
  }
  *out = std::move(view);
  return Status::OK();
}

Status ViewAsOf(const ledger::EventStore& store, std::string_view person_id, uint64_t position,
                std::unique_ptr<ledger::ReadView>* out) {
  std::vector<ledger::RecordedEvent> events;
  Status s = PersonEventsAsOf(store, person_id, position, &events);
  if (!s.ok()) return s;
  return FoldView(events, position, out);
}

Status PositionAtTime(const ledger::EventStore& store, int64_t utc_us, uint64_t* position) {
  // recorded_us never decreases along the log: binary search.
  uint64_t lo = 0, hi = store.head().position;  // answer in [lo, hi]
  while (lo < hi) {
    const uint64_t mid = lo + (hi - lo + 1) / 2;
    std::vector<ledger::RecordedEvent> one;
    Status s = store.ReadAll(mid, 1, &one);
    if (!s.ok()) return s;
    if (one.empty()) return Status(Code::corruption, fmt::format("position {} missing", mid));
    if (one[0].event()->recorded_us() <= utc_us) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  *position = lo;
  return Status::OK();
}

}  // namespace shebao::domain
