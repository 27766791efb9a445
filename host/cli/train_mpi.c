/* clseq train --mpi (train_mpi.h). Every process reads the files (a
 * shared file system is MPI's usual setting) and keeps its shard: the
 * training rows that clseq_mpi_shard gives it, so that with --no-shuffle
 * the result is one process's; the validation rows in equal contiguous
 * parts. A streamed file is sharded the same way through a source that
 * reads this process's runs of rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "sys/error.h" /* clseq_fail: the failures cli_fail reports */
#include "train_mpi.h"

#ifdef CLSEQ_CLI_HAVE_MPI
#include "clseq_mpi.h"

int train_mpi_begin(train_mpi *t, int wanted)
{
    memset(t, 0, sizeof *t);
    t->size = 1;
    if (!wanted)
        return 1;
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        fprintf(stderr, "clseq train: --mpi: MPI_Init failed\n");
        return 0;
    }
    t->on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &t->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &t->size);
    return 1;
}

/* Shard row i is whole-source row: training, the batch positions
 * [start, start + share) of each global batch; validation, a run. */
static size_t whole_row(const train_shard *s, size_t i)
{
    if (s->contiguous)
        return s->first + i;
    return i / (size_t)s->share * (size_t)s->batch + (size_t)s->start + i % (size_t)s->share;
}

static clseq_status read_shard(void *user, size_t first, size_t count, float *x, float *y)
{
    const train_shard *s = user;
    size_t done = 0;
    /* runs of rows that lie together in the whole source */
    while (done < count) {
        size_t from = whole_row(s, first + done), run = 1;
        while (done + run < count && whole_row(s, first + done + run) == from + run)
            run++;
        clseq_status st = s->all->read(s->all->user, from, run, x + done * (size_t)s->in,
                                       y + done * (size_t)s->width);
        if (st != CLSEQ_OK)
            return st;
        done += run;
    }
    return CLSEQ_OK;
}

/* This process's training shard of a source of n rows. */
static void shard_source(train_mpi *t, train_shard *s, const clseq_source *all, int batch,
                         int in, int width)
{
    memset(s, 0, sizeof *s);
    s->all = all;
    s->batch = batch;
    s->start = (int)((long long)batch * t->rank / t->size);
    s->share = (int)((long long)batch * (t->rank + 1) / t->size) - s->start;
    s->in = in;
    s->width = width;
    size_t count = 0;
    clseq_mpi_shard(all->rows, batch, t->rank, t->size, NULL, &count);
    s->source = (clseq_source){count, read_shard, s};
}

/* This process's equal contiguous part of n validation rows. */
static void split_source(train_mpi *t, train_shard *s, const clseq_source *all, int in,
                         int width)
{
    memset(s, 0, sizeof *s);
    s->all = all;
    s->contiguous = 1;
    s->first = all->rows * (size_t)t->rank / (size_t)t->size;
    s->count = all->rows * (size_t)(t->rank + 1) / (size_t)t->size - s->first;
    s->in = in;
    s->width = width;
    s->source = (clseq_source){s->count, read_shard, s};
}

/* Rows idx[0..count) of a cols-wide table into a new array. */
static float *take(const float *src, size_t rows, int cols, const size_t *idx, size_t count)
{
    float *out = malloc((count ? count : 1) * (size_t)cols * sizeof *out);
    if (out && clseq_take_rows(src, rows, (size_t)cols, idx, count, out) != CLSEQ_OK) {
        free(out);
        out = NULL;
    }
    return out;
}

clseq_status train_mpi_fit(train_mpi *t, clseq_model *m, const train_data *train,
                           const train_data *valid, const clseq_fit_options *fo)
{
    clseq_loss loss = CLSEQ_MEAN_SQUARED_ERROR;
    clseq_model_compile_settings(m, NULL, &loss, NULL);
    int in = clseq_model_input_dim(m);
    int width = loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : clseq_model_output_dim(m);
    clseq_fit_options o = *fo;
    if (train->streamed) {
        shard_source(t, &t->train, &train->source, fo->batch_size, in, width);
        if (valid)
            split_source(t, &t->valid, &valid->source, in, width);
        return clseq_fit_source_mpi(m, MPI_COMM_WORLD, &t->train.source,
                                    valid ? &t->valid.source : NULL, &o, NULL);
    }
    size_t n = train->table.rows, count = 0;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    clseq_status s = idx ? clseq_mpi_shard(n, fo->batch_size, t->rank, t->size, idx, &count)
                         : clseq_fail(CLSEQ_E_NOMEM, "out of host memory for %zu rows", n);
    if (s == CLSEQ_OK && (!(t->x = take(train->table.x, n, in, idx, count)) ||
                          !(t->y = take(train->y, n, width, idx, count))))
        s = clseq_fail(CLSEQ_E_NOMEM, "out of host memory for this process's %zu rows", count);
    free(idx);
    if (s == CLSEQ_OK && o.val_n > 0) {
        /* this process's equal part of the validation rows */
        size_t first = o.val_n * (size_t)t->rank / (size_t)t->size;
        size_t last = o.val_n * (size_t)(t->rank + 1) / (size_t)t->size;
        o.val_x += first * (size_t)in;
        o.val_y += first * (size_t)width;
        o.val_n = last - first;
    }
    /* a process without rows (more processes than rows) fails in the fit,
     * which ends it on every process */
    if (s == CLSEQ_OK)
        return clseq_fit_mpi(m, MPI_COMM_WORLD, t->x, t->y, count, &o, NULL);
    /* the others must not wait for this one: its first call tells them */
    clseq_fit_mpi(m, MPI_COMM_WORLD, NULL, NULL, 0, NULL, NULL);
    return s;
}

void train_mpi_end(train_mpi *t)
{
    free(t->x);
    free(t->y);
    if (t->on)
        MPI_Finalize();
    memset(t, 0, sizeof *t);
}

#else /* no MPI in this build */

int train_mpi_begin(train_mpi *t, int wanted)
{
    memset(t, 0, sizeof *t);
    t->size = 1;
    if (wanted)
        fprintf(stderr, "clseq train: --mpi: this clseq was built without MPI "
                "(CLSEQ_WITH_MPI; Debian's libopenmpi-dev)\n");
    return !wanted;
}

clseq_status train_mpi_fit(train_mpi *t, clseq_model *m, const train_data *train,
                           const train_data *valid, const clseq_fit_options *fo)
{
    (void)t;
    (void)m;
    (void)train;
    (void)valid;
    (void)fo;
    return clseq_fail(CLSEQ_E_STATE, "clseq train: built without MPI");
}

void train_mpi_end(train_mpi *t)
{
    memset(t, 0, sizeof *t);
}

#endif
