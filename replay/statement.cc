#include "replay/statement.h"

#include <simdjson.h>
#include <map>
#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/constants.h"
#include "ledger/domain/dates.h"
#include "ledger/domain/fb_strings.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/queries.h"
#include "ledger/domain/records_json.h"
#include "ledger/event_json.h"
#include "ledger/keys.h"
#include "replay/encoding.h"
#include "replay/log_tree.h"

namespace shebao::replay {
namespace {

using ledger::Code;
using ledger::Status;

Status Bad(std::string_view field, std::string_view why) {
  return Status(Code::invalid_argument, fmt::format("statement field '{}': {}", field, why));
}
Status Fails(std::string what) { return Status(Code::corruption, std::move(what)); }

void PutBytes(std::string* out, std::string_view bytes) {
  ledger::keys::PutBigEndian64(out, bytes.size());
  out->append(bytes);
}

bool VerifiedEvent(std::string_view bytes) {
  if (bytes.size() < ledger::kEventBytesMin || bytes.size() > ledger::kEventBytesMax) return false;
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!fb::VerifyEventBuffer(verifier)) return false;
  // As the store's reads (VerifyRecord): a union type whose table is absent verifies too.
  const fb::Event* event = fb::GetEvent(bytes.data());
  return event->payload_type() != fb::Payload::NONE && event->payload() != nullptr;
}

// True if stream is one of person's: case/<year>/<person> or employer/<uscc>/<person>.
bool PersonsStream(std::string_view stream, std::string_view person) {
  if (!stream.starts_with("case/") && !stream.starts_with("employer/")) return false;
  const size_t slash = stream.rfind('/');
  return slash != std::string_view::npos && stream.substr(slash + 1) == person &&
         stream.find('/') != slash;
}

// Minified JSON of text, or "" if it does not parse.
std::string Canonical(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  if (parser.parse(text.data(), text.size()).get(e) != simdjson::SUCCESS) return "";
  return simdjson::minify(e);
}

// Folds events into a view, checking the fold's preconditions rather than assuming them: the
// events may come from anyone.
Status FoldEvents(const std::vector<StatementEvent>& events, uint64_t position,
                  std::unique_ptr<ledger::ReadView>* view) {
  std::vector<ledger::RecordedEvent> recorded;
  recorded.reserve(events.size());
  std::map<std::string, uint64_t, std::less<>> versions;
  uint64_t last = 0;
  for (const auto& e : events) {
    if (!VerifiedEvent(e.bytes)) return Fails(fmt::format("position {}: not a valid event", e.position));
    const fb::Event* ev = fb::GetEvent(e.bytes.data());
    if (e.position <= last || e.position > position || ev->position() != e.position) {
      return Fails(fmt::format("position {}: out of order or beyond position {}", e.position,
                               position));
    }
    last = e.position;
    const std::string_view stream = domain::View(ev->stream_id());
    auto [it, fresh] = versions.try_emplace(std::string(stream), 0);
    if (ev->stream_version() != it->second + 1) {
      return Fails(fmt::format("stream {}: version {} follows version {}: the events are "
                               "incomplete",
                               stream, ev->stream_version(), it->second));
    }
    it->second = ev->stream_version();
    recorded.push_back(ledger::RecordedEvent{e.position, {}, e.bytes});
  }
  return domain::FoldView(recorded, position, view);
}

}  // namespace

Status SummaryOf(const std::vector<StatementEvent>& events, std::string_view person,
                 uint64_t position, std::string* summary_json) {
  std::unique_ptr<ledger::ReadView> view;
  Status s = FoldEvents(events, position, &view);
  if (!s.ok()) return s;
  std::vector<domain::PaymentLine> payments;
  std::vector<domain::CaseState> rights;
  if (s = domain::QueryPayments(*view, person, &payments); !s.ok()) return s;
  if (s = domain::QueryRights(*view, person, &rights); !s.ok()) return s;
  *summary_json = domain::RecordsJson(payments, rights);
  return Status::OK();
}

std::string StatementSignedBytes(const Statement& st) {
  std::string out(kStatementFormat);
  out += '\n';
  PutBytes(&out, st.person);
  ledger::keys::PutBigEndian64(&out, static_cast<uint64_t>(st.issued_us));
  out += CheckpointSignedBytes(st.checkpoint);
  out.append(reinterpret_cast<const char*>(st.checkpoint.signature.data()),
             st.checkpoint.signature.size());
  ledger::keys::PutBigEndian64(&out, st.events.size());
  for (const auto& e : st.events) {
    ledger::keys::PutBigEndian64(&out, e.position);
    PutBytes(&out, e.bytes);
  }
  PutBytes(&out, st.summary_json);
  return out;
}

Status BuildStatement(const ledger::EventStore& store, std::string_view person,
                      const PrivateKey& key, ledger::Clock& clock, Statement* out) {
  if (domain::CheckCitizenId(person) != domain::Rule::ok) {
    return Status(Code::invalid_argument,
                  fmt::format("person '{}' is not a valid citizen ID (GB 11643-1999)", person));
  }
  Statement st;
  st.person = std::string(person);
  bool found = false;
  Status s = LatestCheckpoint(store, &st.checkpoint, &found);
  if (!s.ok()) return s;
  if (!found) {
    return Status(Code::not_found, "no checkpoint is recorded: run 'shebao audit checkpoint'");
  }
  if (st.checkpoint.key != key.public_key().Raw()) {
    return Status(Code::invalid_argument,
                  fmt::format("the latest checkpoint was signed by another key than {}",
                              key.public_key().KeyId()));
  }
  std::vector<ledger::RecordedEvent> events;
  s = domain::PersonEventsAsOf(store, person, st.checkpoint.size, &events);
  if (!s.ok()) return s;
  LogSubtreeSource source(store);
  for (auto& re : events) {
    StatementEvent e{re.position, std::move(re.bytes), {}};
    s = InclusionProof(e.position - 1, st.checkpoint.size, source, &e.proof);
    if (!s.ok()) return s;
    // Assert each proof right after making it: it must lead to the signed root.
    SHEBAO_ASSERT(VerifyInclusion(LeafHash(e.bytes), e.position - 1, st.checkpoint.size, e.proof,
                                  st.checkpoint.root)
                      .ok());
    st.events.push_back(std::move(e));
  }
  s = SummaryOf(st.events, person, st.checkpoint.size, &st.summary_json);
  if (!s.ok()) return s;
  st.issued_us = clock.NowMicros();
  st.signature = key.Sign(StatementSignedBytes(st));
  *out = std::move(st);
  return Status::OK();
}

std::string StatementToJson(const Statement& st) {
  std::string out = fmt::format(
      "{{\"format\":\"{}\",\"person\":{},\"issued_us\":{},\n\"checkpoint\":{},\n\"summary\":{},\n"
      "\"events\":[",
      kStatementFormat, domain::JsonString(st.person), st.issued_us,
      CheckpointToJson(st.checkpoint), st.summary_json);
  for (size_t i = 0; i < st.events.size(); ++i) {
    const auto& e = st.events[i];
    std::string proof;
    for (size_t j = 0; j < e.proof.size(); ++j) {
      proof += fmt::format("{}\"{}\"", j ? "," : "", HexEncode(e.proof[j]));
    }
    std::string rendered;
    // Only a valid event rendered as valid JSON (strings in an event need not be UTF-8).
    if (!VerifiedEvent(e.bytes) || !ledger::EventToJson(e.bytes, &rendered).ok() ||
        Canonical(rendered).empty()) {
      rendered = "null";
    }
    out += fmt::format("{}\n{{\"position\":{},\"bytes\":\"{}\",\"proof\":[{}],\"event\":{}}}",
                       i ? "," : "", e.position, Base64Encode(e.bytes), proof, rendered);
  }
  out += fmt::format("],\n\"signature\":\"{}\"}}\n",
                     HexEncode(st.signature.data(), st.signature.size()));
  return out;
}

Status StatementFromJson(std::string_view json, Statement* out) {
  if (json.size() > ledger::kStatementBytesMax) {
    return Bad("(file)", fmt::format("larger than {} bytes", ledger::kStatementBytesMax));
  }
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS) {
    return Bad("(file)", "not valid JSON");
  }
  simdjson::dom::object o;
  if (doc.get(o) != simdjson::SUCCESS) return Bad("(root)", "not a JSON object");
  std::string_view text;
  if (o["format"].get(text) != simdjson::SUCCESS || text != kStatementFormat) {
    return Bad("format", fmt::format("must be \"{}\"", kStatementFormat));
  }
  Statement st;
  if (o["person"].get(text) != simdjson::SUCCESS) return Bad("person", "missing or not a string");
  st.person = std::string(text);
  if (o["issued_us"].get(st.issued_us) != simdjson::SUCCESS) {
    return Bad("issued_us", "missing or not an integer");
  }
  simdjson::dom::element checkpoint;
  if (o["checkpoint"].get(checkpoint) != simdjson::SUCCESS) return Bad("checkpoint", "missing");
  if (Status s = CheckpointFromJson(simdjson::minify(checkpoint), &st.checkpoint); !s.ok()) {
    return s;
  }
  simdjson::dom::element summary;
  if (o["summary"].get(summary) != simdjson::SUCCESS || !summary.is_object()) {
    return Bad("summary", "missing or not an object");
  }
  st.summary_json = simdjson::minify(summary);
  simdjson::dom::array events;
  if (o["events"].get(events) != simdjson::SUCCESS) return Bad("events", "missing or not an array");
  if (events.size() > ledger::kStatementEventsMax) {
    return Bad("events", fmt::format("more than {} events", ledger::kStatementEventsMax));
  }
  size_t i = 0;
  for (simdjson::dom::element item : events) {
    const std::string where = fmt::format("events[{}]", i++);
    StatementEvent e;
    if (item["position"].get(e.position) != simdjson::SUCCESS || e.position == 0) {
      return Bad(where + ".position", "missing or not a positive integer");
    }
    if (item["bytes"].get(text) != simdjson::SUCCESS) return Bad(where + ".bytes", "missing");
    auto bytes = Base64Decode(text, ledger::kEventBytesMax);
    if (!bytes) return Bad(where + ".bytes", "not canonical base64 of at most 16 KiB");
    e.bytes = std::move(*bytes);
    simdjson::dom::array proof;
    if (item["proof"].get(proof) != simdjson::SUCCESS ||
        proof.size() > ledger::kMerkleProofHashesMax) {
      return Bad(where + ".proof", "missing, not an array, or too long");
    }
    for (simdjson::dom::element h : proof) {
      std::string_view hex;
      std::optional<Hash256> hash;
      if (h.get(hex) != simdjson::SUCCESS || !(hash = HexDecode<32>(hex))) {
        return Bad(where + ".proof", "a hash is not 64 lowercase hex digits");
      }
      e.proof.push_back(*hash);
    }
    st.events.push_back(std::move(e));
  }
  if (o["signature"].get(text) != simdjson::SUCCESS) return Bad("signature", "missing");
  auto signature = HexDecode<ledger::kEd25519SignatureBytes>(text);
  if (!signature) return Bad("signature", "not 128 lowercase hex digits");
  st.signature = *signature;
  *out = std::move(st);
  return Status::OK();
}

Status CheckStatement(const Statement& st, std::string_view json, const PublicKey& trusted) {
  if (Status s = VerifyCheckpointSignature(st.checkpoint, trusted); !s.ok()) return s;
  // The readable renderings, when the statement came as text.
  std::vector<std::string> renderings;
  if (!json.empty()) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::array items;
    if (parser.parse(json.data(), json.size()).get(doc) != simdjson::SUCCESS ||
        doc["events"].get(items) != simdjson::SUCCESS) {
      return Fails("the statement text does not parse");
    }
    for (simdjson::dom::element item : items) {
      simdjson::dom::element rendered;
      renderings.push_back(item["event"].get(rendered) == simdjson::SUCCESS
                               ? simdjson::minify(rendered)
                               : std::string());
    }
  }
  uint64_t last = 0;
  for (size_t i = 0; i < st.events.size(); ++i) {
    const StatementEvent& e = st.events[i];
    if (!VerifiedEvent(e.bytes)) return Fails(fmt::format("events[{}] is not a valid event", i));
    const fb::Event* ev = fb::GetEvent(e.bytes.data());
    if (ev->position() != e.position) {
      return Fails(fmt::format("events[{}] says position {}, listed at {}", i, ev->position(),
                               e.position));
    }
    if (e.position <= last || e.position > st.checkpoint.size) {
      return Fails(fmt::format("events[{}] at position {} is out of order or beyond the "
                               "checkpoint ({} events)",
                               i, e.position, st.checkpoint.size));
    }
    last = e.position;
    if (!PersonsStream(domain::View(ev->stream_id()), st.person)) {
      return Fails(fmt::format("events[{}] (position {}) is in stream {}, not one of {}'s", i,
                               e.position, domain::View(ev->stream_id()), st.person));
    }
    if (Status s = VerifyInclusion(LeafHash(e.bytes), e.position - 1, st.checkpoint.size, e.proof,
                                   st.checkpoint.root);
        !s.ok()) {
      return Fails(fmt::format("events[{}] (position {}) is not in the signed log: {}", i,
                               e.position, s.message()));
    }
    if (!json.empty()) {
      std::string rendered;
      if (i >= renderings.size() || !ledger::EventToJson(e.bytes, &rendered).ok() ||
          Canonical(rendered) != renderings[i]) {
        return Fails(fmt::format("events[{}] (position {}): the readable \"event\" does not say "
                                 "what its bytes say",
                                 i, e.position));
      }
    }
  }
  std::string summary;
  if (Status s = SummaryOf(st.events, st.person, st.checkpoint.size, &summary); !s.ok()) {
    return Fails(fmt::format("the events do not add up to a record: {}", s.message()));
  }
  if (Canonical(summary) != Canonical(st.summary_json)) {
    return Fails("the summary is not what the enclosed events add up to");
  }
  Statement recomputed = st;
  recomputed.summary_json = summary;
  if (Status s = trusted.Verify(StatementSignedBytes(recomputed), st.signature); !s.ok()) {
    return Fails(fmt::format("the statement signature does not verify with key {}: the events, "
                             "summary or dates differ from what the agency signed",
                             trusted.KeyId()));
  }
  return Status::OK();
}

std::string StatementToText(const Statement& st) {
  std::string out = fmt::format(
      "Rights statement of {}\n"
      "  as of log position {} (checkpoint signed at {} UTC µs by key {})\n"
      "  Merkle root {}\n\n",
      st.person, st.checkpoint.size, st.checkpoint.time_us,
      [&] {
        PublicKey k;
        return PublicKey::FromRaw(st.checkpoint.key, &k).ok() ? k.KeyId() : std::string("?");
      }(),
      HexEncode(st.checkpoint.root));
  std::unique_ptr<ledger::ReadView> view;
  std::vector<domain::PaymentLine> payments;
  std::vector<domain::CaseState> rights;
  if (FoldEvents(st.events, st.checkpoint.size, &view).ok()) {
    (void)domain::QueryPayments(*view, st.person, &payments);
    (void)domain::QueryRights(*view, st.person, &rights);
  }
  auto yuan = [](int64_t fen) {
    const int64_t a = fen < 0 ? -fen : fen;
    return fmt::format("{}{}.{:02}", fen < 0 ? "-" : "", a / 100, a % 100);
  };
  out += "Coverage (personal rights record)\n";
  for (const auto& c : rights) {
    out += fmt::format("  {}  {:<9} from {} ({} waiting months) to {}-12-31, pathway {}, paid {} "
                       "yuan, subsidy {} yuan{}\n",
                       c.coverage_year, fb::EnumNameCoverageStatus(c.coverage),
                       c.coverage_effective_day ? domain::FormatIsoDay(c.coverage_effective_day)
                                                : std::string("-"),
                       c.waiting_months, c.coverage_year, fb::EnumNamePathway(c.pathway),
                       yuan(c.premium_fen), yuan(c.subsidy_fen),
                       c.certificate_no.empty() ? "" : ", certificate " + c.certificate_no);
  }
  out += "\nPayments\n";
  for (const auto& l : payments) {
    out += fmt::format("  position {:>9}  {}  {:<24} {:>10} yuan  {}\n", l.position,
                       domain::FormatIsoDay(l.day), fb::EnumNamePaymentKind(l.kind),
                       yuan(l.amount_fen), fb::EnumNamePayerKind(l.payer));
  }
  out += fmt::format("\nEvidence: {} events, each with an inclusion proof of {}-{} hashes against "
                     "the signed root.\nCheck offline: shebao audit check-statement FILE --key "
                     "agency.pub\n",
                     st.events.size(),
                     st.events.empty() ? 0 : st.events.front().proof.size(),
                     st.events.empty() ? 0 : st.events.back().proof.size());
  return out;
}

}  // namespace shebao::replay
