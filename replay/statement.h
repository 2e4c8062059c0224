// Rights statements (Social Insurance Law Art. 74: a person may check their own record): a
// person's payment and rights record, with every event it is folded from, each event's RFC 6962
// inclusion proof against a signed checkpoint, and the agency's signature over the whole.
// Anyone holding the agency's public key can check it offline (CheckStatement): no database,
// no trust in the agency's servers.
//
// What a valid statement proves: every enclosed event is byte-for-byte in the log the agency
// signed at the checkpoint; the summary is exactly what the ledger's own fold gives for those
// events; and the agency vouches (statement signature) that these are all of the person's
// events up to the checkpoint.
//
// JSON form (StatementToJson; one object):
//   {"format":"shebao-statement/1","person":"<citizen id>","issued_us":T,
//    "checkpoint":{...checkpoint.h text form...},
//    "summary":{"payments":[...],"rights":[...]},          (records_json.h)
//    "events":[{"position":P,"bytes":"<base64>","proof":["<hex>",...],"event":{...}},...],
//    "signature":"<hex>"}
// "event" is the readable rendering of "bytes"; the check requires it to say the same.
//
// Signed bytes (the statement signature, by the checkpoint's key):
//   "shebao-statement/1\n" || be64(len) person || be64(issued_us) || checkpoint signed bytes
//   || checkpoint signature || be64(event count) || for each event: be64(position) ||
//   be64(len) bytes || be64(len) summary, where summary is the fold's canonical rendering.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/clock.h"
#include "ledger/event_store.h"
#include "replay/checkpoint.h"
#include "replay/merkle.h"
#include "replay/signing.h"

namespace shebao::replay {

inline constexpr std::string_view kStatementFormat = "shebao-statement/1";

struct StatementEvent {
  uint64_t position = 0;
  std::string bytes;              // the stored Event FlatBuffer
  std::vector<Hash256> proof;     // inclusion proof at checkpoint.size
};

struct Statement {
  std::string person;
  int64_t issued_us = 0;
  Checkpoint checkpoint;
  std::string summary_json;       // RecordsJson of the fold, canonical (no whitespace)
  std::vector<StatementEvent> events;  // increasing positions, all <= checkpoint.size
  Signature signature{};
};

// Builds the statement of person as of the latest recorded checkpoint, signed with key (which
// must be the checkpoint's key). Events after the checkpoint are not included (record a new
// checkpoint first to include them). Errors: not_found (no checkpoint recorded),
// invalid_argument (person is not a valid citizen ID; key is not the checkpoint's),
// corruption, io_error.
ledger::Status BuildStatement(const ledger::EventStore& store, std::string_view person,
                              const PrivateKey& key, ledger::Clock& clock, Statement* out);

// The canonical rendering of the records folded from events (as a statement's summary).
// Errors: corruption if the events are not valid, not in increasing positions up to
// position, or leave a gap in a stream's versions (the fold needs every event of a stream).
ledger::Status SummaryOf(const std::vector<StatementEvent>& events, std::string_view person,
                         uint64_t position, std::string* summary_json);

std::string StatementSignedBytes(const Statement& statement);
std::string StatementToJson(const Statement& statement);
// Parses the JSON form. Errors: invalid_argument naming the field (and event index) that is
// missing or malformed. Does not check proofs or signatures (CheckStatement does).
ledger::Status StatementFromJson(std::string_view json, Statement* out);

// Checks a statement offline against the agency's public key. In order: the checkpoint's
// signature; each event decodes, belongs to the person, is at a position <= the checkpoint
// size with increasing positions, and its inclusion proof leads to the checkpoint root; the
// readable "event" renderings (if json is given) say what the bytes say; the summary equals
// the fold of the events; the statement signature. OK, or corruption naming the first failure.
// json: the statement's text, to compare its summary and renderings; may be empty when the
// statement was built in memory.
ledger::Status CheckStatement(const Statement& statement, std::string_view json,
                              const PublicKey& trusted);

// A readable rendering (plain text): the records, the events and what proves them.
std::string StatementToText(const Statement& statement);

}  // namespace shebao::replay
