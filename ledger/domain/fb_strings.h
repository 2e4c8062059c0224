// Reading optional FlatBuffers strings: an absent string reads as empty.
#pragma once

#include <string>
#include <string_view>

#include <flatbuffers/flatbuffers.h>

namespace shebao::domain {

inline std::string_view View(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : s->string_view();
}

inline std::string Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

}  // namespace shebao::domain
