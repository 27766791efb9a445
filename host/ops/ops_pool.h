/* Launches of cl/pool.cl: pooling windows over (H, W, C) samples. The
 * pooling layers' passes (nn/layer_pooling.c, for the global kinds too)
 * fill the geometry; a global pooling is one window the size of the
 * image. */
#ifndef CLSEQ_OPS_POOL_H
#define CLSEQ_OPS_POOL_H

#include "runtime/runtime.h"

/* Samples of H x W x C in, OH x OW x C out; windows of ph x pw cells
 * every sh, sw cells, the first starting pad_top, pad_left cells before
 * the image. Every window must hold at least one cell of the image. */
typedef struct clseq_pool_geometry {
    int H, W, C;
    int OH, OW;
    int ph, pw;
    int sh, sw;
    int pad_top, pad_left;
} clseq_pool_geometry;

/* out = each window's largest value (the first of equals in row-major
 * window order); argmax (rows x OH x OW x C ints) gets its position
 * y W + x in the sample, for the backward pass. */
clseq_status clseq_op_max_pool2d(clseq_device *dev, const clseq_pool_geometry *g, int rows,
                                 cl_mem in, cl_mem out, cl_mem argmax);
/* d_in (every element written) = d_out routed to the positions in argmax:
 * scattered from the outputs where windows do not overlap, else gathered
 * per input cell. */
clseq_status clseq_op_max_pool2d_backward(clseq_device *dev, const clseq_pool_geometry *g,
                                          int rows, cl_mem d_out, cl_mem argmax, cl_mem d_in);
/* out = each window's mean over its cells inside the image. */
clseq_status clseq_op_avg_pool2d(clseq_device *dev, const clseq_pool_geometry *g, int rows,
                                 cl_mem in, cl_mem out);
/* d_in (every element written) = d_out spread evenly over each window's
 * cells inside the image. */
clseq_status clseq_op_avg_pool2d_backward(clseq_device *dev, const clseq_pool_geometry *g,
                                          int rows, cl_mem d_out, cl_mem d_in);

#endif
