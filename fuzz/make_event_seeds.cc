// Writes the seed corpus of event_decode_fuzzer (fuzz/README.md): real stored events, framed as
// the harness reads them (2-byte little-endian length, then the event's bytes).
//
//   make_event_seeds <out dir>
//
// The events are those a ledger stores for examples/school-enrollment.jsonl (a whole school
// pathway case), the examples of docs/commands.md (employer and organisation streams, and
// whatever of the other commands their order allows) and a small synthetic city
// (tools/city_generator.h: the three pathways, returns, failed collections, reversals, refunds,
// withdrawals, refusals), executed in a scratch ledger with a fixed clock, plus
// tests/data/golden_event_v1.shev. Files:
//   golden_event_v1
//   single_<PayloadName>     the first event of each payload type
//   history_<what>           the whole history of the first stream of each kind: the example's
//                            case, an employment, an organisation, and city cases on each
//                            pathway and with each incident
// Deterministic: the same sources give the same files.
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "ledger/clock.h"
#include "ledger/domain/command.h"
#include "ledger/domain/command_handler.h"
#include "ledger/domain/fb_strings.h"
#include "ledger/domain/projector.h"
#include "ledger/event_store.h"
#include "tools/city_generator.h"

namespace {

using namespace shebao;

std::string Frame(const std::string& bytes) {
  FUZZ_CHECK(bytes.size() <= 0xffff);
  std::string out;
  out.push_back(static_cast<char>(bytes.size() & 0xff));
  out.push_back(static_cast<char>(bytes.size() >> 8));
  return out + bytes;
}

// The command lines of a JSONL file, or of the ```jsonl examples of a Markdown file: every
// line that starts with {"command".
std::vector<std::string> CommandLines(const std::string& path) {
  std::ifstream in(path);
  FUZZ_CHECK(in.good());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("{\"command\"")) lines.push_back(line);
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_event_seeds <out dir>\n";
    return 2;
  }
  const std::filesystem::path out_dir = argv[1];
  std::filesystem::create_directories(out_dir);

  fuzz::ScratchDir scratch;
  ledger::ManualClock clock(1'757'640'600'000'000);
  domain::DomainProjector projector;
  ledger::StoreOptions options;
  options.sync = false;
  options.clock = &clock;
  options.projector = &projector;
  std::unique_ptr<ledger::EventStore> store;
  FUZZ_CHECK(ledger::EventStore::Open((scratch.path() / "ledger").string(), options, &store).ok());
  domain::CommandHandler handler(store.get(), &fuzz::RealPremiums(), &fuzz::RealCalendar(),
                                 /*states_from_projections=*/true);
  for (const char* source : {SHEBAO_SOURCE_DIR "/examples/school-enrollment.jsonl",
                             SHEBAO_SOURCE_DIR "/docs/commands.md"}) {
    for (const std::string& line : CommandLines(source)) {
      domain::Command command;
      if (!domain::ParseCommand(line, &command).ok()) continue;
      domain::CommandOutcome outcome;
      FUZZ_CHECK(handler.Execute(command, &outcome).ok());
    }
  }

  tools::CityOptions city;
  city.children = 400;
  city.seed = 7;
  city.first_year = 2025;
  city.last_year = 2026;
  city.first_position = store->head().position + 1;
  uint64_t refused = 0;
  tools::GenerateCity(city, [&](std::string_view line) {
    domain::Command command;
    FUZZ_CHECK(domain::ParseCommand(line, &command).ok());
    domain::CommandOutcome outcome;
    FUZZ_CHECK(handler.Execute(command, &outcome).ok());
    refused += outcome.rejection.ok() ? 0 : 1;
  });
  FUZZ_CHECK(refused == 0);  // the city's lines are all accepted (its positions depend on it)

  std::vector<ledger::RecordedEvent> events;
  for (uint64_t from = 1; from <= store->head().position; from += ledger::kReadLimitMax) {
    FUZZ_CHECK(store->ReadAll(from, ledger::kReadLimitMax, &events).ok());
  }
  std::map<std::string, std::string> histories;         // stream id -> framed events
  std::map<std::string, std::set<std::string>> traits;  // stream id -> what it shows
  std::vector<std::string> stream_order;                // in order of first appearance
  std::set<std::string> payloads_written;
  size_t files = 0;
  for (const ledger::RecordedEvent& e : events) {
    const fb::Event& event = *e.event();
    const std::string stream(domain::View(event.stream_id()));
    if (!histories.contains(stream)) stream_order.push_back(stream);
    histories[stream] += Frame(e.bytes);
    const std::string payload = fb::EnumNamePayload(event.payload_type());
    std::set<std::string>& t = traits[stream];
    t.insert(stream.substr(0, stream.find('/')));
    t.insert(payload);
    if (event.payload_type() == fb::Payload::MaterialsIssued) {
      t.insert(fb::EnumNamePathway(event.payload_as_MaterialsIssued()->pathway()));
    }
    if (event.payload_type() == fb::Payload::ReviewDecided) {
      t.insert(fb::EnumNameReviewOutcome(event.payload_as_ReviewDecided()->outcome()));
    }
    if (payloads_written.insert(payload).second) {
      fuzz::WriteFile(out_dir / ("single_" + payload), Frame(e.bytes));
      ++files;
    }
  }
  // One history per trait: the first stream (in log order) that shows it.
  const std::pair<const char*, const char*> wanted[] = {
      {"case_school", "school"},
      {"case_not_in_school", "not_in_school"},
      {"case_low_income", "low_income"},
      {"case_returned", "returned_for_correction"},
      {"case_refused", "refused"},
      {"case_collection_failed", "CollectionFailed"},
      {"case_reversed", "PaymentReversed"},
      {"case_refunded", "PaymentRefunded"},
      {"case_withdrawn", "ApplicationWithdrawn"},
      {"case_early_issue_override", "OverrideRecorded"},
      {"employment", "employer"},
      {"employment_deregistered", "EmployeeDeregistered"},
      {"org", "org"},
  };
  for (const auto& [name, trait] : wanted) {
    for (const std::string& stream : stream_order) {
      if (!traits[stream].contains(trait)) continue;
      if (std::string_view(name).starts_with("case") && !stream.starts_with("case/")) continue;
      FUZZ_CHECK(histories[stream].size() <= 16 * 1024);  // a seed of a sane size
      fuzz::WriteFile(out_dir / fmt::format("history_{}", name), histories[stream]);
      ++files;
      break;
    }
  }
  std::ifstream golden(SHEBAO_SOURCE_DIR "/tests/data/golden_event_v1.shev", std::ios::binary);
  const std::string golden_bytes((std::istreambuf_iterator<char>(golden)),
                                 std::istreambuf_iterator<char>());
  FUZZ_CHECK(!golden_bytes.empty());
  fuzz::WriteFile(out_dir / "golden_event_v1", Frame(golden_bytes));
  ++files;
  std::cout << fmt::format("make_event_seeds: {} events, {} files in {}\n", events.size(), files,
                           out_dir.string());
  return 0;
}
