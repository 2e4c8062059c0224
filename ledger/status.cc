#include "ledger/status.h"

namespace shebao::ledger {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::ok: return "ok";
    case Code::not_found: return "not_found";
    case Code::invalid_argument: return "invalid_argument";
    case Code::batch_empty: return "batch_empty";
    case Code::batch_too_large: return "batch_too_large";
    case Code::event_too_large: return "event_too_large";
    case Code::event_undecodable: return "event_undecodable";
    case Code::envelope_invalid: return "envelope_invalid";
    case Code::stream_id_invalid: return "stream_id_invalid";
    case Code::idempotency_key_invalid: return "idempotency_key_invalid";
    case Code::expectation_missing: return "expectation_missing";
    case Code::expectation_unused: return "expectation_unused";
    case Code::version_conflict: return "version_conflict";
    case Code::stream_not_found: return "stream_not_found";
    case Code::idempotency_conflict: return "idempotency_conflict";
    case Code::claim_invalid: return "claim_invalid";
    case Code::claim_taken: return "claim_taken";
    case Code::limit_invalid: return "limit_invalid";
    case Code::corruption: return "corruption";
    case Code::io_error: return "io_error";
    case Code::ledger_locked: return "ledger_locked";
    case Code::ledger_not_found: return "ledger_not_found";
    case Code::store_failed: return "store_failed";
    case Code::interrupted: return "interrupted";
    case Code::projections_outdated: return "projections_outdated";
  }
  return "unknown_code";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace shebao::ledger
