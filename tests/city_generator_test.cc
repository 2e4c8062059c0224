// The synthetic city (tools/city_generator.h): deterministic, accepted line by line by the
// ledger, with a realistic mix, unique valid identifiers, and fast.
#include "tools/city_generator.h"

#include <chrono>
#include <map>
#include <unordered_set>
#include <vector>

#include "ledger/domain/dates.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/sha256.h"
#include "tests/domain_test_util.h"
#include "tools/command_batch.h"

using namespace shebao;
using namespace shebao::testing;
using tools::CityOptions;
using tools::CityStats;
using tools::GenerateCity;

namespace {

std::vector<std::string> Lines(const CityOptions& options, CityStats* stats = nullptr) {
  std::vector<std::string> lines;
  CityStats s = GenerateCity(options, [&](std::string_view line) { lines.emplace_back(line); });
  if (stats != nullptr) *stats = s;
  return lines;
}

double D(uint64_t v) { return static_cast<double>(v); }

std::string Digest(const CityOptions& options) {
  ledger::Sha256 hasher;
  GenerateCity(options, [&](std::string_view line) {
    hasher.Update(line);
    hasher.Update("\n");
  });
  return ledger::HexEncode(hasher.Finish());
}

}  // namespace

TEST_CASE("city: the same options give the same lines, another seed other lines") {
  CityOptions options;
  options.children = 200;
  options.seed = 42;
  CityStats s1, s2;
  const auto a = Lines(options, &s1);
  const auto b = Lines(options, &s2);
  REQUIRE(!a.empty());
  CHECK(a == b);
  CHECK(s1.lines == a.size());
  CHECK(s1.events == s2.events);
  CHECK(Digest(options) == Digest(options));

  CityOptions other = options;
  other.seed = 43;
  CHECK(Digest(other) != Digest(options));
  CHECK(Lines(other) != a);
}

TEST_CASE("city: every line of a 300-child city is accepted by the ledger") {
  CityOptions options;
  options.children = 300;
  options.seed = 7;
  options.employers = 3;
  CityStats stats;
  const auto lines = Lines(options, &stats);
  MESSAGE(
      fmt::format("{} lines, {} events, {} cases, {} returns, {} failures, {} refunds, {} "
                  "reversals, {} withdrawals, {} refusals, {} late, {} skipped, {} employees, "
                  "{} unpaid months",
                  stats.lines, stats.events, stats.cases, stats.returns, stats.failures,
                  stats.refunds, stats.reversals, stats.withdrawals, stats.refusals,
                  stats.late_cases, stats.skipped_years, stats.employees, stats.unpaid_months));
  REQUIRE(lines.size() == stats.lines);

  std::unordered_set<std::string> ids;
  for (uint64_t i = 0; i < options.children; ++i) ids.insert(tools::CityChildId(i));

  DomainLedger l;
  uint64_t rejected = 0;
  std::unordered_set<std::string> keys;
  std::unordered_set<std::string> seen_children;
  for (size_t n = 0; n < lines.size(); ++n) {
    domain::Command command;
    REQUIRE_MESSAGE(domain::ParseCommand(lines[n], &command).ok(), lines[n]);
    CHECK_MESSAGE(keys.insert(command.idempotency_key).second, "key reused: ", lines[n]);
    if (command.has("child_id")) {
      CHECK_MESSAGE(ids.count(command.str("child_id")) == 1, "unknown child in ", lines[n]);
      seen_children.insert(command.str("child_id"));
    }
    const auto out = l.Run(lines[n]);
    CHECK_FALSE(out.duplicate);
    if (!out.rejection.ok()) {
      if (rejected == 0) {
        FAIL_CHECK("line ", n + 1, " rejected: ", domain::RuleName(out.rejection.rule), " (",
                   out.rejection.field, ": ", out.rejection.message, ")\n  in ", lines[n]);
      }
      ++rejected;
    }
  }
  CHECK(rejected == 0);
  // The positions the generator computed for reversals and refunds are the ledger's.
  CHECK(l.store().head().position == stats.events);
  CHECK(seen_children.size() > options.children * 9 / 10);

  // Every kind of incident happened, and some cases wait before benefits start.
  CHECK(stats.returns > 0);
  CHECK(stats.failures > 0);
  CHECK(stats.late_cases > 0);
  CHECK(stats.skipped_years > 0);
  CHECK(stats.employees == 60);
  CHECK(stats.unpaid_months > 0);
  uint64_t waiting = 0, issued = 0, refunded = 0;
  for (uint64_t i = 0; i < options.children; ++i) {
    for (int year = options.first_year; year <= options.last_year; ++year) {
      const domain::CaseState s = l.Case(tools::CityChildId(i), year);
      if (s.step == domain::Step::none) continue;
      if (s.coverage == fb::CoverageStatus::active && s.waiting_months > 0) ++waiting;
      if (s.step == domain::Step::certificate_issued) ++issued;
      if (s.step == domain::Step::refunded) ++refunded;
    }
  }
  MESSAGE(fmt::format("{} certificates issued, {} cases with a waiting period, {} refunded", issued,
                      waiting, refunded));
  CHECK(waiting > 0);
  CHECK(refunded == stats.refunds);
  CHECK(issued > stats.cases * 8 / 10);

  // A rebuild (the store's batch fold: rows kept decoded by the projector between events)
  // gives byte for byte the projections the live appends wrote, every family of rows included.
  const auto live = l.DumpProjections();
  std::map<char, size_t> families;
  for (const auto& [key, value] : live) families[domain::RowFamily(key)]++;
  // (No Q rows: by the city's end every case has left the agencies' queues.)
  for (char family : {'C', 'P', 'E'}) {
    CHECK_MESSAGE(families[family] > 0, "no rows of family ", family);
  }
  REQUIRE(l.store().RebuildProjections(nullptr).ok());
  const auto rebuilt = l.DumpProjections();
  CHECK(rebuilt.size() == live.size());
  CHECK(rebuilt == live);
}

TEST_CASE("city: a city that starts on a ledger that is not empty") {
  DomainLedger l;
  CityOptions first;
  first.children = 40;
  first.seed = 3;
  first.first_year = first.last_year = 2025;
  CityStats s1;
  for (const auto& line : Lines(first, &s1)) REQUIRE(l.Run(line).rejection.ok());
  // Another seed's city on top: same children, so a later year, positions continued.
  CityOptions second = first;
  second.seed = 4;
  second.first_year = second.last_year = 2026;
  second.first_position = s1.events + 1;
  CityStats s2;
  uint64_t rejected = 0, employer_lines = 0;
  for (const auto& line : Lines(second, &s2)) {
    // The employers of both cities are the same and registered by the first: skip the second's
    // employer lines (one event each, all after the cases of the single year).
    if (line.find("\"role\":\"employer\"") != std::string::npos) {
      ++employer_lines;
      continue;
    }
    const auto out = l.Run(line);
    if (!out.rejection.ok() && rejected++ == 0) {
      FAIL_CHECK(domain::RuleName(out.rejection.rule), " ", out.rejection.message, "\n  in ", line);
    }
  }
  CHECK(rejected == 0);
  CHECK(employer_lines > 0);
  CHECK(l.store().head().position == s1.events + s2.events - employer_lines);
}

TEST_CASE("city: the pathway mix and the incident rates are roughly the asked ones") {
  CityOptions options;
  options.children = 2000;
  const CityStats s = GenerateCity(options, [](std::string_view) {});
  CHECK(s.children == 2000);
  CHECK(s.school + s.not_in_school + s.low_income == s.children);
  const double n = static_cast<double>(s.children);
  CHECK(D(s.school) / n >= 0.70);
  CHECK(D(s.school) / n <= 0.90);
  CHECK(D(s.not_in_school) / n >= 0.07);
  CHECK(D(s.not_in_school) / n <= 0.17);
  CHECK(D(s.low_income) / n >= 0.04);
  CHECK(D(s.low_income) / n <= 0.12);
  const double cases = static_cast<double>(s.cases);
  CHECK(D(s.returns) / cases == doctest::Approx(0.05).epsilon(0.4));
  CHECK(D(s.failures) / cases == doctest::Approx(0.03).epsilon(0.4));
  CHECK(D(s.late_cases) / cases == doctest::Approx(0.08).epsilon(0.3));
  CHECK(s.refunds > 0);
  CHECK(s.withdrawals > 0);
  CHECK(s.refusals > 0);
  CHECK(s.reversals > 0);
  CHECK(s.employees == 40 * 20);
  // 3 years x (about 96 % of the children x ~19 lines + employer lines).
  MESSAGE(fmt::format("{} lines for {} children: {:.1f} lines per child", s.lines, s.children,
                      D(s.lines) / n));
}

TEST_CASE("city: child IDs are valid and unique for 100k children") {
  std::unordered_set<std::string> ids;
  ids.reserve(100'000);
  const domain::Day first = *domain::DayFromYmd(2009, 1, 1);
  const domain::Day last = *domain::DayFromYmd(2022, 12, 31);
  for (uint64_t i = 0; i < 100'000; ++i) {
    const std::string id = tools::CityChildId(i);
    REQUIRE_MESSAGE(domain::CheckCitizenId(id) == domain::Rule::ok, id);
    const domain::Day birth = *domain::CitizenIdBirthDay(id);
    REQUIRE(birth >= first);
    REQUIRE(birth <= last);
    REQUIRE(id.substr(0, 6) == tools::kCityDivisions[i % 4]);
    REQUIRE_MESSAGE(ids.insert(id).second, "duplicate ", id, " at ", i);
  }
  CHECK(ids.size() == 100'000);
  // The far end of the range stays valid.
  CHECK(domain::CheckCitizenId(tools::CityChildId(tools::kCityChildrenMax - 1)) ==
        domain::Rule::ok);
}

TEST_CASE("city: 45 calendar days after an acceptance is never before the due date") {
  domain::WorkingDayCalendar calendar;
  REQUIRE(domain::WorkingDayCalendar::Load(SHEBAO_DATA_DIR "/holiday-cn", &calendar).ok());
  int longest = 0;
  domain::Day at = 0;
  for (domain::Day d = *domain::DayFromYmd(2020, 1, 1); d <= *domain::DayFromYmd(2026, 12, 31);
       ++d) {
    const int span = calendar.AddWorkingDays(d, 20).day - d;
    if (span > longest) {
      longest = span;
      at = d;
    }
  }
  MESSAGE(fmt::format("longest span of 20 working days: {} calendar days after {}", longest,
                      domain::FormatIsoDay(at)));
  CHECK(longest <= 45);
}

TEST_CASE("city: generation speed for 100k children" * doctest::skip()) {
  CityOptions options;
  options.children = 100'000;
  uint64_t bytes = 0;
  const auto start = std::chrono::steady_clock::now();
  const CityStats s = GenerateCity(options, [&](std::string_view line) { bytes += line.size(); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MESSAGE(
      fmt::format("{} lines ({:.1f} per child, {:.0f} bytes per line) in {:.3f} s: {:.0f} "
                  "lines/s, {:.0f} ns per line",
                  s.lines, D(s.lines) / D(s.children), D(bytes) / D(s.lines), seconds,
                  D(s.lines) / seconds, seconds * 1e9 / D(s.lines)));
}

namespace {

std::vector<std::string> CityLines(uint64_t children, uint64_t seed) {
  CityOptions o;
  o.children = children;
  o.seed = seed;
  std::vector<std::string> lines;
  GenerateCity(o, [&](std::string_view line) { lines.emplace_back(line); });
  return lines;
}

// Three lines aimed at lines[begin, end): a retry of one, its key again with other content (a
// conflict), and a bank reference collected there taken again under claim_key.
std::vector<std::string> AimedAt(const std::vector<std::string>& lines, size_t begin, size_t end,
                                 std::string_view claim_key) {
  REQUIRE(begin + 10 <= end);
  REQUIRE(end <= lines.size());
  std::vector<std::string> aimed = {lines[begin + 7], lines[begin + 9]};
  aimed[1].replace(aimed[1].find("\"at\":\"") + 6, 4, "2099");
  for (size_t k = begin; k < end; ++k) {
    std::string line = lines[k];
    if (line.find("\"bank_ref\"") == std::string::npos) continue;
    const size_t key = line.find("\"key\":\"") + 7;
    line.replace(key, line.find('"', key) - key, claim_key);
    aimed.push_back(line);
    break;
  }
  REQUIRE(aimed.size() == 3);
  return aimed;
}

void CheckSameOutcome(const domain::CommandOutcome& got, const domain::CommandOutcome& expected) {
  CHECK(got.rejection.rule == expected.rejection.rule);
  CHECK(got.rejection.field == expected.rejection.field);
  CHECK(got.duplicate == expected.duplicate);
  CHECK(got.first_position == expected.first_position);
  CHECK(got.last_position == expected.last_position);
}

// The same log head and the same case, employment and organisation rows (they carry no
// recording time: byte-identical), and a sound chain.
void CheckSameRecords(DomainLedger& one, DomainLedger& many) {
  CHECK(many.store().head().position == one.store().head().position);
  auto a = one.DumpProjections(), b = many.DumpProjections();
  std::erase_if(a, [](const auto& kv) { return domain::RowFamily(kv.first) == 'P'; });
  std::erase_if(b, [](const auto& kv) { return domain::RowFamily(kv.first) == 'P'; });
  CHECK(a.size() > 100);
  CHECK(a == b);
  uint64_t checked = 0;
  CHECK(many.store().VerifyChain(&checked).ok());
}

}  // namespace

TEST_CASE("ExecuteMany gives exactly the outcomes and records of Execute, command by command") {
  std::vector<std::string> lines = CityLines(120, 5);
  // Retries and conflicts inside one chunk and across chunks, and a refused command.
  lines.push_back(lines[lines.size() - 1]);
  lines.push_back(lines[3]);
  std::string conflict = lines[lines.size() - 3];
  conflict.replace(conflict.find("\"at\":\"") + 6, 4, "2099");
  lines.push_back(conflict);
  lines.push_back(lines[10]);
  // The same against the chunk being appended while the next is planned (ExecuteMany's
  // pipeline): the lines below repeat ones of the chunk just before their own.
  const size_t chunk = lines.size() / domain::kExecuteChunkMax;  // the pushed lines' chunk
  REQUIRE(chunk >= 1);
  REQUIRE((lines.size() + 3) / domain::kExecuteChunkMax == chunk);
  for (std::string& line : AimedAt(lines, (chunk - 1) * domain::kExecuteChunkMax,
                                   chunk * domain::kExecuteChunkMax, "pipeline-claim")) {
    lines.push_back(std::move(line));
  }

  DomainLedger one, many;
  std::vector<domain::CommandOutcome> expected;
  for (const auto& line : lines) expected.push_back(one.Run(line));
  std::vector<domain::CommandOutcome> got = many.RunMany(lines);
  REQUIRE(got.size() == expected.size());
  int rejected = 0, duplicates = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO("line ", i + 1, ": ", lines[i]);
    CheckSameOutcome(got[i], expected[i]);
    rejected += got[i].rejection.ok() ? 0 : 1;
    duplicates += got[i].duplicate ? 1 : 0;
  }
  CHECK(rejected >= 3);
  CHECK(duplicates >= 4);
  CheckSameRecords(one, many);
}

TEST_CASE("CommandBatch: a call's last chunk still appending while the next lines are planned") {
  // `shebao ingest` feeds lines through CommandBatch, which lets each ExecuteMany return with
  // its last chunk still appending and plans the next call's first chunk against it. Lines
  // aimed at that chunk (a retry, a conflicting reuse of a key, a bank reference taken again
  // under a new key) must be answered as Execute answers them, line by line, in line order.
  std::vector<std::string> lines = CityLines(120, 11);
  constexpr size_t kLinesPerCall = 700;  // calls end with a partial chunk: 512 + 188 lines
  REQUIRE(lines.size() > 4 * kLinesPerCall);
  for (size_t call : {2, 4}) {
    // The last chunk of call - 1 (lines [call * 700 - 188, call * 700)) is appending while
    // the first chunk of call is planned: aim the first lines of call at it.
    const size_t last_chunk = call * kLinesPerCall - (kLinesPerCall - domain::kExecuteChunkMax);
    std::vector<std::string> aimed = AimedAt(lines, last_chunk, call * kLinesPerCall,
                                             fmt::format("in-flight-claim-{}", call));
    aimed.push_back("{\"command\": not json");  // a line that does not parse, among them
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(call * kLinesPerCall),
                 aimed.begin(), aimed.end());
  }

  DomainLedger one, many;
  std::vector<domain::CommandOutcome> expected;
  std::vector<domain::Rejection> expected_parse;
  for (const auto& line : lines) {
    domain::Command command;
    expected_parse.push_back(domain::ParseCommand(line, &command));
    expected.push_back(expected_parse.back().ok() ? one.Run(line) : domain::CommandOutcome());
  }
  std::vector<uint64_t> reported_lines;
  std::vector<domain::CommandOutcome> got;
  {
    tools::CommandBatch batch(&many.handler(), kLinesPerCall,
                              [&](uint64_t n, const domain::Rejection& r,
                                  const domain::CommandOutcome& out) {
                                reported_lines.push_back(n);
                                got.push_back(out);
                                got.back().rejection = r;
                              });
    for (size_t i = 0; i < lines.size(); ++i) REQUIRE(batch.Add(i + 1, lines[i]).ok());
    // Lines are reported only once their append has landed: the last call's are still held.
    CHECK(reported_lines.size() < lines.size());
    REQUIRE(batch.Flush().ok());
  }
  REQUIRE(reported_lines.size() == lines.size());
  int rejected = 0, duplicates = 0, unparsed = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO("line ", i + 1, ": ", lines[i]);
    CHECK(reported_lines[i] == i + 1);
    if (!expected_parse[i].ok()) {
      CHECK(got[i].rejection.rule == expected_parse[i].rule);
      ++unparsed;
      continue;
    }
    CheckSameOutcome(got[i], expected[i]);
    rejected += got[i].rejection.ok() ? 0 : 1;
    duplicates += got[i].duplicate ? 1 : 0;
  }
  CHECK(unparsed == 2);
  CHECK(rejected >= 4);  // two conflicts, two bank references taken
  CHECK(duplicates >= 2);
  CheckSameRecords(one, many);
}

namespace {

// The domain projector, failing (after its Apply has changed the rows it keeps) the events of
// chosen idempotency keys: as a projection whose write of a payment row failed would.
class FailingProjector final : public ledger::Projector {
 public:
  explicit FailingProjector(std::unordered_set<std::string> fail) : fail_(std::move(fail)) {}
  ledger::Status Apply(const ledger::RecordedEvent& re, ledger::ProjectionWriter* w) override {
    ledger::Status s = inner_.Apply(re, w);
    if (!s.ok()) return s;
    if (fail_.contains(re.event()->idempotency_key()->str())) {
      return ledger::Status(ledger::Code::corruption, "injected after the row changed");
    }
    return s;
  }
  void BeginBatch(bool undoable) override { inner_.BeginBatch(undoable); }
  ledger::Status EndBatch(ledger::ProjectionWriter* w) override { return inner_.EndBatch(w); }
  void AbortBatch() override { inner_.AbortBatch(); }
  size_t Mark() const override { return inner_.Mark(); }
  void Rollback(size_t mark) override { inner_.Rollback(mark); }
  uint64_t layout_version() const override { return inner_.layout_version(); }

 private:
  domain::DomainProjector inner_;
  std::unordered_set<std::string> fail_;
};

}  // namespace

TEST_CASE("a group commit's writer whose projection fails leaves the group's rows as without it") {
  // In a group commit the projector keeps each row decoded across the group's writers; a writer
  // whose projection fails after changing a kept row must leave it as the writers before it did.
  DomainLedger source;
  source.RunMany(CityLines(40, 3));
  // The city's batches again (stored events carry their envelope; the store restamps it).
  std::vector<ledger::AppendBatch> batches;
  for (uint64_t from = 1; from <= source.store().head().position;) {
    std::vector<ledger::RecordedEvent> events;
    REQUIRE(source.store().ReadAll(from, 1000, &events).ok());
    for (const auto& re : events) {
      const std::string key = re.event()->idempotency_key()->str();
      if (batches.empty() || batches.back().idempotency_key != key) {
        batches.emplace_back().idempotency_key = key;
      }
      ledger::AppendBatch& b = batches.back();
      const std::string stream = re.event()->stream_id()->str();
      if (b.expectations.empty()) b.expectations.push_back({stream, ledger::ExpectedVersion::Any()});
      REQUIRE(b.expectations.front().stream_id == stream);
      b.events.push_back(re.bytes);
    }
    from += events.size();
  }
  // Fail every 5th batch on a case stream (its case row kept by the group), none of the first.
  std::unordered_set<std::string> fail;
  std::vector<ledger::AppendBatch> kept_batches;
  for (size_t i = 0; i < batches.size(); ++i) {
    if (i % 5 == 4 && batches[i].expectations.front().stream_id.starts_with("case/")) {
      fail.insert(batches[i].idempotency_key);
    } else {
      kept_batches.push_back(batches[i]);
    }
  }
  REQUIRE(fail.size() > 100);

  auto append_all = [](ledger::EventStore& store, const std::vector<ledger::AppendBatch>& all,
                       const std::unordered_set<std::string>& failing) {
    for (size_t begin = 0; begin < all.size(); begin += 512) {
      const std::vector<ledger::AppendBatch> part(
          all.begin() + static_cast<std::ptrdiff_t>(begin),
          all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), begin + 512)));
      std::vector<ledger::AppendResult> results;
      std::vector<ledger::Status> statuses;
      REQUIRE(store.AppendMany(part, &results, &statuses).ok());
      for (size_t i = 0; i < part.size(); ++i) {
        INFO("batch ", part[i].idempotency_key);
        CHECK(statuses[i].ok() == !failing.contains(part[i].idempotency_key));
      }
    }
  };
  auto open = [](const std::string& path, ledger::Projector* projector, ledger::Clock* clock) {
    ledger::StoreOptions options;
    options.sync = false;
    options.projector = projector;
    options.clock = clock;
    std::unique_ptr<ledger::EventStore> store;
    REQUIRE(ledger::EventStore::Open(path, options, &store).ok());
    return store;
  };
  TempDir with_dir{"failing"}, without_dir{"without"};
  ledger::ManualClock clock_with{1'760'000'000'000'000, 0}, clock_without{1'760'000'000'000'000, 0};
  FailingProjector failing(fail);
  domain::DomainProjector plain;
  auto with = open(with_dir.path(), &failing, &clock_with);
  auto without = open(without_dir.path(), &plain, &clock_without);
  append_all(*with, batches, fail);
  append_all(*without, kept_batches, {});
  REQUIRE(with->head().position == without->head().position);
  CHECK(with->head().hash == without->head().hash);
  const auto rows_with = ProjectionRows(*with), rows_without = ProjectionRows(*without);
  CHECK(rows_with.size() > 200);
  CHECK(rows_with == rows_without);
}
