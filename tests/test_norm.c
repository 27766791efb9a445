/* Dropout and BatchNormalization in training mode (tests/test_layers.c's
 * table covers their inference passes, configs and variables).
 *
 * DROPOUT
 *  - mask rate: per rate r, enough forward passes of 2^20 values (each
 *    with its own key) that the fraction dropped must lie within 0.5% of r
 *    (relative): the passes give n >= (1 - r) / (r 1e-6) draws, so 0.5% r
 *    is at least 5 standard deviations sqrt(r (1 - r) / n) of a fair
 *    generator. Pairs of values are both dropped at r^2, again within 5
 *    sigma: neighbours (lag 1, neighbouring Philox blocks) and values n/4
 *    apart (lag n/4, the words of one block);
 *  - every kept value is exactly x / keep_prob in float, keep_prob =
 *    float(1.0 - r) with r the double the user wrote, as in Keras (C's
 *    division is IEEE's, rounded to nearest; the kernel's is corrected to
 *    match);
 *  - inference (clseq_forward(0), evaluate, predict) is the identity;
 *  - the mask is exactly Philox4x32-10 (checked on the host against
 *    Random123's known-answer vectors) of one key drawn per training pass
 *    from the model's dropout stream;
 *  - the same seed gives the same mask, another seed or the next pass
 *    another; a seed repeats a whole fit bit for bit;
 *  - backward of a training pass is dL/dy times the same mask / (1 - r),
 *    exactly; after an inference pass, dL/dy itself.
 *
 * BATCH NORMALIZATION, against references in double:
 *  - training forward: outputs, and the batch mean and biased variance
 *    (momentum 0 makes the moving statistics equal them after one pass),
 *    on rank-1 and rank-3 inputs, with and without center / scale, and on
 *    a 128 x 13 x 13 x 3 batch (43 segments of partial sums) both centred
 *    and offset by 1000 (where E[x^2] - E[x]^2 in float loses the
 *    variance entirely);
 *  - training-mode gradients of the input, gamma and beta against central
 *    differences (h = 1e-4) of the double reference of L = sum(y R), R
 *    random, as test_layers.c does;
 *  - one fit step updates moving = moving momentum + batch (1 - momentum)
 *    with the biased variance (the unbiased one would miss the tolerance
 *    by orders of magnitude, asserted), read through clseq_get_variable
 *    (so the host copy of the state is refreshed after fit); predict then
 *    normalises with the moving statistics and leaves them alone, and a
 *    saved and loaded model predicts the same;
 *  - a diverged epoch puts back the moving statistics with the weights;
 *  - a short fit of Dense -> BatchNormalization -> Dense lowers the loss.
 *
 * TOLERANCES (u = 2^-24; see test_layers.c for the general argument).
 * Every compared value comes from per-channel sums plus a few roundings:
 * elementwise |device - reference| <= TOL_C (terms + ULPS) u (|ref| +
 * scale), scale the tensor's largest |ref|. A sum here runs in a fixed
 * tree (cl/batch_norm.cl): each lane adds at most BN_SPAN = 512 positions,
 * the work-group's tree adds at most 8 levels and the segments are added
 * with Kahan compensation (2 u), so whatever the device's group shape a
 * chain of roundings is at most min(P, 512 + 8) + 2 long: terms =
 * min(P, 520) + 2 + C (C for the few values a gradient adds besides). ULPS
 * = 16 covers rsqrt (2 ulp) and the handful of products after it. For
 * inputs offset by 1000 the float mean itself is off by up to half an ulp
 * of 1000 (3.1e-5), which no algorithm avoids; outputs get 2 ulp(offset)
 * |gamma| / sigma more (E[x^2] - E[x]^2 in float gives 0.25 there with
 * pairwise sums, -1.6 with sequential ones, for a variance of 0.334). Teeth: a 5% error must fail on >= 90% of the
 * nonzero elements of every compared tensor group.
 * Measured on PoCL (CLSEQ_TEST_VERBOSE=1 prints it): at most 1.6% of the
 * tolerance used, 8% in the offset case; removing the xhat term from the
 * input gradient, using the unbiased variance or dropping a segment's
 * partial sums fails by 20 to 70000 times the tolerance. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"
#include "nn/model.h"
#include "nn/model_io.h"
#include "nn/train.h"
#include "testutil.h"

#define UNIT_ROUNDOFF (FLT_EPSILON / 2)
#define TOL_C 2.0
#define ULPS 16
#define STEP 1e-4
#define TEETH_SCALE 1.05
#define TEETH_SHARE 0.9
#define BN_EPS 1e-3f

static double worst_ratio; /* largest error / tolerance seen (verbose report) */

/* ---- shared helpers ----------------------------------------------------- */

static float *floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static double *doubles(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static size_t in_values(const clseq_model *m, int rows)
{
    return (size_t)rows * (size_t)clseq_model_input_dim(m);
}

static size_t out_values(const clseq_model *m, int rows)
{
    return (size_t)rows * (size_t)clseq_model_output_dim(m);
}

/* fit's defaults without progress lines, batch_size rows a step. */
static clseq_fit_options quiet_fit(int batch_size)
{
    clseq_fit_options o = clseq_fit_defaults();
    o.verbose = 0;
    o.batch_size = batch_size;
    return o;
}

/* x -> the model's input buffer (device current, workspace for rows). */
static void upload_input(clseq_model *m, const float *x, int rows)
{
    ck_assert_clseq_ok(clseq_model_sync_device(m));
    ck_assert_clseq_ok(clseq_workspace_reserve(m, rows));
    ck_assert_clseq_ok(
        clseq_buffer_write(m->dev, m->work.input, 0, in_values(m, rows) * sizeof(float), x));
}

/* clseq_forward over the uploaded input; out gets the last layer's output. */
static void forward(clseq_model *m, int rows, int training, float *out)
{
    ck_assert_clseq_ok(clseq_forward(m, rows, training));
    ck_assert_clseq_ok(clseq_buffer_read(m->dev, m->work.outputs[m->layer_count - 1], 0,
                                         out_values(m, rows) * sizeof(float), out));
}

/* clseq_backward from dL/dy = r; d_in gets dL/dx. */
static void backward(clseq_model *m, int rows, const float *r, float *d_in)
{
    cl_mem grad = NULL;
    ck_assert_clseq_ok(clseq_buffer_write(m->dev, m->work.delta[0], 0,
                                          out_values(m, rows) * sizeof(float), r));
    ck_assert_clseq_ok(clseq_backward(m, rows, 0, &grad));
    ck_assert_clseq_ok(
        clseq_buffer_read(m->dev, grad, 0, in_values(m, rows) * sizeof(float), d_in));
}

/* A variable's device values (params, state) or its gradient (grads):
 * after a bare clseq_forward the host copies are not refreshed. */
static void read_device(clseq_model *m, int layer, int index, int gradient, float *out)
{
    const clseq_layer *l = &m->layers[layer];
    int v = l->first_variable + index;
    cl_mem buf = gradient ? m->grads : m->vars[v].trainable ? m->params : m->state;
    ck_assert_clseq_ok(clseq_buffer_read(m->dev, buf, m->var_offset[v] * sizeof(float),
                                         m->vars[v].count * sizeof(float), out));
}

/* Elementwise check with the header's tolerance plus abs_extra; counts
 * the teeth into *fail / *nonzero. */
static void compare(const char *what, const float *got, const double *want, size_t n, int terms,
                    double abs_extra, long *fail, long *nonzero)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++)
        scale = fmax(scale, fabs(want[i]));
    double rel = TOL_C * (terms + ULPS) * UNIT_ROUNDOFF, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double tol = rel * (fabs(want[i]) + scale) + abs_extra;
        double err = fabs((double)got[i] - want[i]);
        double ratio = tol > 0 ? err / tol : err > 0 ? INFINITY : 0;
        if (isnan(ratio)) /* a NaN output fails too */
            ratio = INFINITY;
        if (ratio > worst || i == 0) {
            worst = ratio;
            at = i;
        }
        if (want[i] != 0) {
            ++*nonzero;
            *fail += fabs(TEETH_SCALE * got[i] - want[i]) > tol;
        }
    }
    /* one assertion (Check records each passing one), naming the worst element */
    ck_assert_msg(worst <= 1, "%s[%zu] is %.9g, the reference %.9g (error / tolerance %.3g)",
                  what, at, (double)got[at], want[at], worst);
    worst_ratio = fmax(worst_ratio, worst);
}

static void check_teeth(const char *what, long fail, long nonzero)
{
    ck_assert_msg(nonzero > 0 && (double)fail >= TEETH_SHARE * (double)nonzero,
                  "%s: a 5%% error fails on only %ld of %ld nonzero elements", what, fail,
                  nonzero);
}

/* ---- Dropout ------------------------------------------------------------- */

enum { DROP_FEATURES = 1024, DROP_ROWS = 1024 }; /* 2^20 values a pass */

static clseq_model *dropout_model(int features, float rate)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), features, &m));
    ck_assert_clseq_ok(clseq_add_dropout(m, rate));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.01f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    return m;
}

/* within 5 sigma of a binomial(n, p) share */
static void assert_share(const char *what, double rate, long hits, long n, double p)
{
    double share = (double)hits / (double)n, sigma = sqrt(p * (1 - p) / (double)n);
    ck_assert_msg(fabs(share - p) <= 5 * sigma, "rate %g: %s %.6f, expected %.6f +- 5 x %.2g",
                  rate, what, share, p, sigma);
}

START_TEST(dropout_mask_rate_and_kept_values)
{
    /* rates as the user writes them; keep_prob as Keras forms it, 1.0 -
     * rate in double (the library does the same from the float's decimal) */
    static const double rates[] = {0.1, 0.25, 0.5, 0.8};
    const float rate = (float)rates[_i], keep = (float)(1.0 - rates[_i]);
    const size_t n = (size_t)DROP_FEATURES * DROP_ROWS;
    /* passes so that 0.5% of the rate is >= 5 sigma (header) */
    double need = (1.0 - rate) / (rate * 1e-6);
    int passes = (int)ceil(need / (double)n);
    clseq_model *m = dropout_model(DROP_FEATURES, rate);
    float *x = floats(n), *y = floats(n);
    test_fill_uniform(x, n, 11, 0.5f, 1.5f); /* nonzero: a zero output is a drop */
    upload_input(m, x, DROP_ROWS);
    const size_t quarter = n / 4; /* the same Philox block's next word (cl/dropout.cl) */
    long dropped = 0, lag1 = 0, lag_q = 0, wrong = 0;
    size_t first_wrong = 0;
    for (int pass = 0; pass < passes; pass++) {
        forward(m, DROP_ROWS, 1, y);
        /* no ck_assert per element: Check records every passing assertion */
        for (size_t i = 0; i < n; i++) {
            if (y[i] == 0.0f) {
                dropped++;
                lag1 += i + 1 < n && y[i + 1] == 0.0f;
                lag_q += i + quarter < n && y[i + quarter] == 0.0f;
            } else if (y[i] != x[i] / keep && wrong++ == 0) {
                first_wrong = i;
            }
        }
        ck_assert_msg(wrong == 0, "rate %g: %ld kept values are not x / (1 - rate); value %zu "
                      "is %.9g, not %.9g", (double)rate, wrong, first_wrong,
                      (double)y[first_wrong], (double)(x[first_wrong] / keep));
    }
    long total = (long)n * passes;
    double share = (double)dropped / (double)total;
    ck_assert_msg(fabs(share - rate) <= 0.005 * rate,
                  "rate %g: %.6f of %ld values dropped, more than 0.5%% off", (double)rate, share,
                  total);
    assert_share("lag-1 pairs dropped", rate, lag1, total - passes, (double)rate * rate);
    assert_share("lag-n/4 pairs dropped", rate, lag_q, total - (long)quarter * passes,
                 (double)rate * rate);
    if (getenv("CLSEQ_TEST_VERBOSE"))
        printf("dropout %.2f: %.6f dropped of %ld (%d passes)\n", (double)rate, share, total,
               passes);
    free(x);
    free(y);
    clseq_model_free(m);
}
END_TEST

START_TEST(dropout_inference_is_identity)
{
    enum { ROWS = 37, F = 13 };
    clseq_model *m = dropout_model(F, 0.6f);
    float x[ROWS * F], y[ROWS * F], loss = -1;
    test_fill_uniform(x, ROWS * F, 5, -2, 2);
    upload_input(m, x, ROWS);
    forward(m, ROWS, 0, y);
    ck_assert_mem_eq(x, y, sizeof x);
    memset(y, 0, sizeof y);
    ck_assert_clseq_ok(clseq_predict(m, x, ROWS, y));
    ck_assert_mem_eq(x, y, sizeof x);
    ck_assert_clseq_ok(clseq_evaluate(m, x, x, ROWS, &loss, NULL));
    ck_assert_float_eq(loss, 0.0f);
    /* rate 0 copies in training too */
    clseq_model *zero = dropout_model(F, 0.0f);
    upload_input(zero, x, ROWS);
    forward(zero, ROWS, 1, y);
    ck_assert_mem_eq(x, y, sizeof x);
    clseq_model_free(zero);
    clseq_model_free(m);
}
END_TEST

static long differing(const float *a, const float *b, size_t n)
{
    long d = 0;
    for (size_t i = 0; i < n; i++)
        d += a[i] != b[i];
    return d;
}

START_TEST(dropout_masks_follow_the_seed)
{
    enum { ROWS = 64, F = 50, N = ROWS * F };
    clseq_model *m = dropout_model(F, 0.5f);
    float x[N], a[N], b[N], c[N], d[N];
    test_fill_uniform(x, N, 9, 0.5f, 1.5f);
    upload_input(m, x, ROWS);
    ck_assert_clseq_ok(clseq_model_set_seed(m, 7));
    forward(m, ROWS, 1, a);
    forward(m, ROWS, 1, d); /* the next pass draws the next key */
    ck_assert_clseq_ok(clseq_model_set_seed(m, 7));
    forward(m, ROWS, 1, b);
    ck_assert_clseq_ok(clseq_model_set_seed(m, 8));
    forward(m, ROWS, 1, c);
    ck_assert_mem_eq(a, b, sizeof a);
    /* independent masks of rate 0.5 differ on about half the values */
    ck_assert_int_gt(differing(a, c, N), N / 4);
    ck_assert_int_gt(differing(a, d, N), N / 4);
    clseq_model_free(m);
}
END_TEST

/* Philox4x32-10 on the host, from Salmon et al. (SC 2011), checked
 * against Random123's known-answer vectors below. */
static void philox(const uint32_t in[4], const uint32_t key_in[2], uint32_t out[4])
{
    uint32_t c[4] = {in[0], in[1], in[2], in[3]}, k[2] = {key_in[0], key_in[1]};
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c[0], p1 = (uint64_t)0xCD9E8D57u * c[2];
        uint32_t next[4] = {(uint32_t)(p1 >> 32) ^ c[1] ^ k[0], (uint32_t)p1,
                            (uint32_t)(p0 >> 32) ^ c[3] ^ k[1], (uint32_t)p0};
        memcpy(c, next, sizeof c);
        k[0] += 0x9E3779B9u;
        k[1] += 0xBB67AE85u;
    }
    memcpy(out, c, sizeof c);
}

/* The device's mask is exactly Philox4x32-10 of the key drawn from the
 * model's dropout stream (one draw per training pass): element i is
 * dropped when word i / q of block i % q (q = ceil(n / 4)) is below
 * rate 2^32. */
START_TEST(dropout_mask_is_philox_of_the_drawn_key)
{
    static const uint32_t kat_in[3][4] = {{0, 0, 0, 0},
                                          {0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
                                          {0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}};
    static const uint32_t kat_key[3][2] = {
        {0, 0}, {0xffffffffu, 0xffffffffu}, {0xa4093822u, 0x299f31d0u}};
    static const uint32_t kat_out[3][4] = {
        {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u},
        {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu},
        {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}};
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        philox(kat_in[t], kat_key[t], out);
        ck_assert_mem_eq(out, kat_out[t], sizeof out);
    }
    enum { ROWS = 7, F = 45, N = ROWS * F, Q = (N + 3) / 4 }; /* N not a multiple of 4 */
    const float rate = 0.35f;
    clseq_model *m = dropout_model(F, rate);
    float x[N], y[N];
    test_fill_uniform(x, N, 41, 0.5f, 1.5f);
    upload_input(m, x, ROWS);
    clseq_rng expect = m->dropout_rng;
    uint64_t key = clseq_rng_next(&expect);
    forward(m, ROWS, 1, y);
    ck_assert_mem_eq(&m->dropout_rng, &expect, sizeof expect);
    uint32_t k[2] = {(uint32_t)key, (uint32_t)(key >> 32)};
    uint32_t threshold = (uint32_t)(ldexp(0.35, 32) + 0.5); /* rate as written */
    for (int g = 0; g < Q; g++) {
        uint32_t ctr[4] = {(uint32_t)g, 0, 0, 0}, bits[4];
        philox(ctr, k, bits);
        for (int w = 0; w < 4 && g + w * Q < N; w++) {
            int i = g + w * Q;
            ck_assert_msg((y[i] == 0.0f) == (bits[w] < threshold),
                          "element %d: output %g, Philox word %08x against %08x", i,
                          (double)y[i], bits[w], threshold);
        }
    }
    clseq_model_free(m);
}
END_TEST

/* Dense -> Dropout -> Dense fitted twice from the same seed: equal bits. */
static void fit_with_dropout(uint64_t seed, float *weights, size_t count)
{
    enum { N = 96, F = 6 };
    float x[N * F], y[N];
    test_fill_uniform(x, N * F, 21, -1, 1);
    test_fill_uniform(y, N, 22, -1, 1);
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), F, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, seed));
    ck_assert_clseq_ok(clseq_add_layers(m, "dense:16:relu,dropout:0.4,dense:1"));
    ck_assert_clseq_ok(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                                     CLSEQ_MEAN_SQUARED_ERROR, 0));
    clseq_fit_options o = quiet_fit(16);
    o.epochs = 3;
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, NULL));
    ck_assert_uint_eq(m->param_count, count);
    ck_assert_clseq_ok(clseq_model_sync_host(m));
    memcpy(weights, m->host_params, count * sizeof *weights);
    clseq_model_free(m);
}

START_TEST(dropout_fit_repeats_with_the_seed)
{
    enum { COUNT = 6 * 16 + 16 + 16 + 1 };
    float a[COUNT], b[COUNT];
    fit_with_dropout(3, a, COUNT);
    fit_with_dropout(3, b, COUNT);
    ck_assert_mem_eq(a, b, sizeof a);
}
END_TEST

START_TEST(dropout_backward_uses_the_forward_mask)
{
    enum { ROWS = 40, F = 33, N = ROWS * F };
    const float rate = 0.3f, keep = (float)(1.0 - 0.3);
    clseq_model *m = dropout_model(F, rate);
    float x[N], y[N], r[N], g[N];
    test_fill_uniform(x, N, 31, 0.5f, 1.5f);
    test_fill_uniform(r, N, 32, -1, 1);
    upload_input(m, x, ROWS);
    forward(m, ROWS, 1, y);
    backward(m, ROWS, r, g);
    long kept = 0;
    for (int i = 0; i < N; i++) {
        float want = y[i] == 0.0f ? 0.0f : r[i] / keep;
        kept += y[i] != 0.0f;
        ck_assert_msg(g[i] == want, "gradient %d is %.9g, want %.9g (output %.9g)", i,
                      (double)g[i], (double)want, (double)y[i]);
    }
    ck_assert_int_gt(kept, N / 2);
    ck_assert_int_lt(kept, N);
    /* after an inference pass backward passes dL/dy through */
    forward(m, ROWS, 0, y);
    backward(m, ROWS, r, g);
    ck_assert_mem_eq(g, r, sizeof r);
    clseq_model_free(m);
}
END_TEST

START_TEST(dropout_configs_and_specs)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 4, &m));
    static const float bad[] = {1.0f, -0.25f, 1.5f};
    static const char *const shown[] = {"got 1", "got -0.25", "got 1.5"};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(clseq_add_dropout(m, bad[i]), CLSEQ_E_ARG);
        ck_assert_msg(strstr(clseq_last_error(), "dropout layer 1") &&
                          strstr(clseq_last_error(), shown[i]),
                      "message: %s", clseq_last_error());
    }
    ck_assert_int_eq(clseq_add_dropout(m, NAN), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_add_layers(m, "dropout"), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_add_layers(m, "dropout:half"), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_add_layers(m, "dropout:1"), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_layer_count(m), 0);
    ck_assert_clseq_ok(clseq_add_layers(m, "dropout:0.25"));
    clseq_layer_config cfg;
    ck_assert_clseq_ok(clseq_layer_get_config(m, 0, &cfg));
    const clseq_config_value *v = clseq_config_find(&cfg, "rate");
    ck_assert(v && v->f == 0.25f);
    ck_assert_int_eq(cfg.count, 1);
    ck_assert_int_eq(clseq_variable_count(m, 0), 0);
    clseq_model_free(m);
}
END_TEST

/* ---- BatchNormalization: references ---------------------------------------- */

/* Keras's training pass in double over P positions x C channels: batch
 * mean and biased variance (two passes), y = gamma xhat + beta (gamma,
 * beta NULL where the layer has none). mean, var may be NULL. */
static void ref_bn_train(const double *x, int P, int C, const double *gamma, const double *beta,
                         double *y, double *mean, double *var)
{
    for (int c = 0; c < C; c++) {
        double mu = 0, v = 0;
        for (int p = 0; p < P; p++)
            mu += x[(size_t)p * C + c];
        mu /= P;
        for (int p = 0; p < P; p++)
            v += (x[(size_t)p * C + c] - mu) * (x[(size_t)p * C + c] - mu);
        v /= P;
        double inv = 1 / sqrt(v + (double)BN_EPS);
        for (int p = 0; p < P; p++) {
            size_t i = (size_t)p * C + c;
            double xhat = (x[i] - mu) * inv;
            y[i] = (gamma ? gamma[c] * xhat : xhat) + (beta ? beta[c] : 0);
        }
        if (mean)
            mean[c] = mu;
        if (var)
            var[c] = v;
    }
}

static double ref_loss(const double *x, int P, int C, const double *gamma, const double *beta,
                       const float *R, double *y)
{
    ref_bn_train(x, P, C, gamma, beta, y, NULL, NULL);
    double L = 0;
    for (size_t i = 0; i < (size_t)P * C; i++)
        L += y[i] * R[i];
    return L;
}

/* ---- BatchNormalization: training forward and gradients -------------------- */

typedef struct bn_case {
    const char *name;
    int rank, dims[3], rows;
    int center, scale;
    float offset;       /* inputs offset + U(-1, 1) */
    int input_samples;  /* input-gradient elements checked (0: all; -1: no gradients) */
} bn_case;

static const bn_case bn_cases[] = {
    {"16 x (5)", 1, {5}, 16, 1, 1, 0, 0},
    {"16 x (5) scale=0", 1, {5}, 16, 1, 0, 0, 0},
    {"16 x (5) center=0 scale=0", 1, {5}, 16, 0, 0, 0, 0},
    {"6 x (3,3,4)", 3, {3, 3, 4}, 6, 1, 1, 0, 0},
    {"6 x (3,3,4) center=0", 3, {3, 3, 4}, 6, 0, 1, 0, 0},
    {"1 x (7)", 1, {7}, 1, 1, 1, 0, 0}, /* one position: xhat = 0 */
    {"128 x (13,13,3)", 3, {13, 13, 3}, 128, 1, 1, 0, 96},
    {"128 x (13,13,3) offset 1000", 3, {13, 13, 3}, 128, 1, 1, 1000, -1},
};

enum { BN_CASES = sizeof bn_cases / sizeof bn_cases[0] };

/* A model of one BatchNormalization layer (momentum, epsilon BN_EPS). */
static clseq_model *bn_model(int rank, const int *dims, float momentum, int center, int scale)
{
    clseq_layer_config cfg = {0};
    ck_assert_clseq_ok(clseq_config_put_float(&cfg, "momentum", momentum));
    ck_assert_clseq_ok(clseq_config_put_float(&cfg, "epsilon", BN_EPS));
    ck_assert_clseq_ok(clseq_config_put_int(&cfg, "center", center));
    ck_assert_clseq_ok(clseq_config_put_int(&cfg, "scale", scale));
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create_shaped(test_ctx(), rank, dims, &m));
    ck_assert_clseq_ok(clseq_model_append(m, &clseq_batch_normalization_kind, &cfg, 1));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.01f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    return m;
}

/* The layer's variables, jittered (gamma 1 +- 0.5, beta +- 0.5, moving
 * mean +- 0.3, moving variance 1 +- 0.3), set on the model and returned
 * by role: gamma, beta (NULL where absent), moving mean, moving variance. */
static void set_bn_variables(clseq_model *m, int center, int scale, uint64_t seed, float **v)
{
    int C = m->layers[0].in.dims[m->layers[0].in.rank - 1], index = 0;
    static const float lo[4] = {0.5f, -0.5f, -0.3f, 0.7f}, hi[4] = {1.5f, 0.5f, 0.3f, 1.3f};
    for (int role = 0; role < 4; role++) {
        v[role] = NULL;
        if ((role == 0 && !scale) || (role == 1 && !center))
            continue;
        v[role] = floats((size_t)C);
        test_fill_uniform(v[role], (size_t)C, seed + (uint64_t)role, lo[role], hi[role]);
        clseq_variable_info info;
        ck_assert_clseq_ok(clseq_get_variable_info(m, 0, index, &info));
        static const char *const names[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
        ck_assert_str_eq(info.name, names[role]);
        ck_assert_int_eq(info.trainable, role < 2);
        ck_assert_clseq_ok(clseq_set_variable(m, 0, index++, v[role]));
    }
}

static int bn_terms(int P, int C)
{
    return (P < 520 ? P : 520) + 2 + C;
}

/* The input gradient at a sample of elements, by central differences. */
static double fd_at(double *value, const double *x, int P, int C, const double *g,
                    const double *b, const float *R, double *y)
{
    double keep = *value;
    *value = keep + STEP;
    double plus = ref_loss(x, P, C, g, b, R, y);
    *value = keep - STEP;
    double minus = ref_loss(x, P, C, g, b, R, y);
    *value = keep;
    return (plus - minus) / (2 * STEP);
}

static void to_doubles(const float *src, double *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src ? src[i] : 0;
}

START_TEST(batch_norm_training_matches_reference)
{
    const bn_case *k = &bn_cases[_i];
    int C = k->dims[k->rank - 1], in_size = 1;
    for (int d = 0; d < k->rank; d++)
        in_size *= k->dims[d];
    int P = k->rows * (in_size / C);
    size_t n = (size_t)k->rows * (size_t)in_size;
    /* momentum 0: the moving statistics become the batch's own */
    clseq_model *m = bn_model(k->rank, k->dims, 0.0f, k->center, k->scale);
    float *v[4];
    set_bn_variables(m, k->center, k->scale, 40u + (uint64_t)_i * 10u, v);
    float *x = floats(n), *y = floats(n), *r = floats(n), *gx = floats(n);
    test_fill_uniform(x, n, 100u + (uint64_t)_i, k->offset - 1, k->offset + 1);
    test_fill_uniform(r, n, 200u + (uint64_t)_i, -1, 1);
    double *xd = doubles(n), *yd = doubles(n), *gd = doubles((size_t)C), *bd = doubles((size_t)C);
    double *mean = doubles((size_t)C), *var = doubles((size_t)C);
    to_doubles(x, xd, n);
    to_doubles(v[0], gd, (size_t)C);
    to_doubles(v[1], bd, (size_t)C);
    const double *gp = v[0] ? gd : NULL, *bp = v[1] ? bd : NULL;
    ref_bn_train(xd, P, C, gp, bp, yd, mean, var);

    upload_input(m, x, k->rows);
    forward(m, k->rows, 1, y);
    int terms = bn_terms(P, C);
    /* the offset's share: the float mean is within an ulp of it */
    double max_scale = 0;
    for (int c = 0; c < C; c++)
        max_scale = fmax(max_scale, (gp ? fabs(gp[c]) : 1) / sqrt(var[c] + (double)BN_EPS));
    double ulp_offset = k->offset ? 2 * (double)(nextafterf(k->offset, INFINITY) - k->offset) : 0;
    long fail = 0, nonzero = 0;
    compare("output", y, yd, n, terms, ulp_offset * max_scale, &fail, &nonzero);
    check_teeth("output", fail, nonzero);

    /* batch statistics, through the moving ones (momentum 0) */
    float *got = floats((size_t)C);
    int var_index = k->center + k->scale + 1;
    read_device(m, 0, var_index - 1, 0, got);
    for (int c = 0; c < C; c++) {
        double sigma = sqrt(var[c]);
        double tol = TOL_C * (terms + ULPS) * UNIT_ROUNDOFF * sigma + ulp_offset;
        ck_assert_msg(fabs(got[c] - mean[c]) <= tol, "%s: batch mean %d is %.9g, want %.9g",
                      k->name, c, (double)got[c], mean[c]);
    }
    read_device(m, 0, var_index, 0, got);
    for (int c = 0; c < C; c++) {
        double tol = TOL_C * (terms + ULPS) * UNIT_ROUNDOFF * var[c];
        ck_assert_msg(fabs(got[c] - var[c]) <= tol, "%s: batch variance %d is %.9g, want %.9g",
                      k->name, c, (double)got[c], var[c]);
        if (P > 1 && P <= 64) /* the unbiased variance is far outside */
            ck_assert(fabs(var[c] * P / (P - 1) - var[c]) > 100 * tol);
    }

    if (k->input_samples >= 0) {
        backward(m, k->rows, r, gx);
        fail = nonzero = 0;
        /* input: every element, or a spread sample of them */
        int samples = k->input_samples ? k->input_samples : (int)n;
        size_t stride = n / (size_t)samples;
        float *got_x = floats((size_t)samples);
        double *fd = doubles((size_t)samples), *fd_param = doubles((size_t)C);
        for (int s = 0; s < samples; s++) {
            size_t i = (size_t)s * stride + (size_t)s % (stride ? stride : 1);
            got_x[s] = gx[i];
            fd[s] = fd_at(&xd[i], xd, P, C, gp, bp, r, yd);
        }
        compare("d input", got_x, fd, (size_t)samples, terms, 0, &fail, &nonzero);
        for (int role = 0; role < 2; role++) {
            if (!v[role])
                continue;
            double *param = role == 0 ? gd : bd;
            for (int c = 0; c < C; c++)
                fd_param[c] = fd_at(&param[c], xd, P, C, gp, bp, r, yd);
            read_device(m, 0, role == 0 || !v[0] ? 0 : 1, 1, got); /* gamma comes first */
            compare(role == 0 ? "d gamma" : "d beta", got, fd_param, (size_t)C, terms, 0, &fail,
                    &nonzero);
        }
        check_teeth("gradients", fail, nonzero);
        free(got_x);
        free(fd);
        free(fd_param);
    }
    if (getenv("CLSEQ_TEST_VERBOSE"))
        printf("batch norm %-30s worst error / tolerance so far %.4f\n", k->name, worst_ratio);
    for (int i = 0; i < 4; i++)
        free(v[i]);
    free(got);
    free(x), free(y), free(r), free(gx);
    free(xd), free(yd), free(gd), free(bd), free(mean), free(var);
    clseq_model_free(m);
}
END_TEST

/* ---- BatchNormalization: fit, moving statistics, inference ----------------- */

enum { MS_ROWS = 10, MS_C = 4 };

START_TEST(batch_norm_fit_updates_moving_statistics)
{
    const double written = 0.9; /* Keras forms 1 - momentum from this, so does clseq */
    const float momentum = (float)written;
    int dims[1] = {MS_C};
    clseq_model *m = bn_model(1, dims, momentum, 1, 1);
    float *v[4];
    set_bn_variables(m, 1, 1, 77, v);
    float x[MS_ROWS * MS_C], y[MS_ROWS * MS_C];
    test_fill_uniform(x, MS_ROWS * MS_C, 78, -2, 3);
    test_fill_uniform(y, MS_ROWS * MS_C, 79, -1, 1);
    clseq_fit_options o = quiet_fit(MS_ROWS); /* one step */
    o.shuffle = 0;
    ck_assert_clseq_ok(clseq_fit(m, x, y, MS_ROWS, &o, NULL));

    double xd[MS_ROWS * MS_C], yd[MS_ROWS * MS_C], mean[MS_C], var[MS_C];
    to_doubles(x, xd, MS_ROWS * MS_C);
    ref_bn_train(xd, MS_ROWS, MS_C, NULL, NULL, yd, mean, var);
    float mm[MS_C], mv[MS_C];
    ck_assert_clseq_ok(clseq_get_variable(m, 0, 2, mm)); /* fit left the host copy stale */
    ck_assert_clseq_ok(clseq_get_variable(m, 0, 3, mv));
    const double mom = momentum, rest = (float)(1.0 - written);
    int terms = bn_terms(MS_ROWS, MS_C);
    for (int c = 0; c < MS_C; c++) {
        double want_m = v[2][c] * mom + mean[c] * rest;
        double want_v = v[3][c] * mom + var[c] * rest;
        double unbiased = v[3][c] * mom + var[c] * MS_ROWS / (MS_ROWS - 1) * rest;
        double tol_m = TOL_C * (terms + ULPS) * UNIT_ROUNDOFF * (fabs(want_m) + sqrt(var[c]));
        double tol_v = TOL_C * (terms + ULPS) * UNIT_ROUNDOFF * want_v;
        ck_assert_msg(fabs(mm[c] - want_m) <= tol_m, "moving mean %d is %.9g, want %.9g", c,
                      (double)mm[c], want_m);
        ck_assert_msg(fabs(mv[c] - want_v) <= tol_v, "moving variance %d is %.9g, want %.9g", c,
                      (double)mv[c], want_v);
        ck_assert(fabs(unbiased - want_v) > 100 * tol_v);
    }

    /* predict: the moving statistics, untouched, with the trained gamma
     * and beta */
    float gamma[MS_C], beta[MS_C], out[MS_ROWS * MS_C], after[MS_C];
    ck_assert_clseq_ok(clseq_get_variable(m, 0, 0, gamma));
    ck_assert_clseq_ok(clseq_get_variable(m, 0, 1, beta));
    ck_assert(memcmp(gamma, v[0], sizeof gamma) != 0); /* the step moved them */
    ck_assert_clseq_ok(clseq_predict(m, x, MS_ROWS, out));
    double want[MS_ROWS * MS_C];
    for (int i = 0; i < MS_ROWS * MS_C; i++) {
        int c = i % MS_C;
        want[i] = gamma[c] * (xd[i] - mm[c]) / sqrt((double)mv[c] + (double)BN_EPS) + beta[c];
    }
    long fail = 0, nonzero = 0;
    compare("predict", out, want, MS_ROWS * MS_C, 1, 0, &fail, &nonzero);
    check_teeth("predict", fail, nonzero);
    float loss;
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, MS_ROWS, &loss, NULL));
    ck_assert_clseq_ok(clseq_model_sync_device(m));
    read_device(m, 0, 3, 0, after);
    ck_assert_mem_eq(after, mv, sizeof mv);

    /* a saved model keeps the moving statistics */
    char path[512];
    snprintf(path, sizeof path, "%s/bn.clseq", test_temp_dir());
    ck_assert_clseq_ok(clseq_save(m, path));
    clseq_model *loaded = NULL;
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &loaded));
    float again[MS_ROWS * MS_C];
    ck_assert_clseq_ok(clseq_predict(loaded, x, MS_ROWS, again));
    ck_assert_mem_eq(again, out, sizeof out);
    remove(path);
    clseq_model_free(loaded);
    for (int i = 0; i < 4; i++)
        free(v[i]);
    clseq_model_free(m);
}
END_TEST

/* Dense -> BN -> Dense on a 256-row regression: the training loss falls
 * by half over the epochs, and the inference loss (moving statistics)
 * falls too. */
START_TEST(batch_norm_fit_reduces_loss)
{
    enum { N = 256, F = 4 };
    float x[N * F], y[N];
    test_fill_uniform(x, N * F, 61, -1, 1);
    for (int i = 0; i < N; i++) {
        const float *r = x + i * F;
        y[i] = sinf(2 * r[0]) + r[1] * r[2] - 0.5f * r[3];
    }
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), F, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, 12));
    ck_assert_clseq_ok(clseq_add_dense(m, 32, CLSEQ_TANH));
    ck_assert_clseq_ok(clseq_add_batch_normalization(m, 0.9f, 0.001f));
    ck_assert_clseq_ok(clseq_add_dense(m, 1, CLSEQ_LINEAR));
    ck_assert_clseq_ok(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                                     CLSEQ_MEAN_SQUARED_ERROR, 0));
    float before, after;
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &before, NULL));
    clseq_fit_options o = quiet_fit(32);
    o.epochs = 30;
    clseq_history *h = NULL;
    ck_assert_clseq_ok(clseq_fit(m, x, y, N, &o, &h));
    const float *loss = clseq_history_values(h, "loss");
    ck_assert_ptr_nonnull(loss);
    ck_assert_msg(loss[o.epochs - 1] < 0.5f * loss[0], "training loss %g -> %g",
                  (double)loss[0], (double)loss[o.epochs - 1]);
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, N, &after, NULL));
    ck_assert_msg(after < 0.5f * before, "evaluate loss %g -> %g", (double)before,
                  (double)after);
    if (getenv("CLSEQ_TEST_VERBOSE"))
        printf("Dense-BN-Dense: training loss %.4f -> %.4f, evaluate %.4f -> %.4f\n",
               (double)loss[0], (double)loss[o.epochs - 1], (double)before, (double)after);
    clseq_history_free(h);
    clseq_model_free(m);
}
END_TEST

/* An epoch that diverges puts back the moving statistics with the
 * weights: both are exactly what they were before it. */
START_TEST(batch_norm_divergence_restores_state)
{
    enum { N = 64, F = 3 };
    float x[N * F], y[N];
    test_fill_uniform(x, N * F, 71, -1, 1);
    test_fill_uniform(y, N, 72, -1, 1);
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), F, &m));
    ck_assert_clseq_ok(clseq_add_layers(m, "dense:8,batchnorm:0.5,dense:1"));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(1e30f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    float mm[8], mv[8], mm2[8], mv2[8];
    test_fill_uniform(mm, 8, 73, -1, 1);
    test_fill_uniform(mv, 8, 74, 0.5f, 2);
    ck_assert_clseq_ok(clseq_set_variable(m, 1, 2, mm));
    ck_assert_clseq_ok(clseq_set_variable(m, 1, 3, mv));
    clseq_fit_options o = quiet_fit(8);
    ck_assert_int_eq(clseq_fit(m, x, y, N, &o, NULL), CLSEQ_E_NUMERIC);
    ck_assert_clseq_ok(clseq_get_variable(m, 1, 2, mm2));
    ck_assert_clseq_ok(clseq_get_variable(m, 1, 3, mv2));
    ck_assert_mem_eq(mm, mm2, sizeof mm);
    ck_assert_mem_eq(mv, mv2, sizeof mv);
    clseq_model_free(m);
}
END_TEST

START_TEST(batch_norm_configs_and_specs)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 6, &m));
    /* a config without values takes Keras's defaults */
    clseq_layer_config empty = {0}, cfg;
    ck_assert_clseq_ok(clseq_model_add_layer_config(m, "BatchNormalization", &empty));
    ck_assert_clseq_ok(clseq_layer_get_config(m, 0, &cfg));
    ck_assert(clseq_config_find(&cfg, "momentum")->f == 0.99f);
    ck_assert(clseq_config_find(&cfg, "epsilon")->f == 0.001f);
    ck_assert_int_eq(clseq_config_find(&cfg, "center")->i, 1);
    ck_assert_int_eq(clseq_config_find(&cfg, "scale")->i, 1);
    ck_assert_int_eq(clseq_variable_count(m, 0), 4);
    /* the spec form */
    ck_assert_clseq_ok(clseq_add_layers(m, "batchnorm:0.9:1e-5"));
    ck_assert_clseq_ok(clseq_layer_get_config(m, 1, &cfg));
    ck_assert(clseq_config_find(&cfg, "momentum")->f == 0.9f);
    ck_assert(clseq_config_find(&cfg, "epsilon")->f == 1e-5f);
    ck_assert_str_eq(clseq_layer_class(m, 1), "BatchNormalization");
    /* refusals name the layer and the value */
    static const char *const bad[] = {"batchnorm:1.5", "batchnorm:0.9:0", "batchnorm:0.9:-1",
                                      "batchnorm:x", "batchnorm:0.9:1e-3:1"};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(clseq_add_layers(m, bad[i]), CLSEQ_E_ARG);
    clseq_layer_config c2 = {0};
    ck_assert_clseq_ok(clseq_config_put_int(&c2, "center", 2));
    ck_assert_int_eq(clseq_model_add_layer_config(m, "BatchNormalization", &c2), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "batch_normalization layer 3") &&
                      strstr(clseq_last_error(), "got 2"),
                  "message: %s", clseq_last_error());
    clseq_layer_config c3 = {0};
    ck_assert_clseq_ok(clseq_config_put_string(&c3, "axis", "1"));
    ck_assert_int_eq(clseq_model_add_layer_config(m, "BatchNormalization", &c3), CLSEQ_E_ARG);
    /* scale=0, center=0: only the moving statistics */
    clseq_layer_config c4 = {0};
    ck_assert_clseq_ok(clseq_config_put_int(&c4, "center", 0));
    ck_assert_clseq_ok(clseq_config_put_int(&c4, "scale", 0));
    ck_assert_clseq_ok(clseq_model_add_layer_config(m, "BatchNormalization", &c4));
    ck_assert_int_eq(clseq_variable_count(m, 2), 2);
    clseq_variable_info info;
    ck_assert_clseq_ok(clseq_get_variable_info(m, 2, 0, &info));
    ck_assert_str_eq(info.name, "moving_mean");
    ck_assert_int_eq(info.trainable, 0);
    ck_assert_int_eq(clseq_layer_count(m), 3);
    clseq_model_free(m);
}
END_TEST

static Suite *norm_suite(void)
{
    Suite *s = suite_create("norm");
    TCase *tc = tcase_create("norm");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, dropout_mask_rate_and_kept_values, 0, 4);
    tcase_add_test(tc, dropout_inference_is_identity);
    tcase_add_test(tc, dropout_masks_follow_the_seed);
    tcase_add_test(tc, dropout_mask_is_philox_of_the_drawn_key);
    tcase_add_test(tc, dropout_fit_repeats_with_the_seed);
    tcase_add_test(tc, dropout_backward_uses_the_forward_mask);
    tcase_add_test(tc, dropout_configs_and_specs);
    tcase_add_loop_test(tc, batch_norm_training_matches_reference, 0, BN_CASES);
    tcase_add_test(tc, batch_norm_fit_updates_moving_statistics);
    tcase_add_test(tc, batch_norm_fit_reduces_loss);
    tcase_add_test(tc, batch_norm_divergence_restores_state);
    tcase_add_test(tc, batch_norm_configs_and_specs);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int status = test_run_suite(norm_suite());
    if (getenv("CLSEQ_TEST_VERBOSE"))
        printf("largest error / tolerance: %.4f\n", worst_ratio);
    return status;
}
