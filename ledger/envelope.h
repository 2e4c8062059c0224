// Building event envelopes. Every writer of events (domain commands, tests, benchmarks, the
// demo) goes through FinishEvent so that the store-assigned fields are always present and can
// be filled in place by the event store.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "shebao/event_generated.h"

namespace shebao::ledger {

// The views must stay valid until FinishEvent returns.
struct EnvelopeFields {
  std::string_view stream_id;
  int32_t effective_day = 0;      // days since 1970-01-01, Beijing calendar date
  int32_t effective_second = -1;  // seconds since Beijing midnight, -1 if unknown
  fb::Role role = fb::Role::unknown;
  std::string_view org_id;
  std::string_view person_id;
  fb::Channel channel = fb::Channel::unknown;
  std::string_view idempotency_key;
  std::string_view correlation_id;
  std::string_view causation_id;
};

// Finishes an Event in fbb around a payload already built in the same builder, and returns a
// copy of the finished bytes. The store-assigned fields (position, stream_version,
// recorded_us) are written as 0 and present. fbb is cleared afterwards so it can be reused.
std::string FinishEvent(flatbuffers::FlatBufferBuilder& fbb, const EnvelopeFields& envelope,
                        fb::Payload payload_type, flatbuffers::Offset<void> payload);

}  // namespace shebao::ledger
