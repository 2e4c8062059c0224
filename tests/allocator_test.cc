// The programs run on the allocator the build says they do (CMakeLists.txt, SHEBAO_JEMALLOC):
// a linker that drops a library nothing calls by name would silently leave glibc's malloc in
// place, and every benchmark figure would be for the wrong allocator.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tools/allocator.h"

TEST_CASE("the build's allocator is the process's malloc") {
  const std::string name = shebao::tools::AllocatorName();
  MESSAGE("allocator: " << name);
#ifdef SHEBAO_WITH_JEMALLOC
  CHECK(name.starts_with("jemalloc 5."));
  // And malloc really is jemalloc's: the bytes this thread allocated through jemalloc grow by
  // what std::malloc handed out.
  const shebao::tools::Mallctl mallctl = shebao::tools::FindMallctl();
  REQUIRE(reinterpret_cast<void*>(mallctl) != nullptr);
  auto allocated = [&] {
    uint64_t n = 0;
    size_t size = sizeof n;
    REQUIRE(mallctl("thread.allocated", &n, &size, nullptr, 0) == 0);
    return n;
  };
  const uint64_t before = allocated();
  void* p = std::malloc(1 << 20);
  REQUIRE(p != nullptr);
  const uint64_t after = allocated();
  std::free(p);
  CHECK(after - before >= (1u << 20));
#else
  CHECK(name == "system");
#endif
}
