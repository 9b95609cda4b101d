// A tiny assert for the C unit tests: count checks and failures, report
// file:line. Each test program returns nonzero when any check failed and
// ends with one line, "<name>: ok, <n> checks" (tests/test_c_unit.py reads
// it: a test that checked nothing has not run).
#ifndef OP_TEST_H
#define OP_TEST_H

#include <stdio.h>

static unsigned long op_test_checks = 0;
static unsigned long op_test_failures = 0;

#define CHECK(cond)                                                            \
    do {                                                                       \
        op_test_checks++;                                                      \
        if (!(cond)) {                                                         \
            printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            op_test_failures++;                                                \
        }                                                                      \
    } while (0)

#define TEST_END(name)                                                         \
    do {                                                                       \
        if (op_test_failures) {                                                \
            printf("%s: FAIL, %lu of %lu checks\n", name, op_test_failures,    \
                   op_test_checks);                                            \
        } else {                                                               \
            printf("%s: ok, %lu checks\n", name, op_test_checks);              \
        }                                                                      \
        return op_test_failures != 0;                                          \
    } while (0)

#endif // OP_TEST_H
