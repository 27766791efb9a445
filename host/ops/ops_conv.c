/* Launches of cl/conv.cl. The kernels divide their flat indices by the
 * geometry's sizes through a multiply and a shift computed here. */
#include "ops/ops_conv.h"

#include <stdint.h>

#include "ops/ops.h"

/* (magic, shift) with n / d = (n magic) >> shift for every 0 <= n < 2^31
 * (cl/conv.cl, conv_div). Granlund and Montgomery (PLDI 1994), theorem
 * 4.2 with N = 31: l = ceil(log2 d), magic = ceil(2^(31 + l) / d). Then
 * 2^(31+l) <= magic d < 2^(31+l) + d <= 2^(31+l) + 2^l, which makes the
 * quotient exact, and magic < 2^32 since d > 2^(l-1). d must be >= 1. */
static cl_uint2 divisor(int d)
{
    unsigned l = 0;
    while (((uint64_t)1 << l) < (uint64_t)d)
        l++;
    uint64_t top = (uint64_t)1 << (31 + l);
    cl_uint2 out;
    out.s[0] = (cl_uint)((top + (uint64_t)d - 1) / (uint64_t)d);
    out.s[1] = 31 + l;
    return out;
}

/* Four channels move as one float4 when C allows (cl/conv.cl). */
static int vector_width(const clseq_conv_geometry *g)
{
    return g->C % 4 == 0 ? 4 : 1;
}

/* What im2col and col2im both take between their own arguments: the
 * geometry's ints (C counted in elements of vec floats), then five
 * divisors (conv_div), each kernel its own. The arguments point here. */
typedef struct geometry_values {
    int ints[13];
    cl_uint2 divs[5];
} geometry_values;

/* Fills v with g's ints and the divisors of divide_by[0..5) (none when
 * divide_by is NULL: im2col_lines4 divides itself), and appends them to
 * args from *count on. */
static void geometry_args(const clseq_conv_geometry *g, int vec, const int *divide_by,
                          geometry_values *v, clseq_arg *args, size_t *count)
{
    const int ints[13] = {g->H,  g->W,  g->C / vec, g->OH, g->OW,      g->kh,      g->kw,
                          g->sh, g->sw, g->dh,      g->dw, g->pad_top, g->pad_left};
    for (size_t i = 0; i < 13; i++) {
        v->ints[i] = ints[i];
        args[(*count)++] = CLSEQ_ARG(v->ints[i]);
    }
    for (size_t i = 0; divide_by && i < 5; i++) {
        v->divs[i] = divisor(divide_by[i]);
        args[(*count)++] = CLSEQ_ARG(v->divs[i]);
    }
}

clseq_status clseq_op_im2col(clseq_device *dev, const clseq_conv_geometry *g, cl_mem in,
                             int in_off, int rows, cl_mem cols)
{
    int vec = vector_width(g), C = g->C / vec, K = g->kh * g->kw * C, off = in_off / vec;
    size_t positions = (size_t)rows * (size_t)g->OH * (size_t)g->OW;
    /* per-line copies on CPUs where a tap is at least a float4 of channels
     * (measured on PoCL: conv 13x13x32 -> 64 forward 6.8 -> 3.4 ms per 128
     * rows; a 1-channel first layer is faster element by element) */
    int lines = (dev->type & CL_DEVICE_TYPE_CPU) && vec == 4;
    const int divide_by[5] = {K, C, g->kw, g->OW, g->OH};
    geometry_values v;
    clseq_arg args[22] = {CLSEQ_ARG(in), CLSEQ_ARG(off), CLSEQ_ARG(rows)};
    size_t count = 3;
    geometry_args(g, vec, lines ? NULL : divide_by, &v, args, &count);
    args[count++] = CLSEQ_ARG(cols);
    if (lines)
        return clseq_run_2d(dev, K_IM2COL_LINES4, positions, (size_t)g->kh, args, count);
    return clseq_run_1d(dev, vec == 4 ? K_IM2COL4 : K_IM2COL, positions * (size_t)K, args, count);
}

clseq_status clseq_op_col2im(clseq_device *dev, const clseq_conv_geometry *g, cl_mem d_cols,
                             int rows, cl_mem d_in, int d_off)
{
    int vec = vector_width(g), C = g->C / vec, off = d_off / vec;
    const int divide_by[5] = {C, g->W, g->H, g->sh, g->sw};
    geometry_values v;
    clseq_arg args[22] = {CLSEQ_ARG(d_cols), CLSEQ_ARG(rows)};
    size_t count = 2;
    geometry_args(g, vec, divide_by, &v, args, &count);
    args[count++] = CLSEQ_ARG(d_in);
    args[count++] = CLSEQ_ARG(off);
    size_t n = (size_t)rows * (size_t)g->H * (size_t)g->W * (size_t)C;
    return clseq_run_1d(dev, vec == 4 ? K_COL2IM4 : K_COL2IM, n, args, count);
}

clseq_status clseq_op_conv_block_sums(clseq_device *dev, cl_mem X, int rows, int cols,
                                      int block_rows, cl_mem partial)
{
    const clseq_arg args[] = {CLSEQ_ARG(X), CLSEQ_ARG(rows), CLSEQ_ARG(cols),
                              CLSEQ_ARG(block_rows), CLSEQ_ARG(partial)};
    size_t blocks = ((size_t)rows + (size_t)block_rows - 1) / (size_t)block_rows;
    return clseq_run_2d(dev, K_CONV_BLOCK_SUMS, (size_t)cols, blocks, args,
                        CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_conv_accumulate(clseq_device *dev, cl_mem dst, int dst_off, cl_mem src,
                                      int src_off, int n)
{
    const clseq_arg args[] = {CLSEQ_ARG(dst), CLSEQ_ARG(dst_off), CLSEQ_ARG(src),
                              CLSEQ_ARG(src_off), CLSEQ_ARG(n)};
    return clseq_run_1d(dev, K_CONV_ACCUMULATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}
