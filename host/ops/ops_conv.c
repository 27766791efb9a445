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

/* The geometry's ints, arguments first .. first + 12 of both kernels, with
 * C counted in elements of vec floats. */
static void bind_geometry(cl_kernel k, cl_uint first, const clseq_conv_geometry *g, int vec,
                          cl_int *err)
{
    const int v[13] = {g->H,  g->W,  g->C / vec, g->OH, g->OW,      g->kh,      g->kw,
                       g->sh, g->sw, g->dh,      g->dw, g->pad_top, g->pad_left};
    for (cl_uint i = 0; i < 13; i++)
        CLSEQ_BIND(k, first + i, v[i], err);
}

clseq_status clseq_op_im2col(clseq_device *dev, const clseq_conv_geometry *g, cl_mem in,
                             int in_off, int rows, cl_mem cols)
{
    int vec = vector_width(g), C = g->C / vec, K = g->kh * g->kw * C, off = in_off / vec;
    clseq_kernel_id id = vec == 4 ? K_IM2COL4 : K_IM2COL;
    cl_kernel k = dev->kernels[id];
    cl_int err = CL_SUCCESS;
    const cl_uint2 divs[5] = {divisor(K), divisor(C), divisor(g->kw), divisor(g->OW),
                              divisor(g->OH)};
    CLSEQ_BIND(k, 0, in, &err);
    CLSEQ_BIND(k, 1, off, &err);
    CLSEQ_BIND(k, 2, rows, &err);
    bind_geometry(k, 3, g, vec, &err);
    for (cl_uint i = 0; i < 5; i++)
        CLSEQ_BIND(k, 16 + i, divs[i], &err);
    CLSEQ_BIND(k, 21, cols, &err);
    size_t n = (size_t)rows * (size_t)g->OH * (size_t)g->OW * (size_t)K;
    return clseq_launch_1d(dev, id, n, err);
}

clseq_status clseq_op_col2im(clseq_device *dev, const clseq_conv_geometry *g, cl_mem d_cols,
                             int rows, cl_mem d_in, int d_off)
{
    int vec = vector_width(g), C = g->C / vec, off = d_off / vec;
    clseq_kernel_id id = vec == 4 ? K_COL2IM4 : K_COL2IM;
    cl_kernel k = dev->kernels[id];
    cl_int err = CL_SUCCESS;
    const cl_uint2 divs[5] = {divisor(C), divisor(g->W), divisor(g->H), divisor(g->sh),
                              divisor(g->sw)};
    CLSEQ_BIND(k, 0, d_cols, &err);
    CLSEQ_BIND(k, 1, rows, &err);
    bind_geometry(k, 2, g, vec, &err);
    for (cl_uint i = 0; i < 5; i++)
        CLSEQ_BIND(k, 15 + i, divs[i], &err);
    CLSEQ_BIND(k, 20, d_in, &err);
    CLSEQ_BIND(k, 21, off, &err);
    size_t n = (size_t)rows * (size_t)g->H * (size_t)g->W * (size_t)C;
    return clseq_launch_1d(dev, id, n, err);
}

clseq_status clseq_op_conv_block_sums(clseq_device *dev, cl_mem X, int rows, int cols,
                                      int block_rows, cl_mem partial)
{
    cl_kernel k = dev->kernels[K_CONV_BLOCK_SUMS];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, X, &err);
    CLSEQ_BIND(k, 1, rows, &err);
    CLSEQ_BIND(k, 2, cols, &err);
    CLSEQ_BIND(k, 3, block_rows, &err);
    CLSEQ_BIND(k, 4, partial, &err);
    size_t blocks = ((size_t)rows + (size_t)block_rows - 1) / (size_t)block_rows;
    return clseq_launch_2d(dev, K_CONV_BLOCK_SUMS, (size_t)cols, blocks, err);
}

clseq_status clseq_op_conv_accumulate(clseq_device *dev, cl_mem dst, int dst_off, cl_mem src,
                                      int src_off, int n)
{
    cl_kernel k = dev->kernels[K_CONV_ACCUMULATE];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, dst, &err);
    CLSEQ_BIND(k, 1, dst_off, &err);
    CLSEQ_BIND(k, 2, src, &err);
    CLSEQ_BIND(k, 3, src_off, &err);
    CLSEQ_BIND(k, 4, n, &err);
    return clseq_launch_1d(dev, K_CONV_ACCUMULATE, (size_t)n, err);
}
