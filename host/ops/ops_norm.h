/* Launches of cl/dropout.cl and cl/batch_norm.cl, for the Dropout and
 * BatchNormalization layers (nn/layer_dropout.c, nn/layer_batch_norm.c).
 * Each enqueues without waiting. */
#ifndef CLSEQ_OPS_NORM_H
#define CLSEQ_OPS_NORM_H

#include <stdint.h>

#include "runtime/runtime.h"

/* ---- Dropout ------------------------------------------------------------ */

/* Floats of a dropout layer's saved buffer: the forward pass's key and
 * whether it dropped (cl/dropout.cl). */
enum { CLSEQ_DROPOUT_SAVED_FLOATS = 4 };

/* y (n floats) = x with each value dropped with probability rate (0 <
 * rate < 1) and the rest divided by keep_prob = 1 - rate (formed in double
 * from rate's shortest decimal, as Keras does from the Python float), the
 * mask a function of key and the index (active); or y = x, backward then
 * being the identity (not active). Records key and mode in saved. */
clseq_status clseq_op_dropout_forward(clseq_device *dev, cl_mem x, cl_mem y, int n, float rate,
                                      uint64_t key, int active, cl_mem saved);
/* d (n floats) = dL/d(in) from dL/d(out), in place, with the mask of the
 * forward pass that wrote saved. */
clseq_status clseq_op_dropout_backward(clseq_device *dev, cl_mem d, int n, float rate,
                                       cl_mem saved);

/* ---- BatchNormalization --------------------------------------------------- */

/* One batch-normalization pass over positions x channels values (the
 * last axis is the channel). Offsets are floats into params, grads or
 * state; gamma_off / beta_off are -1 for a layer without scale / center
 * (their buffers may then be NULL). */
typedef struct clseq_bn_pass {
    int positions;
    int channels;
    cl_mem params, grads, state;
    int gamma_off, beta_off;
    int mean_off, var_off;        /* moving statistics in state */
    float momentum, epsilon;
    cl_mem saved;                 /* clseq_bn_saved_floats(channels) floats */
    cl_mem scratch;               /* clseq_bn_scratch_floats(positions, channels) floats */
} clseq_bn_pass;

size_t clseq_bn_saved_floats(int channels);
size_t clseq_bn_scratch_floats(int positions, int channels);

/* Training: y = the input normalised by its batch statistics, kept in
 * saved; the moving statistics updated in state (Keras's rule, 1 -
 * momentum formed as for keep_prob above). */
clseq_status clseq_op_bn_forward_train(clseq_device *dev, const clseq_bn_pass *b, cl_mem x,
                                       cl_mem y);
/* Inference: y = the input normalised by the moving statistics. */
clseq_status clseq_op_bn_forward_infer(clseq_device *dev, const clseq_bn_pass *b, cl_mem x,
                                       cl_mem y);
/* Gradients of gamma and beta into grads and, with d_in, dL/dx in place
 * of dL/dy in d; for the kind of forward pass that last wrote saved. */
clseq_status clseq_op_bn_backward(clseq_device *dev, const clseq_bn_pass *b, cl_mem x, cl_mem d,
                                  int d_in);

#endif
