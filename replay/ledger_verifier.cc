#include "replay/ledger_verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

#include "ledger/check.h"
#include "ledger/checked_batch_reader.h"
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
  std::optional<Finding> Apply(uint64_t position, const fb::Event& e) {
    const std::string_view stream = domain::View(e.stream_id());
    if (stream.starts_with("case/")) {
      return Step(position, e, stream, &cases_, CheckCase, domain::ApplyCaseEvent);
    }
    if (stream.starts_with("employer/")) {
      return Step(position, e, stream, &employments_, CheckEmployment,
                  domain::ApplyEmploymentEvent);
    }
    if (stream.starts_with("org/")) {
      return Step(position, e, stream, &orgs_, CheckOrg, domain::ApplyOrgEvent);
    }
    return Finding{position, std::string(stream), "stream_kind",
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
  std::optional<Finding> Step(uint64_t position, const fb::Event& e, std::string_view stream,
                              StreamMap<State>* states, Check check, Fold fold) {
    auto it = states->find(stream);
    if (it == states->end()) {
      it = states->emplace(std::string(stream), State{}).first;
      if constexpr (requires(State st) { st.stream_id; }) it->second.stream_id = stream;
    }
    State& state = it->second;
    if (e.stream_version() != state.version + 1) {
      return Finding{position, std::string(stream), "stream_version",
                     fmt::format("version {} follows version {}", e.stream_version(),
                                 state.version)};
    }
    if (domain::Rejection r = check(state, e, ctx_); !r.ok()) {
      return Finding{position, std::string(stream), "rule",
                     fmt::format("{} ({}): {}", domain::RuleName(r.rule), r.field, r.message)};
    }
    fold(&state, e, position);
    SHEBAO_ASSERT(state.version == e.stream_version());
    return std::nullopt;
  }

  domain::RuleContext ctx_;
  StreamMap<domain::CaseState> cases_;
  StreamMap<domain::EmploymentState> employments_;
  StreamMap<domain::OrgState> orgs_;
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
  // Records are checked and leaf-hashed on whichever thread is free; this thread walks them in
  // order.
  ledger::CheckedBatchReader reader(store.NewStoredRecordReader(1, total), [](auto* batch) {
    batch->digests.resize(batch->passed);
    for (size_t i = 0; i < batch->passed; ++i) batch->digests[i] = LeafHash(batch->events[i]);
  });
  while (const ledger::CheckedBatchReader::Batch* batch = reader.Next()) {
    for (size_t i = 0; i < batch->passed; ++i) {
      const uint64_t position = batch->position(i);
      SHEBAO_ASSERT(position == report->events + 1);  // the reader enforces density
      const fb::Event& e = batch->event(i);
      if (e.recorded_us() < last_recorded_us) {
        report->failure = Finding{position, std::string(domain::View(e.stream_id())),
                                  "recorded_time",
                                  fmt::format("recorded_us {} is before its predecessor's {}",
                                              e.recorded_us(), last_recorded_us)};
        return Status::OK();
      }
      last_recorded_us = e.recorded_us();
      if (auto f = options.check_rules ? domain.Apply(position, e) : std::nullopt) {
        report->failure = std::move(f);
        return Status::OK();
      }
      tree.Append(batch->digests[i]);
      if (!block_status.ok()) return block_status;
      if (block_finding) {
        report->failure = std::move(block_finding);
        return Status::OK();
      }
      while (next_checkpoint < checkpoints.size() && checkpoints[next_checkpoint].size == position) {
        const Checkpoint& c = checkpoints[next_checkpoint++];
        if (c.chain_hash != batch->chain_hash(i) || c.root != tree.Root()) {
          report->failure = Finding{
              position, "", "checkpoint",
              fmt::format("the log's first {} events no longer match the checkpoint signed at "
                          "{} ({}): an event at or before position {} was changed, removed or "
                          "reordered",
                          c.size, c.time_us,
                          c.root != tree.Root() ? "Merkle root differs" : "chain hash differs",
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
    if (batch->passed < batch->records.size()) {
      SHEBAO_ASSERT(batch->failure.code() == Code::corruption);
      const std::string& message = batch->failure.message();
      report->failure = Finding{report->events + 1, "", CheckOfCursorError(message), message};
      return Status::OK();
    }
  }
  if (Status cs = reader.status(); !cs.ok()) {
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
