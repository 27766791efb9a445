/* Launches of cl/optim.cl's kernels beyond SGD, Adam and RMSprop (those are
 * in ops/ops.h): the other optimizers' updates, weight decay and gradient
 * clipping, for nn/optimizer.c. The kernels' comments give the rules; each
 * function enqueues without waiting. n is the parameter count. */
#ifndef CLSEQ_OPS_OPTIM_H
#define CLSEQ_OPS_OPTIM_H

#include "runtime/runtime.h"

/* The per-step scalars of an update, formed on the host from the step t
 * (nn/optimizer.c): which ones a kernel reads is in its launch's comment. */
typedef struct clseq_opt_scalars {
    float lr, beta1, beta2, rho, epsilon;
    float bc1;                /* Adamax: 1 - beta1^t */
    float bc2;                /* Nadam: 1 - beta2^t */
    float u_t1, d1, c_g, d0;  /* Nadam's momentum cache terms (cl/optim.cl) */
} clseq_opt_scalars;

/* Adagrad over W with accumulator A: lr, epsilon. */
clseq_status clseq_op_adagrad(clseq_device *dev, cl_mem W, cl_mem G, cl_mem A, int n,
                              const clseq_opt_scalars *c);
/* Adadelta over W with accumulated_grad AG and accumulated_delta_var AD:
 * lr, rho, epsilon. */
clseq_status clseq_op_adadelta(clseq_device *dev, cl_mem W, cl_mem G, cl_mem AG, cl_mem AD,
                               int n, const clseq_opt_scalars *c);
/* Adamax over W with momentum M and norm U: lr, bc1, beta1, beta2, epsilon. */
clseq_status clseq_op_adamax(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, cl_mem U, int n,
                             const clseq_opt_scalars *c);
/* Nadam over W with momentum M and velocity V: lr, the cache terms, bc2,
 * beta1, beta2, epsilon. */
clseq_status clseq_op_nadam(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, cl_mem V, int n,
                            const clseq_opt_scalars *c);
/* Lion over W with momentum M: lr, beta1, beta2. */
clseq_status clseq_op_lion(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, int n,
                           const clseq_opt_scalars *c);
/* W -= W * wd * lr. */
clseq_status clseq_op_decay_weights(clseq_device *dev, cl_mem W, int n, float wd, float lr);
/* G clipped elementwise to [-clip, clip]. */
clseq_status clseq_op_clip_values(clseq_device *dev, cl_mem G, int n, float clip);
/* G scaled by L2 norm: per segment (segments pairs of offset, count in seg)
 * as Keras's clipnorm, or with global_norm over all n values as its
 * global_clipnorm (seg is then bound but not read). */
clseq_status clseq_op_clip_by_norm(clseq_device *dev, cl_mem G, cl_mem seg, int segments, int n,
                                   float clip, int global_norm);

#endif
