// shebao demo --children N --seed S: records a deterministic synthetic city (tools/
// city_generator.h: the three pathways about 80/12/8, several coverage years, returns,
// failures, refunds, employers) through the full command path, then answers a real inquiry
// about one child: payment record, rights record, coverage on a date, and verifies the chain.
// Running it again on the same ledger appends nothing: every line is an idempotent retry.
#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "ledger/domain/calendar.h"
#include "ledger/domain/command_handler.h"
#include "ledger/domain/premium_table.h"
#include "tools/city_generator.h"
#include "tools/cli.h"
#include "tools/command_batch.h"

namespace po = boost::program_options;

namespace shebao::cli {

int CmdDemo(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("demo options");
  desc.add_options()("children", po::value<uint64_t>()->default_value(2000), "children in the city")(
      "seed", po::value<uint64_t>()->default_value(42), "seed of the city (same seed, same city)")(
      "inquiry", po::value<uint64_t>()->default_value(7), "index of the child to inquire about");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao [--db PATH] demo [--children N] [--seed S]",
                            "shebao --db ./shebao-demo.db demo --children 2000 --seed 42", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  tools::CityOptions city;
  city.children = vm["children"].as<uint64_t>();
  city.seed = vm["seed"].as<uint64_t>();
  if (city.children == 0 || city.children > tools::kCityChildrenMax) {
    std::cerr << fmt::format("error: usage: --children must be 1..{}\n", tools::kCityChildrenMax);
    return kExitUsage;
  }
  domain::WorkingDayCalendar calendar;
  domain::PremiumTable premiums;
  int code = 0;
  if (!LoadDomainData(options, &calendar, &premiums, &code)) return code;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedger(options, /*create=*/true, &store, &code, /*sync=*/false)) return code;

  // The city's lines assume they start at position 1: a fresh ledger, or this same city again.
  const uint64_t head = store->head().position;
  if (head != 0) {
    const tools::CityStats expected = tools::GenerateCity(city, [](std::string_view) {});
    if (expected.events != head) {
      std::cerr << fmt::format("error: usage: {} holds {} events that are not this demo city; "
                               "use a new --db\n",
                               options.db_path, head);
      return kExitUsage;
    }
  }
  std::cout << fmt::format("demo city: {} children, seed {}, coverage years {}-{}, ledger {}\n",
                           city.children, city.seed, city.first_year, city.last_year,
                           options.db_path);
  domain::CommandHandler handler(store.get(), &premiums, &calendar, /*states_from_projections=*/true);
  uint64_t lines = 0, accepted = 0, duplicates = 0, rejected = 0;
  ledger::Status failure;
  tools::CommandBatch batch(
      &handler, tools::kCommandBatchLines,
      [&](uint64_t n, const domain::Rejection& r, const domain::CommandOutcome& out) {
        if (!r.ok()) {
          if (rejected++ < 3) {
            std::cerr << MaskPersonalData(RejectionLine(n, r), options.reveal);
          }
        } else if (out.duplicate) {
          ++duplicates;
        } else {
          ++accepted;
        }
      });
  const auto start = std::chrono::steady_clock::now();
  const tools::CityStats stats = tools::GenerateCity(city, [&](std::string_view line) {
    if (failure.ok()) failure = batch.Add(++lines, line);
  });
  if (failure.ok()) failure = batch.Flush();
  if (!failure.ok()) return Fail(failure);
  ledger::Status s = store->SyncWal();
  if (!s.ok()) return Fail(s);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format(
      "  {} commands: {} accepted, {} already recorded, {} rejected; {} events in {:.1f} s\n"
      "  pathways: {} school, {} not in school, {} low income; {} returns, {} failed "
      "collections, {} refunds, {} reversals, {} withdrawals, {} refusals; {} employees\n\n",
      lines, accepted, duplicates, rejected, store->head().position, secs, stats.school,
      stats.not_in_school, stats.low_income, stats.returns, stats.failures, stats.refunds,
      stats.reversals, stats.withdrawals, stats.refusals, stats.employees);
  if (rejected != 0) return kExitRejected;

  // A real inquiry (Art. 4): one child's payment and rights records, and coverage on a date.
  store.reset();
  const std::string child = tools::CityChildId(vm["inquiry"].as<uint64_t>() % city.children);
  std::cout << "inquiry: payment record\n";
  if (int rc = CmdPayments(options, {"--person", child}); rc != kExitOk) return rc;
  std::cout << "\ninquiry: personal rights record\n";
  if (int rc = CmdRights(options, {"--person", child}); rc != kExitOk) return rc;
  std::cout << "\ninquiry: coverage\n";
  if (int rc = CmdCovered(options, {"--person", child, "--on", "2026-06-01"}); rc != kExitOk) {
    return rc;
  }
  std::cout << "\n";
  return CmdVerify(options, {});
}

}  // namespace shebao::cli
