/* Keras's L1 / L2 / L1L2 weight regularizers: the penalty in the reported
 * loss (training and evaluation) and its gradient in the step, against
 * double-precision host code written from keras/src/regularizers (L1:
 * l1 sum|w|, L2: l2 sum w^2, added to the batch's mean loss); kept through
 * a save and load; bad settings refused. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

enum { N = 16, F = 3, K = 2 };

static const float L1_BIAS = 0.03f, L2_KERNEL = 0.05f, L1_KERNEL = 0.01f;

static clseq_model *regularized_model(clseq_ctx *ctx, float *kernel, float *bias)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(ctx, F, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, K, CLSEQ_SOFTMAX));
    test_fill_uniform(kernel, F * K, 21, -1.0f, 1.0f);
    test_fill_uniform(bias, K, 22, -0.5f, 0.5f);
    bias[1] = 0.0f; /* sign(0) = 0: no L1 pull */
    ck_assert_clseq_ok(clseq_set_weights(m, 0, kernel, bias));
    ck_assert_clseq_ok(clseq_set_regularizer(m, 0, "kernel", L1_KERNEL, L2_KERNEL));
    ck_assert_clseq_ok(clseq_set_regularizer(m, 0, "bias", L1_BIAS, 0.0f));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.5f, 0, 0),
                                     CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    return m;
}

static void data(float *x, float *y)
{
    test_fill_uniform(x, N * F, 23, -2.0f, 2.0f);
    for (int r = 0; r < N; r++)
        y[r] = (float)(r % K);
}

static double sign(double v)
{
    return v > 0 ? 1 : v < 0 ? -1 : 0;
}

/* Mean cross-entropy plus penalty, and the gradients of both, in double. */
static double host_loss(const float *kernel, const float *bias, const float *x, const float *y,
                        double *gk, double *gb)
{
    double loss = 0;
    memset(gk, 0, F * K * sizeof *gk);
    memset(gb, 0, K * sizeof *gb);
    for (int r = 0; r < N; r++) {
        double z[K], top = -INFINITY, sum = 0;
        for (int k = 0; k < K; k++) {
            z[k] = bias[k];
            for (int f = 0; f < F; f++)
                z[k] += (double)x[r * F + f] * kernel[f * K + k];
            top = z[k] > top ? z[k] : top;
        }
        for (int k = 0; k < K; k++)
            sum += exp(z[k] - top);
        for (int k = 0; k < K; k++) {
            double p = exp(z[k] - top) / sum, t = k == (int)y[r];
            if (t)
                loss -= log(p) / N;
            gb[k] += (p - t) / N;
            for (int f = 0; f < F; f++)
                gk[f * K + k] += (p - t) / N * x[r * F + f];
        }
    }
    for (int i = 0; i < F * K; i++) {
        loss += L1_KERNEL * fabs(kernel[i]) + L2_KERNEL * (double)kernel[i] * kernel[i];
        gk[i] += L1_KERNEL * sign(kernel[i]) + 2.0 * L2_KERNEL * kernel[i];
    }
    for (int k = 0; k < K; k++) {
        loss += L1_BIAS * fabs(bias[k]);
        gb[k] += L1_BIAS * sign(bias[k]);
    }
    return loss;
}

START_TEST(penalty_in_loss_and_step)
{
    float kernel[F * K], bias[K], x[N * F], y[N];
    data(x, y);
    clseq_model *m = regularized_model(test_ctx(), kernel, bias);
    double gk[F * K], gb[K];
    double loss = host_loss(kernel, bias, x, y, gk, gb);
    float evaluated;
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &evaluated, NULL));
    ck_assert_double_eq_tol(evaluated, loss, 1e-5);
    clseq_fit_options o = test_quiet_fit_options();
    o.batch_size = N;
    o.shuffle = 0;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, &h));
    /* the epoch's loss is the batch's, before its step */
    ck_assert_double_eq_tol(clseq_history_values(h, "loss")[0], loss, 1e-5);
    float k2[F * K], b2[K];
    ck_assert_clseq_ok(clseq_get_weights(m, 0, k2, b2));
    for (int i = 0; i < F * K; i++)
        ck_assert_double_eq_tol(k2[i], kernel[i] - 0.5 * gk[i], 1e-6);
    for (int k = 0; k < K; k++)
        ck_assert_double_eq_tol(b2[k], bias[k] - 0.5 * gb[k], 1e-6);
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

START_TEST(validation_loss_includes_penalty)
{
    float kernel[F * K], bias[K], x[N * F], y[N];
    data(x, y);
    clseq_model *m = regularized_model(test_ctx(), kernel, bias);
    clseq_fit_options o = test_quiet_fit_options();
    o.val_x = x;
    o.val_y = y;
    o.val_n = N;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, &h));
    float now;
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &now, NULL));
    ck_assert_float_eq_tol(clseq_history_values(h, "val_loss")[0], now, 1e-6f);
    /* and without the regularizers it is smaller by the penalty */
    ck_assert_clseq_ok(clseq_get_weights(m, 0, kernel, bias));
    double penalty = 0;
    for (int i = 0; i < F * K; i++)
        penalty += L1_KERNEL * fabs(kernel[i]) + L2_KERNEL * (double)kernel[i] * kernel[i];
    for (int k = 0; k < K; k++)
        penalty += L1_BIAS * fabs(bias[k]);
    ck_assert_clseq_ok(clseq_set_regularizer(m, 0, "kernel", 0, 0));
    ck_assert_clseq_ok(clseq_set_regularizer(m, 0, "bias", 0, 0));
    float plain;
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &plain, NULL));
    ck_assert_double_eq_tol(now - plain, penalty, 1e-5);
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

START_TEST(saved_and_loaded)
{
    float kernel[F * K], bias[K];
    clseq_model *m = regularized_model(test_ctx(), kernel, bias), *back = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s/reg.clseq", test_temp_dir());
    ck_assert_clseq_ok(clseq_save(m, path));
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &back));
    float l1, l2;
    ck_assert_clseq_ok(clseq_get_regularizer(back, 0, "kernel", &l1, &l2));
    ck_assert_float_eq(l1, L1_KERNEL);
    ck_assert_float_eq(l2, L2_KERNEL);
    ck_assert_clseq_ok(clseq_get_regularizer(back, 0, "bias", &l1, &l2));
    ck_assert_float_eq(l1, L1_BIAS);
    ck_assert_float_eq(l2, 0.0f);
    clseq_model_free(back);
    clseq_model_free(m);
}
END_TEST

START_TEST(bad_settings_refused)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create_shaped(test_ctx(), 1, (int[]){4}, &m));
    ck_assert_clseq_ok(clseq_add_batch_normalization(m, 0.99f, 1e-3f));
    ck_assert_clseq_ok(clseq_add_dense(m, 2, CLSEQ_SOFTMAX));
    ck_assert_int_eq(clseq_set_regularizer(m, 1, "kernel", -1.0f, 0), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_set_regularizer(m, 1, "kernel", 0, NAN), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_set_regularizer(m, 1, "gamma", 0, 0.1f), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "has no variable 'gamma'"));
    ck_assert_int_eq(clseq_set_regularizer(m, 0, "moving_mean", 0, 0.1f), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "not trainable"));
    ck_assert_clseq_ok(clseq_set_regularizer(m, 0, "gamma", 0, 0.1f));
    ck_assert_int_eq(clseq_set_regularizer(m, 5, "kernel", 0, 0.1f), CLSEQ_E_ARG);
    clseq_model_free(m);
}
END_TEST

static Suite *regularizers_suite(void)
{
    Suite *s = suite_create("regularizers");
    TCase *tc = tcase_create("regularizers");
    tcase_add_test(tc, penalty_in_loss_and_step);
    tcase_add_test(tc, validation_loss_includes_penalty);
    tcase_add_test(tc, saved_and_loaded);
    tcase_add_test(tc, bad_settings_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(regularizers_suite());
}
