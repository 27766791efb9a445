/* Data-parallel training: replicas of a model on a context's other devices
 * (replicas.c), the sum of their gradients (allreduce.c), the step and the
 * epoch's end over all of them (parallel_step.c), and the hooks by which
 * several processes join (a clseq_collective; host/mpi/ implements one
 * over MPI, so nothing here needs MPI).
 *
 * A step: the process's rows of the global batch are gathered on the main
 * device as for one device; each replica gets its share of them, runs
 * forward and backward with the loss gradient scaled by 1 / (the global
 * batch's rows), so the sum of the replicas' gradients is the gradient of
 * the whole batch; the gradients are summed (devices, then processes), and
 * every replica applies the same optimizer update to the same sum, so the
 * replicas stay identical without copying weights. */
#ifndef CLSEQ_PARALLEL_H
#define CLSEQ_PARALLEL_H

#include "nn/infer.h"
#include "nn/model.h"

/* The most processes a collective fit takes. */
enum { CLSEQ_MAX_PROCESSES = 1024 };

/* What the messages between processes are for; every process makes the
 * same sequence of them, so a mismatch means one left the fit early. */
typedef enum clseq_message_kind {
    CLSEQ_MSG_BEGIN = 1, /* each process's rows and batch */
    CLSEQ_MSG_STEP,      /* one step's gradients */
    CLSEQ_MSG_EPOCH,     /* an epoch's loss and metric sums and the state */
    CLSEQ_MSG_VALID,     /* the validation sums */
    CLSEQ_MSG_VOTE,      /* whether to stop after this epoch */
    CLSEQ_MSG_FAIL,      /* this process failed: sent once instead of what was due */
    CLSEQ_MSG_END        /* the fit is over here (host/mpi/) */
} clseq_message_kind;

/* Several processes, each with its own model replicas (host/mpi/). */
typedef struct clseq_collective {
    int rank, size;
    void *impl;
    /* Sums count floats of buf over every process in place (count is at
     * most the payload fixed when the fit began). A failure anywhere, or a
     * process at another kind of message, is a failure here, naming the
     * process; the fit then ends on every process. */
    clseq_status (*allreduce)(void *impl, clseq_message_kind kind, float *buf, size_t count);
    /* The floats a message may carry; set by the implementation from the
     * model before the fit. */
    size_t payload;
} clseq_collective;

/* The floats the collective's messages need for model m and size
 * processes: the largest of the gradients, an epoch's sums and state, the
 * validation sums and the BEGIN table. */
size_t clseq_parallel_payload(const clseq_model *m, int size);

/* 1 when a fit of m is data-parallel: its context has several devices, or
 * a collective joins several processes. */
int clseq_parallel_wanted(const clseq_model *m);
/* Sets up a data-parallel fit of n training rows in batches of batch
 * (this process's part of the global batch): replicas on the other
 * devices with m's weights and optimizer state, the gradient exchange
 * (host or device to device, the faster unless the context says), and
 * with a collective the processes' rows. Does nothing unless wanted. */
clseq_status clseq_parallel_begin(clseq_model *m, size_t n, int batch);
/* Waits for and frees the replicas (m keeps the trained weights). */
void clseq_parallel_end(clseq_model *m);
/* 1 while m trains data-parallel (the fused trainer is off then). */
int clseq_parallel_active(const clseq_model *m);
/* One step over rows rows already gathered into m's workspace (work.input,
 * work.target, work.weight when weighted): forward and backward on every
 * replica, the loss sums into totals (main device) or the replicas' own,
 * the gradient sum, one update everywhere. */
clseq_status clseq_parallel_step(clseq_model *m, int rows, int weighted, cl_mem totals);
/* After an epoch's steps: steps with no rows of its own while other
 * processes have some (their sum needs every process), the replicas' and
 * processes' loss and metric sums added into totals (main device), and
 * the state (moving statistics, updated by each replica from its own
 * rows) averaged over every replica. */
clseq_status clseq_parallel_epoch_end(clseq_model *m, cl_mem totals);
/* The training rows of every process together (n when one process). */
size_t clseq_parallel_rows(const clseq_model *m, size_t n);
/* Validation sums of every process added together, and their rows into
 * *n (nothing with one process: validation runs on the main device). */
clseq_status clseq_parallel_reduce_sums(clseq_model *m, clseq_pass_sums *sums, size_t *n);

/* clseq_pass_totals and clseq_predict_rows over the context's devices:
 * each device takes its share of the n rows (host rows only), in a thread
 * of its own so the devices work at once; the sums are added in device
 * order. */
clseq_status clseq_parallel_pass_totals(clseq_model *m, const clseq_rows *src, size_t n,
                                        clseq_pass_sums *sums);
clseq_status clseq_parallel_predict(clseq_model *m, const float *x, size_t n, float *out);

/* ---- internals shared by replicas.c, allreduce.c, parallel_step.c ---- */

typedef struct clseq_parallel {
    int count;                            /* replicas: the model itself first */
    clseq_model *replica[CLSEQ_MAX_DEVICES];
    cl_mem totals[CLSEQ_MAX_DEVICES];     /* each replica's loss sums ([0]: the fit's) */
    double cut[CLSEQ_MAX_DEVICES + 1];    /* cumulative shares, 0 .. 1 */
    int exchange;                         /* 0 through the host, 1 device to device */
    float *host;                          /* host exchange: count x param_count */
    cl_mem stage;                         /* device exchange: a replica's gradients on
                                             the main device */
    /* several processes */
    const clseq_collective *coll;
    size_t rank_rows[CLSEQ_MAX_PROCESSES];
    int rank_batch[CLSEQ_MAX_PROCESSES];
    int steps;                            /* the most steps any process takes an epoch */
    int step;                             /* steps taken this epoch */
    size_t rows;                          /* training rows of all processes */
} clseq_parallel;

/* Makes the replicas of m on devices 1.. of its context (the context's
 * own order) with m's weights, state and optimizer state, each with a
 * workspace of rows rows, and p's cuts from the devices' shares. */
clseq_status clseq_replicas_create(clseq_model *m, clseq_parallel *p, int rows);
void clseq_replicas_free(clseq_parallel *p);
/* Copies what callbacks may change on m (learning rate, schedule) into the
 * replicas before their update. */
void clseq_replicas_follow(clseq_parallel *p);

/* Enqueues on dev a copy of bytes from src (at src_off) to dst (at
 * dst_off), buffers of any device of the context, once after has passed
 * (its queue flushed, as clseq_marker leaves it). */
clseq_status clseq_copy_after(clseq_device *dev, cl_mem src, size_t src_off, cl_mem dst,
                              size_t dst_off, size_t bytes, cl_event after);
/* A marker after everything enqueued on dev so far, its queue flushed so
 * that another device's queue may wait for it; the caller releases it. */
clseq_status clseq_marker(clseq_device *dev, cl_event *out);

/* The sum of every replica's gradients into every replica's, by p's
 * exchange; with a collective, summed over the processes too. */
clseq_status clseq_allreduce_grads(clseq_parallel *p);
/* Times each exchange (milliseconds, the best of runs) on p's replicas'
 * gradients and picks the faster unless forced (0, 1; -1 to pick). */
clseq_status clseq_allreduce_choose(clseq_parallel *p, int forced, int runs, double *host_ms,
                                    double *device_ms);

#endif
