/* The monotonic clock every timing in the library reads. */
#ifndef CLSEQ_CLOCK_H
#define CLSEQ_CLOCK_H

/* Seconds on a monotonic clock. */
double clseq_seconds(void);

#endif
