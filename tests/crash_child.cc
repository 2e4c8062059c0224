// crash_child <ledger_dir> <cycle> <fd>
//
// The victim of tests/crash_test.cc. Opens the ledger with the default (synced) options and
// appends batches of 1..8 events forever. After each Append that returns OK it writes one line
//   "<last_position> <hex chain hash of the batch's last event>\n"
// to fd with a single write(2): that line is the acknowledgement the parent holds the store to
// after it kills this process with SIGKILL. Exits non-zero with a message on stderr on any error.
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>

#include <fmt/format.h>

#include "ledger/envelope.h"
#include "ledger/event_store.h"
#include "shebao/event_generated.h"

namespace {

using shebao::ledger::AppendBatch;
using shebao::ledger::AppendResult;
using shebao::ledger::EventStore;
using shebao::ledger::ExpectedVersion;
using shebao::ledger::Head;
using shebao::ledger::Status;
using shebao::ledger::StoreOptions;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "crash_child: %s\n", message.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

// A PremiumCollected event; its content is a deterministic function of (cycle, batch, index).
std::string MakeEvent(const std::string& stream, const std::string& key, uint64_t cycle,
                      uint64_t batch, uint64_t index) {
  flatbuffers::FlatBufferBuilder fbb(512);
  const auto amount = static_cast<int64_t>(cycle * 1'000'000'000ULL + batch * 16 + index);
  const std::string bank_ref = fmt::format("CRASH-{}-{}-{}", cycle, batch, index);
  auto payload = shebao::fb::CreatePremiumCollectedDirect(
      fbb, "case/2026/110105201503010010", "110105201503010010", 2026,
      shebao::fb::PayerKind::guardian, amount, "102100099996", bank_ref.c_str(), 1,
      "11010519491231002X");
  shebao::ledger::EnvelopeFields env;
  env.stream_id = stream;
  env.effective_day = 20'440;
  env.effective_second = 10 * 3600;
  env.role = shebao::fb::Role::bank;
  env.org_id = "102100099996";
  env.person_id = "teller-0042";
  env.channel = shebao::fb::Channel::bank;
  env.idempotency_key = key;
  env.correlation_id = "case/2026/110105201503010010";
  env.causation_id = "cmd:crash-child";
  return shebao::ledger::FinishEvent(fbb, env, shebao::fb::Payload::PremiumCollected,
                                     payload.Union());
}

// Writes all of line with one write(2) (lines are far below PIPE_BUF, so a pipe write is atomic).
void WriteLine(int fd, const std::string& line) {
  for (;;) {
    ssize_t n = ::write(fd, line.data(), line.size());
    if (n == static_cast<ssize_t>(line.size())) return;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Die(fmt::format("write to fd {}: {}", fd, std::strerror(errno)));
    Die(fmt::format("short write to fd {}: {} of {} bytes", fd, n, line.size()));
  }
}

uint64_t ParseNumber(const char* text, const char* what) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') Die(fmt::format("bad {}: '{}'", what, text));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: crash_child <ledger_dir> <cycle> <fd>\n");
    return 2;
  }
  const std::string dir = argv[1];
  const uint64_t cycle = ParseNumber(argv[2], "cycle");
  const int fd = static_cast<int>(ParseNumber(argv[3], "fd"));

  StoreOptions options;  // sync = true, create_if_missing = true
  std::unique_ptr<EventStore> store;
  Status st = EventStore::Open(dir, options, &store);
  if (!st.ok()) Die(fmt::format("open {}: {}", dir, st.ToString()));

  constexpr uint64_t kStreams = 5;
  uint64_t previous_last = store->head().position;
  for (uint64_t n = 0;; ++n) {
    // Deterministic shape: 1..8 events over a few streams.
    const uint64_t mix = (cycle * 0x9E3779B97F4A7C15ULL) ^ (n * 0xBF58476D1CE4E5B9ULL);
    const uint64_t count = 1 + (mix >> 29) % 8;
    AppendBatch batch;
    batch.idempotency_key = fmt::format("c{}-b{}", cycle, n);
    std::set<std::string> streams;
    for (uint64_t i = 0; i < count; ++i) {
      const std::string stream = fmt::format("s/{}", (n + i * ((mix >> 7) % 3)) % kStreams);
      streams.insert(stream);
      batch.events.push_back(MakeEvent(stream, batch.idempotency_key, cycle, n, i));
    }
    for (const auto& s : streams) batch.expectations.push_back({s, ExpectedVersion::Any()});

    AppendResult result;
    st = store->Append(batch, &result);
    if (!st.ok()) Die(fmt::format("append {}: {}", batch.idempotency_key, st.ToString()));
    if (result.duplicate) Die(fmt::format("append {}: unexpected duplicate", batch.idempotency_key));
    if (result.first_position != previous_last + 1 ||
        result.last_position != result.first_position + count - 1) {
      Die(fmt::format("append {}: positions {}..{} after {} for {} events",
                      batch.idempotency_key, result.first_position, result.last_position,
                      previous_last, count));
    }
    // Single-threaded: the head right after Append is this batch's last event.
    const Head head = store->head();
    if (head.position != result.last_position) {
      Die(fmt::format("append {}: head {} != last_position {}", batch.idempotency_key,
                      head.position, result.last_position));
    }
    previous_last = result.last_position;
    WriteLine(fd, fmt::format("{} {}\n", result.last_position,
                              shebao::ledger::HexEncode(head.hash)));
  }
}
