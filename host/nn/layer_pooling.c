/* MaxPooling2D and AveragePooling2D(pool_size, strides, padding) on
 * (H, W, C) samples, channels last, with Keras 3's semantics:
 *  - output size per axis: 'valid' floor((H - ph) / sh) + 1 (the input
 *    must hold one whole window), 'same' ceil(H / sh), with
 *    pad_total = max((OH - 1) sh + ph - H, 0) of which pad_total / 2 go
 *    before the image (TensorFlow's and XLA's SAME);
 *  - padded cells belong to no window: max never sees them, and the
 *    average divides by the window's cells inside the image. Keras 3's jax
 *    backend (keras/src/backend/jax/nn.py, average_pool) does exactly this
 *    for 'same': it sums with lax.reduce_window and divides by the same
 *    reduce_window over ones ("count the number of valid entries"), while
 *    'valid' divides by ph pw; max_pool reduces with -inf as the initial
 *    value, so padding never wins.
 *  - the max's gradient goes to one cell per window: among equal maxima,
 *    the first in row-major window order. Keras leaves ties to its
 *    backends (their reduction orders differ), so this is our choice;
 *    first-wins is TensorFlow's CPU kernels' convention. Forward keeps
 *    each window's choice in the layer's saved buffer (one int per
 *    output) and backward routes through it, so the two never disagree.
 *  - a NaN in a window makes its max NaN, as XLA's max propagates it.
 * No variables, no activation. Kernels: cl/pool.cl via ops/ops_pool.h. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "nn/layer.h"
#include "ops/ops_pool.h"
#include "sys/error.h"

enum { POOL_H = 0, POOL_W, STRIDE_H, STRIDE_W, SAME }; /* l->arg; SAME: 1 for 'same' */

static int is_max(const clseq_layer *l)
{
    return l->kind == &clseq_max_pooling2d_kind;
}

/* Both values of a (height, width) pair in 1..CLSEQ_MAX_UNITS, which
 * keeps the window arithmetic far from int overflow. */
static clseq_status check_pair(const int *v, const char *name, const char *what)
{
    if (v[0] < 1 || v[1] < 1 || v[0] > CLSEQ_MAX_UNITS || v[1] > CLSEQ_MAX_UNITS)
        return clseq_fail(CLSEQ_E_ARG, "%s: %s must be in 1..%d, got %dx%d", what, name,
                          CLSEQ_MAX_UNITS, v[0], v[1]);
    return CLSEQ_OK;
}

static clseq_status pooling_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    static const char *const known[] = {"pool_size", "strides", "padding"};
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    int *pool = &l->arg[POOL_H], *strides = &l->arg[STRIDE_H];
    const char *padding = "valid"; /* Keras's default */
    clseq_status s = clseq_config_only(cfg, known, 3, what);
    if (s == CLSEQ_OK)
        s = clseq_config_get_ints(cfg, "pool_size", what, 2, pool);
    if (s == CLSEQ_OK)
        s = check_pair(pool, "pool_size", what);
    /* Keras's strides=None is the pool size */
    memcpy(strides, pool, 2 * sizeof *pool);
    if (s == CLSEQ_OK && clseq_config_find(cfg, "strides"))
        s = clseq_config_get_ints(cfg, "strides", what, 2, strides);
    if (s == CLSEQ_OK)
        s = check_pair(strides, "strides", what);
    if (s == CLSEQ_OK && clseq_config_find(cfg, "padding"))
        s = clseq_config_get_string(cfg, "padding", what, &padding);
    if (s != CLSEQ_OK)
        return s;
    /* Keras lower-cases padding before checking it */
    if (strcasecmp(padding, "valid") != 0 && strcasecmp(padding, "same") != 0)
        return clseq_fail(CLSEQ_E_ARG, "%s: padding '%s' is not 'valid' or 'same'", what,
                          padding);
    l->arg[SAME] = strcasecmp(padding, "same") == 0;
    return CLSEQ_OK;
}

static clseq_status pooling_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    clseq_status s = clseq_config_put_ints(cfg, "pool_size", 2, &l->arg[POOL_H]);
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "strides", 2, &l->arg[STRIDE_H]);
    return s == CLSEQ_OK ? clseq_config_put_string(cfg, "padding", l->arg[SAME] ? "same" : "valid")
                         : s;
}

/* A spec's "N" (square) or "NxM" into out[0..2). */
static clseq_status spec_pair(const char *text, const char *what, int *out)
{
    int n = 0;
    clseq_status s = clseq_spec_dims(text, what, 2, 1, out, &n);
    if (s == CLSEQ_OK && n == 1)
        out[1] = out[0];
    return s;
}

/* "TOKEN[:PH[xPW]][:same|valid][:sSH[xSW]]": the pool size first (default
 * 2x2), then each option at most once in any order; strides default to
 * the pool size, padding to 'valid' (Keras's defaults). */
static clseq_status pooling_parse_spec(const char *token, const char *const *fields, int count,
                                       clseq_layer_config *cfg)
{
    int pool[2] = {2, 2}, strides[2] = {0, 0}, same = -1;
    for (int i = 0; i < count; i++) {
        const char *f = fields[i];
        clseq_status s = CLSEQ_OK;
        if ((strcmp(f, "same") == 0 || strcmp(f, "valid") == 0) && same < 0)
            same = f[0] == 's';
        else if (f[0] == 's' && isdigit((unsigned char)f[1]) && !strides[0])
            s = spec_pair(f + 1, "strides", strides);
        else if (i == 0 && isdigit((unsigned char)f[0]))
            s = spec_pair(f, "pool size", pool);
        else
            return clseq_fail(CLSEQ_E_ARG, "unexpected field '%s': should read "
                              "%s[:PH[xPW]][:same|valid][:sSH[xSW]], the pool size first, each "
                              "option once", f, token);
        if (s != CLSEQ_OK)
            return s;
    }
    if (!strides[0])
        memcpy(strides, pool, sizeof pool);
    clseq_status s = clseq_config_put_ints(cfg, "pool_size", 2, pool);
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "strides", 2, strides);
    return s == CLSEQ_OK ? clseq_config_put_string(cfg, "padding", same > 0 ? "same" : "valid")
                         : s;
}

static clseq_status max_parse_spec(const char *const *fields, int count, clseq_layer_config *cfg)
{
    return pooling_parse_spec("maxpool2d", fields, count, cfg);
}

static clseq_status avg_parse_spec(const char *const *fields, int count, clseq_layer_config *cfg)
{
    return pooling_parse_spec("avgpool2d", fields, count, cfg);
}

/* Windows along one axis of size cells (Keras's formulas; the caller has
 * checked that 'valid' fits one window). */
static int windows(int size, int window, int stride, int same)
{
    return same ? (size + stride - 1) / stride : (size - window) / stride + 1;
}

/* Cells of 'same' padding before the image along one axis: half the total
 * (rounded down), the rest after, as TensorFlow and XLA pad. */
static int pad_before(int size, int out, int window, int stride, int same)
{
    int total = (out - 1) * stride + window - size;
    return same && total > 0 ? total / 2 : 0;
}

static clseq_status pooling_output_shape(clseq_layer *l)
{
    char what[48], in[64];
    clseq_layer_label(l, what, sizeof what);
    clseq_shape_format(&l->in, in, sizeof in);
    if (l->in.rank != 3)
        return clseq_fail(CLSEQ_E_SHAPE, "%s: input %s has rank %d; it needs (height, width, "
                          "channels)", what, in, l->in.rank);
    const int *a = l->arg;
    if (!a[SAME] && (l->in.dims[0] < a[POOL_H] || l->in.dims[1] < a[POOL_W]))
        return clseq_fail(CLSEQ_E_SHAPE, "%s: input %s is smaller than the %dx%d pool with "
                          "padding 'valid'", what, in, a[POOL_H], a[POOL_W]);
    l->out = l->in;
    l->out.dims[0] = windows(l->in.dims[0], a[POOL_H], a[STRIDE_H], a[SAME]);
    l->out.dims[1] = windows(l->in.dims[1], a[POOL_W], a[STRIDE_W], a[SAME]);
    return clseq_shape_check(&l->out, what);
}

static int pooling_variable_count(const clseq_layer *l)
{
    (void)l;
    return 0;
}

static void pooling_variable(const clseq_layer *l, int index, clseq_variable_info *out)
{
    (void)l, (void)index, (void)out;
}

static void pooling_init(const clseq_layer *l, clseq_rng *rng, float *const *vars)
{
    (void)l, (void)rng, (void)vars;
}

static clseq_pool_geometry geometry(const clseq_layer *l)
{
    const int *a = l->arg;
    clseq_pool_geometry g = {
        .H = l->in.dims[0], .W = l->in.dims[1], .C = l->in.dims[2],
        .OH = l->out.dims[0], .OW = l->out.dims[1],
        .ph = a[POOL_H], .pw = a[POOL_W], .sh = a[STRIDE_H], .sw = a[STRIDE_W],
    };
    g.pad_top = pad_before(g.H, g.OH, g.ph, g.sh, a[SAME]);
    g.pad_left = pad_before(g.W, g.OW, g.pw, g.sw, a[SAME]);
    return g;
}

/* Max pooling records its choices even outside training: a backward pass
 * may follow any forward one (input gradients of a trained model). */
static clseq_status pooling_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    (void)training;
    clseq_pool_geometry g = geometry(l);
    if (is_max(l))
        return clseq_op_max_pool2d(p->dev, &g, p->rows, p->in, p->out, p->saved);
    return clseq_op_avg_pool2d(p->dev, &g, p->rows, p->in, p->out);
}

static clseq_status pooling_backward(const clseq_layer *l, clseq_pass *p)
{
    if (!p->d_in)
        return CLSEQ_OK; /* no variables: nothing else to compute */
    clseq_pool_geometry g = geometry(l);
    if (is_max(l))
        return clseq_op_max_pool2d_backward(p->dev, &g, p->rows, p->d_out, p->saved, p->d_in);
    return clseq_op_avg_pool2d_backward(p->dev, &g, p->rows, p->d_out, p->d_in);
}

/* One int per output: the cell each window picked. */
static size_t max_saved_floats(const clseq_layer *l, int rows)
{
    return (size_t)rows * (size_t)clseq_shape_size(&l->out);
}

const clseq_layer_kind clseq_max_pooling2d_kind = {
    .keras_class = "MaxPooling2D",
    .name = "max_pooling2d",
    .alias = "maxpool2d",
    .decode = pooling_decode,
    .encode = pooling_encode,
    .parse_spec = max_parse_spec,
    .output_shape = pooling_output_shape,
    .variable_count = pooling_variable_count,
    .variable = pooling_variable,
    .init = pooling_init,
    .forward = pooling_forward,
    .backward = pooling_backward,
    .saved_floats = max_saved_floats,
};

const clseq_layer_kind clseq_average_pooling2d_kind = {
    .keras_class = "AveragePooling2D",
    .name = "average_pooling2d",
    .alias = "avgpool2d",
    .decode = pooling_decode,
    .encode = pooling_encode,
    .parse_spec = avg_parse_spec,
    .output_shape = pooling_output_shape,
    .variable_count = pooling_variable_count,
    .variable = pooling_variable,
    .init = pooling_init,
    .forward = pooling_forward,
    .backward = pooling_backward,
};
