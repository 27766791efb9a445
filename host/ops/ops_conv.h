/* Launches of cl/conv.cl: the column matrix of a convolution and its way
 * back. nn/layer_conv2d.c fills the geometry and runs the products. */
#ifndef CLSEQ_OPS_CONV_H
#define CLSEQ_OPS_CONV_H

#include "runtime/runtime.h"

/* Samples of H x W x C in, OH x OW positions out; a kh x kw kernel whose
 * taps are dh, dw cells apart, moved sh, sw cells per position, the first
 * window starting pad_top, pad_left cells before the image (the cells
 * outside it read as zeros). */
typedef struct clseq_conv_geometry {
    int H, W, C;
    int OH, OW;
    int kh, kw;
    int sh, sw;
    int dh, dw;
    int pad_top, pad_left;
} clseq_conv_geometry;

/* cols (rows OH OW x kh kw C, taps in (ky, kx, c) order, c fastest) = the
 * input cells under each position's taps, for rows samples of in starting
 * at float in_off. With C a multiple of 4 the kernels move float4s: then
 * in_off and d_off must be multiples of 4 too (a whole sample's offset
 * is). */
clseq_status clseq_op_im2col(clseq_device *dev, const clseq_conv_geometry *g, cl_mem in,
                             int in_off, int rows, cl_mem cols);
/* d_in from float d_off on (rows samples, every element written) = for
 * each input cell, the sum of the entries of d_cols (laid out as im2col's
 * cols) that im2col copies from it. */
clseq_status clseq_op_col2im(clseq_device *dev, const clseq_conv_geometry *g, cl_mem d_cols,
                             int rows, cl_mem d_in, int d_off);
/* partial[b, c] = the sum of X[r, c] (rows x cols) over block b's rows
 * [b block_rows, (b + 1) block_rows): ceil(rows / block_rows) x cols
 * partial sums, a tall column sum made short. */
clseq_status clseq_op_conv_block_sums(clseq_device *dev, cl_mem X, int rows, int cols,
                                      int block_rows, cl_mem partial);
/* dst[dst_off + i] += src[src_off + i] for i < n. */
clseq_status clseq_op_conv_accumulate(clseq_device *dev, cl_mem dst, int dst_off, cl_mem src,
                                      int src_off, int n);

#endif
