/* Keras-style progress lines for clseq_fit's verbose option. */
#ifndef CLSEQ_PROGRESS_H
#define CLSEQ_PROGRESS_H

#include <stdio.h>

typedef struct clseq_progress {
    FILE *out;
    int verbose;     /* 0 silent, 1 bar, 2 one line per epoch */
    int live;        /* redraw the bar in place (verbose 1 on a terminal) */
    int epochs;
    int steps;       /* batches per epoch */
    double started;  /* seconds, when the epoch began */
} clseq_progress;

void clseq_progress_init(clseq_progress *p, FILE *out, int verbose, int epochs, int steps);
/* "Epoch 3/10" */
void clseq_progress_epoch_begin(clseq_progress *p, int epoch);
/* Redraws the bar at done of steps batches with the running values so
 * far (live mode only), clearing what a longer line before left. */
void clseq_progress_update(clseq_progress *p, int done, const char *const *names,
                           const float *values, int count);
/* The epoch's closing line with each named value. */
void clseq_progress_epoch_end(clseq_progress *p, const char *const *names, const float *values,
                              int count);
#endif
