/* Optimizer steps against Keras 3's update rules worked out in plain C
 * (double precision) for a 2x2 Dense layer (linear output, MSE) with known
 * inputs and weights, on both training paths (optimizers the fused kernel
 * lacks must fall back to the layer path), with gradient clipping and
 * weight decay; clipping of a larger layer; the fused and the
 * layer-by-layer paths giving the same weights after shuffled multi-batch
 * epochs for every optimizer and loss; exact resume from a model file for
 * the optimizers beyond SGD, Adam and RMSprop; bad settings refused. */
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
    double u_product; /* Nadam's momentum cache, 1 before the first step */
    int t;
} ref_state;

static void ref_init(ref_state *s, const double *w)
{
    memset(s, 0, sizeof *s);
    memcpy(s->w, w, sizeof s->w);
    s->u_product = 1.0;
}

/* The reference's optimizer state after compile: Adagrad's accumulator
 * starts at initial_accumulator_value (Adagrad.build). */
static void ref_reset(const clseq_optimizer *o, ref_state *s)
{
    double w[NP];
    memcpy(w, s->w, sizeof w);
    ref_init(s, w);
    if (o->kind == CLSEQ_OPT_ADAGRAD)
        for (int i = 0; i < NP; i++)
            s->v[i] = o->initial_accumulator_value;
}

static double sign_of(double x)
{
    return x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0;
}

/* base_optimizer._clip_gradients on g (kernel g[0..4), bias g[4..6): two
 * variables): clipnorm scales each variable to norm <= c, global_clipnorm
 * all of them jointly, clipvalue clamps each value. */
static void reference_clip(const clseq_optimizer *o, double *g)
{
    if (o->clipnorm > 0) {
        const int first[2] = {0, 4}, count[2] = {4, 2};
        for (int var = 0; var < 2; var++) {
            double sum = 0;
            for (int i = first[var]; i < first[var] + count[var]; i++)
                sum += g[i] * g[i];
            double norm = sqrt(sum), c = o->clipnorm;
            for (int i = first[var]; i < first[var] + count[var]; i++)
                g[i] = g[i] * c / (norm > c ? norm : c);
        }
    } else if (o->global_clipnorm > 0) {
        double sum = 0, c = o->global_clipnorm;
        for (int i = 0; i < NP; i++)
            sum += g[i] * g[i];
        double norm = sqrt(sum);
        for (int i = 0; i < NP; i++)
            g[i] *= norm > c ? c / norm : 1.0;
    } else if (o->clipvalue > 0) {
        double c = o->clipvalue;
        for (int i = 0; i < NP; i++)
            g[i] = g[i] > c ? c : g[i] < -c ? -c : g[i];
    }
}

/* One step of Keras's rule for o (keras/src/optimizers/<name>.py's
 * update_step, after base_optimizer's clipping and weight decay), written
 * from the formulas, not from cl/optim.cl. g is the raw gradient. */
static void reference_step(const clseq_optimizer *o, ref_state *s, const double *g_in)
{
    double lr = o->learning_rate, eps = o->epsilon, b1 = o->beta1, b2 = o->beta2;
    double g[NP];
    memcpy(g, g_in, sizeof g);
    reference_clip(o, g);
    for (int i = 0; i < NP; i++)
        s->w[i] -= s->w[i] * (double)o->weight_decay * lr;
    s->t++;
    int t = s->t;
    /* Nadam: u_product *= u_t before the update (Nadam._backend_update_step) */
    double u_t = b1 * (1 - 0.5 * pow(0.96, t)), u_t1 = b1 * (1 - 0.5 * pow(0.96, t + 1));
    if (o->kind == CLSEQ_OPT_NADAM)
        s->u_product *= u_t;
    for (int i = 0; i < NP; i++) {
        switch (o->kind) {
        case CLSEQ_OPT_SGD:
            if (o->momentum == 0.0f) {
                s->w[i] -= lr * g[i];
            } else {
                double mom = o->momentum;
                s->m[i] = mom * s->m[i] - lr * g[i];
                s->w[i] += o->nesterov ? mom * s->m[i] - lr * g[i] : s->m[i];
            }
            break;
        case CLSEQ_OPT_ADAM:
        case CLSEQ_OPT_ADAMW: {
            double alpha = lr * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t));
            s->m[i] += (g[i] - s->m[i]) * (1 - b1);
            s->v[i] += (g[i] * g[i] - s->v[i]) * (1 - b2);
            s->w[i] -= alpha * s->m[i] / (sqrt(s->v[i]) + eps);
            break;
        }
        case CLSEQ_OPT_RMSPROP:
            s->v[i] = o->rho * s->v[i] + (1 - o->rho) * g[i] * g[i];
            s->w[i] -= lr * g[i] / sqrt(s->v[i] + eps);
            break;
        case CLSEQ_OPT_ADAGRAD: /* v: the accumulator */
            s->v[i] += g[i] * g[i];
            s->w[i] -= lr * g[i] / sqrt(s->v[i] + eps);
            break;
        case CLSEQ_OPT_ADADELTA: { /* m: accumulated_grad, v: accumulated_delta_var */
            double rho = o->rho;
            s->m[i] = rho * s->m[i] + (1 - rho) * g[i] * g[i];
            double delta = -sqrt(s->v[i] + eps) * g[i] / sqrt(s->m[i] + eps);
            s->v[i] = rho * s->v[i] + (1 - rho) * delta * delta;
            s->w[i] += lr * delta;
            break;
        }
        case CLSEQ_OPT_ADAMAX: /* v: the exponentially weighted infinity norm u */
            s->m[i] += (g[i] - s->m[i]) * (1 - b1);
            s->v[i] = fmax(b2 * s->v[i], fabs(g[i]));
            s->w[i] -= lr * s->m[i] / ((1 - pow(b1, t)) * (s->v[i] + eps));
            break;
        case CLSEQ_OPT_NADAM: {
            s->m[i] += (g[i] - s->m[i]) * (1 - b1);
            s->v[i] += (g[i] * g[i] - s->v[i]) * (1 - b2);
            double m_hat = u_t1 * s->m[i] / (1 - s->u_product * u_t1) +
                           (1 - u_t) * g[i] / (1 - s->u_product);
            double v_hat = s->v[i] / (1 - pow(b2, t));
            s->w[i] -= m_hat * lr / (sqrt(v_hat) + eps);
            break;
        }
        case CLSEQ_OPT_LION:
            s->w[i] -= lr * sign_of(s->m[i] * b1 + g[i] * (1 - b1));
            s->m[i] = s->m[i] * b2 + g[i] * (1 - b2);
            break;
        }
    }
}

typedef struct opt_case {
    const char *name;
    clseq_optimizer opt;
} opt_case;

enum { OPT_CASES = 26 };
static opt_case opt_cases[OPT_CASES];

static clseq_optimizer named(const char *name)
{
    clseq_optimizer o;
    ck_assert_clseq_ok(clseq_optimizer_from_name(name, 0, &o));
    return o;
}

static clseq_optimizer with_clip(clseq_optimizer o, float clipnorm, float clipvalue,
                                 float global_clipnorm, float weight_decay)
{
    o.clipnorm = clipnorm;
    o.clipvalue = clipvalue;
    o.global_clipnorm = global_clipnorm;
    o.weight_decay = weight_decay;
    return o;
}

/* Keras's defaults (from the names) and settings with large steps and
 * large epsilons, which make where each setting enters the rule visible.
 * The gradients of the first step are 0.0125 to 1.56 (norms: kernel 2.19,
 * bias 0.43, all 2.23), so the clipping cases clip some values and not
 * others, and clipnorm 1 scales the kernel but not the bias. */
static void init_opt_cases(void)
{
    int n = 0;
    opt_cases[n++] = (opt_case){"sgd", clseq_sgd(0.1f, 0.0f, 0)};
    opt_cases[n++] = (opt_case){"sgd momentum", clseq_sgd(0.1f, 0.9f, 0)};
    opt_cases[n++] = (opt_case){"sgd nesterov", clseq_sgd(0.1f, 0.9f, 1)};
    opt_cases[n++] = (opt_case){"adam", clseq_adam(0.1f, 0.9f, 0.999f, 1e-7f)};
    opt_cases[n++] = (opt_case){"adam eps 0.05", clseq_adam(0.05f, 0.8f, 0.99f, 0.05f)};
    opt_cases[n++] = (opt_case){"rmsprop", clseq_rmsprop(0.1f, 0.9f, 1e-7f)};
    opt_cases[n++] = (opt_case){"rmsprop eps 0.05", clseq_rmsprop(0.05f, 0.8f, 0.05f)};
    opt_cases[n++] = (opt_case){"adamw defaults", named("adamw")};
    opt_cases[n++] = (opt_case){"adamw wd 0.5", clseq_adamw(0.05f, 0.5f, 0.8f, 0.99f, 0.05f)};
    opt_cases[n++] = (opt_case){"adagrad defaults", named("adagrad")};
    opt_cases[n++] = (opt_case){"adagrad acc 0.5", clseq_adagrad(0.1f, 0.5f, 0.05f)};
    opt_cases[n++] = (opt_case){"adadelta defaults", named("adadelta")};
    opt_cases[n++] = (opt_case){"adadelta lr 1", clseq_adadelta(1.0f, 0.8f, 0.05f)};
    opt_cases[n++] = (opt_case){"adamax defaults", named("adamax")};
    opt_cases[n++] = (opt_case){"adamax eps 0.05", clseq_adamax(0.05f, 0.8f, 0.99f, 0.05f)};
    opt_cases[n++] = (opt_case){"nadam defaults", named("nadam")};
    opt_cases[n++] = (opt_case){"nadam eps 0.05", clseq_nadam(0.05f, 0.8f, 0.99f, 0.05f)};
    opt_cases[n++] = (opt_case){"lion defaults", named("lion")};
    opt_cases[n++] = (opt_case){"lion 0.05", clseq_lion(0.05f, 0.8f, 0.95f)};
    opt_cases[n++] = (opt_case){"sgd clipvalue 0.5",
                                with_clip(clseq_sgd(0.1f, 0, 0), 0, 0.5f, 0, 0)};
    opt_cases[n++] = (opt_case){"sgd momentum clipnorm 1",
                                with_clip(clseq_sgd(0.1f, 0.9f, 0), 1.0f, 0, 0, 0)};
    opt_cases[n++] = (opt_case){"sgd global_clipnorm 1",
                                with_clip(clseq_sgd(0.1f, 0, 0), 0, 0, 1.0f, 0)};
    opt_cases[n++] = (opt_case){"adam clipnorm 0.3",
                                with_clip(clseq_adam(0.05f, 0.8f, 0.99f, 0.05f), 0.3f, 0, 0, 0)};
    opt_cases[n++] = (opt_case){"rmsprop weight_decay 0.2",
                                with_clip(clseq_rmsprop(0.05f, 0.8f, 0.05f), 0, 0, 0, 0.2f)};
    opt_cases[n++] = (opt_case){
        "nadam global_clipnorm 0.5 wd 0.1",
        with_clip(clseq_nadam(0.05f, 0.8f, 0.99f, 0.05f), 0, 0, 0.5f, 0.1f)};
    opt_cases[n++] = (opt_case){"adagrad clipvalue 0.2",
                                with_clip(clseq_adagrad(0.1f, 0.5f, 0.05f), 0, 0.2f, 0, 0)};
    ck_assert_int_eq(n, OPT_CASES);
}

/* Whether the fused kernel has o (nn/fused.c): without, forcing the fused
 * option must still train on the layer path. */
static int fused_has(const clseq_optimizer *o)
{
    return o->kind <= CLSEQ_OPT_RMSPROP && o->weight_decay == 0 && o->clipnorm == 0 &&
           o->clipvalue == 0 && o->global_clipnorm == 0;
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
    ck_assert_int_eq(clseq_fused_applies(m, 2), path && fused_has(&c->opt));

    ref_state ref;
    double w0[NP];
    for (int i = 0; i < NP; i++)
        w0[i] = W0[i];
    ref_init(&ref, w0);
    ref_reset(&c->opt, &ref);
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
    ref_reset(&c->opt, &ref);
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

/* One step of reference_step for o from W0 with the step-1 gradient. */
static void first_step(clseq_optimizer o, ref_state *s)
{
    double w[NP], g[NP];
    for (int i = 0; i < NP; i++)
        w[i] = W0[i];
    mse_gradient(w, 0, 2, g);
    ref_init(s, w);
    ref_reset(&o, s);
    reference_step(&o, s, g);
}

/* The new rules' first steps at Keras's defaults and the clipping options,
 * worked out by hand from the step-1 gradient above (g^2 of the kernel:
 * 0.70140625, 2.44140625, 0.00015625, 1.65765625; of the bias: 0.1225,
 * 0.0625; squared norms: kernel 4.800625, all 4.985625). The floats of
 * the weights and settings (0.4f is 0.4 + 6e-9, 0.9f is not 0.9) move
 * these by < 1e-8: tolerance 2e-8, against steps of 1e-3 or more. */
START_TEST(new_rules_match_hand_computation)
{
    ref_state s;
    const double tol = 2e-8;
    /* Adagrad: a = 0.1 + g^2; w -= lr g / sqrt(a + eps) */
    first_step(named("adagrad"), &s);
    ck_assert_double_eq_tol(s.w[0], 0.1 - 0.001 * 0.8375 / sqrt(0.80140625 + 1e-7), tol);
    /* Nadam: u_1 = 0.9 (1 - 0.5 * 0.96) = 0.468, u_2 = 0.9 (1 - 0.5 * 0.9216) = 0.48528,
     * u_product = 0.468; m = 0.1 g, v_hat = g^2;
     * m_hat = u_2 m / (1 - 0.468 u_2) + (1 - u_1) g / (1 - 0.468) */
    first_step(named("nadam"), &s);
    double m_hat = 0.48528 * 0.08375 / (1 - 0.468 * 0.48528) + 0.8375;
    ck_assert_double_eq_tol(s.w[0], 0.1 - 0.001 * m_hat / (0.8375 + 1e-7), tol);
    /* Lion: m = 0, so w -= lr sign(g); m = 0.01 g afterwards */
    first_step(named("lion"), &s);
    ck_assert_double_eq_tol(s.w[4], 0.05 + 0.001, tol);
    ck_assert_double_eq_tol(s.m[4], 0.01 * -0.35, tol);
    /* Adamax: m = 0.1 g, u = |g|; w -= lr m / ((1 - 0.9)(u + eps)) */
    first_step(named("adamax"), &s);
    ck_assert_double_eq_tol(s.w[1], -0.2 - 0.001 * 0.15625 / (0.1 * (1.5625 + 1e-7)), tol);
    /* Adadelta (lr 1, rho 0.8, eps 0.05): ag = 0.2 g^2;
     * delta = -sqrt(0 + eps) g / sqrt(ag + eps) */
    first_step(clseq_adadelta(1.0f, 0.8f, 0.05f), &s);
    ck_assert_double_eq_tol(s.w[2], 0.3 - sqrt(0.05) * 0.0125 / sqrt(0.2 * 0.00015625 + 0.05),
                            tol);
    /* AdamW: w = 0.4 - 0.4 * 0.004 * 0.001, then Adam's first step
     * lr g / (|g| + eps / sqrt(1 - b2)) */
    first_step(named("adamw"), &s);
    ck_assert_double_eq_tol(s.w[3], 0.3999984 - 0.001 * 1.2875 / (1.2875 + 1e-7 / sqrt(0.001)),
                            tol);
    /* global_clipnorm 1: every gradient times 1 / sqrt(4.985625) */
    first_step(with_clip(clseq_sgd(0.1f, 0, 0), 0, 0, 1.0f, 0), &s);
    ck_assert_double_eq_tol(s.w[1], -0.2 - 0.1 * 1.5625 / sqrt(4.985625), tol);
    ck_assert_double_eq_tol(s.w[5], -0.05 - 0.1 * 0.25 / sqrt(4.985625), tol);
    /* clipnorm 1: the kernel times 1 / sqrt(4.800625); the bias (norm 0.43) as is */
    first_step(with_clip(clseq_sgd(0.1f, 0, 0), 1.0f, 0, 0, 0), &s);
    ck_assert_double_eq_tol(s.w[0], 0.1 - 0.1 * 0.8375 / sqrt(4.800625), tol);
    ck_assert_double_eq_tol(s.w[5], -0.05 - 0.1 * 0.25, tol);
    /* clipvalue 0.5: 1.5625 -> 0.5, 0.0125 as is */
    first_step(with_clip(clseq_sgd(0.1f, 0, 0), 0, 0.5f, 0, 0), &s);
    ck_assert_double_eq_tol(s.w[1], -0.2 - 0.1 * 0.5, tol);
    ck_assert_double_eq_tol(s.w[2], 0.3 - 0.1 * 0.0125, tol);
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

/* ---- clipping a larger layer ------------------------------------------- */

enum { CL_IN = 40, CL_UNITS = 30, CL_ROWS = 5, CL_NK = CL_IN * CL_UNITS };

/* One SGD step (lr 0.1) of a 40 -> 30 linear Dense layer on 5 rows (MSE)
 * with each clipping option, against the step computed in double here:
 * the variables (1200 and 30 values) are longer than a work-group, so the
 * device's sums of squares stride and reduce in local memory. Each clip is
 * set to half the largest norm or value, so it bites. */
START_TEST(clipping_a_larger_layer)
{
    const int mode = _i; /* 0 clipnorm, 1 global_clipnorm, 2 clipvalue */
    static float x[CL_ROWS * CL_IN], y[CL_ROWS * CL_UNITS], k0[CL_NK], b0[CL_UNITS];
    static float k1[CL_NK], b1[CL_UNITS];
    static double g[CL_NK + CL_UNITS];
    test_fill_uniform(x, CL_ROWS * CL_IN, 31, -1, 1);
    test_fill_uniform(y, CL_ROWS * CL_UNITS, 32, -1, 1);
    test_fill_uniform(k0, CL_NK, 33, -0.3f, 0.3f);
    test_fill_uniform(b0, CL_UNITS, 34, -0.3f, 0.3f);
    /* dL/dw of MSE over the 30 outputs and 5 rows */
    memset(g, 0, sizeof g);
    for (int r = 0; r < CL_ROWS; r++)
        for (int u = 0; u < CL_UNITS; u++) {
            double p = b0[u];
            for (int i = 0; i < CL_IN; i++)
                p += (double)x[r * CL_IN + i] * k0[i * CL_UNITS + u];
            double d = 2.0 * (p - y[r * CL_UNITS + u]) / CL_UNITS / CL_ROWS;
            for (int i = 0; i < CL_IN; i++)
                g[i * CL_UNITS + u] += x[r * CL_IN + i] * d;
            g[CL_NK + u] += d;
        }
    double sk = 0, sb = 0, big = 0;
    for (int i = 0; i < CL_NK + CL_UNITS; i++) {
        *(i < CL_NK ? &sk : &sb) += g[i] * g[i];
        big = fmax(big, fabs(g[i]));
    }
    double nk = sqrt(sk), nb = sqrt(sb), nall = sqrt(sk + sb);
    clseq_optimizer o = clseq_sgd(0.1f, 0.0f, 0);
    if (mode == 0)
        o.clipnorm = (float)(0.5 * fmax(nk, nb));
    else if (mode == 1)
        o.global_clipnorm = (float)(0.5 * nall);
    else
        o.clipvalue = (float)(0.5 * big);
    for (int i = 0; i < CL_NK + CL_UNITS; i++) {
        double c, scale = 1;
        if (mode == 0) {
            double norm = i < CL_NK ? nk : nb;
            c = o.clipnorm;
            scale = c / fmax(norm, c);
        } else if (mode == 1) {
            c = o.global_clipnorm;
            scale = c / fmax(nall, c);
        } else {
            c = o.clipvalue;
            g[i] = fmin(fmax(g[i], -c), c);
        }
        g[i] *= scale;
    }
    clseq_model *m;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), CL_IN, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, CL_UNITS, CLSEQ_LINEAR));
    ck_assert_clseq_ok(clseq_compile(m, o, CLSEQ_MEAN_SQUARED_ERROR, 0));
    ck_assert_clseq_ok(clseq_set_weights(m, 0, k0, b0));
    clseq_fit_options fo = clseq_fit_defaults();
    fo.verbose = 0;
    fo.shuffle = 0;
    fo.batch_size = CL_ROWS;
    ck_assert_clseq_ok(clseq_fit(m, x, y, CL_ROWS, &fo, NULL));
    ck_assert_clseq_ok(clseq_get_weights(m, 0, k1, b1));
    /* float32 sums of 40 products and of 1230 squares: relative 1e-5 of
     * the step (0.1 g, g up to ~0.5) covers them; an unclipped or wrongly
     * scaled step is off by a factor of up to 2 */
    for (int i = 0; i < CL_NK + CL_UNITS; i++) {
        double want = (i < CL_NK ? k0[i] : b0[i - CL_NK]) - 0.1 * g[i];
        double got = i < CL_NK ? k1[i] : b1[i - CL_NK];
        ck_assert_msg(fabs(got - want) <= 1e-6 + 1e-5 * fabs(0.1 * g[i]),
                      "clip mode %d: parameter %d is %.9g, the double reference %.9g", mode, i,
                      got, want);
    }
    clseq_model_free(m);
}
END_TEST

/* ---- exact resume ------------------------------------------------------------ */

static clseq_optimizer resume_optimizer(int i)
{
    switch (i) {
    case 0: return named("adamw");
    case 1: return clseq_adagrad(0.05f, 0.1f, 1e-7f);
    case 2: return clseq_adadelta(1.0f, 0.95f, 1e-7f);
    case 3: return named("adamax");
    case 4: return named("nadam");
    case 5: return named("lion");
    case 6: return with_clip(clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f), 0.2f, 0, 0, 0.01f);
    case 7: return with_clip(clseq_sgd(0.05f, 0.9f, 1), 0, 0, 0.3f, 0);
    default: return with_clip(clseq_nadam(0.01f, 0.9f, 0.999f, 1e-7f), 0, 0.05f, 0, 0);
    }
}

static void all_weights(clseq_model *m, float *w)
{
    ck_assert_clseq_ok(clseq_get_weights(m, 0, w, w + EQ_IN * 6));
    ck_assert_clseq_ok(clseq_get_weights(m, 1, w + EQ_IN * 6 + 6, w + EQ_IN * 6 + 6 + 6 * 2));
}

/* Trains one epoch (no shuffling, 5 steps), saves, loads, then trains two
 * more epochs on both: the loaded model must end bit for bit where the
 * uninterrupted one does (same floats in the same order, so no tolerance),
 * with the same settings. As a control, the loaded model compiled again
 * (a fresh optimizer state) must end elsewhere. */
START_TEST(resume_from_file_is_exact)
{
    clseq_optimizer opt = resume_optimizer(_i);
    float x[EQ_ROWS * EQ_IN], y[EQ_ROWS * 3];
    float wa[EQ_IN * 6 + 6 + 6 * 2 + 2], wb[sizeof wa / sizeof wa[0]], wc[sizeof wa / sizeof wa[0]];
    char path[4200];
    snprintf(path, sizeof path, "%s/resume.clseq", test_temp_dir());
    int out;
    clseq_model *a = eq_model(test_ctx(), CLSEQ_MEAN_SQUARED_ERROR, &out, x, y), *b, *c;
    ck_assert_clseq_ok(clseq_compile(a, opt, CLSEQ_MEAN_SQUARED_ERROR, 0));
    clseq_fit_options o = clseq_fit_defaults();
    o.verbose = 0;
    o.batch_size = EQ_BATCH;
    o.shuffle = 0;
    ck_assert_clseq_ok(clseq_fit(a, x, y, EQ_ROWS, &o, NULL));
    ck_assert_clseq_ok(clseq_save(a, path));
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &b));
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &c));
    clseq_optimizer ob;
    ck_assert_clseq_ok(clseq_model_compile_settings(b, &ob, NULL, NULL));
    ck_assert_msg(memcmp(&ob, &opt, sizeof ob) == 0, "optimizer %d: loaded settings differ", _i);
    ck_assert_clseq_ok(clseq_compile(c, opt, CLSEQ_MEAN_SQUARED_ERROR, 0));
    o.epochs = 2;
    ck_assert_clseq_ok(clseq_fit(a, x, y, EQ_ROWS, &o, NULL));
    ck_assert_clseq_ok(clseq_fit(b, x, y, EQ_ROWS, &o, NULL));
    ck_assert_clseq_ok(clseq_fit(c, x, y, EQ_ROWS, &o, NULL));
    all_weights(a, wa);
    all_weights(b, wb);
    all_weights(c, wc);
    ck_assert_msg(memcmp(wa, wb, sizeof wa) == 0, "optimizer %d: resumed training differs", _i);
    ck_assert_msg(memcmp(wa, wc, sizeof wa) != 0,
                  "optimizer %d: a fresh optimizer state gave the same weights", _i);
    clseq_model_free(a);
    clseq_model_free(b);
    clseq_model_free(c);
}
END_TEST

/* ---- bad settings ------------------------------------------------------------ */

START_TEST(bad_settings_are_refused)
{
    static const struct {
        const char *want; /* in the message */
        int which;
    } cases[] = {
        {"adamw: weight_decay must be >= 0", 0},
        {"only one of clipnorm, clipvalue and global_clipnorm", 1},
        {"lion: beta1 must be in (0, 1]", 2},
        {"adagrad: initial_accumulator_value must be >= 0", 3},
        {"adadelta: rho must be in [0, 1)", 4},
        {"nadam: epsilon must be > 0", 5},
        {"adamax: beta1 and beta2 must be in [0, 1)", 6},
        {"sgd: clipvalue must be >= 0", 7},
        {"adam: global_clipnorm must be >= 0", 8},
        {"lion: learning_rate must be > 0", 9},
    };
    clseq_model *m;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 2, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, 2, CLSEQ_LINEAR));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        clseq_optimizer o;
        switch (cases[i].which) {
        case 0: o = clseq_adamw(0.001f, -0.1f, 0.9f, 0.999f, 1e-7f); break;
        case 1: o = with_clip(named("adam"), 1.0f, 0.5f, 0, 0); break;
        case 2: o = clseq_lion(0.001f, 0.0f, 0.99f); break;
        case 3: o = clseq_adagrad(0.001f, -0.1f, 1e-7f); break;
        case 4: o = clseq_adadelta(0.001f, 1.0f, 1e-7f); break;
        case 5: o = clseq_nadam(0.001f, 0.9f, 0.999f, 0.0f); break;
        case 6: o = clseq_adamax(0.001f, 0.9f, 1.0f, 1e-7f); break;
        case 7: o = with_clip(named("sgd"), 0, NAN, 0, 0); break;
        case 8: o = with_clip(named("adam"), 0, 0, -1.0f, 0); break;
        default: o = clseq_lion(0.0f, 0.9f, 0.99f); break;
        }
        clseq_status s = clseq_compile(m, o, CLSEQ_MEAN_SQUARED_ERROR, 0);
        ck_assert_msg(s == CLSEQ_E_ARG, "case %zu: %s", i, clseq_status_name(s));
        ck_assert_msg(strstr(clseq_last_error(), cases[i].want), "case %zu: '%s' not in '%s'", i,
                      cases[i].want, clseq_last_error());
    }
    clseq_model_free(m);
    /* the names: Keras's defaults in any case; unknown names listed */
    clseq_optimizer o;
    ck_assert_clseq_ok(clseq_optimizer_from_name("NAdam", 0, &o));
    clseq_optimizer want = clseq_nadam(0.001f, 0.9f, 0.999f, 1e-7f);
    ck_assert_mem_eq(&o, &want, sizeof o);
    ck_assert_clseq_ok(clseq_optimizer_from_name("adadelta", 0.5f, &o));
    ck_assert(o.kind == CLSEQ_OPT_ADADELTA && o.learning_rate == 0.5f && o.rho == 0.95f);
    ck_assert_clseq_ok(clseq_optimizer_from_name("adagrad", 0, &o));
    ck_assert(o.initial_accumulator_value == 0.1f && o.epsilon == 1e-7f);
    ck_assert_clseq_ok(clseq_optimizer_from_name("adamw", 0, &o));
    ck_assert(o.weight_decay == 0.004f && o.beta2 == 0.999f);
    ck_assert_clseq_ok(clseq_optimizer_from_name("lion", 0, &o));
    ck_assert(o.beta1 == 0.9f && o.beta2 == 0.99f && o.learning_rate == 0.001f);
    ck_assert_int_eq(clseq_optimizer_from_name("adamx", 0, &o), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "unknown optimizer 'adamx'") &&
                      strstr(clseq_last_error(), "lion"),
                  "%s", clseq_last_error());
}
END_TEST

Suite *optimizers_suite(void);
Suite *optimizers_suite(void)
{
    Suite *s = suite_create("optimizers");
    TCase *tc = tcase_create("optimizers");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, reference_matches_hand_computation);
    tcase_add_test(tc, new_rules_match_hand_computation);
    tcase_add_loop_test(tc, one_and_more_steps_match_keras_rules, 0, 2 * OPT_CASES);
    tcase_add_loop_test(tc, fused_and_layer_paths_agree, 0, 5 * 5);
    tcase_add_loop_test(tc, clipping_a_larger_layer, 0, 3);
    tcase_add_loop_test(tc, resume_from_file_is_exact, 0, 9);
    tcase_add_test(tc, bad_settings_are_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(optimizers_suite());
}
