// Writes the JSONL commands of a synthetic city (tools/city_generator.h) to stdout, for the
// fault tests (tests/fault_test.sh): a file that `shebao ingest` accepts line by line.
// Usage: fault_city CHILDREN SEED
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tools/city_generator.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: fault_city CHILDREN SEED\n");
    return 2;
  }
  shebao::tools::CityOptions city;
  city.children = std::strtoull(argv[1], nullptr, 10);
  city.seed = std::strtoull(argv[2], nullptr, 10);
  if (city.children == 0 || city.children > shebao::tools::kCityChildrenMax) {
    std::fprintf(stderr, "fault_city: CHILDREN must be 1..%llu\n",
                 static_cast<unsigned long long>(shebao::tools::kCityChildrenMax));
    return 2;
  }
  const auto stats = shebao::tools::GenerateCity(city, [](std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
  });
  if (std::fflush(stdout) != 0 || stats.lines == 0) return 1;
  return 0;
}
