// shebao demo: records one school-pathway enrollment step by step (DOMAIN.md, pathway 1), shows
// idempotent retries and an optimistic-concurrency conflict, reads the case back and verifies
// the whole chain. Re-running it on the same ledger appends nothing new: every step is a retry.
#include <functional>
#include <iostream>

#include <fmt/format.h>

#include "ledger/envelope.h"
#include "tools/cli.h"

namespace po = boost::program_options;

namespace shebao::cli {
namespace {

constexpr const char* kChild = "110105201503010010";
constexpr const char* kGuardian = "11010519491231002X";
constexpr const char* kSchool = "12110000400000000X";
constexpr const char* kAgency = "110105";
constexpr const char* kCase = "case/2026/110105201503010010";
constexpr const char* kPerson = "person/110105201503010010";
constexpr int32_t kSep1_2025 = 20'332;  // 2025-09-01, days since 1970-01-01

using Build = std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)>;

struct Step {
  const char* key;
  const char* what;
  int32_t day_offset;
  fb::Role role;
  const char* org;
  const char* person;
  fb::Channel channel;
  fb::Payload type;
  Build build;
};

std::string MakeEvent(const Step& step, const char* stream) {
  flatbuffers::FlatBufferBuilder fbb(512);
  auto payload = step.build(fbb);
  ledger::EnvelopeFields env;
  env.stream_id = stream;
  env.effective_day = kSep1_2025 + step.day_offset;
  env.effective_second = 10 * 3600;
  env.role = step.role;
  env.org_id = step.org;
  env.person_id = step.person;
  env.channel = step.channel;
  env.idempotency_key = step.key;
  env.correlation_id = kCase;
  const std::string causation = fmt::format("demo:{}", step.key);
  env.causation_id = causation;
  return ledger::FinishEvent(fbb, env, step.type, payload);
}

std::vector<Step> SchoolPathway() {
  using namespace fb;
  return {
      {"demo-1-materials", "school hands out application materials", 0, Role::school, kSchool,
       "teacher-07", Channel::school, Payload::MaterialsIssued,
       [](auto& b) {
         return CreateMaterialsIssuedDirect(b, kCase, kChild, Pathway::school, 2026, kSchool)
             .Union();
       }},
      {"demo-2-declare", "guardian declares online", 3, Role::guardian, "", kGuardian,
       Channel::online, Payload::DeclarationSubmitted,
       [](auto& b) {
         return CreateDeclarationSubmittedDirect(b, kCase, kChild, "王小明", 16'495, kGuardian,
                                                 "王建国", Relationship::father, "110105",
                                                 Pathway::school, 2026, kSchool)
             .Union();
       }},
      {"demo-3-return", "guardian returns the materials to school", 4, Role::guardian, "",
       kGuardian, Channel::school, Payload::MaterialsSubmitted,
       [](auto& b) { return CreateMaterialsSubmittedDirect(b, kCase, kSchool).Union(); }},
      {"demo-4-school-review", "school examines and accepts", 6, Role::school, kSchool,
       "teacher-07", Channel::school, Payload::ReviewDecided,
       [](auto& b) {
         return CreateReviewDecidedDirect(b, kCase, ReviewStage::school, ReviewOutcome::accepted)
             .Union();
       }},
      {"demo-5-forward", "school submits to the agency", 7, Role::school, kSchool, "teacher-07",
       Channel::school, Payload::ForwardedToAgency,
       [](auto& b) {
         return CreateForwardedToAgencyDirect(b, kCase, kSchool, kAgency, "SCH-BATCH-0917").Union();
       }},
      {"demo-6-receive", "agency accepts the information", 10, Role::agency, kAgency, "staff-311",
       Channel::agency_window, Payload::AgencyReceived,
       [](auto& b) { return CreateAgencyReceivedDirect(b, kCase, kAgency, "RCV-0001").Union(); }},
      {"demo-7-review", "agency reviews and accepts", 11, Role::agency, kAgency, "staff-311",
       Channel::agency_window, Payload::ReviewDecided,
       [](auto& b) {
         return CreateReviewDecidedDirect(b, kCase, ReviewStage::agency, ReviewOutcome::accepted)
             .Union();
       }},
      {"demo-8-enter", "agency enters the insurance information", 11, Role::agency, kAgency,
       "staff-311", Channel::agency_window, Payload::InsuranceInfoEntered,
       [](auto& b) {
         return CreateInsuranceInfoEnteredDirect(b, kCase, kAgency, kChild, 2026).Union();
       }},
      {"demo-9-account", "agency establishes the collection account", 12, Role::agency, kAgency,
       "staff-311", Channel::agency_window, Payload::CollectionAccountEstablished,
       [](auto& b) {
         return CreateCollectionAccountEstablishedDirect(b, kCase, "ACC-110105-000001", kAgency,
                                                         "102100099996")
             .Union();
       }},
  };
}

}  // namespace

int CmdDemo(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("demo options");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao [--db PATH] demo", "shebao --db ./demo.db demo", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  std::unique_ptr<ledger::EventStore> store;
  int code = 0;
  if (!OpenLedger(options, /*create=*/true, &store, &code)) return code;
  std::cout << fmt::format("ledger {} opened at position {}\n\n", options.db_path,
                           store->head().position);

  // 1. The pathway, one batch per step, each expecting the case stream's exact version.
  uint64_t version = 0;
  for (const Step& step : SchoolPathway()) {
    ledger::AppendBatch batch;
    batch.idempotency_key = step.key;
    batch.expectations.push_back({kCase, ledger::ExpectedVersion::Exactly(version)});
    batch.events.push_back(MakeEvent(step, kCase));
    ledger::AppendResult result;
    ledger::Status s = store->Append(batch, &result);
    if (!s.ok()) return Fail(s);
    ++version;
    std::cout << fmt::format("  {:<44} position {:>3}{}\n", step.what, result.first_position,
                             result.duplicate ? "  (already recorded: idempotent retry)" : "");
  }

  // 2. The premium and the government subsidy: one atomic batch on two streams.
  ledger::AppendBatch pay;
  pay.idempotency_key = "demo-10-collect";
  Step premium{"demo-10-collect", "", 20, fb::Role::bank, "102100099996", "teller-42",
               fb::Channel::bank, fb::Payload::PremiumCollected, [](auto& b) {
                 return fb::CreatePremiumCollectedDirect(b, kCase, kChild, 2026,
                                                         fb::PayerKind::guardian, 40'000,
                                                         "102100099996", "ICBC-20250921-000731", 1,
                                                         kGuardian)
                     .Union();
               }};
  Step subsidy{"demo-10-collect", "", 20, fb::Role::agency, kAgency, "staff-311",
               fb::Channel::agency_window, fb::Payload::SubsidyRecorded, [](auto& b) {
                 return fb::CreateSubsidyRecordedDirect(b, kCase, kChild, 2026,
                                                        fb::PayerKind::government_subsidy, 70'000,
                                                        "resident-medical-2026", "FIN-2026-0001")
                     .Union();
               }};
  pay.expectations = {{kCase, ledger::ExpectedVersion::Exactly(version)},
                      {kPerson, ledger::ExpectedVersion::Any()}};
  pay.events = {MakeEvent(premium, kCase), MakeEvent(premium, kPerson),
                MakeEvent(subsidy, kPerson)};
  ledger::AppendResult paid;
  ledger::Status s = store->Append(pay, &paid);
  if (!s.ok()) return Fail(s);
  std::cout << fmt::format("  {:<44} positions {}..{}{}\n",
                           "bank collects 400.00 yuan, subsidy 700.00 yuan", paid.first_position,
                           paid.last_position, paid.duplicate ? "  (idempotent retry)" : "");

  // 3. A retry of the same batch (a lost acknowledgement): the original positions come back.
  ledger::AppendResult retry;
  s = store->Append(pay, &retry);
  if (!s.ok()) return Fail(s);
  std::cout << fmt::format("  {:<44} positions {}..{}, duplicate={}\n",
                           "the bank's retry of that batch", retry.first_position,
                           retry.last_position, retry.duplicate);

  // 4. A stale writer: expects the case at version 3, which it no longer is.
  ledger::AppendBatch stale;
  stale.idempotency_key = "demo-stale-writer";
  stale.expectations = {{kCase, ledger::ExpectedVersion::Exactly(3)}};
  stale.events.push_back(MakeEvent(
      Step{"demo-stale-writer", "", 6, fb::Role::school, kSchool, "teacher-08", fb::Channel::school,
           fb::Payload::ReviewDecided,
           [](auto& b) {
             return fb::CreateReviewDecidedDirect(b, kCase, fb::ReviewStage::school,
                                                  fb::ReviewOutcome::accepted)
                 .Union();
           }},
      kCase));
  ledger::AppendResult stale_result;
  s = store->Append(stale, &stale_result);
  std::cout << fmt::format("  {:<44} {}\n\n", "a stale writer at version 3 is refused:",
                           s.ToString());
  if (s.code() != ledger::Code::version_conflict) {
    std::cerr << "error: demo expected version_conflict\n";
    return kExitRejected;
  }

  // 5. Read the case back and verify the whole chain.
  std::vector<ledger::RecordedEvent> events;
  s = store->ReadStream(kCase, 1, ledger::Direction::forward, 100, &events);
  if (!s.ok()) return Fail(s);
  std::cout << fmt::format("case {} read back ({} events):\n", kCase, events.size());
  store.reset();
  int rc = CmdHistory(options, {kCase});
  if (rc != kExitOk) return rc;
  std::cout << "\n";
  return CmdVerify(options, {});
}

}  // namespace shebao::cli
