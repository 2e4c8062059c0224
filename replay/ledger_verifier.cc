#include "replay/ledger_verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "ledger/check.h"
#include "ledger/domain/case_rules.h"
#include "ledger/domain/case_state.h"
#include "ledger/domain/employer.h"
#include "ledger/domain/fb_strings.h"
#include "replay/log_tree.h"
#include "replay/merkle.h"

namespace shebao::replay {
namespace {

using ledger::Code;
using ledger::Status;

constexpr uint64_t kProgressEvents = 1 << 16;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};
template <typename V>
using StreamMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// The state of every stream, folded with the domain's own Apply functions.
class DomainChecker {
 public:
  DomainChecker(const domain::PremiumTable* premiums, const domain::WorkingDayCalendar* calendar) {
    ctx_.premiums = premiums;
    ctx_.calendar = calendar;
    ctx_.pilot_uscc_accepted = [this](std::string_view uscc) {
      auto it = orgs_.find(domain::OrgStreamId(uscc));
      return it != orgs_.end() && it->second.pilot_uscc_accepted;
    };
  }

  size_t streams() const { return cases_.size() + employments_.size() + orgs_.size(); }

  // Checks and folds one event; returns the finding if it breaks a rule.
  std::optional<Finding> Apply(const ledger::RecordedEvent& re) {
    const fb::Event& e = *re.event();
    const std::string_view stream = domain::View(e.stream_id());
    if (stream.starts_with("case/")) return Step(re, stream, &cases_, CheckCase, domain::ApplyCaseEvent);
    if (stream.starts_with("employer/")) {
      return Step(re, stream, &employments_, CheckEmployment, domain::ApplyEmploymentEvent);
    }
    if (stream.starts_with("org/")) return Step(re, stream, &orgs_, CheckOrg, domain::ApplyOrgEvent);
    return Finding{re.position, std::string(stream), "stream_kind",
                   "a stream that is neither case/, employer/ nor org/"};
  }

 private:
  static domain::Rejection CheckCase(const domain::CaseState& s, const fb::Event& e,
                                     const domain::RuleContext& ctx) {
    return domain::CheckCaseEvent(s, e, ctx);
  }
  static domain::Rejection CheckEmployment(const domain::EmploymentState& s, const fb::Event& e,
                                           const domain::RuleContext& ctx) {
    return domain::CheckEmploymentEvent(s, e, ctx);
  }
  static domain::Rejection CheckOrg(const domain::OrgState& s, const fb::Event& e,
                                    const domain::RuleContext&) {
    return domain::CheckOrgEvent(s, e);
  }

  template <typename State, typename Check, typename Fold>
  std::optional<Finding> Step(const ledger::RecordedEvent& re, std::string_view stream,
                              StreamMap<State>* states, Check check, Fold fold) {
    const fb::Event& e = *re.event();
    auto it = states->find(stream);
    if (it == states->end()) {
      it = states->emplace(std::string(stream), State{}).first;
      if constexpr (requires(State st) { st.stream_id; }) it->second.stream_id = stream;
    }
    State& state = it->second;
    if (e.stream_version() != state.version + 1) {
      return Finding{re.position, std::string(stream), "stream_version",
                     fmt::format("version {} follows version {}", e.stream_version(),
                                 state.version)};
    }
    if (domain::Rejection r = check(state, e, ctx_); !r.ok()) {
      return Finding{re.position, std::string(stream), "rule",
                     fmt::format("{} ({}): {}", domain::RuleName(r.rule), r.field, r.message)};
    }
    fold(&state, e, re.position);
    SHEBAO_ASSERT(state.version == e.stream_version());
    return std::nullopt;
  }

  domain::RuleContext ctx_;
  StreamMap<domain::CaseState> cases_;
  StreamMap<domain::EmploymentState> employments_;
  StreamMap<domain::OrgState> orgs_;
};

// Reads the log on its own thread (RocksDB reads, FlatBuffers verification and the hash chain
// check, all inside the cursor) and hands the verified events over in batches, so that the
// Merkle hashing and the domain rules run beside it on the other core.
class CursorPump {
 public:
  explicit CursorPump(const ledger::EventStore& store)
      : cursor_(store.NewCursor(1)), thread_([this] { Run(); }) {}
  ~CursorPump() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    changed_.notify_all();
    thread_.join();
  }
  CursorPump(const CursorPump&) = delete;
  CursorPump& operator=(const CursorPump&) = delete;

  // Replaces *batch with the next events; false at the end of the log or after a cursor error
  // (then status() says which). The previous contents of *batch go back to the reader, whose
  // next batch reuses their strings (no allocation per event).
  bool Next(std::vector<ledger::RecordedEvent>* batch) {
    std::unique_lock lock(mu_);
    if (!batch->empty() && free_.size() < ledger::kVerifyBatchesInFlight) {
      free_.push_back(std::move(*batch));
    }
    batch->clear();
    changed_.wait(lock, [&] { return !full_.empty() || done_; });
    if (full_.empty()) return false;
    *batch = std::move(full_.front());
    full_.pop_front();
    changed_.notify_all();
    return true;
  }
  // REQUIRES: Next returned false.
  Status status() {
    std::lock_guard lock(mu_);
    SHEBAO_ASSERT(done_);
    return status_;
  }

 private:
  void Run() {
    std::vector<ledger::RecordedEvent> batch(ledger::kVerifyBatchEvents);
    size_t n = 0;
    for (; cursor_->Valid(); cursor_->Next()) {
      batch[n++] = cursor_->event();  // copy-assignment: reuses the recycled strings
      if (n < ledger::kVerifyBatchEvents) continue;
      if (!Hand(&batch)) return;
      n = 0;
    }
    batch.resize(n);
    if (n > 0 && !Hand(&batch)) return;
    std::lock_guard lock(mu_);
    status_ = cursor_->status();
    done_ = true;
    changed_.notify_all();
  }
  // False if the consumer stopped.
  bool Hand(std::vector<ledger::RecordedEvent>* batch) {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return full_.size() < ledger::kVerifyBatchesInFlight || stop_; });
    if (stop_) {
      done_ = true;
      return false;
    }
    full_.push_back(std::move(*batch));
    changed_.notify_all();
    if (!free_.empty()) {
      *batch = std::move(free_.back());
      free_.pop_back();
    } else {
      batch->clear();
    }
    batch->resize(ledger::kVerifyBatchEvents);
    return true;
  }

  std::unique_ptr<ledger::LogCursor> cursor_;  // used by the thread only
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::vector<ledger::RecordedEvent>> full_;  // guarded by mu_
  std::vector<std::vector<ledger::RecordedEvent>> free_;  // checked batches; guarded by mu_
  bool stop_ = false;                                    // guarded by mu_
  bool done_ = false;                                    // guarded by mu_
  Status status_;                                        // guarded by mu_
  std::thread thread_;  // last: starts once everything above is constructed
};

// Which check a cursor's corruption message is about.
std::string CheckOfCursorError(const std::string& message) {
  if (message.find("chain hash") != std::string::npos) return "chain";
  if (message.find("FlatBuffer") != std::string::npos) return "flatbuffer";
  return "position";
}

}  // namespace

Status VerifyLedger(const ledger::EventStore& store, const VerifyOptions& options,
                    VerifyReport* report) {
  SHEBAO_ASSERT(options.premiums != nullptr && options.calendar != nullptr);
  *report = VerifyReport{};
  report->head = store.head();
  const uint64_t total = report->head.position;

  // Checkpoints by size: recorded ones and the auditor's own.
  std::vector<Checkpoint> checkpoints;
  Status s = LoadCheckpoints(store, &checkpoints);
  if (!s.ok()) return s;
  checkpoints.insert(checkpoints.end(), options.external_checkpoints.begin(),
                     options.external_checkpoints.end());
  std::sort(checkpoints.begin(), checkpoints.end(),
            [](const auto& a, const auto& b) { return a.size < b.size; });
  for (const auto& c : checkpoints) {
    if (options.trusted_key != nullptr) {
      if (Status v = VerifyCheckpointSignature(c, *options.trusted_key); !v.ok()) {
        report->failure = Finding{0, "", "checkpoint", v.message()};
        return Status::OK();
      }
    }
    if (c.size > total) {
      report->failure = Finding{
          0, "", "checkpoint",
          fmt::format("a checkpoint covers {} events but the log has {}: events were removed",
                      c.size, total)};
      return Status::OK();
    }
  }

  uint64_t recorded_blocks = 0;
  s = RecordedBlocks(store, &recorded_blocks);
  if (!s.ok()) return s;
  Status block_status;
  std::optional<Finding> block_finding;
  MerkleRangeBuilder tree(ledger::kMerkleBlockLevel, [&](uint64_t index, const Hash256& root) {
    if (index >= recorded_blocks || block_finding || !block_status.ok()) return;
    std::string value;
    bool found = false;
    block_status = store.GetAuditRecord(BlockRecordKey(index), &value, &found);
    if (!block_status.ok()) return;
    if (!found || value.size() != root.size() || std::memcmp(value.data(), root.data(), root.size()) != 0) {
      block_finding = Finding{(index + 1) * ledger::kMerkleBlockLeaves, "", "merkle_block",
                              fmt::format("recorded root of Merkle block {} differs from its "
                                          "events",
                                          index)};
      return;
    }
    ++report->merkle_blocks;
  });

  DomainChecker domain(options.premiums, options.calendar);
  size_t next_checkpoint = 0;
  int64_t last_recorded_us = 0;
  CursorPump pump(store);
  std::vector<ledger::RecordedEvent> batch;
  while (pump.Next(&batch)) {
   for (const ledger::RecordedEvent& re : batch) {
    const fb::Event& e = *re.event();
    SHEBAO_ASSERT(re.position == report->events + 1);  // the cursor enforces density
    if (e.recorded_us() < last_recorded_us) {
      report->failure = Finding{re.position, std::string(domain::View(e.stream_id())),
                                "recorded_time",
                                fmt::format("recorded_us {} is before its predecessor's {}",
                                            e.recorded_us(), last_recorded_us)};
      return Status::OK();
    }
    last_recorded_us = e.recorded_us();
    if (auto f = options.check_rules ? domain.Apply(re) : std::nullopt) {
      report->failure = std::move(f);
      return Status::OK();
    }
    tree.Append(LeafHash(re.bytes));
    if (!block_status.ok()) return block_status;
    if (block_finding) {
      report->failure = std::move(block_finding);
      return Status::OK();
    }
    while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].size == re.position) {
      const Checkpoint& c = checkpoints[next_checkpoint++];
      if (c.chain_hash != re.hash || c.root != tree.Root()) {
        report->failure = Finding{
            re.position, "", "checkpoint",
            fmt::format("the log's first {} events no longer match the checkpoint signed at {} "
                        "({}): an event at or before position {} was changed, removed or "
                        "reordered",
                        c.size, c.time_us, c.root != tree.Root() ? "Merkle root differs"
                                                                  : "chain hash differs",
                        c.size)};
        return Status::OK();
      }
      ++report->checkpoints;
      if (options.trusted_key != nullptr) ++report->signatures;
    }
    ++report->events;
    if (options.progress && report->events % kProgressEvents == 0) {
      options.progress(report->events, total);
    }
   }
  }
  if (Status cs = pump.status(); !cs.ok()) {
    if (cs.code() != Code::corruption) return cs;
    report->failure = Finding{report->events + 1, "", CheckOfCursorError(cs.message()), cs.message()};
    return Status::OK();
  }
  if (report->events != total) {
    report->failure = Finding{report->events + 1, "", "head",
                              fmt::format("the head names position {} but the log ends at {}",
                                          total, report->events)};
    return Status::OK();
  }
  report->streams = domain.streams();
  report->root = tree.Root();
  if (options.progress) options.progress(report->events, total);
  return Status::OK();
}

}  // namespace shebao::replay
