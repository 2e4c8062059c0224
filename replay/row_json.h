// Projection rows as JSON, for people reading the differences the replay finds. Rendered
// through the reflection schema of schema/projections.fbs; the key's first letter names the
// row table (C CaseRow, P PaymentRow, Q QueueRow, E EmploymentRow, O OrgRow).
#pragma once

#include <string>
#include <string_view>

namespace shebao::replay {

// The row as one line of JSON; a row that does not verify as its table (or an unknown key
// kind) is shown as {"undecodable_hex":"..."}. Thread-safe.
std::string RowToJson(std::string_view key, std::string_view value);

}  // namespace shebao::replay
