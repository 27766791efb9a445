/* Conv2D(filters, kernel_size, strides, padding, dilation_rate,
 * activation, use_bias) on (H, W, C) samples, channels last, with Keras
 * 3's semantics:
 *  - output size and padding per axis as nn/window.h gives them for a
 *    window spanning the dilated kernel k' = (k - 1) d + 1: 'valid'
 *    floor((H - k') / s) + 1 (the input must hold one whole dilated
 *    kernel), 'same' ceil(H / s), the padding being zeros;
 *  - strides above 1 together with a dilation above 1 are refused, as
 *    Keras's BaseConv refuses them;
 *  - variables in Keras's order: kernel (kh, kw, C, filters), Glorot
 *    uniform with Keras's conv fans (fan_in = kh kw C, fan_out =
 *    kh kw filters), then bias (filters), zeros, only with use_bias.
 *
 * The convolution is a product (cl/conv.cl): im2col writes the column
 * matrix cols (one row per output position, one column per tap (ky, kx,
 * c)) into the shared scratch, and z = cols . kernel, the kernel variable
 * being (kh kw C) x filters as it lies. Backward: dKernel = cols^T dZ,
 * dBias = column sums of dZ, dCols = dZ kernel^T and col2im gathers dCols
 * back onto the input. A 1x1 kernel with stride 1 needs no columns: cols
 * is the input itself.
 *
 * The columns of a batch can be far larger than its tensors (kh kw times
 * the input), so they are made a chunk of samples at a time, no more than
 * chunk_floats() at once (one sample's at least): the products run per
 * chunk, and the kernel gradient adds up the chunks' through the scratch
 * left after the columns. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"
#include "nn/window.h"
#include "ops/ops.h"
#include "ops/ops_conv.h"
#include "sys/error.h"

/* l->arg. Nine values share the eight slots: FLAGS holds SAME_PADDING and
 * USE_BIAS. */
enum { FILTERS = 0, KERNEL_H, KERNEL_W, STRIDE_H, STRIDE_W, DILATION_H, DILATION_W, FLAGS };
enum { SAME_PADDING = 1, USE_BIAS = 2 };
enum { KERNEL = 0, BIAS = 1 }; /* variables */

/* Column-matrix floats per chunk. 16 MiB keeps the columns of a CNN's
 * training batch in one or a few chunks (few, large products for a GPU)
 * and bounds what evaluation on thousands of rows allocates. A CPU does
 * better with 4 MiB, which its caches keep between im2col and the products
 * (PoCL on 2 cores, 13x13x32 -> Conv2D(64, 3x3), batch 128, forward and
 * backward: 29 ms in 4 MiB chunks, 35 ms in 16 MiB, 31 ms in 8 MiB). */
#define CHUNK_FLOATS ((size_t)1 << 22)
#define CPU_CHUNK_FLOATS ((size_t)1 << 20)
/* Rows of dZ per partial sum of the bias gradient (bias_gradient). */
enum { BLOCK_ROWS = 64 };

static int has_bias(const clseq_layer *l)
{
    return (l->arg[FLAGS] & USE_BIAS) != 0;
}

/* ---- config ---------------------------------------------------------------- */

/* padding ('valid' by default, window.h) and use_bias (1 by default, 0
 * or 1) into FLAGS. */
static clseq_status decode_flags(clseq_layer *l, const clseq_layer_config *cfg, const char *what)
{
    int same = 0, use_bias = 1;
    clseq_status s = clseq_window_get_padding(cfg, what, &same);
    if (s == CLSEQ_OK && clseq_config_find(cfg, "use_bias"))
        s = clseq_config_get_int(cfg, "use_bias", what, &use_bias);
    if (s != CLSEQ_OK)
        return s;
    if (use_bias != 0 && use_bias != 1)
        return clseq_fail(CLSEQ_E_ARG, "%s: use_bias must be 0 or 1, got %d", what, use_bias);
    l->arg[FLAGS] = (same ? SAME_PADDING : 0) | (use_bias ? USE_BIAS : 0);
    return CLSEQ_OK;
}

static clseq_status conv_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    static const char *const known[] = {"filters", "kernel_size", "strides",  "padding",
                                        "dilation_rate", "activation", "use_bias"};
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    int *a = l->arg;
    a[STRIDE_H] = a[STRIDE_W] = a[DILATION_H] = a[DILATION_W] = 1; /* Keras's defaults */
    clseq_status s = clseq_config_only(cfg, known, 7, what);
    if (s == CLSEQ_OK)
        s = clseq_config_get_int(cfg, "filters", what, &a[FILTERS]);
    if (s == CLSEQ_OK && (a[FILTERS] < 1 || a[FILTERS] > CLSEQ_MAX_UNITS))
        return clseq_fail(CLSEQ_E_ARG, "%s: filters must be in 1..%d, got %d", what,
                          CLSEQ_MAX_UNITS, a[FILTERS]);
    if (s == CLSEQ_OK)
        s = clseq_window_get_pair(cfg, "kernel_size", what, 1, &a[KERNEL_H]);
    if (s == CLSEQ_OK)
        s = clseq_window_get_pair(cfg, "strides", what, 0, &a[STRIDE_H]);
    if (s == CLSEQ_OK)
        s = clseq_window_get_pair(cfg, "dilation_rate", what, 0, &a[DILATION_H]);
    if (s == CLSEQ_OK && (a[STRIDE_H] > 1 || a[STRIDE_W] > 1) &&
        (a[DILATION_H] > 1 || a[DILATION_W] > 1))
        return clseq_fail(CLSEQ_E_ARG, "%s: strides %dx%d cannot go with dilation_rate %dx%d "
                          "(Keras allows strides > 1 or dilation_rate > 1, not both)", what,
                          a[STRIDE_H], a[STRIDE_W], a[DILATION_H], a[DILATION_W]);
    if (s == CLSEQ_OK)
        s = decode_flags(l, cfg, what);
    if (s == CLSEQ_OK)
        s = clseq_config_get_activation(cfg, what, &l->act);
    return s;
}

static clseq_status conv_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    const int *a = l->arg;
    clseq_status s = clseq_config_put_int(cfg, "filters", a[FILTERS]);
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "kernel_size", 2, &a[KERNEL_H]);
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "strides", 2, &a[STRIDE_H]);
    if (s == CLSEQ_OK)
        s = clseq_config_put_string(cfg, "padding",
                                    clseq_window_padding_name(a[FLAGS] & SAME_PADDING));
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "dilation_rate", 2, &a[DILATION_H]);
    if (s == CLSEQ_OK)
        s = clseq_config_put_string(cfg, "activation", clseq_activation_name(l->act));
    return s == CLSEQ_OK ? clseq_config_put_int(cfg, "use_bias", has_bias(l)) : s;
}

/* ---- spec ------------------------------------------------------------------ */

/* The parsed options of a spec, 0 where not given. */
typedef struct spec_options {
    clseq_window_options window; /* padding and strides */
    int dilation[2];
    int nobias;
    int has_act;
    clseq_activation act;
} spec_options;

/* One OPT field; CLSEQ_E_ARG for an unknown or repeated option. */
static clseq_status spec_option(const char *f, spec_options *o)
{
    clseq_status s;
    if (clseq_window_spec_option(f, &o->window, &s))
        return s;
    if (f[0] == 'd' && isdigit((unsigned char)f[1]) && !o->dilation[0])
        return clseq_window_spec_pair(f + 1, "dilation", o->dilation);
    if (strcmp(f, "nobias") == 0 && !o->nobias) {
        o->nobias = 1;
        return CLSEQ_OK;
    }
    if (!o->has_act && clseq_activation_from_name(f, &o->act) == CLSEQ_OK) {
        o->has_act = 1;
        return CLSEQ_OK;
    }
    return clseq_fail(CLSEQ_E_ARG, "'%s' is not an option of conv2d:FILTERS:KH[xKW][:OPT...] "
                      "(an activation, same, valid, sN[xM], dN[xM], nobias; each at most once)",
                      f);
}

/* "conv2d:FILTERS:KH[xKW][:OPT...]", OPT an activation, same, valid,
 * sN[xM] (strides), dN[xM] (dilation) or nobias in any order; defaults
 * valid, strides 1, dilation 1, linear, with a bias (Keras's). */
static clseq_status conv_parse_spec(const char *const *fields, int count, clseq_layer_config *cfg)
{
    if (count < 2 || !*fields[0])
        return clseq_fail(CLSEQ_E_ARG, "should read conv2d:FILTERS:KH[xKW][:OPT...]");
    char *end = NULL;
    errno = 0;
    long filters = strtol(fields[0], &end, 10);
    if (errno || *end || filters < 1 || filters > CLSEQ_MAX_UNITS)
        return clseq_fail(CLSEQ_E_ARG, "filters '%s' must be an integer in 1..%d", fields[0],
                          CLSEQ_MAX_UNITS);
    int kernel[2];
    clseq_status s = clseq_window_spec_pair(fields[1], "kernel size", kernel);
    spec_options o = {0};
    for (int i = 2; i < count && s == CLSEQ_OK; i++)
        s = spec_option(fields[i], &o);
    if (s != CLSEQ_OK)
        return s;
    int *strides = o.window.strides;
    if (!strides[0])
        strides[0] = strides[1] = 1;
    if (!o.dilation[0])
        o.dilation[0] = o.dilation[1] = 1;
    s = clseq_config_put_int(cfg, "filters", (int)filters);
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "kernel_size", 2, kernel);
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "strides", 2, strides);
    if (s == CLSEQ_OK)
        s = clseq_config_put_string(cfg, "padding",
                                    clseq_window_padding_name(o.window.padding == 2));
    if (s == CLSEQ_OK)
        s = clseq_config_put_ints(cfg, "dilation_rate", 2, o.dilation);
    if (s == CLSEQ_OK)
        s = clseq_config_put_string(cfg, "activation",
                                    clseq_activation_name(o.has_act ? o.act : CLSEQ_LINEAR));
    return s == CLSEQ_OK ? clseq_config_put_int(cfg, "use_bias", !o.nobias) : s;
}

/* ---- shapes ---------------------------------------------------------------- */

static clseq_status conv_output_shape(clseq_layer *l)
{
    char what[48], in[64];
    clseq_layer_label(l, what, sizeof what);
    clseq_status s = clseq_window_check_input(l, what);
    if (s != CLSEQ_OK)
        return s;
    clseq_shape_format(&l->in, in, sizeof in);
    const int *a = l->arg;
    int same = a[FLAGS] & SAME_PADDING;
    long long span_h = clseq_window_span(a[KERNEL_H], a[DILATION_H]);
    long long span_w = clseq_window_span(a[KERNEL_W], a[DILATION_W]);
    if (!same && (l->in.dims[0] < span_h || l->in.dims[1] < span_w)) {
        char dilated[64] = "";
        if (a[DILATION_H] > 1 || a[DILATION_W] > 1)
            snprintf(dilated, sizeof dilated, " (%dx%d with dilation_rate %dx%d)", a[KERNEL_H],
                     a[KERNEL_W], a[DILATION_H], a[DILATION_W]);
        return clseq_fail(CLSEQ_E_SHAPE, "%s: input %s is smaller than the %lldx%lld kernel%s "
                          "with padding 'valid'", what, in, span_h, span_w, dilated);
    }
    long long taps = (long long)a[KERNEL_H] * a[KERNEL_W] * l->in.dims[2];
    if (taps > CLSEQ_MAX_UNITS)
        return clseq_fail(CLSEQ_E_SHAPE, "%s: a %dx%d kernel over input %s has %lld taps per "
                          "filter, more than %d", what, a[KERNEL_H], a[KERNEL_W], in, taps,
                          CLSEQ_MAX_UNITS);
    l->out = l->in;
    l->out.dims[0] = clseq_window_count(l->in.dims[0], span_h, a[STRIDE_H], same);
    l->out.dims[1] = clseq_window_count(l->in.dims[1], span_w, a[STRIDE_W], same);
    l->out.dims[2] = a[FILTERS];
    return clseq_shape_check(&l->out, what);
}

/* ---- variables ------------------------------------------------------------- */

static int conv_variable_count(const clseq_layer *l)
{
    return has_bias(l) ? 2 : 1;
}

static void conv_variable(const clseq_layer *l, int index, clseq_variable_info *out)
{
    const int *a = l->arg;
    int kernel[4] = {a[KERNEL_H], a[KERNEL_W], clseq_shape_last(&l->in), a[FILTERS]};
    if (index == KERNEL)
        clseq_variable_describe(out, "kernel", 1, 4, kernel);
    else
        clseq_variable_describe(out, "bias", 1, 1, &kernel[3]);
}

/* Glorot uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))
 * with Keras's fans for a conv kernel (its receptive field kh kw times the
 * input and output channels); the bias stays zero. */
static void conv_init(const clseq_layer *l, clseq_rng *rng, float *const *vars)
{
    const int *a = l->arg;
    double field = (double)a[KERNEL_H] * a[KERNEL_W];
    double fan_in = field * clseq_shape_last(&l->in), fan_out = field * a[FILTERS];
    float limit = (float)sqrt(6.0 / (fan_in + fan_out));
    size_t count = (size_t)(fan_in * a[FILTERS]);
    for (size_t i = 0; i < count; i++)
        vars[KERNEL][i] = clseq_rng_uniform(rng, -limit, limit);
    if (has_bias(l))
        for (int i = 0; i < a[FILTERS]; i++)
            vars[BIAS][i] = 0.0f;
}

/* ---- passes ---------------------------------------------------------------- */

static clseq_conv_geometry geometry(const clseq_layer *l)
{
    const int *a = l->arg;
    int same = a[FLAGS] & SAME_PADDING;
    clseq_conv_geometry g = {
        .H = l->in.dims[0], .W = l->in.dims[1], .C = l->in.dims[2],
        .OH = l->out.dims[0], .OW = l->out.dims[1],
        .kh = a[KERNEL_H], .kw = a[KERNEL_W], .sh = a[STRIDE_H], .sw = a[STRIDE_W],
        .dh = a[DILATION_H], .dw = a[DILATION_W],
    };
    g.pad_top = clseq_window_pad_before(g.H, g.OH, clseq_window_span(g.kh, g.dh), g.sh, same);
    g.pad_left = clseq_window_pad_before(g.W, g.OW, clseq_window_span(g.kw, g.dw), g.sw, same);
    return g;
}

/* A 1x1 kernel moved one cell at a time reads each input cell once, in
 * order ('same' pads nothing then): the input is its own column matrix. */
static int direct(const clseq_layer *l)
{
    const int *a = l->arg;
    return a[KERNEL_H] == 1 && a[KERNEL_W] == 1 && a[STRIDE_H] == 1 && a[STRIDE_W] == 1;
}

/* The product's inner size: taps per filter. */
static int taps(const clseq_layer *l)
{
    return l->arg[KERNEL_H] * l->arg[KERNEL_W] * clseq_shape_last(&l->in);
}

/* Output positions per sample. */
static int positions_per_sample(const clseq_layer *l)
{
    return l->out.dims[0] * l->out.dims[1];
}

static size_t chunk_floats(const clseq_device *dev)
{
    return dev->type & CL_DEVICE_TYPE_CPU ? CPU_CHUNK_FLOATS : CHUNK_FLOATS;
}

/* Samples per chunk of columns: all rows when their columns fit in floats
 * (or they need none), else as many samples as fit, at least one. */
static int chunk_rows(const clseq_layer *l, int rows, size_t floats)
{
    if (direct(l))
        return rows;
    size_t per_sample = (size_t)positions_per_sample(l) * (size_t)taps(l);
    size_t fit = floats / per_sample;
    if (fit < 1)
        fit = 1;
    return (size_t)rows < fit ? rows : (int)fit;
}

/* Partial sums of the bias gradient over rows samples: 0 when dZ is
 * short enough to sum directly. */
static int bias_blocks(const clseq_layer *l, int rows)
{
    int M = rows * positions_per_sample(l);
    return has_bias(l) && M > 4 * BLOCK_ROWS ? (M + BLOCK_ROWS - 1) / BLOCK_ROWS : 0;
}

/* The columns of a chunk of at most floats over rows samples, plus, when
 * the rows take more than one chunk, one chunk's kernel gradient to add to
 * the others'. */
static size_t columns_floats(const clseq_layer *l, int rows, size_t floats)
{
    if (direct(l))
        return 0;
    int chunk = chunk_rows(l, rows, floats);
    size_t cols = (size_t)chunk * positions_per_sample(l) * (size_t)taps(l);
    return chunk < rows ? cols + (size_t)taps(l) * (size_t)l->arg[FILTERS] : cols;
}

/* The most the scratch holds at a time on any device: the columns (either
 * chunk size) or the bias gradient's partial sums. */
static size_t conv_scratch_floats(const clseq_layer *l, int rows)
{
    size_t big = columns_floats(l, rows, CHUNK_FLOATS);
    size_t cpu = columns_floats(l, rows, CPU_CHUNK_FLOATS);
    size_t sums = (size_t)bias_blocks(l, rows) * (size_t)l->arg[FILTERS];
    size_t most = big > cpu ? big : cpu;
    return most > sums ? most : sums;
}

/* The column matrix of samples [first, first + count) of p->in: in the
 * scratch, or the input itself for a direct layer. */
static clseq_status columns(const clseq_layer *l, clseq_pass *p, int first, int count,
                            clseq_mat *cols)
{
    int K = taps(l);
    if (direct(l)) {
        *cols = (clseq_mat){p->in, first * clseq_shape_size(&l->in), K};
        return CLSEQ_OK;
    }
    clseq_conv_geometry g = geometry(l);
    *cols = (clseq_mat){p->scratch, 0, K};
    return clseq_op_im2col(p->dev, &g, p->in, first * clseq_shape_size(&l->in), count,
                           p->scratch);
}

static clseq_status conv_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    (void)training;
    int P = positions_per_sample(l), K = taps(l), N = l->arg[FILTERS];
    int chunk = chunk_rows(l, p->rows, chunk_floats(p->dev));
    clseq_mat kernel = {p->params, (int)p->offsets[KERNEL], N};
    clseq_mat bias = {NULL, 0, 0};
    if (has_bias(l))
        bias = (clseq_mat){p->params, (int)p->offsets[BIAS], 0};
    cl_mem z = clseq_layer_z_target(l, p);
    clseq_status s = CLSEQ_OK;
    for (int first = 0; first < p->rows && s == CLSEQ_OK; first += chunk) {
        int count = p->rows - first < chunk ? p->rows - first : chunk;
        clseq_mat cols;
        if ((s = columns(l, p, first, count, &cols)) == CLSEQ_OK)
            s = clseq_op_gemm(p->dev, 0, 0, count * P, N, K, cols, kernel,
                              (clseq_mat){z, first * P * N, N}, bias,
                              clseq_layer_epilogue_act(l, p));
    }
    return s == CLSEQ_OK ? clseq_layer_finish_activation(l, p, p->rows * P, N) : s;
}

/* dKernel = cols^T dZ over every chunk: the first chunk's product goes
 * straight into the gradient, later ones into the scratch after the
 * columns and are added to it. */
static clseq_status kernel_gradient(const clseq_layer *l, clseq_pass *p)
{
    int P = positions_per_sample(l), K = taps(l), N = l->arg[FILTERS];
    int chunk = chunk_rows(l, p->rows, chunk_floats(p->dev));
    int partial_off = chunk * P * K; /* after the columns: conv_scratch_floats */
    clseq_status s = CLSEQ_OK;
    for (int first = 0; first < p->rows && s == CLSEQ_OK; first += chunk) {
        int count = p->rows - first < chunk ? p->rows - first : chunk;
        clseq_mat cols, target = {p->grads, (int)p->offsets[KERNEL], N};
        if (first > 0)
            target = (clseq_mat){p->scratch, partial_off, N};
        if ((s = columns(l, p, first, count, &cols)) == CLSEQ_OK)
            s = clseq_op_gemm(p->dev, 1, 0, K, N, count * P, cols,
                              (clseq_mat){p->d_out, first * P * N, N}, target,
                              (clseq_mat){NULL, 0, 0}, CLSEQ_LINEAR);
        if (s == CLSEQ_OK && first > 0)
            s = clseq_op_conv_accumulate(p->dev, p->grads, (int)p->offsets[KERNEL], p->scratch,
                                         partial_off, K * N);
    }
    return s;
}

/* dL/d(in) = col2im(dZ kernel^T), a chunk at a time (or the product
 * straight into d_in for a direct layer). */
static clseq_status input_gradient(const clseq_layer *l, clseq_pass *p)
{
    int P = positions_per_sample(l), K = taps(l), N = l->arg[FILTERS];
    clseq_mat kernel = {p->params, (int)p->offsets[KERNEL], N}, none = {NULL, 0, 0};
    if (direct(l))
        return clseq_op_gemm(p->dev, 0, 1, p->rows * P, K, N, (clseq_mat){p->d_out, 0, N},
                             kernel, (clseq_mat){p->d_in, 0, K}, none, CLSEQ_LINEAR);
    clseq_conv_geometry g = geometry(l);
    int chunk = chunk_rows(l, p->rows, chunk_floats(p->dev));
    int in_size = clseq_shape_size(&l->in);
    clseq_status s = CLSEQ_OK;
    for (int first = 0; first < p->rows && s == CLSEQ_OK; first += chunk) {
        int count = p->rows - first < chunk ? p->rows - first : chunk;
        s = clseq_op_gemm(p->dev, 0, 1, count * P, K, N, (clseq_mat){p->d_out, first * P * N, N},
                          kernel, (clseq_mat){p->scratch, 0, K}, none, CLSEQ_LINEAR);
        if (s == CLSEQ_OK)
            s = clseq_op_col2im(p->dev, &g, p->scratch, count, p->d_in, first * in_size);
    }
    return s;
}

/* dBias = the column sums of dZ (rows OH OW x filters). A tall dZ is first
 * summed in blocks of BLOCK_ROWS rows into the scratch: clseq_op_sum_columns
 * gives each column one work-group that walks every row at a stride of a
 * row, which on a CPU reads all of dZ once per filter. */
static clseq_status bias_gradient(const clseq_layer *l, clseq_pass *p)
{
    int M = p->rows * positions_per_sample(l), N = l->arg[FILTERS];
    int blocks = bias_blocks(l, p->rows), bias = (int)p->offsets[BIAS];
    if (!blocks)
        return clseq_op_sum_columns(p->dev, p->d_out, M, N, p->grads, bias, 0);
    clseq_status s = clseq_op_conv_block_sums(p->dev, p->d_out, M, N, BLOCK_ROWS, p->scratch);
    return s == CLSEQ_OK ? clseq_op_sum_columns(p->dev, p->scratch, blocks, N, p->grads, bias, 0)
                         : s;
}

static clseq_status conv_backward(const clseq_layer *l, clseq_pass *p)
{
    int M = p->rows * positions_per_sample(l), N = l->arg[FILTERS];
    clseq_status s = clseq_layer_backward_activation(l, p, M, N);
    if (s == CLSEQ_OK)
        s = kernel_gradient(l, p);
    if (s == CLSEQ_OK && has_bias(l))
        s = bias_gradient(l, p);
    if (s == CLSEQ_OK && p->d_in)
        s = input_gradient(l, p);
    return s;
}

const clseq_layer_kind clseq_conv2d_kind = {
    .keras_class = "Conv2D",
    .name = "conv2d",
    .applies_activation = 1,
    .decode = conv_decode,
    .encode = conv_encode,
    .parse_spec = conv_parse_spec,
    .output_shape = conv_output_shape,
    .variable_count = conv_variable_count,
    .variable = conv_variable,
    .init = conv_init,
    .forward = conv_forward,
    .backward = conv_backward,
    .scratch_floats = conv_scratch_floats,
};
