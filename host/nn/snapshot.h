/* A copy of a model's weights (its parameter and state vectors) in device
 * memory: the fit's per-epoch backup and EarlyStopping's best weights. */
#ifndef CLSEQ_SNAPSHOT_H
#define CLSEQ_SNAPSHOT_H

#include "nn/model.h"

typedef struct clseq_snapshot {
    cl_mem params;
    cl_mem state;
    int taken;      /* 1 once it holds weights */
} clseq_snapshot;

/* Copies the model's weights into s (allocating it the first time); the
 * copy is enqueued on the model's queue, so it sees every step before it. */
clseq_status clseq_snapshot_take(clseq_model *m, clseq_snapshot *s, const char *name);
/* Puts the weights in s back into the model (s must have been taken). */
clseq_status clseq_snapshot_restore(clseq_model *m, const clseq_snapshot *s);
void clseq_snapshot_release(clseq_snapshot *s);

#endif
