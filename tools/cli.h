// The shebao command-line tool: shared plumbing of its subcommands.
// Exit codes (docs/cli.md): 0 success, 1 a command or input was rejected, 2 usage error,
// 3 the ledger failed verification (corruption), 4 storage or I/O error, 5 ledger locked.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ledger/event_store.h"

namespace shebao::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitCorrupt = 3;
inline constexpr int kExitIo = 4;
inline constexpr int kExitLocked = 5;

struct GlobalOptions {
  std::string db_path;
  std::string format = "table";  // table | json | csv
  bool reveal = false;
  std::string data_dir;  // holiday-cn/ and premiums.json (--data, $SHEBAO_DATA)
};

// Maps a failed status to its exit code.
int ExitCodeFor(const ledger::Status& status);

// Prints "error: <code>: <message>" to stderr and returns the exit code.
int Fail(const ledger::Status& status);

// Opens the ledger at options.db_path with the domain projector (so every writer keeps the
// projections); prints the error and returns false on failure.
bool OpenLedger(const GlobalOptions& options, bool create, std::unique_ptr<ledger::EventStore>* out,
                int* exit_code, bool sync = true);
// Opens the ledger at options.db_path read-only (StoreOptions::read_only): no lock, so it works
// while another process writes the ledger, and on a read-only file system. For the commands
// that only read. Prints the error and returns false on failure.
bool OpenLedgerReadOnly(const GlobalOptions& options, std::unique_ptr<ledger::EventStore>* out,
                        int* exit_code);

// Subcommands. args are the words after the subcommand name.
int CmdInit(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdHead(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdHistory(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdLog(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdVerify(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdDemo(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdIngest(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdPayments(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdRights(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdCase(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdQueue(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdEmployer(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdCovered(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdRebuild(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdStats(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdKeygen(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdAudit(const GlobalOptions& options, const std::vector<std::string>& args);
int CmdStatement(const GlobalOptions& options, const std::vector<std::string>& args);

}  // namespace shebao::cli

#include <boost/program_options.hpp>
#include <optional>

namespace shebao::cli {

// Parses a subcommand's words. Returns nullopt when the command should run, or the exit code
// to return at once (after --help, or a usage error that was printed).
std::optional<int> ParseArgs(const std::vector<std::string>& args, const std::string& usage,
                             const std::string& example,
                             const boost::program_options::options_description& options,
                             const boost::program_options::positional_options_description& positional,
                             boost::program_options::variables_map* vm);

// Masks personal data in text unless reveal: each citizen-ID-shaped token (17 digits and a
// digit or X) keeps its first 6 and last 4 characters ("110105********0010"), and the value of
// every JSON field whose name ends in "_name" keeps only its first character.
std::string MaskPersonalData(std::string_view text, bool reveal);

}  // namespace shebao::cli

namespace shebao::domain {
class WorkingDayCalendar;
class PremiumTable;
}  // namespace shebao::domain

namespace shebao::cli {

// Loads the calendar and the premium table from options.data_dir; prints the error and sets
// *exit_code (4: the data cannot be read or is malformed).
bool LoadDomainData(const GlobalOptions& options, domain::WorkingDayCalendar* calendar,
                    domain::PremiumTable* premiums, int* exit_code);

}  // namespace shebao::cli

namespace shebao::domain {
struct Rejection;
}  // namespace shebao::domain

namespace shebao::cli {

// "line N: rejected: <rule> (field <f>): <message>\n", the one format of a refused line.
std::string RejectionLine(uint64_t line_no, const domain::Rejection& rejection);

// A CSV field (RFC 4180): quoted, with inner quotes doubled, when it holds a comma, a quote or
// a line break; as it is otherwise.
std::string Csv(std::string_view field);

// A name with all but its first character starred ("王**").
std::string MaskName(std::string_view name);

// "1234.50" for 123450 fen.
std::string Yuan(int64_t fen);

// "2025-12-18" for days since 1970-01-01.
std::string FormatDay(int32_t day);
// "2025-12-18T02:00:00.000000Z" for UTC microseconds.
std::string FormatUtcMicros(int64_t us);

}  // namespace shebao::cli
