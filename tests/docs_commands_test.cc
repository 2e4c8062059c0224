// docs/commands.md is the contract of the JSONL command input. These tests keep it honest:
// every example line (one per ```json block) parses without a rejection, every command of
// CommandSpecs() has an example and a section naming each of its fields, and every rule name of
// rule.h is listed in the rules table.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/domain/command.h"
#include "ledger/domain/rule.h"

namespace {

using shebao::domain::Command;
using shebao::domain::CommandSpecs;
using shebao::domain::ParseCommand;
using shebao::domain::Rejection;
using shebao::domain::Rule;
using shebao::domain::RuleName;
using shebao::domain::SpecOf;

constexpr std::string_view kDocPath = SHEBAO_DOCS_DIR "/commands.md";

std::string ReadDoc() {
  std::ifstream in{std::string(kDocPath), std::ios::binary};
  REQUIRE_MESSAGE(in.good(), "cannot read ", kDocPath);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

struct Example {
  int line_no = 0;  // 1-based line in the doc
  std::string text;
};

// The lines inside each ```json fence, block by block (blank lines skipped).
std::vector<std::vector<Example>> JsonBlocks(const std::vector<std::string>& lines) {
  std::vector<std::vector<Example>> blocks;
  bool inside = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (!inside) {
      if (line == "```json") {
        inside = true;
        blocks.emplace_back();
      }
      continue;
    }
    if (line.rfind("```", 0) == 0) {
      inside = false;
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    blocks.back().push_back({static_cast<int>(i + 1), line});
  }
  REQUIRE_MESSAGE(!inside, "an unterminated ```json block in ", kDocPath);
  return blocks;
}

// The text of the section headed "### `name`", up to the next heading of level 2 or 3.
std::string Section(const std::vector<std::string>& lines, std::string_view name) {
  const std::string heading = "### `" + std::string(name) + "`";
  std::string text;
  bool inside = false;
  for (const auto& line : lines) {
    if (inside && (line.rfind("## ", 0) == 0 || line.rfind("### ", 0) == 0)) break;
    if (line == heading) inside = true;
    if (inside) text += line + "\n";
  }
  return text;
}

std::string Backticked(std::string_view s) { return "`" + std::string(s) + "`"; }

}  // namespace

TEST_CASE("docs/commands.md: every example parses, one line per block") {
  const auto blocks = JsonBlocks(Lines(ReadDoc()));
  REQUIRE(blocks.size() >= CommandSpecs().size());
  for (const auto& block : blocks) {
    REQUIRE_MESSAGE(block.size() == 1, "a ```json block must hold exactly one command line (block at line ",
                    block.empty() ? 0 : block.front().line_no, " holds ", block.size(), ")");
    const Example& ex = block.front();
    Command command;
    const Rejection r = ParseCommand(ex.text, &command);
    CHECK_MESSAGE(r.ok(), "commands.md line ", ex.line_no, ": ", RuleName(r.rule), " (field ",
                  r.field, "): ", r.message, "\n  ", ex.text);
  }
}

TEST_CASE("docs/commands.md: every command has an example and a section naming its fields") {
  const auto lines = Lines(ReadDoc());
  std::set<std::string_view> with_example;
  for (const auto& block : JsonBlocks(lines)) {
    for (const auto& ex : block) {
      Command command;
      if (ParseCommand(ex.text, &command).ok()) with_example.insert(SpecOf(command.kind).name);
    }
  }
  for (const auto& spec : CommandSpecs()) {
    CAPTURE(spec.name);
    CHECK_MESSAGE(with_example.contains(spec.name), "no example whose command is ", spec.name);
    const std::string section = Section(lines, spec.name);
    REQUIRE_MESSAGE(!section.empty(), "no section \"### `", spec.name, "`\"");
    // The example of a command sits in its own section.
    CHECK_MESSAGE(section.find("{\"command\":\"" + std::string(spec.name) + "\"") != std::string::npos,
                  "the section of ", spec.name, " has no example of it");
    for (const auto& field : spec.fields) {
      CHECK_MESSAGE(section.find(Backticked(field.name)) != std::string::npos, "the section of ",
                    spec.name, " does not name its field ", field.name);
    }
    if (spec.targets_case) {
      CHECK(section.find(Backticked("child_id")) != std::string::npos);
      CHECK(section.find(Backticked("coverage_year")) != std::string::npos);
    }
  }
}

TEST_CASE("docs/commands.md: every rule name is in the rules table") {
  const std::string doc = ReadDoc();
  int count = 0;
  for (int i = 0; i < 256; ++i) {
    const std::string_view name = RuleName(static_cast<Rule>(i));
    if (name == "unknown_rule") break;
    ++count;
    CHECK_MESSAGE(doc.find("| " + Backticked(name) + " |") != std::string::npos,
                  "rule ", name, " has no row \"| `", name, "` |\" in ", kDocPath);
  }
  CHECK(count > 60);  // rule.h lists 64 names today, and names are append-only
}
