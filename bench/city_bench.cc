// The issue-4 benchmarks on a synthetic city (tools/city_generator.h), one phase per process so
// that each phase's peak RSS is its own (driven by bench/city_bench.sh; BENCHMARKS.md):
//   city_bench ingest  --dir D --children N --seed S   full command path: parse, rules, append,
//                                                      project (generation time subtracted)
//   city_bench raw-put --dir D                         raw RocksDB batched puts (1,000 a batch)
//                                                      of the same event keys and bytes
//   city_bench write-replay --dir D                    every write of the ingest (all families:
//                                                      events, indexes, projection rows), read
//                                                      back from the ledger's archived write-ahead
//                                                      log and written again, batch for batch,
//                                                      into a fresh database with the ledger's
//                                                      options: the cost of the writes alone, with
//                                                      no parsing, rules, hashing or folding. Needs
//                                                      an ingest run with --keep-wal 1 (opens the
//                                                      ledger read-only).
//                                                      --family F: only family F's writes;
//                                                      --disable-wal 1: without the WAL.
//   city_bench scan    --dir D                         raw sequential scan of the events family
//   city_bench rebuild --dir D                         drop and recompute all projections
//   city_bench rebuild-floor --dir D                   a rebuild whose projector writes nothing:
//                                                      the log read and checked, the batches and
//                                                      their progress records (what every rebuild
//                                                      pays before its first row). Leaves the
//                                                      projections empty: run rebuild after it.
//   city_bench query   --dir D --children N            payment + rights query of random people
//   city_bench noise   [--samples K]                   the machine's timing noise: a fixed piece of
//                                                      arithmetic (~15 us, no memory, no system call)
//                                                      timed K times, reported like the query, so
//                                                      that a query p99 can be read against the
//                                                      p99 of work that never varies
//   city_bench verify  --dir D                         the auditor's walk (replay/ledger_verifier.h):
//                                                      chain, FlatBuffers, versions, domain rules,
//                                                      Merkle root, checkpoints
// Each prints one JSON object on stdout.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/transaction_log.h>
#include <rocksdb/write_batch.h>

#include "ledger/domain/command_handler.h"
#include "ledger/domain/projector.h"
#include "ledger/domain/queries.h"
#include "ledger/keys.h"
#include "ledger/rocks_options.h"
#include "ledger/domain/calendar.h"
#include "ledger/domain/premium_table.h"
#include "replay/ledger_verifier.h"
#include "tools/allocator.h"
#include "tools/city_generator.h"
#include "tools/command_batch.h"

using namespace shebao;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

long PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

struct Args {
  std::string phase;
  std::string dir = "/tmp/shebao-city";
  uint64_t children = 10'000;
  uint64_t seed = 1;
  uint64_t samples = 20'000;
  std::string data = SHEBAO_DATA_DIR;
  bool keep_wal = false;  // ingest: StoreOptions::keep_wal_files, for write-replay
  std::string family;     // write-replay: only this column family's writes
  bool disable_wal = false;  // write-replay: without the write-ahead log (as a rebuild writes)
};

Args Parse(int argc, char** argv) {
  Args a;
  if (argc > 1) a.phase = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--dir") a.dir = v;
    else if (k == "--children") a.children = std::stoull(v);
    else if (k == "--seed") a.seed = std::stoull(v);
    else if (k == "--samples") a.samples = std::stoull(v);
    else if (k == "--data") a.data = v;
    else if (k == "--keep-wal") a.keep_wal = v == "1";
    else if (k == "--family") a.family = v;
    else if (k == "--disable-wal") a.disable_wal = v == "1";
  }
  return a;
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "city_bench: %s\n", what.c_str());
  std::exit(1);
}

// read_only: as `shebao audit verify` and the query commands open it, and so that no compaction
// runs beside the phase measured (a writer's open may start one, which takes the second core).
std::unique_ptr<ledger::EventStore> OpenLedger(const std::string& path, ledger::Projector* p,
                                               bool create, bool read_only = false,
                                               bool keep_wal = false) {
  ledger::StoreOptions o;
  o.keep_wal_files = keep_wal;
  o.sync = false;
  o.create_if_missing = create;
  o.projector = p;
  o.read_only = read_only;
  std::unique_ptr<ledger::EventStore> store;
  ledger::Status s = ledger::EventStore::Open(path, o, &store);
  if (!s.ok()) Die(s.ToString());
  return store;
}

// Opens the ledger's RocksDB directly (for the raw baselines), with its column families.
std::unique_ptr<rocksdb::DB> OpenRaw(const std::string& path,
                                     std::vector<rocksdb::ColumnFamilyHandle*>* handles,
                                     rocksdb::ColumnFamilyHandle** events) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok()) Die("list cfs");
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  rocksdb::ColumnFamilyOptions cf;
  cf.compression = rocksdb::kLZ4Compression;
  for (const auto& n : names) cfs.emplace_back(n, cf);
  rocksdb::DB* db = nullptr;
  rocksdb::DBOptions o;
  if (!rocksdb::DB::OpenForReadOnly(o, path, cfs, handles, &db).ok()) Die("open raw");
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == ledger::keys::kEventsFamily) *events = (*handles)[i];
  }
  return std::unique_ptr<rocksdb::DB>(db);
}

int Ingest(const Args& a) {
  std::filesystem::remove_all(a.dir);
  domain::WorkingDayCalendar calendar;
  domain::PremiumTable premiums;
  if (auto s = domain::WorkingDayCalendar::Load(a.data + "/holiday-cn", &calendar); !s.ok()) Die(s.ToString());
  if (auto s = domain::PremiumTable::Load(a.data + "/premiums.json", &premiums); !s.ok()) Die(s.ToString());
  tools::CityOptions city;
  city.children = a.children;
  city.seed = a.seed;

  // Generation alone, to subtract it from the ingest loop below.
  uint64_t gen_bytes = 0;
  const auto g0 = Clock::now();
  tools::CityStats gen_stats = tools::GenerateCity(city, [&](std::string_view line) { gen_bytes += line.size(); });
  const double gen_s = Seconds(g0, Clock::now());

  domain::DomainProjector projector;
  auto store = OpenLedger(a.dir, &projector, true, false, a.keep_wal);
  domain::CommandHandler handler(store.get(), &premiums, &calendar, true);
  uint64_t lines = 0, rejected = 0, events = 0;
  std::string first_rejection;
  // The production path of `shebao ingest`: batches of lines through ExecuteMany.
  tools::CommandBatch batch(
      &handler, tools::kCommandBatchLines,
      [&](uint64_t n, const domain::Rejection& r, const domain::CommandOutcome& out) {
        if (!r.ok()) {
          if (rejected++ == 0) first_rejection = fmt::format("line {}: {}", n, domain::RuleName(r.rule));
          return;
        }
        if (!out.duplicate) events += out.last_position - out.first_position + 1;
      });
  const auto t0 = Clock::now();
  tools::GenerateCity(city, [&](std::string_view line) {
    if (auto s = batch.Add(++lines, line); !s.ok()) Die(s.ToString());
    if (lines % tools::kIngestSyncEveryLines == 0) {  // as `shebao ingest` syncs
      if (auto s = store->SyncWal(); !s.ok()) Die(s.ToString());
    }
  });
  if (auto s = batch.Flush(); !s.ok()) Die(s.ToString());
  if (auto s = store->SyncWal(); !s.ok()) Die(s.ToString());
  const double total_s = Seconds(t0, Clock::now());
  const double ingest_s = std::max(total_s - gen_s, 1e-9);
  if (rejected > 0) std::fprintf(stderr, "city_bench: %llu rejected, first: %s\n",
                                 static_cast<unsigned long long>(rejected), first_rejection.c_str());
  std::printf("%s\n", fmt::format("{{\"bench\":\"city_ingest\",\"children\":{},\"lines\":{},\"events\":{},"
                                  "\"rejected\":{},\"generate_s\":{:.3f},\"ingest_s\":{:.3f},"
                                  "\"ingest_events_per_s\":{:.0f},\"ingest_commands_per_s\":{:.0f},"
                                  "\"peak_rss_mb\":{},\"allocator\":\"{}\"}}",
                                  a.children, lines, events, rejected, gen_s, ingest_s,
                                  static_cast<double>(events) / ingest_s,
                                  static_cast<double>(lines) / ingest_s, PeakRssMb(),
                                  tools::AllocatorName()).c_str());
  (void)gen_stats;
  return rejected == 0 ? 0 : 1;
}

int RawPut(const Args& a) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* events = nullptr;
  auto src = OpenRaw(a.dir, &handles, &events);
  const std::string raw_dir = a.dir + "-raw";
  std::filesystem::remove_all(raw_dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  o.compression = rocksdb::kLZ4Compression;
  o.write_buffer_size = 64 << 20;
  o.max_background_jobs = 2;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(o, raw_dir, &raw).ok()) Die("open raw target");
  std::unique_ptr<rocksdb::Iterator> it(src->NewIterator(rocksdb::ReadOptions(), events));
  double write_s = 0;
  uint64_t n = 0, bytes = 0;
  rocksdb::WriteBatch batch;
  rocksdb::WriteOptions wo;
  auto flush = [&] {
    const auto t = Clock::now();
    if (!raw->Write(wo, &batch).ok()) Die("raw write");
    write_s += Seconds(t, Clock::now());
    batch.Clear();
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    batch.Put(it->key(), it->value());
    bytes += it->value().size();
    if (++n % 1000 == 0) flush();
  }
  if (batch.Count() > 0) flush();
  if (!raw->SyncWAL().ok()) Die("raw sync");
  it.reset();
  for (auto* h : handles) (void)src->DestroyColumnFamilyHandle(h);
  delete raw;
  std::filesystem::remove_all(raw_dir);
  std::printf("%s\n", fmt::format("{{\"bench\":\"city_raw_put\",\"events\":{},\"bytes\":{},\"write_s\":{:.3f},"
                                  "\"raw_put_events_per_s\":{:.0f}}}",
                                  n, bytes, write_s, static_cast<double>(n) / write_s).c_str());
  return 0;
}

// Counts a replayed batch's entries and bytes per column family id, and copies those of one
// family (only_cf) into *only, if set.
struct FamilyCounter : rocksdb::WriteBatch::Handler {
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> entries_bytes;
  rocksdb::WriteBatch* only = nullptr;
  rocksdb::ColumnFamilyHandle* only_cf = nullptr;
  rocksdb::Status PutCF(uint32_t cf, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
    auto& [n, b] = entries_bytes[cf];
    ++n;
    b += k.size() + v.size();
    if (only != nullptr && cf == only_cf->GetID()) return only->Put(only_cf, k, v);
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf, const rocksdb::Slice& k) override {
    auto& [n, b] = entries_bytes[cf];
    ++n;
    b += k.size();
    if (only != nullptr && cf == only_cf->GetID()) return only->Delete(only_cf, k);
    return rocksdb::Status::OK();
  }
};

int WriteReplay(const Args& a) {
  // The ledger, read-only: its archive/ holds the write-ahead log of every write since the start.
  std::vector<rocksdb::ColumnFamilyHandle*> src_handles;
  rocksdb::ColumnFamilyHandle* src_events = nullptr;
  auto src = OpenRaw(a.dir, &src_handles, &src_events);
  std::unique_ptr<rocksdb::TransactionLogIterator> log;
  if (auto s = src->GetUpdatesSince(1, &log); !s.ok()) {
    Die("the ledger's write-ahead log from sequence 1 (ingest with --keep-wal 1): " + s.ToString());
  }

  const std::string replay_dir = a.dir + "-replay";
  std::filesystem::remove_all(replay_dir);
  rocksdb::DBOptions options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  ledger::LedgerRocksOptions(64 << 20, /*create_if_missing=*/true, &options, &families);
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (auto s = rocksdb::DB::Open(options, replay_dir, families, &handles, &raw); !s.ok()) {
    Die("open replay target: " + s.ToString());
  }
  // A batch names its families by id: each family must have the same id in both databases.
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < families.size(); ++i) {
    ids.push_back(handles[i]->GetID());
    const auto same = std::find_if(src_handles.begin(), src_handles.end(), [&](auto* h) {
      return h->GetName() == families[i].name;
    });
    if (same == src_handles.end() || (*same)->GetID() != ids.back()) {
      Die("column family " + families[i].name + " has another id in the replay");
    }
  }
  const uint32_t events_cf = src_events->GetID();
  rocksdb::WriteOptions wo;  // as raw-put: the write-ahead log, unsynced, one sync at the end
  wo.disableWAL = a.disable_wal;
  double write_s = 0;
  uint64_t batches = 0, written_bytes = 0;  // of the batches written (one family's, with --family)
  FamilyCounter counter;
  rocksdb::WriteBatch only;
  if (!a.family.empty()) {
    for (size_t i = 0; i < families.size(); ++i) {
      if (families[i].name == a.family) counter.only_cf = handles[i];
    }
    if (counter.only_cf == nullptr) Die("no column family " + a.family);
    counter.only = &only;
  }
  for (; log->Valid(); log->Next()) {
    rocksdb::BatchResult r = log->GetBatch();
    only.Clear();
    if (!r.writeBatchPtr->Iterate(&counter).ok()) Die("count a batch");
    rocksdb::WriteBatch* written = counter.only != nullptr ? &only : r.writeBatchPtr.get();
    if (written->Count() == 0) continue;
    written_bytes += written->GetDataSize();
    ++batches;
    const auto t = Clock::now();
    if (auto s = raw->Write(wo, written); !s.ok()) Die("replay write: " + s.ToString());
    write_s += Seconds(t, Clock::now());
  }
  if (!log->status().ok()) Die("read the write-ahead log: " + log->status().ToString());
  if (!a.disable_wal && !raw->SyncWAL().ok()) Die("replay sync");
  log.reset();
  for (auto* h : handles) (void)raw->DestroyColumnFamilyHandle(h);
  delete raw;
  for (auto* h : src_handles) (void)src->DestroyColumnFamilyHandle(h);
  src.reset();
  std::filesystem::remove_all(replay_dir);

  // entries and bytes: of every write in the log, whatever --family replayed.
  const uint64_t events = counter.entries_bytes[events_cf].first;
  uint64_t entries = 0, bytes = 0;
  std::string per_family;
  for (size_t i = 0; i < families.size(); ++i) {
    const auto& [n, b] = counter.entries_bytes[ids[i]];
    entries += n;
    bytes += b;
    per_family += fmt::format("{}\"{}\":[{},{}]", per_family.empty() ? "" : ",", families[i].name, n, b);
  }
  if (events == 0) Die("no event in the write-ahead log");
  std::printf("%s\n", fmt::format("{{\"bench\":\"city_write_replay\",\"events\":{},\"batches\":{},"
                                  "\"entries\":{},\"entries_per_event\":{:.2f},\"bytes\":{},"
                                  "\"bytes_per_event\":{:.0f},\"written_bytes\":{},\"write_s\":{:.3f},"
                                  "\"replay_events_per_s\":{:.0f},\"only_family\":\"{}\","
                                  "\"wal\":{},\"families\":{{{}}}}}",
                                  events, batches, entries,
                                  static_cast<double>(entries) / static_cast<double>(events), bytes,
                                  static_cast<double>(bytes) / static_cast<double>(events),
                                  written_bytes, write_s,
                                  static_cast<double>(events) / write_s, a.family,
                                  !a.disable_wal, per_family).c_str());
  return 0;
}

int Scan(const Args& a) {
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::ColumnFamilyHandle* events = nullptr;
  auto db = OpenRaw(a.dir, &handles, &events);
  rocksdb::ReadOptions ro;
  ro.readahead_size = 2 << 20;
  ro.fill_cache = false;
  const auto t0 = Clock::now();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, events));
  uint64_t n = 0, sum = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++n;
    sum += static_cast<uint8_t>(it->value()[it->value().size() - 1]) + it->value().size();
  }
  const double s = Seconds(t0, Clock::now());
  it.reset();
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  std::printf("%s\n", fmt::format("{{\"bench\":\"city_scan\",\"events\":{},\"scan_s\":{:.3f},"
                                  "\"scan_events_per_s\":{:.0f},\"checksum\":{}}}",
                                  n, s, static_cast<double>(n) / s, sum).c_str());
  return 0;
}

// Rebuilds the projections of a.dir with projector, timed, prints the bench line, and returns
// the events of the log.
uint64_t TimeRebuild(const Args& a, ledger::Projector* projector, std::string_view bench) {
  auto store = OpenLedger(a.dir, projector, false);
  const auto t0 = Clock::now();
  ledger::Status s = store->RebuildProjections(nullptr);
  const double secs = Seconds(t0, Clock::now());
  if (!s.ok()) Die(s.ToString());
  const uint64_t n = store->head().position;
  std::printf("%s\n", fmt::format("{{\"bench\":\"{}\",\"events\":{},\"rebuild_s\":{:.3f},"
                                  "\"rebuild_events_per_s\":{:.0f},\"peak_rss_mb\":{}}}",
                                  bench, n, secs, static_cast<double>(n) / secs, PeakRssMb()).c_str());
  return n;
}

int Rebuild(const Args& a) {
  domain::DomainProjector projector;
  TimeRebuild(a, &projector, "city_rebuild");
  return 0;
}

// A projector that reads each event and writes nothing, with the domain projector's layout (so
// that the open accepts the stored projections): RebuildProjections with it costs what every
// rebuild pays before its first row (reading the log, checking each FlatBuffer and chain link,
// the batches and their progress records), the floor under the rebuild's time.
class NothingProjector final : public ledger::Projector {
 public:
  ledger::Status Apply(const ledger::RecordedEvent& event, ledger::ProjectionWriter*) override {
    if (event.event() == nullptr) return ledger::Status(ledger::Code::corruption, "no event");
    ++applied_;
    return ledger::Status::OK();
  }
  uint64_t layout_version() const override { return layout_version_; }
  uint64_t applied() const { return applied_; }

 private:
  const uint64_t layout_version_ = domain::DomainProjector().layout_version();
  uint64_t applied_ = 0;
};

int RebuildFloor(const Args& a) {
  NothingProjector nothing;
  const uint64_t n = TimeRebuild(a, &nothing, "city_rebuild_floor");
  // Every event of the log went through Apply: the floor skipped nothing a rebuild reads.
  if (nothing.applied() != n) Die(fmt::format("{} events applied of {}", nothing.applied(), n));
  std::fprintf(stderr, "city_bench: the projections of %s are now empty: run city_bench rebuild\n",
               a.dir.c_str());
  return 0;
}

// Runs one(i) for i in [0, n) once to warm, then again timing each call: the query and the
// noise phases measure the same way.
struct Latencies {
  std::vector<double> us;  // sorted
  double pct(double q) const {
    return us[std::min(us.size() - 1, static_cast<size_t>(q * static_cast<double>(us.size())))];
  }
};
template <typename One>
Latencies TimeEach(uint64_t n, One one) {
  for (uint64_t i = 0; i < n; ++i) one(i);  // warm
  Latencies l;
  l.us.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    const auto t = Clock::now();
    one(i);
    l.us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t).count());
  }
  std::sort(l.us.begin(), l.us.end());
  return l;
}

int Query(const Args& a) {
  domain::DomainProjector projector;
  auto store = OpenLedger(a.dir, &projector, false, /*read_only=*/true);
  std::mt19937_64 rng(a.seed);
  std::vector<std::string> people;
  for (uint64_t i = 0; i < a.samples; ++i) people.push_back(tools::CityChildId(rng() % a.children));
  std::vector<domain::PaymentLine> lines;
  std::vector<domain::CaseState> years;
  uint64_t found = 0;
  const Latencies l = TimeEach(people.size(), [&](uint64_t i) {
    auto view = store->NewReadView();
    if (!domain::QueryPayments(*view, people[i], &lines).ok()) Die("payments");
    if (!domain::QueryRights(*view, people[i], &years).ok()) Die("rights");
    found += lines.empty() ? 0 : 1;
  });
  std::printf("%s\n", fmt::format("{{\"bench\":\"city_query\",\"children\":{},\"samples\":{},\"with_payments\":{},"
                                  "\"p50_us\":{:.1f},\"p99_us\":{:.1f},\"max_us\":{:.1f},\"peak_rss_mb\":{}}}",
                                  a.children, people.size(), found / 2, l.pct(0.50), l.pct(0.99),
                                  l.us.back(), PeakRssMb()).c_str());
  return 0;
}

int Noise(const Args& a) {
  volatile uint64_t x = 1;
  const Latencies l = TimeEach(a.samples, [&](uint64_t) {
    for (int i = 0; i < 15'000; ++i) x = x * 2862933555777941757ULL + 3037000493ULL;
  });
  std::printf("%s\n", fmt::format("{{\"bench\":\"city_noise\",\"samples\":{},\"p50_us\":{:.1f},"
                                  "\"p99_us\":{:.1f},\"max_us\":{:.1f},\"p99_over_p50\":{:.2f}}}",
                                  l.us.size(), l.pct(0.50), l.pct(0.99), l.us.back(),
                                  l.pct(0.99) / l.pct(0.50)).c_str());
  return 0;
}

int Verify(const Args& a) {
  domain::WorkingDayCalendar calendar;
  domain::PremiumTable premiums;
  if (!domain::WorkingDayCalendar::Load(a.data + "/holiday-cn", &calendar).ok() ||
      !domain::PremiumTable::Load(a.data + "/premiums.json", &premiums).ok()) {
    Die("cannot load " + a.data);
  }
  domain::DomainProjector projector;
  auto store = OpenLedger(a.dir, &projector, false, /*read_only=*/true);
  replay::VerifyOptions options;
  options.premiums = &premiums;
  options.calendar = &calendar;
  replay::VerifyReport report;
  const auto t0 = Clock::now();
  ledger::Status s = replay::VerifyLedger(*store, options, &report);
  const double secs = Seconds(t0, Clock::now());
  if (!s.ok()) Die(s.ToString());
  if (report.failure) Die("verify failed: " + report.failure->check + ": " + report.failure->what);
  std::printf("%s\n", fmt::format("{{\"bench\":\"city_verify\",\"events\":{},\"verify_s\":{:.3f},"
                                  "\"verify_events_per_s\":{:.0f},\"peak_rss_mb\":{}}}",
                                  report.events, secs, static_cast<double>(report.events) / secs,
                                  PeakRssMb()).c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = Parse(argc, argv);
  if (a.phase == "ingest") return Ingest(a);
  if (a.phase == "raw-put") return RawPut(a);
  if (a.phase == "write-replay") return WriteReplay(a);
  if (a.phase == "rebuild-floor") return RebuildFloor(a);
  if (a.phase == "scan") return Scan(a);
  if (a.phase == "rebuild") return Rebuild(a);
  if (a.phase == "query") return Query(a);
  if (a.phase == "verify") return Verify(a);
  if (a.phase == "noise") return Noise(a);
  std::fprintf(stderr, "usage: city_bench ingest|raw-put|write-replay|scan|rebuild|rebuild-floor|query|verify|noise [--dir D] [--children N] "
                       "[--seed S] [--samples K]\n");
  return 2;
}
