/* Kernel launches: one function per device operation. Callers have checked
 * shapes; these set arguments, pick work sizes from kernel queries, pad the
 * global size and enqueue without waiting. */
#ifndef CLSEQ_OPS_H
#define CLSEQ_OPS_H

#include "codes.h"
#include "runtime/runtime.h"

/* One kernel argument: its size and where its value lies, or with a NULL
 * value, size bytes of local memory. Listed in an array in the kernel's
 * order, the arguments of a launch through clseq_run_1d / clseq_run_2d:
 *     const clseq_arg args[] = {CLSEQ_ARG(x), CLSEQ_ARG(n)};
 *     return clseq_run_1d(dev, K_ACTIVATE, (size_t)n, args, CLSEQ_ARG_COUNT(args)); */
typedef struct clseq_arg {
    size_t size;
    const void *value;
} clseq_arg;
#define CLSEQ_ARG(lvalue) ((clseq_arg){sizeof(lvalue), &(lvalue)})
#define CLSEQ_LOCAL_ARG(bytes) ((clseq_arg){(bytes), NULL})
#define CLSEQ_ARG_COUNT(args) (sizeof(args) / sizeof((args)[0]))

/* Binds args[0..count) to kernel id's arguments 0..count-1: CL_SUCCESS or
 * the first failure, for a launch to report (the bind_err below). */
cl_int clseq_bind_args(clseq_device *dev, clseq_kernel_id id, const clseq_arg *args,
                       size_t count);
/* Binds args and launches as clseq_launch_1d / clseq_launch_2d do: what
 * nearly every operation is. */
clseq_status clseq_run_1d(clseq_device *dev, clseq_kernel_id id, size_t n, const clseq_arg *args,
                          size_t count);
clseq_status clseq_run_2d(clseq_device *dev, clseq_kernel_id id, size_t cols, size_t rows,
                          const clseq_arg *args, size_t count);

/* Binds one kernel argument; the first failure is kept in *err for the
 * launch to report (for code that binds argument by argument: the fused
 * trainer's launch, nn/fused.c). */
#define CLSEQ_BIND(kernel, index, value, err)                                          \
    do {                                                                               \
        cl_int bind_err_ = clSetKernelArg((kernel), (index), sizeof(value), &(value)); \
        if (bind_err_ != CL_SUCCESS && *(err) == CL_SUCCESS)                           \
            *(err) = bind_err_;                                                        \
    } while (0)

/* Launches kernel id (its arguments bound; bind_err from clseq_bind_args
 * or CLSEQ_BIND) over n work-items, or over a (cols, rows) grid, with a
 * work-group size the kernel allows and the global size padded up to it:
 * kernels guard their edges. Every ops file launches through these. */
clseq_status clseq_launch_1d(clseq_device *dev, clseq_kernel_id id, size_t n, cl_int bind_err);
clseq_status clseq_launch_2d(clseq_device *dev, clseq_kernel_id id, size_t cols, size_t rows,
                             cl_int bind_err);
/* Launches over dims (1 to 3) global sizes in local groups the caller
 * chose (global a multiple of local), for kernels with their own group
 * shapes. */
clseq_status clseq_launch_nd(clseq_device *dev, clseq_kernel_id id, cl_uint dims,
                             const size_t *global, const size_t *local, cl_int bind_err);
/* The largest power of two <= limit and <= cap: work-group sizes. */
size_t clseq_pow2_at_most(size_t limit, size_t cap);

/* A matrix inside a buffer: element offset and leading dimension. */
typedef struct clseq_mat {
    cl_mem buf;
    int off;
    int ld;
} clseq_mat;

/* C[M,N] = act(op(A) op(B) + bias) where op transposes when trans_a/trans_b
 * (at most one of them). bias.buf NULL means no bias; act is not softmax. */
clseq_status clseq_op_gemm(clseq_device *dev, int trans_a, int trans_b, int M, int N, int K,
                           clseq_mat A, clseq_mat B, clseq_mat C, clseq_mat bias,
                           clseq_activation act);
/* Y[i] = act(X[i]) for i < n (act is not softmax). */
clseq_status clseq_op_activate(clseq_device *dev, cl_mem X, cl_mem Y, int n, clseq_activation act);
/* D[i] *= act'(A[i]) for i < n, from the outputs A and, where act needs
 * them (ACT_NEEDS_INPUT), the inputs Z (else Z may be NULL). */
clseq_status clseq_op_activation_backward(clseq_device *dev, cl_mem D, cl_mem A, cl_mem Z, int n,
                                          clseq_activation act);
/* Y = row softmax of X (rows x cols); Y may be X. */
clseq_status clseq_op_softmax(clseq_device *dev, cl_mem X, cl_mem Y, int rows, int cols);
/* D = dL/dZ from D = dL/dP through a softmax with outputs P. */
clseq_status clseq_op_softmax_backward(clseq_device *dev, cl_mem D, cl_mem P, int rows, int cols);
/* Y = row log_softmax of X; D = dL/dX from D = dL/dY given its outputs Y. */
clseq_status clseq_op_log_softmax(clseq_device *dev, cl_mem X, cl_mem Y, int rows, int cols);
clseq_status clseq_op_log_softmax_backward(clseq_device *dev, cl_mem D, cl_mem Y, int rows,
                                           int cols);
/* dst[r, :] = src[perm[start + r], :] */
clseq_status clseq_op_gather_rows(clseq_device *dev, cl_mem src, cl_mem perm, int start, int rows,
                                  int cols, cl_mem dst);
/* Y[i] += X[i] for i < n. */
clseq_status clseq_op_add_into(clseq_device *dev, cl_mem Y, cl_mem X, int n);
/* out[out_off + c] = column sums of X (rows x cols); with accumulate, added
 * to it with Kahan compensation kept in out[out_off + cols + c] (zero both
 * before the first add). */
clseq_status clseq_op_sum_columns(clseq_device *dev, cl_mem X, int rows, int cols, cl_mem out,
                                  int out_off, int accumulate);
/* Keras's L1L2 regularizer on W[w_off .. w_off + n): out[off] += scale
 * (l1 sum|w| + l2 sum w^2), Kahan-compensated in out[comp]. */
clseq_status clseq_op_regularizer_penalty(clseq_device *dev, cl_mem W, int w_off, int n,
                                          float l1, float l2, float scale, cl_mem out, int off,
                                          int comp);
/* Its gradient added: G[off + i] += l1 sign(w) + 2 l2 w. */
clseq_status clseq_op_regularizer_grads(clseq_device *dev, cl_mem W, cl_mem G, int off, int n,
                                        float l1, float l2);
/* out[r] = arg-max of row r (ints). */
clseq_status clseq_op_argmax_rows(clseq_device *dev, cl_mem X, int rows, int cols, cl_mem out);


/* What loss_rows computes besides the loss (cl/loss.cl, metric_args). */
typedef struct clseq_metric_args {
    int acc_kind;    /* ACC_* */
    float threshold; /* binary_accuracy, precision, recall */
    int top_k;       /* k of the top-k accuracies */
} clseq_metric_args;

/* Per-row loss and metrics into stats (rows x STATS_PER_ROW) and, if D is
 * not NULL, the starting gradient scaled by grad_scale; with W (not NULL)
 * each row's stats and gradient also by its sample weight W[r]. Z (or
 * NULL): the logits of P, for the cross-entropies' loss. */
clseq_status clseq_op_loss_rows(clseq_device *dev, cl_mem P, cl_mem Z, cl_mem Y, int rows,
                                int cols, clseq_loss loss, const clseq_metric_args *metric,
                                float grad_scale, cl_mem D, cl_mem stats, cl_mem W);
/* AUC's confusion histogram of rows x cols outputs P against targets Y
 * added into acc from acc_off (4 * AUC_THRESHOLDS floats: positives,
 * negatives, their compensations). */
clseq_status clseq_op_auc_buckets(clseq_device *dev, cl_mem P, cl_mem Y, int rows, int cols,
                                  cl_mem acc, int acc_off);

clseq_status clseq_op_sgd(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, int n, float lr,
                          float momentum, int nesterov);
clseq_status clseq_op_adam(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, cl_mem V, int n,
                           float alpha, float beta1, float beta2, float epsilon);
clseq_status clseq_op_rmsprop(clseq_device *dev, cl_mem W, cl_mem G, cl_mem V, int n, float lr,
                              float rho, float epsilon);

#endif
