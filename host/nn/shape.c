/* Sample shapes. */
#include "nn/shape.h"

#include <stdio.h>

#include "sys/error.h"

clseq_shape clseq_shape_flat(int n)
{
    clseq_shape s = {1, {n, 0, 0}};
    return s;
}

int clseq_shape_size(const clseq_shape *s)
{
    long long size = 1;
    for (int i = 0; i < s->rank; i++)
        size *= s->dims[i];
    return (int)size;
}

int clseq_shape_last(const clseq_shape *s)
{
    return s->dims[s->rank - 1];
}

clseq_status clseq_shape_check(const clseq_shape *s, const char *what)
{
    if (s->rank < 1 || s->rank > CLSEQ_MAX_RANK)
        return clseq_fail(CLSEQ_E_SHAPE, "%s: rank %d is not in 1..%d", what, s->rank,
                          CLSEQ_MAX_RANK);
    long long size = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->dims[i] <= 0 || s->dims[i] > CLSEQ_MAX_UNITS)
            return clseq_fail(CLSEQ_E_SHAPE, "%s: dimension %d is %d, not in 1..%d", what, i,
                              s->dims[i], CLSEQ_MAX_UNITS);
        size *= s->dims[i];
        if (size > CLSEQ_MAX_UNITS)
            return clseq_fail(CLSEQ_E_SHAPE, "%s: more than %d values per sample", what,
                              CLSEQ_MAX_UNITS);
    }
    return CLSEQ_OK;
}

void clseq_shape_format(const clseq_shape *s, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < s->rank && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%d", i ? "x" : "", s->dims[i]);
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

void clseq_shape_format_keras(const clseq_shape *s, char *buf, size_t size)
{
    char dims[64] = "";
    size_t used = 0;
    for (int i = 0; i < s->rank && used < sizeof dims; i++) {
        int n = snprintf(dims + used, sizeof dims - used, ", %d", s->dims[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    snprintf(buf, size, "(None%s)", dims);
}
