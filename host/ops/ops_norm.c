/* Launches of cl/dropout.cl and cl/batch_norm.cl (the kernels' comments
 * say what each computes). */
#include "ops/ops_norm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "ops/ops.h"

/* Keras holds rate and momentum as the Python floats the user wrote and
 * forms keep_prob = 1.0 - rate (random.dropout) and 1.0 - momentum
 * (BatchNormalization.call) in double before float32 sees them. Our float
 * 0.99f is not 0.99, and 1 - 0.99f rounds to another float than 1 - 0.99
 * does; so go back to the float's shortest decimal first (as fit.c's
 * validation split does). */
static double as_written(float v)
{
    char text[32];
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)v);
        if (strtof(text, NULL) == v)
            return strtod(text, NULL);
    }
    return v;
}

/* ---- Dropout ------------------------------------------------------------ */

/* What the kernels need of rate: drop when the element's 32 random bits
 * are below threshold = rate 2^32 (rounded), and divide the kept values
 * by keep = 1 - rate as Keras forms it (inv_keep = 1 / keep rounded to
 * nearest is what the kernel's correctly rounded division starts from). */
typedef struct dropout_rule {
    cl_uint threshold;
    float keep, inv_keep;
} dropout_rule;

static dropout_rule dropout_rule_for(float rate)
{
    dropout_rule r;
    double written = as_written(rate), t = ldexp(written, 32) + 0.5;
    r.threshold = t >= 4294967295.0 ? 0xFFFFFFFFu : (cl_uint)t;
    r.keep = (float)(1.0 - written);
    r.inv_keep = 1.0f / r.keep;
    return r;
}

/* One work-item per 4 elements (one Philox block). */
static size_t dropout_items(int n)
{
    return ((size_t)n + 3) / 4;
}

clseq_status clseq_op_dropout_forward(clseq_device *dev, cl_mem x, cl_mem y, int n, float rate,
                                      uint64_t key, int active, cl_mem saved)
{
    dropout_rule r = dropout_rule_for(rate);
    cl_uint key_lo = (cl_uint)(key & 0xFFFFFFFFu), key_hi = (cl_uint)(key >> 32);
    const clseq_arg args[] = {CLSEQ_ARG(x), CLSEQ_ARG(y), CLSEQ_ARG(n), CLSEQ_ARG(key_lo),
                              CLSEQ_ARG(key_hi), CLSEQ_ARG(r.threshold), CLSEQ_ARG(r.keep),
                              CLSEQ_ARG(r.inv_keep), CLSEQ_ARG(active), CLSEQ_ARG(saved)};
    return clseq_run_1d(dev, K_DROPOUT_FORWARD, dropout_items(n), args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_dropout_backward(clseq_device *dev, cl_mem d, int n, float rate,
                                       cl_mem saved)
{
    dropout_rule r = dropout_rule_for(rate);
    const clseq_arg args[] = {CLSEQ_ARG(d), CLSEQ_ARG(n), CLSEQ_ARG(r.threshold),
                              CLSEQ_ARG(r.keep), CLSEQ_ARG(r.inv_keep), CLSEQ_ARG(saved)};
    return clseq_run_1d(dev, K_DROPOUT_BACKWARD, dropout_items(n), args, CLSEQ_ARG_COUNT(args));
}

/* ---- BatchNormalization --------------------------------------------------- */

/* Positions per partial-sum work-group (cl/batch_norm.cl's span): fixed,
 * not taken from the device, so the scratch size is known before any
 * device is asked and the segments' partition is the same everywhere.
 * 512 keeps each lane's own sum short (512 / lanes terms) and still gives
 * a large batch enough groups to fill a GPU (128 x 13 x 13 positions: 43
 * segments per block of channels). */
enum { BN_SPAN = 512 };

/* What bn_partial_sums adds up (cl/batch_norm.cl's BN_STAT_*). */
enum { STAT_X = 0, STAT_DEV = 1, STAT_GRAD = 2 };

static int bn_segments(int positions)
{
    return positions > 0 ? (positions + BN_SPAN - 1) / BN_SPAN : 1;
}

size_t clseq_bn_saved_floats(int channels)
{
    return 4 * (size_t)channels + 1;
}

size_t clseq_bn_scratch_floats(int positions, int channels)
{
    return 2 * (size_t)channels * (size_t)bn_segments(positions);
}

/* The partial-sum groups: up to 16 channels side by side (consecutive
 * addresses), the rest of the group as lanes over positions, no more
 * lanes than positions need. */
static void bn_group_shape(const clseq_device *dev, int positions, int channels, size_t *lx,
                           size_t *ly)
{
    size_t budget = clseq_pow2_at_most(dev->kernel_wg[K_BN_PARTIAL_SUMS], 256);
    size_t x = 1;
    while (x < (size_t)channels && x < 16 && x < budget)
        x *= 2;
    x = clseq_pow2_at_most(dev->max_item[0], x);
    size_t y = clseq_pow2_at_most(dev->max_item[1], budget / x);
    while (y > 1 && y / 2 >= (size_t)positions)
        y /= 2;
    *lx = x;
    *ly = y;
}

/* scratch = per-segment sums of what over the positions (STAT_X: x;
 * STAT_DEV: x - mean, its square; STAT_GRAD: dy, dy xhat). */
static clseq_status bn_partial_sums(clseq_device *dev, const clseq_bn_pass *b, cl_mem x,
                                    cl_mem d, int what)
{
    size_t lx, ly;
    bn_group_shape(dev, b->positions, b->channels, &lx, &ly);
    int span = BN_SPAN;
    const clseq_arg args[] = {CLSEQ_ARG(x), CLSEQ_ARG(d), CLSEQ_ARG(b->saved),
                              CLSEQ_ARG(b->positions), CLSEQ_ARG(b->channels), CLSEQ_ARG(what),
                              CLSEQ_ARG(span), CLSEQ_ARG(b->scratch),
                              CLSEQ_LOCAL_ARG(2 * lx * ly * sizeof(float))};
    cl_int err = clseq_bind_args(dev, K_BN_PARTIAL_SUMS, args, CLSEQ_ARG_COUNT(args));
    size_t local[2] = {lx, ly};
    size_t global[2] = {((size_t)b->channels + lx - 1) / lx * lx,
                        (size_t)bn_segments(b->positions) * ly};
    return clseq_launch_nd(dev, K_BN_PARTIAL_SUMS, 2, global, local, err);
}

static clseq_status bn_finish_mean(clseq_device *dev, const clseq_bn_pass *b)
{
    int segments = bn_segments(b->positions);
    const clseq_arg args[] = {CLSEQ_ARG(b->scratch), CLSEQ_ARG(segments), CLSEQ_ARG(b->positions),
                              CLSEQ_ARG(b->channels), CLSEQ_ARG(b->saved)};
    return clseq_run_1d(dev, K_BN_FINISH_MEAN, (size_t)b->channels, args, CLSEQ_ARG_COUNT(args));
}

/* 1 - momentum as Keras forms it (as_written). */
static clseq_status bn_finish_variance(clseq_device *dev, const clseq_bn_pass *b)
{
    int segments = bn_segments(b->positions);
    float one_minus = (float)(1.0 - as_written(b->momentum));
    const clseq_arg args[] = {CLSEQ_ARG(b->scratch), CLSEQ_ARG(segments), CLSEQ_ARG(b->positions),
                              CLSEQ_ARG(b->channels), CLSEQ_ARG(b->saved), CLSEQ_ARG(b->state),
                              CLSEQ_ARG(b->mean_off), CLSEQ_ARG(b->var_off),
                              CLSEQ_ARG(b->momentum), CLSEQ_ARG(one_minus), CLSEQ_ARG(b->epsilon)};
    return clseq_run_1d(dev, K_BN_FINISH_VARIANCE, (size_t)b->channels, args,
                        CLSEQ_ARG_COUNT(args));
}

static clseq_status bn_normalize(clseq_device *dev, const clseq_bn_pass *b, cl_mem x, cl_mem y)
{
    int n = b->positions * b->channels;
    const clseq_arg args[] = {CLSEQ_ARG(x), CLSEQ_ARG(y), CLSEQ_ARG(n), CLSEQ_ARG(b->channels),
                              CLSEQ_ARG(b->saved), CLSEQ_ARG(b->params), CLSEQ_ARG(b->gamma_off),
                              CLSEQ_ARG(b->beta_off)};
    return clseq_run_1d(dev, K_BN_NORMALIZE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

/* Two passes over x (mean, then deviations), then the normalisation. */
clseq_status clseq_op_bn_forward_train(clseq_device *dev, const clseq_bn_pass *b, cl_mem x,
                                       cl_mem y)
{
    clseq_status s = bn_partial_sums(dev, b, x, x, STAT_X);
    if (s == CLSEQ_OK)
        s = bn_finish_mean(dev, b);
    if (s == CLSEQ_OK)
        s = bn_partial_sums(dev, b, x, x, STAT_DEV);
    if (s == CLSEQ_OK)
        s = bn_finish_variance(dev, b);
    return s == CLSEQ_OK ? bn_normalize(dev, b, x, y) : s;
}

clseq_status clseq_op_bn_forward_infer(clseq_device *dev, const clseq_bn_pass *b, cl_mem x,
                                       cl_mem y)
{
    const clseq_arg args[] = {CLSEQ_ARG(b->state), CLSEQ_ARG(b->mean_off), CLSEQ_ARG(b->var_off),
                              CLSEQ_ARG(b->epsilon), CLSEQ_ARG(b->channels), CLSEQ_ARG(b->saved)};
    clseq_status s = clseq_run_1d(dev, K_BN_INFERENCE_STATS, (size_t)b->channels, args,
                                  CLSEQ_ARG_COUNT(args));
    return s == CLSEQ_OK ? bn_normalize(dev, b, x, y) : s;
}

static clseq_status bn_finish_grads(clseq_device *dev, const clseq_bn_pass *b)
{
    int segments = bn_segments(b->positions);
    const clseq_arg args[] = {CLSEQ_ARG(b->scratch), CLSEQ_ARG(segments), CLSEQ_ARG(b->channels),
                              CLSEQ_ARG(b->saved), CLSEQ_ARG(b->grads), CLSEQ_ARG(b->gamma_off),
                              CLSEQ_ARG(b->beta_off)};
    return clseq_run_1d(dev, K_BN_FINISH_GRADS, (size_t)b->channels, args, CLSEQ_ARG_COUNT(args));
}

static clseq_status bn_backward_input(clseq_device *dev, const clseq_bn_pass *b, cl_mem x,
                                      cl_mem d)
{
    int n = b->positions * b->channels;
    const clseq_arg args[] = {CLSEQ_ARG(x), CLSEQ_ARG(d), CLSEQ_ARG(n), CLSEQ_ARG(b->channels),
                              CLSEQ_ARG(b->positions), CLSEQ_ARG(b->saved), CLSEQ_ARG(b->params),
                              CLSEQ_ARG(b->gamma_off)};
    return clseq_run_1d(dev, K_BN_BACKWARD_INPUT, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

/* The sums first: the input gradient of a training pass needs them, and
 * it overwrites d. */
clseq_status clseq_op_bn_backward(clseq_device *dev, const clseq_bn_pass *b, cl_mem x, cl_mem d,
                                  int d_in)
{
    clseq_status s = bn_partial_sums(dev, b, x, d, STAT_GRAD);
    if (s == CLSEQ_OK)
        s = bn_finish_grads(dev, b);
    return s == CLSEQ_OK && d_in ? bn_backward_input(dev, b, x, d) : s;
}
