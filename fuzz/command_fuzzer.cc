// Harness (b): one JSONL command line, as `shebao ingest` reads it.
//
// Input: the line's bytes (no trailing newline needed). ParseCommand must refuse it with a
// named rule or accept it; an accepted command's fields must have the types of its spec
// (Command::str/num/flag assert that), its digest is computed, and it is executed with a
// CommandHandler on a ledger in a scratch directory (RocksDB without fsync, projections on,
// as the ingest runs it). The ledger is created once per process and holds
// examples/school-enrollment.jsonl, so that commands meet real cases; commands accepted by
// earlier inputs stay in it (a crash found here reproduces from the one input in nearly every
// case; if not, replay the run's inputs in order).
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "ledger/clock.h"
#include "ledger/domain/command.h"
#include "ledger/domain/command_handler.h"
#include "ledger/domain/projector.h"
#include "ledger/event_store.h"

namespace {

using namespace shebao;

struct Ledger {
  fuzz::ScratchDir dir;
  ledger::ManualClock clock{1'757'640'600'000'000};  // 2025-09-12, one microsecond per read
  domain::DomainProjector projector;
  std::unique_ptr<ledger::EventStore> store;
  std::unique_ptr<domain::CommandHandler> handler;

  Ledger() {
    ledger::StoreOptions options;
    options.sync = false;
    options.clock = &clock;
    options.projector = &projector;
    options.block_cache_bytes = 8 * 1024 * 1024;
    FUZZ_CHECK(ledger::EventStore::Open((dir.path() / "ledger").string(), options, &store).ok());
    handler = std::make_unique<domain::CommandHandler>(store.get(), &fuzz::RealPremiums(),
                                                       &fuzz::RealCalendar(),
                                                       /*states_from_projections=*/true);
    std::ifstream example(SHEBAO_SOURCE_DIR "/examples/school-enrollment.jsonl");
    std::string line;
    int accepted = 0;
    while (std::getline(example, line)) {
      domain::Command command;
      if (!domain::ParseCommand(line, &command).ok()) continue;
      domain::CommandOutcome outcome;
      FUZZ_CHECK(handler->Execute(command, &outcome).ok());
      accepted += outcome.rejection.ok() ? 1 : 0;
    }
    FUZZ_CHECK(accepted > 0);
  }
};

Ledger& TheLedger() {
  static Ledger ledger;  // closed and its directory removed when the fuzzer exits
  return ledger;
}

// Reads every field of the command through the accessor its spec names.
void ReadFields(const domain::Command& command) {
  const domain::CommandSpec& spec = domain::SpecOf(command.kind);
  FUZZ_CHECK(spec.kind == command.kind);
  if (spec.targets_case) {
    FUZZ_CHECK(!command.str("child_id").empty());
    const int64_t year = command.num("coverage_year");
    FUZZ_CHECK(year >= domain::kYearMin && year <= domain::kYearMax);
  }
  for (const domain::FieldSpec& field : spec.fields) {
    FUZZ_CHECK(!field.required || command.has(field.name));
    switch (field.type) {
      case domain::FieldType::string:
      case domain::FieldType::choice: (void)command.str(field.name); break;
      case domain::FieldType::integer:
      case domain::FieldType::day:
      case domain::FieldType::month: (void)command.num(field.name); break;
      case domain::FieldType::boolean: (void)command.flag(field.name); break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)TheLedger();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  domain::Command command;
  const domain::Rejection parsed = domain::ParseCommand(line, &command);
  if (!parsed.ok()) {
    FUZZ_CHECK(!domain::RuleName(parsed.rule).empty());
    return 0;
  }
  ReadFields(command);
  FUZZ_CHECK(command.channel != fb::Channel::unknown);
  const ledger::Hash256 digest = domain::CommandHandler::CommandDigest(command);
  // The digest ignores JSON formatting: the same line parsed again is the same command.
  domain::Command again;
  FUZZ_CHECK(domain::ParseCommand(line, &again).ok());
  FUZZ_CHECK(domain::CommandHandler::CommandDigest(again) == digest);

  domain::CommandOutcome outcome;
  const ledger::Status status = TheLedger().handler->Execute(command, &outcome);
  FUZZ_CHECK(status.ok());  // the ledger itself never fails here: a refusal is a rejection
  if (outcome.rejection.ok()) {
    FUZZ_CHECK(outcome.first_position >= 1 && outcome.first_position <= outcome.last_position);
  }
  return 0;
}
