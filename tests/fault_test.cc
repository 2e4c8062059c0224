// Faults at the event store's level (the CLI's are in tests/fault_test.sh): read-only opens
// beside a writer (StoreOptions::read_only), a corrupted write-ahead log holding synced appends,
// and a write cut short at the end of the log. A writer that "crashes" is a child process that
// appends synced batches and leaves with _exit, so that nothing is flushed or closed.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "ledger/event_store.h"
#include "tests/test_util.h"

namespace {

using shebao::ledger::AppendBatch;
using shebao::ledger::AppendResult;
using shebao::ledger::Code;
using shebao::ledger::EventStore;
using shebao::ledger::ExpectedVersion;
using shebao::ledger::RecordedEvent;
using shebao::ledger::Status;
using shebao::ledger::StoreOptions;
using shebao::testing::OneEventBatch;
using shebao::testing::TempDir;

std::unique_ptr<EventStore> MustOpen(const std::string& path, bool read_only, bool sync = true) {
  StoreOptions options;
  options.read_only = read_only;
  options.sync = sync;
  std::unique_ptr<EventStore> store;
  Status s = EventStore::Open(path, options, &store);
  REQUIRE_MESSAGE(s.ok(), s.ToString());
  return store;
}

void AppendEvents(EventStore& store, int from, int to) {
  for (int i = from; i <= to; ++i) {
    AppendResult result;
    Status s = store.Append(
        OneEventBatch("case/f", "k" + std::to_string(i), ExpectedVersion::Any(), i), &result);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
  }
}

// A child process opens path, appends batches 1..n synced (each acknowledged), and exits
// without closing the store: its events stay in the write-ahead log only.
void AppendInChildAndCrash(const std::string& path, int n) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    StoreOptions options;
    std::unique_ptr<EventStore> store;
    if (!EventStore::Open(path, options, &store).ok()) _exit(2);
    for (int i = 1; i <= n; ++i) {
      AppendResult result;
      if (!store->Append(OneEventBatch("case/f", "k" + std::to_string(i), ExpectedVersion::Any(), i),
                         &result)
               .ok()) {
        _exit(3);
      }
    }
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
}

// The largest *.log file of a ledger directory.
std::string LargestWal(const std::string& path) {
  std::string wal;
  uintmax_t size = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.path().extension() == ".log" && entry.file_size() > size) {
      size = entry.file_size();
      wal = entry.path().string();
    }
  }
  return wal;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("read-only opens beside a writer: no lock, a fixed prefix, no writes") {
  TempDir dir;
  auto writer = MustOpen(dir.path(), /*read_only=*/false, /*sync=*/false);
  AppendEvents(*writer, 1, 3);

  // The writer holds the lock: another writer is refused, a reader is not.
  std::unique_ptr<EventStore> second;
  CHECK(EventStore::Open(dir.path(), StoreOptions(), &second).code() == Code::ledger_locked);
  auto reader = MustOpen(dir.path(), /*read_only=*/true);
  // It sees the writer's appends so far (written, not yet synced: sync=false), whole and verified.
  CHECK(reader->head().position == 3);
  CHECK(reader->head().hash == writer->head().hash);
  uint64_t checked = 0;
  Status s = reader->VerifyChain(&checked);
  CHECK_MESSAGE(s.ok(), s.ToString());
  CHECK(checked == 3);

  // A reader is the ledger as it was when it opened; a new open sees the later appends.
  AppendEvents(*writer, 4, 5);
  CHECK(reader->head().position == 3);
  std::vector<RecordedEvent> events;
  REQUIRE(reader->ReadAll(1, 100, &events).ok());
  CHECK(events.size() == 3);
  CHECK(MustOpen(dir.path(), /*read_only=*/true)->head().position == 5);

  // Every write is refused, naming the mode; nothing changes.
  AppendResult result;
  s = reader->Append(OneEventBatch("case/f", "k9", ExpectedVersion::Any(), 9), &result);
  CHECK(s.code() == Code::invalid_argument);
  CHECK_MESSAGE(s.message().find("read-only") != std::string::npos, s.ToString());
  std::vector<AppendResult> results;
  std::vector<Status> statuses;
  s = reader->AppendMany({OneEventBatch("case/f", "k9", ExpectedVersion::Any(), 9)}, &results,
                         &statuses);
  CHECK(s.code() == Code::invalid_argument);
  REQUIRE(statuses.size() == 1);
  CHECK(statuses[0].code() == Code::invalid_argument);
  CHECK(reader->RebuildProjections(nullptr).code() == Code::invalid_argument);
  CHECK(writer->head().position == 5);
}

TEST_CASE("read-only open of a missing ledger: ledger_not_found, nothing created") {
  TempDir dir;
  StoreOptions options;
  options.read_only = true;
  options.create_if_missing = true;  // ignored when read-only
  std::unique_ptr<EventStore> store;
  CHECK(EventStore::Open(dir.sub("none"), options, &store).code() == Code::ledger_not_found);
  CHECK(!std::filesystem::exists(dir.sub("none")));
}

TEST_CASE("a --db that is a file: io_error saying so, for writers and readers") {
  TempDir dir;
  std::ofstream(dir.sub("file")) << "not a ledger";
  for (bool read_only : {false, true}) {
    StoreOptions options;
    options.read_only = read_only;
    std::unique_ptr<EventStore> store;
    Status s = EventStore::Open(dir.sub("file"), options, &store);
    CHECK(s.code() == Code::io_error);
    CHECK_MESSAGE(s.message().find("is not a directory") != std::string::npos, s.ToString());
  }
}

TEST_CASE("a corrupted WAL record of synced appends: open fails naming the file, drops nothing") {
  // RocksDB's default recovery (kPointInTimeRecovery) reopened such a ledger without the
  // corrupted record and everything after it: a shorter log, intact chain, consistent head.
  TempDir dir;
  AppendInChildAndCrash(dir.path(), 400);
  const std::string wal = LargestWal(dir.path());
  REQUIRE(!wal.empty());
  std::string bytes = ReadFile(wal);
  REQUIRE(bytes.size() > 10'000);
  for (size_t i = bytes.size() / 2; i < bytes.size() / 2 + 16; ++i) bytes[i] = static_cast<char>(~bytes[i]);
  std::ofstream(wal, std::ios::binary | std::ios::trunc) << bytes;

  for (bool read_only : {false, true}) {
    StoreOptions options;
    options.read_only = read_only;
    std::unique_ptr<EventStore> store;
    Status s = EventStore::Open(dir.path(), options, &store);
    CHECK_MESSAGE(s.code() == Code::corruption, s.ToString());
    CHECK_MESSAGE(s.message().find(std::filesystem::path(wal).filename().string() + ": dropping") !=
                      std::string::npos,
                  s.ToString());
  }
  CHECK(ReadFile(wal) == bytes);  // the log is left as it was, for recovery by hand
}

TEST_CASE("a write cut short at the end of the WAL is dropped whole, the rest is intact") {
  // What a writer killed in the middle of a write (or out of disk space) leaves: an incomplete
  // last record, never acknowledged. Reopening keeps every complete batch.
  TempDir dir;
  AppendInChildAndCrash(dir.path(), 50);
  const std::string wal = LargestWal(dir.path());
  REQUIRE(!wal.empty());
  const auto size = std::filesystem::file_size(wal);
  std::filesystem::resize_file(wal, size - 20);
  auto reader = MustOpen(dir.path(), /*read_only=*/true);
  CHECK(reader->head().position == 49);
  reader.reset();
  auto store = MustOpen(dir.path(), /*read_only=*/false);
  CHECK(store->head().position == 49);
  uint64_t checked = 0;
  Status s = store->VerifyChain(&checked);
  CHECK_MESSAGE(s.ok(), s.ToString());
  CHECK(checked == 49);
  // The lost batch is appended again by its retry, under the same idempotency key.
  AppendEvents(*store, 50, 50);
  CHECK(store->head().position == 50);
}
