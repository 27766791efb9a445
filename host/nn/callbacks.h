/* Keras's training callbacks as clseq_fit runs them (clseq.h: EarlyStopping,
 * ModelCheckpoint, ReduceLROnPlateau, CSVLogger): their state across one
 * fit, checked before the first epoch and stepped after each. */
#ifndef CLSEQ_CALLBACKS_H
#define CLSEQ_CALLBACKS_H

#include <stdio.h>

#include "nn/history.h"
#include "nn/snapshot.h"

/* A monitored series and the best value seen (keras.src.callbacks.
 * monitor_callback.MonitorCallback). */
typedef struct clseq_monitor {
    int series;         /* index into the history's series */
    int up;             /* 1: larger is better (mode max) */
    double min_delta;   /* signed as Keras signs it: negative for min */
    double best;
    int has_best;
} clseq_monitor;

typedef struct clseq_callbacks {
    const clseq_fit_options *opt;
    clseq_monitor stop_watch, save_watch, lr_watch;
    int stop_wait;
    clseq_snapshot best_weights;
    int lr_wait, lr_cooldown;
    FILE *csv;
    int csv_columns;                        /* after "epoch" */
    int csv_series[2 * CLSEQ_HISTORY_MAX_SERIES]; /* -1: "NA" */
    char csv_names[2 * CLSEQ_HISTORY_MAX_SERIES][64]; /* "val_" + a series name */
    int csv_header;                         /* 1 until the header is written */
} clseq_callbacks;

/* Checks every callback's options against the history's series (a monitor
 * that names no series is CLSEQ_E_ARG listing them) and opens the CSV log. */
clseq_status clseq_callbacks_begin(clseq_callbacks *cb, const clseq_fit_options *o,
                                   const clseq_history *h);
/* After epoch (0-based, counting initial_epoch) with its values in the
 * history's series order: runs each callback; *stop becomes 1 when one
 * ends the fit. */
clseq_status clseq_callbacks_epoch_end(clseq_callbacks *cb, clseq_model *m, int epoch,
                                       const clseq_history *h, const float *values, int *stop);
/* The fit is over: EarlyStopping puts its best weights back when the fit
 * succeeded; the log is closed and everything released. */
clseq_status clseq_callbacks_end(clseq_callbacks *cb, clseq_model *m, clseq_status fit);

#endif
