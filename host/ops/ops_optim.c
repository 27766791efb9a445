/* Launches of cl/optim.cl's other optimizers, weight decay and clipping
 * (the kernels' comments say what each computes). */
#include "ops/ops_optim.h"

#include "ops/ops.h"

clseq_status clseq_op_adagrad(clseq_device *dev, cl_mem W, cl_mem G, cl_mem A, int n,
                              const clseq_opt_scalars *c)
{
    const clseq_arg args[] = {CLSEQ_ARG(W), CLSEQ_ARG(G), CLSEQ_ARG(A), CLSEQ_ARG(n),
                              CLSEQ_ARG(c->lr), CLSEQ_ARG(c->epsilon)};
    return clseq_run_1d(dev, K_ADAGRAD_UPDATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_adadelta(clseq_device *dev, cl_mem W, cl_mem G, cl_mem AG, cl_mem AD,
                               int n, const clseq_opt_scalars *c)
{
    const clseq_arg args[] = {CLSEQ_ARG(W),      CLSEQ_ARG(G),      CLSEQ_ARG(AG),
                              CLSEQ_ARG(AD),     CLSEQ_ARG(n),      CLSEQ_ARG(c->lr),
                              CLSEQ_ARG(c->rho), CLSEQ_ARG(c->epsilon)};
    return clseq_run_1d(dev, K_ADADELTA_UPDATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_adamax(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, cl_mem U, int n,
                             const clseq_opt_scalars *c)
{
    const clseq_arg args[] = {CLSEQ_ARG(W),        CLSEQ_ARG(G),        CLSEQ_ARG(M),
                              CLSEQ_ARG(U),        CLSEQ_ARG(n),        CLSEQ_ARG(c->lr),
                              CLSEQ_ARG(c->bc1),   CLSEQ_ARG(c->beta1), CLSEQ_ARG(c->beta2),
                              CLSEQ_ARG(c->epsilon)};
    return clseq_run_1d(dev, K_ADAMAX_UPDATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_nadam(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, cl_mem V, int n,
                            const clseq_opt_scalars *c)
{
    const clseq_arg args[] = {CLSEQ_ARG(W),        CLSEQ_ARG(G),        CLSEQ_ARG(M),
                              CLSEQ_ARG(V),        CLSEQ_ARG(n),        CLSEQ_ARG(c->lr),
                              CLSEQ_ARG(c->u_t1),  CLSEQ_ARG(c->d1),    CLSEQ_ARG(c->c_g),
                              CLSEQ_ARG(c->d0),    CLSEQ_ARG(c->bc2),   CLSEQ_ARG(c->beta1),
                              CLSEQ_ARG(c->beta2), CLSEQ_ARG(c->epsilon)};
    return clseq_run_1d(dev, K_NADAM_UPDATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_lion(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, int n,
                           const clseq_opt_scalars *c)
{
    const clseq_arg args[] = {CLSEQ_ARG(W),        CLSEQ_ARG(G),       CLSEQ_ARG(M),
                              CLSEQ_ARG(n),        CLSEQ_ARG(c->lr),   CLSEQ_ARG(c->beta1),
                              CLSEQ_ARG(c->beta2)};
    return clseq_run_1d(dev, K_LION_UPDATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_decay_weights(clseq_device *dev, cl_mem W, int n, float wd, float lr)
{
    const clseq_arg args[] = {CLSEQ_ARG(W), CLSEQ_ARG(n), CLSEQ_ARG(wd), CLSEQ_ARG(lr)};
    return clseq_run_1d(dev, K_DECAY_WEIGHTS, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_clip_values(clseq_device *dev, cl_mem G, int n, float clip)
{
    const clseq_arg args[] = {CLSEQ_ARG(G), CLSEQ_ARG(n), CLSEQ_ARG(clip)};
    return clseq_run_1d(dev, K_CLIP_VALUES, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_clip_by_norm(clseq_device *dev, cl_mem G, cl_mem seg, int segments, int n,
                                   float clip, int global_norm)
{
    size_t local = clseq_pow2_at_most(dev->kernel_wg[K_CLIP_BY_NORM], 256);
    if (local > dev->max_item[0])
        local = clseq_pow2_at_most(dev->max_item[0], local);
    size_t global = local * (size_t)(global_norm ? 1 : segments);
    const clseq_arg args[] = {CLSEQ_ARG(G),    CLSEQ_ARG(seg),         CLSEQ_ARG(n),
                              CLSEQ_ARG(clip), CLSEQ_ARG(global_norm),
                              CLSEQ_LOCAL_ARG(local * sizeof(float))};
    cl_int err = clseq_bind_args(dev, K_CLIP_BY_NORM, args, CLSEQ_ARG_COUNT(args));
    return clseq_launch_nd(dev, K_CLIP_BY_NORM, 1, &global, &local, err);
}
