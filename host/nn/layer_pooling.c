/* MaxPooling2D and AveragePooling2D(pool_size, strides, padding) on
 * (H, W, C) samples, channels last, with Keras 3's semantics:
 *  - output size and padding per axis as nn/window.h gives them: 'valid'
 *    floor((H - ph) / sh) + 1 (the input must hold one whole window),
 *    'same' ceil(H / sh);
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
 * No variables, no activation. Kernels: cl/pool.cl via ops/ops_pool.h.
 * The passes serve the global kinds too (nn/layer_pooling.h): their
 * geometry is one unpadded window the size of the image. */
#include <ctype.h>
#include <string.h>

#include "nn/layer_pooling.h"
#include "nn/window.h"
#include "ops/ops_pool.h"
#include "sys/error.h"

enum { POOL_H = 0, POOL_W, STRIDE_H, STRIDE_W, SAME }; /* l->arg; SAME: 1 for 'same' */

static int is_max(const clseq_layer *l)
{
    return l->kind == &clseq_max_pooling2d_kind || l->kind == &clseq_global_max_pooling2d_kind;
}

static int is_global(const clseq_layer *l)
{
    return l->kind == &clseq_global_max_pooling2d_kind ||
           l->kind == &clseq_global_average_pooling2d_kind;
}

static clseq_status pooling_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    static const char *const known[] = {"pool_size", "strides", "padding"};
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    int *pool = &l->arg[POOL_H], *strides = &l->arg[STRIDE_H];
    clseq_status s = clseq_config_only(cfg, known, 3, what);
    if (s == CLSEQ_OK)
        s = clseq_window_get_pair(cfg, "pool_size", what, 1, pool);
    /* Keras's strides=None is the pool size */
    memcpy(strides, pool, 2 * sizeof *pool);
    if (s == CLSEQ_OK)
        s = clseq_window_get_pair(cfg, "strides", what, 0, strides);
    return s == CLSEQ_OK ? clseq_window_get_padding(cfg, what, &l->arg[SAME]) : s;
}

static clseq_status pooling_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    clseq_status s = clseq_config_put_ints(cfg, "pool_size", 2, &l->arg[POOL_H]);
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "strides", 2, &l->arg[STRIDE_H]);
    return s == CLSEQ_OK
               ? clseq_config_put_string(cfg, "padding", clseq_window_padding_name(l->arg[SAME]))
               : s;
}

/* "TOKEN[:PH[xPW]][:same|valid][:sSH[xSW]]": the pool size first (default
 * 2x2), then each option at most once in any order; strides default to
 * the pool size, padding to 'valid' (Keras's defaults). */
static clseq_status pooling_parse_spec(const char *token, const char *const *fields, int count,
                                       clseq_layer_config *cfg)
{
    int pool[2] = {2, 2};
    clseq_window_options o = {0};
    for (int i = 0; i < count; i++) {
        const char *f = fields[i];
        clseq_status s = CLSEQ_OK;
        if (!clseq_window_spec_option(f, &o, &s)) {
            if (i != 0 || !isdigit((unsigned char)f[0]))
                return clseq_fail(CLSEQ_E_ARG, "unexpected field '%s': should read "
                                  "%s[:PH[xPW]][:same|valid][:sSH[xSW]], the pool size first, "
                                  "each option once", f, token);
            s = clseq_window_spec_pair(f, "pool size", pool);
        }
        if (s != CLSEQ_OK)
            return s;
    }
    if (!o.strides[0])
        memcpy(o.strides, pool, sizeof pool);
    clseq_status s = clseq_config_put_ints(cfg, "pool_size", 2, pool);
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "strides", 2, o.strides);
    return s == CLSEQ_OK
               ? clseq_config_put_string(cfg, "padding", clseq_window_padding_name(o.padding == 2))
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

static clseq_status pooling_output_shape(clseq_layer *l)
{
    char what[48], in[64];
    clseq_layer_label(l, what, sizeof what);
    clseq_status s = clseq_window_check_input(l, what);
    if (s != CLSEQ_OK)
        return s;
    const int *a = l->arg;
    if (!a[SAME] && (l->in.dims[0] < a[POOL_H] || l->in.dims[1] < a[POOL_W])) {
        clseq_shape_format(&l->in, in, sizeof in);
        return clseq_fail(CLSEQ_E_SHAPE, "%s: input %s is smaller than the %dx%d pool with "
                          "padding 'valid'", what, in, a[POOL_H], a[POOL_W]);
    }
    l->out = l->in;
    l->out.dims[0] = clseq_window_count(l->in.dims[0], a[POOL_H], a[STRIDE_H], a[SAME]);
    l->out.dims[1] = clseq_window_count(l->in.dims[1], a[POOL_W], a[STRIDE_W], a[SAME]);
    return clseq_shape_check(&l->out, what);
}

/* The windowed kinds' pool size, strides and padding; a global pooling's
 * one H x W window, unpadded. */
static clseq_pool_geometry geometry(const clseq_layer *l)
{
    int H = l->in.dims[0], W = l->in.dims[1], C = l->in.dims[2];
    if (is_global(l))
        return (clseq_pool_geometry){.H = H, .W = W, .C = C, .OH = 1, .OW = 1,
                                     .ph = H, .pw = W, .sh = H, .sw = W};
    const int *a = l->arg;
    clseq_pool_geometry g = {
        .H = H, .W = W, .C = C, .OH = l->out.dims[0], .OW = l->out.dims[1],
        .ph = a[POOL_H], .pw = a[POOL_W], .sh = a[STRIDE_H], .sw = a[STRIDE_W],
    };
    g.pad_top = clseq_window_pad_before(g.H, g.OH, g.ph, g.sh, a[SAME]);
    g.pad_left = clseq_window_pad_before(g.W, g.OW, g.pw, g.sw, a[SAME]);
    return g;
}

/* Max pooling records its choices even outside training: a backward pass
 * may follow any forward one (input gradients of a trained model). */
clseq_status clseq_pooling_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    (void)training;
    clseq_pool_geometry g = geometry(l);
    if (is_max(l))
        return clseq_op_max_pool2d(p->dev, &g, p->rows, p->in, p->out, p->saved);
    return clseq_op_avg_pool2d(p->dev, &g, p->rows, p->in, p->out);
}

clseq_status clseq_pooling_backward(const clseq_layer *l, clseq_pass *p)
{
    if (!p->d_in)
        return CLSEQ_OK; /* no variables: nothing else to compute */
    clseq_pool_geometry g = geometry(l);
    if (is_max(l))
        return clseq_op_max_pool2d_backward(p->dev, &g, p->rows, p->d_out, p->saved, p->d_in);
    return clseq_op_avg_pool2d_backward(p->dev, &g, p->rows, p->d_out, p->d_in);
}

/* One int per output: the cell each window picked. */
size_t clseq_pooling_max_saved_floats(const clseq_layer *l, int rows)
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
    .saved_floats = clseq_pooling_max_saved_floats,
    CLSEQ_POOLING_ENTRIES,
};

const clseq_layer_kind clseq_average_pooling2d_kind = {
    .keras_class = "AveragePooling2D",
    .name = "average_pooling2d",
    .alias = "avgpool2d",
    .decode = pooling_decode,
    .encode = pooling_encode,
    .parse_spec = avg_parse_spec,
    .output_shape = pooling_output_shape,
    CLSEQ_POOLING_ENTRIES,
};
