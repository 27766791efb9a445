/* Kernel launches. Work-group sizes come from CL_KERNEL_WORK_GROUP_SIZE
 * (queried once per context); global sizes are padded up to them and the
 * kernels guard their edges. */
#include "ops/ops.h"
#include <stdlib.h>

#include "runtime/gemm_provider.h"


static size_t round_up(size_t n, size_t multiple)
{
    return (n + multiple - 1) / multiple * multiple;
}

/* The largest power of two <= limit (and <= cap). */
static size_t power_of_two_at_most(size_t limit, size_t cap)
{
    size_t p = 1;
    while (p * 2 <= limit && p * 2 <= cap)
        p *= 2;
    return p;
}

static clseq_status enqueue(clseq_device *dev, clseq_kernel_id id, cl_uint dims,
                            const size_t *global, const size_t *local, cl_int bind_err)
{
    if (bind_err != CL_SUCCESS)
        return clseq_cl_fail(bind_err, "clSetKernelArg");
    return clseq_cl_check(clEnqueueNDRangeKernel(dev->queue, dev->kernels[id], dims, NULL,
                                                 global, local, 0, NULL, NULL),
                          "clEnqueueNDRangeKernel");
}

clseq_status clseq_launch_1d(clseq_device *dev, clseq_kernel_id id, size_t n, cl_int bind_err)
{
    size_t local = power_of_two_at_most(dev->kernel_wg[id], 256);
    if (local > dev->max_item[0])
        local = power_of_two_at_most(dev->max_item[0], local);
    size_t global = round_up(n ? n : 1, local);
    return enqueue(dev, id, 1, &global, &local, bind_err);
}

/* 2-D launch over (cols, rows) with a square-ish group the kernel allows. */
clseq_status clseq_launch_2d(clseq_device *dev, clseq_kernel_id id, size_t cols, size_t rows,
                              cl_int bind_err)
{
    size_t budget = power_of_two_at_most(dev->kernel_wg[id], 256);
    size_t lx = power_of_two_at_most(budget, 16);
    if (lx > dev->max_item[0])
        lx = power_of_two_at_most(dev->max_item[0], lx);
    size_t ly = power_of_two_at_most(budget / lx, 16);
    if (ly > dev->max_item[1])
        ly = power_of_two_at_most(dev->max_item[1], ly);
    size_t local[2] = {lx, ly};
    size_t global[2] = {round_up(cols ? cols : 1, lx), round_up(rows ? rows : 1, ly)};
    return enqueue(dev, id, 2, global, local, bind_err);
}

/* Products this small run faster one element per work-item than through
 * 64x64 tiles that would be mostly padding. */
static int use_blocked_gemm(const clseq_device *dev, int M, int N, int K)
{
    if (dev->cpu_gemm)
        return (double)M * N * K >= 32.0 * 32.0 * 32.0;
    return dev->blocked_gemm_ok && (double)M * N * K >= 64.0 * 64.0 * 64.0 &&
           M >= dev->tiles.tm / 2 && N >= dev->tiles.tn / 2;
}

/* Whether a CPU product packs its operands first (measured on PoCL,
 * AVX-512): from about 1300^3 the unpacked kernels' strided walks over B
 * cost more than the copies (2048^3: 97 against 178 GFLOP/s), and the nt
 * form with short k (a layer of few units) would be mostly scalar tail. */
static int pack_operands(const clseq_device *dev, int trans_b, int M, int N, int K)
{
    if (dev->gemm_packed != 1)
        return dev->gemm_packed == 2;
    return (double)M * N * K >= 2147483648.0 || (trans_b && K < 32);
}

/* Register-blocked CPU kernels: (row blocks, column panels) per form,
 * with a group of consecutive row blocks sharing one panel of B. */
static clseq_status launch_cpu_gemm(clseq_device *dev, clseq_kernel_id id, int M, int N,
                                    cl_int bind_err)
{
    int dots = id == K_GEMM_CPU_NT;
    size_t row_block = dots ? CPU_NT_BLOCK : CPU_RM;
    size_t col_block = dots ? CPU_NT_BLOCK : CPU_CN;
    size_t rows = ((size_t)M + row_block - 1) / row_block;
    size_t cols = ((size_t)N + col_block - 1) / col_block;
    size_t local[2] = {power_of_two_at_most(dev->kernel_wg[id], 8), 1};
    if (local[0] > dev->max_item[0])
        local[0] = power_of_two_at_most(dev->max_item[0], local[0]);
    size_t global[2] = {round_up(rows, local[0]), cols};
    return enqueue(dev, id, 2, global, local, bind_err);
}

/* CLBlast's product, then the bias and activation it cannot fuse. */
static clseq_status clblast_gemm(clseq_device *dev, int trans_a, int trans_b, int M, int N, int K,
                                 clseq_mat A, clseq_mat B, clseq_mat C, clseq_mat bias,
                                 clseq_activation act)
{
    clseq_status s = clseq_clblast_gemm(dev, trans_a, trans_b, M, N, K, A.buf, A.off, A.ld, B.buf,
                                        B.off, B.ld, C.buf, C.off, C.ld);
    if (s != CLSEQ_OK || (!bias.buf && act == CLSEQ_LINEAR))
        return s;
    cl_kernel k = dev->kernels[K_BIAS_ACTIVATE];
    cl_int err = CL_SUCCESS;
    int has_bias = bias.buf != NULL, act_code = (int)act;
    cl_mem bias_buf = has_bias ? bias.buf : C.buf;
    CLSEQ_BIND(k, 0, C.buf, &err);
    CLSEQ_BIND(k, 1, C.off, &err);
    CLSEQ_BIND(k, 2, C.ld, &err);
    CLSEQ_BIND(k, 3, M, &err);
    CLSEQ_BIND(k, 4, N, &err);
    CLSEQ_BIND(k, 5, bias_buf, &err);
    CLSEQ_BIND(k, 6, bias.off, &err);
    CLSEQ_BIND(k, 7, has_bias, &err);
    CLSEQ_BIND(k, 8, act_code, &err);
    return clseq_launch_2d(dev, K_BIAS_ACTIVATE, (size_t)N, (size_t)M, err);
}

/* dev->pack[which] with room for bytes. */
static clseq_status pack_buffer(clseq_device *dev, int which, size_t bytes)
{
    if (dev->pack_bytes[which] >= bytes)
        return CLSEQ_OK;
    clseq_buffer_release(&dev->pack[which]);
    dev->pack_bytes[which] = 0;
    clseq_status s = clseq_buffer_create(dev, bytes, &dev->pack[which]);
    if (s == CLSEQ_OK)
        dev->pack_bytes[which] = bytes;
    return s;
}

/* Packs op(A) and op(B) (gemm_cpu.cl) and runs the packed micro-kernel. */
static clseq_status packed_gemm(clseq_device *dev, int trans_a, int trans_b, int M, int N, int K,
                                clseq_mat A, clseq_mat B, clseq_mat C, clseq_mat bias,
                                clseq_activation act)
{
    size_t blocks = ((size_t)M + CPU_RM - 1) / CPU_RM;
    size_t panels = ((size_t)N + CPU_CN - 1) / CPU_CN;
    clseq_status s = pack_buffer(dev, 0, blocks * CPU_RM * (size_t)K * sizeof(float));
    if (s == CLSEQ_OK)
        s = pack_buffer(dev, 1, panels * CPU_CN * (size_t)K * sizeof(float));
    if (s != CLSEQ_OK)
        return s;
    cl_int err = CL_SUCCESS;
    cl_kernel k = dev->kernels[K_PACK_A];
    CLSEQ_BIND(k, 0, A.buf, &err);
    CLSEQ_BIND(k, 1, A.off, &err);
    CLSEQ_BIND(k, 2, A.ld, &err);
    CLSEQ_BIND(k, 3, trans_a, &err);
    CLSEQ_BIND(k, 4, M, &err);
    CLSEQ_BIND(k, 5, K, &err);
    CLSEQ_BIND(k, 6, dev->pack[0], &err);
    if ((s = clseq_launch_2d(dev, K_PACK_A, (size_t)K, blocks, err)) != CLSEQ_OK)
        return s;
    k = dev->kernels[K_PACK_B];
    CLSEQ_BIND(k, 0, B.buf, &err);
    CLSEQ_BIND(k, 1, B.off, &err);
    CLSEQ_BIND(k, 2, B.ld, &err);
    CLSEQ_BIND(k, 3, trans_b, &err);
    CLSEQ_BIND(k, 4, K, &err);
    CLSEQ_BIND(k, 5, N, &err);
    CLSEQ_BIND(k, 6, dev->pack[1], &err);
    if ((s = clseq_launch_2d(dev, K_PACK_B, panels * CPU_CN, (size_t)K, err)) != CLSEQ_OK)
        return s;
    k = dev->kernels[K_GEMM_CPU_PACKED];
    int has_bias = bias.buf != NULL, act_code = (int)act;
    cl_mem bias_buf = has_bias ? bias.buf : C.buf;
    CLSEQ_BIND(k, 0, M, &err);
    CLSEQ_BIND(k, 1, N, &err);
    CLSEQ_BIND(k, 2, K, &err);
    CLSEQ_BIND(k, 3, dev->pack[0], &err);
    CLSEQ_BIND(k, 4, dev->pack[1], &err);
    CLSEQ_BIND(k, 5, C.buf, &err);
    CLSEQ_BIND(k, 6, C.off, &err);
    CLSEQ_BIND(k, 7, C.ld, &err);
    CLSEQ_BIND(k, 8, bias_buf, &err);
    CLSEQ_BIND(k, 9, bias.off, &err);
    CLSEQ_BIND(k, 10, has_bias, &err);
    CLSEQ_BIND(k, 11, act_code, &err);
    size_t local[2] = {power_of_two_at_most(dev->kernel_wg[K_GEMM_CPU_PACKED], 8), 1};
    size_t global[2] = {round_up(blocks, local[0]), panels};
    return enqueue(dev, K_GEMM_CPU_PACKED, 2, global, local, err);
}

clseq_status clseq_op_gemm(clseq_device *dev, int trans_a, int trans_b, int M, int N, int K,
                           clseq_mat A, clseq_mat B, clseq_mat C, clseq_mat bias,
                           clseq_activation act)
{
    if (dev->cpu_gemm && !dev->gemm_clblast && use_blocked_gemm(dev, M, N, K) &&
        pack_operands(dev, trans_b, M, N, K))
        return packed_gemm(dev, trans_a, trans_b, M, N, K, A, B, C, bias, act);
    int blocked = use_blocked_gemm(dev, M, N, K);
    int form = trans_a ? 1 : trans_b ? 2 : 0;
    static const clseq_kernel_id small[3] = {K_GEMM_SMALL_NN, K_GEMM_SMALL_TN, K_GEMM_SMALL_NT};
    static const clseq_kernel_id tiled[3] = {K_GEMM_NN, K_GEMM_TN, K_GEMM_NT};
    static const clseq_kernel_id cpu[3] = {K_GEMM_CPU_NN, K_GEMM_CPU_TN, K_GEMM_CPU_NT};
    clseq_kernel_id id = !blocked ? small[form] : dev->cpu_gemm ? cpu[form] : tiled[form];
    cl_kernel k = dev->kernels[id];
    cl_int err = CL_SUCCESS;
    int has_bias = bias.buf != NULL;
    cl_mem bias_buf = has_bias ? bias.buf : C.buf; /* never read when has_bias is 0 */
    int act_code = (int)act;
    CLSEQ_BIND(k, 0, M, &err);
    CLSEQ_BIND(k, 1, N, &err);
    CLSEQ_BIND(k, 2, K, &err);
    CLSEQ_BIND(k, 3, A.buf, &err);
    CLSEQ_BIND(k, 4, A.off, &err);
    CLSEQ_BIND(k, 5, A.ld, &err);
    CLSEQ_BIND(k, 6, B.buf, &err);
    CLSEQ_BIND(k, 7, B.off, &err);
    CLSEQ_BIND(k, 8, B.ld, &err);
    CLSEQ_BIND(k, 9, C.buf, &err);
    CLSEQ_BIND(k, 10, C.off, &err);
    CLSEQ_BIND(k, 11, C.ld, &err);
    CLSEQ_BIND(k, 12, bias_buf, &err);
    CLSEQ_BIND(k, 13, bias.off, &err);
    CLSEQ_BIND(k, 14, has_bias, &err);
    CLSEQ_BIND(k, 15, act_code, &err);
    if (!blocked)
        return clseq_launch_2d(dev, id, (size_t)N, (size_t)M, err);
    if (dev->gemm_clblast)
        return clblast_gemm(dev, trans_a, trans_b, M, N, K, A, B, C, bias, act);
    if (dev->cpu_gemm)
        return launch_cpu_gemm(dev, id, M, N, err);
    size_t local[2] = {(size_t)(dev->tiles.tn / dev->tiles.wn), (size_t)(dev->tiles.tm / dev->tiles.wm)};
    size_t global[2] = {round_up((size_t)N, (size_t)dev->tiles.tn) / dev->tiles.wn,
                        round_up((size_t)M, (size_t)dev->tiles.tm) / dev->tiles.wm};
    return enqueue(dev, id, 2, global, local, err);
}

clseq_status clseq_op_activate(clseq_device *dev, cl_mem X, cl_mem Y, int n, clseq_activation act)
{
    cl_kernel k = dev->kernels[K_ACTIVATE];
    cl_int err = CL_SUCCESS;
    int act_code = (int)act;
    CLSEQ_BIND(k, 0, X, &err);
    CLSEQ_BIND(k, 1, Y, &err);
    CLSEQ_BIND(k, 2, n, &err);
    CLSEQ_BIND(k, 3, act_code, &err);
    return clseq_launch_1d(dev, K_ACTIVATE, (size_t)n, err);
}

clseq_status clseq_op_activation_backward(clseq_device *dev, cl_mem D, cl_mem A, cl_mem Z, int n,
                                          clseq_activation act)
{
    cl_kernel k = dev->kernels[K_ACTIVATION_BACKWARD];
    cl_int err = CL_SUCCESS;
    int act_code = (int)act;
    cl_mem z = Z ? Z : A; /* read only for ACT_NEEDS_INPUT activations */
    CLSEQ_BIND(k, 0, D, &err);
    CLSEQ_BIND(k, 1, A, &err);
    CLSEQ_BIND(k, 2, z, &err);
    CLSEQ_BIND(k, 3, n, &err);
    CLSEQ_BIND(k, 4, act_code, &err);
    return clseq_launch_1d(dev, K_ACTIVATION_BACKWARD, (size_t)n, err);
}

/* Shared by the two row kernels of softmax.cl: (X or D, Y or P, rows, cols). */
static clseq_status launch_rows(clseq_device *dev, clseq_kernel_id id, cl_mem first, cl_mem second,
                                int rows, int cols)
{
    cl_kernel k = dev->kernels[id];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, first, &err);
    CLSEQ_BIND(k, 1, second, &err);
    CLSEQ_BIND(k, 2, rows, &err);
    CLSEQ_BIND(k, 3, cols, &err);
    return clseq_launch_1d(dev, id, (size_t)rows, err);
}

clseq_status clseq_op_softmax(clseq_device *dev, cl_mem X, cl_mem Y, int rows, int cols)
{
    return launch_rows(dev, K_SOFTMAX_ROWS, X, Y, rows, cols);
}

clseq_status clseq_op_softmax_backward(clseq_device *dev, cl_mem D, cl_mem P, int rows, int cols)
{
    return launch_rows(dev, K_SOFTMAX_BACKWARD, D, P, rows, cols);
}

clseq_status clseq_op_log_softmax(clseq_device *dev, cl_mem X, cl_mem Y, int rows, int cols)
{
    return launch_rows(dev, K_LOG_SOFTMAX_ROWS, X, Y, rows, cols);
}

clseq_status clseq_op_log_softmax_backward(clseq_device *dev, cl_mem D, cl_mem Y, int rows,
                                           int cols)
{
    return launch_rows(dev, K_LOG_SOFTMAX_BACKWARD, D, Y, rows, cols);
}

clseq_status clseq_op_gather_rows(clseq_device *dev, cl_mem src, cl_mem perm, int start, int rows,
                                  int cols, cl_mem dst)
{
    cl_kernel k = dev->kernels[K_GATHER_ROWS];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, src, &err);
    CLSEQ_BIND(k, 1, perm, &err);
    CLSEQ_BIND(k, 2, start, &err);
    CLSEQ_BIND(k, 3, rows, &err);
    CLSEQ_BIND(k, 4, cols, &err);
    CLSEQ_BIND(k, 5, dst, &err);
    return clseq_launch_2d(dev, K_GATHER_ROWS, (size_t)cols, (size_t)rows, err);
}

clseq_status clseq_op_sum_columns(clseq_device *dev, cl_mem X, int rows, int cols, cl_mem out,
                                  int out_off, int accumulate)
{
    cl_kernel k = dev->kernels[K_SUM_COLUMNS];
    cl_int err = CL_SUCCESS;
    size_t local = power_of_two_at_most(dev->kernel_wg[K_SUM_COLUMNS], 256);
    if (local > dev->max_item[0])
        local = power_of_two_at_most(dev->max_item[0], local);
    /* No more work-items than rows: the rest would add empty partial sums. */
    while (local > 1 && local / 2 >= (size_t)rows)
        local /= 2;
    size_t global = local * (size_t)cols;
    CLSEQ_BIND(k, 0, X, &err);
    CLSEQ_BIND(k, 1, rows, &err);
    CLSEQ_BIND(k, 2, cols, &err);
    CLSEQ_BIND(k, 3, out, &err);
    CLSEQ_BIND(k, 4, out_off, &err);
    CLSEQ_BIND(k, 5, accumulate, &err);
    cl_int local_err = clSetKernelArg(k, 6, local * sizeof(float), NULL);
    if (err == CL_SUCCESS)
        err = local_err;
    return enqueue(dev, K_SUM_COLUMNS, 1, &global, &local, err);
}

clseq_status clseq_op_argmax_rows(clseq_device *dev, cl_mem X, int rows, int cols, cl_mem out)
{
    cl_kernel k = dev->kernels[K_ARGMAX_ROWS];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, X, &err);
    CLSEQ_BIND(k, 1, rows, &err);
    CLSEQ_BIND(k, 2, cols, &err);
    CLSEQ_BIND(k, 3, out, &err);
    return clseq_launch_1d(dev, K_ARGMAX_ROWS, (size_t)rows, err);
}

clseq_status clseq_op_loss_rows(clseq_device *dev, cl_mem P, cl_mem Y, int rows, int cols,
                                clseq_loss loss, int acc_kind, float grad_scale, cl_mem D,
                                cl_mem stats)
{
    cl_kernel k = dev->kernels[K_LOSS_ROWS];
    cl_int err = CL_SUCCESS;
    int loss_code = (int)loss;
    int want_grad = D != NULL;
    cl_mem grad_buf = want_grad ? D : stats; /* never written when want_grad is 0 */
    CLSEQ_BIND(k, 0, P, &err);
    CLSEQ_BIND(k, 1, Y, &err);
    CLSEQ_BIND(k, 2, rows, &err);
    CLSEQ_BIND(k, 3, cols, &err);
    CLSEQ_BIND(k, 4, loss_code, &err);
    CLSEQ_BIND(k, 5, acc_kind, &err);
    CLSEQ_BIND(k, 6, grad_scale, &err);
    CLSEQ_BIND(k, 7, want_grad, &err);
    CLSEQ_BIND(k, 8, grad_buf, &err);
    CLSEQ_BIND(k, 9, stats, &err);
    return clseq_launch_1d(dev, K_LOSS_ROWS, (size_t)rows, err);
}

clseq_status clseq_op_sgd(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, int n, float lr,
                          float momentum, int nesterov)
{
    cl_kernel k = dev->kernels[K_SGD_UPDATE];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, W, &err);
    CLSEQ_BIND(k, 1, G, &err);
    CLSEQ_BIND(k, 2, M, &err);
    CLSEQ_BIND(k, 3, n, &err);
    CLSEQ_BIND(k, 4, lr, &err);
    CLSEQ_BIND(k, 5, momentum, &err);
    CLSEQ_BIND(k, 6, nesterov, &err);
    return clseq_launch_1d(dev, K_SGD_UPDATE, (size_t)n, err);
}

clseq_status clseq_op_adam(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, cl_mem V, int n,
                           float alpha, float beta1, float beta2, float epsilon)
{
    cl_kernel k = dev->kernels[K_ADAM_UPDATE];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, W, &err);
    CLSEQ_BIND(k, 1, G, &err);
    CLSEQ_BIND(k, 2, M, &err);
    CLSEQ_BIND(k, 3, V, &err);
    CLSEQ_BIND(k, 4, n, &err);
    CLSEQ_BIND(k, 5, alpha, &err);
    CLSEQ_BIND(k, 6, beta1, &err);
    CLSEQ_BIND(k, 7, beta2, &err);
    CLSEQ_BIND(k, 8, epsilon, &err);
    return clseq_launch_1d(dev, K_ADAM_UPDATE, (size_t)n, err);
}

clseq_status clseq_op_rmsprop(clseq_device *dev, cl_mem W, cl_mem G, cl_mem V, int n, float lr,
                              float rho, float epsilon)
{
    cl_kernel k = dev->kernels[K_RMSPROP_UPDATE];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, W, &err);
    CLSEQ_BIND(k, 1, G, &err);
    CLSEQ_BIND(k, 2, V, &err);
    CLSEQ_BIND(k, 3, n, &err);
    CLSEQ_BIND(k, 4, lr, &err);
    CLSEQ_BIND(k, 5, rho, &err);
    CLSEQ_BIND(k, 6, epsilon, &err);
    return clseq_launch_1d(dev, K_RMSPROP_UPDATE, (size_t)n, err);
}
