/* Edge cases found in review: a layer added after the workspace exists, a
 * model without weights, training again after divergence, epoch sums over
 * very many rows, and names with bad values. (The listed default device,
 * which follows $CLSEQ_DEVICE, is tested with the other defaults in
 * test_device.c.) */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/fused.h"
#include "testutil.h"

static clseq_fit_options quiet(int epochs, int batch)
{
    clseq_fit_options o = clseq_fit_defaults();
    o.epochs = epochs;
    o.batch_size = batch;
    o.verbose = 0;
    return o;
}

/* predict sizes a workspace per layer; a layer added afterwards must not
 * run on the old one (ASan sees the overflow in CI). */
START_TEST(layer_added_after_predict)
{
    clseq_model *m;
    float x[2 * 5], out[5 * 50];
    test_fill_uniform(x, 10, 3, -1, 1);
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 2, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, 3, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_predict(m, x, 5, out));
    ck_assert_clseq_ok(clseq_add_dense(m, 50, CLSEQ_TANH));
    ck_assert_clseq_ok(clseq_predict(m, x, 5, out));
    for (int i = 0; i < 5 * 50; i++)
        ck_assert(isfinite(out[i]) && fabsf(out[i]) <= 1.0f);
    clseq_model_free(m);
}
END_TEST

/* A model of activation layers only has nothing to train, and fit says so
 * by running, not by an OpenCL error. */
START_TEST(fit_without_weights)
{
    clseq_model *m;
    float x[8] = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f}, y[8], out[8];
    for (int i = 0; i < 8; i++)
        y[i] = 1.0f / (1.0f + expf(-x[i]));
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 2, &m));
    ck_assert_clseq_ok(clseq_add_activation(m, CLSEQ_SIGMOID));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.1f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    clseq_fit_options o = quiet(2, 2);
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, 4, &o, &h));
    ck_assert_float_eq_tol(clseq_history_values(h, "loss")[1], 0.0f, 1e-10f);
    ck_assert_clseq_ok(clseq_predict(m, x, 4, out));
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq_tol(out[i], y[i], 1e-6f);
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

/* After a diverged fit the optimizer starts afresh: a sane fit follows. */
START_TEST(training_resumes_after_divergence)
{
    enum { N = 64 };
    float x[N], y[N], loss;
    for (int i = 0; i < N; i++) {
        x[i] = -2.0f + 4.0f * i / (N - 1);
        y[i] = 0.5f * x[i] + 0.25f;
    }
    clseq_model *m;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 1, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, 1, CLSEQ_LINEAR));
    ck_assert_clseq_ok(clseq_compile(m, clseq_adam(1e30f, 0.9f, 0.999f, 1e-7f),
                                     CLSEQ_MEAN_SQUARED_ERROR, 0));
    clseq_fit_options o = quiet(3, 8);
    ck_assert_int_eq(clseq_fit(m, x, y, N, &o, NULL), CLSEQ_E_NUMERIC);
    ck_assert_clseq_ok(clseq_compile(m, clseq_adam(0.05f, 0.9f, 0.999f, 1e-7f),
                                     CLSEQ_MEAN_SQUARED_ERROR, 0));
    o.epochs = 60;
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, NULL));
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &loss, NULL));
    ck_assert_msg(loss < 1e-3f, "loss after recovery %g", loss);
    clseq_model_free(m);
}
END_TEST

/* Every row's loss is exactly log(4) (zero weights, learning too small to
 * move them): the epoch mean over a million rows must be log(4) too, on
 * both training paths (a context each). Plain float sums drifted by 0.6%
 * here. */
START_TEST(epoch_sums_over_many_rows)
{
    const size_t n = 1000000;
    float *x = calloc(n * 2, sizeof *x), *y = calloc(n * 4, sizeof *y);
    ck_assert(x && y);
    for (size_t i = 0; i < n; i++)
        y[i * 4 + i % 4] = 1.0f;
    float kernel[8] = {0}, bias[4] = {0};
    const int paths[] = {1, 0}; /* the fused option: the fused kernel, then the layer path */
    clseq_ctx *ctx[2] = {test_ctx_with_fused(paths[0]), test_ctx_with_fused(paths[1])};
    for (int p = 0; p < 2; p++) {
        clseq_model *m;
        clseq_history *h;
        ck_assert_clseq_ok(clseq_model_create(ctx[p], 2, &m));
        ck_assert_clseq_ok(clseq_add_dense(m, 4, CLSEQ_SOFTMAX));
        ck_assert_clseq_ok(clseq_set_weights(m, 0, kernel, bias));
        ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(1e-30f, 0, 0),
                                         CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY));
        ck_assert_int_eq(clseq_fused_applies(m, 1000), paths[p]); /* the path asked for */
        clseq_fit_options o = quiet(1, 1000);
        o.shuffle = 0;
        ck_assert_clseq_ok(clseq_fit(m, x, y, n, &o, &h));
        double want = log(4.0);
        double got = clseq_history_values(h, "loss")[0];
        ck_assert_msg(fabs(got - want) <= 1e-5 * want, "fused %d: mean loss %.7f, want %.7f",
                      paths[p], got, want);
        clseq_history_free(h);
        clseq_model_free(m);
    }
    clseq_ctx_free(ctx[0]);
    clseq_ctx_free(ctx[1]);
    free(x);
    free(y);
}
END_TEST

START_TEST(bad_learning_rates_by_name)
{
    clseq_optimizer o;
    ck_assert_int_eq(clseq_optimizer_from_name("sgd", -5.0f, &o), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "-5"), "%s", clseq_last_error());
    ck_assert_int_eq(clseq_optimizer_from_name("adam", NAN, &o), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_optimizer_from_name("rmsprop", INFINITY, &o), CLSEQ_E_ARG);
    ck_assert_clseq_ok(clseq_optimizer_from_name("adam", 0.0f, &o));
    ck_assert_float_eq(o.learning_rate, 0.001f);
    ck_assert_clseq_ok(clseq_optimizer_from_name("sgd", 0.5f, &o));
    ck_assert_float_eq(o.learning_rate, 0.5f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("edges");
    TCase *tc = tcase_create("edges");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, layer_added_after_predict);
    tcase_add_test(tc, fit_without_weights);
    tcase_add_test(tc, training_resumes_after_divergence);
    tcase_add_test(tc, epoch_sums_over_many_rows);
    tcase_add_test(tc, bad_learning_rates_by_name);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
