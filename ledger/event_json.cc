#include "ledger/event_json.h"

#include <flatbuffers/idl.h>

#include "ledger/check.h"
#include "shebao/event_bfbs_generated.h"

namespace shebao::ledger {
namespace {

const flatbuffers::Parser& SchemaParser() {
  static const flatbuffers::Parser* parser = [] {
    flatbuffers::IDLOptions opts;
    opts.strict_json = true;
    opts.natural_utf8 = true;
    opts.indent_step = -1;  // one line
    opts.output_default_scalars_in_json = true;
    auto* p = new flatbuffers::Parser(opts);
    SHEBAO_ASSERT(p->Deserialize(fb::EventBinarySchema::data(), fb::EventBinarySchema::size()));
    return p;
  }();
  return *parser;
}

}  // namespace

Status EventToJson(std::string_view bytes, std::string* json) {
  json->clear();
  if (!flatbuffers::GenerateText(SchemaParser(), bytes.data(), json)) {
    return Status(Code::event_undecodable, "the event could not be rendered as JSON");
  }
  while (!json->empty() && (json->back() == '\n' || json->back() == ' ')) json->pop_back();
  return Status::OK();
}

}  // namespace shebao::ledger
