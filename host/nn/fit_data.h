/* A fit's training and validation rows (fit.c), and the blocks they are
 * streamed in when they do not stay on the device (fit_blocks.c). */
#ifndef CLSEQ_FIT_DATA_H
#define CLSEQ_FIT_DATA_H

#include "nn/model.h"
#include "nn/snapshot.h"

/* One of the two sets of block buffers: the device trains on one block
 * while the host prepares the next in the other. */
typedef struct fit_slot {
    cl_mem x, y, w;  /* block_rows rows, targets and (weighted) sample weights */
    cl_mem perm;     /* block_rows ints: the order the steps take the rows in */
    float *stage;    /* the host copy being written (x, y, w one after another) */
    int *order;      /* the host copy of perm being written */
    cl_event written; /* the last write from stage or order, or NULL */
    int block;       /* the epoch's block staged here, or -1 */
    size_t rows;     /* its rows */
} fit_slot;

/* The training and validation rows: on the device for the whole fit
 * (resident), or streamed a block at a time from the caller's arrays or
 * from a source. */
typedef struct fit_data {
    cl_mem x, y;     /* every training row, or (streamed) the current block's */
    cl_mem val_x, val_y; /* the validation rows (resident only) */
    const float *val_hx, *val_hy; /* streamed from arrays: the validation rows on the host */
    cl_mem w;        /* the rows' sample weights (as x), or NULL */
    float *host_w;   /* every training row's weight on the host, or NULL */
    size_t n, val_n;
    cl_mem perm;     /* resident: n ints, this epoch's row order; streamed:
                        the current block's */
    int *host_perm;  /* the epoch's order (not for a source) */
    cl_mem totals;   /* this epoch's sums */
    clseq_snapshot backup; /* the weights at the start of the epoch */
    size_t here;     /* rows in x and y now: n, or the current block's */
    int streamed;
    const float *hx, *hy; /* streamed from arrays: the caller's training rows */
    const clseq_source *src, *val_src; /* streamed from sources */
    size_t val_first;   /* the source row the validation rows start at */
    const float *class_weight; /* a source's rows are weighed a block at a time */
    int class_weight_count;
    int shuffle;
    size_t block_rows;  /* streamed: rows per block, a multiple of the batch */
    int *block_order;   /* a source: the epoch's order of its blocks */
    fit_slot slots[2];  /* streamed: block b is in slots[b % 2] */
} fit_data;

/* Streamed: allocates the two slots' buffers for blocks of rows that
 * fit budget bytes (and, from a source, the host's block limit). */
clseq_status clseq_fit_blocks_make(clseq_model *m, fit_data *d, int batch, size_t row_bytes,
                                   size_t budget);
/* The blocks of an epoch. */
int clseq_fit_block_count(const fit_data *d);
/* At an epoch's start: forgets what the slots hold and, from a source,
 * shuffles the order of its blocks (the last, partial one stays last). */
clseq_status clseq_fit_blocks_epoch(clseq_model *m, fit_data *d);
/* Makes block b the rows the steps read (x, y, w, perm, here), staging it
 * first unless clseq_fit_block_prefetch already did. */
clseq_status clseq_fit_block_begin(clseq_model *m, fit_data *d, int b);
/* Reads block b on the host and enqueues its writes, to overlap with the
 * device's work on the block before it. */
clseq_status clseq_fit_block_prefetch(clseq_model *m, fit_data *d, int b);
void clseq_fit_blocks_release(fit_data *d);

#endif
