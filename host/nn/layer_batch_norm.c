/* BatchNormalization(momentum=0.99, epsilon=0.001, center=True,
 * scale=True) over the last axis, as Keras 3's
 * keras/src/layers/normalization/batch_normalization.py:
 *  - variables, in build's order: gamma (C, ones, trainable; only with
 *    scale), beta (C, zeros, trainable; only with center), moving_mean
 *    (C, zeros) and moving_variance (C, ones), not trainable;
 *  - training (fit): y = gamma (x - mean) / sqrt(var + epsilon) + beta
 *    with the batch's mean and biased variance over every position of the
 *    channel (call -> _moments -> ops.moments, whose variance is
 *    E[(x - E[x])^2], no Bessel correction), and the moving statistics
 *    updated with that same variance: moving = moving momentum + batch
 *    (1 - momentum);
 *  - inference (evaluate, predict): the moving statistics instead.
 * A rank-1 input (Dense's output) has one position per sample, a rank-3
 * one (H, W, C) has H W, and so on: positions = rows x size / C.
 *
 * Backward differentiates the pass that ran: after a training pass the
 * batch statistics depend on the input (the full batch-norm gradient),
 * after an inference pass they are constants; the forward pass leaves
 * which in the saved buffer. The moving statistics are not
 * differentiated (Keras assigns them outside the gradient).
 * Kernels: cl/batch_norm.cl via ops/ops_norm.h. No fused_row: the fused
 * trainer knows no non-trainable variables. */
#include <math.h>

#include "nn/layer.h"
#include "ops/ops_norm.h"
#include "sys/error.h"

enum { CENTER = 0, SCALE = 1 };        /* l->arg: 1 or 0 */
enum { MOMENTUM = 0, EPSILON = 1 };    /* l->farg */

/* Keras's defaults, used for values a config leaves out */
#define DEFAULT_MOMENTUM 0.99f
#define DEFAULT_EPSILON 0.001f

/* A boolean option (Keras's True / False as 1 / 0), 1 when absent. */
static clseq_status get_flag(const clseq_layer_config *cfg, const char *name, const char *what,
                             int *out)
{
    *out = 1;
    if (!clseq_config_find(cfg, name))
        return CLSEQ_OK;
    clseq_status s = clseq_config_get_int(cfg, name, what, out);
    if (s == CLSEQ_OK && *out != 0 && *out != 1)
        return clseq_fail(CLSEQ_E_ARG, "%s: %s must be 0 or 1, got %d", what, name, *out);
    return s;
}

/* A number option, def when absent. */
static clseq_status get_number(const clseq_layer_config *cfg, const char *name, const char *what,
                               float def, float *out)
{
    *out = def;
    return clseq_config_find(cfg, name) ? clseq_config_get_float(cfg, name, what, out) : CLSEQ_OK;
}

static clseq_status batch_norm_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    static const char *const known[] = {"momentum", "epsilon", "center", "scale"};
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    float momentum, epsilon;
    clseq_status s = clseq_config_only(cfg, known, 4, what);
    if (s == CLSEQ_OK)
        s = get_number(cfg, "momentum", what, DEFAULT_MOMENTUM, &momentum);
    if (s == CLSEQ_OK)
        s = get_number(cfg, "epsilon", what, DEFAULT_EPSILON, &epsilon);
    if (s == CLSEQ_OK)
        s = get_flag(cfg, "center", what, &l->arg[CENTER]);
    if (s == CLSEQ_OK)
        s = get_flag(cfg, "scale", what, &l->arg[SCALE]);
    if (s != CLSEQ_OK)
        return s;
    /* Keras checks neither; outside these the moving averages grow
     * without bound, and epsilon 0 divides a constant channel by zero */
    if (!(momentum >= 0.0f && momentum <= 1.0f))
        return clseq_fail(CLSEQ_E_ARG, "%s: momentum must be in [0, 1], got %g", what,
                          (double)momentum);
    if (!(epsilon > 0.0f && isfinite(epsilon)))
        return clseq_fail(CLSEQ_E_ARG, "%s: epsilon must be a positive number, got %g", what,
                          (double)epsilon);
    l->farg[MOMENTUM] = momentum;
    l->farg[EPSILON] = epsilon;
    return CLSEQ_OK;
}

static clseq_status batch_norm_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    clseq_status s = clseq_config_put_float(cfg, "momentum", l->farg[MOMENTUM]);
    if (s == CLSEQ_OK)
        s = clseq_config_put_float(cfg, "epsilon", l->farg[EPSILON]);
    if (s == CLSEQ_OK)
        s = clseq_config_put_int(cfg, "center", l->arg[CENTER]);
    return s == CLSEQ_OK ? clseq_config_put_int(cfg, "scale", l->arg[SCALE]) : s;
}

/* "batchnorm[:MOMENTUM[:EPSILON]]", center and scale on (what
 * clseq_add_batch_normalization gives); ranges are decode's to check. */
static clseq_status batch_norm_parse_spec(const char *const *fields, int count,
                                          clseq_layer_config *cfg)
{
    float momentum = DEFAULT_MOMENTUM, epsilon = DEFAULT_EPSILON;
    clseq_status s = CLSEQ_OK;
    if (count > 2)
        return clseq_fail(CLSEQ_E_ARG, "should read batchnorm[:MOMENTUM[:EPSILON]]");
    if (count > 0)
        s = clseq_spec_number(fields[0], "momentum", &momentum);
    if (s == CLSEQ_OK && count > 1)
        s = clseq_spec_number(fields[1], "epsilon", &epsilon);
    if (s == CLSEQ_OK)
        s = clseq_config_put_float(cfg, "momentum", momentum);
    if (s == CLSEQ_OK)
        s = clseq_config_put_float(cfg, "epsilon", epsilon);
    if (s == CLSEQ_OK)
        s = clseq_config_put_int(cfg, "center", 1);
    return s == CLSEQ_OK ? clseq_config_put_int(cfg, "scale", 1) : s;
}

static int batch_norm_variable_count(const clseq_layer *l)
{
    return l->arg[SCALE] + l->arg[CENTER] + 2;
}

/* Which variable index is: 0 gamma, 1 beta, 2 moving_mean, 3
 * moving_variance, skipping the ones the layer lacks. */
enum { GAMMA, BETA, MOVING_MEAN, MOVING_VARIANCE };

static int variable_role(const clseq_layer *l, int index)
{
    if (!l->arg[SCALE])
        index++;
    if (!l->arg[CENTER] && index >= BETA)
        index++;
    return index;
}

/* The variable index of role, or -1 if the layer lacks it. */
static int variable_index(const clseq_layer *l, int role)
{
    for (int i = 0; i < batch_norm_variable_count(l); i++)
        if (variable_role(l, i) == role)
            return i;
    return -1;
}

static void batch_norm_variable(const clseq_layer *l, int index, clseq_variable_info *out)
{
    static const char *const names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    int role = variable_role(l, index), channels = clseq_shape_last(&l->in);
    clseq_variable_describe(out, names[role], role == GAMMA || role == BETA, 1, &channels);
}

/* Keras's initializers: ones for gamma and the moving variance, zeros
 * for beta and the moving mean. */
static void batch_norm_init(const clseq_layer *l, clseq_rng *rng, float *const *vars)
{
    (void)rng;
    int channels = clseq_shape_last(&l->in);
    for (int i = 0; i < batch_norm_variable_count(l); i++) {
        int role = variable_role(l, i);
        float value = role == GAMMA || role == MOVING_VARIANCE ? 1.0f : 0.0f;
        for (int c = 0; c < channels; c++)
            vars[i][c] = value;
    }
}

/* An offset into params, grads or state for role, -1 if absent. */
static int offset_of(const clseq_layer *l, const clseq_pass *p, int role)
{
    int index = variable_index(l, role);
    return index < 0 ? -1 : (int)p->offsets[index];
}

static clseq_bn_pass bn_pass(const clseq_layer *l, const clseq_pass *p)
{
    clseq_bn_pass b;
    b.positions = clseq_layer_positions(l, p->rows);
    b.channels = clseq_shape_last(&l->in);
    b.params = p->params;
    b.grads = p->grads;
    b.state = p->state;
    b.gamma_off = offset_of(l, p, GAMMA);
    b.beta_off = offset_of(l, p, BETA);
    b.mean_off = offset_of(l, p, MOVING_MEAN);
    b.var_off = offset_of(l, p, MOVING_VARIANCE);
    b.momentum = l->farg[MOMENTUM];
    b.epsilon = l->farg[EPSILON];
    b.saved = p->saved;
    b.scratch = p->scratch;
    return b;
}

static clseq_status batch_norm_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    clseq_bn_pass b = bn_pass(l, p);
    return training ? clseq_op_bn_forward_train(p->dev, &b, p->in, p->out)
                    : clseq_op_bn_forward_infer(p->dev, &b, p->in, p->out);
}

/* dgamma, dbeta into grads; dL/dx in place of dL/dy. */
static clseq_status batch_norm_backward(const clseq_layer *l, clseq_pass *p)
{
    clseq_bn_pass b = bn_pass(l, p);
    p->d_in_in_d_out = 1;
    return clseq_op_bn_backward(p->dev, &b, p->in, p->d_out, p->d_in != NULL);
}

static size_t batch_norm_saved_floats(const clseq_layer *l, int rows)
{
    (void)rows;
    return clseq_bn_saved_floats(clseq_shape_last(&l->in));
}

static size_t batch_norm_scratch_floats(const clseq_layer *l, int rows)
{
    return clseq_bn_scratch_floats(clseq_layer_positions(l, rows), clseq_shape_last(&l->in));
}

const clseq_layer_kind clseq_batch_normalization_kind = {
    .keras_class = "BatchNormalization",
    .name = "batch_normalization",
    .alias = "batchnorm",
    .decode = batch_norm_decode,
    .encode = batch_norm_encode,
    .parse_spec = batch_norm_parse_spec,
    .output_shape = clseq_layer_same_shape,
    .variable_count = batch_norm_variable_count,
    .variable = batch_norm_variable,
    .init = batch_norm_init,
    .forward = batch_norm_forward,
    .backward = batch_norm_backward,
    .saved_floats = batch_norm_saved_floats,
    .scratch_floats = batch_norm_scratch_floats,
};
