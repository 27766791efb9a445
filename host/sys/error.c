/* Status names and the per-thread last error: the only mutable state outside
 * contexts and models, kept per thread so concurrent users never see each
 * other's messages. */
#include "sys/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { ERROR_CAPACITY = 8192 };
static _Thread_local char last_error[ERROR_CAPACITY];

const char *clseq_version(void)
{
#define CLSEQ_STR2(x) #x
#define CLSEQ_STR(x) CLSEQ_STR2(x)
    return CLSEQ_STR(CLSEQ_VERSION_MAJOR) "." CLSEQ_STR(CLSEQ_VERSION_MINOR) "." CLSEQ_STR(
        CLSEQ_VERSION_PATCH);
}

const char *clseq_status_name(clseq_status s)
{
    switch (s) {
    case CLSEQ_OK: return "CLSEQ_OK";
    case CLSEQ_E_ARG: return "CLSEQ_E_ARG";
    case CLSEQ_E_SHAPE: return "CLSEQ_E_SHAPE";
    case CLSEQ_E_STATE: return "CLSEQ_E_STATE";
    case CLSEQ_E_NODEVICE: return "CLSEQ_E_NODEVICE";
    case CLSEQ_E_BUILD: return "CLSEQ_E_BUILD";
    case CLSEQ_E_CL: return "CLSEQ_E_CL";
    case CLSEQ_E_NOMEM: return "CLSEQ_E_NOMEM";
    case CLSEQ_E_IO: return "CLSEQ_E_IO";
    case CLSEQ_E_FORMAT: return "CLSEQ_E_FORMAT";
    case CLSEQ_E_NUMERIC: return "CLSEQ_E_NUMERIC";
    }
    return "CLSEQ_E_UNKNOWN";
}

const char *clseq_last_error(void)
{
    return last_error;
}

clseq_status clseq_fail(clseq_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

clseq_status clseq_fail_context(clseq_status s, const char *fmt, ...)
{
    char prefix[512];
    char previous[ERROR_CAPACITY];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(previous, last_error, sizeof previous);
    size_t used = strlen(prefix);
    memcpy(last_error, prefix, used + 1);
    /* the older message is cut, not the new context, if both do not fit */
    strncat(last_error, previous, sizeof last_error - used - 1);
    return s;
}

int clseq_mul_overflows(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > (size_t)-1 / a)
        return 1;
    if (out)
        *out = a * b;
    return 0;
}
