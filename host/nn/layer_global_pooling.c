/* GlobalAveragePooling2D and GlobalMaxPooling2D: (H, W, C) to (C), the
 * mean or the largest value of each channel over the image (Keras's
 * keepdims=False, channels last; the layers take no other settings).
 * Each is the pooling kernels' case of one window covering the image, so
 * (1, 1, C) outputs are exactly the (C) layout: cl/pool.cl runs them, and
 * the max's gradient likewise goes to the first maximum in row-major
 * order, through the choice saved in forward (see layer_pooling.c). */
#include "nn/layer.h"
#include "ops/ops_pool.h"
#include "sys/error.h"

static int is_max(const clseq_layer *l)
{
    return l->kind == &clseq_global_max_pooling2d_kind;
}

static clseq_status global_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    return clseq_config_only(cfg, NULL, 0, what);
}

static clseq_status global_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    (void)l, (void)cfg;
    return CLSEQ_OK;
}

/* "globalavgpool2d" / "globalmaxpool2d": no fields. */
static clseq_status global_parse_spec(const char *const *fields, int count,
                                      clseq_layer_config *cfg)
{
    (void)fields, (void)cfg;
    if (count)
        return clseq_fail(CLSEQ_E_ARG, "global pooling takes no fields");
    return CLSEQ_OK;
}

static clseq_status global_output_shape(clseq_layer *l)
{
    char what[48], in[64];
    clseq_layer_label(l, what, sizeof what);
    if (l->in.rank != 3) {
        clseq_shape_format(&l->in, in, sizeof in);
        return clseq_fail(CLSEQ_E_SHAPE, "%s: input %s has rank %d; it needs (height, width, "
                          "channels)", what, in, l->in.rank);
    }
    l->out = clseq_shape_flat(l->in.dims[2]);
    return CLSEQ_OK;
}

static int global_variable_count(const clseq_layer *l)
{
    (void)l;
    return 0;
}

static void global_variable(const clseq_layer *l, int index, clseq_variable_info *out)
{
    (void)l, (void)index, (void)out;
}

static void global_init(const clseq_layer *l, clseq_rng *rng, float *const *vars)
{
    (void)l, (void)rng, (void)vars;
}

/* One H x W window, no padding. */
static clseq_pool_geometry geometry(const clseq_layer *l)
{
    int H = l->in.dims[0], W = l->in.dims[1];
    clseq_pool_geometry g = {.H = H, .W = W, .C = l->in.dims[2], .OH = 1, .OW = 1,
                             .ph = H, .pw = W, .sh = H, .sw = W};
    return g;
}

static clseq_status global_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    (void)training; /* the max's choice is kept in any pass: see layer_pooling.c */
    clseq_pool_geometry g = geometry(l);
    if (is_max(l))
        return clseq_op_max_pool2d(p->dev, &g, p->rows, p->in, p->out, p->saved);
    return clseq_op_avg_pool2d(p->dev, &g, p->rows, p->in, p->out);
}

static clseq_status global_backward(const clseq_layer *l, clseq_pass *p)
{
    if (!p->d_in)
        return CLSEQ_OK;
    clseq_pool_geometry g = geometry(l);
    if (is_max(l))
        return clseq_op_max_pool2d_backward(p->dev, &g, p->rows, p->d_out, p->saved, p->d_in);
    return clseq_op_avg_pool2d_backward(p->dev, &g, p->rows, p->d_out, p->d_in);
}

/* One int per output: the cell each channel's maximum came from. */
static size_t max_saved_floats(const clseq_layer *l, int rows)
{
    return (size_t)rows * (size_t)clseq_shape_size(&l->out);
}

const clseq_layer_kind clseq_global_average_pooling2d_kind = {
    .keras_class = "GlobalAveragePooling2D",
    .name = "global_average_pooling2d",
    .alias = "globalavgpool2d",
    .decode = global_decode,
    .encode = global_encode,
    .parse_spec = global_parse_spec,
    .output_shape = global_output_shape,
    .variable_count = global_variable_count,
    .variable = global_variable,
    .init = global_init,
    .forward = global_forward,
    .backward = global_backward,
};

const clseq_layer_kind clseq_global_max_pooling2d_kind = {
    .keras_class = "GlobalMaxPooling2D",
    .name = "global_max_pooling2d",
    .alias = "globalmaxpool2d",
    .decode = global_decode,
    .encode = global_encode,
    .parse_spec = global_parse_spec,
    .output_shape = global_output_shape,
    .variable_count = global_variable_count,
    .variable = global_variable,
    .init = global_init,
    .forward = global_forward,
    .backward = global_backward,
    .saved_floats = max_saved_floats,
};
