/* clseq train --mpi: the training rows shared out over MPI processes
 * (`mpirun -np N clseq train --mpi ...`), each reading the data files and
 * taking its shard, and the fit through clseq_fit_mpi. Without MPI in the
 * build, --mpi is refused with a message. */
#ifndef CLSEQ_TRAIN_MPI_H
#define CLSEQ_TRAIN_MPI_H

#include "clseq.h"
#include "train_data.h"

/* A sharded source: rows of the whole source that one process takes. */
typedef struct train_shard {
    const clseq_source *all;
    int batch, start, share;  /* global batch; this process's positions in it */
    size_t first, count;      /* validation: one contiguous run */
    int contiguous;
    int in, width;            /* floats per row of x and y */
    clseq_source source;
} train_shard;

typedef struct train_mpi {
    int on, rank, size;
    float *x, *y, *vx, *vy;   /* whole data: this process's rows */
    train_shard train, valid;
} train_mpi;

/* With wanted, initialises MPI and learns this process's rank; prints why
 * and returns 0 when it cannot (or the build has no MPI). */
int train_mpi_begin(train_mpi *t, int wanted);
/* clseq_fit_mpi of this process's shard of train's rows (and its part of
 * valid's, which may be NULL) with fo (batch_size global). */
clseq_status train_mpi_fit(train_mpi *t, clseq_model *m, const train_data *train,
                           const train_data *valid, const clseq_fit_options *fo);
/* Frees the shards and finalises MPI. */
void train_mpi_end(train_mpi *t);

#endif
