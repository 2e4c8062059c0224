// Commands: one JSON object per line (JSONL), each the action of one actor. docs/commands.md
// documents every command, its fields, the events it appends and its rejections. Parsing checks
// the shape only (known command, known fields, types, sizes, UTF-8); the domain rules are checked
// when the command is executed (command_handler.h).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ledger/domain/dates.h"
#include "ledger/domain/rule.h"
#include "shebao/event_generated.h"

namespace shebao::domain {

// Limits of command input (TigerStyle: a limit on everything).
inline constexpr size_t kCommandLineBytesMax = 16 * 1024;
inline constexpr size_t kFieldBytesMax = 256;
inline constexpr int64_t kAmountFenMax = 10'000'000'000;  // 100 million yuan

enum class CommandKind : uint8_t {
  issue_materials,
  confirm_low_income_list,
  declare,
  submit_materials,
  review,
  forward_to_agency,
  receive,
  enter_info,
  establish_account,
  collect_premium,
  collection_failed,
  reverse_payment,
  refund_payment,
  withdraw,
  request_certificate,
  print_certificate_list,
  pay_certificate_fee,
  accept_certificate_procedures,
  certificate_ready,
  collect_certificate,
  issue_certificate,
  record_override,
  register_employee,
  deregister_employee,
  declare_contribution,
  pay_contribution,
};

// string: text of 1..kFieldBytesMax bytes; choice: one of `choices`; month: "YYYY-MM", read as
// the integer yyyymm; day: "YYYY-MM-DD", read as days since 1970-01-01.
enum class FieldType : uint8_t { string, integer, boolean, choice, day, month };

struct FieldSpec {
  std::string_view name;
  FieldType type;
  bool required;
  std::vector<std::string_view> choices = {};  // for FieldType::choice
};

struct CommandSpec {
  CommandKind kind;
  std::string_view name;
  // Case commands name the case by child_id + coverage_year (both required).
  bool targets_case;
  std::vector<FieldSpec> fields;
  std::string_view summary;
};

// All commands, in CommandKind order.
const std::vector<CommandSpec>& CommandSpecs();
const CommandSpec& SpecOf(CommandKind kind);

struct CommandActor {
  fb::Role role = fb::Role::unknown;
  std::string org;  // USCC, division code or bank code
  std::string id;   // citizen ID of a person, staff id within the organisation
};

using FieldValue = std::variant<std::string, int64_t, bool>;

struct Command {
  CommandKind kind{};
  std::string idempotency_key;
  Day day = 0;             // "at": Beijing date
  int32_t second = 0;      // "at": seconds since Beijing midnight
  CommandActor actor;
  fb::Channel channel = fb::Channel::unknown;
  std::map<std::string, FieldValue, std::less<>> fields;

  bool has(std::string_view name) const { return fields.find(name) != fields.end(); }
  // Field values; REQUIRES: the field has that type in the command's spec. Absent optional
  // fields read as "", 0 or false.
  const std::string& str(std::string_view name) const;
  int64_t num(std::string_view name) const;
  bool flag(std::string_view name) const;
};

// Parses one JSONL line. On failure returns the rejection naming the field (dotted path) and
// leaves *out unspecified. Never throws.
Rejection ParseCommand(std::string_view line, Command* out);

// The channel a role acts through when a command names none.
fb::Channel DefaultChannel(fb::Role role);

}  // namespace shebao::domain
