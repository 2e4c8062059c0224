// Regression tests of what the libFuzzer harnesses (fuzz/), the sanitizer build
// (-DSHEBAO_SANITIZE=ON) and the review of the code the harnesses drive found: one case per
// finding, reduced to the smallest input that shows it. The readers of stored events (the
// auditor's replay, the projector) must cope with any verified event, not only with those the
// commands write: EventStore::Append checks an event's shape, not its domain rules.
#include <doctest/doctest.h>

#include <cstdint>
#include <fstream>
#include <limits>
#include <string>

#include "ledger/constants.h"
#include "ledger/domain/case_rules.h"
#include "ledger/domain/employer.h"
#include "ledger/domain/memory_projections.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/domain/projector.h"
#include "ledger/domain/queries.h"
#include "ledger/envelope.h"
#include "replay/statement.h"
#include "tests/domain_test_util.h"

using namespace shebao;
using shebao::testing::DomainLedger;
using shebao::testing::kChild;

namespace {

struct RuleData {
  domain::PremiumTable premiums;
  domain::WorkingDayCalendar calendar;
  domain::RuleContext ctx;
  RuleData() {
    REQUIRE(domain::PremiumTable::Load(SHEBAO_DATA_DIR "/premiums.json", &premiums).ok());
    REQUIRE(domain::WorkingDayCalendar::Load(SHEBAO_DATA_DIR "/holiday-cn", &calendar).ok());
    ctx.premiums = &premiums;
    ctx.calendar = &calendar;
  }
};

ledger::EnvelopeFields Envelope(std::string_view stream, domain::Day day, fb::Role role,
                                std::string_view org) {
  ledger::EnvelopeFields env;
  env.stream_id = stream;
  env.effective_day = day;
  env.effective_second = 9 * 3600;
  env.role = role;
  env.org_id = org;
  env.person_id = "staff-1";
  env.idempotency_key = "fuzz-regression";
  return env;
}

// The event as the store holds it: stream_version filled in.
std::string Stored(std::string bytes, uint64_t stream_version) {
  REQUIRE(fb::GetMutableEvent(bytes.data())->mutate_stream_version(stream_version));
  return bytes;
}

std::string MaterialsIssued(std::string_view stream, domain::Day day, uint16_t coverage_year,
                            std::string_view key = "fuzz-regression") {
  const std::string school = testing::SchoolUscc();
  flatbuffers::FlatBufferBuilder fbb;
  auto payload = fb::CreateMaterialsIssuedDirect(fbb, std::string(stream).c_str(), kChild.c_str(),
                                                 fb::Pathway::school, coverage_year,
                                                 school.c_str());
  ledger::EnvelopeFields env = Envelope(stream, day, fb::Role::school, school);
  env.idempotency_key = key;
  return ledger::FinishEvent(fbb, env, fb::Payload::MaterialsIssued, payload.Union());
}

}  // namespace

TEST_CASE("materials issued in 2100 for coverage year 2101: refused, not read as a date") {
  // Found while writing event_decode_fuzzer (reading the rules it drives): CheckMaterialsIssued
  // took *DayFromYmd(coverage year) of a year the commands never produce but a stored event can
  // hold (an empty optional, read anyway; _GLIBCXX_ASSERTIONS in the sanitizer build stops it).
  RuleData data;
  const std::string stream = domain::CaseStreamId(2101, kChild);
  const std::string bytes = Stored(MaterialsIssued(stream, *domain::DayFromYmd(2100, 12, 1), 2101), 1);
  domain::CaseState fresh;
  fresh.stream_id = stream;
  const domain::Rejection r = domain::CheckCaseEvent(fresh, *fb::GetEvent(bytes.data()), data.ctx);
  CHECK_MESSAGE(r.rule == domain::Rule::coverage_year_out_of_range, domain::RuleName(r.rule));
  CHECK(r.field == "coverage_year");
}

TEST_CASE("a declared contribution with a base beyond any command's: refused without overflow") {
  // event_decode_fuzzer (UBSan, signed overflow): base_fen * rate_bp overflowed int64 for a
  // stored event; the command path caps amounts at kAmountFenMax before the rule runs.
  RuleData data;
  const std::string uscc = testing::EmployerUscc();
  const std::string stream = domain::EmploymentStreamId(uscc, kChild);
  domain::EmploymentState state;
  state.stream_id = stream;
  state.version = 1;
  state.registered = true;
  state.employer_uscc = uscc;
  state.employee_id = kChild;
  state.start_month = 202601;
  for (int64_t base : {domain::kAmountFenMax + 1, std::numeric_limits<int64_t>::max()}) {
    CAPTURE(base);
    flatbuffers::FlatBufferBuilder fbb;
    auto payload = fb::CreateContributionDeclaredDirect(fbb, uscc.c_str(), kChild.c_str(), 202602,
                                                        base, 10'000, 1);
    const std::string bytes =
        Stored(ledger::FinishEvent(fbb,
                                   Envelope(stream, *domain::DayFromYmd(2026, 2, 5),
                                            fb::Role::employer, uscc),
                                   fb::Payload::ContributionDeclared, payload.Union()),
               2);
    const domain::Rejection r =
        domain::CheckEmploymentEvent(state, *fb::GetEvent(bytes.data()), data.ctx);
    CHECK_MESSAGE(r.rule == domain::Rule::amount_too_large, domain::RuleName(r.rule));
    CHECK(r.field == "base_fen");
  }
}

TEST_CASE("a stream that only parses like a case's (case/02026/...) is not folded into its row") {
  // Found while writing event_decode_fuzzer: the projector read the year with atoi, so
  // "case/02026/<child>" and "case/2026/<child>" shared one row; the second stream's version 1
  // then failed ApplyCaseEvent's version assertion inside the store's group commit.
  // EventStore::Append accepts any printable stream id, so any writer could stop the ledger.
  DomainLedger ledger;
  const domain::Day day = *domain::DayFromYmd(2025, 9, 1);
  const std::string canonical = domain::CaseStreamId(2026, kChild);
  int n = 0;
  for (const std::string& stream : {canonical, "case/02026/" + kChild, "case/+2026/" + kChild,
                                   "case/2026x/" + kChild, "case/99999999999/" + kChild}) {
    CAPTURE(stream);
    ledger::AppendBatch batch;
    batch.idempotency_key = "fuzz-regression-" + std::to_string(++n);
    batch.expectations = {{stream, ledger::ExpectedVersion::NoStream()}};
    batch.events = {MaterialsIssued(stream, day, 2026, batch.idempotency_key)};
    ledger::AppendResult result;
    const ledger::Status s = ledger.store().Append(batch, &result);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
  // The case's row is the canonical stream's alone.
  const domain::CaseState row = ledger.CaseFromProjection(kChild, 2026);
  CHECK(row.stream_id == canonical);
  CHECK(row.version == 1);
  CHECK(row.last_position == 1);
  CHECK(ledger.store().head().position == 5);
}

TEST_CASE("projection rows are handed to Scan's visitor aligned for FlatBuffers") {
  // -DSHEBAO_SANITIZE=ON (UBSan, misaligned load in flatbuffers::GetRoot): the snapshot view
  // passed RocksDB's value slices, which sit at any address in their block, and the queries
  // read them in place as FlatBuffers (8-byte scalars).
  DomainLedger ledger;
  std::ifstream example(SHEBAO_SOURCE_DIR "/examples/school-enrollment.jsonl");
  std::string line;
  while (std::getline(example, line)) CHECK(ledger.Run(line).rejection.ok());
  auto view = ledger.store().NewReadView();
  size_t rows = 0;
  REQUIRE(view->Scan("", [&](std::string_view key, std::string_view value) {
                CAPTURE(key);
                CHECK(reinterpret_cast<uintptr_t>(value.data()) % 8 == 0);
                ++rows;
                return true;
              }).ok());
  CHECK(rows >= 5);  // the example: its case row and four payment lines
  std::vector<domain::PaymentLine> payments;
  REQUIRE(domain::QueryPayments(*view, kChild, &payments).ok());
  CHECK(payments.size() >= 3);
}

namespace {

int raw_appends = 0;  // numbers the idempotency keys of AppendRaw

// Appends one event of payload type `type` (built by make_payload in the event's builder) as its
// own batch, whatever the stream's version, as a writer that bypasses the commands can.
template <typename MakePayload>
void AppendRaw(ledger::EventStore& store, std::string_view stream, fb::Role role,
               std::string_view org, fb::Payload type, MakePayload make_payload) {
  const std::string key = "fuzz-regression-raw-" + std::to_string(++raw_appends);
  flatbuffers::FlatBufferBuilder fbb;
  const flatbuffers::Offset<void> payload = make_payload(fbb);
  ledger::EnvelopeFields env = Envelope(stream, *domain::DayFromYmd(2025, 9, 1), role, org);
  env.idempotency_key = key;
  ledger::AppendBatch batch;
  batch.idempotency_key = key;
  batch.expectations = {{std::string(stream), ledger::ExpectedVersion::Any()}};
  batch.events = {ledger::FinishEvent(fbb, env, type, payload)};
  ledger::AppendResult result;
  const ledger::Status s = store.Append(batch, &result);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
}

}  // namespace

TEST_CASE("amounts of stored events that overflow int64 when folded: the projections saturate") {
  // Found while writing event_decode_fuzzer (the projector folds every stored event; only the
  // rules bound amounts): the folds added amounts with +, and the payment record negated the
  // amount of a reversal or refund, both undefined behaviour at the ends of the int64 range.
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  DomainLedger ledger;
  ledger::EventStore& store = ledger.store();
  const std::string stream = domain::CaseStreamId(2026, kChild);
  const std::string school = testing::SchoolUscc();
  AppendRaw(store, stream, fb::Role::school, school, fb::Payload::MaterialsIssued, [&](auto& fbb) {
    return fb::CreateMaterialsIssuedDirect(fbb, stream.c_str(), kChild.c_str(),
                                           fb::Pathway::school, 2026, school.c_str())
        .Union();
  });
  AppendRaw(store, stream, fb::Role::bank, "102100099996", fb::Payload::PaymentReversed,
            [&](auto& fbb) {
              return fb::CreatePaymentReversedDirect(fbb, stream.c_str(), 2, "ref", kMin).Union();
            });
  for (int i = 0; i < 2; ++i) {
    AppendRaw(store, stream, fb::Role::agency, "110105", fb::Payload::SubsidyRecorded,
              [&](auto& fbb) {
                return fb::CreateSubsidyRecordedDirect(fbb, stream.c_str(), kChild.c_str(), 2026,
                                                       fb::PayerKind::government_subsidy, kMax)
                    .Union();
              });
    AppendRaw(store, stream, fb::Role::school, school, fb::Payload::CertificateFeePaid,
              [&](auto& fbb) {
                return fb::CreateCertificateFeePaidDirect(fbb, stream.c_str(), kMax).Union();
              });
    AppendRaw(store, stream, fb::Role::agency, "110105", fb::Payload::PaymentRefunded,
              [&](auto& fbb) {
                return fb::CreatePaymentRefundedDirect(fbb, stream.c_str(), 2, "ref", kMin)
                    .Union();
              });
  }
  const domain::CaseState row = ledger.CaseFromProjection(kChild, 2026);
  CHECK(row.version == 8);
  CHECK(row.subsidy_fen == kMax);
  CHECK(row.certificate_fee_fen == kMax);
  CHECK(row.refunded_fen == kMin);
  std::vector<domain::PaymentLine> payments;
  REQUIRE(domain::QueryPayments(*store.NewReadView(), kChild, &payments).ok());
  REQUIRE(payments.size() == 7);
  CHECK(payments.front().kind == fb::PaymentKind::reversal);
  CHECK(payments.front().amount_fen == kMax);  // the negative of kMin, held at the end

  // An employment: two payments of the most negative amount, then the arrears of a month
  // declared at the largest.
  const std::string uscc = testing::EmployerUscc();
  const std::string employment = domain::EmploymentStreamId(uscc, kChild);
  AppendRaw(store, employment, fb::Role::employer, uscc, fb::Payload::EmployeeRegistered,
            [&](auto& fbb) {
              return fb::CreateEmployeeRegisteredDirect(fbb, uscc.c_str(), kChild.c_str(), "n",
                                                        202601)
                  .Union();
            });
  AppendRaw(store, employment, fb::Role::employer, uscc, fb::Payload::ContributionDeclared,
            [&](auto& fbb) {
              return fb::CreateContributionDeclaredDirect(fbb, uscc.c_str(), kChild.c_str(),
                                                          202601, 1, 1, kMax)
                  .Union();
            });
  for (int i = 0; i < 2; ++i) {
    AppendRaw(store, employment, fb::Role::employer, uscc, fb::Payload::ContributionPaid,
              [&](auto& fbb) {
                return fb::CreateContributionPaidDirect(fbb, uscc.c_str(), kChild.c_str(),
                                                        202601, kMin)
                    .Union();
              });
  }
  const domain::EmploymentState state = ledger.Employment(uscc, kChild);
  REQUIRE(state.months.contains(202601));
  CHECK(state.months.at(202601).paid_fen == kMin);
  int months = 0;
  CHECK(domain::ArrearsFen(state, *domain::DayFromYmd(2027, 1, 1), &months) == kMax);
  CHECK(months == 1);
}

TEST_CASE("a statement event with a payload type but no payload table: not a valid event") {
  // Found with event_decode_fuzzer's finding (a set union type whose table is absent passes the
  // FlatBuffers verifier): the store's reads refuse such an event (VerifyRecord), but a
  // statement's events "may come from anyone" and SummaryOf folded them, reading a null payload.
  const std::string stream = domain::CaseStreamId(2026, kChild);
  flatbuffers::FlatBufferBuilder fbb;
  auto stream_id = fbb.CreateString(stream);
  auto key = fbb.CreateString("fuzz-regression");
  fbb.ForceDefaults(true);
  fb::EventBuilder event(fbb);
  event.add_schema_version(ledger::kSchemaVersion);
  event.add_position(1);
  event.add_stream_id(stream_id);
  event.add_stream_version(1);
  event.add_recorded_us(0);
  event.add_idempotency_key(key);
  event.add_payload_type(fb::Payload::ReviewDecided);
  fb::FinishEventBuffer(fbb, event.Finish());
  replay::StatementEvent e;
  e.position = 1;
  e.bytes.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  std::string summary;
  const ledger::Status s = replay::SummaryOf({e}, kChild, 1, &summary);
  CHECK(s.code() == ledger::Code::corruption);
  CHECK_MESSAGE(s.message().find("not a valid event") != std::string::npos, s.ToString());
}

TEST_CASE("a certificate fee event without an actor: folded into the payment record, payer unknown") {
  // event_decode_fuzzer (UBSan): "projector.cc: member call on null pointer of type
  // 'shebao::fb::Actor'": the payment line of a CertificateFeePaid took the payer from the
  // envelope's actor, which a verified event may omit (Append checks shape, not the actor).
  const std::string stream = domain::CaseStreamId(2026, kChild);
  flatbuffers::FlatBufferBuilder fbb;
  auto payload = fb::CreateCertificateFeePaidDirect(fbb, stream.c_str(), 1500, "R-1").Union();
  auto stream_id = fbb.CreateString(stream);
  fbb.ForceDefaults(true);
  fb::EventBuilder event(fbb);  // no actor
  event.add_schema_version(ledger::kSchemaVersion);
  event.add_position(1);
  event.add_stream_id(stream_id);
  event.add_stream_version(1);
  event.add_effective_day(*domain::DayFromYmd(2026, 3, 2));
  event.add_payload_type(fb::Payload::CertificateFeePaid);
  event.add_payload(payload);
  fb::FinishEventBuffer(fbb, event.Finish());
  ledger::RecordedEvent recorded;
  recorded.position = 1;
  recorded.bytes.assign(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(recorded.bytes.data()),
                                 recorded.bytes.size());
  REQUIRE(fb::VerifyEventBuffer(verifier));
  REQUIRE(recorded.event()->actor() == nullptr);

  domain::DomainProjector projector;
  domain::MemoryProjections projections;
  REQUIRE(projector.Apply(recorded, &projections).ok());
  std::vector<domain::PaymentLine> payments;
  REQUIRE(domain::QueryPayments(projections, kChild, &payments).ok());
  REQUIRE(payments.size() == 1);
  CHECK(payments[0].kind == fb::PaymentKind::certificate_fee);
  CHECK(payments[0].amount_fen == 1500);
  CHECK(payments[0].payer_id.empty());
  CHECK(payments[0].bank_ref == "R-1");
}

TEST_CASE("a case stream whose child id holds a '/': its row's key splits back into that id") {
  // event_decode_fuzzer, after projections layout 2 put a person's rows under "R/<id>/": the
  // projector folds any stored case stream, "case/2026/a/b" included, and wrote the row
  // "R/a/b/C/2026", which RowFamily could not place (the id ends at the first '/'). Ids are now
  // written with '/' and '%' escaped; a citizen ID has neither, so its keys are unchanged.
  DomainLedger ledger;
  const domain::Day day = *domain::DayFromYmd(2025, 9, 1);
  const std::string odd_child = "a/b%2F/P/12345678";
  const std::string stream = "case/2026/" + odd_child;
  ledger::AppendBatch batch;
  batch.idempotency_key = "fuzz-regression-slash";
  batch.expectations = {{stream, ledger::ExpectedVersion::NoStream()}};
  batch.events = {MaterialsIssued(stream, day, 2026, batch.idempotency_key)};
  ledger::AppendResult result;
  const ledger::Status s = ledger.store().Append(batch, &result);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  bool found_odd = false;
  for (const auto& [key, value] : ledger.DumpProjections()) {
    CAPTURE(key);
    CHECK(domain::RowFamily(key) != '\0');
    if (domain::RowPersonId(key) == odd_child) {
      found_odd = true;
      CHECK(domain::RowFamily(key) == 'C');
      domain::CaseState state;
      CHECK(domain::DecodeCaseState(value, &state));
    }
  }
  CHECK(found_odd);
  // And the rights query for that id finds exactly that row.
  auto view = ledger.store().NewReadView();
  std::vector<domain::CaseState> rights;
  REQUIRE(domain::QueryRights(*view, odd_child, &rights).ok());
  REQUIRE(rights.size() == 1);
  CHECK(rights[0].stream_id == stream);
}
