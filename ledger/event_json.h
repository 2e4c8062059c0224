// Renders a stored event as JSON through the FlatBuffers reflection schema embedded at build
// time, so every payload type prints without hand-written code. Field names are the schema's,
// which the evolution rules keep stable.
#pragma once

#include <string>
#include <string_view>

#include "ledger/status.h"

namespace shebao::ledger {

// REQUIRES: bytes is a verified Event buffer. Thread-safe. On success *json is one line.
Status EventToJson(std::string_view bytes, std::string* json);

}  // namespace shebao::ledger
