// Append throughput of the event store, measured against raw RocksDB in the same run.
//
// For each case (batch size x sync x writer threads) the program builds all event bytes first,
// then opens a fresh ledger and times EventStore::Append, then opens a fresh raw RocksDB with the
// ledger's options and times WriteBatch writes of the same keys and bytes. Only the appends are
// timed: event generation, opening and closing are not.
//
// The group-commit rounds (--gc-rounds) also time the ledger's group-commit scheme with nothing
// else in it (BareGroupCommit: one pwrite and one fdatasync per group), the ceiling of the
// synced 8-writer ratio on the machine at hand.
//
// Output: one JSON object per line on stdout (one per case, then a group_commit line); notes go
// to stderr. BENCHMARKS.md says how to run it and what each figure means.

#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <latch>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <fcntl.h>
#include <unistd.h>
#include <condition_variable>
#include <deque>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "ledger/envelope.h"
#include "ledger/event_store.h"
#include "ledger/constants.h"
#include "ledger/keys.h"
#include "ledger/rocks_options.h"
#include "ledger/sha256.h"
#include "tools/allocator.h"

namespace {

namespace fs = std::filesystem;
namespace fb = shebao::fb;
namespace ledger = shebao::ledger;
namespace keys = shebao::ledger::keys;

// ------------------------------------------------------------------------------------------
// Command line
// ------------------------------------------------------------------------------------------

struct Args {
  uint64_t events = 200'000;             // unsynced cases
  uint64_t synced_events = 20'000;       // synced cases
  std::string dir;                       // empty: a fresh temp dir, removed at exit
  std::vector<uint64_t> batches{1, 1000};
  std::vector<uint64_t> syncs{0, 1};
  std::vector<uint64_t> threads{1, 8};
  bool run_ledger = true;
  bool run_raw = true;
  bool run_raw_events_only = true;
  uint64_t repeat = 1;
  uint64_t gc_rounds = 5;          // paired group-commit rounds (0: none)
  uint64_t gc_round_events = 2'000;
  bool verify = false;
};

constexpr std::string_view kUsage = R"(usage: append_bench [options]
  --events N                events per unsynced case (default 200000)
  --synced-events N         events per synced case (default 20000)
  --dir PATH                parent directory for the databases (default: a fresh temp dir,
                            removed at exit); each case's databases are removed after the case
  --batch LIST              batch sizes, comma-separated (default 1,1000)
  --sync LIST               0 = unsynced, 1 = synced (default 0,1)
  --threads LIST            writer thread counts (default 1,8)
  --only ledger|raw         time only the ledger or only raw RocksDB (for profiling)
  --no-events-only          skip the raw events-column-family-only baseline
  --repeat N                 measure each case N times on fresh databases, report medians
                            (default 1)
  --gc-rounds N              paired rounds for the group-commit ratio (default 5, 0: none)
  --gc-round-events N       synced batch-1 events per writer count per round (default 2000)
  --verify                  after each ledger run, VerifyChain the whole log (not timed)
)";

bool ParseUint(std::string_view text, uint64_t* out) {
  if (text.empty()) return false;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool ParseList(std::string_view text, std::vector<uint64_t>* out) {
  out->clear();
  while (!text.empty()) {
    size_t comma = text.find(',');
    uint64_t v = 0;
    if (!ParseUint(text.substr(0, comma), &v)) return false;
    out->push_back(v);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return !out->empty();
}

bool ParseArgs(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string_view v;
    if (a == "--help" || a == "-h") {
      fmt::print(stdout, "{}", kUsage);
      std::exit(0);
    } else if (a == "--events") {
      if (!value(&v) || !ParseUint(v, &args->events) || args->events == 0) return false;
    } else if (a == "--synced-events") {
      if (!value(&v) || !ParseUint(v, &args->synced_events) || args->synced_events == 0) return false;
    } else if (a == "--dir") {
      if (!value(&v)) return false;
      args->dir = std::string(v);
    } else if (a == "--batch") {
      if (!value(&v) || !ParseList(v, &args->batches)) return false;
      for (uint64_t b : args->batches) {
        if (b == 0 || b > shebao::ledger::kBatchEventsMax) return false;
      }
    } else if (a == "--sync") {
      if (!value(&v) || !ParseList(v, &args->syncs)) return false;
      for (uint64_t s : args->syncs) {
        if (s > 1) return false;
      }
    } else if (a == "--threads") {
      if (!value(&v) || !ParseList(v, &args->threads)) return false;
      for (uint64_t t : args->threads) {
        if (t == 0 || t > 64) return false;
      }
    } else if (a == "--only") {
      if (!value(&v)) return false;
      if (v == "ledger") {
        args->run_raw = args->run_raw_events_only = false;
      } else if (v == "raw") {
        args->run_ledger = false;
      } else {
        return false;
      }
    } else if (a == "--no-events-only") {
      args->run_raw_events_only = false;
    } else if (a == "--repeat") {
      if (!value(&v) || !ParseUint(v, &args->repeat) || args->repeat == 0) return false;
    } else if (a == "--gc-rounds") {
      if (!value(&v) || !ParseUint(v, &args->gc_rounds)) return false;
    } else if (a == "--gc-round-events") {
      if (!value(&v) || !ParseUint(v, &args->gc_round_events) || args->gc_round_events == 0) {
        return false;
      }
    } else if (a == "--verify") {
      args->verify = true;
    } else {
      return false;
    }
  }
  return true;
}

// ------------------------------------------------------------------------------------------
// Realistic events
// ------------------------------------------------------------------------------------------

constexpr std::array<std::string_view, 8> kDivisions = {"110105", "110108", "310115", "440305",
                                                        "320106", "330106", "510107", "420111"};
constexpr std::array<std::string_view, 4> kBanks = {"102100099996", "103100000026",
                                                    "104100000004", "105100000017"};
constexpr std::array<std::string_view, 4> kBankNames = {"ICBC", "ABC", "BOC", "CCB"};

// The child (and so the stream, "case/2026/<child id>") number s of writer thread t. Streams of
// different threads never collide: the division code is the thread's.
std::string ChildId(uint64_t thread, uint64_t s) {
  return fmt::format("{}2015{:07}{}", kDivisions[thread % kDivisions.size()],
                     s + 1'000'000 * (thread / kDivisions.size()), "0123456789X"[s % 11]);
}

// Builds the events of an enrollment case's life, in order: materials issued, review, premium
// collected, subsidy recorded, coverage active; with varied ids, amounts, references, staff and
// correlation ids. They come out at 344-432 bytes (about 390 on average): the envelope alone
// (stream id, actor, idempotency key, correlation and causation ids, store-assigned fields) is
// about 250 bytes, so richer payloads (a declaration with names) would be over 400.
class EventFactory {
 public:
  explicit EventFactory(uint64_t seed) : rng_(seed), fbb_(1024) {}

  // The version-th event (1-based) of the case of child_id, in an append of idempotency key.
  std::string Make(std::string_view stream, std::string_view child_id, uint64_t version,
                   std::string_view idempotency_key) {
    const std::string case_id(stream);
    const std::string child(child_id);
    const std::string division(child_id.substr(0, 6));
    ledger::EnvelopeFields env;
    env.stream_id = stream;
    env.effective_day = static_cast<int32_t>(20'440 + Uniform(0, 300));
    env.effective_second = static_cast<int32_t>(Uniform(8 * 3600, 18 * 3600));
    env.idempotency_key = idempotency_key;
    const std::string correlation = fmt::format("{:08x}", Uniform(0, 0xffffffff));
    env.correlation_id = correlation;
    std::string org_id;
    std::string person_id;
    std::string causation;
    fb::Payload type = fb::Payload::NONE;
    flatbuffers::Offset<void> payload;
    switch ((version - 1) % 5) {
      case 0: {  // materials are handed out, opening the case
        payload = fb::CreateMaterialsIssuedDirect(fbb_, case_id.c_str(), child.c_str(),
                                                  fb::Pathway::not_in_school, 2026,
                                                  division.c_str())
                      .Union();
        type = fb::Payload::MaterialsIssued;
        env.role = fb::Role::agency;
        env.channel = fb::Channel::agency_window;
        org_id = division;
        person_id = fmt::format("staff-{:05}", Uniform(0, 99'999));
        causation = "cmd:issue";
        break;
      }
      case 1: {  // the agency reviews
        const bool accepted = Uniform(0, 9) < 8;
        payload = fb::CreateReviewDecidedDirect(
                      fbb_, case_id.c_str(), fb::ReviewStage::agency,
                      accepted ? fb::ReviewOutcome::accepted
                               : fb::ReviewOutcome::returned_for_correction,
                      accepted ? "" : "R-ID-MISMATCH",
                      accepted ? "" : "身份证号码与户籍不一致")
                      .Union();
        type = fb::Payload::ReviewDecided;
        env.role = fb::Role::agency;
        env.channel = fb::Channel::agency_window;
        org_id = division;
        person_id = fmt::format("staff-{:05}", Uniform(0, 99'999));
        causation = "cmd:review";
        break;
      }
      case 2: {  // the bank collects the premium
        const size_t bank = Uniform(0, kBanks.size() - 1);
        const std::string bank_code(kBanks[bank]);
        const std::string bank_ref =
            fmt::format("{}-2026-{:09}", kBankNames[bank], Uniform(0, 999'999'999));
        payload = fb::CreatePremiumCollectedDirect(
                      fbb_, case_id.c_str(), child.c_str(), 2026, fb::PayerKind::guardian,
                      static_cast<int64_t>(Pick(std::array<uint64_t, 3>{38'000, 40'000, 42'000})),
                      bank_code.c_str(), bank_ref.c_str(), static_cast<uint16_t>(Uniform(1, 2)))
                      .Union();
        type = fb::Payload::PremiumCollected;
        env.role = fb::Role::bank;
        env.channel = fb::Channel::bank;
        org_id = bank_code;
        person_id = fmt::format("T{:04}", Uniform(0, 9'999));
        causation = "cmd:collect";
        break;
      }
      case 3: {  // the government subsidy is credited
        const std::string reference = fmt::format("YBC2026-{}-{:06}", Uniform(1, 40),
                                                  Uniform(0, 999'999));
        payload = fb::CreateSubsidyRecordedDirect(
                      fbb_, case_id.c_str(), child.c_str(), 2026,
                      fb::PayerKind::government_subsidy,
                      static_cast<int64_t>(Pick(std::array<uint64_t, 2>{67'000, 70'000})),
                      "CZBZ-2026", reference.c_str(), division.c_str())
                      .Union();
        type = fb::Payload::SubsidyRecorded;
        env.role = fb::Role::agency;
        env.channel = fb::Channel::system;
        org_id = division;
        person_id = fmt::format("staff-{:05}", Uniform(0, 99'999));
        causation = "cmd:subsidy";
        break;
      }
      default: {  // coverage becomes active
        payload = fb::CreateCoverageStatusChangedDirect(
                      fbb_, child.c_str(), 2026, fb::CoverageStatus::active,
                      static_cast<int32_t>(20'454 + Uniform(0, 30)),
                      "足额到账", case_id.c_str(),
                      fb::CoverageStatus::pending, 0)
                      .Union();
        type = fb::Payload::CoverageStatusChanged;
        env.role = fb::Role::system;
        env.channel = fb::Channel::system;
        org_id = division;
        person_id = "ledger";
        causation = "rule:paid";
        break;
      }
    }
    env.org_id = org_id;
    env.person_id = person_id;
    env.causation_id = causation;
    return ledger::FinishEvent(fbb_, env, type, payload);
  }

 private:
  uint64_t Uniform(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(rng_);
  }
  template <typename T, size_t N>
  T Pick(const std::array<T, N>& a) {
    return a[Uniform(0, N - 1)];
  }

  std::mt19937_64 rng_;
  flatbuffers::FlatBufferBuilder fbb_;
};

// ------------------------------------------------------------------------------------------
// The work of one writer thread, built before timing
// ------------------------------------------------------------------------------------------

// One event as raw RocksDB writes it.
struct RawEvent {
  uint64_t position = 0;
  uint32_t stream = 0;   // index into ThreadWork::streams
  uint64_t version = 0;  // stream version
  std::string value;     // event bytes (store-assigned fields filled in) || chain hash
};

struct RawBatch {
  std::vector<RawEvent> events;
  std::vector<std::pair<uint32_t, uint64_t>> heads;  // (stream, version after the batch)
  std::string idempotency_key;
  ledger::Hash256 last_hash{};
};

struct ThreadWork {
  std::vector<std::string> streams;
  std::vector<ledger::AppendBatch> ledger_batches;
  std::vector<RawBatch> raw_batches;
  uint64_t events = 0;
  uint64_t event_bytes = 0;
  size_t min_event_bytes = SIZE_MAX;
  size_t max_event_bytes = 0;
};

// Thread t appends events_per_thread events in batches of batch_size. Events go round-robin
// over the thread's streams (about 4 events per stream, so a batch of 1000 touches 1000
// streams, like a bank collection file). Raw positions: thread t owns
// [t * events_per_thread + 1, (t + 1) * events_per_thread].
ThreadWork BuildWork(uint64_t thread, uint64_t events_per_thread, uint64_t batch_size,
                     std::string_view case_tag, int64_t recorded_us) {
  ThreadWork w;
  const uint64_t stream_count = std::max<uint64_t>(1, events_per_thread / 4);
  w.streams.reserve(stream_count);
  std::vector<std::string> children;
  children.reserve(stream_count);
  for (uint64_t s = 0; s < stream_count; ++s) {
    children.push_back(ChildId(thread, s));
    w.streams.push_back("case/2026/" + children.back());
  }
  std::vector<uint64_t> versions(stream_count, 0);
  EventFactory factory(0x5eba0000 + thread * 7919 + batch_size);
  ledger::Hash256 chain{};
  const uint64_t base = thread * events_per_thread;
  const uint64_t batch_count = events_per_thread / batch_size;
  w.ledger_batches.reserve(batch_count);
  w.raw_batches.reserve(batch_count);
  uint64_t j = 0;
  for (uint64_t b = 0; b < batch_count; ++b) {
    ledger::AppendBatch lb;
    RawBatch rb;
    lb.idempotency_key = fmt::format("{}-{}-{}", case_tag, thread, b);
    rb.idempotency_key = lb.idempotency_key;
    lb.events.reserve(batch_size);
    rb.events.reserve(batch_size);
    std::unordered_map<uint32_t, size_t> head_index;  // stream -> index in rb.heads
    for (uint64_t i = 0; i < batch_size; ++i, ++j) {
      const auto s = static_cast<uint32_t>(j % stream_count);
      const uint64_t version = ++versions[s];
      std::string bytes = factory.Make(w.streams[s], children[s], version, lb.idempotency_key);
      w.event_bytes += bytes.size();
      w.min_event_bytes = std::min(w.min_event_bytes, bytes.size());
      w.max_event_bytes = std::max(w.max_event_bytes, bytes.size());

      RawEvent re;
      re.position = base + j + 1;
      re.stream = s;
      re.version = version;
      re.value = bytes;
      auto* event = fb::GetMutableEvent(re.value.data());
      event->mutate_position(re.position);
      event->mutate_stream_version(version);
      event->mutate_recorded_us(recorded_us);
      chain = ledger::ChainHash(chain, re.value);
      re.value.append(reinterpret_cast<const char*>(chain.data()), chain.size());
      rb.events.push_back(std::move(re));

      if (auto [it, inserted] = head_index.try_emplace(s, rb.heads.size()); inserted) {
        rb.heads.emplace_back(s, version);
        lb.expectations.push_back({w.streams[s], ledger::ExpectedVersion::Any()});
      } else {
        rb.heads[it->second].second = version;
      }
      lb.events.push_back(std::move(bytes));
    }
    rb.last_hash = chain;
    w.ledger_batches.push_back(std::move(lb));
    w.raw_batches.push_back(std::move(rb));
  }
  w.events = j;
  return w;
}

// ------------------------------------------------------------------------------------------
// Raw RocksDB with the ledger's options
// ------------------------------------------------------------------------------------------

// A copy of the option setup of EventStore::Open (ledger/event_store.cc): same DBOptions, same
// seven column families in the same order, same write buffers, LZ4, bloom filters, one shared
// 64 MiB LRU block cache (StoreOptions::block_cache_bytes default). Every case checks that the
// two databases persisted identical OPTIONS files ("options_identical" in the output), so a
// change to Open that is not copied here shows up.
struct RawDb {
  std::unique_ptr<rocksdb::DB> db;
  // default, events, streams, idempotency, claims, meta, projections (the ledger's order)
  std::vector<rocksdb::ColumnFamilyHandle*> handles;

  ~RawDb() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    if (db) db->Close().PermitUncheckedError();
  }
  rocksdb::ColumnFamilyHandle* events() const { return handles[1]; }
  rocksdb::ColumnFamilyHandle* streams() const { return handles[2]; }
  rocksdb::ColumnFamilyHandle* idempotency() const { return handles[3]; }
  rocksdb::ColumnFamilyHandle* meta() const { return handles[5]; }
};

rocksdb::Status OpenRaw(const std::string& path, RawDb* out) {
  const size_t block_cache_bytes = ledger::StoreOptions().block_cache_bytes;
  // Exactly the store's options (ledger/rocks_options.h).
  rocksdb::DBOptions db_options;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  ledger::LedgerRocksOptions(block_cache_bytes, /*create_if_missing=*/true, &db_options, &families);
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, path, families, &out->handles, &raw);
  if (s.ok()) out->db.reset(raw);
  return s;
}

// Compares the OPTIONS files RocksDB persisted in two database directories. Returns true if
// the DB options and every column family's options serialize identically; otherwise notes the
// first difference on stderr.
bool SameOptions(const std::string& a, const std::string& b) {
  rocksdb::ConfigOptions config;
  config.ignore_unknown_options = false;
  struct Loaded {
    rocksdb::DBOptions db;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  } la, lb;
  for (auto [path, l] : {std::pair{&a, &la}, std::pair{&b, &lb}}) {
    auto s = rocksdb::LoadLatestOptions(config, *path, &l->db, &l->cfs);
    if (!s.ok()) {
      fmt::print(stderr, "note: cannot load the options of {}: {}\n", *path, s.ToString());
      return false;
    }
  }
  auto differ = [](std::string_view what, const std::string& x, const std::string& y) {
    if (x == y) return false;
    size_t i = 0;
    while (i < x.size() && i < y.size() && x[i] == y[i]) ++i;
    const size_t from = x.rfind(';', i) == std::string::npos ? 0 : x.rfind(';', i);
    fmt::print(stderr, "note: {} differ near: ledger '{}' vs raw '{}'\n", what,
               x.substr(from, 80), y.substr(from, 80));
    return true;
  };
  std::string xs;
  std::string ys;
  if (!rocksdb::GetStringFromDBOptions(config, la.db, &xs).ok() ||
      !rocksdb::GetStringFromDBOptions(config, lb.db, &ys).ok()) {
    fmt::print(stderr, "note: cannot serialize the DB options\n");
    return false;
  }
  if (differ("DB options", xs, ys)) return false;
  auto names = [](const std::vector<rocksdb::ColumnFamilyDescriptor>& cfs) {
    std::string out;
    for (const auto& cf : cfs) out += (out.empty() ? "" : ",") + cf.name;
    return out;
  };
  if (differ("column families", names(la.cfs), names(lb.cfs))) return false;
  for (size_t i = 0; i < la.cfs.size(); ++i) {
    if (!rocksdb::GetStringFromColumnFamilyOptions(config, la.cfs[i].options, &xs).ok() ||
        !rocksdb::GetStringFromColumnFamilyOptions(config, lb.cfs[i].options, &ys).ok()) {
      fmt::print(stderr, "note: cannot serialize the options of column family {}\n",
                 la.cfs[i].name);
      return false;
    }
    if (differ(fmt::format("options of column family {}", la.cfs[i].name), xs, ys)) return false;
  }
  return true;
}

// ------------------------------------------------------------------------------------------
// Timed runs
// ------------------------------------------------------------------------------------------

// Runs body(t) on threads.size() threads released together; returns the wall time in seconds
// from the release to the last thread's end.
template <typename Body>
double TimeThreads(size_t thread_count, Body body) {
  std::latch start(1);
  std::vector<std::thread> threads;
  threads.reserve(thread_count);
  for (size_t t = 0; t < thread_count; ++t) {
    threads.emplace_back([&, t] {
      start.wait();
      body(t);
    });
  }
  const auto t0 = std::chrono::steady_clock::now();
  start.count_down();
  for (auto& th : threads) th.join();
  const auto t1 = std::chrono::steady_clock::now();
  return std::chrono::duration<double>(t1 - t0).count();
}

struct FirstError {
  std::mutex mu;
  std::string text;
  void Set(std::string s) {
    std::lock_guard lock(mu);
    if (text.empty()) text = std::move(s);
  }
  bool any() {
    std::lock_guard lock(mu);
    return !text.empty();
  }
};

// The directory Die removes (the databases of the run), if any.
fs::path g_remove_on_exit;

[[noreturn]] void Die(std::string_view what) {
  fmt::print(stderr, "append_bench: {}\n", what);
  if (!g_remove_on_exit.empty()) {
    std::error_code ec;
    fs::remove_all(g_remove_on_exit, ec);
  }
  std::exit(1);
}

// The group commit of the ledger with nothing else in it: each writer queues one event's bytes
// and waits; the writer at the front leads (waiting up to kCommitDelayMaxUs for as many writers
// as its last group had, as LeadGroup does), writes the group's bytes with one pwrite and one
// fdatasync, and wakes the group. No RocksDB, no hashing, no checks: what group commit itself
// can reach on this machine's disk and CPUs, the ceiling of the ledger's synced ratio.
class BareGroupCommit {
 public:
  explicit BareGroupCommit(const std::string& path)
      : fd_(::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644)) {
    if (fd_ < 0) Die(fmt::format("open {}", path));
  }
  ~BareGroupCommit() { ::close(fd_); }
  BareGroupCommit(const BareGroupCommit&) = delete;
  BareGroupCommit& operator=(const BareGroupCommit&) = delete;

  void Append(std::string_view bytes) {
    Waiter w;
    w.bytes = bytes;
    std::unique_lock lock(mu_);
    queue_.push_back(&w);
    if (queue_.size() > 1) queue_.front()->cv.notify_one();  // a leader may wait for company
    while (!w.done && queue_.front() != &w) w.cv.wait(lock);
    if (w.done) return;
    if (last_group_ > 1) {
      const auto deadline = std::chrono::steady_clock::now() +
                            std::chrono::microseconds(ledger::kCommitDelayMaxUs);
      while (queue_.size() < last_group_) {
        if (w.cv.wait_until(lock, deadline) == std::cv_status::timeout) break;
      }
    }
    const std::vector<Waiter*> group(queue_.begin(), queue_.end());
    last_group_ = group.size();
    lock.unlock();
    buffer_.clear();
    for (const Waiter* x : group) buffer_.append(x->bytes);
    if (::pwrite(fd_, buffer_.data(), buffer_.size(), offset_) != static_cast<ssize_t>(buffer_.size()) ||
        ::fdatasync(fd_) != 0) {
      Die("bare group commit: write or fdatasync failed");
    }
    offset_ += static_cast<off_t>(buffer_.size());
    lock.lock();
    ++syncs_;
    for (Waiter* x : group) {
      queue_.pop_front();
      x->done = true;
      if (x != &w) x->cv.notify_one();
    }
    if (!queue_.empty()) queue_.front()->cv.notify_one();
  }
  uint64_t syncs() const { return syncs_; }

 private:
  struct Waiter {
    std::string_view bytes;
    bool done = false;
    std::condition_variable cv;
  };
  const int fd_;
  std::mutex mu_;
  std::deque<Waiter*> queue_;  // guarded by mu_
  size_t last_group_ = 0;      // guarded by mu_
  uint64_t syncs_ = 0;         // guarded by mu_
  // The leader's only (one at a time):
  std::string buffer_;
  off_t offset_ = 0;
};

struct LedgerRun {
  double seconds = 0;
  // Commit groups (one RocksDB write, and with sync one WAL sync, each), counted after the
  // timing as the runs of equal recorded_us along the log: the store stamps every event of a
  // group with one time, and later groups with a later time (or the same, if the clock did not
  // move a microsecond: so this is a lower bound).
  uint64_t groups = 0;
};

LedgerRun RunLedger(const std::string& path, bool sync, const std::vector<ThreadWork>& work,
                    uint64_t total_events, bool verify) {
  ledger::StoreOptions options;
  options.sync = sync;
  std::unique_ptr<ledger::EventStore> store;
  auto st = ledger::EventStore::Open(path, options, &store);
  if (!st.ok()) Die(fmt::format("open ledger {}: {}", path, st.ToString()));
  FirstError error;
  LedgerRun run;
  run.seconds = TimeThreads(work.size(), [&](size_t t) {
    for (const auto& batch : work[t].ledger_batches) {
      ledger::AppendResult result;
      auto s = store->Append(batch, &result);
      if (!s.ok() || result.duplicate) {
        error.Set(s.ok() ? std::string("unexpected duplicate") : s.ToString());
        return;
      }
    }
  });
  if (error.any()) Die(fmt::format("ledger append failed: {}", error.text));
  if (store->head().position != total_events) {
    Die(fmt::format("ledger head is {}, expected {}", store->head().position, total_events));
  }
  if (verify) {
    uint64_t checked = 0;
    auto s = store->VerifyChain(&checked);
    if (!s.ok() || checked != total_events) {
      Die(fmt::format("VerifyChain: {} ({} events checked)", s.ToString(), checked));
    }
    fmt::print(stderr, "  verified {} events\n", checked);
  }
  int64_t last_us = INT64_MIN;
  auto cursor = store->NewCursor(1);
  for (; cursor->Valid(); cursor->Next()) {
    const int64_t us = cursor->event().event()->recorded_us();
    if (us != last_us) ++run.groups;
    last_us = us;
  }
  if (!cursor->status().ok()) Die(fmt::format("reading the log: {}", cursor->status().ToString()));
  return run;
}

// full: the same puts as the ledger's WriteBatch for the batch (events, stream index, stream
// heads, idempotency record, meta head). Otherwise only the events column family.
double RunRaw(const std::string& path, bool sync, const std::vector<ThreadWork>& work,
              int64_t recorded_us, bool full) {
  RawDb db;
  auto s = OpenRaw(path, &db);
  if (!s.ok()) Die(fmt::format("open raw RocksDB {}: {}", path, s.ToString()));
  rocksdb::WriteOptions write_options;
  write_options.sync = sync;
  FirstError error;
  const double seconds = TimeThreads(work.size(), [&](size_t t) {
    const ThreadWork& w = work[t];
    for (const RawBatch& rb : w.raw_batches) {
      rocksdb::WriteBatch wb;
      for (const RawEvent& e : rb.events) {
        wb.Put(db.events(), keys::EventKey(e.position), e.value);
        if (full) {
          std::string position;
          keys::PutBigEndian64(&position, e.position);
          wb.Put(db.streams(), keys::StreamVersionKey(w.streams[e.stream], e.version), position);
        }
      }
      if (full) {
        for (const auto& [stream, version] : rb.heads) {
          std::string value;
          keys::PutBigEndian64(&value, version);
          wb.Put(db.streams(), keys::StreamHeadKey(w.streams[stream]), value);
        }
        const uint64_t first = rb.events.front().position;
        const uint64_t last = rb.events.back().position;
        wb.Put(db.idempotency(), rb.idempotency_key,
               keys::EncodeIdempotency({first, last, ledger::Hash256{}}));
        wb.Put(db.meta(), keys::kHeadKey, keys::EncodeHead({last, rb.last_hash, recorded_us}));
      }
      auto ws = db.db->Write(write_options, &wb);
      if (!ws.ok()) {
        error.Set(ws.ToString());
        return;
      }
    }
  });
  if (error.any()) Die(fmt::format("raw write failed: {}", error.text));
  return seconds;
}

struct CaseResult {
  double ledger_rate = 0;
  double raw_rate = 0;
  double events_per_group = 0;
};

// The median of the timings (0 if none).
double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::string Rate(double events, double seconds) {
  return seconds > 0 ? fmt::format("{:.0f}", events / seconds) : "null";
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, &args)) {
    fmt::print(stderr, "{}", kUsage);
    return 2;
  }

  // The parent directory of every case's databases.
  fs::path root;
  bool remove_root = false;
  if (args.dir.empty()) {
    std::random_device rd;
    root = fs::temp_directory_path() / fmt::format("shebao-append-bench-{}-{}", getpid(), rd());
    remove_root = true;
  } else {
    root = fs::path(args.dir) / fmt::format("append-bench-{}", getpid());
  }
  fs::create_directories(root);
  g_remove_on_exit = root;
  fmt::print(stderr,
             "append_bench: databases under {}\n"
             "raw baseline: WriteBatch of the ledger's puts for the same batch, same keys and "
             "bytes: events CF be64(position) -> event bytes || 32-byte chain hash, streams CF "
             "index (stream||be64(version) -> be64(position)) and head (stream -> be64(version)) "
             "entries, the idempotency record, the meta head; raw threads write disjoint "
             "position ranges. The events-only baseline writes the events CF puts alone.\n",
             root.string());

  std::map<std::tuple<uint64_t, bool, uint64_t>, CaseResult> results;
  int case_number = 0;
  for (uint64_t sync_flag : args.syncs) {
    const bool sync = sync_flag != 0;
    for (uint64_t batch : args.batches) {
      for (uint64_t threads : args.threads) {
        const uint64_t wanted = sync ? args.synced_events : args.events;
        // Each thread appends whole batches; round up.
        const uint64_t per_thread = std::max<uint64_t>(1, (wanted + threads * batch - 1) /
                                                              (threads * batch)) * batch;
        const uint64_t total = per_thread * threads;
        const std::string tag = fmt::format("b{}s{}t{}", batch, sync ? 1 : 0, threads);
        const int64_t recorded_us = ledger::SystemClock::Default()->NowMicros();

        fmt::print(stderr, "case {}: batch {}, {}, {} writer(s), {} events: building events...\n",
                   tag, batch, sync ? "synced" : "unsynced", threads, total);
        std::vector<ThreadWork> work(threads);
        {
          std::vector<std::thread> builders;
          for (uint64_t t = 0; t < threads; ++t) {
            builders.emplace_back([&, t] { work[t] = BuildWork(t, per_thread, batch, tag,
                                                               recorded_us); });
          }
          for (auto& b : builders) b.join();
        }
        uint64_t bytes = 0;
        size_t min_bytes = SIZE_MAX;
        size_t max_bytes = 0;
        for (const auto& w : work) {
          bytes += w.event_bytes;
          min_bytes = std::min(min_bytes, w.min_event_bytes);
          max_bytes = std::max(max_bytes, w.max_event_bytes);
        }
        const double avg_bytes = static_cast<double>(bytes) / static_cast<double>(total);
        fmt::print(stderr, "  event bytes: min {}, avg {:.0f}, max {}\n", min_bytes, avg_bytes,
                   max_bytes);

        const fs::path case_dir = root / fmt::format("{:02}-{}", ++case_number, tag);
        const auto n = static_cast<double>(total);

        // Each repetition uses fresh databases; the medians are reported. The order within a
        // repetition is ledger, raw, raw events-only.
        std::vector<double> ledger_all;
        std::vector<double> groups_all;
        std::vector<double> raw_all;
        std::vector<double> raw_events_all;
        std::string options_identical = "null";
        for (uint64_t rep = 0; rep < args.repeat; ++rep) {
          const fs::path rep_dir = case_dir / fmt::format("rep{}", rep);
          fs::create_directories(rep_dir);
          const std::string ledger_path = (rep_dir / "ledger").string();
          const std::string raw_path = (rep_dir / "raw").string();
          const std::string raw_events_path = (rep_dir / "raw-events-only").string();
          if (args.run_ledger) {
            const LedgerRun run = RunLedger(ledger_path, sync, work, total, args.verify);
            ledger_all.push_back(run.seconds);
            groups_all.push_back(static_cast<double>(run.groups));
            fmt::print(stderr, "  ledger:          {:8.3f} s  {:>9} events/s  {} commit groups, "
                               "{:.1f} events each\n",
                       run.seconds, Rate(n, run.seconds), run.groups,
                       n / static_cast<double>(std::max<uint64_t>(run.groups, 1)));
          }
          if (args.run_raw) {
            raw_all.push_back(RunRaw(raw_path, sync, work, recorded_us, /*full=*/true));
            fmt::print(stderr, "  raw (same puts): {:8.3f} s  {:>9} events/s\n", raw_all.back(),
                       Rate(n, raw_all.back()));
          }
          if (args.run_raw_events_only) {
            raw_events_all.push_back(RunRaw(raw_events_path, sync, work, recorded_us,
                                            /*full=*/false));
            fmt::print(stderr, "  raw events CF:   {:8.3f} s  {:>9} events/s\n",
                       raw_events_all.back(), Rate(n, raw_events_all.back()));
          }
          if (rep == 0 && args.run_ledger && args.run_raw) {
            const bool same = SameOptions(ledger_path, raw_path);
            options_identical = same ? "true" : "false";
            if (!same) {
              fmt::print(stderr, "  WARNING: raw RocksDB options differ from the ledger's: make "
                                 "OpenRaw (bench/append_bench.cc) match EventStore::Open\n");
            }
          }
          std::error_code ec;
          fs::remove_all(rep_dir, ec);
        }
        const double ledger_s = Median(ledger_all);
        const double raw_s = Median(raw_all);
        const double raw_events_s = Median(raw_events_all);
        const double groups = Median(groups_all);
        work.clear();
        std::error_code ec;
        fs::remove_all(case_dir, ec);

        auto ratio = [](double ledger_seconds, double raw_seconds) {
          return ledger_seconds > 0 && raw_seconds > 0
                     ? fmt::format("{:.3f}", raw_seconds / ledger_seconds)
                     : std::string("null");
        };
        fmt::print(stdout,
                   "{{\"bench\":\"append\",\"batch\":{},\"sync\":{},\"threads\":{},"
                   "\"events\":{},\"event_bytes_avg\":{:.0f},"
                   "\"ledger_events_per_s\":{},\"raw_rocksdb_events_per_s\":{},\"ratio\":{},"
                   "\"raw_events_cf_only_events_per_s\":{},\"ratio_vs_events_cf_only\":{},"
                   "\"ledger_s\":{:.3f},\"raw_s\":{:.3f},\"raw_events_cf_only_s\":{:.3f},"
                   "\"raw_writes\":\"events+stream_index+stream_head+idempotency+meta_head\","
                   "\"ledger_commit_groups\":{:.0f},\"ledger_events_per_commit_group\":{},"
                   "\"options_identical\":{},\"repeat\":{},\"allocator\":\"{}\"}}\n",
                   batch, sync, threads, total, avg_bytes, Rate(n, ledger_s), Rate(n, raw_s),
                   ratio(ledger_s, raw_s), Rate(n, raw_events_s), ratio(ledger_s, raw_events_s),
                   ledger_s, raw_s, raw_events_s, groups,
                   groups > 0 ? fmt::format("{:.2f}", n / groups) : std::string("null"),
                   options_identical, args.repeat, shebao::tools::AllocatorName());
        std::fflush(stdout);
        results[{batch, sync, threads}] = {ledger_s > 0 ? n / ledger_s : 0,
                                           raw_s > 0 ? n / raw_s : 0,
                                           groups > 0 ? n / groups : 0};
      }
    }
  }

  // Group commit: synced single-event appends, 8 writers against 1.
  auto one = results.find({1, true, 1});
  auto eight = results.find({1, true, 8});
  if (one != results.end() && eight != results.end() && one->second.ledger_rate > 0) {
    const double x = eight->second.ledger_rate / one->second.ledger_rate;
    const double raw_x = one->second.raw_rate > 0 ? eight->second.raw_rate / one->second.raw_rate
                                                  : 0;
    // The two cases above ran a minute apart, and the latency of a WAL sync on a shared virtual
    // disk drifts by several times over minutes. Paired rounds (1 writer, then 8, then 8, then
    // 1, ...) of gc_round_events each measure the ratio with both sides at the same moment.
    std::vector<double> paired;
    std::vector<double> bare_paired;           // the bare group commit's 8 / 1, per round
    std::vector<double> bare_events_per_sync;  // its 8 writers' events per fdatasync
    if (args.gc_rounds > 0 && args.run_ledger) {
      const uint64_t per8 = std::max<uint64_t>(1, args.gc_round_events / 8);
      std::vector<ThreadWork> work1(1);
      std::vector<ThreadWork> work8(8);
      const int64_t now_us = ledger::SystemClock::Default()->NowMicros();
      work1[0] = BuildWork(0, per8 * 8, 1, "gc1", now_us);
      for (uint64_t t = 0; t < 8; ++t) work8[t] = BuildWork(t, per8, 1, "gc8", now_us);
      const auto n = static_cast<double>(per8 * 8);
      for (uint64_t round = 0; round < args.gc_rounds; ++round) {
        double rate1 = 0;
        double rate8 = 0;
        double bare1 = 0;
        double bare8 = 0;
        for (int k = 0; k < 2; ++k) {
          const bool single = (k == 0) == (round % 2 == 0);
          const std::vector<ThreadWork>& work = single ? work1 : work8;
          const fs::path dir = root / fmt::format("gc-{}-{}", round, single ? 1 : 8);
          fs::create_directories(dir);
          const LedgerRun run = RunLedger((dir / "ledger").string(), /*sync=*/true, work,
                                          per8 * 8, false);
          (single ? rate1 : rate8) = n / run.seconds;
          // The same events through the bare group commit, right after.
          BareGroupCommit bare((dir / "bare").string());
          const double bare_s = TimeThreads(work.size(), [&](size_t t) {
            for (const auto& batch : work[t].ledger_batches) bare.Append(batch.events[0]);
          });
          (single ? bare1 : bare8) = n / bare_s;
          if (!single) bare_events_per_sync.push_back(n / static_cast<double>(bare.syncs()));
          std::error_code ec;
          fs::remove_all(dir, ec);
        }
        paired.push_back(rate8 / rate1);
        bare_paired.push_back(bare8 / bare1);
        fmt::print(stderr, "group commit round {}: 1 writer {:.0f}/s, 8 writers {:.0f}/s, {:.2f}x; "
                           "bare group commit {:.0f}/s, {:.0f}/s, {:.2f}x\n",
                   round, rate1, rate8, paired.back(), bare1, bare8, bare_paired.back());
      }
    }
    std::string paired_json = "null";
    std::string bare_json = "null";
    std::string bare_per_sync_json = "null";
    if (!paired.empty()) {
      paired_json = fmt::format("{:.2f}", Median(paired));
      bare_json = fmt::format("{:.2f}", Median(bare_paired));
      bare_per_sync_json = fmt::format("{:.2f}", Median(bare_events_per_sync));
      fmt::print(stderr, "target synced 8 writers >= 5x 1 writer (paired rounds, median): "
                         "{:.2f}x, {}\n",
                 Median(paired), Median(paired) >= 5 ? "met" : "MISSED");
    }
    fmt::print(stdout,
               "{{\"bench\":\"group_commit\",\"batch\":1,\"sync\":true,"
               "\"synced_8_writers_over_1_writer\":{:.2f},"
               "\"ledger_1_writer_events_per_s\":{:.0f},\"ledger_8_writers_events_per_s\":{:.0f},"
               "\"raw_rocksdb_8_writers_over_1_writer\":{:.2f},"
               "\"ledger_events_per_wal_sync_8_writers\":{:.2f},"
               "\"paired_rounds\":{},\"paired_round_events\":{},"
               "\"paired_8_over_1_median\":{},\"bare_group_commit_8_over_1_median\":{},"
               "\"bare_group_commit_events_per_sync_8_writers\":{}}}\n",
               x, one->second.ledger_rate, eight->second.ledger_rate, raw_x,
               eight->second.events_per_group, paired.size(),
               std::max<uint64_t>(1, args.gc_round_events / 8) * 8, paired_json, bare_json,
               bare_per_sync_json);
    fmt::print(stderr, "target synced 8 writers >= 5x 1 writer: {:.2f}x, {}\n", x,
               x >= 5 ? "met" : "MISSED");
  }
  for (const auto& [key, r] : results) {
    const auto& [batch, sync, threads] = key;
    if (batch > 1 && !sync && r.raw_rate > 0 && r.ledger_rate > 0) {
      const double ratio = r.ledger_rate / r.raw_rate;
      fmt::print(stderr, "target batched unsynced >= 0.6x raw (batch {}, {} writer(s)): {:.3f}, {}\n",
                 batch, threads, ratio, ratio >= 0.6 ? "met" : "MISSED");
    }
  }
  std::error_code ec;
  if (remove_root) {
    fs::remove_all(root, ec);
  } else {
    fs::remove(root, ec);
  }
  return 0;
}
