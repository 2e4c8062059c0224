#include "replay/row_json.h"

#include <flatbuffers/idl.h>
#include <flatbuffers/reflection.h>

#include <array>
#include <mutex>

#include "ledger/check.h"
#include "ledger/domain/projection_rows.h"
#include "ledger/sha256.h"
#include "shebao/projections_bfbs_generated.h"

namespace shebao::replay {
namespace {

struct RowType {
  char kind;
  const char* table;
};
constexpr std::array<RowType, 5> kRowTypes = {{{'C', "shebao.fb.CaseRow"},
                                               {'P', "shebao.fb.PaymentRow"},
                                               {'Q', "shebao.fb.QueueRow"},
                                               {'E', "shebao.fb.EmploymentRow"},
                                               {'O', "shebao.fb.OrgRow"}}};

// One parser per row table, its root type set to that table. Built once, then only read.
const flatbuffers::Parser* ParserFor(char kind) {
  static const std::array<flatbuffers::Parser*, kRowTypes.size()> parsers = [] {
    std::array<flatbuffers::Parser*, kRowTypes.size()> out{};
    for (size_t i = 0; i < kRowTypes.size(); ++i) {
      flatbuffers::IDLOptions opts;
      opts.strict_json = true;
      opts.natural_utf8 = true;
      opts.indent_step = -1;
      opts.output_default_scalars_in_json = true;
      auto* p = new flatbuffers::Parser(opts);
      SHEBAO_ASSERT(p->Deserialize(fb::CaseRowBinarySchema::data(),
                                   fb::CaseRowBinarySchema::size()));
      SHEBAO_ASSERT(p->SetRootType(kRowTypes[i].table));
      out[i] = p;
    }
    return out;
  }();
  for (size_t i = 0; i < kRowTypes.size(); ++i) {
    if (kRowTypes[i].kind == kind) return parsers[i];
  }
  return nullptr;
}

const reflection::Object* ObjectFor(char kind) {
  const auto* schema = reflection::GetSchema(fb::CaseRowBinarySchema::data());
  for (const auto& t : kRowTypes) {
    if (t.kind == kind) return schema->objects()->LookupByKey(t.table);
  }
  return nullptr;
}

}  // namespace

std::string RowToJson(std::string_view key, std::string_view value) {
  const char kind = domain::RowFamily(key);
  const flatbuffers::Parser* parser = ParserFor(kind);
  const reflection::Object* object = ObjectFor(kind);
  const auto* data = reinterpret_cast<const uint8_t*>(value.data());
  if (parser != nullptr && object != nullptr &&
      flatbuffers::Verify(*reflection::GetSchema(fb::CaseRowBinarySchema::data()), *object, data,
                          value.size())) {
    std::string json;
    if (flatbuffers::GenerateText(*parser, data, &json)) {
      while (!json.empty() && (json.back() == '\n' || json.back() == ' ')) json.pop_back();
      return json;
    }
  }
  return "{\"undecodable_hex\":\"" +
         ledger::HexEncode(reinterpret_cast<const uint8_t*>(value.data()), value.size()) + "\"}";
}

}  // namespace shebao::replay
