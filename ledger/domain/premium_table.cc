#include "ledger/domain/premium_table.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "ledger/domain/ids.h"
#include "ledger/domain/read_file.h"

namespace shebao::domain {

namespace fs = std::filesystem;
using ledger::Code;
using ledger::Status;

namespace {

Status Invalid(const std::string& file, const std::string& field, std::string_view what) {
  return Status(Code::invalid_argument, fmt::format("{}: {}: {}", file, field, what));
}

// Reads the integer field `key` of `rate` into *out, within lo..hi.
Status ReadInt(const std::string& file, const std::string& at, simdjson::dom::object rate,
               const char* key, int64_t lo, int64_t hi, int64_t* out) {
  const std::string field = fmt::format("{}.{}", at, key);
  simdjson::dom::element value;
  if (rate.at_key(key).get(value)) return Invalid(file, field, "missing");
  if (value.get_int64().get(*out)) return Invalid(file, field, "not an integer");
  if (*out < lo || *out > hi) {
    return Invalid(file, field, fmt::format("{} is outside {}..{}", *out, lo, hi));
  }
  return Status::OK();
}

Status ParseRate(const std::string& file, size_t index, simdjson::dom::element element,
                 int* year, PremiumTable::Rate* rate) {
  const std::string at = fmt::format("rates[{}]", index);
  simdjson::dom::object object;
  if (element.get_object().get(object)) return Invalid(file, at, "not an object");
  for (auto [key, value] : object) {
    if (key != "region" && key != "coverage_year" && key != "individual_fen" &&
        key != "subsidy_fen" && key != "certificate_fee_fen" && key != "source") {
      return Invalid(file, fmt::format("{}.{}", at, key), "unknown field");
    }
  }
  simdjson::dom::element value;
  std::string_view text;
  if (object.at_key("region").get(value)) return Invalid(file, at + ".region", "missing");
  if (value.get_string().get(text)) return Invalid(file, at + ".region", "not a string");
  if (CheckDivisionCode(text) != Rule::ok) {
    return Invalid(file, at + ".region", "not a 6-digit division code");
  }
  rate->region = std::string(text);
  int64_t number = 0;
  if (Status s = ReadInt(file, at, object, "coverage_year", kPremiumYearMin, kPremiumYearMax,
                         &number);
      !s.ok()) {
    return s;
  }
  *year = static_cast<int>(number);
  constexpr int64_t kMax = kPremiumAmountFenLimit - 1;
  if (Status s = ReadInt(file, at, object, "individual_fen", 0, kMax, &rate->individual_fen);
      !s.ok()) {
    return s;
  }
  if (Status s = ReadInt(file, at, object, "subsidy_fen", 0, kMax, &rate->subsidy_fen); !s.ok()) {
    return s;
  }
  if (Status s = ReadInt(file, at, object, "certificate_fee_fen", 0, kMax,
                         &rate->certificate_fee_fen);
      !s.ok()) {
    return s;
  }
  rate->source.clear();
  if (!object.at_key("source").get(value)) {
    if (value.get_string().get(text)) return Invalid(file, at + ".source", "not a string");
    rate->source = std::string(text);
  }
  return Status::OK();
}

}  // namespace

Status PremiumTable::Load(const std::string& path, PremiumTable* out) {
  const std::string file = fs::path(path).filename().string();
  std::string data;
  if (Status s = ReadSmallFile(path, file, kPremiumFileBytesMax, &data); !s.ok()) return s;

  simdjson::dom::parser parser;
  const simdjson::padded_string json(data);
  simdjson::dom::element root;
  if (auto err = parser.parse(json).get(root); err) {
    return Status(Code::invalid_argument,
                  fmt::format("{}: not valid JSON: {}", file, simdjson::error_message(err)));
  }
  simdjson::dom::object top;
  if (root.get_object().get(top)) return Invalid(file, "(top)", "not an object");

  PremiumTable table;
  simdjson::dom::element value;
  std::string_view text;
  if (top.at_key("version").get(value)) return Invalid(file, "version", "missing");
  if (value.get_string().get(text)) return Invalid(file, "version", "not a string");
  if (text.empty() || text.size() > kPremiumVersionBytesMax) {
    return Invalid(file, "version",
                   fmt::format("must be 1..{} bytes", kPremiumVersionBytesMax));
  }
  table.version_ = std::string(text);
  if (top.at_key("source").get(value)) return Invalid(file, "source", "missing");
  if (value.get_string().get(text)) return Invalid(file, "source", "not a string");

  simdjson::dom::array rates;
  if (top.at_key("rates").get(value)) return Invalid(file, "rates", "missing");
  if (value.get_array().get(rates)) return Invalid(file, "rates", "not an array");
  if (rates.size() > kPremiumRatesMax) {
    return Invalid(file, "rates", fmt::format("more than {} entries", kPremiumRatesMax));
  }
  std::map<std::pair<int, std::string>, size_t> index_of;
  size_t index = 0;
  for (simdjson::dom::element element : rates) {
    int year = 0;
    Rate rate;
    if (Status s = ParseRate(file, index, element, &year, &rate); !s.ok()) return s;
    auto key = std::make_pair(year, rate.region);
    if (auto it = index_of.find(key); it != index_of.end()) {
      return Invalid(file, fmt::format("rates[{}]", index),
                     fmt::format("region {} coverage_year {} repeats rates[{}]", rate.region,
                                 year, it->second));
    }
    index_of.emplace(key, index);
    table.rates_.emplace(std::move(key), std::move(rate));
    ++index;
  }
  *out = std::move(table);
  return Status::OK();
}

Rejection PremiumTable::Lookup(std::string_view division_code, int coverage_year,
                               Rate* out) const {
  if (CheckDivisionCode(division_code) != Rule::ok) {
    return Reject(Rule::division_code_invalid, "household_division_code",
                  fmt::format("'{}' is not a 6-digit division code", division_code));
  }
  // Most specific first: the code itself, its prefecture (first 4 + "00"), its province
  // (first 2 + "0000"). These are exactly the rate regions that match the code.
  const std::string candidates[] = {
      std::string(division_code),
      std::string(division_code.substr(0, 4)) + "00",
      std::string(division_code.substr(0, 2)) + "0000",
  };
  for (const std::string& region : candidates) {
    if (auto it = rates_.find({coverage_year, region}); it != rates_.end()) {
      *out = it->second;
      return Rejection::None();
    }
  }
  return Reject(Rule::premium_rate_unknown, "household_division_code",
                fmt::format("no premium rate for division {} in coverage year {} ({})",
                            division_code, coverage_year,
                            version_.empty() ? std::string("no table loaded") : version_));
}

}  // namespace shebao::domain
