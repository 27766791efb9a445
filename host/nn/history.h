/* Training history: one value per epoch for each series. */
#ifndef CLSEQ_HISTORY_H
#define CLSEQ_HISTORY_H

#include "clseq.h"

/* loss and every metric, each with its val_ series */
enum { CLSEQ_HISTORY_MAX_SERIES = 2 * (1 + CLSEQ_METRIC_COUNT) };

/* A history with the series fit reports for these metrics; validation
 * series only if with_validation. NULL when out of memory. */
clseq_history *clseq_history_create(unsigned metrics, int with_validation, int epochs);
/* Appends one epoch: values in series order. */
void clseq_history_append(clseq_history *h, const float *values);

#endif
