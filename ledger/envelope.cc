#include "ledger/envelope.h"

#include "ledger/check.h"
#include "ledger/constants.h"

namespace shebao::ledger {

std::string FinishEvent(flatbuffers::FlatBufferBuilder& fbb, const EnvelopeFields& envelope,
                        fb::Payload payload_type, flatbuffers::Offset<void> payload) {
  SHEBAO_ASSERT(payload_type != fb::Payload::NONE);
  auto stream_id = fbb.CreateString(envelope.stream_id);
  auto org_id = fbb.CreateString(envelope.org_id);
  auto person_id = fbb.CreateString(envelope.person_id);
  auto actor = fb::CreateActor(fbb, envelope.role, org_id, person_id);
  auto idempotency_key = fbb.CreateString(envelope.idempotency_key);
  auto correlation_id = fbb.CreateString(envelope.correlation_id);
  auto causation_id = fbb.CreateString(envelope.causation_id);

  // Force the store-assigned scalars to be present even though they are 0 (their default),
  // so EventStore can mutate them in place.
  fbb.ForceDefaults(true);
  fb::EventBuilder event(fbb);
  event.add_schema_version(kSchemaVersion);
  event.add_position(0);
  event.add_stream_id(stream_id);
  event.add_stream_version(0);
  event.add_recorded_us(0);
  event.add_effective_day(envelope.effective_day);
  event.add_effective_second(envelope.effective_second);
  event.add_actor(actor);
  event.add_channel(envelope.channel);
  event.add_idempotency_key(idempotency_key);
  event.add_correlation_id(correlation_id);
  event.add_causation_id(causation_id);
  event.add_payload_type(payload_type);
  event.add_payload(payload);
  auto root = event.Finish();
  fbb.ForceDefaults(false);
  fb::FinishEventBuffer(fbb, root);

  std::string bytes(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  fbb.Clear();
  return bytes;
}

}  // namespace shebao::ledger
