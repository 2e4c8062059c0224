// shebao rebuild: drops and recomputes every projection from the log. A progress bar (events/s,
// ETA) goes to stderr when it is a terminal. Ctrl-C stops it cleanly: the previous projections
// stay in use until a rebuild completes, and the next run resumes. (Other processes cannot open
// the ledger while this one holds it; read-only access from other processes is issue 7's.)
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>

#include <fmt/format.h>

#include "tools/cli.h"

namespace po = boost::program_options;

namespace shebao::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

}  // namespace

int CmdRebuild(const GlobalOptions& options, const std::vector<std::string>& args) {
  po::options_description desc("rebuild options");
  desc.add_options()("quiet,q", po::bool_switch(), "no progress bar");
  po::variables_map vm;
  if (auto code = ParseArgs(args, "shebao rebuild [--quiet]", "shebao --db ./city.db rebuild", desc,
                            po::positional_options_description(), &vm)) {
    return *code;
  }
  int code = 0;
  std::unique_ptr<ledger::EventStore> store;
  if (!OpenLedger(options, false, &store, &code)) return code;
  const bool bar = !vm["quiet"].as<bool>() && isatty(STDERR_FILENO);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  const auto start = std::chrono::steady_clock::now();
  auto last_draw = start;
  ledger::Status s = store->RebuildProjections([&](uint64_t done, uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (bar && (now - last_draw > std::chrono::milliseconds(200) || done == total)) {
      last_draw = now;
      const double secs = std::chrono::duration<double>(now - start).count();
      const double rate = secs > 0 ? static_cast<double>(done) / secs : 0;
      const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0;
      const int width = 30;
      const int filled = total ? static_cast<int>(width * done / total) : width;
      std::cerr << fmt::format("\rrebuild [{}{}] {}/{} events  {:.0f} events/s  ETA {:.0f} s   ",
                               std::string(static_cast<size_t>(filled), '#'),
                               std::string(static_cast<size_t>(width - filled), '.'), done, total,
                               rate, eta);
    }
    return !g_interrupted.load();
  });
  if (bar) std::cerr << "\n";
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!s.ok()) {
    if (s.code() == ledger::Code::interrupted) {
      std::cerr << "rebuild interrupted: the previous projections are still in use; run it again "
                   "to resume\n";
    }
    return Fail(s);
  }
  std::cout << fmt::format("rebuild: projections recomputed from {} events in {:.2f} s\n",
                           store->head().position, secs);
  return kExitOk;
}

}  // namespace shebao::cli
