/* The Sequential model end to end: the seed session's 4-class blobs, XOR,
 * a 1-D regression, weights, evaluate against a host recomputation from
 * predict, history, validation_split, callbacks, seeds, divergence and the
 * errors a caller can make. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/rng.h"
#include "nn/model.h"
#include "testutil.h"

#define EXPECT(status, call)                                                               \
    ck_assert_msg((call) == (status), "%s: expected %s, got: %s", #call, #status,          \
                  clseq_last_error())

static clseq_fit_options quiet(int epochs, int batch)
{
    clseq_fit_options o = clseq_fit_defaults();
    o.epochs = epochs;
    o.batch_size = batch;
    o.verbose = 0;
    return o;
}

/* A model on the test device with layers {units, act} (units 0: an
 * Activation layer), compiled unless opt is NULL. */
static clseq_model *build(int input_dim, uint64_t seed, int layers, const int *units,
                          const clseq_activation *acts, const clseq_optimizer *opt,
                          clseq_loss loss, unsigned metrics)
{
    clseq_model *m;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), input_dim, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, seed));
    for (int i = 0; i < layers; i++)
        ck_assert_clseq_ok(units[i] ? clseq_add_dense(m, units[i], acts[i])
                                    : clseq_add_activation(m, acts[i]));
    if (opt)
        ck_assert_clseq_ok(clseq_compile(m, *opt, loss, metrics));
    return m;
}

/* The seed session: make_blobs(4000, 2 features, 4 centres, std 2, seed
 * 101), train_test_split(test_size=0.2, random_state=42), one-hot labels,
 * Dense(4, softmax), SGD 0.01, batch 4, 10 epochs, validation on the test
 * split. Keras gets a test loss of about 0.18 and accuracy >= 0.92. */
START_TEST(seed_session_blobs)
{
    enum { N = 4000, F = 2, C = 4, NTR = 3200, NTE = 800 };
    static double xd[N * F];
    static int labels[N];
    static float x[N * F], y[N * C], lab[N], xtr[NTR * F], ytr[NTR * C], xte[NTE * F],
        yte[NTE * C], p[NTE * C];
    static size_t train_idx[NTR], test_idx[NTE];
    size_t n_train, n_test;
    clseq_blobs_options bo = clseq_blobs_defaults();
    bo.n_samples = N, bo.n_features = F, bo.centers = C, bo.cluster_std = 2.0;
    bo.random_state = 101;
    ck_assert_clseq_ok(clseq_make_blobs(&bo, xd, labels));
    for (int i = 0; i < N * F; i++)
        x[i] = (float)xd[i];
    for (int i = 0; i < N; i++)
        lab[i] = (float)labels[i];
    ck_assert_clseq_ok(clseq_one_hot(lab, N, C, y));
    ck_assert_clseq_ok(clseq_split_sizes(N, 0.2, &n_train, &n_test));
    ck_assert(n_train == NTR && n_test == NTE);
    ck_assert_clseq_ok(clseq_train_test_split(N, 0.2, 42, train_idx, test_idx));
    ck_assert_clseq_ok(clseq_take_rows(x, N, F, train_idx, NTR, xtr));
    ck_assert_clseq_ok(clseq_take_rows(y, N, C, train_idx, NTR, ytr));
    ck_assert_clseq_ok(clseq_take_rows(x, N, F, test_idx, NTE, xte));
    ck_assert_clseq_ok(clseq_take_rows(y, N, C, test_idx, NTE, yte));

    clseq_optimizer sgd = clseq_sgd(0.01f, 0, 0);
    clseq_model *m = build(F, 0, 1, (int[]){C}, (clseq_activation[]){CLSEQ_SOFTMAX}, &sgd,
                           CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY);
    clseq_fit_options o = quiet(10, 4);
    o.val_x = xte;
    o.val_y = yte;
    o.val_n = NTE;
    clseq_history *h;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ck_assert_clseq_ok(clseq_fit(m, xtr, ytr, NTR, &o, &h));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    float loss, acc;
    ck_assert_clseq_ok(clseq_evaluate(m, xte, yte, NTE, &loss, &acc));
    printf("seed session: test loss %.4f, accuracy %.4f, fit %.3f s on %s\n", (double)loss,
           (double)acc, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
           clseq_ctx_device_name(test_ctx()));
    ck_assert_msg(acc >= 0.92f, "test accuracy %g < 0.92", (double)acc);
    ck_assert_msg(loss < 0.25f, "test loss %g >= 0.25", (double)loss);
    ck_assert_int_eq(clseq_history_epochs(h), 10);
    /* the last epoch's validation figures are evaluate's on the same rows */
    ck_assert_float_eq_tol(clseq_history_values(h, "val_loss")[9], loss, 1e-5f);
    ck_assert_float_eq_tol(clseq_history_values(h, "val_accuracy")[9], acc, 1e-6f);
    ck_assert(clseq_history_values(h, "loss")[9] < clseq_history_values(h, "loss")[0]);
    /* softmax rows are distributions */
    ck_assert_clseq_ok(clseq_predict(m, xte, NTE, p));
    for (int r = 0; r < NTE; r++) {
        double sum = (double)p[r * C] + p[r * C + 1] + p[r * C + 2] + p[r * C + 3];
        ck_assert_msg(fabs(sum - 1.0) < 1e-5, "row %d sums to %.8f", r, sum);
    }
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

/* XOR: not linearly separable, so the relu hidden layer has to work. */
START_TEST(xor_with_relu_hidden_layer)
{
    enum { N = 64 };
    static const float pts[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}}, labels[4] = {0, 1, 1, 0};
    float x[N * 2], y[N], p[4], loss, acc;
    for (int i = 0; i < N; i++) {
        memcpy(x + 2 * i, pts[i % 4], sizeof pts[0]);
        y[i] = labels[i % 4];
    }
    clseq_optimizer adam = clseq_adam(0.05f, 0.9f, 0.999f, 1e-7f);
    clseq_model *m = build(2, 3, 2, (int[]){16, 1}, (clseq_activation[]){CLSEQ_RELU, CLSEQ_SIGMOID},
                           &adam, CLSEQ_BINARY_CROSSENTROPY, CLSEQ_METRIC_ACCURACY);
    clseq_fit_options o = quiet(150, 16);
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, NULL));
    ck_assert_clseq_ok(clseq_predict(m, &pts[0][0], 4, p));
    for (int i = 0; i < 4; i++)
        ck_assert_msg((p[i] > 0.5f) == (labels[i] > 0.5f), "XOR(%g, %g): predicted %g",
                      (double)pts[i][0], (double)pts[i][1], (double)p[i]);
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &loss, &acc));
    ck_assert_float_eq(acc, 1.0f);
    ck_assert_msg(loss < 0.1f, "XOR loss %g", (double)loss);
    clseq_model_free(m);
}
END_TEST

/* y = sin(x) on [-3, 3] with a tanh hidden layer of 16 and Adam. */
START_TEST(regression_of_sine)
{
    enum { N = 200 };
    float x[N], y[N], loss, mse;
    for (int i = 0; i < N; i++)
        y[i] = sinf(x[i] = -3.0f + 6.0f * (float)i / (N - 1));
    clseq_optimizer adam = clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f);
    clseq_model *m = build(1, 11, 2, (int[]){16, 1}, (clseq_activation[]){CLSEQ_TANH, CLSEQ_LINEAR},
                           &adam, CLSEQ_MEAN_SQUARED_ERROR, CLSEQ_METRIC_MSE);
    clseq_fit_options o = quiet(300, 16);
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, NULL));
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &loss, &mse));
    ck_assert_msg(loss < 0.01f, "sine regression MSE %g", (double)loss);
    ck_assert_float_eq_tol(loss, mse, 1e-6f);
    clseq_model_free(m);
}
END_TEST

START_TEST(weights_round_trip)
{
    float k0[15], b0[5], k1[10], b1[2], k[15], b[5], x[6] = {1, 2, 3, -1, 0, 1}, p[4];
    clseq_model *m = build(3, 1, 3, (int[]){5, 0, 2},
                           (clseq_activation[]){CLSEQ_RELU, CLSEQ_TANH, CLSEQ_SOFTMAX}, NULL, 0, 0);
    ck_assert_int_eq(clseq_layer_count(m), 3);
    ck_assert_int_eq(clseq_model_output_dim(m), 2);
    /* Glorot uniform kernel within sqrt(6 / (fan_in + fan_out)), zero bias */
    ck_assert_clseq_ok(clseq_get_weights(m, 0, k, b));
    for (int i = 0; i < 15; i++)
        ck_assert(fabsf(k[i]) <= sqrtf(6.0f / 8.0f) && k[i] != 0.0f && (i >= 5 || b[i] == 0.0f));
    test_fill_uniform(k0, 15, 1, -3, 3);
    test_fill_uniform(b0, 5, 2, -3, 3);
    test_fill_uniform(k1, 10, 3, -3, 3);
    test_fill_uniform(b1, 2, 4, -3, 3);
    ck_assert_clseq_ok(clseq_set_weights(m, 0, k0, b0));
    ck_assert_clseq_ok(clseq_set_weights(m, 2, k1, b1));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.01f, 0, 0), CLSEQ_CATEGORICAL_CROSSENTROPY, 0));
    ck_assert_clseq_ok(clseq_predict(m, x, 2, p)); /* the weights go to the device and back */
    ck_assert_clseq_ok(clseq_get_weights(m, 0, k, b));
    ck_assert_mem_eq(k, k0, sizeof k0);
    ck_assert_mem_eq(b, b0, sizeof b0);
    ck_assert_clseq_ok(clseq_get_weights(m, 2, k, b));
    ck_assert_mem_eq(k, k1, sizeof k1);
    ck_assert_mem_eq(b, b1, sizeof b1);
    /* an Activation layer has no weights; bad weights are refused */
    EXPECT(CLSEQ_E_ARG, clseq_get_weights(m, 1, k, b));
    EXPECT(CLSEQ_E_ARG, clseq_set_weights(m, 1, k, b));
    EXPECT(CLSEQ_E_ARG, clseq_get_weights(m, 3, k, b));
    EXPECT(CLSEQ_E_ARG, clseq_set_weights(m, 0, NULL, b0));
    k0[4] = NAN;
    EXPECT(CLSEQ_E_NUMERIC, clseq_set_weights(m, 0, k0, b0));
    ck_assert_clseq_ok(clseq_get_weights(m, 0, k, b));
    ck_assert(isfinite(k[4]));
    clseq_model_free(m);
}
END_TEST

/* evaluate's loss and metrics recomputed on the host, in double, from
 * predict's outputs (4500 rows: more than one of evaluate's chunks). */
START_TEST(evaluate_matches_host_recomputation)
{
    enum { N = 4500, IN = 4 };
    static const clseq_loss losses[4] = {CLSEQ_CATEGORICAL_CROSSENTROPY,
                                         CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
                                         CLSEQ_BINARY_CROSSENTROPY, CLSEQ_MEAN_SQUARED_ERROR};
    static float x[N * IN], y[N * 3], p[N * 3];
    clseq_loss loss = losses[_i];
    int mse = loss == CLSEQ_MEAN_SQUARED_ERROR, bce = loss == CLSEQ_BINARY_CROSSENTROPY;
    int sparse = loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY;
    int out = bce || mse ? 2 : 3, yw = sparse ? 1 : out;
    clseq_activation act = bce ? CLSEQ_SIGMOID : mse ? CLSEQ_LINEAR : CLSEQ_SOFTMAX;
    test_fill_uniform(x, N * IN, 5, -2, 2);
    uint64_t st = 8;
    for (int r = 0; r < N; r++) {
        int cls = (int)test_uniform(&st, 0, (float)out);
        for (int j = 0; j < yw; j++) {
            float u = test_uniform(&st, 0, 1);
            y[r * yw + j] = sparse ? (float)cls : mse ? 2 * u - 1 : bce ? (float)(u < 0.5f)
                                                                        : (float)(j == cls);
        }
    }
    clseq_optimizer sgd = clseq_sgd(0.1f, 0, 0);
    clseq_model *m = build(IN, 21, 2, (int[]){6, out}, (clseq_activation[]){CLSEQ_TANH, act}, &sgd,
                           loss, mse ? CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE : CLSEQ_METRIC_ACCURACY);
    clseq_fit_options o = quiet(1, 64);
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, NULL)); /* away from the initial weights */
    float got_loss, got[2];
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &got_loss, got));
    ck_assert_clseq_ok(clseq_predict(m, x, N, p));
    double sum_loss = 0, sum_acc = 0, sum_mae = 0;
    for (int r = 0; r < N; r++) {
        const float *pr = p + r * out, *yr = y + r * yw;
        int best = 0, target = 0;
        double l = 0;
        for (int j = 0; j < out; j++) {
            double q = fmin(fmax(pr[j], 1e-7), 1 - 1e-7);
            double t = sparse ? (double)(j == (int)yr[0]) : yr[j];
            best = pr[j] > pr[best] ? j : best;
            target = t > (sparse ? 0.5 : yr[target]) ? j : target;
            if (bce) {
                l -= (t * log(q) + (1 - t) * log(1 - q)) / out;
            } else if (mse) {
                l += (pr[j] - t) * (pr[j] - t) / out;
                sum_mae += fabs(pr[j] - t) / out;
            } else {
                l -= t * log(q);
            }
        }
        sum_loss += l;
        /* Keras 3's "accuracy" by shapes (compile_utils.get_metric): two
         * sigmoid outputs against two target columns are categorical */
        sum_acc += best == target;
    }
    /* float sums of 4500 O(1) terms round like sqrt(4500) ulp (~4e-6
     * relative), at worst 4500 ulp (3e-4); a wrong formula (no mean over
     * the columns, no clipping, the wrong log) is off by far more */
    ck_assert_double_eq_tol(got_loss, sum_loss / N, 3e-4 * (1 + sum_loss / N));
    if (mse) {
        ck_assert_double_eq_tol(got[0], sum_loss / N, 3e-4 * (1 + sum_loss / N));
        ck_assert_double_eq_tol(got[1], sum_mae / N, 3e-4 * (1 + sum_mae / N));
    } else {
        ck_assert_double_eq_tol(got[0], sum_acc / N, 1e-6);
        ck_assert(sum_acc > 0.2 * N); /* a real figure, not a zero */
    }
    clseq_model_free(m);
}
END_TEST

/* A small regression problem for the tests below; rows 80.. are shifted. */
enum { RN = 100, RP = 2 * 4 + 4 + 4 + 1 };
static float rx[RN * 2], ry[RN];

static clseq_model *regression_model(uint64_t seed, float lr, unsigned metrics)
{
    test_fill_uniform(rx, RN * 2, 31, -1, 1);
    for (int i = 0; i < RN; i++)
        ry[i] = 0.7f * rx[2 * i] - 0.4f * rx[2 * i + 1] + 0.1f + (i >= 80 ? 0.5f : 0.0f);
    clseq_optimizer sgd = clseq_sgd(lr, 0, 0);
    return build(2, seed, 2, (int[]){4, 1}, (clseq_activation[]){CLSEQ_TANH, CLSEQ_LINEAR}, &sgd,
                 CLSEQ_MEAN_SQUARED_ERROR, metrics);
}

/* All RP parameters of a regression model, layer by layer. */
static void all_weights(clseq_model *m, float *w)
{
    ck_assert_clseq_ok(clseq_get_weights(m, 0, w, w + 8));
    ck_assert_clseq_ok(clseq_get_weights(m, 1, w + 12, w + 16));
}

static int stop_after_second(int epoch, const clseq_history *h, void *user_data)
{
    int *calls = user_data;
    ck_assert_int_eq(epoch, (*calls)++);
    ck_assert_int_eq(clseq_history_epochs(h), epoch + 1);
    return epoch == 1;
}

/* History series and epochs; validation_split holds out the last n -
 * int(n * (1 - split)) rows, as Keras does, before any shuffle: the last
 * epoch's val_loss is evaluate's on exactly those rows (rows 80.. differ
 * from the rest, so other rows would not match); a callback returning 1
 * stops after its epoch. Case 1 (0.2f of 100 rows) guards against
 * splitting at (size_t)(100 * (1 - (double)0.2f)) = 79: the user's decimal
 * 0.2 gives 80 rows to train on and 20 to validate. */
START_TEST(history_validation_split_and_callback)
{
    static const char *const names[4] = {"loss", "accuracy", "val_loss", "val_accuracy"};
    static const float splits[2] = {0.25f, 0.2f};
    static const int held[2] = {25, 20};
    clseq_model *m = regression_model(4, 0.05f, CLSEQ_METRIC_ACCURACY);
    clseq_fit_options o = quiet(10, 8);
    int calls = 0, first = RN - held[_i];
    o.validation_split = splits[_i];
    o.on_epoch_end = stop_after_second;
    o.user_data = &calls;
    clseq_history *h;
    ck_assert_clseq_ok(clseq_fit(m, rx, ry, RN, &o, &h));
    ck_assert_int_eq(calls, 2);
    ck_assert_int_eq(clseq_history_epochs(h), 2);
    ck_assert_int_eq(clseq_history_series_count(h), 4);
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(clseq_history_series_name(h, i), names[i]);
        const float *v = clseq_history_values(h, names[i]);
        ck_assert(v && isfinite(v[0]) && isfinite(v[1]));
    }
    ck_assert_ptr_null(clseq_history_series_name(h, 4));
    ck_assert_ptr_null(clseq_history_values(h, "mse"));
    float loss, acc, val_loss = clseq_history_values(h, "val_loss")[1];
    float val_acc = clseq_history_values(h, "val_accuracy")[1];
    ck_assert_clseq_ok(
        clseq_evaluate(m, rx + 2 * first, ry + first, (size_t)held[_i], &loss, &acc));
    clseq_history_free(h);
    clseq_model_free(m);
    ck_assert_msg(fabsf(val_loss - loss) <= 1e-5f,
                  "validation_split %g: val_loss %.7g, evaluate on the last %d rows %.7g",
                  (double)splits[_i], (double)val_loss, held[_i], (double)loss);
    ck_assert_float_eq_tol(val_acc, acc, 1e-6f);
}
END_TEST

/* The weights at the end of the last epoch the callback saw. */
typedef struct weight_log {
    clseq_model *m;
    float w[RP];
    int epochs;
} weight_log;

static int log_weights(int epoch, const clseq_history *h, void *user_data)
{
    (void)epoch, (void)h;
    weight_log *log = user_data;
    all_weights(log->m, log->w);
    log->epochs++;
    return 0;
}

/* Frees the model, then checks its weights were the logged ones. */
static void expect_logged_weights(const weight_log *log)
{
    float w[RP];
    all_weights(log->m, w);
    clseq_model_free(log->m);
    for (int i = 0; i < RP; i++)
        ck_assert_msg(isfinite(w[i]), "parameter %d is %g", i, (double)w[i]);
    ck_assert_mem_eq(w, log->w, sizeof w);
}

/* A learning rate of 1e30 blows the weights up within the first epoch: fit
 * stops with CLSEQ_E_NUMERIC and keeps the weights from before that epoch
 * (the ones an earlier fit's callback saw last). */
START_TEST(diverging_fit_keeps_last_good_weights)
{
    clseq_model *m = regression_model(6, 0.05f, 0);
    weight_log log = {.m = m};
    clseq_fit_options o = quiet(2, 10);
    o.on_epoch_end = log_weights;
    o.user_data = &log;
    ck_assert_clseq_ok(clseq_fit(m, rx, ry, RN, &o, NULL));
    ck_assert_int_eq(log.epochs, 2);
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(1e30f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    o.epochs = 20;
    clseq_history *h = (clseq_history *)&log; /* must come back NULL */
    EXPECT(CLSEQ_E_NUMERIC, clseq_fit(m, rx, ry, RN, &o, &h));
    ck_assert_ptr_null(h);
    ck_assert_int_eq(log.epochs, 2);
    ck_assert_msg(strstr(clseq_last_error(), "diverged"), "message: %s", clseq_last_error());
    expect_logged_weights(&log);
}
END_TEST

/* The update of an epoch's very last step can overflow although every
 * loss of that epoch was finite (each loss is taken before its update).
 * That is divergence too: CLSEQ_E_NUMERIC and the weights from before, for
 * a one-epoch fit (case 0) and when a next epoch follows (case 1), which
 * must not back up the overflowed weights as "good" ones. */
START_TEST(divergence_in_the_last_step_is_caught)
{
    clseq_model *m = regression_model(7, 0.05f, 0);
    weight_log log = {.m = m};
    log_weights(0, NULL, &log);
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(3e38f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    float far[RN]; /* targets ~100 away: gradients ~200, lr * g overflows */
    for (int i = 0; i < RN; i++)
        far[i] = ry[i] + 100.0f;
    clseq_fit_options o = quiet(1 + _i, RN); /* one step per epoch */
    clseq_status s = clseq_fit(m, rx, far, RN, &o, NULL);
    if (s != CLSEQ_E_NUMERIC)
        clseq_model_free(m);
    ck_assert_msg(s == CLSEQ_E_NUMERIC, "%d epoch(s): fit returned %s with the weights blown up",
                  1 + _i, clseq_status_name(s));
    expect_logged_weights(&log);
}
END_TEST

START_TEST(seeds_fix_initialisation_and_shuffling)
{
    static const uint64_t seeds[4] = {42, 42, 43, 44};
    float w[4][RP];
    for (int i = 0; i < 4; i++) {
        clseq_model *m = regression_model(seeds[i], 0.05f, 0);
        all_weights(m, w[i]);
        clseq_model_free(m);
    }
    ck_assert_mem_eq(w[0], w[1], sizeof w[0]);
    ck_assert(memcmp(w[0], w[2], sizeof w[0]) != 0 && memcmp(w[2], w[3], sizeof w[0]) != 0);
    /* the same starting weights, shuffled fits: the seed alone decides the order */
    float k[8], b[4];
    memcpy(k, w[3], sizeof k);
    memcpy(b, w[3] + 8, sizeof b);
    for (int i = 0; i < 3; i++) {
        clseq_model *m = regression_model(seeds[i], 0.05f, 0);
        ck_assert_clseq_ok(clseq_set_weights(m, 0, k, b));
        clseq_fit_options o = quiet(2, 7);
        ck_assert_clseq_ok(clseq_fit(m, rx, ry, RN, &o, NULL));
        all_weights(m, w[i]);
        clseq_model_free(m);
    }
    ck_assert_mem_eq(w[0], w[1], sizeof w[0]);
    ck_assert(memcmp(w[0], w[2], sizeof w[0]) != 0);
}
END_TEST

/* Initial weights come from stream 0 of the seed, exactly the draws 0.1
 * made (a host xoshiro256** seeded the same way is the reference), and the
 * shuffle stream does not depend on how many weights were drawn before it:
 * adding a layer no longer changes every later shuffle. */
START_TEST(random_streams_are_separate)
{
    static const int units[3] = {3, 2, 1};
    static const clseq_activation acts[3] = {CLSEQ_TANH, CLSEQ_TANH, CLSEQ_LINEAR};
    clseq_model *small = build(2, 99, 1, units, acts, NULL, CLSEQ_MEAN_SQUARED_ERROR, 0);
    clseq_model *large = build(2, 99, 3, units, acts, NULL, CLSEQ_MEAN_SQUARED_ERROR, 0);
    clseq_rng ref;
    clseq_rng_seed(&ref, 99);
    float kernel[6], limit = sqrtf(6.0f / (2 + 3));
    ck_assert_clseq_ok(clseq_get_weights(large, 0, kernel, NULL));
    for (int i = 0; i < 6; i++)
        ck_assert_float_eq(kernel[i], clseq_rng_uniform(&ref, -limit, limit));
    ck_assert_mem_eq(&small->shuffle_rng, &large->shuffle_rng, sizeof small->shuffle_rng);
    ck_assert(memcmp(&large->init_rng, &large->shuffle_rng, sizeof large->init_rng) != 0);
    ck_assert(memcmp(&large->shuffle_rng, &large->dropout_rng, sizeof large->init_rng) != 0);
    clseq_model_free(small);
    clseq_model_free(large);
}
END_TEST

/* A shaped input: Dense acts on the last axis (Keras), the summary shows
 * Keras's shapes and counts, and variables read and write by index. */
START_TEST(shaped_model_variables_and_summary)
{
    clseq_model *m;
    const int dims[2] = {3, 5};
    ck_assert_clseq_ok(clseq_model_create_shaped(test_ctx(), 2, dims, &m));
    ck_assert_int_eq(clseq_model_input_dim(m), 15);
    ck_assert_clseq_ok(clseq_add_dense(m, 4, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_activation(m, CLSEQ_SOFTMAX));
    int rank = 0, out[CLSEQ_MAX_RANK] = {0};
    ck_assert_clseq_ok(clseq_layer_output_shape(m, 1, &rank, out));
    ck_assert(rank == 2 && out[0] == 3 && out[1] == 4);
    ck_assert_int_eq(clseq_model_output_dim(m), 12);
    ck_assert_str_eq(clseq_layer_class(m, 0), "Dense");
    ck_assert_str_eq(clseq_layer_class(m, 1), "Activation");
    ck_assert_ptr_null(clseq_layer_class(m, 2));
    char summary[2048];
    ck_assert_clseq_ok(clseq_model_summary(m, summary, sizeof summary));
    ck_assert_msg(strstr(summary, " dense (Dense)") && strstr(summary, "(None, 3, 4)") &&
                      strstr(summary, "Total params: 24") &&
                      strstr(summary, "Trainable params: 24") &&
                      strstr(summary, "Non-trainable params: 0"),
                  "%s", summary);
    ck_assert_int_eq(clseq_variable_count(m, 0), 2);
    ck_assert_int_eq(clseq_variable_count(m, 1), 0);
    clseq_variable_info info;
    ck_assert_clseq_ok(clseq_get_variable_info(m, 0, 0, &info));
    ck_assert(strcmp(info.name, "kernel") == 0 && info.rank == 2 && info.shape[0] == 5 &&
              info.shape[1] == 4 && info.count == 20 && info.trainable);
    ck_assert_clseq_ok(clseq_get_variable_info(m, 0, 1, &info));
    ck_assert(strcmp(info.name, "bias") == 0 && info.rank == 1 && info.count == 4);
    EXPECT(CLSEQ_E_ARG, clseq_get_variable_info(m, 0, 2, &info));
    EXPECT(CLSEQ_E_ARG, clseq_get_variable_info(m, 1, 0, &info));
    float bias[4] = {0.5f, -1.0f, 2.0f, 0.25f}, back[4];
    ck_assert_clseq_ok(clseq_set_variable(m, 0, 1, bias));
    ck_assert_clseq_ok(clseq_get_variable(m, 0, 1, back));
    ck_assert_mem_eq(bias, back, sizeof bias);
    bias[2] = NAN;
    EXPECT(CLSEQ_E_NUMERIC, clseq_set_variable(m, 0, 1, bias));
    ck_assert_clseq_ok(clseq_get_variable(m, 0, 1, back));
    ck_assert_float_eq(back[2], 2.0f); /* a refused write changes nothing */
    /* predict: each of the 3 positions is a softmax over 4 values */
    float x[2 * 15], y[2 * 12];
    for (int i = 0; i < 30; i++)
        x[i] = (float)(i % 7) * 0.3f - 1.0f;
    ck_assert_clseq_ok(clseq_predict(m, x, 2, y));
    /* a softmax per position: Keras's cross-entropy would average over the
     * positions, clseq's loss rows are samples, so compile refuses it and
     * names the shape; a mean of all outputs (MSE) is fine */
    EXPECT(CLSEQ_E_ARG, clseq_compile(m, clseq_sgd(0.1f, 0, 0), CLSEQ_CATEGORICAL_CROSSENTROPY, 0));
    ck_assert_msg(strstr(clseq_last_error(), "3x4"), "%s", clseq_last_error());
    EXPECT(CLSEQ_E_ARG,
           clseq_compile(m, clseq_sgd(0.1f, 0, 0), CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, 0));
    for (int p = 0; p < 6; p++) {
        float sum = 0;
        for (int u = 0; u < 4; u++)
            sum += y[p * 4 + u];
        ck_assert_float_eq_tol(sum, 1.0f, 1e-5f);
    }
    const int bad[2] = {3, 0};
    clseq_model *none = NULL;
    EXPECT(CLSEQ_E_ARG, clseq_model_create_shaped(test_ctx(), 2, bad, &none));
    EXPECT(CLSEQ_E_ARG, clseq_model_create_shaped(test_ctx(), 4, dims, &none));
    ck_assert_ptr_null(none);
    clseq_model_free(m);
}
END_TEST

/* Asserts that the last error names every given fragment. */
static void expect_message(const char *a, const char *b)
{
    const char *msg = clseq_last_error();
    ck_assert_msg(strstr(msg, a) && (!b || strstr(msg, b)), "\"%s\" lacks \"%s\"/\"%s\"", msg, a,
                  b ? b : "");
}

START_TEST(call_order_and_arguments)
{
    clseq_model *m = build(2, 1, 0, NULL, NULL, NULL, 0, 0), *none;
    clseq_fit_options o = quiet(1, 10);
    clseq_optimizer sgd = clseq_sgd(0.01f, 0, 0);
    float loss, metric, out[RN];
    clseq_history *h;
    clseq_model_free(regression_model(1, 0.01f, 0)); /* fills rx, ry */
    EXPECT(CLSEQ_E_ARG, clseq_model_create(NULL, 2, &none));
    EXPECT(CLSEQ_E_ARG, clseq_model_create(test_ctx(), 2, NULL));
    EXPECT(CLSEQ_E_STATE, clseq_compile(m, sgd, CLSEQ_MEAN_SQUARED_ERROR, 0)); /* no layers */
    EXPECT(CLSEQ_E_ARG, clseq_add_dense(NULL, 4, CLSEQ_TANH));
    EXPECT(CLSEQ_E_ARG, clseq_add_dense(m, 0, CLSEQ_TANH));
    ck_assert_clseq_ok(clseq_add_dense(m, 4, CLSEQ_TANH));
    ck_assert_clseq_ok(clseq_add_dense(m, 1, CLSEQ_LINEAR));
    EXPECT(CLSEQ_E_STATE, clseq_fit(m, rx, ry, RN, &o, NULL)); /* fit before compile */
    EXPECT(CLSEQ_E_STATE, clseq_evaluate(m, rx, ry, RN, &loss, NULL));
    EXPECT(CLSEQ_E_ARG, clseq_compile(NULL, sgd, CLSEQ_MEAN_SQUARED_ERROR, 0));
    EXPECT(CLSEQ_E_ARG, clseq_compile(m, clseq_sgd(0.0f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    /* the cross-entropies need a softmax (sigmoid for binary) output */
    for (clseq_loss l = CLSEQ_CATEGORICAL_CROSSENTROPY; l <= CLSEQ_BINARY_CROSSENTROPY; l++)
        EXPECT(CLSEQ_E_ARG, clseq_compile(m, sgd, l, 0));
    EXPECT(CLSEQ_E_STATE, clseq_fit(m, rx, ry, RN, &o, NULL)); /* still not compiled */
    ck_assert_clseq_ok(clseq_compile(m, sgd, CLSEQ_MEAN_SQUARED_ERROR, CLSEQ_METRIC_MAE));
    EXPECT(CLSEQ_E_STATE, clseq_add_dense(m, 3, CLSEQ_LINEAR)); /* add after compile */
    EXPECT(CLSEQ_E_STATE, clseq_add_activation(m, CLSEQ_RELU));
    ck_assert_int_eq(clseq_layer_count(m), 2);
    /* NULL pointers and sizes */
    EXPECT(CLSEQ_E_ARG, clseq_fit(NULL, rx, ry, RN, &o, NULL));
    EXPECT(CLSEQ_E_ARG, clseq_fit(m, NULL, ry, RN, &o, NULL));
    EXPECT(CLSEQ_E_ARG, clseq_fit(m, rx, NULL, RN, &o, NULL));
    EXPECT(CLSEQ_E_ARG, clseq_fit(m, rx, ry, RN, NULL, NULL));
    EXPECT(CLSEQ_E_ARG, clseq_fit(m, rx, ry, 0, &o, &h));
    EXPECT(CLSEQ_E_ARG, clseq_evaluate(m, rx, ry, 0, &loss, &metric));
    EXPECT(CLSEQ_E_ARG, clseq_evaluate(m, rx, ry, RN, NULL, &metric));
    EXPECT(CLSEQ_E_ARG, clseq_evaluate(m, rx, ry, RN, &loss, NULL)); /* one metric asked for */
    EXPECT(CLSEQ_E_ARG, clseq_predict(m, rx, 0, out));
    EXPECT(CLSEQ_E_ARG, clseq_predict(m, rx, RN, NULL));
    EXPECT(CLSEQ_E_ARG, clseq_predict(NULL, rx, RN, out));
    EXPECT(CLSEQ_E_ARG, clseq_get_weights(NULL, 0, NULL, NULL));
    /* options: batch_size and epochs <= 0, a split of everything, val_n
     * without data, an unknown verbosity */
    for (int bad = 0; bad >= -3; bad -= 3) {
        o = quiet(1, bad);
        EXPECT(CLSEQ_E_ARG, clseq_fit(m, rx, ry, RN, &o, NULL));
        o = quiet(bad, 10);
        EXPECT(CLSEQ_E_ARG, clseq_fit(m, rx, ry, RN, &o, NULL));
    }
    o = quiet(1, 10);
    o.validation_split = 1.0f;
    EXPECT(CLSEQ_E_ARG, clseq_fit(m, rx, ry, RN, &o, NULL));
    o = quiet(1, 10);
    o.val_n = 5;
    EXPECT(CLSEQ_E_ARG, clseq_fit(m, rx, ry, RN, &o, NULL));
    /* the model still works; a batch larger than the data is one batch */
    o = quiet(1, 1000);
    ck_assert_clseq_ok(clseq_fit(m, rx, ry, RN, &o, &h));
    ck_assert_int_eq(clseq_history_epochs(h), 1);
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

/* NaN or Inf in the data: CLSEQ_E_NUMERIC naming the row and column; a
 * sparse label that is no class index: CLSEQ_E_ARG naming the row. */
START_TEST(bad_data_is_named)
{
    clseq_model *m = regression_model(1, 0.01f, 0);
    clseq_fit_options o = quiet(1, 10);
    float x[RN * 2], y[RN], loss, out[RN];
    memcpy(x, rx, sizeof x);
    memcpy(y, ry, sizeof y);
    x[7 * 2 + 1] = NAN;
    EXPECT(CLSEQ_E_NUMERIC, clseq_fit(m, x, ry, RN, &o, NULL));
    expect_message("row 7", "column 1");
    EXPECT(CLSEQ_E_NUMERIC, clseq_evaluate(m, x, ry, RN, &loss, NULL));
    expect_message("row 7", "column 1");
    EXPECT(CLSEQ_E_NUMERIC, clseq_predict(m, x, RN, out));
    expect_message("row 7", "column 1");
    y[42] = INFINITY;
    EXPECT(CLSEQ_E_NUMERIC, clseq_fit(m, rx, y, RN, &o, NULL));
    expect_message("row 42", NULL);
    EXPECT(CLSEQ_E_NUMERIC, clseq_evaluate(m, rx, y, RN, &loss, NULL));
    o.val_x = x;
    o.val_y = ry;
    o.val_n = RN;
    EXPECT(CLSEQ_E_NUMERIC, clseq_fit(m, rx, ry, RN, &o, NULL));
    expect_message("row 7", "column 1");
    clseq_model_free(m);
    /* sparse labels must be class indices: 4 classes, labels 0..3 */
    float xs[4 * 2] = {0, 1, 1, 0, 2, 2, -1, 0}, ys[4] = {0, 1, 2, 3};
    static const float bad[3] = {4.0f, -1.0f, 1.5f};
    clseq_optimizer sgd = clseq_sgd(0.01f, 0, 0);
    m = build(2, 1, 1, (int[]){4}, (clseq_activation[]){CLSEQ_SOFTMAX}, &sgd,
              CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, 0);
    o = quiet(1, 2);
    ck_assert_clseq_ok(clseq_fit(m, xs, ys, 4, &o, NULL));
    for (int i = 0; i < 3; i++) {
        ys[2] = bad[i];
        EXPECT(CLSEQ_E_ARG, clseq_fit(m, xs, ys, 4, &o, NULL));
        expect_message("row 2", NULL);
        EXPECT(CLSEQ_E_ARG, clseq_evaluate(m, xs, ys, 4, &loss, NULL));
    }
    clseq_model_free(m);
}
END_TEST

START_TEST(unknown_device_lists_devices)
{
    clseq_ctx *ctx = (clseq_ctx *)&ctx;
    EXPECT(CLSEQ_E_NODEVICE, clseq_ctx_create("nosuchdevice", &ctx));
    ck_assert_ptr_null(ctx);
    expect_message("nosuchdevice", NULL);
    const char *msg = clseq_last_error(), *name = clseq_ctx_device_name(test_ctx());
    ck_assert_msg(strstr(msg, "pthread") || strstr(msg, name),
                  "the message does not list the device \"%s\": %s", name, msg);
}
END_TEST

Suite *model_suite(void);
Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc = tcase_create("model");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, seed_session_blobs);
    tcase_add_test(tc, xor_with_relu_hidden_layer);
    tcase_add_test(tc, regression_of_sine);
    tcase_add_test(tc, weights_round_trip);
    tcase_add_loop_test(tc, evaluate_matches_host_recomputation, 0, 4);
    tcase_add_loop_test(tc, history_validation_split_and_callback, 0, 2);
    tcase_add_test(tc, diverging_fit_keeps_last_good_weights);
    tcase_add_loop_test(tc, divergence_in_the_last_step_is_caught, 0, 2);
    tcase_add_test(tc, seeds_fix_initialisation_and_shuffling);
    tcase_add_test(tc, random_streams_are_separate);
    tcase_add_test(tc, shaped_model_variables_and_summary);
    tcase_add_test(tc, call_order_and_arguments);
    tcase_add_test(tc, bad_data_is_named);
    tcase_add_test(tc, unknown_device_lists_devices);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(model_suite());
}
