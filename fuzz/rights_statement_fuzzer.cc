// Harness (d): a rights statement as `shebao audit check-statement` reads it from a file.
//
// Input: the statement's bytes. StatementFromJson must refuse it with a named field or accept
// it; an accepted statement is checked (CheckStatement) against the key that signed the seeds
// (fuzz/rights_statement_fuzzer.pub), and rendered as text and JSON. Nothing may crash, leak or
// hang whatever the statement holds: events that are not events, proofs of any length, gaps in
// a stream's versions, positions out of order. The committed seeds verify (the school
// enrollment of examples/), so the fuzzer starts from the deepest path: proofs, fold, signature.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "replay/signing.h"
#include "replay/statement.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace shebao;
  static const replay::PublicKey* key = [] {
    auto* k = new replay::PublicKey;
    FUZZ_CHECK(replay::PublicKey::Load(SHEBAO_SOURCE_DIR "/fuzz/rights_statement_fuzzer.pub", k).ok());
    return k;
  }();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  replay::Statement statement;
  if (!replay::StatementFromJson(text, &statement).ok()) return 0;
  const ledger::Status checked = replay::CheckStatement(statement, text, *key);
  // A failed check is a corruption naming what failed, never another kind of error.
  FUZZ_CHECK(checked.ok() || checked.code() == ledger::Code::corruption);
  (void)replay::StatementToText(statement);
  // What is rendered parses back to the same statement.
  replay::Statement again;
  FUZZ_CHECK(replay::StatementFromJson(replay::StatementToJson(statement), &again).ok());
  FUZZ_CHECK(again.events.size() == statement.events.size());
  return 0;
}
