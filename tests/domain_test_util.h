// A ledger with the domain wired up, and a small builder of JSONL command lines, for the
// domain tests.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "ledger/domain/case_state.h"
#include "ledger/domain/command_handler.h"
#include "ledger/domain/employer.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/domain/projector.h"
#include "tests/test_util.h"

namespace shebao::testing {

// Builds one command line: Cmd("declare", "2025-09-03T10:00:00").Actor("guardian", "", id)...
class Cmd {
 public:
  Cmd(std::string_view command, std::string_view at) {
    fields_["command"] = Quote(command);
    fields_["at"] = Quote(at);
    fields_["key"] = Quote(fmt::format("{}-{}-{}", command, at, counter_++));
  }
  Cmd& Actor(std::string_view role, std::string_view org, std::string_view id) {
    fields_["actor"] = org.empty()
                           ? fmt::format("{{\"role\":{},\"id\":{}}}", Quote(role), Quote(id))
                           : fmt::format("{{\"role\":{},\"org\":{},\"id\":{}}}", Quote(role),
                                         Quote(org), Quote(id));
    return *this;
  }
  Cmd& Case(std::string_view child, int year) {
    fields_["child_id"] = Quote(child);
    fields_["coverage_year"] = std::to_string(year);
    return *this;
  }
  Cmd& Key(std::string_view key) { return Raw("key", Quote(key)); }
  Cmd& Str(std::string_view name, std::string_view value) { return Raw(name, Quote(value)); }
  Cmd& Num(std::string_view name, int64_t value) { return Raw(name, std::to_string(value)); }
  Cmd& Bool(std::string_view name, bool value) { return Raw(name, value ? "true" : "false"); }
  Cmd& Raw(std::string_view name, std::string value) {
    fields_[std::string(name)] = std::move(value);
    return *this;
  }
  Cmd& Drop(std::string_view name) {
    fields_.erase(std::string(name));
    return *this;
  }
  std::string Json() const {
    std::string out = "{";
    for (const auto& [k, v] : fields_) {
      if (out.size() > 1) out += ",";
      out += Quote(k) + ":" + v;
    }
    return out + "}";
  }

 private:
  static std::string Quote(std::string_view s) { return fmt::format("\"{}\"", s); }
  static inline int counter_ = 0;
  std::map<std::string, std::string> fields_;
};

// Valid identifiers for the tests (DOMAIN.md examples, and codes with computed check chars).
inline const std::string kChild = "110105201503010010";     // born 2015-03-01, Beijing
inline const std::string kChild2 = "440305201208150026";    // born 2012-08-15, Shenzhen
inline const std::string kChild3 = "310115201801010035";    // born 2018-01-01, Shanghai
inline const std::string kGuardian = "11010519491231002X";
inline const std::string kGuardian2 = "440308199901101512";
inline const std::string kAgency = "110105";
inline const std::string kCivilAffairs = "110105";
inline const std::string kBank = "102100099996";

inline std::string SchoolUscc() { return domain::MakeUscc("12110105MB0012345"); }
inline std::string EmployerUscc() { return "91110000600037341L"; }

class DomainLedger {
 public:
  DomainLedger() {
    ledger::StoreOptions options;
    options.sync = false;
    options.clock = &clock_;
    options.projector = &projector_;
    ledger::Status s = ledger::EventStore::Open(dir_.path(), options, &store_);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    s = domain::WorkingDayCalendar::Load(SHEBAO_DATA_DIR "/holiday-cn", &calendar_);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    s = domain::PremiumTable::Load(SHEBAO_DATA_DIR "/premiums.json", &premiums_);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    // Commands read states from the projections, as in production; Case() below folds the
    // stream itself, so every test compares the two paths (see CaseFromProjection).
    handler_ = std::make_unique<domain::CommandHandler>(store_.get(), &premiums_, &calendar_,
                                                        /*states_from_projections=*/true);
  }

  // Parses and executes a line; the parse must succeed.
  domain::CommandOutcome Run(const std::string& line) {
    domain::Command command;
    domain::Rejection parsed = domain::ParseCommand(line, &command);
    REQUIRE_MESSAGE(parsed.ok(), domain::RuleName(parsed.rule), " ", parsed.field, ": ",
                    parsed.message, "\n  in ", line);
    domain::CommandOutcome out;
    ledger::Status s = handler_->Execute(command, &out);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return out;
  }
  domain::CommandOutcome Run(const Cmd& cmd) { return Run(cmd.Json()); }

  // The command must be accepted.
  domain::CommandOutcome Ok(const Cmd& cmd) {
    auto out = Run(cmd);
    REQUIRE_MESSAGE(out.rejection.ok(), domain::RuleName(out.rejection.rule), " ",
                    out.rejection.field, ": ", out.rejection.message, "\n  in ", cmd.Json());
    return out;
  }

  // The command must be refused with rule (at field, if given), appending nothing.
  void Refused(const Cmd& cmd, domain::Rule rule, std::string_view field = {}) {
    const uint64_t before = store_->head().position;
    auto out = Run(cmd);
    CHECK_MESSAGE(out.rejection.rule == rule, "expected ", domain::RuleName(rule), ", got ",
                  domain::RuleName(out.rejection.rule), " (", out.rejection.field, ": ",
                  out.rejection.message, ")\n  in ", cmd.Json());
    if (!field.empty()) CHECK(out.rejection.field == field);
    CHECK_MESSAGE(store_->head().position == before, "a refused command appended events");
  }

  // A raw line (which may not even parse) must be refused with rule, appending nothing.
  void RefusedLine(const std::string& line, domain::Rule rule, std::string_view field = {}) {
    const uint64_t before = store_->head().position;
    domain::Command command;
    domain::Rejection r = domain::ParseCommand(line, &command);
    if (r.ok()) {
      domain::CommandOutcome out;
      ledger::Status s = handler_->Execute(command, &out);
      REQUIRE_MESSAGE(s.ok(), s.ToString());
      r = out.rejection;
    }
    CHECK_MESSAGE(r.rule == rule, "expected ", domain::RuleName(rule), ", got ",
                  domain::RuleName(r.rule), " (", r.field, ": ", r.message, ")\n  in ",
                  line.substr(0, 300));
    if (!field.empty()) CHECK(r.field == field);
    CHECK_MESSAGE(store_->head().position == before, "a refused line appended events");
  }

  domain::CaseState Case(std::string_view child, int year) {
    domain::CaseState state;
    std::vector<ledger::RecordedEvent> events;
    REQUIRE(store_->ReadStream(domain::CaseStreamId(year, child), 1, ledger::Direction::forward,
                               10000, &events)
                .ok());
    for (const auto& e : events) domain::ApplyCaseEvent(&state, *e.event(), e.position);
    // The projection row must say exactly what the fold of the stream says.
    CHECK(CaseFromProjection(child, year) == state);
    return state;
  }

  domain::CaseState CaseFromProjection(std::string_view child, int year) {
    domain::CaseState state;
    std::string bytes;
    bool found = false;
    REQUIRE(store_->GetProjection(domain::CaseKey(child, year), &bytes, &found).ok());
    if (found) REQUIRE(domain::DecodeCaseState(bytes, &state));
    return state;
  }

  // Every projection row, in key order.
  std::map<std::string, std::string> DumpProjections() { return ProjectionRows(*store_); }

  domain::EmploymentState Employment(std::string_view uscc, std::string_view employee) {
    domain::EmploymentState state;
    std::vector<ledger::RecordedEvent> events;
    REQUIRE(store_->ReadStream(domain::EmploymentStreamId(uscc, employee), 1,
                               ledger::Direction::forward, 10000, &events)
                .ok());
    for (const auto& e : events) domain::ApplyEmploymentEvent(&state, *e.event(), e.position);
    return state;
  }

  // Parses lines (all must parse) and runs them with ExecuteMany.
  std::vector<domain::CommandOutcome> RunMany(const std::vector<std::string>& lines) {
    std::vector<domain::Command> commands(lines.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      domain::Rejection r = domain::ParseCommand(lines[i], &commands[i]);
      REQUIRE_MESSAGE(r.ok(), domain::RuleName(r.rule), " in ", lines[i]);
    }
    std::vector<domain::CommandOutcome> outcomes;
    ledger::Status s = handler_->ExecuteMany(commands, &outcomes);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    return outcomes;
  }

  ledger::EventStore& store() { return *store_; }
  domain::CommandHandler& handler() { return *handler_; }
  const domain::WorkingDayCalendar& calendar() const { return calendar_; }

 private:
  TempDir dir_{"domain"};
  ledger::ManualClock clock_{1'760'000'000'000'000, 1000};
  domain::DomainProjector projector_;
  std::unique_ptr<ledger::EventStore> store_;
  domain::WorkingDayCalendar calendar_;
  domain::PremiumTable premiums_;
  std::unique_ptr<domain::CommandHandler> handler_;
};

}  // namespace shebao::testing
