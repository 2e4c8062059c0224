// Assertions that stay on in every build type (TigerStyle): a violated invariant stops the
// process before it can write wrong data. Use SHEBAO_ASSERT for programming errors only; user
// and environment errors are returned as Status values.
#pragma once

#include <cstdio>
#include <cstdlib>

#define SHEBAO_ASSERT(cond)                                                               \
  do {                                                                                    \
    if (!(cond)) [[unlikely]] {                                                           \
      std::fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond);   \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)
