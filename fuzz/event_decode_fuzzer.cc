// Harness (a): stored event bytes, as a reader of the log meets them.
//
// Input: one or more records, each a 2-byte little-endian length followed by that many bytes
// of one stored event (the FlatBuffer without the chain hash). fuzz/make_event_seeds writes
// the seeds in this framing. Each record goes the way a verified read goes:
//   1. flatbuffers::Verifier with identifier SHB1 (fb::VerifyEventBuffer) and a payload present,
//      as VerifyRecord checks; a record that fails is dropped, as a reader reports it corrupt;
//   2. EventToJson (shebao history / --format json);
//   3. the domain, for a record with the next version of its stream (what the store guarantees
//      of a stored event; others are dropped):
//      - as the auditor's replay: the rules (CheckCaseEvent, CheckEmploymentEvent,
//        CheckOrgEvent) on the state folded from the stream's events so far, folding the event
//        (ApplyCaseEvent, ...) if it passes, and checking nothing more of a stream after the
//        first event that does not;
//      - as the store's projections: DomainProjector::Apply on every such event, into an
//        in-memory projections family (domain::MemoryProjections). The rows it writes must
//        decode again, and the queries (payments, rights, coverage, queue, employer) run on them.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "ledger/domain/case_rules.h"
#include "ledger/domain/case_state.h"
#include "ledger/domain/employer.h"
#include "ledger/domain/fb_strings.h"
#include "ledger/domain/memory_projections.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/domain/projector.h"
#include "ledger/domain/queries.h"
#include "ledger/event_json.h"
#include "ledger/event_store.h"

namespace {

using namespace shebao;

// Records per input: a case's whole history is about 25 events.
constexpr size_t kRecordsMax = 64;

// Every row the projector wrote decodes with the reader the queries use, and the queries run
// on them: the payment and rights records of each case's child, coverage on a few days, the
// queue of each agency, each employer's employments.
void CheckRows(const domain::MemoryProjections& projections) {
  for (const auto& [key, value] : projections.rows()) {
    const char family = domain::RowFamily(key);
    FUZZ_CHECK(family != '\0');
    const std::string_view rest = std::string_view(key).substr(2);
    switch (family) {
      case 'C': {
        domain::CaseState state;
        FUZZ_CHECK(domain::DecodeCaseState(value, &state));
        (void)domain::QueueAgencyOf(state);
        const std::string child = domain::RowPersonId(key);
        std::vector<domain::CaseState> rights;
        FUZZ_CHECK(domain::QueryRights(projections, child, &rights).ok());
        for (int year : {1900, 2025, 2026, 2100}) {
          (void)domain::CoveredOn(rights, *domain::DayFromYmd(year, 6, 1));
        }
        std::vector<domain::PaymentLine> payments;
        FUZZ_CHECK(domain::QueryPayments(projections, child, &payments).ok());
        break;
      }
      case 'E': {
        domain::EmploymentState state;
        FUZZ_CHECK(domain::DecodeEmploymentState(value, &state));
        std::vector<domain::EmploymentState> employments;
        FUZZ_CHECK(
            domain::QueryEmployer(projections, rest.substr(0, rest.find('/')), std::nullopt,
                                  &employments)
                .ok());
        break;
      }
      case 'O': {
        domain::OrgState state;
        FUZZ_CHECK(domain::DecodeOrgState(value, &state));
        break;
      }
      case 'P': FUZZ_CHECK(domain::VerifyPaymentRow(value)); break;
      case 'Q': {
        FUZZ_CHECK(domain::VerifyQueueRow(value));
        std::vector<domain::QueueItem> queue;
        FUZZ_CHECK(domain::QueryQueue(projections, rest.substr(0, rest.find('/')), &queue).ok());
        break;
      }
      default: FUZZ_CHECK(false && "the projector wrote a key of no known family");
    }
  }
}

// The auditor's view of one stream: the state folded from the events that passed the rules,
// until the first that does not (replay/ledger_verifier.cc stops the stream there).
template <typename State>
struct Checked {
  State state;
  bool broken = false;
};

struct Streams {
  std::map<std::string, uint64_t, std::less<>> versions;  // what the store holds per stream
  std::map<std::string, Checked<domain::CaseState>, std::less<>> cases;
  std::map<std::string, Checked<domain::EmploymentState>, std::less<>> employments;
  std::map<std::string, Checked<domain::OrgState>, std::less<>> orgs;
};

// Check, then fold if the event passes, as the auditor's replay does.
template <typename State, typename Check, typename Fold>
void CheckAndFold(Checked<State>* checked, const ledger::RecordedEvent& recorded, Check check,
                  Fold fold) {
  if (checked->broken) return;
  const fb::Event& e = *recorded.event();
  if (!check(checked->state, e).ok()) {
    checked->broken = true;
    return;
  }
  fold(&checked->state, e, recorded.position);
}

void Replay(const ledger::RecordedEvent& recorded, Streams* streams,
            domain::MemoryProjections* projections) {
  const fb::Event& e = *recorded.event();
  const std::string stream(domain::View(e.stream_id()));
  // The store gives each stream dense versions from 1: any other event was never stored.
  uint64_t& version = streams->versions[stream];
  if (e.stream_version() != version + 1) return;
  version = e.stream_version();

  domain::RuleContext ctx;
  ctx.premiums = &fuzz::RealPremiums();
  ctx.calendar = &fuzz::RealCalendar();
  ctx.pilot_uscc_accepted = [streams](std::string_view uscc) {
    auto it = streams->orgs.find(domain::OrgStreamId(uscc));
    return it != streams->orgs.end() && it->second.state.pilot_uscc_accepted;
  };
  if (stream.starts_with("case/")) {
    auto* checked = &streams->cases[stream];
    if (checked->state.stream_id.empty()) checked->state.stream_id = stream;
    (void)domain::NextStepOf(checked->state);
    CheckAndFold(
        checked, recorded,
        [&](const domain::CaseState& s, const fb::Event& ev) {
          return domain::CheckCaseEvent(s, ev, ctx);
        },
        domain::ApplyCaseEvent);
  } else if (stream.starts_with("employer/")) {
    auto* checked = &streams->employments[stream];
    int months = 0;
    (void)domain::ArrearsFen(checked->state, e.effective_day(), &months);
    CheckAndFold(
        checked, recorded,
        [&](const domain::EmploymentState& s, const fb::Event& ev) {
          return domain::CheckEmploymentEvent(s, ev, ctx);
        },
        domain::ApplyEmploymentEvent);
  } else if (stream.starts_with("org/")) {
    CheckAndFold(&streams->orgs[stream], recorded, domain::CheckOrgEvent, domain::ApplyOrgEvent);
  }
  // The projector folds every stored event, whether or not it passes the rules (it runs inside
  // the store's append and in rebuilds, where no rule is checked).
  domain::DomainProjector projector;
  FUZZ_CHECK(projector.Apply(recorded, projections).ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Streams streams;
  domain::MemoryProjections projections;
  size_t at = 0;
  for (size_t record = 0; record < kRecordsMax && size - at >= 2; ++record) {
    const size_t n = static_cast<size_t>(data[at]) | (static_cast<size_t>(data[at + 1]) << 8);
    at += 2;
    if (n > size - at) break;
    ledger::RecordedEvent recorded;
    recorded.position = record + 1;
    recorded.bytes.assign(reinterpret_cast<const char*>(data + at), n);
    at += n;

    // A fresh copy, so that a read past the record is a read past the heap allocation.
    flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(recorded.bytes.data()),
                                   recorded.bytes.size());
    if (!fb::VerifyEventBuffer(verifier)) continue;
    // What VerifyRecord adds (and Append refuses): the payload's table must be present.
    const fb::Event* event = recorded.event();
    if (event->payload_type() == fb::Payload::NONE || event->payload() == nullptr) continue;

    std::string json;
    if (ledger::EventToJson(recorded.bytes, &json).ok()) {
      FUZZ_CHECK(!json.empty() && json.find('\n') == std::string::npos);
    }
    Replay(recorded, &streams, &projections);
  }
  CheckRows(projections);
  return 0;
}
