#include "ledger/domain/command.h"

#include <simdjson.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "ledger/check.h"
#include "ledger/domain/ids.h"

namespace shebao::domain {
namespace {

using FT = FieldType;

const std::vector<std::string_view> kPathways = {"school", "not_in_school", "low_income"};
const std::vector<std::string_view> kStages = {"school", "civil_affairs", "agency"};
const std::vector<std::string_view> kOutcomes = {"accepted", "returned_for_correction", "refused"};
const std::vector<std::string_view> kRelationships = {"father", "mother", "other_guardian"};
const std::vector<std::string_view> kOverrideKinds = {"pilot_uscc_checksum",
                                                      "early_certificate_issue"};
const std::vector<std::string_view> kPayers = {"guardian", "person"};

std::vector<CommandSpec> BuildSpecs() {
  using K = CommandKind;
  std::vector<CommandSpec> specs = {
      {K::issue_materials, "issue_materials", true,
       {{"pathway", FT::choice, true, kPathways}},
       "the school, agency or civil affairs hands out the application materials"},
      {K::confirm_low_income_list, "confirm_low_income_list", true,
       {{"list_no", FT::string, true},
        {"low_income_certificate_no", FT::string, true},
        {"sealed", FT::boolean, true}},
       "low income: the guardian prints and confirms the insurance list, sealed by civil affairs"},
      {K::declare, "declare", true,
       {{"child_name", FT::string, true},
        {"guardian_id", FT::string, true},
        {"guardian_name", FT::string, true},
        {"relationship", FT::choice, true, kRelationships},
        {"household_division_code", FT::string, true},
        {"school_uscc", FT::string, false},
        {"settled_outside_city", FT::boolean, false},
        {"resubmission", FT::boolean, false},
        {"declaration_ref", FT::string, false}},
       "the guardian fills in the forms and declares online"},
      {K::submit_materials, "submit_materials", true,
       {{"to_org", FT::string, true}, {"resubmission", FT::boolean, false}},
       "the guardian returns the materials to the school, agency or civil affairs"},
      {K::review, "review", true,
       {{"stage", FT::choice, true, kStages},
        {"outcome", FT::choice, true, kOutcomes},
        {"reason", FT::string, false},
        {"reason_code", FT::string, false}},
       "the school, civil affairs or agency reviews: accepted, returned, refused"},
      {K::forward_to_agency, "forward_to_agency", true,
       {{"agency_division_code", FT::string, true}, {"batch_ref", FT::string, false}},
       "the school or civil affairs submits the case to the agency"},
      {K::receive, "receive", true, {{"receipt_no", FT::string, false}},
       "the agency accepts the insurance information"},
      {K::enter_info, "enter_info", true, {}, "the agency enters the insurance information"},
      {K::establish_account, "establish_account", true,
       {{"account_no", FT::string, true}, {"bank_code", FT::string, false}},
       "the agency establishes the collection account"},
      {K::collect_premium, "collect_premium", true,
       {{"amount_fen", FT::integer, true},
        {"bank_ref", FT::string, true},
        {"payer", FT::choice, false, kPayers},
        {"payer_id", FT::string, false},
        {"paid_back_years", FT::integer, false}},
       "the bank collects the individual share (the subsidy is recorded with it)"},
      {K::collection_failed, "collection_failed", true,
       {{"amount_fen", FT::integer, true},
        {"reason", FT::string, true},
        {"reason_code", FT::string, false},
        {"bank_ref", FT::string, false}},
       "the bank's collection failed (no funds, closed account)"},
      {K::reverse_payment, "reverse_payment", true,
       {{"original_position", FT::integer, true},
        {"reason", FT::string, true},
        {"reason_code", FT::string, false},
        {"reversal_ref", FT::string, false}},
       "the bank reverses a collected premium"},
      {K::refund_payment, "refund_payment", true,
       {{"original_position", FT::integer, true},
        {"amount_fen", FT::integer, true},
        {"refund_ref", FT::string, true},
        {"reason", FT::string, true},
        {"reason_code", FT::string, false}},
       "the agency refunds a collected premium"},
      {K::withdraw, "withdraw", true,
       {{"reason", FT::string, true}, {"reason_code", FT::string, false}},
       "the guardian withdraws the application before collection"},
      {K::request_certificate, "request_certificate", true, {},
       "the school, guardian or civil affairs applies for the certificate"},
      {K::print_certificate_list, "print_certificate_list", true, {{"list_no", FT::string, true}},
       "the certificate-making list is printed at the collection window"},
      {K::pay_certificate_fee, "pay_certificate_fee", true,
       {{"amount_fen", FT::integer, true}, {"receipt_no", FT::string, true}},
       "the certificate-making fee is paid at the certificate window (a fee, not a premium)"},
      {K::accept_certificate_procedures, "accept_certificate_procedures", true, {},
       "the agency accepts the certificate procedures; the due date is fixed"},
      {K::certificate_ready, "certificate_ready", true, {{"certificate_no", FT::string, true}},
       "the agency has made the certificate"},
      {K::collect_certificate, "collect_certificate", true, {},
       "the school, civil affairs or guardian receives the certificate"},
      {K::issue_certificate, "issue_certificate", true, {},
       "the certificate is issued to the child"},
      {K::record_override, "record_override", false,
       {{"kind", FT::choice, true, kOverrideKinds},
        {"reason", FT::string, true},
        {"legal_basis", FT::string, true},
        {"uscc", FT::string, false},
        {"child_id", FT::string, false},
        {"coverage_year", FT::integer, false}},
       "the agency records an explicit override with its reason and legal basis"},
      {K::register_employee, "register_employee", false,
       {{"employee_id", FT::string, true},
        {"employee_name", FT::string, true},
        {"start_month", FT::month, true}},
       "an employer registers an employee"},
      {K::deregister_employee, "deregister_employee", false,
       {{"employee_id", FT::string, true},
        {"end_month", FT::month, true},
        {"reason", FT::string, false}},
       "an employer ends an employment"},
      {K::declare_contribution, "declare_contribution", false,
       {{"employee_id", FT::string, true},
        {"month", FT::month, true},
        {"base_fen", FT::integer, true},
        {"rate_bp", FT::integer, true},
        {"amount_fen", FT::integer, true}},
       "an employer declares a monthly contribution"},
      {K::pay_contribution, "pay_contribution", false,
       {{"employee_id", FT::string, true},
        {"month", FT::month, true},
        {"amount_fen", FT::integer, true},
        {"bank_code", FT::string, true},
        {"bank_ref", FT::string, true}},
       "an employer pays a declared monthly contribution"},
  };
  for (size_t i = 0; i < specs.size(); ++i) SHEBAO_ASSERT(static_cast<size_t>(specs[i].kind) == i);
  return specs;
}

const FieldSpec* FindField(const CommandSpec& spec, std::string_view name) {
  for (const auto& f : spec.fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool HasControlChars(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// A string field: present, 1..kFieldBytesMax bytes, no control characters.
Rejection ReadString(simdjson::dom::element value, std::string_view field, std::string* out) {
  std::string_view s;
  if (value.get_string().get(s) != simdjson::SUCCESS) {
    return Reject(Rule::field_type, std::string(field), "must be a string");
  }
  if (s.empty()) return Reject(Rule::field_empty, std::string(field), "must not be empty");
  if (s.size() > kFieldBytesMax) {
    return Reject(Rule::field_too_long, std::string(field),
                  fmt::format("{} bytes, at most {}", s.size(), kFieldBytesMax));
  }
  if (HasControlChars(s)) {
    return Reject(Rule::field_type, std::string(field), "must not contain control characters");
  }
  out->assign(s);
  return Rejection::None();
}

Rejection ReadValue(simdjson::dom::element value, const FieldSpec& spec, std::string_view path,
                    FieldValue* out) {
  switch (spec.type) {
    case FT::string: {
      std::string s;
      if (auto r = ReadString(value, path, &s); !r.ok()) return r;
      *out = std::move(s);
      return Rejection::None();
    }
    case FT::choice: {
      std::string s;
      if (auto r = ReadString(value, path, &s); !r.ok()) return r;
      bool known = false;
      for (auto c : spec.choices) known |= c == s;
      if (!known) {
        std::string list;
        for (auto c : spec.choices) list += (list.empty() ? "" : ", ") + std::string(c);
        return Reject(Rule::field_type, std::string(path), fmt::format("must be one of: {}", list));
      }
      *out = std::move(s);
      return Rejection::None();
    }
    case FT::integer: {
      int64_t v = 0;
      if (!value.is_int64()) {
        if (value.is_uint64()) {
          return Reject(Rule::amount_too_large, std::string(path), "the number is too large");
        }
        return Reject(Rule::field_type, std::string(path), "must be an integer (amounts in fen)");
      }
      if (value.get_int64().get(v) != simdjson::SUCCESS) {
        return Reject(Rule::field_type, std::string(path), "must be an integer");
      }
      if (v > kAmountFenMax || v < -kAmountFenMax) {
        return Reject(Rule::amount_too_large, std::string(path),
                      fmt::format("at most {} in magnitude", kAmountFenMax));
      }
      *out = v;
      return Rejection::None();
    }
    case FT::boolean: {
      bool b = false;
      if (value.get_bool().get(b) != simdjson::SUCCESS) {
        return Reject(Rule::field_type, std::string(path), "must be true or false");
      }
      *out = b;
      return Rejection::None();
    }
    case FT::day: {
      std::string s;
      if (auto r = ReadString(value, path, &s); !r.ok()) return r;
      auto d = ParseIsoDay(s);
      if (!d) return Reject(Rule::date_invalid, std::string(path), "must be a real date YYYY-MM-DD");
      *out = int64_t{*d};
      return Rejection::None();
    }
    case FT::month: {
      std::string s;
      if (auto r = ReadString(value, path, &s); !r.ok()) return r;
      auto d = s.size() == 7 ? ParseIsoDay(s + "-01") : std::nullopt;
      if (!d) return Reject(Rule::month_invalid, std::string(path), "must be a month YYYY-MM");
      const Ymd ymd = ToYmd(*d);
      *out = int64_t{ymd.year * 100 + static_cast<int>(ymd.month)};
      return Rejection::None();
    }
  }
  return Reject(Rule::field_type, std::string(path), "unsupported");
}

template <typename Names>
bool EnumFromName(Names names, std::string_view name, int* out) {
  for (int i = 0; names[i] != nullptr; ++i) {
    if (name == names[i]) {
      *out = i;
      return true;
    }
  }
  return false;
}

Rejection ParseActor(simdjson::dom::element value, CommandActor* actor) {
  simdjson::dom::object obj;
  if (value.get_object().get(obj) != simdjson::SUCCESS) {
    return Reject(Rule::field_type, "actor", "must be an object {role, org, id}");
  }
  bool have_role = false;
  for (auto [key, v] : obj) {
    if (key == "role") {
      std::string role;
      if (auto r = ReadString(v, "actor.role", &role); !r.ok()) return r;
      int index = 0;
      if (!EnumFromName(fb::EnumNamesRole(), role, &index) || index == 0 ||
          static_cast<fb::Role>(index) == fb::Role::system) {
        return Reject(Rule::field_type, "actor.role",
                      "must be guardian, school, civil_affairs, agency, bank, employer, auditor, "
                      "administrator or person");
      }
      actor->role = static_cast<fb::Role>(index);
      have_role = true;
    } else if (key == "org") {
      if (auto r = ReadString(v, "actor.org", &actor->org); !r.ok()) return r;
    } else if (key == "id") {
      if (auto r = ReadString(v, "actor.id", &actor->id); !r.ok()) return r;
    } else {
      return Reject(Rule::field_unknown, fmt::format("actor.{}", key), "actor has role, org, id");
    }
  }
  if (!have_role) return Reject(Rule::field_missing, "actor.role", "who acts");
  if (actor->id.empty()) return Reject(Rule::field_missing, "actor.id", "person or staff id");
  if (actor->role == fb::Role::guardian || actor->role == fb::Role::person) {
    if (Rule r = CheckCitizenId(actor->id); r != Rule::ok) {
      return Reject(r, "actor.id", "a guardian or person acts under their citizen ID");
    }
  }
  if (actor->role != fb::Role::guardian && actor->role != fb::Role::person && actor->org.empty()) {
    return Reject(Rule::field_missing, "actor.org", "the acting organisation");
  }
  return Rejection::None();
}

}  // namespace

const std::vector<CommandSpec>& CommandSpecs() {
  static const std::vector<CommandSpec> specs = BuildSpecs();
  return specs;
}

const CommandSpec& SpecOf(CommandKind kind) { return CommandSpecs()[static_cast<size_t>(kind)]; }

const std::string& Command::str(std::string_view name) const {
  static const std::string kEmpty;
  auto it = fields.find(name);
  if (it == fields.end()) return kEmpty;
  SHEBAO_ASSERT(std::holds_alternative<std::string>(it->second));
  return std::get<std::string>(it->second);
}

int64_t Command::num(std::string_view name) const {
  auto it = fields.find(name);
  if (it == fields.end()) return 0;
  SHEBAO_ASSERT(std::holds_alternative<int64_t>(it->second));
  return std::get<int64_t>(it->second);
}

bool Command::flag(std::string_view name) const {
  auto it = fields.find(name);
  if (it == fields.end()) return false;
  SHEBAO_ASSERT(std::holds_alternative<bool>(it->second));
  return std::get<bool>(it->second);
}

fb::Channel DefaultChannel(fb::Role role) {
  switch (role) {
    case fb::Role::guardian:
    case fb::Role::person: return fb::Channel::online;
    case fb::Role::school: return fb::Channel::school;
    case fb::Role::civil_affairs: return fb::Channel::civil_affairs;
    case fb::Role::agency: return fb::Channel::agency_window;
    case fb::Role::bank: return fb::Channel::bank;
    case fb::Role::employer: return fb::Channel::employer;
    default: return fb::Channel::system;
  }
}

namespace {

// The field names of one command object accepted so far, compared pairwise without allocating
// (a std::map node per field was a quarter of the parsing in a city ingest, perf). An unknown
// name is refused as soon as it is read, so a command names at most its spec's fields and the
// seven every command may have (command, key, at, actor, channel, child_id, coverage_year):
// ParseCommand asserts that this fits.
class SeenFields {
 public:
  static constexpr size_t kMax = 32;

  // Returns false if name was inserted before. REQUIRES: fewer than kMax names inserted.
  bool Insert(std::string_view name) {
    const auto end = names_.begin() + static_cast<std::ptrdiff_t>(count_);
    if (std::find(names_.begin(), end, name) != end) return false;
    SHEBAO_ASSERT(count_ < kMax);
    names_[count_++] = name;
    return true;
  }

 private:
  std::array<std::string_view, kMax> names_;
  size_t count_ = 0;
};

}  // namespace

Rejection ParseCommand(std::string_view line, Command* out) {
  if (line.size() > kCommandLineBytesMax) {
    return Reject(Rule::line_too_long, "",
                  fmt::format("{} bytes, at most {}", line.size(), kCommandLineBytesMax));
  }
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const simdjson::padded_string padded(line);
  if (auto error = parser.parse(padded).get(doc); error != simdjson::SUCCESS) {
    if (error == simdjson::UTF8_ERROR) {
      return Reject(Rule::utf8_invalid, "", "the line is not valid UTF-8");
    }
    return Reject(Rule::json_malformed, "", fmt::format("not JSON: {}", simdjson::error_message(error)));
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return Reject(Rule::json_not_object, "", "a command is one JSON object");
  }

  // Which command? Everything else is read against its spec.
  simdjson::dom::element command_value;
  if (obj.at_key("command").get(command_value) != simdjson::SUCCESS) {
    return Reject(Rule::field_missing, "command", "which command");
  }
  std::string name;
  if (auto r = ReadString(command_value, "command", &name); !r.ok()) return r;
  const CommandSpec* spec = nullptr;
  for (const auto& s : CommandSpecs()) {
    if (s.name == name) spec = &s;
  }
  if (spec == nullptr) {
    return Reject(Rule::command_unknown, "command",
                  fmt::format("unknown command '{}' (docs/commands.md lists them)", name));
  }
  *out = Command();
  out->kind = spec->kind;
  SHEBAO_ASSERT(spec->fields.size() + 7 <= SeenFields::kMax);

  bool have_key = false, have_at = false, have_actor = false;
  SeenFields seen;
  for (auto [key, value] : obj) {
    if (!seen.Insert(key)) {
      return Reject(Rule::json_malformed, std::string(key), "the field appears twice");
    }
    if (key == "command") continue;
    if (key == "key") {
      if (auto r = ReadString(value, "key", &out->idempotency_key); !r.ok()) return r;
      have_key = true;
    } else if (key == "at") {
      std::string at;
      if (auto r = ReadString(value, "at", &at); !r.ok()) return r;
      if (!ParseBeijingDateTime(at, &out->day, &out->second)) {
        const int year = at.size() > 4 && at[4] == '-' &&
                                 std::all_of(at.begin(), at.begin() + 4,
                                             [](char c) { return c >= '0' && c <= '9'; })
                             ? std::stoi(at.substr(0, 4))
                             : kYearMin;
        if (year < kYearMin || year > kYearMax) {
          return Reject(Rule::date_out_of_range, "at",
                        fmt::format("the year {} is outside {}..{}", year, kYearMin, kYearMax));
        }
        return Reject(Rule::date_invalid, "at",
                      "a real Beijing date and time YYYY-MM-DDTHH:MM:SS (optional +08:00)");
      }
      have_at = true;
    } else if (key == "actor") {
      if (auto r = ParseActor(value, &out->actor); !r.ok()) return r;
      have_actor = true;
    } else if (key == "channel") {
      std::string channel;
      if (auto r = ReadString(value, "channel", &channel); !r.ok()) return r;
      int index = 0;
      if (!EnumFromName(fb::EnumNamesChannel(), channel, &index) || index == 0) {
        return Reject(Rule::field_type, "channel",
                      "online, school, civil_affairs, agency_window, bank, employer or system");
      }
      out->channel = static_cast<fb::Channel>(index);
    } else if (spec->targets_case && key == "child_id") {
      std::string child;
      if (auto r = ReadString(value, "child_id", &child); !r.ok()) return r;
      out->fields.emplace("child_id", std::move(child));
    } else if (spec->targets_case && key == "coverage_year") {
      int64_t year = 0;
      if (!value.is_int64() || value.get_int64().get(year) != simdjson::SUCCESS) {
        return Reject(Rule::field_type, "coverage_year", "must be an integer year");
      }
      if (year < kYearMin || year > kYearMax) {
        return Reject(Rule::coverage_year_out_of_range, "coverage_year",
                      fmt::format("{}..{}", kYearMin, kYearMax));
      }
      out->fields.emplace("coverage_year", year);
    } else if (const FieldSpec* field = FindField(*spec, key)) {
      FieldValue v;
      if (auto r = ReadValue(value, *field, key, &v); !r.ok()) return r;
      out->fields.emplace(std::string(key), std::move(v));
    } else {
      return Reject(Rule::field_unknown, std::string(key),
                    fmt::format("{} has no field '{}'", spec->name, key));
    }
  }
  if (!have_key) return Reject(Rule::field_missing, "key", "every command carries an idempotency key");
  for (char c : out->idempotency_key) {
    if (c < 0x21 || c > 0x7e) {
      return Reject(Rule::field_type, "key", "an idempotency key is printable ASCII, no spaces");
    }
  }
  if (out->idempotency_key.size() > 128) {
    return Reject(Rule::field_too_long, "key", "an idempotency key has at most 128 characters");
  }
  if (!have_at) return Reject(Rule::field_missing, "at", "when the action happened (Beijing time)");
  if (!have_actor) return Reject(Rule::field_missing, "actor", "who acts");
  if (spec->targets_case) {
    if (!out->has("child_id")) return Reject(Rule::field_missing, "child_id", "whose case");
    if (!out->has("coverage_year")) {
      return Reject(Rule::field_missing, "coverage_year", "which coverage year");
    }
  }
  for (const auto& f : spec->fields) {
    if (f.required && !out->has(f.name)) {
      return Reject(Rule::field_missing, std::string(f.name), fmt::format("{} requires it", spec->name));
    }
  }
  if (out->channel == fb::Channel::unknown) out->channel = DefaultChannel(out->actor.role);
  return Rejection::None();
}

}  // namespace shebao::domain
