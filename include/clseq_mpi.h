/* clseq over MPI: one model trained by several processes (an optional
 * part of the library, built with CLSEQ_WITH_MPI; clseq.h stays free of
 * MPI). Each process (rank) holds its shard of the rows and its model on
 * its own context (one device or several); every step, the gradients of
 * all of them are summed in one MPI_Allreduce of one buffer, and every
 * process applies the same update, so the models stay identical. The
 * README's "Several processes (MPI)" has the details. */
#ifndef CLSEQ_MPI_H
#define CLSEQ_MPI_H

#include <mpi.h>

#include "clseq.h"

#ifdef __cplusplus
extern "C" {
#endif

/* clseq_fit over the processes of comm, called by every one of them with
 * a model built the same way (same layers, seed and compile settings):
 * x, y, n are this process's shard (clseq_mpi_shard says which rows make
 * the fit equal to one process's). opt->batch_size is the global batch,
 * split equally over the processes (at least one row each); the loss and
 * its gradient are averaged over the global batch's rows. Every step
 * sums the gradients in one MPI_Allreduce; a process whose rows run out
 * sooner adds zeros until the others' end. The losses, metrics and
 * history are over every process's rows; the validation rows are each
 * process's own (given or split off its shard), their sums added too.
 * Only rank 0 prints progress and runs ModelCheckpoint and CSVLogger;
 * every process gets the history and the trained weights. A process
 * whose fit fails ends it on every process: they all return an error
 * (the failing one its own; the others CLSEQ_E_STATE or the failing
 * process's status, naming its rank) rather than wait for it. comm's
 * processes must all call; MPI must be initialised. */
CLSEQ_API clseq_status clseq_fit_mpi(clseq_model *m, MPI_Comm comm, const float *x,
                                     const float *y, size_t n, const clseq_fit_options *opt,
                                     clseq_history **history);
/* clseq_fit_mpi over this process's sources (clseq_fit_source). */
CLSEQ_API clseq_status clseq_fit_source_mpi(clseq_model *m, MPI_Comm comm,
                                            const clseq_source *train, const clseq_source *val,
                                            const clseq_fit_options *opt,
                                            clseq_history **history);
/* Which rows of a data set of n rows rank (of size processes) should hold
 * so that clseq_fit_mpi with batch_size and shuffle off takes, at every
 * step, the very rows one process's clseq_fit would: each global batch's
 * rows in order, the first share to rank 0, the next to rank 1, and so
 * on. Their indices, ascending, into rows (may be NULL to count); their
 * number into *count. Needs no MPI. */
CLSEQ_API clseq_status clseq_mpi_shard(size_t n, int batch_size, int rank, int size,
                                       size_t *rows, size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* CLSEQ_MPI_H */
