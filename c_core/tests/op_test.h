// A tiny assert for the C unit tests: count failures, report file:line.
// Each test program returns nonzero when any check failed.
#ifndef OP_TEST_H
#define OP_TEST_H

#include <stdio.h>

static int op_test_failures = 0;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            printf("%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);    \
            op_test_failures++;                                                \
        }                                                                      \
    } while (0)

#define TEST_END(name)                                                         \
    do {                                                                       \
        printf("%s: %s\n", name, op_test_failures ? "FAIL" : "ok");            \
        return op_test_failures != 0;                                          \
    } while (0)

#endif // OP_TEST_H
