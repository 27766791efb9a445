/* Per-thread last error and the helpers every module uses to fail. */
#ifndef CLSEQ_ERROR_H
#define CLSEQ_ERROR_H

#include "clseq.h"

/* Records a formatted message as this thread's last error and returns s,
 * so call sites read `return clseq_fail(CLSEQ_E_ARG, "...", ...);`. */
clseq_status clseq_fail(clseq_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes this thread's last error with more context ("layer 2: ") and
 * returns s unchanged; for passing a failure up with a location added. */
clseq_status clseq_fail_context(clseq_status s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Checks that a * b (and a * b * c) fits in size_t. */
int clseq_mul_overflows(size_t a, size_t b, size_t *out);

#endif
