/* Keras's sample_weight and class_weight: evaluate's weighted loss and
 * metrics and one weighted SGD step against double-precision host code
 * written from Keras's reductions (loss: sum(w l) / batch size; compile
 * metrics unweighted); class weights against the sample weights they stand
 * for; bad weights refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { N = 24, F = 3, K = 3 };

/* A one-layer softmax model with fixed weights (the host reference below
 * computes the same network in double). */
static clseq_model *softmax_model(clseq_ctx *ctx, float *kernel, float *bias)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(ctx, F, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, K, CLSEQ_SOFTMAX));
    test_fill_uniform(kernel, F * K, 5, -1.0f, 1.0f);
    test_fill_uniform(bias, K, 6, -0.5f, 0.5f);
    ck_assert_clseq_ok(clseq_set_weights(m, 0, kernel, bias));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.5f, 0, 0),
                                     CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
                                     CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_MSE));
    return m;
}

static void data(float *x, float *y, float *w)
{
    test_fill_uniform(x, N * F, 7, -2.0f, 2.0f);
    for (int r = 0; r < N; r++) {
        y[r] = (float)(r % K);
        w[r] = (float)((r * 7) % 5) * 0.5f; /* 0 to 2, some rows 0 */
    }
}

/* Softmax probabilities of row r in double. */
static void probabilities(const float *kernel, const float *bias, const float *x, double *p)
{
    double z[K], top = -INFINITY, sum = 0;
    for (int k = 0; k < K; k++) {
        z[k] = bias[k];
        for (int f = 0; f < F; f++)
            z[k] += (double)x[f] * kernel[f * K + k];
        top = z[k] > top ? z[k] : top;
    }
    for (int k = 0; k < K; k++)
        sum += (p[k] = exp(z[k] - top));
    for (int k = 0; k < K; k++)
        p[k] /= sum;
}

START_TEST(weighted_evaluate_matches_keras_reductions)
{
    float kernel[F * K], bias[K], x[N * F], y[N], w[N];
    data(x, y, w);
    clseq_model *m = softmax_model(test_ctx(), kernel, bias);
    double loss = 0, acc = 0, mse = 0, wsum = 0;
    for (int r = 0; r < N; r++) {
        double p[K];
        probabilities(kernel, bias, x + r * F, p);
        int label = (int)y[r], best = 0;
        for (int k = 1; k < K; k++)
            best = p[k] > p[best] ? k : best;
        double sq = 0;
        for (int k = 0; k < K; k++)
            sq += (p[k] - (k == label)) * (p[k] - (k == label));
        loss += w[r] * -log(p[label]);
        acc += best == label;
        mse += sq / K;
        wsum += w[r];
    }
    ck_assert(wsum != N); /* so a weighted mean would differ */
    float got_loss, metrics[2];
    ck_assert_clseq_ok(clseq_evaluate_weighted(m, x, y, w, N, &got_loss, metrics));
    ck_assert_double_eq_tol(got_loss, loss / N, 1e-5);
    /* the metrics stay unweighted, as Keras's compile metrics */
    ck_assert_double_eq_tol(metrics[0], acc / N, 1e-6);
    ck_assert_double_eq_tol(metrics[1], mse / N, 1e-6);
    /* unweighted evaluate is the weighted one with every weight 1 */
    float ones[N], a, b, ma[2], mb[2];
    for (int r = 0; r < N; r++)
        ones[r] = 1.0f;
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &a, ma));
    ck_assert_clseq_ok(clseq_evaluate_weighted(m, x, y, ones, N, &b, mb));
    ck_assert_float_eq(a, b);
    ck_assert_float_eq(ma[0], mb[0]);
    clseq_model_free(m);
}
END_TEST

START_TEST(weighted_step_matches_host_gradient)
{
    float kernel[F * K], bias[K], x[N * F], y[N], w[N];
    data(x, y, w);
    clseq_model *m = softmax_model(test_ctx(), kernel, bias);
    /* one full-batch SGD step: dL/dz_r = w_r (p_r - y_r) / N */
    double gk[F * K] = {0}, gb[K] = {0};
    for (int r = 0; r < N; r++) {
        double p[K];
        probabilities(kernel, bias, x + r * F, p);
        for (int k = 0; k < K; k++) {
            double dz = w[r] * (p[k] - (k == (int)y[r])) / N;
            gb[k] += dz;
            for (int f = 0; f < F; f++)
                gk[f * K + k] += dz * x[r * F + f];
        }
    }
    clseq_fit_options o = test_quiet_fit_options();
    o.batch_size = N;
    o.shuffle = 0;
    o.sample_weight = w;
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, NULL));
    float k2[F * K], b2[K];
    ck_assert_clseq_ok(clseq_get_weights(m, 0, k2, b2));
    for (int i = 0; i < F * K; i++)
        ck_assert_double_eq_tol(k2[i], kernel[i] - 0.5 * gk[i], 1e-6);
    for (int k = 0; k < K; k++)
        ck_assert_double_eq_tol(b2[k], bias[k] - 0.5 * gb[k], 1e-6);
    clseq_model_free(m);
}
END_TEST

/* class_weight is the sample weights it maps to: the same training, to the
 * bit, on the layer path both times. */
START_TEST(class_weight_is_its_sample_weights)
{
    float kernel[F * K], bias[K], x[N * F], y[N], w[N];
    data(x, y, w);
    const float per_class[2] = {0.25f, 3.0f}; /* class 2 is past the list: 1 */
    for (int r = 0; r < N; r++)
        w[r] = (int)y[r] < 2 ? per_class[(int)y[r]] : 1.0f;
    clseq_ctx *ctx = test_ctx_with_fused(0);
    clseq_model *a = softmax_model(ctx, kernel, bias), *b = softmax_model(ctx, kernel, bias);
    clseq_fit_options o = test_quiet_fit_options();
    o.batch_size = 5;
    o.epochs = 3;
    o.validation_split = 0.25f;
    clseq_history *ha = NULL, *hb = NULL;
    o.class_weight = per_class;
    o.class_weight_count = 2;
    ck_assert_clseq_ok(clseq_fit(a, x, y, N, &o, &ha));
    o.class_weight = NULL;
    o.sample_weight = w;
    ck_assert_clseq_ok(clseq_fit(b, x, y, N, &o, &hb));
    float ka[F * K], kb[F * K], ba[K], bb[K];
    ck_assert_clseq_ok(clseq_get_weights(a, 0, ka, ba));
    ck_assert_clseq_ok(clseq_get_weights(b, 0, kb, bb));
    for (int i = 0; i < F * K; i++)
        ck_assert_float_eq(ka[i], kb[i]);
    ck_assert_float_eq(clseq_history_values(ha, "loss")[2], clseq_history_values(hb, "loss")[2]);
    ck_assert_float_eq(clseq_history_values(ha, "val_loss")[2],
                       clseq_history_values(hb, "val_loss")[2]);
    /* and weighting changed the training: unweighted ends elsewhere */
    clseq_model *c = softmax_model(ctx, kernel, bias);
    o.sample_weight = NULL;
    ck_assert_clseq_ok(clseq_fit(c, x, y, N, &o, NULL));
    float kc[F * K];
    ck_assert_clseq_ok(clseq_get_weights(c, 0, kc, bb));
    int differs = 0;
    for (int i = 0; i < F * K; i++)
        differs |= kc[i] != ka[i];
    ck_assert(differs);
    clseq_history_free(ha);
    clseq_history_free(hb);
    clseq_model_free(a);
    clseq_model_free(b);
    clseq_model_free(c);
    clseq_ctx_free(ctx);
}
END_TEST

START_TEST(bad_weights_are_refused)
{
    float kernel[F * K], bias[K], x[N * F], y[N], w[N];
    data(x, y, w);
    clseq_model *m = softmax_model(test_ctx(), kernel, bias);
    const float classes[2] = {1, 2};
    clseq_fit_options o = test_quiet_fit_options();
    o.sample_weight = w;
    o.class_weight = classes;
    o.class_weight_count = 2;
    ck_assert_int_eq(clseq_fit(m, x, y, N, &o, NULL), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "together"));
    o.class_weight = NULL;
    w[5] = -1.0f;
    ck_assert_int_eq(clseq_fit(m, x, y, N, &o, NULL), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "sample_weight row 5 = -1"));
    w[5] = NAN;
    float loss, metrics[2];
    ck_assert_int_eq(clseq_evaluate_weighted(m, x, y, w, N, &loss, metrics), CLSEQ_E_ARG);
    o.sample_weight = NULL;
    o.class_weight = classes;
    o.class_weight_count = 0;
    ck_assert_int_eq(clseq_fit(m, x, y, N, &o, NULL), CLSEQ_E_ARG);
    clseq_model_free(m);
}
END_TEST

static Suite *weights_suite(void)
{
    Suite *s = suite_create("weights");
    TCase *tc = tcase_create("weights");
    tcase_add_test(tc, weighted_evaluate_matches_keras_reductions);
    tcase_add_test(tc, weighted_step_matches_host_gradient);
    tcase_add_test(tc, class_weight_is_its_sample_weights);
    tcase_add_test(tc, bad_weights_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(weights_suite());
}
