/* Threads: one context per thread trains concurrently with the same results
 * as alone, and clseq_last_error() is per thread.
 *
 * Reference: each job run alone on the main thread, with its own context;
 * the concurrent runs must match it bit for bit (tolerance 0: the same
 * kernels on the same data with the same seed, and contexts share nothing).
 * Check's assertions are only made on the main thread, since a failing
 * assertion in another thread cannot unwind it. */
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { IN = 4, CLASSES = 3, ROWS = 1024, MAX_WEIGHTS = 4096 };

typedef struct job {
    uint64_t seed;
    int hidden;
    pthread_barrier_t *start;     /* NULL when run alone */
    clseq_status status;
    char error[512];
    double fit_start, fit_end;    /* CLOCK_MONOTONIC seconds */
    int moved;                    /* training changed the first weight */
    size_t weight_count;
    float weights[MAX_WEIGHTS];   /* every dense layer's kernel then bias */
} job;

static clseq_status collect_weights(clseq_model *m, job *j)
{
    clseq_status s = CLSEQ_OK;
    j->weight_count = 0;
    for (int i = 0; i < clseq_layer_count(m) && s == CLSEQ_OK; i++) {
        int in = 0, units = 0, dense = 0;
        if ((s = clseq_layer_info(m, i, &in, &units, NULL, &dense)) != CLSEQ_OK || !dense)
            continue;
        size_t n = (size_t)in * (size_t)units;
        if (j->weight_count + n + (size_t)units > MAX_WEIGHTS)
            return CLSEQ_E_SHAPE;
        float *k = j->weights + j->weight_count;
        s = clseq_get_weights(m, i, k, k + n);
        j->weight_count += n + (size_t)units;
    }
    return s;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Trains a small classifier on its own context; no Check calls in here. */
static clseq_status train(job *j)
{
    clseq_ctx *ctx = NULL;
    clseq_model *m = NULL;
    float *x = malloc(ROWS * IN * sizeof *x), *y = calloc(ROWS * CLASSES, sizeof *y);
    clseq_status s = x && y ? clseq_ctx_create(NULL, &ctx) : CLSEQ_E_NOMEM;
    if (s == CLSEQ_OK && j->start)
        pthread_barrier_wait(j->start);   /* both contexts ready: train at once */
    if (s == CLSEQ_OK)
        s = clseq_model_create(ctx, IN, &m);
    if (s == CLSEQ_OK && (s = clseq_model_set_seed(m, j->seed)) == CLSEQ_OK &&
        (s = clseq_add_dense(m, j->hidden, CLSEQ_TANH)) == CLSEQ_OK &&
        (s = clseq_add_dense(m, CLASSES, CLSEQ_SOFTMAX)) == CLSEQ_OK)
        s = clseq_compile(m, clseq_sgd(0.05f, 0.9f, 0), CLSEQ_CATEGORICAL_CROSSENTROPY,
                          CLSEQ_METRIC_ACCURACY);
    if (s == CLSEQ_OK) {
        test_fill_uniform(x, ROWS * IN, j->seed * 31 + 1, -1.0f, 1.0f);
        for (int r = 0; r < ROWS; r++)
            y[r * CLASSES + (x[r * IN] + x[r * IN + 1] > 0) + (x[r * IN + 2] > 0.5f)] = 1.0f;
        clseq_fit_options opt = clseq_fit_defaults();
        opt.epochs = 100;
        opt.batch_size = 16;
        opt.verbose = 0;
        size_t n = (size_t)IN * (size_t)j->hidden;
        float *kernel = malloc(2 * n * sizeof *kernel);
        s = kernel ? clseq_get_weights(m, 0, kernel, NULL) : CLSEQ_E_NOMEM;
        j->fit_start = now();
        if (s == CLSEQ_OK)
            s = clseq_fit(m, x, y, ROWS, &opt, NULL);
        j->fit_end = now();
        if (s == CLSEQ_OK && (s = clseq_get_weights(m, 0, kernel + n, NULL)) == CLSEQ_OK)
            j->moved = memcmp(kernel, kernel + n, n * sizeof *kernel) != 0;
        free(kernel);
    }
    if (s == CLSEQ_OK)
        s = collect_weights(m, j);
    if (s != CLSEQ_OK)
        snprintf(j->error, sizeof j->error, "%s", clseq_last_error());
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    free(x);
    free(y);
    return s;
}

static void *train_thread(void *arg)
{
    job *j = arg;
    j->status = train(j);
    return NULL;
}

START_TEST(test_concurrent_training_matches_alone)
{
    static job alone[2], together[2];
    const uint64_t seeds[2] = {17, 23};
    const int hidden[2] = {16, 24};
    for (int i = 0; i < 2; i++) {
        alone[i] = (job){.seed = seeds[i], .hidden = hidden[i]};
        ck_assert_msg(train(&alone[i]) == CLSEQ_OK, "alone %d: %s", i, alone[i].error);
    }
    pthread_barrier_t start;
    pthread_t threads[2];
    ck_assert_int_eq(pthread_barrier_init(&start, NULL, 2), 0);
    for (int i = 0; i < 2; i++) {
        together[i] = (job){.seed = seeds[i], .hidden = hidden[i], .start = &start};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, train_thread, &together[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < 2; i++) {
        ck_assert_msg(together[i].status == CLSEQ_OK, "thread %d: %s", i, together[i].error);
        ck_assert_int_eq(alone[i].moved, 1);
        ck_assert_uint_eq(together[i].weight_count, alone[i].weight_count);
        ck_assert_mem_eq(together[i].weights, alone[i].weights,
                         alone[i].weight_count * sizeof(float));
    }
    fprintf(stderr, "threads: fits alone %.3f s and %.3f s; together [%.3f, %.3f] and "
            "[%.3f, %.3f] s after the first start\n", alone[0].fit_end - alone[0].fit_start,
            alone[1].fit_end - alone[1].fit_start, 0.0, together[0].fit_end - together[0].fit_start,
            together[1].fit_start - together[0].fit_start,
            together[1].fit_end - together[0].fit_start);
    /* the fits overlapped in time, or this test proved nothing */
    ck_assert(together[1].fit_start < together[0].fit_end &&
              together[0].fit_start < together[1].fit_end);
    /* the two jobs really differ, so a mix-up between threads would show */
    ck_assert_uint_ne(alone[0].weight_count, alone[1].weight_count);
}
END_TEST

/* Each thread fails with its own bad token, waits while the other fails,
 * then reads its message back. */
typedef struct error_job {
    const char *token;
    pthread_barrier_t *step;
    char before[256];   /* last error before this thread failed */
    char after[256];    /* last error after the other thread failed too */
} error_job;

static void *error_thread(void *arg)
{
    error_job *e = arg;
    clseq_layer_spec spec[4];
    int count = 0;
    snprintf(e->before, sizeof e->before, "%s", clseq_last_error());
    (void)clseq_parse_layers(e->token, spec, 4, &count);
    pthread_barrier_wait(e->step);   /* both have failed */
    pthread_barrier_wait(e->step);   /* and neither has read yet */
    snprintf(e->after, sizeof e->after, "%s", clseq_last_error());
    return NULL;
}

START_TEST(test_last_error_is_per_thread)
{
    clseq_layer_spec spec[4];
    int count = 0;
    ck_assert_int_eq(clseq_parse_layers("dense:4:mainbogus", spec, 4, &count), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "mainbogus"));
    pthread_barrier_t step;
    ck_assert_int_eq(pthread_barrier_init(&step, NULL, 2), 0);
    error_job jobs[2] = {{"dense:4:bogusone", &step, "", ""}, {"dense:4:bogustwo", &step, "", ""}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&threads[i], NULL, error_thread, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_join(threads[i], NULL), 0);
    pthread_barrier_destroy(&step);
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(jobs[i].before, "");   /* a new thread starts with no error */
        ck_assert_msg(strstr(jobs[i].after, jobs[i].token + 8), "thread %d read '%s'", i,
                      jobs[i].after);
        ck_assert_ptr_null(strstr(jobs[i].after, jobs[1 - i].token + 8));
    }
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "mainbogus"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("threads");
    TCase *tc = tcase_create("threads");
    tcase_add_test(tc, test_last_error_is_per_thread);
    tcase_add_test(tc, test_concurrent_training_matches_alone);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
