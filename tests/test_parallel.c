/* Data-parallel training over several devices of one context (ctest runs
 * this suite with POCL_DEVICES="pthread pthread": two PoCL CPU devices).
 *
 * The reference is the same model trained from the same initial weights on
 * one device (a context of the first device alone), shuffle off, so both
 * see the same batches: the split fit must give the same weights up to the
 * order of float sums (pm_tolerance says how close and why), for a Dense
 * and a CNN model and every optimizer, with the ragged last batch of 2
 * rows. Also: both ways of summing gradients give identical floats;
 * unequal shares; a batch of one row (one device gets none); a wrong
 * normalisation would be caught (a fit with another batch size differs by
 * far more than the tolerance); evaluate and predict split rows; the
 * device spec's forms and errors; a device failing mid-fit ends the fit
 * with its status and leaves the last checkpoint whole. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parallel_models.h"
#include "runtime/runtime.h"
#include "testutil.h"

/* A context on spec with the layer path (the one-device reference must
 * not take the fused trainer's other float order) and exchange way. */
static clseq_ctx *context(const char *spec, int exchange)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    snprintf(o.device, sizeof o.device, "%s", spec);
    o.fused = 0;
    o.exchange = exchange;
    return test_ctx_with(&o);
}

/* The two devices' spec: the first device and the one after it. */
static const char *two_devices(void)
{
    return "all";
}

/* Trains kind's model with opt on ctx for PM_EPOCHS epochs of batch
 * rows, shuffle off; its variables into w (returns their count). */
static size_t train(clseq_ctx *ctx, pm_kind kind, clseq_optimizer_kind opt, int batch, size_t n,
                    float *w)
{
    float x[PM_ROWS * 72], y[PM_ROWS * PM_CLASSES];
    pm_data(kind, x, y);
    clseq_model *m = pm_model(ctx, kind, opt);
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = PM_EPOCHS;
    o.batch_size = batch;
    o.shuffle = 0;
    ck_assert_clseq_ok(clseq_fit(m, x, y, n, &o, NULL));
    size_t count = test_read_variables(m, w, PM_MAX_VARS);
    clseq_model_free(m);
    return count;
}

static clseq_ctx *one, *two, *two_host, *two_device;

static void open_contexts(void)
{
    one = context("0:0", -1);
    two = context(two_devices(), -1);
    ck_assert_msg(clseq_ctx_device_count(two) == 2,
                  "this suite needs two devices (POCL_DEVICES=\"pthread pthread\"), got %d",
                  clseq_ctx_device_count(two));
    two_host = context(two_devices(), 0);
    two_device = context(two_devices(), 1);
}

static void close_contexts(void)
{
    clseq_ctx_free(one);
    clseq_ctx_free(two);
    clseq_ctx_free(two_host);
    clseq_ctx_free(two_device);
}

/* 1 vs 2 devices for every optimizer on kind's model. */
static void compare_optimizers(pm_kind kind)
{
    static float a[PM_MAX_VARS], b[PM_MAX_VARS];
    for (int opt = 0; opt < PM_OPTIMIZERS; opt++) {
        size_t count = train(one, kind, (clseq_optimizer_kind)opt, PM_BATCH, PM_ROWS, a);
        ck_assert_uint_eq(train(two, kind, (clseq_optimizer_kind)opt, PM_BATCH, PM_ROWS, b),
                          count);
        double diff = pm_max_diff(a, b, count);
        printf("%s %s: 1 vs 2 devices, max |w1 - w2| = %.3g\n", kind == PM_DENSE ? "dense" : "cnn",
               pm_optimizer_name((clseq_optimizer_kind)opt), diff);
        ck_assert_msg(diff <= pm_tolerance((clseq_optimizer_kind)opt),
                      "%s: weights differ by %g", pm_optimizer_name((clseq_optimizer_kind)opt),
                      diff);
        /* the fit trained: the weights moved from where they started */
        clseq_model *m = pm_model(one, kind, (clseq_optimizer_kind)opt);
        static float start[PM_MAX_VARS];
        test_read_variables(m, start, PM_MAX_VARS);
        clseq_model_free(m);
        ck_assert_msg(pm_max_diff(start, b, count) > 100 * pm_tolerance((clseq_optimizer_kind)opt),
                      "%s: the weights hardly moved", pm_optimizer_name((clseq_optimizer_kind)opt));
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

/* Both exchanges add in device order: the very same floats. */
START_TEST(host_and_device_sums_agree)
{
    static float a[PM_MAX_VARS], b[PM_MAX_VARS];
    for (int kind = PM_DENSE; kind <= PM_CNN; kind++) {
        size_t count = train(two_host, (pm_kind)kind, CLSEQ_OPT_ADAM, PM_BATCH, PM_ROWS, a);
        train(two_device, (pm_kind)kind, CLSEQ_OPT_ADAM, PM_BATCH, PM_ROWS, b);
        ck_assert_msg(memcmp(a, b, count * sizeof *a) == 0,
                      "host and device sums differ by %g", pm_max_diff(a, b, count));
    }
}
END_TEST

/* Shares 3:1 split 16 rows 12 and 4; 49 rows end in a batch of one row,
 * which one device gets and the other does not. */
START_TEST(shares_and_a_one_row_batch)
{
    static float a[PM_MAX_VARS], b[PM_MAX_VARS];
    clseq_ctx *uneven = context("0:0@3,0:1@1", -1);
    for (int kind = PM_DENSE; kind <= PM_CNN; kind++) {
        size_t count = train(one, (pm_kind)kind, CLSEQ_OPT_SGD, PM_BATCH, 49, a);
        train(uneven, (pm_kind)kind, CLSEQ_OPT_SGD, PM_BATCH, 49, b);
        double diff = pm_max_diff(a, b, count);
        ck_assert_msg(diff <= pm_tolerance(CLSEQ_OPT_SGD), "shares 3:1: weights differ by %g",
                      diff);
        train(two, (pm_kind)kind, CLSEQ_OPT_SGD, PM_BATCH, 49, b);
        diff = pm_max_diff(a, b, count);
        ck_assert_msg(diff <= pm_tolerance(CLSEQ_OPT_SGD), "one-row batch: weights differ by %g",
                      diff);
    }
    clseq_ctx_free(uneven);
}
END_TEST

/* The check above can fail: averaging each device's loss over its own 8
 * rows, not the batch's 16, is what a fit with batches of 8 does, and its
 * weights are far outside the tolerance. */
START_TEST(wrong_normalisation_is_caught)
{
    static float a[PM_MAX_VARS], b[PM_MAX_VARS];
    size_t count = train(two, PM_DENSE, CLSEQ_OPT_SGD, PM_BATCH, PM_ROWS, a);
    train(one, PM_DENSE, CLSEQ_OPT_SGD, PM_BATCH / 2, PM_ROWS, b);
    ck_assert_double_gt(pm_max_diff(a, b, count), 100 * pm_tolerance(CLSEQ_OPT_SGD));
}
END_TEST

/* Evaluate and predict over both devices against the same on one. */
START_TEST(evaluate_and_predict_split_rows)
{
    float x[PM_ROWS * 72], y[PM_ROWS * PM_CLASSES];
    float p1[PM_ROWS * PM_CLASSES], p2[PM_ROWS * PM_CLASSES];
    for (int kind = PM_DENSE; kind <= PM_CNN; kind++) {
        pm_data((pm_kind)kind, x, y);
        clseq_model *m1 = pm_model(one, (pm_kind)kind, CLSEQ_OPT_ADAM);
        clseq_model *m2 = pm_model(two, (pm_kind)kind, CLSEQ_OPT_ADAM);
        float l1, l2, acc1, acc2;
        ck_assert_clseq_ok(clseq_evaluate(m1, x, y, PM_ROWS, &l1, &acc1));
        ck_assert_clseq_ok(clseq_evaluate(m2, x, y, PM_ROWS, &l2, &acc2));
        /* the loss is a mean of 50 per-row values summed in two parts */
        ck_assert_double_le(fabs(l1 - l2), 1e-6 * fabs(l1) + 1e-7);
        ck_assert_float_eq(acc1, acc2);
        ck_assert_clseq_ok(clseq_predict(m1, x, PM_ROWS, p1));
        ck_assert_clseq_ok(clseq_predict(m2, x, PM_ROWS, p2));
        /* each row's outputs come from the same kernels on the same weights */
        ck_assert_double_le(pm_max_diff(p1, p2, PM_ROWS * PM_CLASSES), 1e-6);
        clseq_model_free(m1);
        clseq_model_free(m2);
    }
}
END_TEST

START_TEST(device_specs)
{
    clseq_ctx *ctx = NULL;
    ck_assert_int_eq(clseq_ctx_device_count(two), 2);
    ck_assert_ptr_nonnull(clseq_ctx_device_name_at(two, 1));
    ck_assert_ptr_null(clseq_ctx_device_name_at(two, 2));
    ck_assert_int_eq(clseq_ctx_device_count(one), 1);
    ck_assert_int_eq(clseq_ctx_create("0:0,0:0", &ctx), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "named twice"));
    ck_assert_int_eq(clseq_ctx_create("0:0@0", &ctx), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "share"));
    ck_assert_int_eq(clseq_ctx_create("0:0@x,0:1", &ctx), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_ctx_create("0:0,9:9", &ctx), CLSEQ_E_NODEVICE);
    ck_assert_ptr_null(ctx);
    clseq_ctx_options o = clseq_ctx_defaults();
    o.exchange = 2;
    ck_assert_int_eq(clseq_ctx_create_with(&o, &ctx), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "exchange"));
}
END_TEST

/* A device operation failing on the second device in the second epoch:
 * the fit returns the failure (no hang, no CLSEQ_OK), the checkpoint of
 * the first epoch loads whole, and the context trains again after. */
START_TEST(device_failure_ends_the_fit)
{
    float x[PM_ROWS * 72], y[PM_ROWS * PM_CLASSES];
    pm_data(PM_DENSE, x, y);
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s", test_temp_dir());
    snprintf(path, sizeof path, "%s/epoch{epoch}.clseq", dir);
    clseq_model_checkpoint ck = clseq_model_checkpoint_defaults(path);
    ck.monitor = "loss";
    clseq_fit_options o = test_quiet_fit_options();
    o.epochs = 3;
    o.batch_size = PM_BATCH;
    o.shuffle = 0;
    o.checkpoint = &ck;
    /* count the second device's operations in a whole fit */
    clseq_model *m = pm_model(two, PM_DENSE, CLSEQ_OPT_ADAM);
    clseq_fault_arm(two, LLONG_MAX);
    ck_assert_clseq_ok(clseq_fit(m, x, y, PM_ROWS, &o, NULL));
    long long ops = clseq_fault_count(&two->devices[1]);
    clseq_fault_arm(two, 0);
    clseq_model_free(m);
    ck_assert_int_gt(ops, 10);
    /* fail one in the middle (epoch 2 of 3) */
    m = pm_model(two, PM_DENSE, CLSEQ_OPT_ADAM);
    clseq_fault_arm(two, ops / 2);
    clseq_status s = clseq_fit(m, x, y, PM_ROWS, &o, NULL);
    clseq_fault_arm(two, 0);
    ck_assert_msg(s == CLSEQ_E_CL || s == CLSEQ_E_NOMEM, "fit returned %s: %s",
                  clseq_status_name(s), clseq_last_error());
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "injected fault"));
    char first[4200];
    snprintf(first, sizeof first, "%s/epoch1.clseq", dir);
    clseq_model *saved = NULL;
    ck_assert_clseq_ok(clseq_load(one, first, &saved));
    clseq_model_free(saved);
    ck_assert_clseq_ok(clseq_fit(m, x, y, PM_ROWS, &o, NULL));
    clseq_model_free(m);
}
END_TEST

static Suite *parallel_suite(void)
{
    Suite *s = suite_create("parallel");
    TCase *tc = tcase_create("devices");
    tcase_add_unchecked_fixture(tc, open_contexts, close_contexts);
    tcase_add_test(tc, device_specs);
    tcase_add_test(tc, dense_every_optimizer);
    tcase_add_test(tc, cnn_every_optimizer);
    tcase_add_test(tc, host_and_device_sums_agree);
    tcase_add_test(tc, shares_and_a_one_row_batch);
    tcase_add_test(tc, wrong_normalisation_is_caught);
    tcase_add_test(tc, evaluate_and_predict_split_rows);
    tcase_add_test(tc, device_failure_ends_the_fit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(parallel_suite());
}
