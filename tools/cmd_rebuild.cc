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
#include "tools/progress.h"

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
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  bool interrupted = false;
  uint64_t resume_after = 0;
  ledger::Status s = store->InterruptedRebuild(&interrupted, &resume_after);
  if (s.code() == ledger::Code::corruption) {
    // RebuildProjections starts over then: say so rather than refuse to repair derived data.
    std::cout << fmt::format("rebuild: {}; starting over\n", s.message());
  } else if (!s.ok()) {
    return Fail(s);
  } else if (interrupted) {
    std::cout << fmt::format("rebuild: resuming an interrupted rebuild after position {}\n",
                             resume_after);
  }
  double secs = 0;
  {
    ProgressBar bar("rebuild", !vm["quiet"].as<bool>());
    s = store->RebuildProjections([&](uint64_t done, uint64_t total) {
      bar.Update(done, total);
      return !g_interrupted.load();
    });
    secs = bar.seconds();
  }
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
