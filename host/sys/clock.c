/* The monotonic clock (POSIX clock_gettime). */
#include "sys/clock.h"

#include <time.h>

double clseq_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
