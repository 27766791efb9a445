/* clseq_fit_mpi, clseq_fit_source_mpi and clseq_mpi_shard (clseq_mpi.h):
 * the one-process fit, joined to the others through an MPI link for its
 * duration (m->collective, read by nn/parallel_step.c). */
#include <string.h>

#include "clseq_mpi.h"
#include "mpi/mpi_link.h"

/* This process's part of a global batch: equal shares, the remainder to
 * the first processes' cuts as floor(batch x rank / size) falls. */
static int share_of(int batch, int rank, int size)
{
    long long b = batch;
    return (int)(b * (rank + 1) / size - b * rank / size);
}

static int share_start(int batch, int rank, int size)
{
    return (int)((long long)batch * rank / size);
}

clseq_status clseq_mpi_shard(size_t n, int batch_size, int rank, int size, size_t *rows,
                             size_t *count)
{
    if (!count)
        return clseq_fail(CLSEQ_E_ARG, "clseq_mpi_shard: count is NULL");
    *count = 0;
    if (size < 1 || rank < 0 || rank >= size || batch_size < size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_mpi_shard: rank %d of %d processes with a batch of "
                          "%d (at least one row per process)", rank, size, batch_size);
    size_t from = (size_t)share_start(batch_size, rank, size);
    size_t to = from + (size_t)share_of(batch_size, rank, size);
    for (size_t step = 0; step * (size_t)batch_size < n; step++) {
        size_t base = step * (size_t)batch_size;
        for (size_t p = from; p < to && base + p < n; p++) {
            if (rows)
                rows[*count] = base + p;
            (*count)++;
        }
    }
    return CLSEQ_OK;
}

/* The options a process fits with, and the user's epoch callback, which
 * runs on every process and whose wish to stop every process hears. */
typedef struct mpi_fit {
    clseq_fit_options opt;
    const clseq_fit_options *user;
    clseq_mpi_link link;
} mpi_fit;

static int vote_on_stop(int epoch, const clseq_history *h, void *user_data)
{
    mpi_fit *f = user_data;
    float stop = f->user->on_epoch_end ? (float)(f->user->on_epoch_end(epoch, h,
                                                                        f->user->user_data) != 0)
                                       : 0.0f;
    /* a failed vote stops here; the link ends the fit everywhere after */
    if (f->link.coll.allreduce(f->link.coll.impl, CLSEQ_MSG_VOTE, &stop, 1) != CLSEQ_OK)
        return 1;
    return stop > 0.0f;
}

/* Checks and sets up f for m over comm; rank 0 alone prints and writes. */
static clseq_status prepare(mpi_fit *f, clseq_model *m, MPI_Comm comm,
                            const clseq_fit_options *opt, const char *call)
{
    int initialized = 0;
    memset(f, 0, sizeof *f);
    if (MPI_Initialized(&initialized) != MPI_SUCCESS || !initialized)
        return clseq_fail(CLSEQ_E_STATE, "%s: MPI is not initialised (MPI_Init first)", call);
    /* the link's first call is made even without a model or options, so
     * that the other processes hear of it rather than wait */
    clseq_status s = clseq_mpi_link_open(&f->link, comm, m, opt ? opt->batch_size : 0);
    if (s != CLSEQ_OK)
        return clseq_fail_context(s, "%s: ", call);
    if (!m || !opt)
        return clseq_fail(CLSEQ_E_ARG, "%s: model and options must not be NULL", call);
    int rank = f->link.coll.rank, size = f->link.coll.size;
    if (opt->batch_size < size)
        return clseq_fail(CLSEQ_E_ARG, "%s: a batch of %d rows cannot give each of %d processes "
                          "a row", call, opt->batch_size, size);
    f->user = opt;
    f->opt = *opt;
    f->opt.batch_size = share_of(opt->batch_size, rank, size);
    f->opt.on_epoch_end = vote_on_stop;
    f->opt.user_data = f;
    if (rank != 0) {
        f->opt.verbose = 0;
        f->opt.checkpoint = NULL;
        f->opt.csv_logger = NULL;
    }
    m->collective = &f->link.coll;
    return CLSEQ_OK;
}

/* After the fit (status s): the END exchange, so no process waits. */
static clseq_status conclude(mpi_fit *f, clseq_model *m, clseq_status s, clseq_history **history)
{
    if (m)
        m->collective = NULL;
    if (f->link.msg)
        s = clseq_mpi_link_finish(&f->link, s);
    clseq_mpi_link_close(&f->link);
    if (s != CLSEQ_OK && history && *history) {
        clseq_history_free(*history);
        *history = NULL;
    }
    return s;
}

clseq_status clseq_fit_mpi(clseq_model *m, MPI_Comm comm, const float *x, const float *y,
                           size_t n, const clseq_fit_options *opt, clseq_history **history)
{
    mpi_fit f;
    if (history)
        *history = NULL;
    clseq_status s = prepare(&f, m, comm, opt, "clseq_fit_mpi");
    if (s == CLSEQ_OK)
        s = clseq_fit(m, x, y, n, &f.opt, history);
    return conclude(&f, m, s, history);
}

clseq_status clseq_fit_source_mpi(clseq_model *m, MPI_Comm comm, const clseq_source *train,
                                  const clseq_source *val, const clseq_fit_options *opt,
                                  clseq_history **history)
{
    mpi_fit f;
    if (history)
        *history = NULL;
    clseq_status s = prepare(&f, m, comm, opt, "clseq_fit_source_mpi");
    if (s == CLSEQ_OK)
        s = clseq_fit_source(m, train, val, &f.opt, history);
    return conclude(&f, m, s, history);
}
