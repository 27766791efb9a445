/* Finite-difference checks of the training gradient, for every output
 * activation x loss pairing the API allows, on 3 -> 5 -> 4 -> out nets (the
 * hidden activations vary so that each activation also appears inside the
 * net), on both training paths (a context each, made with the fused option
 * 0 or 1), plus nets built with Activation layers.
 *
 * The gradient under test comes through the public API: with plain SGD at
 * learning rate 1, one batch holding every row, one epoch and no shuffle,
 * one fit step gives g = w_before - w_after. The reference is the central
 * difference (L(w + h) - L(w - h)) / (2h) of clseq_evaluate's loss (the same
 * batch-averaged loss fit minimises), one weight at a time.
 *
 * Tolerance, worked out: evaluate computes the loss in float32, so each
 * value carries a rounding error of a few ulp of L (L is O(1): a few 1e-7);
 * divided by 2h = 1e-2 that is a few 1e-5 in the difference quotient. The
 * truncation error of a central difference is h^2/6 |L'''|, about 4e-6 for
 * the O(1) third derivatives of these smooth nets with O(1) weights. The
 * fit gradient itself is w_before - w_after in float32: about 1e-7. So the
 * expected disagreement is below 1e-4; we allow 5e-4 + 1e-2 |g_fd|, five
 * times that, and the relative term covers the larger gradients. Kinks
 * (relu at 0, MAE at p = y) would break the difference quotient, so a host
 * forward pass in double finds the weights whose +-h moves any relu input
 * or MAE residual across its kink and leaves those out (at most 10% of
 * them, asserted); on either side of a kink the loss is smooth.
 * To show the tolerance still has teeth, every case also asserts that a
 * gradient 10% off (1.1 g) would fail it on at least a quarter of the
 * weights (measured on PoCL: 37% to 97% of them; the worst true gradient
 * used 3% of its tolerance). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/fused.h"
#include "testutil.h"

#define ROWS 8
#define IN 3
#define MAX_LAYERS 6
#define MAX_WIDTH 8
#define STEP 5e-3f          /* finite-difference step h */
#define TOL_ABS 5e-4
#define TOL_REL 1e-2

typedef struct layer_def {
    int units;                 /* 0: an Activation layer */
    clseq_activation act;
} layer_def;

typedef struct grad_case {
    const char *name;
    clseq_loss loss;
    int layer_count;
    layer_def layers[MAX_LAYERS];
} grad_case;

#define L3(a, b, out, oact) 3, {{5, a}, {4, b}, {out, oact}}

static const grad_case cases[] = {
    {"cce softmax", CLSEQ_CATEGORICAL_CROSSENTROPY, L3(CLSEQ_TANH, CLSEQ_RELU, 3, CLSEQ_SOFTMAX)},
    {"sparse cce softmax", CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
     L3(CLSEQ_SIGMOID, CLSEQ_TANH, 3, CLSEQ_SOFTMAX)},
    {"bce sigmoid", CLSEQ_BINARY_CROSSENTROPY, L3(CLSEQ_RELU, CLSEQ_SIGMOID, 2, CLSEQ_SIGMOID)},
    {"bce sigmoid 1 unit", CLSEQ_BINARY_CROSSENTROPY,
     L3(CLSEQ_TANH, CLSEQ_LINEAR, 1, CLSEQ_SIGMOID)},
    {"mse linear", CLSEQ_MEAN_SQUARED_ERROR, L3(CLSEQ_TANH, CLSEQ_SIGMOID, 2, CLSEQ_LINEAR)},
    {"mse relu", CLSEQ_MEAN_SQUARED_ERROR, L3(CLSEQ_SIGMOID, CLSEQ_TANH, 3, CLSEQ_RELU)},
    {"mse sigmoid", CLSEQ_MEAN_SQUARED_ERROR, L3(CLSEQ_RELU, CLSEQ_TANH, 2, CLSEQ_SIGMOID)},
    {"mse tanh", CLSEQ_MEAN_SQUARED_ERROR, L3(CLSEQ_LINEAR, CLSEQ_RELU, 2, CLSEQ_TANH)},
    {"mse softmax", CLSEQ_MEAN_SQUARED_ERROR, L3(CLSEQ_TANH, CLSEQ_SOFTMAX, 3, CLSEQ_SOFTMAX)},
    {"mae linear", CLSEQ_MEAN_ABSOLUTE_ERROR, L3(CLSEQ_RELU, CLSEQ_TANH, 2, CLSEQ_LINEAR)},
    {"mae relu", CLSEQ_MEAN_ABSOLUTE_ERROR, L3(CLSEQ_TANH, CLSEQ_SIGMOID, 3, CLSEQ_RELU)},
    {"mae sigmoid", CLSEQ_MEAN_ABSOLUTE_ERROR, L3(CLSEQ_SIGMOID, CLSEQ_RELU, 2, CLSEQ_SIGMOID)},
    {"mae tanh", CLSEQ_MEAN_ABSOLUTE_ERROR, L3(CLSEQ_TANH, CLSEQ_TANH, 2, CLSEQ_TANH)},
    {"mae softmax", CLSEQ_MEAN_ABSOLUTE_ERROR, L3(CLSEQ_RELU, CLSEQ_SIGMOID, 3, CLSEQ_SOFTMAX)},
    /* Activation layers: the loss meets a separate softmax / sigmoid layer */
    {"dense + activation(softmax), cce", CLSEQ_CATEGORICAL_CROSSENTROPY, 5,
     {{5, CLSEQ_LINEAR}, {0, CLSEQ_TANH}, {4, CLSEQ_RELU}, {3, CLSEQ_LINEAR}, {0, CLSEQ_SOFTMAX}}},
    {"dense + activation(softmax), sparse cce", CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, 4,
     {{5, CLSEQ_SIGMOID}, {4, CLSEQ_LINEAR}, {0, CLSEQ_RELU}, {3, CLSEQ_SOFTMAX}}},
    {"dense + activation(sigmoid), bce", CLSEQ_BINARY_CROSSENTROPY, 4,
     {{5, CLSEQ_TANH}, {4, CLSEQ_SIGMOID}, {2, CLSEQ_LINEAR}, {0, CLSEQ_SIGMOID}}},
    {"activation layers, mse", CLSEQ_MEAN_SQUARED_ERROR, 5,
     {{5, CLSEQ_LINEAR}, {0, CLSEQ_SIGMOID}, {4, CLSEQ_LINEAR}, {0, CLSEQ_SOFTMAX},
      {2, CLSEQ_TANH}}},
};

#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

static int output_width(const grad_case *c)
{
    for (int i = c->layer_count - 1; i >= 0; i--)
        if (c->layers[i].units)
            return c->layers[i].units;
    return IN;
}

static double act_ref(clseq_activation act, double z)
{
    switch (act) {
    case CLSEQ_RELU: return z > 0 ? z : 0;
    case CLSEQ_SIGMOID: return 1 / (1 + exp(-z));
    case CLSEQ_TANH: return tanh(z);
    default: return z;
    }
}

#define MAX_SIGNS (ROWS * MAX_LAYERS * MAX_WIDTH)

/* Applies act to a row of width w in place; appends the side of the kink
 * each relu input lies on to signs. */
static void activate_row(clseq_activation act, double *a, int w, char *signs, int *count)
{
    if (act == CLSEQ_SOFTMAX) {
        double top = a[0], sum = 0;
        for (int j = 1; j < w; j++)
            top = a[j] > top ? a[j] : top;
        for (int j = 0; j < w; j++)
            sum += (a[j] = exp(a[j] - top));
        for (int j = 0; j < w; j++)
            a[j] /= sum;
        return;
    }
    for (int j = 0; j < w; j++) {
        if (act == CLSEQ_RELU)
            signs[(*count)++] = a[j] > 0;
        a[j] = act_ref(act, a[j]);
    }
}

/* A host forward pass in double through the weights w (per dense layer:
 * kernel then bias): records on which side of its kink every relu input,
 * and for MAE every residual p - y, lies. Returns the number recorded. */
static int kink_sides(const grad_case *c, float *const *weights, const float *x, const float *y,
                      char *signs)
{
    int count = 0;
    for (int r = 0; r < ROWS; r++) {
        double a[MAX_WIDTH], z[MAX_WIDTH];
        int w = IN;
        for (int j = 0; j < IN; j++)
            a[j] = x[r * IN + j];
        for (int l = 0; l < c->layer_count; l++) {
            const layer_def *d = &c->layers[l];
            if (d->units) {
                const float *kernel = weights[l], *bias = weights[l] + w * d->units;
                for (int u = 0; u < d->units; u++) {
                    z[u] = bias[u];
                    for (int k = 0; k < w; k++)
                        z[u] += a[k] * kernel[k * d->units + u];
                }
                w = d->units;
                memcpy(a, z, sizeof z);
            }
            activate_row(d->act, a, w, signs, &count);
        }
        if (c->loss == CLSEQ_MEAN_ABSOLUTE_ERROR)
            for (int j = 0; j < w; j++)
                signs[count++] = a[j] > y[r * w + j];
    }
    return count;
}

/* Targets that suit the loss: one-hot rows, class indices, 0/1 labels, or
 * values in the output activation's range. */
static void make_targets(const grad_case *c, float *y)
{
    int out = output_width(c), width = out;
    uint64_t state = 99;
    clseq_activation oact = c->layers[c->layer_count - 1].act;
    if (c->loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY)
        width = 1;
    for (int r = 0; r < ROWS; r++) {
        int cls = (int)test_uniform(&state, 0, (float)out);
        for (int j = 0; j < out; j++) {
            float u = test_uniform(&state, 0, 1);
            float *t = &y[r * width + (width == 1 ? 0 : j)];
            switch (c->loss) {
            case CLSEQ_CATEGORICAL_CROSSENTROPY: *t = j == cls ? 1.0f : 0.0f; break;
            case CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY: *t = (float)cls; break;
            case CLSEQ_BINARY_CROSSENTROPY: *t = u < 0.5f ? 0.0f : 1.0f; break;
            default:
                *t = oact == CLSEQ_LINEAR || oact == CLSEQ_TANH ? 2 * u - 1 : u;
            }
        }
    }
}

/* Sets every dense layer's weights from a seeded uniform stream. */
static void set_initial_weights(clseq_model *m, const grad_case *c, float **weights)
{
    int in = IN;
    for (int l = 0; l < c->layer_count; l++) {
        int units = c->layers[l].units;
        if (!units)
            continue;
        float *kernel = weights[l], *bias = weights[l] + in * units;
        test_fill_uniform(kernel, (size_t)in * units, 1000u + (unsigned)l, -1.2f, 1.2f);
        test_fill_uniform(bias, (size_t)units, 2000u + (unsigned)l, -0.5f, 0.5f);
        ck_assert_clseq_ok(clseq_set_weights(m, l, kernel, bias));
        in = units;
    }
}

static void put_weights(clseq_model *m, const grad_case *c, float *const *weights)
{
    int in = IN;
    for (int l = 0; l < c->layer_count; l++) {
        int units = c->layers[l].units;
        if (!units)
            continue;
        ck_assert_clseq_ok(clseq_set_weights(m, l, weights[l], weights[l] + in * units));
        in = units;
    }
}

static double loss_at(clseq_model *m, const float *x, const float *y)
{
    float loss;
    ck_assert_clseq_ok(clseq_evaluate(m, x, y, ROWS, &loss, NULL));
    return loss;
}

/* c's net on ctx, compiled for plain SGD at learning rate 1. */
static clseq_model *build_model(clseq_ctx *ctx, const grad_case *c)
{
    clseq_model *m;
    ck_assert_clseq_ok(clseq_model_create(ctx, IN, &m));
    for (int l = 0; l < c->layer_count; l++) {
        if (c->layers[l].units)
            ck_assert_clseq_ok(clseq_add_dense(m, c->layers[l].units, c->layers[l].act));
        else
            ck_assert_clseq_ok(clseq_add_activation(m, c->layers[l].act));
    }
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(1.0f, 0.0f, 0), c->loss, 0));
    return m;
}

START_TEST(gradient_matches_finite_differences)
{
    const grad_case *c = &cases[_i];
    float x[ROWS * IN], y[ROWS * MAX_WIDTH];
    float *w0[MAX_LAYERS] = {0}, *fd[MAX_LAYERS] = {0}, *after[MAX_LAYERS] = {0};
    int sizes[MAX_LAYERS] = {0}, in = IN;
    /* one context and one model per training path: path p has fused = p */
    clseq_ctx *ctx[2] = {test_ctx_with_fused(0), test_ctx_with_fused(1)};
    clseq_model *models[2] = {build_model(ctx[0], c), build_model(ctx[1], c)};
    for (int l = 0; l < c->layer_count; l++) {
        if (c->layers[l].units) {
            sizes[l] = (in + 1) * c->layers[l].units;
            w0[l] = malloc((size_t)sizes[l] * sizeof(float));
            fd[l] = malloc((size_t)sizes[l] * sizeof(float));
            after[l] = malloc((size_t)sizes[l] * sizeof(float));
            in = c->layers[l].units;
        }
    }
    test_fill_uniform(x, ROWS * IN, 7, -1, 1);
    make_targets(c, y);
    set_initial_weights(models[0], c, w0);
    char sides[MAX_SIGNS], sides_up[MAX_SIGNS], sides_down[MAX_SIGNS];
    int nsides = kink_sides(c, w0, x, y, sides), skipped = 0, total = 0;

    /* reference: central differences of evaluate's loss (the same on both
     * paths: only fit has a fused path), one weight at a time; a weight
     * whose +-h moves any relu input or MAE residual across its kink has no
     * valid difference quotient and is left out (NAN) */
    for (int l = 0; l < c->layer_count; l++)
        for (int i = 0; i < sizes[l]; i++) {
            float keep = w0[l][i], up = keep + STEP, down = keep - STEP;
            w0[l][i] = up;
            kink_sides(c, w0, x, y, sides_up);
            put_weights(models[0], c, w0);
            double loss_up = loss_at(models[0], x, y);
            w0[l][i] = down;
            kink_sides(c, w0, x, y, sides_down);
            put_weights(models[0], c, w0);
            double loss_down = loss_at(models[0], x, y);
            w0[l][i] = keep;
            fd[l][i] = (float)((loss_up - loss_down) / ((double)up - (double)down));
            total++;
            if (memcmp(sides, sides_up, (size_t)nsides) ||
                memcmp(sides, sides_down, (size_t)nsides)) {
                fd[l][i] = NAN;
                skipped++;
            }
        }
    ck_assert_msg(skipped * 10 <= total, "%s: %d of %d weights sit at a kink; pick other seeds",
                  c->name, skipped, total);

    for (int p = 0; p < 2; p++) {
        clseq_model *m = models[p];
        put_weights(m, c, w0);
        ck_assert_int_eq(clseq_fused_applies(m, ROWS), p); /* the path asked for */
        clseq_fit_options o = clseq_fit_defaults();
        o.batch_size = ROWS;
        o.shuffle = 0;
        o.verbose = 0;
        ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, NULL));
        int checked = 0, bad = 0, wrong_caught = 0;
        in = IN;
        for (int l = 0; l < c->layer_count; l++) {
            int units = c->layers[l].units;
            if (!units)
                continue;
            ck_assert_clseq_ok(clseq_get_weights(m, l, after[l], after[l] + in * units));
            for (int i = 0; i < sizes[l]; i++) {
                double g = (double)w0[l][i] - (double)after[l][i]; /* lr = 1 */
                double ref = fd[l][i], tol = TOL_ABS + TOL_REL * fabs(ref);
                if (isnan(ref))
                    continue;
                checked++;
                if (fabs(g - ref) > tol) {
                    bad++;
                    fprintf(stderr, "%s, fused %d: layer %d %s %d: gradient %.6g, finite "
                            "difference %.6g\n", c->name, p, l,
                            i < in * units ? "kernel" : "bias",
                            i < in * units ? i : i - in * units, g, ref);
                }
                if (fabs(1.1 * g - ref) > tol)
                    wrong_caught++;
            }
            in = units;
        }
        ck_assert_msg(bad == 0, "%s, fused %d: %d of %d gradients disagree with finite "
                      "differences (see stderr)", c->name, p, bad, checked);
        /* the tolerance can fail: a 10% wrong gradient is caught */
        ck_assert_msg(wrong_caught * 4 >= checked,
                      "%s: a 1.1x gradient fails only %d of %d weights", c->name, wrong_caught,
                      checked);
    }
    for (int l = 0; l < MAX_LAYERS; l++) {
        free(w0[l]);
        free(fd[l]);
        free(after[l]);
    }
    for (int p = 0; p < 2; p++) {
        clseq_model_free(models[p]);
        clseq_ctx_free(ctx[p]);
    }
}
END_TEST

/* The relu kink itself: at z exactly 0 the fit uses relu'(0) = 0, and a
 * dead unit passes no gradient to its weights (both paths). */
START_TEST(dead_relu_unit_gets_no_gradient)
{
    clseq_model *m;
    float x[4] = {1, 2, -1, 0.5f}, y[2] = {0.3f, -0.7f};
    float k0[2] = {-1, -1}, b0[1] = {-0.5f};     /* z = -x1 - x2 - 0.5 <= -0.5: dead */
    float k1[1] = {0.7f}, b1[1] = {0.1f}, k[2], b[1], kk[1], bb[1];
    for (int p = 0; p < 2; p++) {
        clseq_ctx *ctx = test_ctx_with_fused(p);
        ck_assert_clseq_ok(clseq_model_create(ctx, 2, &m));
        ck_assert_clseq_ok(clseq_add_dense(m, 1, CLSEQ_RELU));
        ck_assert_clseq_ok(clseq_add_dense(m, 1, CLSEQ_LINEAR));
        ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(1.0f, 0, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
        ck_assert_clseq_ok(clseq_set_weights(m, 0, k0, b0));
        ck_assert_clseq_ok(clseq_set_weights(m, 1, k1, b1));
        ck_assert_int_eq(clseq_fused_applies(m, 2), p); /* the path asked for */
        clseq_fit_options o = clseq_fit_defaults();
        o.batch_size = 2;
        o.verbose = 0;
        ck_assert_clseq_ok(clseq_fit(m, x, y, 2, &o, NULL));
        ck_assert_clseq_ok(clseq_get_weights(m, 0, k, b));
        ck_assert_clseq_ok(clseq_get_weights(m, 1, kk, bb));
        ck_assert(k[0] == k0[0] && k[1] == k0[1] && b[0] == b0[0]);
        ck_assert(kk[0] == k1[0]); /* the dead unit's output is 0 */
        /* bias gradient: mean of 2 (0.1 - y) over the rows */
        double gb = (2 * (0.1 - 0.3) + 2 * (0.1 + 0.7)) / 2;
        ck_assert_double_eq_tol(bb[0], 0.1 - gb, 1e-6);
        clseq_model_free(m);
        clseq_ctx_free(ctx);
    }
}
END_TEST

Suite *gradients_suite(void);
Suite *gradients_suite(void)
{
    Suite *s = suite_create("gradients");
    TCase *tc = tcase_create("gradients");
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, gradient_matches_finite_differences, 0, CASE_COUNT);
    tcase_add_test(tc, dead_relu_unit_gets_no_gradient);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(gradients_suite());
}
