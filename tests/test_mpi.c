/* Data-parallel training over MPI processes (clseq_mpi.h); ctest runs it
 * as `mpirun -np 2 --oversubscribe test_mpi`, each process on one PoCL
 * device.
 *
 * The reference is one process's clseq_fit of the whole data from the
 * same initial weights, shuffle off, computed by every process: the MPI
 * fit of the shards clseq_mpi_shard gives (rank 0: 26 rows in 4 steps,
 * rank 1: 24 rows in 3, so rank 1 adds zeros to the last, ragged step of
 * 2 rows) must give the same weights within pm_tolerance (the same float
 * sums in another order; parallel_models.c says why), for a Dense and a
 * CNN model and every optimizer; the processes' weights must be identical
 * to the bit; the loss in the history must match the reference's. A
 * process failing mid-fit ends the fit on both, with the failing rank
 * named, and rank 0's checkpoint from before stays whole. */
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clseq_mpi.h"
#include "parallel_models.h"
#include "runtime/runtime.h"
#include "testutil.h"

static int rank, size;
static clseq_ctx *ctx;

static clseq_ctx *context(void)
{
    if (!ctx) {
        clseq_ctx_options o = clseq_ctx_defaults();
        o.fused = 0; /* the reference takes the layer path, as the MPI fit does */
        ctx = test_ctx_with(&o);
    }
    return ctx;
}

/* This process's shard of x and y (rows of in and PM_CLASSES floats). */
static size_t shard(const float *x, const float *y, int in, size_t n, float *sx, float *sy)
{
    size_t rows[PM_ROWS], count = 0;
    ck_assert_clseq_ok(clseq_mpi_shard(n, PM_BATCH, rank, size, rows, &count));
    for (size_t i = 0; i < count; i++) {
        memcpy(sx + i * (size_t)in, x + rows[i] * (size_t)in, (size_t)in * sizeof *x);
        memcpy(sy + i * PM_CLASSES, y + rows[i] * PM_CLASSES, PM_CLASSES * sizeof *y);
    }
    return count;
}

static clseq_fit_options options(void)
{
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = PM_EPOCHS;
    o.batch_size = PM_BATCH;
    o.shuffle = 0;
    return o;
}

/* 1 if every process holds the same count floats of w, to the bit. */
static int same_everywhere(const float *w, size_t count)
{
    static float lo[PM_MAX_VARS], hi[PM_MAX_VARS];
    MPI_Allreduce(w, lo, (int)count, MPI_FLOAT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(w, hi, (int)count, MPI_FLOAT, MPI_MAX, MPI_COMM_WORLD);
    return memcmp(lo, hi, count * sizeof *lo) == 0;
}

static void compare_optimizers(pm_kind kind)
{
    static float x[PM_ROWS * 72], y[PM_ROWS * PM_CLASSES], sx[PM_ROWS * 72],
        sy[PM_ROWS * PM_CLASSES];
    static float a[PM_MAX_VARS], b[PM_MAX_VARS];
    int in = pm_input_dim(kind);
    pm_data(kind, x, y);
    size_t n = shard(x, y, in, PM_ROWS, sx, sy);
    clseq_fit_options o = options();
    for (int opt = 0; opt < PM_OPTIMIZERS; opt++) {
        clseq_history *h1 = NULL, *h2 = NULL;
        clseq_model *one = pm_model(context(), kind, (clseq_optimizer_kind)opt);
        ck_assert_clseq_ok(clseq_fit(one, x, y, PM_ROWS, &o, &h1));
        size_t count = test_read_variables(one, a, PM_MAX_VARS);
        clseq_model *m = pm_model(context(), kind, (clseq_optimizer_kind)opt);
        ck_assert_clseq_ok(clseq_fit_mpi(m, MPI_COMM_WORLD, sx, sy, n, &o, &h2));
        ck_assert_uint_eq(test_read_variables(m, b, PM_MAX_VARS), count);
        double diff = pm_max_diff(a, b, count);
        if (rank == 0)
            printf("%s %s: 1 process vs %d, max |w1 - w2| = %.3g\n",
                   kind == PM_DENSE ? "dense" : "cnn", pm_optimizer_name((clseq_optimizer_kind)opt),
                   size, diff);
        ck_assert_msg(diff <= pm_tolerance((clseq_optimizer_kind)opt), "%s: weights differ by %g",
                      pm_optimizer_name((clseq_optimizer_kind)opt), diff);
        ck_assert_msg(same_everywhere(b, count), "the processes' weights differ");
        /* the history's loss is over every process's rows */
        const float *l1 = clseq_history_values(h1, "loss"), *l2 = clseq_history_values(h2, "loss");
        ck_assert_double_le(fabs(l1[PM_EPOCHS - 1] - l2[PM_EPOCHS - 1]),
                            1e-5 * fabs(l1[PM_EPOCHS - 1]));
        clseq_history_free(h1);
        clseq_history_free(h2);
        clseq_model_free(one);
        clseq_model_free(m);
    }
}

START_TEST(dense_every_optimizer)
{
    compare_optimizers(PM_DENSE);
}
END_TEST

START_TEST(cnn_every_optimizer)
{
    compare_optimizers(PM_CNN);
}
END_TEST

/* The shards cover every row once, in each process's order. */
START_TEST(shards_cover_the_rows)
{
    size_t count = 0, total = 0, rows[PM_ROWS];
    int seen[PM_ROWS] = {0};
    for (int r = 0; r < size; r++) {
        ck_assert_clseq_ok(clseq_mpi_shard(PM_ROWS, PM_BATCH, r, size, rows, &count));
        for (size_t i = 0; i < count; i++)
            seen[rows[i]]++;
        total += count;
    }
    ck_assert_uint_eq(total, PM_ROWS);
    for (int i = 0; i < PM_ROWS; i++)
        ck_assert_int_eq(seen[i], 1);
    ck_assert_int_eq(clseq_mpi_shard(PM_ROWS, 1, 0, 2, NULL, &count), CLSEQ_E_ARG);
}
END_TEST

/* Rank 1's device fails in the second of three epochs: both processes
 * return a failure (rank 1 its own, rank 0 one naming rank 1), neither
 * waits for the other, and rank 0's checkpoint of epoch 1 loads. */
START_TEST(a_failing_process_ends_the_fit_everywhere)
{
    static float x[PM_ROWS * 72], y[PM_ROWS * PM_CLASSES], sx[PM_ROWS * 72],
        sy[PM_ROWS * PM_CLASSES];
    pm_data(PM_DENSE, x, y);
    size_t n = shard(x, y, pm_input_dim(PM_DENSE), PM_ROWS, sx, sy);
    char dir[4096] = "", path[4200], first[4200];
    if (rank == 0)
        snprintf(dir, sizeof dir, "%s", test_temp_dir());
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    snprintf(path, sizeof path, "%s/epoch{epoch}.clseq", dir);
    snprintf(first, sizeof first, "%s/epoch1.clseq", dir);
    clseq_model_checkpoint ck = clseq_model_checkpoint_defaults(path);
    ck.monitor = "loss";
    clseq_fit_options o = options();
    o.epochs = 3;
    o.checkpoint = &ck;
    clseq_model *m = pm_model(context(), PM_DENSE, CLSEQ_OPT_ADAM);
    clseq_fault_arm(context(), LLONG_MAX);
    ck_assert_clseq_ok(clseq_fit_mpi(m, MPI_COMM_WORLD, sx, sy, n, &o, NULL));
    long long ops = clseq_fault_count(&context()->devices[0]);
    clseq_fault_arm(context(), rank == 1 ? ops / 2 : 0);
    clseq_model_free(m);
    m = pm_model(context(), PM_DENSE, CLSEQ_OPT_ADAM);
    clseq_status s = clseq_fit_mpi(m, MPI_COMM_WORLD, sx, sy, n, &o, NULL);
    clseq_fault_arm(context(), 0);
    ck_assert_msg(s != CLSEQ_OK, "rank %d: the fit returned CLSEQ_OK", rank);
    printf("rank %d: %s: %s\n", rank, clseq_status_name(s), clseq_last_error());
    if (rank == 1)
        ck_assert_ptr_nonnull(strstr(clseq_last_error(), "injected fault"));
    else
        ck_assert_msg(strstr(clseq_last_error(), "process 1") != NULL, "rank 0: %s",
                      clseq_last_error());
    if (rank == 0) {
        clseq_model *saved = NULL;
        ck_assert_clseq_ok(clseq_load(context(), first, &saved));
        clseq_model_free(saved);
    }
    /* and the next fit over both works */
    ck_assert_clseq_ok(clseq_fit_mpi(m, MPI_COMM_WORLD, sx, sy, n, &o, NULL));
    clseq_model_free(m);
}
END_TEST

static Suite *mpi_suite(void)
{
    Suite *s = suite_create("mpi");
    TCase *tc = tcase_create("processes");
    tcase_add_test(tc, shards_cover_the_rows);
    tcase_add_test(tc, dense_every_optimizer);
    tcase_add_test(tc, cnn_every_optimizer);
    tcase_add_test(tc, a_failing_process_ends_the_fit_everywhere);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int rc = test_run_suite(mpi_suite());
    /* every process's verdict: one failing fails the test */
    int worst = 0;
    MPI_Allreduce(&rc, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    clseq_ctx_free(ctx);
    MPI_Finalize();
    return worst;
}
