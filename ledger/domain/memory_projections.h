// Projections held in memory: a ProjectionWriter that DomainProjector folds into and a ReadView
// the queries read from. Used where the log is folded outside the store: as-of views, the
// auditor's replay, and the offline check of a rights statement.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "ledger/event_store.h"

namespace shebao::domain {

// Not thread-safe. position() is what the caller says the rows reflect.
class MemoryProjections final : public ledger::ReadView, public ledger::ProjectionWriter {
 public:
  explicit MemoryProjections(uint64_t position = 0) : position_(position) {}

  uint64_t position() const override { return position_; }
  void set_position(uint64_t position) { position_ = position; }

  ledger::Status Get(std::string_view key, std::string* value, bool* found) const override {
    auto it = rows_.find(key);
    *found = it != rows_.end();
    if (*found) *value = it->second;
    return ledger::Status::OK();
  }
  ledger::Status Scan(std::string_view prefix,
                      const std::function<bool(std::string_view, std::string_view)>& visit)
      const override {
    for (auto it = rows_.lower_bound(prefix);
         it != rows_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
      if (!visit(it->first, it->second)) break;
    }
    return ledger::Status::OK();
  }

  // ProjectionWriter
  ledger::Status Get(std::string_view key, std::string* value, bool* found) override {
    return static_cast<const MemoryProjections*>(this)->Get(key, value, found);
  }
  void Put(std::string_view key, std::string_view value) override {
    rows_.insert_or_assign(std::string(key), std::string(value));
  }
  void Delete(std::string_view key) override {
    auto it = rows_.find(key);
    if (it != rows_.end()) rows_.erase(it);
  }

  // Every row, in key order.
  const std::map<std::string, std::string, std::less<>>& rows() const { return rows_; }

 private:
  uint64_t position_;
  std::map<std::string, std::string, std::less<>> rows_;
};

}  // namespace shebao::domain
