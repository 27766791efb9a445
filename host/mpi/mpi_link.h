/* A clseq_collective over an MPI communicator (nn/parallel.h), with the
 * protocol that ends a fit on every process when one fails. */
#ifndef CLSEQ_MPI_LINK_H
#define CLSEQ_MPI_LINK_H

#include <mpi.h>

#include "nn/parallel.h"

typedef struct clseq_mpi_link {
    clseq_collective coll;  /* what the fit calls; impl points back here */
    MPI_Comm comm;
    float *msg;             /* the header, then coll.payload floats */
    int failed_remote;      /* a call saw another process fail or leave */
    int broken;             /* an MPI call failed: no more calls */
} clseq_mpi_link;

/* Opens a link over comm for fits of m, after checking with one call that
 * every process has the same model size and batch (so every message has
 * the same length everywhere). */
clseq_status clseq_mpi_link_open(clseq_mpi_link *l, MPI_Comm comm, const clseq_model *m,
                                 int batch_size);
/* Ends a fit whose local status is s: repeats the END message until every
 * process has sent one in the same round (a process still in its fit sees
 * the END, stops, and sends its own), so no process waits for one that
 * has gone. Returns s, or when s is CLSEQ_OK and another process failed,
 * a failure naming it. */
clseq_status clseq_mpi_link_finish(clseq_mpi_link *l, clseq_status s);
void clseq_mpi_link_close(clseq_mpi_link *l);

#endif
