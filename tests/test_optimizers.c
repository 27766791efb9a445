/* Optimizer steps against Keras's update rules worked out in plain C
 * (double precision) for a 2x2 Dense layer (linear output, MSE) with known
 * inputs and weights, on both training paths; and the fused and the
 * layer-by-layer paths giving the same weights after shuffled multi-batch
 * epochs for every optimizer and loss. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/fused.h"
#include "testutil.h"

/* ---- hand-computed steps --------------------------------------------- */

enum { NP = 6 }; /* kernel (2x2, row-major) then bias (2) */

static const float X[3][2] = {{1.0f, 2.0f}, {-1.5f, 0.5f}, {0.5f, -1.0f}};
static const float Y[3][2] = {{0.5f, -1.0f}, {1.0f, 1.5f}, {-0.5f, 0.25f}};
static const float W0[NP] = {0.1f, -0.2f, 0.3f, 0.4f, 0.05f, -0.05f};

/* dL/dw of MSE (mean over the 2 outputs and over the rows first..first+rows) */
static void mse_gradient(const double *w, int first, int rows, double *g)
{
    memset(g, 0, NP * sizeof *g);
    for (int r = first; r < first + rows; r++)
        for (int u = 0; u < 2; u++) {
            double p = X[r][0] * w[0 * 2 + u] + X[r][1] * w[1 * 2 + u] + w[4 + u];
            double d = 2.0 * (p - Y[r][u]) / 2.0 / rows;
            g[0 * 2 + u] += X[r][0] * d;
            g[1 * 2 + u] += X[r][1] * d;
            g[4 + u] += d;
        }
}

typedef struct ref_state {
    double w[NP], m[NP], v[NP];
    int t;
} ref_state;

/* One step of Keras's rule for o (see DESIGN.md and cl/optim.cl's comments). */
static void reference_step(const clseq_optimizer *o, ref_state *s, const double *g)
{
    double lr = o->learning_rate;
    s->t++;
    for (int i = 0; i < NP; i++) {
        if (o->kind == CLSEQ_OPT_SGD && o->momentum == 0.0f) {
            s->w[i] -= lr * g[i];
        } else if (o->kind == CLSEQ_OPT_SGD) {
            double mom = o->momentum;
            s->m[i] = mom * s->m[i] - lr * g[i];
            s->w[i] += o->nesterov ? mom * s->m[i] - lr * g[i] : s->m[i];
        } else if (o->kind == CLSEQ_OPT_ADAM) {
            double b1 = o->beta1, b2 = o->beta2;
            double alpha = lr * sqrt(1 - pow(b2, s->t)) / (1 - pow(b1, s->t));
            s->m[i] += (g[i] - s->m[i]) * (1 - b1);
            s->v[i] += (g[i] * g[i] - s->v[i]) * (1 - b2);
            s->w[i] -= alpha * s->m[i] / (sqrt(s->v[i]) + (double)o->epsilon);
        } else {
            double rho = o->rho;
            s->v[i] = rho * s->v[i] + (1 - rho) * g[i] * g[i];
            s->w[i] -= lr * g[i] / sqrt(s->v[i] + (double)o->epsilon);
        }
    }
}

typedef struct opt_case {
    const char *name;
    clseq_optimizer opt;
} opt_case;

static opt_case opt_cases[7];

/* Large epsilons make where epsilon enters the rule visible. */
static void init_opt_cases(void)
{
    opt_cases[0] = (opt_case){"sgd", clseq_sgd(0.1f, 0.0f, 0)};
    opt_cases[1] = (opt_case){"sgd momentum", clseq_sgd(0.1f, 0.9f, 0)};
    opt_cases[2] = (opt_case){"sgd nesterov", clseq_sgd(0.1f, 0.9f, 1)};
    opt_cases[3] = (opt_case){"adam", clseq_adam(0.1f, 0.9f, 0.999f, 1e-7f)};
    opt_cases[4] = (opt_case){"adam eps 0.05", clseq_adam(0.05f, 0.8f, 0.99f, 0.05f)};
    opt_cases[5] = (opt_case){"rmsprop", clseq_rmsprop(0.1f, 0.9f, 1e-7f)};
    opt_cases[6] = (opt_case){"rmsprop eps 0.05", clseq_rmsprop(0.05f, 0.8f, 0.05f)};
}

static void check_weights(clseq_model *m, const ref_state *ref, const char *what)
{
    float k[4], b[2], got[NP];
    ck_assert_clseq_ok(clseq_get_weights(m, 0, k, b));
    memcpy(got, k, sizeof k);
    memcpy(got + 4, b, sizeof b);
    for (int i = 0; i < NP; i++) {
        /* float32 arithmetic on O(1) values: a few ulp; steps are >= 1e-3 */
        double tol = 2e-6 + 2e-6 * fabs(ref->w[i]);
        ck_assert_msg(fabs(got[i] - ref->w[i]) <= tol,
                      "%s: weight %d is %.9g, the hand-computed step gives %.9g", what, i,
                      (double)got[i], ref->w[i]);
    }
}

START_TEST(one_and_more_steps_match_keras_rules)
{
    init_opt_cases();
    const opt_case *c = &opt_cases[_i / 2];
    const int path = _i % 2; /* the fused option: 0 the layer path, 1 the fused kernel */
    char what[96];
    clseq_model *m;
    clseq_ctx *ctx = test_ctx_with_fused(path);
    ck_assert_clseq_ok(clseq_model_create(ctx, 2, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, 2, CLSEQ_LINEAR));
    ck_assert_clseq_ok(clseq_compile(m, c->opt, CLSEQ_MEAN_SQUARED_ERROR, 0));
    ck_assert_clseq_ok(clseq_set_weights(m, 0, W0, W0 + 4));
    ck_assert_int_eq(clseq_fused_applies(m, 2), path);

    ref_state ref;
    memset(&ref, 0, sizeof ref);
    for (int i = 0; i < NP; i++)
        ref.w[i] = W0[i];
    double g[NP];
    clseq_fit_options o = clseq_fit_defaults();
    o.verbose = 0;
    o.shuffle = 0;

    /* step 1: both rows in one batch */
    o.batch_size = 2;
    mse_gradient(ref.w, 0, 2, g);
    for (int i = 0; i < NP; i++)
        ck_assert_msg(fabs(g[i]) > 0.01, "test data: gradient %d is too small", i);
    reference_step(&c->opt, &ref, g);
    ck_assert_clseq_ok(clseq_fit(m, &X[0][0], &Y[0][0], 2, &o, NULL));
    snprintf(what, sizeof what, "%s, fused %d, step 1", c->name, path);
    check_weights(m, &ref, what);

    /* steps 2 and 3 (a second fit keeps the optimizer state): three rows in
     * batches of 2, so step 3 is a short batch averaged over its one row */
    mse_gradient(ref.w, 0, 2, g);
    reference_step(&c->opt, &ref, g);
    mse_gradient(ref.w, 2, 1, g);
    reference_step(&c->opt, &ref, g);
    ck_assert_clseq_ok(clseq_fit(m, &X[0][0], &Y[0][0], 3, &o, NULL));
    snprintf(what, sizeof what, "%s, fused %d, steps 2-3", c->name, path);
    check_weights(m, &ref, what);

    /* compiling again resets the state: step 1 from here is a first step */
    ck_assert_clseq_ok(clseq_compile(m, c->opt, CLSEQ_MEAN_SQUARED_ERROR, 0));
    memset(ref.m, 0, sizeof ref.m);
    memset(ref.v, 0, sizeof ref.v);
    ref.t = 0;
    o.batch_size = 2;
    mse_gradient(ref.w, 0, 2, g);
    reference_step(&c->opt, &ref, g);
    ck_assert_clseq_ok(clseq_fit(m, &X[0][0], &Y[0][0], 2, &o, NULL));
    snprintf(what, sizeof what, "%s, fused %d, after recompiling", c->name, path);
    check_weights(m, &ref, what);

    clseq_model_free(m);
    clseq_ctx_free(ctx);
}
END_TEST

/* The reference itself against numbers worked out by hand, so a slip in
 * reference_step cannot hide a matching slip in the library.
 * Step 1 gradient (both rows): p = x W + b: p0 = (0.75, 0.55), p1 = (0.05, 0.45);
 * d = 2 (p - y) / (2 outputs) / (2 rows): row 0 (0.125, 0.775), row 1 (-0.475, -0.525);
 * g_kernel = x^T d = (0.8375, 1.5625; 0.0125, 1.2875), g_bias = (-0.35, 0.25). */
START_TEST(reference_matches_hand_computation)
{
    double w[NP], g[NP];
    for (int i = 0; i < NP; i++)
        w[i] = W0[i];
    mse_gradient(w, 0, 2, g);
    const double hand[NP] = {0.8375, 1.5625, 0.0125, 1.2875, -0.35, 0.25};
    for (int i = 0; i < NP; i++)
        ck_assert_double_eq_tol(g[i], hand[i], 1e-6);
    /* Adam's first step is lr * g / (|g| + eps / sqrt(1 - b2)) ~ lr * sign(g) */
    ref_state s;
    memset(&s, 0, sizeof s);
    memcpy(s.w, w, sizeof w);
    clseq_optimizer adam = clseq_adam(0.1f, 0.9f, 0.999f, 1e-7f);
    reference_step(&adam, &s, g);
    ck_assert_double_eq_tol(s.w[0], 0.1 - 0.1, 1e-5);
    ck_assert_double_eq_tol(s.w[4], 0.05 + 0.1, 1e-5);
    /* Nesterov's first step: m = -lr g; w += mom m - lr g = -(1 + mom) lr g */
    memset(&s, 0, sizeof s);
    memcpy(s.w, w, sizeof w);
    clseq_optimizer nag = clseq_sgd(0.1f, 0.9f, 1);
    reference_step(&nag, &s, g);
    ck_assert_double_eq_tol(s.w[1], -0.2 - 1.9 * 0.1 * 1.5625, 1e-6);
    /* RMSprop's first step: v = (1 - rho) g^2; w -= lr g / sqrt(v + eps) */
    memset(&s, 0, sizeof s);
    memcpy(s.w, w, sizeof w);
    clseq_optimizer rms = clseq_rmsprop(0.05f, 0.8f, 0.05f);
    reference_step(&rms, &s, g);
    ck_assert_double_eq_tol(s.w[2], 0.3 - 0.05 * 0.0125 / sqrt(0.2 * 0.0125 * 0.0125 + 0.05),
                            1e-6);
}
END_TEST

/* ---- fused path == layer path ------------------------------------------ */

enum { EQ_ROWS = 37, EQ_IN = 3, EQ_BATCH = 8, EQ_EPOCHS = 2 };

static clseq_optimizer eq_optimizer(int i)
{
    switch (i) {
    case 0: return clseq_sgd(0.05f, 0.0f, 0);
    case 1: return clseq_sgd(0.05f, 0.9f, 0);
    case 2: return clseq_sgd(0.05f, 0.9f, 1);
    case 3: return clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f);
    default: return clseq_rmsprop(0.01f, 0.9f, 1e-7f);
    }
}

static clseq_model *eq_model(clseq_ctx *ctx, clseq_loss loss, int *out, float *x, float *y)
{
    clseq_model *m;
    clseq_activation act = CLSEQ_LINEAR;
    *out = 2;
    if (loss == CLSEQ_CATEGORICAL_CROSSENTROPY || loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY) {
        act = CLSEQ_SOFTMAX;
        *out = 3;
    } else if (loss == CLSEQ_BINARY_CROSSENTROPY) {
        act = CLSEQ_SIGMOID;
    } else if (loss == CLSEQ_MEAN_ABSOLUTE_ERROR) {
        act = CLSEQ_TANH;
    }
    ck_assert_clseq_ok(clseq_model_create(ctx, EQ_IN, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, 5));
    ck_assert_clseq_ok(clseq_add_dense(m, 6, CLSEQ_TANH));
    ck_assert_clseq_ok(clseq_add_dense(m, *out, act));
    test_fill_uniform(x, EQ_ROWS * EQ_IN, 17, -2, 2);
    uint64_t state = 3;
    for (int r = 0; r < EQ_ROWS; r++) {
        int cls = (int)test_uniform(&state, 0, (float)*out);
        for (int j = 0; j < *out; j++) {
            float u = test_uniform(&state, 0, 1);
            if (loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY)
                y[r] = (float)cls;
            else if (loss == CLSEQ_CATEGORICAL_CROSSENTROPY)
                y[r * *out + j] = j == cls ? 1.0f : 0.0f;
            else if (loss == CLSEQ_BINARY_CROSSENTROPY)
                y[r * *out + j] = u < 0.5f ? 0.0f : 1.0f;
            else
                y[r * *out + j] = 2 * u - 1;
        }
    }
    return m;
}

START_TEST(fused_and_layer_paths_agree)
{
    int opt_index = _i / 5;
    clseq_loss loss = (clseq_loss)(_i % 5);
    float x[EQ_ROWS * EQ_IN], y[EQ_ROWS * 3];
    float w[2][EQ_IN * 6 + 6 + 6 * 3 + 3];
    float hist_loss[2][EQ_EPOCHS];
    for (int path = 0; path < 2; path++) {
        int out;
        clseq_ctx *ctx = test_ctx_with_fused(path); /* path 0: layers, 1: fused */
        clseq_model *m = eq_model(ctx, loss, &out, x, y);
        ck_assert_clseq_ok(clseq_compile(m, eq_optimizer(opt_index), loss, CLSEQ_METRIC_ACCURACY));
        ck_assert_int_eq(clseq_fused_applies(m, EQ_BATCH), path);
        clseq_fit_options o = clseq_fit_defaults();
        o.verbose = 0;
        o.batch_size = EQ_BATCH; /* 37 rows: four full batches and a short one */
        o.epochs = EQ_EPOCHS;
        o.shuffle = 1;
        clseq_history *h;
        ck_assert_clseq_ok(clseq_fit(m, x, y, EQ_ROWS, &o, &h));
        memcpy(hist_loss[path], clseq_history_values(h, "loss"), sizeof hist_loss[path]);
        clseq_history_free(h);
        ck_assert_clseq_ok(clseq_get_weights(m, 0, w[path], w[path] + EQ_IN * 6));
        ck_assert_clseq_ok(clseq_get_weights(m, 1, w[path] + EQ_IN * 6 + 6,
                                             w[path] + EQ_IN * 6 + 6 + 6 * out));
        clseq_model_free(m);
        clseq_ctx_free(ctx);
    }
    /* The paths may sum in a different order: float rounding, amplified a
     * little by 10 steps (and by Adam / RMSprop's division by sqrt(v) for
     * the smallest gradients). Diverging paths (another row order, a wrong
     * short batch) differ by 1e-3 or more. */
    int count = (int)(sizeof w[0] / sizeof w[0][0]);
    if (loss == CLSEQ_MEAN_SQUARED_ERROR || loss == CLSEQ_MEAN_ABSOLUTE_ERROR ||
        loss == CLSEQ_BINARY_CROSSENTROPY)
        count -= 6 + 3 - 2; /* two outputs, not three */
    for (int i = 0; i < count; i++)
        ck_assert_msg(fabsf(w[0][i] - w[1][i]) <= 2e-5f + 1e-5f * fabsf(w[0][i]),
                      "optimizer %d, loss %s: parameter %d is %.9g on the layer path, %.9g fused",
                      opt_index, clseq_loss_name(loss), i, (double)w[0][i], (double)w[1][i]);
    for (int e = 0; e < EQ_EPOCHS; e++)
        ck_assert_msg(fabsf(hist_loss[0][e] - hist_loss[1][e]) <= 1e-5f * (1 + hist_loss[0][e]),
                      "optimizer %d, loss %s: epoch %d loss %.9g on the layer path, %.9g fused",
                      opt_index, clseq_loss_name(loss), e + 1, (double)hist_loss[0][e],
                      (double)hist_loss[1][e]);
}
END_TEST

Suite *optimizers_suite(void);
Suite *optimizers_suite(void)
{
    Suite *s = suite_create("optimizers");
    TCase *tc = tcase_create("optimizers");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, reference_matches_hand_computation);
    tcase_add_loop_test(tc, one_and_more_steps_match_keras_rules, 0, 2 * 7);
    tcase_add_loop_test(tc, fused_and_layer_paths_agree, 0, 5 * 5);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(optimizers_suite());
}
