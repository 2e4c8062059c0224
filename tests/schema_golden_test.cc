// Golden test of the schema's evolution rules: bytes written by schema version 1 and committed
// under tests/data/ must decode, verify and read back the same values with every later schema.
// The files were written once by this test with SHEBAO_WRITE_GOLDEN=1 and are never rewritten.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "ledger/envelope.h"
#include "ledger/event_store.h"

using namespace shebao;

namespace {

constexpr const char* kGoldenDeclaration = SHEBAO_GOLDEN_DIR "/golden_event_v1.shev";

// The event as schema version 1 wrote it.
std::string BuildDeclarationV1() {
  flatbuffers::FlatBufferBuilder fbb;
  auto payload = fb::CreateDeclarationSubmittedDirect(
      fbb, "case/2026/110105201503010010", "110105201503010010", "王小明", 16'495 /*2015-03-01*/,
      "11010519491231002X", "王建国", fb::Relationship::father, "110105", fb::Pathway::school,
      2026, "12110000400000000X", false, false, "DECL-2025-0001");
  ledger::EnvelopeFields env;
  env.stream_id = "case/2026/110105201503010010";
  env.effective_day = 20'342;  // 2025-09-12
  env.effective_second = 9 * 3600 + 30 * 60;
  env.role = fb::Role::guardian;
  env.person_id = "11010519491231002X";
  env.channel = fb::Channel::online;
  env.idempotency_key = "golden-declaration-1";
  env.correlation_id = "case/2026/110105201503010010";
  env.causation_id = "cmd:declare";
  std::string bytes = ledger::FinishEvent(fbb, env, fb::Payload::DeclarationSubmitted,
                                          payload.Union());
  // As the store fills them in.
  auto* e = fb::GetMutableEvent(bytes.data());
  REQUIRE(e->mutate_position(42));
  REQUIRE(e->mutate_stream_version(2));
  REQUIRE(e->mutate_recorded_us(1'757'640'600'000'000));
  return bytes;
}

std::string ReadFile(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("golden: schema v1 event bytes still decode with the current schema") {
  if (std::getenv("SHEBAO_WRITE_GOLDEN") != nullptr && !std::filesystem::exists(kGoldenDeclaration)) {
    std::ofstream out(kGoldenDeclaration, std::ios::binary);
    const std::string bytes = BuildDeclarationV1();
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    MESSAGE("wrote ", kGoldenDeclaration);
  }
  const std::string bytes = ReadFile(kGoldenDeclaration);
  REQUIRE_MESSAGE(!bytes.empty(), "missing ", kGoldenDeclaration);
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  REQUIRE(fb::VerifyEventBuffer(verifier));
  const fb::Event* e = fb::GetEvent(bytes.data());
  CHECK(e->schema_version() == 1);
  CHECK(e->position() == 42);
  CHECK(e->stream_version() == 2);
  CHECK(e->recorded_us() == 1'757'640'600'000'000);
  CHECK(e->stream_id()->str() == "case/2026/110105201503010010");
  CHECK(e->effective_day() == 20'342);
  CHECK(e->effective_second() == 9 * 3600 + 30 * 60);
  CHECK(e->actor()->role() == fb::Role::guardian);
  CHECK(e->actor()->person_id()->str() == "11010519491231002X");
  CHECK(e->channel() == fb::Channel::online);
  CHECK(e->idempotency_key()->str() == "golden-declaration-1");
  CHECK(e->causation_id()->str() == "cmd:declare");
  REQUIRE(e->payload_type() == fb::Payload::DeclarationSubmitted);
  const auto* d = e->payload_as_DeclarationSubmitted();
  CHECK(d->child_id()->str() == "110105201503010010");
  CHECK(d->child_name()->str() == "王小明");
  CHECK(d->birth_day() == 16'495);
  CHECK(d->guardian_name()->str() == "王建国");
  CHECK(d->relationship() == fb::Relationship::father);
  CHECK(d->pathway() == fb::Pathway::school);
  CHECK(d->coverage_year() == 2026);
  CHECK(d->school_uscc()->str() == "12110000400000000X");
  CHECK(d->declaration_ref()->str() == "DECL-2025-0001");
}

TEST_CASE("golden: today's encoder still produces the golden bytes") {
  // Not an evolution rule (a later schema may encode differently and that is allowed), but while
  // the schema is at version 1 it proves the golden file is what FinishEvent writes.
  const std::string bytes = ReadFile(kGoldenDeclaration);
  REQUIRE(!bytes.empty());
  CHECK(BuildDeclarationV1() == bytes);
}
