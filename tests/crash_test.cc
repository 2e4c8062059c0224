// Crash test: a child process (tests/crash_child.cc) appends synced batches to one ledger and
// acknowledges each one on a pipe; the parent kills it with SIGKILL at a random moment, reopens
// the ledger and checks that every acknowledged event is there, unchanged, on an intact chain.
// Rerun a failure with SHEBAO_SEED=<seed printed by the test>.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/event_store.h"
#include "ledger/sha256.h"
#include "tests/test_util.h"

extern char** environ;

namespace {

using shebao::ledger::Code;
using shebao::ledger::EventStore;
using shebao::ledger::HexEncode;
using shebao::ledger::Status;
using shebao::ledger::StoreOptions;
using Clock = std::chrono::steady_clock;

struct Ack {
  uint64_t position = 0;
  std::string hash_hex;
};

// Reads acknowledgement lines from the read end of the pipe (non-blocking).
class AckReader {
 public:
  explicit AckReader(int fd) : fd_(fd) {}

  // Reads whatever arrives until deadline, EOF, or (if stop_at_first) the first complete line.
  void Pump(Clock::time_point deadline, bool stop_at_first = false) {
    while (!eof_ && error_.empty()) {
      if (stop_at_first && !acks_.empty()) return;
      const auto now = Clock::now();
      if (now >= deadline) return;
      const auto left = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - now);
      timespec ts{static_cast<time_t>(left.count() / 1'000'000'000),
                  static_cast<long>(left.count() % 1'000'000'000)};
      pollfd p{fd_, POLLIN, 0};
      int r = ::ppoll(&p, 1, &ts, nullptr);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        error_ = std::string("poll: ") + std::strerror(errno);
        return;
      }
      if (r == 0) return;  // deadline
      ReadAvailable();
    }
  }

  bool eof() const { return eof_; }
  const std::string& error() const { return error_; }
  const std::vector<Ack>& acks() const { return acks_; }
  // Bytes after the last newline (a torn line; must be empty at EOF).
  const std::string& partial() const { return buffer_; }

 private:
  void ReadAvailable() {
    char chunk[65536];
    for (;;) {
      ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        ParseLines();
        continue;
      }
      if (n == 0) {
        eof_ = true;
        return;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      error_ = std::string("read: ") + std::strerror(errno);
      return;
    }
  }

  void ParseLines() {
    size_t start = 0;
    for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string line = buffer_.substr(start, nl - start);
      const size_t sp = line.find(' ');
      Ack ack;
      char* end = nullptr;
      if (sp != std::string::npos) ack.position = std::strtoull(line.c_str(), &end, 10);
      if (sp == std::string::npos || end != line.c_str() + sp || ack.position == 0 ||
          line.size() - sp - 1 != 64 ||
          line.find_first_not_of("0123456789abcdef", sp + 1) != std::string::npos) {
        if (error_.empty()) error_ = "malformed acknowledgement line '" + line + "'";
        continue;
      }
      ack.hash_hex = line.substr(sp + 1);
      acks_.push_back(std::move(ack));
    }
    buffer_.erase(0, start);
  }

  int fd_;
  std::string buffer_;
  std::vector<Ack> acks_;
  bool eof_ = false;
  std::string error_;
};

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
           strsignal(WTERMSIG(status)) + ")";
  }
  return "wait status " + std::to_string(status);
}

std::string ReadFileText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

uint64_t SeedFromEnvironment() {
  if (const char* s = std::getenv("SHEBAO_SEED"); s != nullptr && *s != '\0') {
    return std::strtoull(s, nullptr, 0);
  }
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

struct Child {
  pid_t pid = -1;
  int read_fd = -1;
};

// Spawns crash_child with the write end of a fresh pipe. posix_spawn: the parent's RocksDB
// background threads never run anything in the child before exec.
Child SpawnChild(const std::string& dir, int cycle, const std::string& stderr_path) {
  int fds[2];
  REQUIRE_MESSAGE(::pipe2(fds, O_CLOEXEC) == 0, "pipe2: " << std::strerror(errno));
  // The write end is inherited by the child; the read end stays with the parent only.
  REQUIRE(::fcntl(fds[1], F_SETFD, 0) == 0);
  REQUIRE(::fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);

  posix_spawn_file_actions_t actions;
  REQUIRE(posix_spawn_file_actions_init(&actions) == 0);
  REQUIRE(posix_spawn_file_actions_addclose(&actions, fds[0]) == 0);
  REQUIRE(posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                           O_WRONLY | O_CREAT | O_TRUNC, 0644) == 0);
  REQUIRE(posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO) == 0);

  std::string exe = SHEBAO_CRASH_CHILD;
  std::string cycle_arg = std::to_string(cycle);
  std::string fd_arg = std::to_string(fds[1]);
  std::vector<char*> argv = {exe.data(), const_cast<char*>(dir.c_str()), cycle_arg.data(),
                             fd_arg.data(), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);  // only the child may hold the write end, so its death means EOF here
  if (rc != 0) ::close(fds[0]);
  REQUIRE_MESSAGE(rc == 0, "posix_spawn " << exe << ": " << std::strerror(rc));
  return Child{pid, fds[0]};
}

}  // namespace

TEST_CASE("crash: SIGKILL at random moments loses no acknowledged event") {
  const uint64_t seed = SeedFromEnvironment();
  std::printf("crash_test: seed=%llu (rerun with SHEBAO_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  MESSAGE("seed " << seed);
  std::mt19937_64 rng(seed);

  constexpr int kCycles = 60;
  const auto test_start = Clock::now();
  shebao::testing::TempDir tmp("crash");
  const std::string dir = tmp.sub("ledger");

  std::map<uint64_t, std::string> acked;  // position -> chain hash (hex), over all cycles
  uint64_t head_before = 0;               // verified head after the previous cycle
  uint64_t acked_events = 0;
  int kill_cycles = 0;
  int early_kills = 0;
  int lock_checks = 0;

  for (int cycle = 0; cycle < kCycles; ++cycle) {
    INFO("cycle " << cycle << ", seed " << seed << " (SHEBAO_SEED=" << seed << ")");
    const std::string stderr_path = tmp.sub("child-" + std::to_string(cycle) + ".err");
    // Mostly kill 5..60 ms after the first acknowledgement; sometimes kill blindly 0..40 ms
    // after the spawn, which can land inside Open (WAL recovery, flush, manifest write).
    const bool early = cycle > 0 && rng() % 8 == 0;
    const auto delay = std::chrono::milliseconds(
        early ? std::uniform_int_distribution<int>(0, 40)(rng)
              : std::uniform_int_distribution<int>(5, 60)(rng));
    const bool check_lock = !early && rng() % 4 == 0;

    const auto spawn_time = Clock::now();
    Child child = SpawnChild(dir, cycle, stderr_path);
    AckReader reader(child.read_fd);

    auto fail_child = [&](const std::string& what) {
      // Reap the child (killing it if still alive) and report how it ended.
      ::kill(child.pid, SIGKILL);
      int status = 0;
      ::waitpid(child.pid, &status, 0);
      ::close(child.read_fd);
      FAIL(what << "; child " << DescribeWaitStatus(status) << "; stderr:\n"
                << ReadFileText(stderr_path));
    };

    if (early) {
      reader.Pump(spawn_time + delay);
      ++early_kills;
    } else {
      reader.Pump(spawn_time + std::chrono::seconds(20), /*stop_at_first=*/true);
      if (reader.acks().empty()) {
        fail_child(reader.eof() ? "child died before its first acknowledgement"
                                : (reader.error().empty() ? "no acknowledgement within 20 s"
                                                          : reader.error()));
      }
      const auto first_ack = Clock::now();
      if (check_lock) {
        // While the child holds the ledger, a second Open must fail with ledger_locked.
        std::unique_ptr<EventStore> intruder;
        Status st = EventStore::Open(dir, StoreOptions{}, &intruder);
        ++lock_checks;
        CHECK_MESSAGE(st.code() == Code::ledger_locked,
                      "Open while the child holds the ledger returned " << st.ToString());
        intruder.reset();
      }
      reader.Pump(first_ack + delay);
    }
    if (reader.eof()) fail_child("child died before it was killed");
    if (!reader.error().empty()) fail_child(reader.error());

    REQUIRE(::kill(child.pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(::waitpid(child.pid, &status, 0) == child.pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      ::close(child.read_fd);
      FAIL("child was not ended by our SIGKILL: " << DescribeWaitStatus(status) << "; stderr:\n"
                                                  << ReadFileText(stderr_path));
    }
    ++kill_cycles;
    // Lines still in the pipe were acknowledged before the kill too.
    reader.Pump(Clock::now() + std::chrono::seconds(5));
    ::close(child.read_fd);
    REQUIRE_MESSAGE(reader.eof(), "pipe not at EOF after the child was reaped");
    REQUIRE_MESSAGE(reader.error().empty(), reader.error());
    REQUIRE_MESSAGE(reader.partial().empty(), "torn acknowledgement line '" << reader.partial()
                                                                            << "'");

    // Acknowledgements of one cycle: consecutive batches of 1..8 events starting right after
    // the head the previous cycle left (the child appends from the head it opened).
    uint64_t previous = head_before;
    for (const Ack& ack : reader.acks()) {
      INFO("acknowledged position " << ack.position << " after " << previous);
      CHECK_MESSAGE(ack.position > previous, "positions went backwards");
      CHECK_MESSAGE(ack.position <= previous + 8, "batch larger than 8 events or a gap");
      CHECK(acked.emplace(ack.position, ack.hash_hex).second);
      previous = ack.position;
    }
    acked_events += previous - head_before;

    // Reopen: the lock must be released by the dead child, and the ledger must be intact.
    std::unique_ptr<EventStore> store;
    Status st = EventStore::Open(dir, StoreOptions{}, &store);
    REQUIRE_MESSAGE(st.code() != Code::ledger_locked,
                    "lock not released after SIGKILL: " << st.ToString());
    REQUIRE_MESSAGE(st.ok(), "reopen after kill: " << st.ToString());
    const auto head = store->head();
    INFO("head " << head.position << ", previous head " << head_before);

    uint64_t checked = 0;
    st = store->VerifyChain(&checked);
    CHECK_MESSAGE(st.ok(), "VerifyChain: " << st.ToString());
    CHECK_MESSAGE(checked == head.position, "VerifyChain checked " << checked << " events");
    CHECK_MESSAGE(head.position >= head_before, "head went backwards");
    if (!acked.empty()) {
      CHECK_MESSAGE(head.position >= acked.rbegin()->first,
                    "acknowledged position " << acked.rbegin()->first << " lost");
    }

    // Every acknowledged (position, chain hash) of every cycle so far, in one cursor pass.
    if (!acked.empty()) {
      auto cursor = store->NewCursor(acked.begin()->first);
      auto it = acked.begin();
      for (; cursor->Valid() && it != acked.end(); cursor->Next()) {
        const auto& e = cursor->event();
        if (e.position < it->first) continue;
        REQUIRE(e.position == it->first);
        REQUIRE_MESSAGE(HexEncode(e.hash) == it->second,
                        "position " << it->first << " has chain hash " << HexEncode(e.hash)
                                    << ", acknowledged " << it->second);
        ++it;
      }
      CHECK_MESSAGE(cursor->status().ok(), "cursor: " << cursor->status().ToString());
      CHECK_MESSAGE(it == acked.end(),
                    "acknowledged position " << (it == acked.end() ? 0 : it->first)
                                             << " not found in the log");
    }
    head_before = head.position;
    store.reset();  // release the lock for the next child
    if (cycle % 10 == 9) {
      std::printf("crash_test: cycle %d head=%llu acked_positions=%zu\n", cycle,
                  static_cast<unsigned long long>(head_before), acked.size());
      std::fflush(stdout);
    }
  }

  const double seconds = std::chrono::duration<double>(Clock::now() - test_start).count();
  std::printf("crash_test: seed=%llu kill_cycles=%d (early=%d) lock_checks=%d acked_batches=%zu "
              "acked_events=%llu head=%llu elapsed=%.1fs\n",
              static_cast<unsigned long long>(seed), kill_cycles, early_kills, lock_checks,
              acked.size(), static_cast<unsigned long long>(acked_events),
              static_cast<unsigned long long>(head_before), seconds);
  std::fflush(stdout);
  CHECK_MESSAGE(kill_cycles >= 50, "only " << kill_cycles << " kill cycles ran");
  CHECK_MESSAGE(acked_events > 0, "no event was ever acknowledged");
  CHECK(head_before >= acked_events);
}
