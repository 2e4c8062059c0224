// Which malloc this process runs on. The programs link jemalloc (CMakeLists.txt,
// SHEBAO_JEMALLOC), which replaces malloc for the whole process, RocksDB included; the
// benchmarks print this so that every figure in BENCHMARKS.md names its allocator.
#pragma once

#include <dlfcn.h>

#include <cstddef>
#include <string>

namespace shebao::tools {

// jemalloc's control interface, or nullptr when jemalloc is not in the process.
using Mallctl = int (*)(const char*, void*, size_t*, void*, size_t);
inline Mallctl FindMallctl() { return reinterpret_cast<Mallctl>(dlsym(RTLD_DEFAULT, "mallctl")); }

// "jemalloc <version>" when jemalloc's malloc is the process's malloc, else "system".
inline std::string AllocatorName() {
  const Mallctl mallctl = FindMallctl();
  if (mallctl == nullptr) return "system";
  const char* version = nullptr;
  size_t size = sizeof version;
  if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) return "jemalloc";
  return std::string("jemalloc ") + version;
}

}  // namespace shebao::tools
