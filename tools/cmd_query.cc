// Inquiry subcommands (Social Insurance Law Art. 4 and 74): payments, rights, case, queue,
// employer, covered, stats. They read one consistent snapshot of the projections, or with
// --as-of a view folded from the log up to that position or time. Personal data is masked
// unless --reveal (docs/cli.md).
#include <charconv>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "ledger/domain/calendar.h"
#include "ledger/domain/ids.h"
#include "ledger/domain/premium_table.h"
#include "ledger/domain/records_json.h"
#include "ledger/domain/queries.h"
#include "tools/cli.h"

namespace po = boost::program_options;

namespace shebao::cli {

std::string Yuan(int64_t fen) {
  const int64_t a = fen < 0 ? -fen : fen;
  return fmt::format("{}{}.{:02}", fen < 0 ? "-" : "", a / 100, a % 100);
}

namespace {

using ledger::Status;

std::string Json(std::string_view s) { return domain::JsonString(s); }

std::string DayOrEmpty(domain::Day d) { return d == 0 ? "" : domain::FormatIsoDay(d); }

// Resolves --as-of (a position, or a Beijing time YYYY-MM-DDTHH:MM:SS) to a position.
bool ResolveAsOf(const ledger::EventStore& store, const std::string& text, uint64_t* position,
                 int* code) {
  if (!text.empty() && text.find_first_not_of("0123456789") == std::string::npos) {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *position);
    if (ec != std::errc() || end != text.data() + text.size()) {
      std::cerr << fmt::format("error: usage: --as-of {} is not a position\n", text);
      *code = kExitUsage;
      return false;
    }
    if (*position > store.head().position) {
      std::cerr << fmt::format("error: usage: --as-of {} is beyond the head {}\n", text,
                               store.head().position);
      *code = kExitUsage;
      return false;
    }
    return true;
  }
  domain::Day day = 0;
  int32_t second = 0;
  if (!domain::ParseBeijingDateTime(text, &day, &second)) {
    std::cerr << "error: usage: --as-of takes a position or a Beijing time YYYY-MM-DDTHH:MM:SS\n";
    *code = kExitUsage;
    return false;
  }
  const int64_t utc_us = (int64_t{day} * 86'400 + second - 8 * 3600) * 1'000'000;
  Status s = domain::PositionAtTime(store, utc_us, position);
  if (!s.ok()) {
    *code = Fail(s);
    return false;
  }
  return true;
}

// The view a person query reads: live snapshot, or as of a position/time.
bool PersonView(const ledger::EventStore& store, const po::variables_map& vm,
                const std::string& person, std::unique_ptr<ledger::ReadView>* view, int* code) {
  if (!vm.count("as-of")) {
    *view = store.NewReadView();
    return true;
  }
  uint64_t position = 0;
  if (!ResolveAsOf(store, vm["as-of"].as<std::string>(), &position, code)) return false;
  // The ledger never held part of an atomic batch: a position inside one means its end.
  if (position > 0) {
    std::vector<ledger::RecordedEvent> at;
    bool found = false;
    ledger::IdempotencyInfo batch;
    Status s = store.ReadAll(position, 1, &at);
    if (s.ok() && !at.empty()) {
      s = store.LookupIdempotency(at[0].event()->idempotency_key()->string_view(), &found, &batch);
    }
    if (!s.ok()) {
      *code = Fail(s);
      return false;
    }
    if (found && batch.first_position <= position && position <= batch.last_position) {
      position = batch.last_position;
    }
  }
  Status s = domain::ViewAsOf(store, person, position, view);
  if (!s.ok()) {
    *code = Fail(s);
    return false;
  }
  return true;
}

bool CheckPerson(const std::string& person, int* code) {
  if (domain::Rule r = domain::CheckCitizenId(person); r != domain::Rule::ok) {
    std::cerr << fmt::format("error: usage: --person: {}: not a valid citizen ID\n",
                             domain::RuleName(r));
    *code = kExitUsage;
    return false;
  }
  return true;
}

// What payments, rights and covered share: --person (and --as-of), the ledger, the view.
struct PersonQuery {
  std::string person;
  std::unique_ptr<ledger::EventStore> store;  // declared before view: the view dies first
  std::unique_ptr<ledger::ReadView> view;
};

// Parses args with desc (which gets --person and --as-of), opens the ledger and the view.
// Returns nullopt when the query should run, else the exit code to return.
std::optional<int> OpenPersonQuery(const GlobalOptions& options, const std::vector<std::string>& args,
                                   po::options_description& desc, const std::string& usage,
                                   const std::string& example, po::variables_map* vm,
                                   PersonQuery* q) {
  desc.add_options()("person", po::value<std::string>()->required(), "citizen ID")(
      "as-of", po::value<std::string>(), "a position, or a Beijing time YYYY-MM-DDTHH:MM:SS");
  if (auto code = ParseArgs(args, usage, example, desc, po::positional_options_description(), vm)) {
    return code;
  }
  q->person = (*vm)["person"].as<std::string>();
  int code = 0;
  if (!CheckPerson(q->person, &code)) return code;
  if (!OpenLedgerReadOnly(options, &q->store, &code)) return code;
  if (!PersonView(*q->store, *vm, q->person, &q->view, &code)) return code;
  return std::nullopt;
}

std::string_view PaymentKindName(fb::PaymentKind k) { return fb::EnumNamePaymentKind(k); }

}  // namespace

int CmdPayments(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("payments options");
  po::variables_map vm;
  PersonQuery q;
  if (auto code = OpenPersonQuery(options, args, desc, "shebao payments --person ID [--as-of POS|TIME]",
                                  "shebao --format json payments --person 110105201503010010", &vm,
                                  &q)) {
    return *code;
  }
  const std::string& person = q.person;
  const auto& view = q.view;
  std::vector<domain::PaymentLine> lines;
  Status s = domain::QueryPayments(*view, person, &lines);
  if (!s.ok()) return Fail(s);

  std::string out;
  if (options.format == "json") {
    out = fmt::format("{{\"person\":{},\"as_of_position\":{},\"payments\":[", Json(person),
                      view->position());
    for (size_t i = 0; i < lines.size(); ++i) {
      const auto& l = lines[i];
      out += (i ? "," : "") + domain::PaymentLineJson(l);
    }
    out += "]}\n";
  } else if (options.format == "csv") {
    out = "position,kind,date,amount_fen,payer,payer_id,channel,bank_code,bank_ref,period_start,"
          "period_end,original_position\n";
    for (const auto& l : lines) {
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", l.position,
                         PaymentKindName(l.kind), domain::FormatIsoDay(l.day), l.amount_fen,
                         fb::EnumNamePayerKind(l.payer), Csv(l.payer_id),
                         fb::EnumNameChannel(l.channel), Csv(l.bank_code), Csv(l.bank_ref),
                         DayOrEmpty(l.period_start_day),
                         DayOrEmpty(l.period_end_day), l.original_position);
    }
  } else {
    out = fmt::format("payment record of {} (as of position {})\n", person, view->position());
    out += fmt::format("{:>9}  {:<10}  {:<31} {:>10}  {:<18} {:<13} {:<22} {}\n", "position",
                       "date", "kind", "yuan", "payer", "channel", "bank ref", "coverage period");
    int64_t paid = 0;
    for (const auto& l : lines) {
      out += fmt::format("{:>9}  {:<10}  {:<31} {:>10}  {:<18} {:<13} {:<22} {}..{}\n", l.position,
                         domain::FormatIsoDay(l.day), PaymentKindName(l.kind), Yuan(l.amount_fen),
                         fb::EnumNamePayerKind(l.payer), fb::EnumNameChannel(l.channel), l.bank_ref,
                         DayOrEmpty(l.period_start_day), DayOrEmpty(l.period_end_day));
      if (l.kind == fb::PaymentKind::premium || l.kind == fb::PaymentKind::reversal ||
          l.kind == fb::PaymentKind::refund) {
        paid += l.amount_fen;
      }
    }
    out += fmt::format("{} lines; individual premiums net of reversals and refunds: {} yuan\n",
                       lines.size(), Yuan(paid));
  }
  std::cout << MaskPersonalData(out, options.reveal);
  return kExitOk;
}

using domain::RightsYearJson;

int CmdRights(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("rights options");
  po::variables_map vm;
  PersonQuery q;
  if (auto code = OpenPersonQuery(options, args, desc, "shebao rights --person ID [--as-of POS|TIME]",
                                  "shebao rights --person 110105201503010010 --as-of 12",
                                  &vm, &q)) {
    return *code;
  }
  const std::string& person = q.person;
  const auto& view = q.view;
  std::vector<domain::CaseState> years;
  Status s = domain::QueryRights(*view, person, &years);
  if (!s.ok()) return Fail(s);
  std::string out;
  if (options.format == "json") {
    out = fmt::format("{{\"person\":{},\"as_of_position\":{},\"years\":[", Json(person), view->position());
    for (size_t i = 0; i < years.size(); ++i) out += (i ? "," : "") + RightsYearJson(years[i]);
    out += "]}\n";
  } else if (options.format == "csv") {
    out = "coverage_year,status,effective_date,waiting_months,expiry_date,individual_paid_fen,"
          "subsidy_fen,certificate_no,certificate_due_date,certificate_issued_date,agency\n";
    for (const auto& c : years) {
      out += fmt::format("{},{},{},{},{}-12-31,{},{},{},{},{},{}\n", c.coverage_year,
                         fb::EnumNameCoverageStatus(c.coverage), DayOrEmpty(c.coverage_effective_day),
                         c.waiting_months, c.coverage_year, c.premium_fen, c.subsidy_fen,
                         Csv(c.certificate_no), DayOrEmpty(c.certificate_due_day),
                         DayOrEmpty(c.certificate_issued_day), c.agency_division_code);
    }
  } else {
    out = fmt::format("personal rights record of {} (as of position {})\n", person, view->position());
    out += fmt::format("{:<5} {:<9} {:<10} {:>4} {:<10} {:>9} {:>9}  {:<21} {:<16} {:<10} {}\n",
                       "year", "status", "effective", "wait", "expires", "paid", "subsidy",
                       "step", "certificate", "due", "agency");
    for (const auto& c : years) {
      out += fmt::format("{:<5} {:<9} {:<10} {:>4} {}-12-31 {:>9} {:>9}  {:<21} {:<16} {:<10}{} {}\n",
                         c.coverage_year, fb::EnumNameCoverageStatus(c.coverage),
                         DayOrEmpty(c.coverage_effective_day), c.waiting_months, c.coverage_year,
                         Yuan(c.premium_fen), Yuan(c.subsidy_fen), domain::StepName(c.step),
                         c.certificate_no.empty() ? "-" : c.certificate_no,
                         DayOrEmpty(c.certificate_due_day), c.due_provisional ? "*" : "",
                         c.agency_division_code);
    }
    out += "wait = waiting period in months; * = due date provisional (a holiday schedule is not "
           "yet published)\n";
  }
  std::cout << MaskPersonalData(out, options.reveal);
  return kExitOk;
}

int CmdCase(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("case options");
  desc.add_options()("case", po::value<std::string>()->required(),
                     "case/<coverage year>/<child citizen id>")(
      "as-of", po::value<std::string>(), "a position, or a Beijing time YYYY-MM-DDTHH:MM:SS");
  po::positional_options_description pos;
  pos.add("case", 1);
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao case CASE [--as-of POS|TIME]",
                            "shebao case case/2026/110105201503010010 --as-of 12", desc, pos, &vm)) {
    return *code;
  }
  const std::string id = vm["case"].as<std::string>();
  int year = 0;
  char child[64] = {0};
  if (std::sscanf(id.c_str(), "case/%d/%63s", &year, child) != 2 ||
      domain::CheckCitizenId(child) != domain::Rule::ok) {
    std::cerr << "error: usage: CASE is case/<coverage year>/<child citizen id>, with a valid "
                 "citizen ID\n";
    return kExitUsage;
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  std::unique_ptr<ledger::ReadView> view;
  if (!PersonView(*store, vm, child, &view, &code)) return code;
  domain::CaseState c;
  bool found = false;
  Status s = domain::QueryCase(*view, child, year, &c, &found);
  if (!s.ok()) return Fail(s);
  if (!found) {
    std::cerr << MaskPersonalData(fmt::format("error: not_found: no case {}\n", id), options.reveal);
    return kExitRejected;
  }
  const domain::NextStep next = domain::NextStepOf(c);
  std::string out;
  if (options.format == "json") {
    out = fmt::format("{{\"case\":{},\"as_of_position\":{},\"pathway\":\"{}\",\"attempt\":{},"
                      "\"step\":\"{}\",\"next_step\":\"{}\",\"next_owner\":\"{}\",\"next_what\":{},"
                      "\"certificate_due_date\":\"{}\",\"due_provisional\":{},\"rights\":{}}}\n",
                      Json(id), view->position(), fb::EnumNamePathway(c.pathway), c.attempt,
                      domain::StepName(c.step), domain::StepName(next.step),
                      fb::EnumNameRole(next.owner), Json(next.what), DayOrEmpty(c.certificate_due_day),
                      c.due_provisional ? "true" : "false", RightsYearJson(c));
  } else {
    out = fmt::format("case {} (pathway {}, application {})\n", id, fb::EnumNamePathway(c.pathway),
                      c.attempt);
    out += fmt::format("  current step  {}\n", domain::StepName(c.step));
    if (next.step != domain::Step::none) {
      out += fmt::format("  next step     {} — owed by the {}: {}\n", domain::StepName(next.step),
                         fb::EnumNameRole(next.owner), next.what);
    }
    if (c.certificate_due_day != 0) {
      out += fmt::format("  certificate   due {}{}\n", domain::FormatIsoDay(c.certificate_due_day),
                         c.due_provisional ? " (provisional: a holiday schedule is not published)" : "");
    }
    out += "history:\n";
  }
  std::cout << MaskPersonalData(out, options.reveal);
  if (options.format == "json") return kExitOk;
  view.reset();  // a view must not outlive its store
  store.reset();
  // The history as of the view: the case's first c.version events (all of them without --as-of).
  if (c.version == 0) return kExitOk;
  return CmdHistory(options, {id, "--limit", std::to_string(c.version)});
}

int CmdQueue(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("queue options");
  desc.add_options()("agency", po::value<std::string>()->required(), "6-digit division code")(
      "on", po::value<std::string>(), "the day to count overdue working days to (YYYY-MM-DD; "
                                      "default: the last business date in the queue)");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao queue --agency CODE [--on DATE]",
                            "shebao queue --agency 110105 --on 2025-11-01", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  domain::WorkingDayCalendar calendar;
  domain::PremiumTable premiums;
  int code = 0;
  if (!LoadDomainData(options, &calendar, &premiums, &code)) return code;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  auto view = store->NewReadView();
  std::vector<domain::QueueItem> items;
  if (domain::CheckDivisionCode(vm["agency"].as<std::string>()) != domain::Rule::ok) {
    std::cerr << "error: usage: --agency is a 6-digit administrative division code\n";
    return kExitUsage;
  }
  Status s = domain::QueryQueue(*view, vm["agency"].as<std::string>(), &items);
  if (!s.ok()) return Fail(s);
  domain::Day on = 0;
  if (vm.count("on")) {
    auto d = domain::ParseIsoDay(vm["on"].as<std::string>());
    if (!d) {
      std::cerr << "error: usage: --on is a date YYYY-MM-DD\n";
      return kExitUsage;
    }
    on = *d;
  } else {
    for (const auto& i : items) on = std::max(on, i.since_day);
  }
  // Working days from a to b (a not counted), for overdue certificates.
  auto working_days = [&](domain::Day a, domain::Day b) {
    int n = 0;
    for (domain::Day d = a + 1; d <= b && n < 10'000; ++d) n += calendar.IsWorkingDay(d) ? 1 : 0;
    return n;
  };
  std::string out;
  int due = 0, overdue = 0;
  if (options.format == "json") out = fmt::format("{{\"on\":\"{}\",\"items\":[", DayOrEmpty(on));
  if (options.format == "table") {
    out = fmt::format("{:<30} {:<21} {:<21} {:<14} {:<10} {:<11} {}\n", "case", "at step", "next step",
                      "owed by", "since", "cert. due", "overdue (working days)");
  }
  bool first = true;
  for (const auto& i : items) {
    const bool awaiting_certificate =
        i.certificate_due_day != 0 && i.step >= domain::Step::procedures_accepted &&
        i.step < domain::Step::certificate_collected;
    const int late = awaiting_certificate && on > i.certificate_due_day
                         ? working_days(i.certificate_due_day, on)
                         : 0;
    due += awaiting_certificate ? 1 : 0;
    overdue += late > 0 ? 1 : 0;
    if (options.format == "json") {
      out += fmt::format("{}{{\"case\":{},\"step\":\"{}\",\"next_step\":\"{}\",\"next_owner\":\"{}\","
                         "\"since\":\"{}\",\"certificate_due_date\":\"{}\",\"due_provisional\":{},"
                         "\"overdue_working_days\":{}}}",
                         first ? "" : ",", Json(i.stream_id), domain::StepName(i.step),
                         domain::StepName(i.next_step), fb::EnumNameRole(i.owner),
                         DayOrEmpty(i.since_day), DayOrEmpty(i.certificate_due_day),
                         i.due_provisional ? "true" : "false", late);
    } else if (options.format == "csv") {
      if (first) out += "case,step,next_step,next_owner,since,certificate_due_date,overdue_working_days\n";
      out += fmt::format("{},{},{},{},{},{},{}\n", i.stream_id, domain::StepName(i.step),
                         domain::StepName(i.next_step), fb::EnumNameRole(i.owner),
                         DayOrEmpty(i.since_day), DayOrEmpty(i.certificate_due_day), late);
    } else {
      out += fmt::format("{:<30} {:<21} {:<21} {:<14} {:<10} {:<11} {}\n", i.stream_id,
                         domain::StepName(i.step), domain::StepName(i.next_step),
                         fb::EnumNameRole(i.owner), DayOrEmpty(i.since_day),
                         DayOrEmpty(i.certificate_due_day) + (i.due_provisional ? "*" : ""),
                         late > 0 ? std::to_string(late) : "");
    }
    first = false;
  }
  if (options.format == "json") {
    out += fmt::format("],\"open\":{},\"certificates_due\":{},\"certificates_overdue\":{}}}\n",
                       items.size(), due, overdue);
  } else if (options.format == "table") {
    out += fmt::format("{} open cases; {} certificates awaited, {} overdue on {}\n", items.size(),
                       due, overdue, DayOrEmpty(on));
  }
  std::cout << MaskPersonalData(out, options.reveal);
  return kExitOk;
}

int CmdEmployer(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("employer options");
  desc.add_options()("employer", po::value<std::string>()->required(), "the employer's USCC")(
      "person", po::value<std::string>(), "one employee's citizen ID")(
      "on", po::value<std::string>(), "the day arrears are counted on (YYYY-MM-DD)");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao employer --employer USCC [--person ID] [--on DATE]",
                            "shebao employer --employer 91110000600037341L --on 2026-04-10", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  auto view = store->NewReadView();
  std::vector<domain::EmploymentState> employments;
  std::optional<std::string> person;
  if (vm.count("person")) person = vm["person"].as<std::string>();
  if (domain::Rule r = domain::CheckUscc(vm["employer"].as<std::string>());
      r != domain::Rule::ok && r != domain::Rule::uscc_checksum) {
    std::cerr << fmt::format("error: usage: --employer: {}: not a Unified Social Credit Code\n",
                             domain::RuleName(r));
    return kExitUsage;
  }
  if (person && domain::CheckCitizenId(*person) != domain::Rule::ok) {
    std::cerr << "error: usage: --person is a valid citizen ID\n";
    return kExitUsage;
  }
  Status s = domain::QueryEmployer(*view, vm["employer"].as<std::string>(),
                                   person ? std::optional<std::string_view>(*person) : std::nullopt,
                                   &employments);
  if (!s.ok()) return Fail(s);
  domain::Day on = domain::BeijingDayOfUtcMicros(store->head().recorded_us);
  if (vm.count("on")) {
    auto d = domain::ParseIsoDay(vm["on"].as<std::string>());
    if (!d) {
      std::cerr << "error: usage: --on is a date YYYY-MM-DD\n";
      return kExitUsage;
    }
    on = *d;
  }
  std::string out;
  const bool json = options.format == "json", csv = options.format == "csv";
  if (json) out = fmt::format("{{\"employer\":{},\"on\":\"{}\",\"employees\":[", Json(vm["employer"].as<std::string>()), domain::FormatIsoDay(on));
  if (csv) out = "employee_id,month,base_fen,rate_bp,declared_fen,paid_fen,in_arrears\n";
  for (size_t k = 0; k < employments.size(); ++k) {
    const auto& e = employments[k];
    int months_late = 0;
    const int64_t arrears = domain::ArrearsFen(e, on, &months_late);
    if (json) {
      out += fmt::format("{}{{\"employee_id\":{},\"employee_name\":{},\"start_month\":{},\"end_month\":{},"
                         "\"arrears_fen\":{},\"months_in_arrears\":{},\"months\":[",
                         k ? "," : "", Json(e.employee_id), Json(e.employee_name), e.start_month,
                         e.end_month, arrears, months_late);
    } else if (!csv) {
      out += fmt::format("employee {} ({}), from {}{}: arrears {} yuan over {} months on {}\n",
                         e.employee_id, options.reveal ? e.employee_name : MaskName(e.employee_name),
                         e.start_month,
                         e.end_month ? fmt::format(" to {}", e.end_month) : "", Yuan(arrears),
                         months_late, domain::FormatIsoDay(on));
      out += fmt::format("  {:<7} {:>12} {:>6} {:>10} {:>10}\n", "month", "base", "rate", "declared", "paid");
    }
    bool first = true;
    for (const auto& [month, m] : e.months) {
      const domain::Ymd today = domain::ToYmd(on);
      const bool late = month < today.year * 100 + static_cast<int>(today.month) && m.paid_fen < m.declared_fen;
      if (json) {
        out += fmt::format("{}{{\"month\":{},\"base_fen\":{},\"rate_bp\":{},\"declared_fen\":{},"
                           "\"paid_fen\":{},\"in_arrears\":{}}}",
                           first ? "" : ",", month, m.base_fen, m.rate_bp, m.declared_fen, m.paid_fen,
                           late ? "true" : "false");
      } else if (csv) {
        out += fmt::format("{},{},{},{},{},{},{}\n", e.employee_id, month, m.base_fen, m.rate_bp,
                           m.declared_fen, m.paid_fen, late ? "yes" : "no");
      } else {
        out += fmt::format("  {:<7} {:>12} {:>5}% {:>10} {:>10}{}\n", month, Yuan(m.base_fen),
                           fmt::format("{:.2f}", m.rate_bp / 100.0), Yuan(m.declared_fen),
                           Yuan(m.paid_fen), late ? "  in arrears" : "");
      }
      first = false;
    }
    if (json) out += "]}";
  }
  if (json) out += "]}\n";
  if (!json && !csv && employments.empty()) out += "no employees recorded\n";
  std::cout << MaskPersonalData(out, options.reveal);
  return kExitOk;
}

int CmdCovered(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("covered options");
  desc.add_options()("on", po::value<std::string>()->required(), "the day (YYYY-MM-DD)");
  po::variables_map vm;
  PersonQuery q;
  if (auto code = OpenPersonQuery(options, args, desc,
                                  "shebao covered --person ID --on DATE [--as-of POS|TIME]",
                                  "shebao covered --person 110105201503010010 --on 2026-03-01", &vm,
                                  &q)) {
    return *code;
  }
  const std::string& person = q.person;
  const auto& view = q.view;
  auto day = domain::ParseIsoDay(vm["on"].as<std::string>());
  if (!day) {
    std::cerr << "error: usage: --on is a date YYYY-MM-DD\n";
    return kExitUsage;
  }
  std::vector<domain::CaseState> years;
  Status s = domain::QueryRights(*view, person, &years);
  if (!s.ok()) return Fail(s);
  const auto answer = domain::CoveredOn(years, *day);
  std::string out =
      options.format == "json"
          ? fmt::format("{{\"person\":{},\"on\":\"{}\",\"as_of_position\":{},\"covered\":{},"
                        "\"reason\":{}}}\n",
                        Json(person), domain::FormatIsoDay(*day), view->position(),
                        answer.covered ? "true" : "false", Json(answer.reason))
          : fmt::format("{} on {}: {} ({}; as of position {})\n", person, domain::FormatIsoDay(*day),
                        answer.covered ? "covered" : "NOT covered", answer.reason, view->position());
  std::cout << MaskPersonalData(out, options.reveal);
  return kExitOk;
}

int CmdStats(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("stats options");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao stats", "shebao --db ./city.db stats", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedgerReadOnly(options, &store, &code)) return code;
  uint64_t bytes = 0;
  std::error_code ec;
  for (const auto& f : std::filesystem::recursive_directory_iterator(options.db_path, ec)) {
    if (f.is_regular_file(ec)) bytes += f.file_size(ec);
  }
  const ledger::Head head = store->head();
  bool interrupted = false;
  uint64_t rebuilt = 0;
  if (ledger::Status s = store->InterruptedRebuild(&interrupted, &rebuilt); !s.ok()) return Fail(s);
  if (options.format == "json") {
    std::cout << fmt::format("{{\"events\":{},\"chain_hash\":\"{}\",\"recorded_utc\":\"{}\","
                             "\"projection_position\":{},\"bytes_on_disk\":{},"
                             "\"interrupted_rebuild_position\":{}}}\n",
                             head.position, ledger::HexEncode(head.hash),
                             FormatUtcMicros(head.recorded_us), store->projection_position(), bytes,
                             interrupted ? std::to_string(rebuilt) : std::string("null"));
  } else {
    std::cout << fmt::format("events              {}\nhead hash           {}\nlast recorded       {}\n"
                             "projections at      {}\nbytes on disk       {} ({:.1f} per event)\n",
                             head.position, ledger::HexEncode(head.hash),
                             FormatUtcMicros(head.recorded_us), store->projection_position(), bytes,
                             head.position ? static_cast<double>(bytes) / static_cast<double>(head.position) : 0.0);
    if (interrupted) {
      std::cout << fmt::format("interrupted rebuild at position {} of {}: `shebao rebuild` "
                               "resumes it\n",
                               rebuilt, head.position);
    }
  }
  return kExitOk;
}

}  // namespace shebao::cli
