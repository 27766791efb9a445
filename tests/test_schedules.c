/* Keras's learning-rate schedules: their values against double-precision
 * formulas written from keras/src/optimizers/schedules/
 * learning_rate_schedule.py, the step count a fit evaluates them at (the
 * update's step count before it, as Keras passes iterations), and the
 * settings refused. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

static const double PI = 3.14159265358979323846;

static float value_at(const clseq_lr_schedule *s, long long step)
{
    float v = NAN;
    ck_assert_clseq_ok(clseq_lr_schedule_value(s, step, &v));
    return v;
}

START_TEST(exponential_values)
{
    clseq_lr_schedule s = clseq_exponential_decay(0.1f, 10, 0.5f, 0);
    clseq_lr_schedule stair = clseq_exponential_decay(0.1f, 10, 0.5f, 1);
    for (long long step = 0; step < 40; step += 3) {
        double smooth = 0.1 * pow(0.5, step / 10.0);
        double floored = 0.1 * pow(0.5, floor(step / 10.0));
        ck_assert_double_eq_tol(value_at(&s, step), smooth, 1e-7);
        ck_assert_double_eq_tol(value_at(&stair, step), floored, 1e-7);
    }
}
END_TEST

START_TEST(piecewise_values)
{
    const long long bounds[2] = {5, 9};
    const float values[3] = {1.0f, 0.5f, 0.1f};
    clseq_lr_schedule s = clseq_piecewise_constant_decay(2, bounds, values);
    /* step <= 5: 1.0; 5 < step <= 9: 0.5; after: 0.1 */
    ck_assert_float_eq(value_at(&s, 0), 1.0f);
    ck_assert_float_eq(value_at(&s, 5), 1.0f);
    ck_assert_float_eq(value_at(&s, 6), 0.5f);
    ck_assert_float_eq(value_at(&s, 9), 0.5f);
    ck_assert_float_eq(value_at(&s, 10), 0.1f);
    ck_assert_float_eq(value_at(&s, 1000000), 0.1f);
}
END_TEST

START_TEST(cosine_values_with_and_without_warmup)
{
    clseq_lr_schedule plain = clseq_cosine_decay(0.2f, 20, 0.1f, NAN, 0);
    clseq_lr_schedule warm = clseq_cosine_decay(0.0f, 20, 0.0f, 0.4f, 8);
    for (long long step = 0; step < 50; step++) {
        double t = step < 20 ? step : 20;
        double expect = 0.2 * (0.9 * 0.5 * (1 + cos(PI * t / 20)) + 0.1);
        ck_assert_double_eq_tol(value_at(&plain, step), expect, 2e-7);
        double w = step < 28 ? step : 28, warm_expect;
        if (w < 8)
            warm_expect = 0.4 * w / 8;
        else
            warm_expect = 0.4 * 0.5 * (1 + cos(PI * (w - 8) / 20));
        ck_assert_double_eq_tol(value_at(&warm, step), warm_expect, 2e-7);
    }
}
END_TEST

/* A one-layer model trained in full batches, so each epoch is one step;
 * on ctx (the layer path for comparisons: a scheduled fit takes it). */
static clseq_model *line_model(clseq_ctx *ctx)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(ctx, 2, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, 3));
    ck_assert_clseq_ok(clseq_add_dense(m, 1, CLSEQ_LINEAR));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.05f, 0.5f, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    return m;
}

static float halving(long long step, void *user_data)
{
    (void)user_data;
    return 0.08f / (float)(1 << step);
}

/* Step k uses the schedule's value at k: the same as setting those rates
 * by hand before each step. Also through a save and load in the middle,
 * with the schedule set again (the step count comes back with the file). */
START_TEST(fit_uses_the_value_at_each_step)
{
    enum { N = 8 };
    float x[N * 2], y[N];
    test_fill_uniform(x, N * 2, 9, -1.0f, 1.0f);
    for (int r = 0; r < N; r++)
        y[r] = 2.0f * x[2 * r] - x[2 * r + 1] + 0.5f;
    clseq_ctx *ctx = test_ctx_with_fused(0);
    clseq_model *scheduled = line_model(ctx), *by_hand = line_model(ctx);
    clseq_lr_schedule s = clseq_lr_function_schedule(halving, NULL);
    ck_assert_clseq_ok(clseq_set_lr_schedule(scheduled, &s));
    float lr;
    ck_assert_clseq_ok(clseq_get_learning_rate(scheduled, &lr));
    ck_assert_float_eq(lr, 0.08f);
    ck_assert_int_eq(clseq_set_learning_rate(scheduled, 0.1f), CLSEQ_E_STATE);
    clseq_fit_options o = clseq_fit_defaults();
    o.verbose = 0;
    o.batch_size = N;
    o.epochs = 2;
    o.shuffle = 0; /* the file keeps no shuffle stream: exact resume is without it */
    ck_assert_clseq_ok(clseq_fit(scheduled, x, y, N, &o, NULL));
    char path[512];
    snprintf(path, sizeof path, "%s/scheduled.clseq", test_temp_dir());
    ck_assert_clseq_ok(clseq_save(scheduled, path));
    clseq_model *loaded = NULL;
    ck_assert_clseq_ok(clseq_load(ctx, path, &loaded));
    ck_assert_clseq_ok(clseq_set_lr_schedule(loaded, &s));
    o.epochs = 4;
    o.initial_epoch = 2;
    ck_assert_clseq_ok(clseq_fit(loaded, x, y, N, &o, NULL));
    o.initial_epoch = 0;
    o.epochs = 1;
    for (int step = 0; step < 4; step++) {
        ck_assert_clseq_ok(clseq_set_learning_rate(by_hand, halving(step, NULL)));
        ck_assert_clseq_ok(clseq_fit(by_hand, x, y, N, &o, NULL));
    }
    float a[2], b[2], ab, bb;
    ck_assert_clseq_ok(clseq_get_weights(loaded, 0, a, &ab));
    ck_assert_clseq_ok(clseq_get_weights(by_hand, 0, b, &bb));
    ck_assert_float_eq(a[0], b[0]);
    ck_assert_float_eq(a[1], b[1]);
    ck_assert_float_eq(ab, bb);
    /* ReduceLROnPlateau cannot move a scheduled rate */
    clseq_reduce_lr_on_plateau r = clseq_reduce_lr_on_plateau_defaults();
    r.monitor = "loss";
    o.reduce_lr_on_plateau = &r;
    ck_assert_int_eq(clseq_fit(loaded, x, y, N, &o, NULL), CLSEQ_E_STATE);
    /* cleared, the rate is fixed again */
    ck_assert_clseq_ok(clseq_set_lr_schedule(loaded, NULL));
    ck_assert_clseq_ok(clseq_set_learning_rate(loaded, 0.1f));
    clseq_model_free(scheduled);
    clseq_model_free(loaded);
    clseq_model_free(by_hand);
    clseq_ctx_free(ctx);
}
END_TEST

START_TEST(bad_schedules_refused)
{
    clseq_model *m = line_model(test_ctx());
    clseq_lr_schedule s = clseq_exponential_decay(0.1f, 0, 0.5f, 0);
    ck_assert_int_eq(clseq_set_lr_schedule(m, &s), CLSEQ_E_ARG);
    s = clseq_exponential_decay(NAN, 10, 0.5f, 0);
    ck_assert_int_eq(clseq_set_lr_schedule(m, &s), CLSEQ_E_ARG);
    const long long down[2] = {9, 5};
    const float values[3] = {1, 0.5f, 0.1f};
    s = clseq_piecewise_constant_decay(2, down, values);
    ck_assert_int_eq(clseq_set_lr_schedule(m, &s), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "must increase"));
    s = clseq_piecewise_constant_decay(0, down, values);
    ck_assert_int_eq(clseq_set_lr_schedule(m, &s), CLSEQ_E_ARG);
    s = clseq_cosine_decay(0.1f, 10, 1.5f, NAN, 0);
    ck_assert_int_eq(clseq_set_lr_schedule(m, &s), CLSEQ_E_ARG);
    s = clseq_lr_function_schedule(NULL, NULL);
    ck_assert_int_eq(clseq_set_lr_schedule(m, &s), CLSEQ_E_ARG);
    clseq_model_free(m);
}
END_TEST

static Suite *schedules_suite(void)
{
    Suite *s = suite_create("schedules");
    TCase *tc = tcase_create("schedules");
    tcase_add_test(tc, exponential_values);
    tcase_add_test(tc, piecewise_values);
    tcase_add_test(tc, cosine_values_with_and_without_warmup);
    tcase_add_test(tc, fit_uses_the_value_at_each_step);
    tcase_add_test(tc, bad_schedules_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(schedules_suite());
}
