/* Every layer kind against a double-precision host reference, through
 * every GEMM family the device has (in the spirit of ggml's
 * test-backend-ops).
 *
 * THE TABLE. cases[] below has one row per (kind, configuration, input
 * shape): its name, its Keras class (the registry finds the kind), a
 * config builder, the config builder's argument (Dense: units), one
 * sample's input shape, the batch's rows, a reference forward pass in
 * double, which activations to loop over, which GEMM families to run, how
 * large its products are (which kernels they must reach) and how many
 * elements of each gradient the finite differences sample. Adding a layer
 * kind is one row (plus its config builder and reference forward, written
 * once per kind); everything below the table is generic. The registry
 * check fails while a kind in clseq_layer_kinds_list() has no row.
 *
 * WHAT EACH TEST COMPARES, per row and activation:
 *  - forward: the layer's outputs (clseq_forward, inference, on a model
 *    of that one layer, rows x in-size inputs in U(-1, 1); variables: the
 *    kind's init plus U(-0.3, 0.3), so zero biases hide nothing) against
 *    the reference
 *    computed in double from the same float inputs and the same float
 *    variables (read back with clseq_get_variable), element by element;
 *  - backward: with an upstream gradient R (random, rows x out-size) in
 *    work.delta[0], clseq_backward(d_out_is_dz = 0) gives dL/dθ for every
 *    trainable variable (m->grads) and dL/dx (the input gradient) of the
 *    scalar L = sum(out * R). The reference is the central difference
 *    (L(θ + h) - L(θ - h)) / 2h of L computed with the DOUBLE reference
 *    forward, element by element (all elements of small tensors, a fixed
 *    random sample of fd_samples elements of larger ones);
 *  - both on every family in the row's set: the default context, and
 *    contexts made with gemm_kernel TILED, CPU and PACKED (gemm BUILTIN, so
 *    that a GPU's CLBlast does not take the large products), and with gemm
 *    CLBLAST when this build has it (big rows only: CLBlast compiles its
 *    kernels at run time, slowly on PoCL).
 * Separately, per row: encode -> decode -> encode through
 * clseq_layer_get_config and clseq_model_add_layer_config gives the same
 * config and the same layer, the reference's output shape is the model's,
 * and the kind's variable_count/variable agree with clseq_variable_count /
 * clseq_get_variable_info and with the model's parameter layout.
 *
 * WHICH KERNELS THE SIZES REACH (host/ops/ops.c): a product M x N x K runs
 * on the one-element-per-work-item "small" kernels unless
 * use_blocked_gemm: with the register-blocked CPU kernels (dev->cpu_gemm:
 * families CPU and PACKED, and default and CLBlast on CPU devices) when
 * M N K >= 32^3; with the local-memory tiles (TILED, default on GPUs) when
 * M N K >= 64^3 and M, N >= tm/2 (32 with PoCL's 64x64 tiles). CLBlast
 * takes exactly the products the blocked kernels would. The CPU kernels
 * pack their operands always under PACKED, and under CPU/default only
 * from M N K >= 2^31 or for the nt form with K < 32 (pack_operands). Dense
 * runs three products: forward nn (M = rows x positions, N = units, K =
 * features), kernel gradient tn (features, units, M) and input gradient nt
 * (M, features, units); all three have the same M N K.
 *   Dense 5 -> 4 rows (8 x (5), 8 x (3,5), 8 x (2,3,5)): M N K <= 960,
 *     small kernels on every family;
 *   Dense 40 -> 24 on 16 x (3,40): M N K = 48 * 24 * 40 = 46080 >= 32^3,
 *     < 64^3: register-blocked on CPU, PACKED (and default/CLBlast on
 *     PoCL); under CPU nn and tn unpacked, nt packed (K = 24 < 32); small
 *     on TILED;
 *   Dense 45 -> 37 on 20 x (8,45): M N K = 160 * 37 * 45 = 266400 >= 64^3,
 *     every M, N >= 37: blocked on every family, tiles included; under CPU
 *     all three unpacked (nt's K = 37 >= 32). No M, N or K is a multiple
 *     of the 64-wide tiles or of the CPU kernels' 6-row, 32-column blocks,
 *     and of the nt kernel's 4 x 4 blocks only M = 160 is a multiple, so
 *     every kernel runs partial blocks.
 * Conv2D runs the same three products per chunk of samples with M = output
 * positions, N = filters, K = taps (kh kw C; nt's result is the columns'
 * gradient).
 *   Conv2D(33) 3x3 'same' on 7 x (7,7,5): M N K = 343 * 33 * 45 = 509355,
 *     every M, N >= 33, none a multiple of any block: blocked everywhere;
 *   the other Conv2D rows are small, and the chunked one (669 samples)
 *     ends on a chunk of one sample, on the small kernels: REACH_SMALL.
 * These claims are checked, not just stated: while a row whose `reach`
 * says it is blocked runs on a family, the test hides (sets to NULL, and
 * restores afterwards) the kernels that family must not use for it - the
 * small kernels always, the tiled ones under CPU/PACKED/CLBlast, the CPU
 * ones under TILED/CLBlast, the unpacked CPU ones under PACKED - so a
 * product that fell back would fail with CL_INVALID_KERNEL. (Which CPU
 * products pack was verified once the same way, hiding the packed or the
 * unpacked kernels under CPU; the fence itself does not tell them apart.)
 *
 * TOLERANCES, worked out. u = 2^-24 is float's unit roundoff. A float sum
 * of n terms is off by at most about n u sum|terms| (any order, with or
 * without FMA); the activations add a few ulp (OpenCL 1.2: exp <= 3 ulp,
 * tanh <= 5, divide <= 2.5; sigmoid and softmax chain one exp and one
 * divide). Every value compared here is a sum of at most `terms` terms,
 * terms = M + features + units (the longest sums in the three products
 * and in softmax's rows; bounds_terms; for Conv2D M + kh kw C + kh kw
 * filters, M its output positions: an output sums a window of taps, an
 * input gradient a window of filters), through at most one activation
 * and its derivative, whose slopes are <= 1. With inputs, variables and R
 * all O(1) and random in sign, sum|terms| of an element stays within a
 * small factor of the largest |value| of its tensor, so each element
 * must satisfy
 *     |device - reference| <= TOL_C (terms + ACT_ULPS) u (|ref| + scale),
 * scale = the largest |ref| in that tensor (the absolute part covers
 * elements that cancel to near zero). ACT_ULPS = 16 covers the activation
 * and its derivative; TOL_C = 2 covers the "small factor". For the big row
 * terms = 160 + 45 + 37 = 242: the bound is 3e-5 (|ref| + scale), i.e.
 * relative ~K u as expected. The reference side is exact by comparison:
 * the finite differences run in double with h = 1e-4, truncation h^2/6
 * |L'''| ~ 1e-9 and rounding 1e-16 |L| / h ~ 1e-11, so the check measures
 * the device's float32 alone.
 * Teeth: every run also asserts that a gradient 5% off (1.05 g), and an
 * output 5% off, would fail on at least 90% of the elements whose
 * reference is not zero (relu's exact zeros cannot fail a scaling).
 * Measured on PoCL (CLSEQ_TEST_VERBOSE=1 prints it): outputs use at most
 * 1.5% of their tolerance, gradients 3%; a 5% error fails on >= 99.5% of
 * the nonzero elements. Injected kernel bugs fail the families they hit:
 * sigmoid's derivative 0.1% off, softmax's backward dot missing a column,
 * the unpacked nt tail, the packed k loop or the tiled A edge one short,
 * the bias sum missing a row, CLBlast's epilogue without the bias.
 *
 * Relu's kink: an element whose relu input z lies within float rounding
 * of 0 could take the other branch on the device than in the reference,
 * and a finite difference straddling the kink is meaningless. The
 * reference records the smallest |z| it feeds to relu (ref_activate), and
 * each sample's inputs are redrawn (from the same stream) until every |z|
 * of that sample is >= KINK_MARGIN = 1e-3 (5 of the big row's 20 samples
 * are redrawn, once each). 1e-3 is far above z's float error (~1e-5 for 45
 * terms) and above how far a finite-difference step moves any z (h
 * |dz/dθ| <= 1e-4 x ~1.1); each difference asserts that its perturbed
 * points still keep |z| >= KINK_MARGIN / 2. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn/layer.h"
#include "nn/model.h"
#include "nn/model_io.h"
#include "nn/train.h"
#include "runtime/runtime.h"
#include "testutil.h"

#define UNIT_ROUNDOFF (FLT_EPSILON / 2) /* u = 2^-24 */
#define TOL_C 2.0
#define ACT_ULPS 16
#define STEP 1e-4          /* finite-difference step h, in double */
#define KINK_MARGIN 1e-3   /* smallest |z| relu may see */
#define TEETH_SCALE 1.05   /* a 5% error ... */
#define TEETH_SHARE 0.9    /* ... must fail on this share of the nonzero elements */
#define VAR_JITTER 0.3f    /* variables: the kind's init + U(-0.3, 0.3) */

enum { MAX_VARS = 8, MAX_TENSORS = MAX_VARS + 1, MAX_REDRAWS = 100 };

/* ---- GEMM families ---------------------------------------------------- */

enum { FAM_DEFAULT, FAM_TILED, FAM_CPU, FAM_PACKED, FAM_CLBLAST, FAMILY_COUNT };
#define ON(f) (1u << (f))
#define BUILTIN (ON(FAM_DEFAULT) | ON(FAM_TILED) | ON(FAM_CPU) | ON(FAM_PACKED))
#define EVERY_FAMILY (BUILTIN | ON(FAM_CLBLAST))

static const char *const family_names[FAMILY_COUNT] = {"default", "tiled", "cpu", "packed",
                                                       "clblast"};
static clseq_ctx *family_ctx[FAMILY_COUNT];

static int have_clblast(void)
{
#ifdef CLSEQ_TEST_HAVE_CLBLAST
    return 1;
#else
    return 0;
#endif
}

/* The family's context (made once per process, freed by main), or NULL
 * where this build has no CLBlast. */
static clseq_ctx *family_context(int family)
{
    if (family == FAM_CLBLAST && !have_clblast())
        return NULL;
    if (!family_ctx[family]) {
        clseq_ctx_options o = clseq_ctx_defaults();
        static const clseq_gemm_kernel kernel[FAMILY_COUNT] = {
            CLSEQ_GEMM_KERNEL_AUTO, CLSEQ_GEMM_KERNEL_TILED, CLSEQ_GEMM_KERNEL_CPU,
            CLSEQ_GEMM_KERNEL_PACKED, CLSEQ_GEMM_KERNEL_AUTO};
        if (family != FAM_DEFAULT) {
            o.gemm = family == FAM_CLBLAST ? CLSEQ_GEMM_CLBLAST : CLSEQ_GEMM_BUILTIN;
            o.gemm_kernel = kernel[family];
        }
        family_ctx[family] = test_ctx_with(&o);
        /* the options gave the family asked for */
        clseq_device *d = clseq_ctx_main_device(family_ctx[family]);
        if (family != FAM_DEFAULT)
            ck_assert_int_eq(d->gemm_clblast, family == FAM_CLBLAST);
        if (family == FAM_TILED || family == FAM_CPU || family == FAM_PACKED) {
            ck_assert_int_eq(d->cpu_gemm, family != FAM_TILED);
            ck_assert_int_eq(d->gemm_packed, family == FAM_PACKED ? 2 : 1);
        }
    }
    return family_ctx[family];
}

static void free_family_contexts(void)
{
    for (int f = 0; f < FAMILY_COUNT; f++) {
        clseq_ctx_free(family_ctx[f]);
        family_ctx[f] = NULL;
    }
}

/* ---- the table ---------------------------------------------------------- */

typedef struct layer_case layer_case;

/* What a reference forward pass gets: the row, the activation, one
 * sample's input shape, rows samples of input x (row-major, flattened) and
 * the layer's variables in Keras's order. kink: the reference lowers it to
 * the smallest |argument| it passes to a non-differentiable point (relu's
 * 0), for the kink guard; callers set it to INFINITY first. */
typedef struct ref_call {
    const layer_case *c;
    clseq_activation act;
    clseq_shape in;
    int rows;
    const double *x;
    double *const *vars;
    double kink;
} ref_call;

/* Which products a row's size reaches (see the header). */
typedef enum reach {
    REACH_SMALL = 0,  /* small kernels everywhere (no fence) */
    REACH_CPU,        /* M N K >= 32^3: blocked where dev->cpu_gemm */
    REACH_ALL         /* M N K >= 64^3, M, N >= 32: blocked on every family */
} reach;

struct layer_case {
    const char *name;
    const char *keras_class;
    /* Fills cfg (Keras's names) for activation act. */
    void (*config)(const layer_case *c, clseq_activation act, clseq_layer_config *cfg);
    int arg;                 /* the config builder's argument (Dense: units) */
    clseq_shape in;          /* one sample's input shape */
    int rows;                /* samples per batch */
    /* Sets *out to the output shape and, with y not NULL, y (rows x out
     * size) to the forward pass in double. */
    void (*reference)(ref_call *r, clseq_shape *out, double *y);
    unsigned acts;           /* bit per clseq_activation code to loop over */
    unsigned families;       /* bit per FAM_* it runs on */
    reach reach;
    int fd_samples;          /* elements per gradient tensor (0: all) */
};

#define EVERY_ACTIVATION (~0u)

static void put_activation(clseq_layer_config *cfg, clseq_activation act)
{
    ck_assert_clseq_ok(clseq_config_put_string(cfg, "activation", clseq_activation_name(act)));
}

/* Elementwise act (softmax: per row of cols) over rows x cols in place,
 * in double; lowers *kink to the smallest |z| relu sees. */
static void ref_activate(clseq_activation act, double *z, int rows, int cols, double *kink)
{
    for (int r = 0; r < rows; r++) {
        double *row = z + (size_t)r * cols;
        if (act == CLSEQ_SOFTMAX || act == CLSEQ_LOG_SOFTMAX) {
            double top = row[0], sum = 0;
            for (int j = 1; j < cols; j++)
                top = row[j] > top ? row[j] : top;
            for (int j = 0; j < cols; j++)
                sum += exp(row[j] - top);
            for (int j = 0; j < cols; j++)
                row[j] = act == CLSEQ_SOFTMAX ? exp(row[j] - top) / sum
                                              : row[j] - top - log(sum);
            continue;
        }
        double kinks[4];
        int kink_count;
        test_activation_kinks(act, kinks, &kink_count);
        for (int j = 0; j < cols; j++) {
            for (int k = 0; k < kink_count; k++)
                *kink = fmin(*kink, fabs(row[j] - kinks[k]));
            row[j] = test_activation(act, row[j]);
        }
    }
}

static int shape_size(const clseq_shape *s)
{
    int n = 1;
    for (int i = 0; i < s->rank; i++)
        n *= s->dims[i];
    return n;
}

static int shape_last(const clseq_shape *s)
{
    return s->dims[s->rank - 1];
}

/* Dense(units = arg, activation): y = act(x W + b) on the last axis. */
static void config_dense(const layer_case *c, clseq_activation act, clseq_layer_config *cfg)
{
    ck_assert_clseq_ok(clseq_config_put_int(cfg, "units", c->arg));
    put_activation(cfg, act);
}

static void ref_dense(ref_call *r, clseq_shape *out, double *y)
{
    int K = shape_last(&r->in), N = r->c->arg;
    *out = r->in;
    out->dims[out->rank - 1] = N;
    if (!y)
        return;
    int P = r->rows * (shape_size(&r->in) / K); /* positions */
    const double *W = r->vars[0], *b = r->vars[1];
    for (int p = 0; p < P; p++)
        for (int j = 0; j < N; j++) {
            double z = b[j];
            for (int k = 0; k < K; k++)
                z += r->x[(size_t)p * K + k] * W[(size_t)k * N + j];
            y[(size_t)p * N + j] = z;
        }
    ref_activate(r->act, y, P, N, &r->kink);
}

/* Activation(activation): y = act(x), softmax over the last axis. */
static void config_activation(const layer_case *c, clseq_activation act,
                              clseq_layer_config *cfg)
{
    (void)c;
    put_activation(cfg, act);
}

static void ref_activation(ref_call *r, clseq_shape *out, double *y)
{
    *out = r->in;
    if (!y)
        return;
    int n = r->rows * shape_size(&r->in), last = shape_last(&r->in);
    memcpy(y, r->x, (size_t)n * sizeof *y);
    ref_activate(r->act, y, n / last, last, &r->kink);
}

/* ---- pooling, Flatten and Reshape (no variables, no activation) -------- */

/* The pooling rows' settings, picked by a row's arg. */
typedef struct pool_setup {
    int pool[2], strides[2];
    const char *padding;
} pool_setup;

static const pool_setup pool_setups[] = {
    {{1, 1}, {1, 1}, "valid"}, /* 0: 1x1 pool (on a 1x1 image) */
    {{3, 5}, {3, 5}, "valid"}, /* 1: the pool is the 3x5 image */
    {{3, 3}, {2, 2}, "valid"}, /* 2: overlapping windows, a last column no window covers */
    {{2, 2}, {3, 3}, "valid"}, /* 3: stride > pool: cells between windows */
    {{2, 2}, {2, 2}, "same"},  /* 4: even pool on an odd image: padding after only */
    {{3, 3}, {2, 2}, "same"},  /* 5: 3x3 pool, stride 2 on 4x4 */
    {{3, 3}, {1, 1}, "same"},  /* 6: padding on both sides (edge windows of 4 and 6 cells) */
    {{4, 3}, {1, 2}, "same"},  /* 7: non-square; odd total padding (more after) */
    {{2, 2}, {2, 2}, "valid"}, /* 8: an odd image's last row and column in no window */
};

static void config_pooling(const layer_case *c, clseq_activation act, clseq_layer_config *cfg)
{
    (void)act;
    const pool_setup *s = &pool_setups[c->arg];
    ck_assert_clseq_ok(clseq_config_put_ints(cfg, "pool_size", 2, s->pool));
    ck_assert_clseq_ok(clseq_config_put_ints(cfg, "strides", 2, s->strides));
    ck_assert_clseq_ok(clseq_config_put_string(cfg, "padding", s->padding));
}

/* Global pooling and Flatten take no values. */
static void config_none(const layer_case *c, clseq_activation act, clseq_layer_config *cfg)
{
    (void)c, (void)act, (void)cfg;
}

/* Keras's pooling geometry along one axis: the output size and the cells
 * of padding before the image ('same': half the total, rounded down). */
static void ref_pool_axis(int size, int window, int stride, int same, int *out, int *before)
{
    *out = same ? (size + stride - 1) / stride : (size - window) / stride + 1;
    int total = (*out - 1) * stride + window - size;
    *before = same && total > 0 ? total / 2 : 0;
}

/* Windows of pool cells every strides cells over (H, W, C): the max or
 * the mean of each window's cells inside the image (padding is in no
 * window: Keras 3). Max pooling's gradient jumps where a window's two
 * largest values swap, so the smallest gap between them is its kink
 * margin: samples with near-ties are redrawn like relu's near-zeros. */
static void ref_pool(ref_call *r, const int *pool, const int *strides, int same, int is_max,
                     clseq_shape *out, double *y)
{
    int H = r->in.dims[0], W = r->in.dims[1], C = r->in.dims[2], OH, OW, top, left;
    ref_pool_axis(H, pool[0], strides[0], same, &OH, &top);
    ref_pool_axis(W, pool[1], strides[1], same, &OW, &left);
    *out = (clseq_shape){3, {OH, OW, C}};
    if (!y)
        return;
    for (int s = 0; s < r->rows; s++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int c = 0; c < C; c++) {
                    double best = -INFINITY, second = -INFINITY, sum = 0;
                    int cells = 0;
                    for (int ky = 0; ky < pool[0]; ky++)
                        for (int kx = 0; kx < pool[1]; kx++) {
                            int iy = oy * strides[0] - top + ky, ix = ox * strides[1] - left + kx;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                continue;
                            double v = r->x[(((size_t)s * H + iy) * W + ix) * C + c];
                            second = v > best ? best : fmax(second, v);
                            best = fmax(best, v);
                            sum += v;
                            cells++;
                        }
                    ck_assert_int_gt(cells, 0);
                    y[(((size_t)s * OH + oy) * OW + ox) * C + c] = is_max ? best : sum / cells;
                    if (is_max && cells > 1)
                        r->kink = fmin(r->kink, best - second);
                }
}

static void ref_pooling(ref_call *r, clseq_shape *out, double *y)
{
    const pool_setup *s = &pool_setups[r->c->arg];
    ref_pool(r, s->pool, s->strides, strcmp(s->padding, "same") == 0,
             strcmp(r->c->keras_class, "MaxPooling2D") == 0, out, y);
}

/* One window the size of the image, (1, 1, C) laid out as (C). */
static void ref_global_pooling(ref_call *r, clseq_shape *out, double *y)
{
    int whole[2] = {r->in.dims[0], r->in.dims[1]};
    ref_pool(r, whole, whole, 0, strcmp(r->c->keras_class, "GlobalMaxPooling2D") == 0, out, y);
    *out = (clseq_shape){1, {r->in.dims[2]}};
}

/* Reshape's targets, picked by a row's arg (0 dims unused). */
static const clseq_shape reshape_targets[] = {
    {2, {6, -1}},    /* 0: 2x3x4 -> 6x4 */
    {3, {-1, 5, 1}}, /* 1: 3x5 -> 3x5x1 */
    {1, {-1}},       /* 2: 2x3x4 -> 24 */
    {3, {4, 3, 2}},  /* 3: 2x3x4 -> 4x3x2 */
    {2, {5, 3}},     /* 4: 3x5 -> 5x3 */
};

static void config_reshape(const layer_case *c, clseq_activation act, clseq_layer_config *cfg)
{
    (void)act;
    const clseq_shape *t = &reshape_targets[c->arg];
    ck_assert_clseq_ok(clseq_config_put_ints(cfg, "target_shape", t->rank, t->dims));
}

/* The values unchanged, the shape given or flat. */
static void ref_same_values(ref_call *r, const clseq_shape *out_shape, clseq_shape *out, double *y)
{
    *out = *out_shape;
    if (y)
        memcpy(y, r->x, (size_t)r->rows * shape_size(&r->in) * sizeof *y);
}

static void ref_flatten(ref_call *r, clseq_shape *out, double *y)
{
    clseq_shape flat = {1, {shape_size(&r->in)}};
    ref_same_values(r, &flat, out, y);
}

static void ref_reshape(ref_call *r, clseq_shape *out, double *y)
{
    clseq_shape t = reshape_targets[r->c->arg];
    int known = 1, unknown = -1;
    for (int i = 0; i < t.rank; i++)
        if (t.dims[i] < 0)
            unknown = i;
        else
            known *= t.dims[i];
    if (unknown >= 0)
        t.dims[unknown] = shape_size(&r->in) / known;
    ck_assert_int_eq(shape_size(&t), shape_size(&r->in));
    ref_same_values(r, &t, out, y);
}

/* A row of these kinds: linear only (they have no activation), the
 * default context only (no products, so no GEMM family matters), every
 * gradient element checked. PLAIN is those last four fields. */
#define PLAIN ON(CLSEQ_LINEAR), ON(FAM_DEFAULT), REACH_SMALL, 0
#define PLAIN_ROW(name, cls, config, arg, in, rows, ref) {name, cls, config, arg, in, rows, ref, PLAIN}

/* Dropout(rate = arg / 10): inference passes (the only ones this table
 * runs) are the identity, and so is their backward. Training-mode masks
 * are tests/test_norm.c's. */
static void config_dropout(const layer_case *c, clseq_activation act, clseq_layer_config *cfg)
{
    (void)act;
    ck_assert_clseq_ok(clseq_config_put_float(cfg, "rate", (float)c->arg / 10.0f));
}

static void ref_dropout(ref_call *r, clseq_shape *out, double *y)
{
    *out = r->in;
    if (y)
        memcpy(y, r->x, (size_t)r->rows * (size_t)shape_size(&r->in) * sizeof *y);
}

/* BatchNormalization(momentum 0.9, epsilon 1e-3, center = arg bit 0,
 * scale = arg bit 1), inference: y = gamma (x - moving_mean) /
 * sqrt(moving_variance + epsilon) + beta per channel of the last axis,
 * the variables in Keras's order (gamma and beta only where present; the
 * jitter keeps the moving variance in 1 +- 0.3). The longest sums are
 * dgamma's and dbeta's over rows x positions, within bounds_terms.
 * Training mode is tests/test_norm.c's. */
#define BN_EPSILON 1e-3f

static void config_batch_norm(const layer_case *c, clseq_activation act,
                              clseq_layer_config *cfg)
{
    (void)act;
    ck_assert_clseq_ok(clseq_config_put_float(cfg, "momentum", 0.9f));
    ck_assert_clseq_ok(clseq_config_put_float(cfg, "epsilon", BN_EPSILON));
    ck_assert_clseq_ok(clseq_config_put_int(cfg, "center", c->arg & 1));
    ck_assert_clseq_ok(clseq_config_put_int(cfg, "scale", (c->arg >> 1) & 1));
}

static void ref_batch_norm(ref_call *r, clseq_shape *out, double *y)
{
    *out = r->in;
    if (!y)
        return;
    int C = shape_last(&r->in), center = r->c->arg & 1, scale = (r->c->arg >> 1) & 1, v = 0;
    const double *gamma = scale ? r->vars[v++] : NULL, *beta = center ? r->vars[v++] : NULL;
    const double *mean = r->vars[v], *var = r->vars[v + 1];
    size_t n = (size_t)r->rows * (size_t)shape_size(&r->in);
    for (size_t i = 0; i < n; i++) {
        int c = (int)(i % (size_t)C);
        double xhat = (r->x[i] - mean[c]) / sqrt(var[c] + (double)BN_EPSILON);
        y[i] = (gamma ? gamma[c] * xhat : xhat) + (beta ? beta[c] : 0.0);
    }
}

/* ---- Conv2D ------------------------------------------------------------- */

/* The Conv2D rows' settings, picked by a row's arg. */
typedef struct conv_setup {
    int filters, kernel[2], strides[2], dilation[2];
    const char *padding;
    int use_bias;
} conv_setup;

static const conv_setup conv_setups[] = {
    {2, {1, 1}, {1, 1}, {1, 1}, "valid", 1}, /* 0: 1x1 kernel, stride 1: no im2col */
    {3, {3, 4}, {1, 1}, {1, 1}, "valid", 1}, /* 1: the kernel is the 3x4 image */
    {4, {3, 3}, {2, 2}, {1, 1}, "valid", 1}, /* 2: stride 2, a last row and column unread */
    {3, {3, 3}, {2, 3}, {1, 1}, "same", 1},  /* 3: strides 2x3 'same', odd total padding */
    {3, {2, 2}, {1, 1}, {1, 1}, "same", 1},  /* 4: even kernel 'same': padding after only */
    {3, {4, 3}, {1, 1}, {1, 1}, "same", 1},  /* 5: 4x3 'same': 1 row before, 2 after */
    {3, {3, 3}, {1, 1}, {2, 2}, "valid", 1}, /* 6: dilation 2 */
    {2, {3, 2}, {1, 1}, {2, 3}, "same", 1},  /* 7: dilation 2x3 'same' */
    {5, {3, 3}, {1, 1}, {1, 1}, "valid", 0}, /* 8: use_bias 0 */
    {3, {1, 1}, {2, 2}, {1, 1}, "same", 1},  /* 9: 1x1 kernel, stride 2: im2col */
    {33, {3, 3}, {1, 1}, {1, 1}, "same", 1}, /* 10: the blocked-GEMM row */
    {2, {7, 7}, {1, 1}, {1, 1}, "valid", 1}, /* 11: columns in chunks, the last of 1 sample */
};

static void config_conv2d(const layer_case *c, clseq_activation act, clseq_layer_config *cfg)
{
    const conv_setup *s = &conv_setups[c->arg];
    ck_assert_clseq_ok(clseq_config_put_int(cfg, "filters", s->filters));
    ck_assert_clseq_ok(clseq_config_put_ints(cfg, "kernel_size", 2, s->kernel));
    ck_assert_clseq_ok(clseq_config_put_ints(cfg, "strides", 2, s->strides));
    ck_assert_clseq_ok(clseq_config_put_string(cfg, "padding", s->padding));
    ck_assert_clseq_ok(clseq_config_put_ints(cfg, "dilation_rate", 2, s->dilation));
    put_activation(cfg, act);
    ck_assert_clseq_ok(clseq_config_put_int(cfg, "use_bias", s->use_bias));
}

/* Keras's conv geometry along one axis (keras/src/ops/operation_utils.py,
 * compute_conv_output_shape, and the backends' SAME padding): the output
 * size and the cells of padding before the image. */
static void ref_conv_axis(int size, int k, int stride, int dilation, int same, int *out,
                          int *before)
{
    int span = (k - 1) * dilation + 1;
    *out = same ? (size + stride - 1) / stride : (size - span) / stride + 1;
    int total = (*out - 1) * stride + span - size;
    *before = same && total > 0 ? total / 2 : 0;
}

/* Conv2D: y[n, oy, ox, f] = act(b[f] + sum over (ky, kx, c) of
 * x[n, oy sh - top + ky dh, ox sw - left + kx dw, c] W[ky, kx, c, f]),
 * cells outside the image being 0. */
static void ref_conv2d(ref_call *r, clseq_shape *out, double *y)
{
    const conv_setup *s = &conv_setups[r->c->arg];
    int H = r->in.dims[0], W = r->in.dims[1], C = r->in.dims[2], F = s->filters;
    int same = strcmp(s->padding, "same") == 0, OH, OW, top, left;
    ref_conv_axis(H, s->kernel[0], s->strides[0], s->dilation[0], same, &OH, &top);
    ref_conv_axis(W, s->kernel[1], s->strides[1], s->dilation[1], same, &OW, &left);
    *out = (clseq_shape){3, {OH, OW, F}};
    if (!y)
        return;
    const double *K = r->vars[0], *b = s->use_bias ? r->vars[1] : NULL;
    for (int n = 0; n < r->rows; n++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++)
                for (int f = 0; f < F; f++) {
                    double z = b ? b[f] : 0.0;
                    for (int ky = 0; ky < s->kernel[0]; ky++)
                        for (int kx = 0; kx < s->kernel[1]; kx++) {
                            int iy = oy * s->strides[0] - top + ky * s->dilation[0];
                            int ix = ox * s->strides[1] - left + kx * s->dilation[1];
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                continue;
                            const double *xs = r->x + (((size_t)n * H + iy) * W + ix) * C;
                            const double *w = K + ((size_t)ky * s->kernel[1] + kx) * C * F + f;
                            for (int c = 0; c < C; c++)
                                z += xs[c] * w[(size_t)c * F];
                        }
                    y[(((size_t)n * OH + oy) * OW + ox) * F + f] = z;
                }
    ref_activate(r->act, y, r->rows * OH * OW, F, &r->kink);
}

/* Conv2D's longest sums: the kernel and bias gradients' over the batch's
 * output positions, an output's over its kh kw C taps, an input
 * gradient's over the kh kw filters values that read it (softmax's over
 * the filters is shorter). */
static int ref_conv2d_terms(const layer_case *c, const clseq_shape *out)
{
    const conv_setup *s = &conv_setups[c->arg];
    int window = s->kernel[0] * s->kernel[1];
    return c->rows * out->dims[0] * out->dims[1] + window * shape_last(&c->in) +
           window * s->filters;
}

/* The activations conv rows loop over: none, the fused elementwise ones
 * with and without kinks, one that keeps z (gelu) and a row one. How the
 * layer applies them does not depend on its geometry, so most geometry
 * rows run only linear and relu (CONV_ROW) and a few run all (CONV_ROW_ACTS). */
#define CONV_ACTS                                                                          \
    (ON(CLSEQ_LINEAR) | ON(CLSEQ_RELU) | ON(CLSEQ_TANH) | ON(CLSEQ_GELU) | ON(CLSEQ_SOFTMAX))
#define CONV_ROW_ACTS(name, arg, in, rows, acts)                                           \
    {name, "Conv2D", config_conv2d, arg, in, rows, ref_conv2d, acts, BUILTIN, REACH_SMALL, 0}
#define CONV_ROW(name, arg, in, rows)                                                      \
    {name, "Conv2D", config_conv2d, arg, in, rows, ref_conv2d, ON(CLSEQ_LINEAR) | ON(CLSEQ_RELU), \
     BUILTIN, REACH_SMALL, 0}

/* Every pooling row runs both kinds of its form, max then average, on
 * the same geometry: name goes on after the class. */
#define POOL_ROWS(name, arg, in, rows)                                                      \
    {"MaxPooling2D " name, "MaxPooling2D", config_pooling, arg, in, rows, ref_pooling, PLAIN}, \
    {"AveragePooling2D " name, "AveragePooling2D", config_pooling, arg, in, rows, ref_pooling, \
     PLAIN}
#define GLOBAL_POOL_ROWS(name, in, rows)                                                    \
    {"GlobalMaxPooling2D " name, "GlobalMaxPooling2D", config_none, 0, in, rows,            \
     ref_global_pooling, PLAIN},                                                            \
    {"GlobalAveragePooling2D " name, "GlobalAveragePooling2D", config_none, 0, in, rows,    \
     ref_global_pooling, PLAIN}

#define SHAPE1(a) {1, {a}}
#define SHAPE2(a, b) {2, {a, b}}
#define SHAPE3(a, b, c) {3, {a, b, c}}

static const layer_case cases[] = {
    /* name, class, config, arg, input shape, rows, reference, activations,
     * families, reach, fd_samples */
    {"Dense(4) on 8 x (5)", "Dense", config_dense, 4, SHAPE1(5), 8, ref_dense,
     EVERY_ACTIVATION, BUILTIN, REACH_SMALL, 0},
    {"Dense(4) on 8 x (3,5)", "Dense", config_dense, 4, SHAPE2(3, 5), 8, ref_dense,
     EVERY_ACTIVATION, BUILTIN, REACH_SMALL, 0},
    {"Dense(4) on 8 x (2,3,5)", "Dense", config_dense, 4, SHAPE3(2, 3, 5), 8, ref_dense,
     EVERY_ACTIVATION, BUILTIN, REACH_SMALL, 0},
    {"Dense(24) on 16 x (3,40)", "Dense", config_dense, 24, SHAPE2(3, 40), 16, ref_dense,
     EVERY_ACTIVATION, EVERY_FAMILY, REACH_CPU, 192},
    {"Dense(37) on 20 x (8,45)", "Dense", config_dense, 37, SHAPE2(8, 45), 20, ref_dense,
     EVERY_ACTIVATION, EVERY_FAMILY, REACH_ALL, 192},
    {"Activation on 8 x (7)", "Activation", config_activation, 0, SHAPE1(7), 8, ref_activation,
     EVERY_ACTIVATION, BUILTIN, REACH_SMALL, 0},
    {"Activation on 8 x (2,3,4)", "Activation", config_activation, 0, SHAPE3(2, 3, 4), 8,
     ref_activation, EVERY_ACTIVATION, BUILTIN, REACH_SMALL, 0},
    POOL_ROWS("1x1 on 3 x (1,1,3)", 0, SHAPE3(1, 1, 3), 3),
    POOL_ROWS("3x5 on 4 x (3,5,2)", 1, SHAPE3(3, 5, 2), 4),
    POOL_ROWS("3x3 s2 valid on 4 x (7,6,3)", 2, SHAPE3(7, 6, 3), 4),
    POOL_ROWS("2x2 s3 valid on 3 x (7,8,2)", 3, SHAPE3(7, 8, 2), 3),
    POOL_ROWS("2x2 same on 5 x (5,5,3)", 4, SHAPE3(5, 5, 3), 5),
    POOL_ROWS("3x3 s2 same on 4 x (4,4,3)", 5, SHAPE3(4, 4, 3), 4),
    POOL_ROWS("3x3 s1 same on 3 x (5,4,2)", 6, SHAPE3(5, 4, 2), 3),
    POOL_ROWS("4x3 s1x2 same on 3 x (5,6,2)", 7, SHAPE3(5, 6, 2), 3),
    /* channels in vectors of 16, 8 and 4 (cl/pool.cl), where windows do
     * not overlap (backward scatters from the outputs) and where they do
     * (it gathers per input cell) */
    POOL_ROWS("2x2 valid on 2 x (3,5,16)", 8, SHAPE3(3, 5, 16), 2),
    POOL_ROWS("2x2 same on 2 x (3,5,8)", 4, SHAPE3(3, 5, 8), 2),
    POOL_ROWS("2x2 s3 valid on 2 x (7,8,4)", 3, SHAPE3(7, 8, 4), 2),
    POOL_ROWS("3x3 s2 valid on 2 x (5,4,16)", 2, SHAPE3(5, 4, 16), 2),
    POOL_ROWS("3x3 s1 same on 2 x (3,4,8)", 6, SHAPE3(3, 4, 8), 2),
    POOL_ROWS("3x3 s2 same on 2 x (4,4,12)", 5, SHAPE3(4, 4, 12), 2),
    GLOBAL_POOL_ROWS("on 4 x (5,5,3)", SHAPE3(5, 5, 3), 4),
    GLOBAL_POOL_ROWS("on 3 x (1,1,2)", SHAPE3(1, 1, 2), 3),
    GLOBAL_POOL_ROWS("on 5 x (3,7,4)", SHAPE3(3, 7, 4), 5),
    GLOBAL_POOL_ROWS("on 2 x (3,5,16)", SHAPE3(3, 5, 16), 2),
    PLAIN_ROW("Flatten on 4 x (2,3,4)", "Flatten", config_none, 0, SHAPE3(2, 3, 4), 4,
              ref_flatten),
    PLAIN_ROW("Flatten on 3 x (3,5)", "Flatten", config_none, 0, SHAPE2(3, 5), 3, ref_flatten),
    PLAIN_ROW("Flatten on 3 x (7)", "Flatten", config_none, 0, SHAPE1(7), 3, ref_flatten),
    PLAIN_ROW("Reshape(6,-1) on 4 x (2,3,4)", "Reshape", config_reshape, 0, SHAPE3(2, 3, 4), 4,
              ref_reshape),
    PLAIN_ROW("Reshape(-1,5,1) on 3 x (3,5)", "Reshape", config_reshape, 1, SHAPE2(3, 5), 3,
              ref_reshape),
    PLAIN_ROW("Reshape(-1) on 4 x (2,3,4)", "Reshape", config_reshape, 2, SHAPE3(2, 3, 4), 4,
              ref_reshape),
    PLAIN_ROW("Reshape(4,3,2) on 4 x (2,3,4)", "Reshape", config_reshape, 3, SHAPE3(2, 3, 4), 4,
              ref_reshape),
    PLAIN_ROW("Reshape(5,3) on 3 x (3,5)", "Reshape", config_reshape, 4, SHAPE2(3, 5), 3,
              ref_reshape),
    PLAIN_ROW("Dropout(0.5) on 8 x (7)", "Dropout", config_dropout, 5, SHAPE1(7), 8,
              ref_dropout),
    PLAIN_ROW("Dropout(0.3) on 4 x (3,4,5)", "Dropout", config_dropout, 3, SHAPE3(3, 4, 5), 4,
              ref_dropout),
    PLAIN_ROW("BatchNormalization on 16 x (6)", "BatchNormalization", config_batch_norm, 3,
              SHAPE1(6), 16, ref_batch_norm),
    PLAIN_ROW("BatchNormalization(center=0) on 16 x (6)", "BatchNormalization",
              config_batch_norm, 2, SHAPE1(6), 16, ref_batch_norm),
    PLAIN_ROW("BatchNormalization on 8 x (4,5,3)", "BatchNormalization", config_batch_norm, 3,
              SHAPE3(4, 5, 3), 8, ref_batch_norm),
    PLAIN_ROW("BatchNormalization(scale=0) on 8 x (4,5,3)", "BatchNormalization",
              config_batch_norm, 1, SHAPE3(4, 5, 3), 8, ref_batch_norm),
    PLAIN_ROW("BatchNormalization(center=0, scale=0) on 8 x (2,3,5)", "BatchNormalization",
              config_batch_norm, 0, SHAPE3(2, 3, 5), 8, ref_batch_norm),
    CONV_ROW("Conv2D(2) 1x1 on 3 x (1,1,3)", 0, SHAPE3(1, 1, 3), 3),
    CONV_ROW_ACTS("Conv2D(2) 1x1 on 4 x (3,2,4)", 0, SHAPE3(3, 2, 4), 4, CONV_ACTS),
    CONV_ROW("Conv2D(3) 3x4 on 4 x (3,4,2)", 1, SHAPE3(3, 4, 2), 4),
    CONV_ROW("Conv2D(4) 3x3 s2 valid on 3 x (7,8,3)", 2, SHAPE3(7, 8, 3), 3),
    CONV_ROW_ACTS("Conv2D(3) 3x3 s2x3 same on 3 x (5,8,4)", 3, SHAPE3(5, 8, 4), 3, CONV_ACTS),
    CONV_ROW("Conv2D(3) 2x2 same on 3 x (5,5,2)", 4, SHAPE3(5, 5, 2), 3),
    CONV_ROW("Conv2D(3) 4x3 same on 3 x (5,6,4)", 5, SHAPE3(5, 6, 4), 3),
    CONV_ROW("Conv2D(3) 3x3 d2 valid on 3 x (7,6,2)", 6, SHAPE3(7, 6, 2), 3),
    CONV_ROW("Conv2D(2) 3x2 d2x3 same on 2 x (5,6,4)", 7, SHAPE3(5, 6, 4), 2),
    CONV_ROW_ACTS("Conv2D(5, use_bias=0) 3x3 on 3 x (5,5,6)", 8, SHAPE3(5, 5, 6), 3, CONV_ACTS),
    CONV_ROW("Conv2D(3) 1x1 s2 same on 3 x (5,4,4)", 9, SHAPE3(5, 4, 4), 3),
    /* no relu here: 1617 outputs a sample would take many kink redraws */
    {"Conv2D(33) 3x3 same on 7 x (7,7,5)", "Conv2D", config_conv2d, 10, SHAPE3(7, 7, 5), 7,
     ref_conv2d, CONV_ACTS & ~ON(CLSEQ_RELU), EVERY_FAMILY, REACH_ALL, 96},
    {"Conv2D(2) 7x7 on 669 x (8,8,32)", "Conv2D", config_conv2d, 11, SHAPE3(8, 8, 32), 669,
     ref_conv2d, ON(CLSEQ_LINEAR), BUILTIN, REACH_SMALL, 16},
};

#define CASE_COUNT ((int)(sizeof cases / sizeof cases[0]))

/* The longest sum behind any value a layer of these kinds computes: the
 * products' rows (kernel and bias gradients), the features (outputs) and
 * the units (input gradient, softmax). A kind with longer sums says so
 * here. */
static int bounds_terms(const layer_case *c, const clseq_shape *out)
{
    if (c->reference == ref_conv2d)
        return ref_conv2d_terms(c, out);
    return c->rows * (shape_size(&c->in) / shape_last(&c->in)) + shape_last(&c->in) +
           shape_last(out);
}

/* (row, activation) pairs, one loop test each; filled by main. */
typedef struct run {
    int row;
    clseq_activation act;
} run;

static run runs[CASE_COUNT * 32]; /* acts has 32 bits */
static int run_count;

static int activation_count(void)
{
    int n = 0;
    while (clseq_activation_name((clseq_activation)n))
        n++;
    return n;
}

/* ---- measured headroom -------------------------------------------------- */

typedef struct headroom {
    double fwd, grad; /* largest |error| / tolerance */
    double teeth;     /* smallest share of nonzero elements a 5% error fails */
    long values;      /* elements compared */
} headroom;

static headroom used[FAMILY_COUNT];

/* ---- shared helpers ----------------------------------------------------- */

/* A model of one layer: row c with activation act, on ctx, compiled (SGD,
 * MSE) so m->grads exists. Variables from the kind's init. */
static clseq_model *build_model(clseq_ctx *ctx, const layer_case *c, clseq_activation act)
{
    const clseq_layer_kind *kind = clseq_layer_kind_by_class(c->keras_class);
    ck_assert_msg(kind != NULL, "%s: no layer kind has class %s", c->name, c->keras_class);
    clseq_layer_config cfg = {0};
    c->config(c, act, &cfg);
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create_shaped(ctx, c->in.rank, c->in.dims, &m));
    ck_assert_clseq_ok(clseq_model_append(m, kind, &cfg, 1));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.01f, 0.0f, 0), CLSEQ_MEAN_SQUARED_ERROR, 0));
    return m;
}

static float *alloc_floats(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static double *alloc_doubles(size_t n)
{
    double *p = calloc(n ? n : 1, sizeof *p);
    ck_assert_ptr_nonnull(p);
    return p;
}

static void to_double(const float *src, double *dst, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

/* ---- the reference side: prepared once per (row, activation) ------------ */

/* One gradient checked by finite differences: a trainable variable's, or
 * (var = -1) the input's. */
typedef struct grad_tensor {
    const char *name;  /* the variable's name (in the prepared info) or "input" */
    int var;
    size_t count;
    int samples;       /* elements checked */
    size_t *index;     /* which */
    double *fd;        /* their central differences */
} grad_tensor;

typedef struct prepared {
    const layer_case *c;
    clseq_activation act;
    int in_size, out_size, terms;
    clseq_shape out;
    int var_count;
    clseq_variable_info info[MAX_VARS];
    float *vars[MAX_VARS];
    float *x, *r;      /* rows x in_size inputs, rows x out_size upstream gradient */
    double *y_ref;     /* rows x out_size */
    int tensors;
    grad_tensor t[MAX_TENSORS];
} prepared;

/* L = sum(y R) through the double reference; *kink gets its kink margin. */
static double ref_loss(ref_call *rc, const float *R, double *y, size_t n_out, double *kink)
{
    clseq_shape out;
    rc->kink = INFINITY;
    rc->c->reference(rc, &out, y);
    double L = 0;
    for (size_t i = 0; i < n_out; i++)
        L += y[i] * R[i];
    *kink = rc->kink;
    return L;
}

/* dL/dv at one element v (of x or of a variable, already in rc). */
static double central_difference(ref_call *rc, const float *R, double *y, size_t n_out,
                                 double *v, const char *what, size_t index)
{
    double keep = *v, k_plus, k_minus;
    *v = keep + STEP;
    double plus = ref_loss(rc, R, y, n_out, &k_plus);
    *v = keep - STEP;
    double minus = ref_loss(rc, R, y, n_out, &k_minus);
    *v = keep;
    ck_assert_msg(fmin(k_plus, k_minus) >= KINK_MARGIN / 2,
                  "%s %s: the finite-difference step at %s[%zu] moves a relu input to %g of its "
                  "kink", rc->c->name, clseq_activation_name(rc->act), what, index,
                  fmin(k_plus, k_minus));
    return (plus - minus) / (2 * STEP);
}

/* count distinct indices below n, all of them when count >= n (a partial
 * Fisher-Yates shuffle from seed, so every tile and edge can be hit). */
static size_t *sample_indices(size_t n, int *count, uint64_t seed)
{
    size_t *all = malloc((n ? n : 1) * sizeof *all);
    ck_assert_ptr_nonnull(all);
    for (size_t i = 0; i < n; i++)
        all[i] = i;
    if (*count <= 0 || (size_t)*count >= n) {
        *count = (int)n;
        return all;
    }
    uint64_t state = seed;
    for (int i = 0; i < *count; i++) {
        size_t j = (size_t)i + (size_t)test_uniform(&state, 0, (float)(n - (size_t)i));
        if (j >= n)
            j = n - 1;
        size_t t = all[i];
        all[i] = all[j];
        all[j] = t;
    }
    return all;
}

static void prepare(prepared *p, int row, clseq_activation act)
{
    const layer_case *c = &cases[row];
    memset(p, 0, sizeof *p);
    p->c = c;
    p->act = act;
    uint64_t seed = 1000u * (uint64_t)row + 10u * (uint64_t)act;

    /* the variables: the kind's own initial values (shapes and ranges it
     * chooses: a variance stays positive), jittered so that zero biases
     * and symmetric kernels do not hide mistakes */
    clseq_model *m = build_model(family_context(FAM_DEFAULT), c, act);
    p->var_count = clseq_variable_count(m, 0);
    ck_assert_int_le(p->var_count, MAX_VARS);
    for (int i = 0; i < p->var_count; i++) {
        ck_assert_clseq_ok(clseq_get_variable_info(m, 0, i, &p->info[i]));
        p->vars[i] = alloc_floats(p->info[i].count);
        ck_assert_clseq_ok(clseq_get_variable(m, 0, i, p->vars[i]));
        uint64_t state = seed + 100u + (uint64_t)i;
        for (size_t e = 0; e < p->info[i].count; e++)
            p->vars[i][e] += test_uniform(&state, -VAR_JITTER, VAR_JITTER);
    }
    p->in_size = clseq_model_input_dim(m);
    p->out_size = clseq_model_output_dim(m);
    clseq_model_free(m);

    int rows = c->rows;
    size_t n_in = (size_t)rows * p->in_size, n_out = (size_t)rows * p->out_size;
    double *xd = alloc_doubles(n_in), *vd[MAX_VARS] = {0};
    for (int i = 0; i < p->var_count; i++) {
        vd[i] = alloc_doubles(p->info[i].count);
        to_double(p->vars[i], vd[i], p->info[i].count);
    }
    ref_call rc = {c, act, c->in, rows, xd, vd, INFINITY};
    c->reference(&rc, &p->out, NULL);
    ck_assert_int_eq(shape_size(&p->out), p->out_size);
    p->terms = bounds_terms(c, &p->out);

    /* inputs in U(-1, 1); a sample is redrawn while any of its relu
     * inputs is within KINK_MARGIN of the kink (samples are independent in
     * an inference pass, so each is checked alone) */
    p->x = alloc_floats(n_in);
    p->r = alloc_floats(n_out);
    p->y_ref = alloc_doubles(n_out);
    test_fill_uniform(p->r, n_out, seed + 7u, -1, 1);
    uint64_t state = seed + 1000003u;
    ref_call one = rc;
    one.rows = 1;
    for (int s = 0; s < rows; s++) {
        float *xs = p->x + (size_t)s * p->in_size;
        double *xds = xd + (size_t)s * p->in_size;
        one.x = xds;
        one.kink = 0;
        for (int draw = 0; draw < MAX_REDRAWS && one.kink < KINK_MARGIN; draw++) {
            for (int e = 0; e < p->in_size; e++)
                xds[e] = xs[e] = test_uniform(&state, -1, 1);
            one.kink = INFINITY;
            c->reference(&one, &p->out, p->y_ref);
        }
        ck_assert_msg(one.kink >= KINK_MARGIN, "%s %s: %d draws of sample %d all bring a relu "
                      "input within %g of 0", c->name, clseq_activation_name(act), MAX_REDRAWS,
                      s, KINK_MARGIN);
    }
    double kink;
    ref_loss(&rc, p->r, p->y_ref, n_out, &kink);
    ck_assert_msg(kink >= KINK_MARGIN, "%s %s: the batch has a relu input %g from 0, its "
                  "samples alone had none", c->name, clseq_activation_name(act), kink);

    /* the finite differences: every trainable variable, then the input */
    double *y = alloc_doubles(n_out);
    for (int i = 0; i <= p->var_count; i++) {
        int is_input = i == p->var_count;
        if (!is_input && !p->info[i].trainable)
            continue;
        grad_tensor *t = &p->t[p->tensors++];
        t->name = is_input ? "input" : p->info[i].name;
        t->var = is_input ? -1 : i;
        t->count = is_input ? n_in : p->info[i].count;
        t->samples = c->fd_samples;
        t->index = sample_indices(t->count, &t->samples, seed + 500u + (uint64_t)i);
        t->fd = alloc_doubles((size_t)t->samples);
        double *values = is_input ? xd : vd[i];
        for (int s = 0; s < t->samples; s++)
            t->fd[s] = central_difference(&rc, p->r, y, n_out, &values[t->index[s]], t->name,
                                          t->index[s]);
    }
    free(y);
    free(xd);
    for (int i = 0; i < p->var_count; i++)
        free(vd[i]);
}

static void release(prepared *p)
{
    for (int i = 0; i < p->var_count; i++)
        free(p->vars[i]);
    for (int i = 0; i < p->tensors; i++) {
        free(p->t[i].index);
        free(p->t[i].fd);
    }
    free(p->x);
    free(p->r);
    free(p->y_ref);
}

/* ---- the device side ---------------------------------------------------- */

/* Kernels that family must not reach on a row of size reach (see the
 * header); count of ids written. */
static int fenced_kernels(int family, const clseq_device *d, reach size, clseq_kernel_id *ids)
{
    int n = 0;
    int blocked = size == REACH_ALL || (size == REACH_CPU && d->cpu_gemm);
    if (family == FAM_TILED && !d->blocked_gemm_ok)
        blocked = 0; /* a device whose groups cannot hold a tile runs small */
    if (!blocked)
        return 0;
    ids[n++] = K_GEMM_SMALL_NN, ids[n++] = K_GEMM_SMALL_TN, ids[n++] = K_GEMM_SMALL_NT;
    if (d->cpu_gemm || d->gemm_clblast)
        ids[n++] = K_GEMM_NN, ids[n++] = K_GEMM_TN, ids[n++] = K_GEMM_NT;
    if (!d->cpu_gemm || d->gemm_clblast || d->gemm_packed == 2)
        ids[n++] = K_GEMM_CPU_NN, ids[n++] = K_GEMM_CPU_TN, ids[n++] = K_GEMM_CPU_NT;
    if (!d->cpu_gemm || d->gemm_clblast)
        ids[n++] = K_PACK_A, ids[n++] = K_PACK_B, ids[n++] = K_GEMM_CPU_PACKED;
    return n;
}

/* |got - want| <= tol for every element; returns the largest error /
 * tolerance; *teeth_fail / *nonzero count the nonzero references a
 * TEETH_SCALE-scaled value would fail. */
static double compare(const prepared *p, int family, const char *what, const float *got,
                      const double *want, const size_t *index, int count, long *teeth_fail,
                      long *nonzero)
{
    double scale = 0, worst = 0;
    for (int s = 0; s < count; s++)
        scale = fmax(scale, fabs(want[s]));
    double rel = TOL_C * (p->terms + ACT_ULPS) * UNIT_ROUNDOFF;
    for (int s = 0; s < count; s++) {
        double tol = rel * (fabs(want[s]) + scale);
        double err = fabs((double)got[s] - want[s]);
        size_t e = index ? index[s] : (size_t)s;
        ck_assert_msg(err <= tol,
                      "%s %s on %s: %s[%zu] is %.9g, the reference %.9g (error %.3g > tolerance "
                      "%.3g)", p->c->name, clseq_activation_name(p->act), family_names[family],
                      what, e, (double)got[s], want[s], err, tol);
        worst = fmax(worst, tol > 0 ? err / tol : 0);
        if (want[s] != 0) {
            ++*nonzero;
            *teeth_fail += fabs(TEETH_SCALE * got[s] - want[s]) > tol;
        }
    }
    return worst;
}

static void check_teeth(const prepared *p, int family, const char *what, long fail, long nonzero)
{
    double share = nonzero ? (double)fail / (double)nonzero : 0;
    used[family].teeth = fmin(used[family].teeth, share);
    ck_assert_msg(nonzero > 0 && (double)fail >= TEETH_SHARE * (double)nonzero,
                  "%s %s on %s: the tolerance is too loose: %s %g x off fails on only %ld of "
                  "%ld nonzero elements", p->c->name, clseq_activation_name(p->act),
                  family_names[family], what, TEETH_SCALE, fail, nonzero);
}

static void run_family(const prepared *p, int family)
{
    const layer_case *c = p->c;
    clseq_ctx *ctx = family_context(family);
    if (!ctx)
        return;
    clseq_model *m = build_model(ctx, c, p->act);
    for (int i = 0; i < p->var_count; i++)
        ck_assert_clseq_ok(clseq_set_variable(m, 0, i, p->vars[i]));
    ck_assert_clseq_ok(clseq_model_sync_device(m));
    ck_assert_clseq_ok(clseq_workspace_reserve(m, c->rows));
    size_t n_in = (size_t)c->rows * p->in_size, n_out = (size_t)c->rows * p->out_size;
    clseq_device *d = m->dev;
    ck_assert_clseq_ok(clseq_buffer_write(d, m->work.input, 0, n_in * sizeof(float), p->x));

    /* forward and backward with the kernels this size must not reach
     * hidden; no assertion may leave them hidden */
    clseq_kernel_id fence[16];
    cl_kernel hidden[16];
    int fenced = fenced_kernels(family, d, c->reach, fence);
    for (int k = 0; k < fenced; k++) {
        hidden[k] = d->kernels[fence[k]];
        d->kernels[fence[k]] = NULL;
    }
    float *y = alloc_floats(n_out);
    cl_mem in_grad = NULL;
    clseq_status s = clseq_forward(m, c->rows, 0);
    if (s == CLSEQ_OK)
        s = clseq_buffer_read(d, m->work.outputs[0], 0, n_out * sizeof(float), y);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(d, m->work.delta[0], 0, n_out * sizeof(float), p->r);
    if (s == CLSEQ_OK)
        s = clseq_backward(m, c->rows, 0, &in_grad);
    if (s == CLSEQ_OK)
        s = clseq_cl_check(clFinish(d->queue), "clFinish");
    for (int k = 0; k < fenced; k++)
        d->kernels[fence[k]] = hidden[k];
    ck_assert_msg(s == CLSEQ_OK, "%s %s on %s: %s%s", c->name, clseq_activation_name(p->act),
                  family_names[family], clseq_last_error(),
                  fenced ? " (with the kernels this size must not reach hidden)" : "");

    headroom *h = &used[family];
    long fail = 0, nonzero = 0;
    h->fwd = fmax(h->fwd, compare(p, family, "output", y, p->y_ref, NULL, (int)n_out, &fail,
                                  &nonzero));
    check_teeth(p, family, "an output", fail, nonzero);
    h->values += (long)n_out;

    fail = nonzero = 0;
    const clseq_layer *l = &m->layers[0];
    for (int i = 0; i < p->tensors; i++) {
        const grad_tensor *t = &p->t[i];
        float *all = alloc_floats(t->count), *got = alloc_floats((size_t)t->samples);
        if (t->var < 0)
            ck_assert_clseq_ok(clseq_buffer_read(d, in_grad, 0, t->count * sizeof(float), all));
        else
            ck_assert_clseq_ok(clseq_buffer_read(
                d, m->grads, m->var_offset[l->first_variable + t->var] * sizeof(float),
                t->count * sizeof(float), all));
        for (int e = 0; e < t->samples; e++)
            got[e] = all[t->index[e]];
        char what[64];
        snprintf(what, sizeof what, "d%s", t->name);
        h->grad = fmax(h->grad, compare(p, family, what, got, t->fd, t->index, t->samples, &fail,
                                        &nonzero));
        h->values += t->samples;
        free(all);
        free(got);
    }
    check_teeth(p, family, "a gradient", fail, nonzero);
    free(y);
    clseq_model_free(m);
}

START_TEST(layer_matches_reference)
{
    const run *r = &runs[_i];
    prepared p;
    prepare(&p, r->row, r->act);
    for (int f = 0; f < FAMILY_COUNT; f++)
        if (cases[r->row].families & ON(f))
            run_family(&p, f);
    release(&p);
}
END_TEST

/* ---- configs and variables ---------------------------------------------- */

static int value_equal(const clseq_config_value *a, const clseq_config_value *b)
{
    if (strcmp(a->name, b->name) != 0 || a->type != b->type)
        return 0;
    switch (a->type) {
    case CLSEQ_VALUE_INT: return a->i == b->i;
    case CLSEQ_VALUE_FLOAT: return a->f == b->f;
    case CLSEQ_VALUE_INTS: return a->n == b->n && memcmp(a->v, b->v, (size_t)a->n * sizeof *a->v) == 0;
    default: return strcmp(a->s, b->s) == 0;
    }
}

/* Every value of sub is in cfg, equal. */
static void assert_config_within(const clseq_layer_config *sub, const clseq_layer_config *cfg,
                                 const char *what)
{
    for (int i = 0; i < sub->count; i++) {
        const clseq_config_value *v = clseq_config_find(cfg, sub->values[i].name);
        ck_assert_msg(v && value_equal(v, &sub->values[i]), "%s: '%s' %s", what,
                      sub->values[i].name, v ? "differs" : "is missing");
    }
}

static void assert_info_equal(const clseq_variable_info *a, const clseq_variable_info *b,
                              const char *what)
{
    ck_assert_msg(strcmp(a->name, b->name) == 0, "%s: name %s vs %s", what, a->name, b->name);
    ck_assert_int_eq(a->rank, b->rank);
    for (int k = 0; k < a->rank; k++)
        ck_assert_int_eq(a->shape[k], b->shape[k]);
    ck_assert_uint_eq(a->count, b->count);
    ck_assert_int_eq(a->trainable, b->trainable);
}

START_TEST(config_and_variables_round_trip)
{
    const run *r = &runs[_i];
    const layer_case *c = &cases[r->row];
    char what[160];
    snprintf(what, sizeof what, "%s %s", c->name, clseq_activation_name(r->act));
    const clseq_layer_kind *kind = clseq_layer_kind_by_class(c->keras_class);
    ck_assert_ptr_nonnull(kind);
    ck_assert_ptr_eq(clseq_layer_kind_by_name(kind->name), kind);
    clseq_ctx *ctx = family_context(FAM_DEFAULT);
    clseq_model *m1 = build_model(ctx, c, r->act);
    ck_assert_str_eq(clseq_layer_class(m1, 0), kind->keras_class);

    /* encode keeps what the builder gave; decode(encode) encodes the same */
    clseq_layer_config given = {0}, enc1, enc2;
    c->config(c, r->act, &given);
    ck_assert_clseq_ok(clseq_layer_get_config(m1, 0, &enc1));
    assert_config_within(&given, &enc1, what);
    clseq_model *m2 = NULL;
    ck_assert_clseq_ok(clseq_model_create_shaped(ctx, c->in.rank, c->in.dims, &m2));
    ck_assert_clseq_ok(clseq_model_add_layer_config(m2, c->keras_class, &enc1));
    ck_assert_clseq_ok(clseq_layer_get_config(m2, 0, &enc2));
    ck_assert_int_eq(enc1.count, enc2.count);
    assert_config_within(&enc1, &enc2, what);
    const clseq_layer *l1 = &m1->layers[0], *l2 = &m2->layers[0];
    ck_assert_ptr_eq(l2->kind, kind);
    ck_assert_int_eq(l1->act, l2->act);
    ck_assert_int_eq(l1->act, r->act);
    ck_assert_mem_eq(l1->arg, l2->arg, sizeof l1->arg);
    ck_assert_mem_eq(l1->farg, l2->farg, sizeof l1->farg);
    ck_assert_mem_eq(&l1->out, &l2->out, sizeof l1->out);

    /* the reference's output shape is the model's */
    int rank = 0, dims[CLSEQ_MAX_RANK] = {0};
    ck_assert_clseq_ok(clseq_layer_output_shape(m1, 0, &rank, dims));
    clseq_shape want;
    ref_call rc = {c, r->act, c->in, c->rows, NULL, NULL, INFINITY};
    c->reference(&rc, &want, NULL);
    ck_assert_int_eq(rank, want.rank);
    for (int k = 0; k < rank; k++)
        ck_assert_int_eq(dims[k], want.dims[k]);

    /* variables: the kind, the public API and the model's layout agree */
    int count = clseq_variable_count(m1, 0);
    ck_assert_int_eq(count, kind->variable_count(l1));
    ck_assert_int_eq(count, l1->variable_count);
    ck_assert_int_eq(count, clseq_variable_count(m2, 0));
    size_t trainable = 0, state = 0;
    for (int i = 0; i < count; i++) {
        clseq_variable_info a, b, c2;
        kind->variable(l1, i, &a);
        ck_assert_clseq_ok(clseq_get_variable_info(m1, 0, i, &b));
        ck_assert_clseq_ok(clseq_get_variable_info(m2, 0, i, &c2));
        assert_info_equal(&a, &b, what);
        assert_info_equal(&a, &c2, what);
        size_t product = 1;
        for (int k = 0; k < a.rank; k++)
            product *= (size_t)a.shape[k];
        ck_assert_uint_eq(a.count, product);
        const clseq_variable *v = &m1->vars[l1->first_variable + i];
        ck_assert_uint_eq(v->count, a.count);
        ck_assert_int_eq(v->trainable, a.trainable);
        ck_assert_int_eq(v->layer, 0);
        ck_assert_int_eq(v->index, i);
        *(a.trainable ? &trainable : &state) += a.count;
    }
    ck_assert_uint_eq(m1->param_count, trainable);
    ck_assert_uint_eq(m1->state_count, state);
    clseq_variable_info none;
    ck_assert_int_eq(clseq_get_variable_info(m1, 0, count, &none), CLSEQ_E_ARG);
    clseq_model_free(m2);
    clseq_model_free(m1);
}
END_TEST

/* Every kind the registry lists has a row; every row's class is a kind. */
START_TEST(every_kind_has_a_row)
{
    char list[512];
    snprintf(list, sizeof list, "%s", clseq_layer_kinds_list());
    int kinds = 0;
    for (char *save = NULL, *name = strtok_r(list, ", ", &save); name;
         name = strtok_r(NULL, ", ", &save), kinds++) {
        ck_assert_msg(clseq_layer_kind_by_class(name) != NULL, "listed kind %s not found", name);
        int rows = 0;
        for (int i = 0; i < CASE_COUNT; i++)
            rows += strcasecmp(cases[i].keras_class, name) == 0;
        ck_assert_msg(rows > 0, "layer kind %s has no row in test_layers.c's table", name);
    }
    ck_assert_int_gt(kinds, 0);
    for (int i = 0; i < CASE_COUNT; i++)
        ck_assert_msg(clseq_layer_kind_by_class(cases[i].keras_class) != NULL,
                      "row %s: no kind %s", cases[i].name, cases[i].keras_class);
}
END_TEST

static Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");
    TCase *tc = tcase_create("layers");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, every_kind_has_a_row);
    tcase_add_loop_test(tc, config_and_variables_round_trip, 0, run_count);
    tcase_add_loop_test(tc, layer_matches_reference, 0, run_count);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int acts = activation_count();
    for (int f = 0; f < FAMILY_COUNT; f++)
        used[f].teeth = 1;
    for (int row = 0; row < CASE_COUNT; row++)
        for (int a = 0; a < acts; a++)
            if (cases[row].acts & ON(a))
                runs[run_count++] = (run){row, (clseq_activation)a};
    int status = test_run_suite(layers_suite());
    if (getenv("CLSEQ_TEST_VERBOSE"))
        for (int f = 0; f < FAMILY_COUNT; f++)
            if (used[f].values)
                printf("%-8s %6ld values; largest error / tolerance: forward %.4f, gradient "
                       "%.4f; a 5%% error fails on >= %.1f%%\n", family_names[f], used[f].values,
                       used[f].fwd, used[f].grad, 100 * used[f].teeth);
    free_family_contexts();
    return status;
}
