/* The live progress bar (verbose 1 on a terminal, here a pseudo-terminal):
 * it is redrawn during the epoch with the running loss and metrics, on the
 * fused path too, erasing what a longer line left; and training drawn that
 * way (the fused kernel launched in parts) ends on the very weights of
 * training without a bar. */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

enum { N = 400, F = 4, K = 3 };

static clseq_model *model(clseq_ctx *ctx)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(ctx, F, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, 11));
    ck_assert_clseq_ok(clseq_add_dense(m, 8, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_dense(m, K, CLSEQ_SOFTMAX));
    ck_assert_clseq_ok(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                                     CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     CLSEQ_METRIC_ACCURACY));
    return m;
}

static void data(float *x, float *y)
{
    test_fill_uniform(x, N * F, 31, -1.0f, 1.0f);
    for (int r = 0; r < N; r++)
        y[r] = x[r * F] > 0.3f ? 2.0f : x[r * F + 1] > 0 ? 1.0f : 0.0f;
}

/* A pseudo-terminal: *master to read what is written to the returned
 * stream. */
static FILE *terminal(int *master)
{
    *master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(*master, 0);
    ck_assert_int_eq(grantpt(*master), 0);
    ck_assert_int_eq(unlockpt(*master), 0);
    int slave = open(ptsname(*master), O_RDWR | O_NOCTTY);
    ck_assert_int_ge(slave, 0);
    FILE *f = fdopen(slave, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert(isatty(fileno(f)));
    int flags = fcntl(*master, F_GETFL);
    fcntl(*master, F_SETFL, flags | O_NONBLOCK);
    return f;
}

/* What has been written to the terminal (grows *text): the terminal
 * hands it over asynchronously, so read until it has been quiet 200 ms. */
static void drain(int master, char *text, size_t size, size_t *used)
{
    struct pollfd p = {master, POLLIN, 0};
    while (*used + 1 < size && poll(&p, 1, 200) > 0) {
        ssize_t n = read(master, text + *used, size - *used - 1);
        if (n <= 0)
            break;
        *used += (size_t)n;
    }
    text[*used] = 0;
}

static void live_bar_on(int fused)
{
    clseq_ctx *ctx = test_ctx_with_fused(fused);
    static float x[N * F], y[N];
    data(x, y);
    clseq_model *drawn = model(ctx), *quiet = model(ctx);
    int master;
    FILE *tty = terminal(&master);
    static char text[1 << 18];
    size_t used = 0;
    clseq_fit_options o = clseq_fit_defaults();
    o.batch_size = 8; /* 50 steps: the bar is redrawn up to 20 times */
    o.epochs = 2;
    o.shuffle = 0;
    o.progress_stream = tty;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(drawn, x, y, N, &o, &h));
    fflush(tty);
    drain(master, text, sizeof text, &used);
    /* redraws before the epoch's last, each with the running values and
     * the erase */
    const char *redraw = strstr(text, "/50 [");
    while (redraw && (redraw[-1] == '0' && redraw[-2] == '5'))
        redraw = strstr(redraw + 1, "/50 [");
    ck_assert_msg(redraw != NULL, "no redraw before step 50:\n%s", text);
    ck_assert_msg(strstr(redraw, " - loss: ") && strstr(redraw, " - accuracy: "), "%s", redraw);
    ck_assert_msg(strstr(redraw, "\033[K") < strstr(redraw, "\r50/50"), "%s", redraw);
    float loss = -1;
    const char *at = strstr(redraw, " - loss: ");
    ck_assert_int_eq(sscanf(at, " - loss: %f", &loss), 1);
    ck_assert(isfinite(loss) && loss > 0);
    /* the epoch's line carries the history's values */
    char want[64];
    snprintf(want, sizeof want, "loss: %.4f", (double)clseq_history_values(h, "loss")[1]);
    ck_assert_msg(strstr(text, want), "'%s' not in:\n%s", want, text);
    /* drawn in parts or not, the same training */
    o.verbose = 0;
    o.progress_stream = NULL;
    ck_assert_clseq_ok(clseq_fit(quiet, x, y, N, &o, NULL));
    float a[128], b[128];
    size_t count = test_read_variables(drawn, a, 128);
    ck_assert_uint_eq(count, F * 8 + 8 + 8 * K + K);
    ck_assert_uint_eq(test_read_variables(quiet, b, 128), count);
    for (size_t i = 0; i < count; i++)
        ck_assert_msg(a[i] == b[i], "fused %d: weight %zu: %.9g drawn, %.9g quiet", fused, i,
                      (double)a[i], (double)b[i]);
    clseq_history_free(h);
    fclose(tty);
    close(master);
    clseq_model_free(drawn);
    clseq_model_free(quiet);
    clseq_ctx_free(ctx);
}

START_TEST(live_bar_layer_path)
{
    live_bar_on(0);
}
END_TEST

START_TEST(live_bar_fused_path)
{
    live_bar_on(1);
}
END_TEST

static Suite *progress_suite(void)
{
    Suite *s = suite_create("progress");
    TCase *tc = tcase_create("progress");
    tcase_add_test(tc, live_bar_layer_path);
    tcase_add_test(tc, live_bar_fused_path);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(progress_suite());
}
