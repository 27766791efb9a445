/* Keras 3's metrics: each metric of clseq_evaluate and clseq_fit (layer
 * path and fused trainer) against double-precision host code written from
 * Keras's formulas (keras/src/metrics/accuracy_metrics.py,
 * confusion_metrics.py, metrics_utils.py, trainers/compile_utils.py) on
 * hand-made predictions; Keras 3's choice of "accuracy" by shapes; the
 * cross-entropies' loss of a saturated model from its logits, as Keras's
 * TensorFlow backend computes it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

enum { N = 48, C = 4, AUC_T = 200 };

/* Every metric that compares outputs with targets of the same width. */
static const unsigned WIDE_METRICS = CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE |
                                     CLSEQ_METRIC_BINARY_ACCURACY | CLSEQ_METRIC_PRECISION |
                                     CLSEQ_METRIC_RECALL | CLSEQ_METRIC_AUC | CLSEQ_METRIC_TOP_K;

/* A model whose outputs are its inputs: Dense(cols, linear) with an
 * identity kernel and zero bias (x * 1 + 0 is exact in float), so the
 * inputs are the predictions the metrics see. */
static clseq_model *identity_model(clseq_ctx *ctx, int cols, unsigned metrics,
                                   const clseq_metric_options *mo)
{
    clseq_model *m = NULL;
    float kernel[C * C] = {0}, bias[C] = {0};
    for (int i = 0; i < cols; i++)
        kernel[i * cols + i] = 1.0f;
    ck_assert_clseq_ok(clseq_model_create(ctx, cols, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, cols, CLSEQ_LINEAR));
    ck_assert_clseq_ok(clseq_set_weights(m, 0, kernel, bias));
    if (mo)
        ck_assert_clseq_ok(clseq_set_metric_options(m, mo));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(1e-30f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR,
                                     metrics));
    return m;
}

/* Predictions with Keras's edge cases: exact 0, 1 and 0.5, values outside
 * [0, 1] (AUC clips them), bucket edges k / 199, ties inside a row and
 * across rows; targets 0/1 with some all-zero and all-one rows. */
static void hand_made(float *p, float *y)
{
    static const float special[] = {0.0f, 1.0f, 0.5f, -0.25f, 1.5f, 100.0f / 199.0f,
                                    0.3f, 0.3f, 0.7f, 0.7f, 0.25f};
    uint64_t st = 11;
    for (int i = 0; i < N * C; i++) {
        float u = test_uniform(&st, 0, 1);
        p[i] = i % 3 == 0 ? special[(i / 3) % (int)(sizeof special / sizeof *special)]
                          : roundf(u * 20.0f) / 20.0f; /* coarse: many ties */
        y[i] = test_uniform(&st, 0, 1) < 0.45f ? 1.0f : 0.0f;
    }
    for (int c = 0; c < C; c++) {
        y[5 * C + c] = 0.0f; /* an all-negative row */
        y[6 * C + c] = 1.0f; /* an all-positive row */
    }
}

/* The first index of the largest value, as ops.argmax. */
static int argmax(const float *x, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best])
            best = i;
    return best;
}

static double divide_no_nan(double a, double b)
{
    return b == 0 ? 0 : a / b;
}

/* keras.metrics.AUC() over flattened outputs p (n values) with targets y:
 * the buckets of
 * _update_confusion_matrix_variables_optimized (ceil(clip(p) * 199) - 1 in
 * float32, at least 0: thresholds_with_epsilon), the reversed cumulative
 * sums for tp and fp at each threshold, fn and tn as the totals' rest, and
 * AUC.result's interpolation sum with divide_no_nan. */
static double keras_auc(const float *p, const float *y, int n)
{
    double pos[AUC_T] = {0}, neg[AUC_T] = {0};
    for (int i = 0; i < n; i++) {
        float v = fminf(fmaxf(p[i], 0.0f), 1.0f);
        int b = (int)(ceilf(v * (float)(AUC_T - 1)) - 1.0f);
        b = b < 0 ? 0 : b;
        if (y[i] != 0)
            pos[b] += 1;
        else
            neg[b] += 1;
    }
    double tp[AUC_T], fp[AUC_T], fn[AUC_T], tn[AUC_T], P = 0, Nn = 0;
    for (int b = 0; b < AUC_T; b++)
        P += pos[b], Nn += neg[b];
    for (int i = 0; i < AUC_T; i++) {
        tp[i] = fp[i] = 0;
        for (int b = i; b < AUC_T; b++)
            tp[i] += pos[b], fp[i] += neg[b];
        fn[i] = P - tp[i];
        tn[i] = Nn - fp[i];
    }
    double area = 0;
    for (int i = 0; i + 1 < AUC_T; i++) {
        double r0 = divide_no_nan(tp[i], tp[i] + fn[i]), r1 = divide_no_nan(tp[i + 1], tp[i + 1] + fn[i + 1]);
        double f0 = divide_no_nan(fp[i], fp[i] + tn[i]), f1 = divide_no_nan(fp[i + 1], fp[i + 1] + tn[i + 1]);
        area += (f0 - f1) * (r0 + r1) / 2;
    }
    return area;
}

/* Keras's values, in bit order, of WIDE_METRICS for rows of n x cols
 * predictions p and targets y (unweighted: sample weights never weigh the
 * compile metrics). */
static void reference(const float *p, const float *y, int n, int cols, float threshold, int k,
                      double out[8])
{
    double acc = 0, mse = 0, mae = 0, bin = 0, topk = 0, tp = 0, fp = 0, fn = 0;
    for (int r = 0; r < n; r++) {
        const float *pr = p + r * cols, *yr = y + r * cols;
        double se = 0, ae = 0, hits = 0;
        /* categorical_accuracy: arg-maxes equal */
        acc += argmax(pr, cols) == argmax(yr, cols);
        int label = argmax(yr, cols), rank = 1;
        for (int c = 0; c < cols; c++) {
            double d = (double)pr[c] - yr[c];
            se += d * d;
            ae += fabs(d);
            hits += (pr[c] > threshold ? 1.0 : 0.0) == yr[c]; /* binary_accuracy */
            int pos = yr[c] != 0, pred = pr[c] > threshold;  /* cast to bool, > threshold */
            tp += pos && pred;
            fp += !pos && pred;
            fn += pos && !pred;
            rank += pr[c] > pr[label]; /* in_top_k: 1 + the values strictly above */
        }
        mse += se / cols;
        mae += ae / cols;
        bin += hits / cols;
        topk += rank <= k;
    }
    out[0] = acc / n;
    out[1] = mse / n;
    out[2] = mae / n;
    out[3] = bin / n;
    out[4] = divide_no_nan(tp, tp + fp);
    out[5] = divide_no_nan(tp, tp + fn);
    out[6] = keras_auc(p, y, n * cols);
    out[7] = topk / n;
}

static const char *const names[8] = {"accuracy",  "mse",    "mae", "binary_accuracy",
                                     "precision", "recall", "auc", "top_k_categorical_accuracy"};

/* Largest |got - want| over the 8 metrics, printed for the record. */
static double compare(const char *what, const float *got, const double *want)
{
    double worst = 0;
    for (int i = 0; i < 8; i++) {
        double d = fabs(got[i] - want[i]);
        ck_assert_msg(d < 2e-6, "%s: %s is %.9g, Keras's formula gives %.9g", what, names[i],
                      (double)got[i], want[i]);
        worst = d > worst ? d : worst;
    }
    printf("%s: largest difference %.3g\n", what, worst);
    return worst;
}

/* Tolerance 2e-6 absolute: each value is a float sum of at most 192
 * terms of at most 1 (counts and weights that are exact in float, so the
 * confusion metrics are exact but for the final division) rounded to float
 * once; a wrong formula moves a value by 1 / 192 at least. */
START_TEST(evaluate_matches_keras_formulas)
{
    static float p[N * C], y[N * C], w[N];
    hand_made(p, y);
    for (int r = 0; r < N; r++)
        w[r] = (float)((r * 7) % 5) * 0.5f; /* 0 to 2, some rows 0 */
    const struct {
        float threshold;
        int k;
    } settings[] = {{0.5f, 5}, {0.3f, 2}, {0.0f, 1}, {1.0f, 3}};
    for (size_t i = 0; i < sizeof settings / sizeof *settings; i++) {
        clseq_metric_options mo = clseq_metric_defaults();
        mo.threshold = settings[i].threshold;
        mo.k = settings[i].k;
        clseq_model *m = identity_model(test_ctx(), C, WIDE_METRICS, &mo);
        float loss, got[8];
        double want[8];
        char what[64];
        ck_assert_clseq_ok(clseq_evaluate(m, p, y, N, &loss, got));
        reference(p, y, N, C, mo.threshold, mo.k, want);
        snprintf(what, sizeof what, "threshold %g, k %d", (double)mo.threshold, mo.k);
        compare(what, got, want);
        /* sample weights weigh the loss only: Keras's compile metrics get
         * none (weighted_metrics would), so they are the unweighted ones */
        float weighted_loss;
        ck_assert_clseq_ok(clseq_evaluate_weighted(m, p, y, w, N, &weighted_loss, got));
        snprintf(what, sizeof what, "weighted, threshold %g, k %d", (double)mo.threshold, mo.k);
        compare(what, got, want);
        ck_assert_msg(weighted_loss != loss, "%s: the loss ignored the weights", what);
        clseq_model_free(m);
    }
}
END_TEST

/* AUC's edge cases: every target positive (fp_rate 0 everywhere: AUC 0
 * through divide_no_nan), every target negative (recall 0: AUC 0), every
 * prediction tied (one step: 0.5), a perfect ranking (1) and an inverted
 * one (0). */
START_TEST(auc_edge_cases)
{
    static float p[N * C], y[N * C];
    clseq_model *m = identity_model(test_ctx(), C, WIDE_METRICS, NULL);
    for (int cas = 0; cas < 5; cas++) {
        uint64_t st = 3;
        for (int i = 0; i < N * C; i++) {
            float u = test_uniform(&st, 0, 1);
            p[i] = cas == 2 ? 0.5f : u;
            y[i] = cas == 0 ? 1.0f : cas == 1 ? 0.0f : (float)(i % 2);
            if (cas == 3)
                p[i] = y[i] != 0 ? 0.6f + 0.4f * u : 0.4f * u;
            if (cas == 4)
                p[i] = y[i] != 0 ? 0.4f * u : 0.6f + 0.4f * u;
        }
        float loss, got[8];
        double want[8];
        ck_assert_clseq_ok(clseq_evaluate(m, p, y, N, &loss, got));
        reference(p, y, N, C, 0.5f, 5, want);
        char what[32];
        snprintf(what, sizeof what, "AUC case %d", cas);
        compare(what, got, want);
        const double expect[] = {0, 0, 0.5, 1, 0};
        ck_assert_double_eq_tol(got[6], expect[cas], 1e-6);
    }
    clseq_model_free(m);
}
END_TEST

/* sparse_top_k_categorical_accuracy on a softmax model with sparse labels:
 * ranks of softmax(x) are those of x, ties included (equal inputs give
 * equal probabilities). */
START_TEST(sparse_top_k_matches_in_top_k)
{
    enum { K = 6 };
    static float x[N * K], y[N], p[N * K];
    uint64_t st = 5;
    for (int i = 0; i < N * K; i++)
        x[i] = roundf(test_uniform(&st, -2, 2) * 2.0f) / 2.0f; /* ties */
    for (int r = 0; r < N; r++)
        y[r] = (float)(r % K);
    for (int k = 1; k <= K; k++) {
        clseq_model *m = NULL;
        float kernel[K * K] = {0}, bias[K] = {0};
        for (int i = 0; i < K; i++)
            kernel[i * K + i] = 1.0f;
        ck_assert_clseq_ok(clseq_model_create(test_ctx(), K, &m));
        ck_assert_clseq_ok(clseq_add_dense(m, K, CLSEQ_SOFTMAX));
        ck_assert_clseq_ok(clseq_set_weights(m, 0, kernel, bias));
        clseq_metric_options mo = clseq_metric_defaults();
        mo.k = k;
        ck_assert_clseq_ok(clseq_set_metric_options(m, &mo));
        ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.01f, 0, 0),
                                         CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
                                         CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_SPARSE_TOP_K));
        float loss, got[2];
        ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &loss, got));
        ck_assert_clseq_ok(clseq_predict(m, x, N, p));
        double hits = 0, acc = 0;
        for (int r = 0; r < N; r++) {
            int label = (int)y[r], rank = 1;
            for (int c = 0; c < K; c++)
                rank += p[r * K + c] > p[r * K + label];
            hits += rank <= k;
            acc += argmax(p + r * K, K) == label; /* sparse_categorical_accuracy */
        }
        ck_assert_double_eq_tol(got[0], acc / N, 1e-6);
        ck_assert_double_eq_tol(got[1], hits / N, 1e-6);
        if (k == K)
            ck_assert_double_eq_tol(got[1], 1.0, 1e-7);
        clseq_model_free(m);
    }
}
END_TEST

/* Keras 3's "accuracy" (compile_utils.get_metric): several sigmoid
 * outputs with binary cross-entropy are categorical accuracy, not binary
 * (which binary_accuracy gives by name); one output is binary. */
START_TEST(accuracy_follows_keras3_shapes)
{
    static float x[N * C], y[N * C], p[N * C];
    hand_made(x, y);
    for (int outputs = 1; outputs <= 3; outputs += 2) {
        clseq_model *m = NULL;
        ck_assert_clseq_ok(clseq_model_create(test_ctx(), C, &m));
        ck_assert_clseq_ok(clseq_model_set_seed(m, 4));
        ck_assert_clseq_ok(clseq_add_dense(m, outputs, CLSEQ_SIGMOID));
        ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.01f, 0, 0), CLSEQ_BINARY_CROSSENTROPY,
                                         CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_BINARY_ACCURACY));
        static float yy[N * 3];
        for (int r = 0; r < N; r++)
            for (int c = 0; c < outputs; c++)
                yy[r * outputs + c] = y[r * C + c];
        float loss, got[2];
        ck_assert_clseq_ok(clseq_evaluate(m, x, yy, N, &loss, got));
        ck_assert_clseq_ok(clseq_predict(m, x, N, p));
        double cat = 0, bin = 0;
        for (int r = 0; r < N; r++) {
            cat += argmax(p + r * outputs, outputs) == argmax(yy + r * outputs, outputs);
            for (int c = 0; c < outputs; c++)
                bin += ((p[r * outputs + c] > 0.5f ? 1.0 : 0.0) == yy[r * outputs + c]) /
                       (double)outputs;
        }
        ck_assert_double_eq_tol(got[1], bin / N, 1e-6);
        ck_assert_double_eq_tol(got[0], (outputs == 1 ? bin : cat) / N, 1e-6);
        if (outputs > 1)
            ck_assert_msg(fabs(cat - bin) > 0.5, "the data should tell the two apart");
        clseq_model_free(m);
    }
}
END_TEST

/* The metrics of clseq_fit, on the fused trainer and the layer path: one
 * batch holding every row, so the epoch's values are those of the
 * weights before the step; the val_ series as evaluate gives them after. */
START_TEST(fit_paths_report_the_same_metrics)
{
    static float p[N * C], y[N * C];
    hand_made(p, y);
    double want[8];
    reference(p, y, N, C, 0.5f, 5, want);
    for (int fused = 0; fused <= 1; fused++) {
        clseq_ctx *ctx = test_ctx_with_fused(fused);
        clseq_model *m = identity_model(ctx, C, WIDE_METRICS, NULL);
        clseq_fit_options o = clseq_fit_defaults();
        o.verbose = 0;
        o.batch_size = N;
        o.val_x = p;
        o.val_y = y;
        o.val_n = N;
        clseq_history *h = NULL;
        ck_assert_clseq_ok(clseq_fit(m, p, y, N, &o, &h));
        ck_assert_int_eq(clseq_history_series_count(h), 18);
        float got[8], val[8];
        for (int i = 0; i < 8; i++) {
            char name[64];
            snprintf(name, sizeof name, "val_%s", names[i]);
            ck_assert_ptr_nonnull(clseq_history_values(h, names[i]));
            ck_assert_ptr_nonnull(clseq_history_values(h, name));
            got[i] = clseq_history_values(h, names[i])[0];
            val[i] = clseq_history_values(h, name)[0];
        }
        compare(fused ? "fit, fused" : "fit, layer path", got, want);
        /* validation runs after the step: against evaluate on those weights */
        float loss, after[8];
        ck_assert_clseq_ok(clseq_evaluate(m, p, y, N, &loss, after));
        for (int i = 0; i < 8; i++)
            ck_assert_msg(fabsf(val[i] - after[i]) < 1e-6f, "val_%s %g, evaluate %g", names[i],
                          (double)val[i], (double)after[i]);
        clseq_history_free(h);
        clseq_model_free(m);
        clseq_ctx_free(ctx);
    }
}
END_TEST

/* A saturated model (initial kernel x 25): the probabilities of the wrong
 * classes underflow, so a loss from clipped probabilities would stop at
 * -log(1e-7) = 16.1; Keras's TensorFlow backend takes the logits
 * (softmax_cross_entropy_with_logits, sigmoid_cross_entropy_with_logits).
 * Reference in double from z = x W + b: CCE = logsumexp(z) - z_y, BCE =
 * mean over outputs of softplus(z) - y z. Evaluate and both fit paths
 * (one batch: the loss of the weights before the step). Tolerance:
 * relative 1e-5, because z of size ~100 carries float rounding of ~1e-5. */
START_TEST(saturated_loss_comes_from_logits)
{
    enum { IN = 5, OUT = 3, R = 16 };
    static float x[R * IN], y[R * OUT], kernel[IN * OUT], bias[OUT];
    const clseq_loss losses[] = {CLSEQ_CATEGORICAL_CROSSENTROPY,
                                 CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, CLSEQ_BINARY_CROSSENTROPY};
    test_fill_uniform(x, R * IN, 21, -2, 2);
    clseq_ctx *ctxs[3] = {test_ctx(), test_ctx_with_fused(0), test_ctx_with_fused(1)};
    for (int li = 0; li < 3; li++) {
        clseq_loss loss = losses[li];
        int bce = loss == CLSEQ_BINARY_CROSSENTROPY, sparse = loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY;
        int yw = sparse ? 1 : OUT;
        for (int r = 0; r < R; r++)
            for (int c = 0; c < yw; c++)
                y[r * yw + c] = sparse ? (float)(r % OUT)
                                : bce  ? (float)((r + c) % 2)
                                       : (float)(c == r % OUT);
        for (int layout = 0; layout < 2; layout++) { /* Dense(act) or Dense + Activation */
            clseq_activation act = bce ? CLSEQ_SIGMOID : CLSEQ_SOFTMAX;
            double want = 0;
            float got_eval = 0, got_fit[2] = {0};
            for (int fused = -1; fused <= 1; fused++) {
                clseq_ctx *ctx = ctxs[fused + 1];
                clseq_model *m = NULL;
                ck_assert_clseq_ok(clseq_model_create(ctx, IN, &m));
                ck_assert_clseq_ok(clseq_model_set_seed(m, 9));
                ck_assert_clseq_ok(clseq_add_dense(m, OUT, layout ? CLSEQ_LINEAR : act));
                if (layout)
                    ck_assert_clseq_ok(clseq_add_activation(m, act));
                ck_assert_clseq_ok(clseq_get_weights(m, 0, kernel, bias));
                for (int i = 0; i < IN * OUT; i++)
                    kernel[i] *= 25.0f;
                for (int i = 0; i < OUT; i++)
                    bias[i] = 0.1f * (float)i;
                ck_assert_clseq_ok(clseq_set_weights(m, 0, kernel, bias));
                ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(1e-6f, 0, 0), loss, 0));
                if (fused < 0) {
                    ck_assert_clseq_ok(clseq_evaluate(m, x, y, R, &got_eval, NULL));
                } else {
                    clseq_fit_options o = clseq_fit_defaults();
                    o.verbose = 0;
                    o.batch_size = R;
                    o.shuffle = 0;
                    clseq_history *h = NULL;
                    ck_assert_clseq_ok(clseq_fit(m, x, y, R, &o, &h));
                    got_fit[fused] = clseq_history_values(h, "loss")[0];
                    clseq_history_free(h);
                }
                clseq_model_free(m);
            }
            double saturated = 0, clipped = 0;
            for (int r = 0; r < R; r++) {
                double z[OUT], top = -INFINITY, sum = 0, l = 0;
                for (int c = 0; c < OUT; c++) {
                    z[c] = bias[c];
                    for (int k = 0; k < IN; k++)
                        z[c] += (double)x[r * IN + k] * kernel[k * OUT + c];
                    top = fmax(top, z[c]);
                    saturated = fmax(saturated, fabs(z[c]));
                }
                if (bce) {
                    for (int c = 0; c < OUT; c++) { /* softplus(z) - y z */
                        double t = y[r * OUT + c], q = 1 / (1 + exp(-z[c]));
                        q = fmin(fmax(q, 1e-7), 1 - 1e-7);
                        l += (fmax(z[c], 0) + log1p(exp(-fabs(z[c]))) - t * z[c]) / OUT;
                        clipped -= (t * log(q) + (1 - t) * log(1 - q)) / OUT / R;
                    }
                } else {
                    int label = sparse ? (int)y[r] : argmax(y + r * OUT, OUT);
                    for (int c = 0; c < OUT; c++)
                        sum += exp(z[c] - top);
                    l = top + log(sum) - z[label]; /* logsumexp(z) - z_y */
                    clipped -= log(fmin(fmax(exp(z[label] - top) / sum, 1e-7), 1 - 1e-7)) / R;
                }
                want += l / R;
            }
            ck_assert_msg(saturated > 50, "the model should saturate (|z| up to %g)", saturated);
            ck_assert_msg(want > clipped + 1, "the reference %g should differ from the loss "
                          "of clipped probabilities %g", want, clipped);
            double tol = 1e-5 * want;
            ck_assert_double_eq_tol(got_eval, want, tol);
            ck_assert_double_eq_tol(got_fit[0], want, tol);
            ck_assert_double_eq_tol(got_fit[1], want, tol);
            printf("saturated %s (%s): want %.6f (clipped %.4f), evaluate %+.3g, layer %+.3g, "
                   "fused %+.3g\n", clseq_loss_name(loss), layout ? "Dense + Activation" : "Dense",
                   want, clipped, got_eval - want, got_fit[0] - want, got_fit[1] - want);
        }
    }
    clseq_ctx_free(ctxs[1]);
    clseq_ctx_free(ctxs[2]);
}
END_TEST

/* Names, settings and refusals of the API. */
START_TEST(names_options_and_refusals)
{
    for (int i = 0; i < CLSEQ_METRIC_COUNT; i++) {
        unsigned bit = 0;
        ck_assert_ptr_nonnull(clseq_metric_name(1u << i));
        ck_assert_clseq_ok(clseq_metric_from_name(clseq_metric_name(1u << i), &bit));
        ck_assert_uint_eq(bit, 1u << i);
    }
    ck_assert_ptr_null(clseq_metric_name(CLSEQ_METRIC_AUC | CLSEQ_METRIC_MSE));
    ck_assert_ptr_null(clseq_metric_name(1u << CLSEQ_METRIC_COUNT));
    unsigned bit = 0;
    ck_assert_clseq_ok(clseq_metric_from_name("acc", &bit));
    ck_assert_uint_eq(bit, CLSEQ_METRIC_ACCURACY);
    ck_assert_int_eq(clseq_metric_from_name("f1_score", &bit), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "f1_score"));

    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 3, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, 4, CLSEQ_SOFTMAX));
    clseq_metric_options mo = clseq_metric_defaults(), back;
    ck_assert_float_eq(mo.threshold, 0.5f);
    ck_assert_int_eq(mo.k, 5);
    mo.threshold = 1.5f;
    ck_assert_int_eq(clseq_set_metric_options(m, &mo), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "threshold"));
    mo.threshold = 0.25f;
    mo.k = 0;
    ck_assert_int_eq(clseq_set_metric_options(m, &mo), CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "k must"));
    mo.k = 2;
    ck_assert_clseq_ok(clseq_set_metric_options(m, &mo));
    ck_assert_clseq_ok(clseq_get_metric_options(m, &back));
    ck_assert_float_eq(back.threshold, 0.25f);
    ck_assert_int_eq(back.k, 2);
    clseq_optimizer sgd = clseq_sgd(0.01f, 0, 0);
    ck_assert_int_eq(clseq_compile(m, sgd, CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
                                   CLSEQ_METRIC_PRECISION),
                     CLSEQ_E_ARG);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "precision"));
    ck_assert_int_eq(clseq_compile(m, sgd, CLSEQ_CATEGORICAL_CROSSENTROPY,
                                   CLSEQ_METRIC_SPARSE_TOP_K),
                     CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_compile(m, sgd, CLSEQ_CATEGORICAL_CROSSENTROPY, 1u << 12),
                     CLSEQ_E_ARG);
    ck_assert_clseq_ok(clseq_compile(m, sgd, CLSEQ_CATEGORICAL_CROSSENTROPY, WIDE_METRICS));
    /* the bits survive a model file */
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.clseq", test_temp_dir());
    ck_assert_clseq_ok(clseq_save(m, path));
    clseq_model *loaded = NULL;
    unsigned metrics = 0;
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &loaded));
    ck_assert_clseq_ok(clseq_model_compile_settings(loaded, NULL, NULL, &metrics));
    ck_assert_uint_eq(metrics, WIDE_METRICS);
    clseq_model_free(loaded);
    clseq_model_free(m);
}
END_TEST

static Suite *metrics_suite(void)
{
    Suite *s = suite_create("metrics");
    TCase *tc = tcase_create("metrics");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, evaluate_matches_keras_formulas);
    tcase_add_test(tc, auc_edge_cases);
    tcase_add_test(tc, sparse_top_k_matches_in_top_k);
    tcase_add_test(tc, accuracy_follows_keras3_shapes);
    tcase_add_test(tc, fit_paths_report_the_same_metrics);
    tcase_add_test(tc, saturated_loss_comes_from_logits);
    tcase_add_test(tc, names_options_and_refusals);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(metrics_suite());
}
