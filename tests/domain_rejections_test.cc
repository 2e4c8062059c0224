#include "tests/domain_test_util.h"
