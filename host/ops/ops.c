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

size_t clseq_pow2_at_most(size_t limit, size_t cap)
{
    size_t p = 1;
    while (p * 2 <= limit && p * 2 <= cap)
        p *= 2;
    return p;
}

clseq_status clseq_launch_nd(clseq_device *dev, clseq_kernel_id id, cl_uint dims,
                             const size_t *global, const size_t *local, cl_int bind_err)
{
    if (bind_err != CL_SUCCESS)
        return clseq_cl_fail(bind_err, "clSetKernelArg");
    if (clseq_fault_due(dev))
        return clseq_fault_fail(dev, CLSEQ_E_CL, "clEnqueueNDRangeKernel");
    return clseq_cl_check(clEnqueueNDRangeKernel(dev->queue, dev->kernels[id], dims, NULL,
                                                 global, local, 0, NULL, NULL),
                          "clEnqueueNDRangeKernel");
}

clseq_status clseq_launch_1d(clseq_device *dev, clseq_kernel_id id, size_t n, cl_int bind_err)
{
    size_t local = clseq_pow2_at_most(dev->kernel_wg[id], 256);
    if (local > dev->max_item[0])
        local = clseq_pow2_at_most(dev->max_item[0], local);
    size_t global = round_up(n ? n : 1, local);
    return clseq_launch_nd(dev, id, 1, &global, &local, bind_err);
}

/* 2-D launch over (cols, rows) with a square-ish group the kernel allows. */
clseq_status clseq_launch_2d(clseq_device *dev, clseq_kernel_id id, size_t cols, size_t rows,
                              cl_int bind_err)
{
    size_t budget = clseq_pow2_at_most(dev->kernel_wg[id], 256);
    size_t lx = clseq_pow2_at_most(budget, 16);
    if (lx > dev->max_item[0])
        lx = clseq_pow2_at_most(dev->max_item[0], lx);
    size_t ly = clseq_pow2_at_most(budget / lx, 16);
    if (ly > dev->max_item[1])
        ly = clseq_pow2_at_most(dev->max_item[1], ly);
    size_t local[2] = {lx, ly};
    size_t global[2] = {round_up(cols ? cols : 1, lx), round_up(rows ? rows : 1, ly)};
    return clseq_launch_nd(dev, id, 2, global, local, bind_err);
}

cl_int clseq_bind_args(clseq_device *dev, clseq_kernel_id id, const clseq_arg *args,
                       size_t count)
{
    for (size_t i = 0; i < count; i++) {
        cl_int err = clSetKernelArg(dev->kernels[id], (cl_uint)i, args[i].size, args[i].value);
        if (err != CL_SUCCESS)
            return err;
    }
    return CL_SUCCESS;
}

clseq_status clseq_run_1d(clseq_device *dev, clseq_kernel_id id, size_t n, const clseq_arg *args,
                          size_t count)
{
    return clseq_launch_1d(dev, id, n, clseq_bind_args(dev, id, args, count));
}

clseq_status clseq_run_2d(clseq_device *dev, clseq_kernel_id id, size_t cols, size_t rows,
                          const clseq_arg *args, size_t count)
{
    return clseq_launch_2d(dev, id, cols, rows, clseq_bind_args(dev, id, args, count));
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

/* What a CPU product packs first (gemm_cpu.cl, "packed operands"): 0
 * nothing, 1 op(B) into column panels, 2 op(A) into row blocks too.
 * Measured on PoCL, AVX-512 (Zen 4) against OpenBLAS: packing a
 * transposed B pays from products of a few million multiply-adds once
 * enough row blocks reuse each panel (it replaces transpose_b's copy and
 * the nt kernel's strided reads: 128x512x512 NT 0.62 -> 0.79 of OpenBLAS,
 * 2 threads), and always for the nt form with short k (a layer of few
 * units, else mostly scalar tail). A plain B pays from K of about 1024:
 * a column panel of that many rows, at a stride of a multiple of 512
 * floats, falls into a few cache sets and never stays cached (2048^3 NN,
 * one thread: 0.37 of OpenBLAS unpacked, 1.03 packed; 1024^3 on 2: 0.84
 * -> 0.91 of the FMA peak); below it the copy measured no faster, and at
 * 128 rows slower (128x512x784 NN). Packing A as well measured no faster
 * up to 2048^3 (0.97 against 1.03 there: its CPU_RM rows are streams the
 * prefetchers follow), so only products past those measured pack it. */
static int pack_operands(const clseq_device *dev, int trans_b, int M, int N, int K)
{
    if (dev->gemm_packed != 1)
        return dev->gemm_packed == 2 ? 2 : 0;
    double mnk = (double)M * N * K;
    if (mnk >= CPU_PACK_A_MIN)
        return 2;
    if (trans_b && K < 32)
        return 1;
    return mnk >= CPU_PACK_B_MIN && M >= CPU_PACK_B_MIN_ROWS &&
           (trans_b || K >= CPU_PACK_B_MIN_K);
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
    size_t local[2] = {clseq_pow2_at_most(dev->kernel_wg[id], 8), 1};
    if (local[0] > dev->max_item[0])
        local[0] = clseq_pow2_at_most(dev->max_item[0], local[0]);
    size_t global[2] = {round_up(rows, local[0]), cols};
    return clseq_launch_nd(dev, id, 2, global, local, bind_err);
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
    int has_bias = bias.buf != NULL, act_code = (int)act;
    cl_mem bias_buf = has_bias ? bias.buf : C.buf;
    const clseq_arg args[] = {CLSEQ_ARG(C.buf), CLSEQ_ARG(C.off), CLSEQ_ARG(C.ld),
                              CLSEQ_ARG(M), CLSEQ_ARG(N), CLSEQ_ARG(bias_buf),
                              CLSEQ_ARG(bias.off), CLSEQ_ARG(has_bias), CLSEQ_ARG(act_code)};
    return clseq_run_2d(dev, K_BIAS_ACTIVATE, (size_t)N, (size_t)M, args, CLSEQ_ARG_COUNT(args));
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

/* Packs op(B), and op(A) when pack_a (gemm_cpu.cl), and runs the packed
 * micro-kernel. */
static clseq_status packed_gemm(clseq_device *dev, int pack_a, int trans_a, int trans_b, int M,
                                int N, int K, clseq_mat A, clseq_mat B, clseq_mat C,
                                clseq_mat bias, clseq_activation act)
{
    size_t blocks = ((size_t)M + CPU_RM - 1) / CPU_RM;
    size_t panels = ((size_t)N + CPU_CN - 1) / CPU_CN;
    size_t chunks = ((size_t)K + CPU_PACK_K - 1) / CPU_PACK_K;
    clseq_status s = CLSEQ_OK;
    if (pack_a)
        s = pack_buffer(dev, 0, blocks * CPU_RM * (size_t)K * sizeof(float));
    if (s == CLSEQ_OK)
        s = pack_buffer(dev, 1, panels * CPU_CN * (size_t)K * sizeof(float));
    if (s != CLSEQ_OK)
        return s;
    if (pack_a) {
        const clseq_arg args[] = {CLSEQ_ARG(A.buf), CLSEQ_ARG(A.off), CLSEQ_ARG(A.ld),
                                  CLSEQ_ARG(trans_a), CLSEQ_ARG(M), CLSEQ_ARG(K),
                                  CLSEQ_ARG(dev->pack[0])};
        s = clseq_run_2d(dev, K_PACK_A, chunks, blocks, args, CLSEQ_ARG_COUNT(args));
        if (s != CLSEQ_OK)
            return s;
        A = (clseq_mat){dev->pack[0], 0, K};
    }
    const clseq_arg pack_b[] = {CLSEQ_ARG(B.buf), CLSEQ_ARG(B.off), CLSEQ_ARG(B.ld),
                                CLSEQ_ARG(trans_b), CLSEQ_ARG(K), CLSEQ_ARG(N),
                                CLSEQ_ARG(dev->pack[1])};
    s = clseq_run_2d(dev, K_PACK_B, chunks, panels, pack_b, CLSEQ_ARG_COUNT(pack_b));
    if (s != CLSEQ_OK)
        return s;
    int has_bias = bias.buf != NULL, act_code = (int)act;
    int a_form = pack_a ? 0 : trans_a ? 2 : 1; /* gemm_cpu_packed's op(A) */
    cl_mem bias_buf = has_bias ? bias.buf : C.buf;
    const clseq_arg args[] = {CLSEQ_ARG(M), CLSEQ_ARG(N), CLSEQ_ARG(K),
                              CLSEQ_ARG(A.buf), CLSEQ_ARG(A.off), CLSEQ_ARG(A.ld),
                              CLSEQ_ARG(a_form), CLSEQ_ARG(dev->pack[1]),
                              CLSEQ_ARG(C.buf), CLSEQ_ARG(C.off), CLSEQ_ARG(C.ld),
                              CLSEQ_ARG(bias_buf), CLSEQ_ARG(bias.off), CLSEQ_ARG(has_bias),
                              CLSEQ_ARG(act_code)};
    cl_int err = clseq_bind_args(dev, K_GEMM_CPU_PACKED, args, CLSEQ_ARG_COUNT(args));
    size_t local[2] = {clseq_pow2_at_most(dev->kernel_wg[K_GEMM_CPU_PACKED], 8), 1};
    size_t global[2] = {round_up(blocks, local[0]), panels};
    return clseq_launch_nd(dev, K_GEMM_CPU_PACKED, 2, global, local, err);
}

/* Whether a CPU nt product runs as nn on a plain transposed copy of B:
 * the nt kernel's 4 x 4 dot products end in 16 horizontal sums, which a
 * short k (a layer's 64 filters, 128 units) cannot pay for; a B of a
 * layer's size costs little to transpose (conv2d's input gradient on
 * PoCL: 11.6 ms as nt). */
static int transpose_b_first(const clseq_device *dev, int trans_b, int N, int K)
{
    return trans_b && dev->kernels[K_TRANSPOSE_B] && (size_t)N * (size_t)K <= ((size_t)1 << 21);
}

/* op(B) = B^T made plain in dev->pack[1] (K x N, leading dimension N). */
static clseq_status transpose_b(clseq_device *dev, int N, int K, clseq_mat B, clseq_mat *out)
{
    clseq_status s = pack_buffer(dev, 1, (size_t)N * (size_t)K * sizeof(float));
    if (s != CLSEQ_OK)
        return s;
    const clseq_arg args[] = {CLSEQ_ARG(B.buf), CLSEQ_ARG(B.off), CLSEQ_ARG(B.ld), CLSEQ_ARG(K),
                              CLSEQ_ARG(N), CLSEQ_ARG(dev->pack[1])};
    *out = (clseq_mat){dev->pack[1], 0, N};
    return clseq_run_2d(dev, K_TRANSPOSE_B, (size_t)N, (size_t)K, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_gemm(clseq_device *dev, int trans_a, int trans_b, int M, int N, int K,
                           clseq_mat A, clseq_mat B, clseq_mat C, clseq_mat bias,
                           clseq_activation act)
{
    int pack = dev->cpu_gemm && !dev->gemm_clblast && use_blocked_gemm(dev, M, N, K)
                   ? pack_operands(dev, trans_b, M, N, K)
                   : 0;
    if (pack)
        return packed_gemm(dev, pack == 2, trans_a, trans_b, M, N, K, A, B, C, bias, act);
    if (dev->cpu_gemm && !dev->gemm_clblast && use_blocked_gemm(dev, M, N, K) &&
        transpose_b_first(dev, trans_b, N, K)) {
        clseq_mat plain;
        clseq_status s = transpose_b(dev, N, K, B, &plain);
        return s == CLSEQ_OK ? clseq_op_gemm(dev, trans_a, 0, M, N, K, A, plain, C, bias, act) : s;
    }
    int blocked = use_blocked_gemm(dev, M, N, K);
    int form = trans_a ? 1 : trans_b ? 2 : 0;
    static const clseq_kernel_id small[3] = {K_GEMM_SMALL_NN, K_GEMM_SMALL_TN, K_GEMM_SMALL_NT};
    static const clseq_kernel_id tiled[3] = {K_GEMM_NN, K_GEMM_TN, K_GEMM_NT};
    static const clseq_kernel_id cpu[3] = {K_GEMM_CPU_NN, K_GEMM_CPU_TN, K_GEMM_CPU_NT};
    clseq_kernel_id id = !blocked ? small[form] : dev->cpu_gemm ? cpu[form] : tiled[form];
    int has_bias = bias.buf != NULL;
    cl_mem bias_buf = has_bias ? bias.buf : C.buf; /* never read when has_bias is 0 */
    int act_code = (int)act;
    const clseq_arg args[] = {CLSEQ_ARG(M), CLSEQ_ARG(N), CLSEQ_ARG(K),
                              CLSEQ_ARG(A.buf), CLSEQ_ARG(A.off), CLSEQ_ARG(A.ld),
                              CLSEQ_ARG(B.buf), CLSEQ_ARG(B.off), CLSEQ_ARG(B.ld),
                              CLSEQ_ARG(C.buf), CLSEQ_ARG(C.off), CLSEQ_ARG(C.ld),
                              CLSEQ_ARG(bias_buf), CLSEQ_ARG(bias.off), CLSEQ_ARG(has_bias),
                              CLSEQ_ARG(act_code)};
    cl_int err = clseq_bind_args(dev, id, args, CLSEQ_ARG_COUNT(args));
    if (!blocked)
        return clseq_launch_2d(dev, id, (size_t)N, (size_t)M, err);
    if (dev->gemm_clblast)
        return clblast_gemm(dev, trans_a, trans_b, M, N, K, A, B, C, bias, act);
    if (dev->cpu_gemm)
        return launch_cpu_gemm(dev, id, M, N, err);
    size_t local[2] = {(size_t)(dev->tiles.tn / dev->tiles.wn), (size_t)(dev->tiles.tm / dev->tiles.wm)};
    size_t global[2] = {round_up((size_t)N, (size_t)dev->tiles.tn) / dev->tiles.wn,
                        round_up((size_t)M, (size_t)dev->tiles.tm) / dev->tiles.wm};
    return clseq_launch_nd(dev, id, 2, global, local, err);
}

clseq_status clseq_op_activate(clseq_device *dev, cl_mem X, cl_mem Y, int n, clseq_activation act)
{
    int act_code = (int)act;
    const clseq_arg args[] = {CLSEQ_ARG(X), CLSEQ_ARG(Y), CLSEQ_ARG(n), CLSEQ_ARG(act_code)};
    return clseq_run_1d(dev, K_ACTIVATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_activation_backward(clseq_device *dev, cl_mem D, cl_mem A, cl_mem Z, int n,
                                          clseq_activation act)
{
    int act_code = (int)act;
    cl_mem z = Z ? Z : A; /* read only for ACT_NEEDS_INPUT activations */
    const clseq_arg args[] = {CLSEQ_ARG(D), CLSEQ_ARG(A), CLSEQ_ARG(z), CLSEQ_ARG(n),
                              CLSEQ_ARG(act_code)};
    return clseq_run_1d(dev, K_ACTIVATION_BACKWARD, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

/* Shared by the two row kernels of softmax.cl: (X or D, Y or P, rows, cols). */
static clseq_status launch_rows(clseq_device *dev, clseq_kernel_id id, cl_mem first, cl_mem second,
                                int rows, int cols)
{
    const clseq_arg args[] = {CLSEQ_ARG(first), CLSEQ_ARG(second), CLSEQ_ARG(rows),
                              CLSEQ_ARG(cols)};
    return clseq_run_1d(dev, id, (size_t)rows, args, CLSEQ_ARG_COUNT(args));
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
    const clseq_arg args[] = {CLSEQ_ARG(src), CLSEQ_ARG(perm), CLSEQ_ARG(start),
                              CLSEQ_ARG(rows), CLSEQ_ARG(cols), CLSEQ_ARG(dst)};
    return clseq_run_2d(dev, K_GATHER_ROWS, (size_t)cols, (size_t)rows, args,
                        CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_add_into(clseq_device *dev, cl_mem Y, cl_mem X, int n)
{
    const clseq_arg args[] = {CLSEQ_ARG(Y), CLSEQ_ARG(X), CLSEQ_ARG(n)};
    return clseq_run_1d(dev, K_ADD_INTO, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

/* Up to this many rows a CPU sums each column in one work-item: the
 * chain of adds stays short, and there is no barrier tree to pay for. */
enum { SEQ_SUM_MAX_ROWS = 4096 };

clseq_status clseq_op_sum_columns(clseq_device *dev, cl_mem X, int rows, int cols, cl_mem out,
                                  int out_off, int accumulate)
{
    if ((dev->type & CL_DEVICE_TYPE_CPU) && rows <= SEQ_SUM_MAX_ROWS &&
        dev->kernels[K_SUM_COLUMNS_SEQ]) {
        const clseq_arg args[] = {CLSEQ_ARG(X),   CLSEQ_ARG(rows),    CLSEQ_ARG(cols),
                                  CLSEQ_ARG(out), CLSEQ_ARG(out_off), CLSEQ_ARG(accumulate)};
        return clseq_run_1d(dev, K_SUM_COLUMNS_SEQ, (size_t)cols, args, CLSEQ_ARG_COUNT(args));
    }
    size_t local = clseq_pow2_at_most(dev->kernel_wg[K_SUM_COLUMNS], 256);
    if (local > dev->max_item[0])
        local = clseq_pow2_at_most(dev->max_item[0], local);
    /* No more work-items than rows: the rest would add empty partial sums. */
    while (local > 1 && local / 2 >= (size_t)rows)
        local /= 2;
    size_t global = local * (size_t)cols;
    const clseq_arg args[] = {CLSEQ_ARG(X), CLSEQ_ARG(rows), CLSEQ_ARG(cols),
                              CLSEQ_ARG(out), CLSEQ_ARG(out_off), CLSEQ_ARG(accumulate),
                              CLSEQ_LOCAL_ARG(local * sizeof(float))};
    cl_int err = clseq_bind_args(dev, K_SUM_COLUMNS, args, CLSEQ_ARG_COUNT(args));
    return clseq_launch_nd(dev, K_SUM_COLUMNS, 1, &global, &local, err);
}

clseq_status clseq_op_regularizer_penalty(clseq_device *dev, cl_mem W, int w_off, int n,
                                          float l1, float l2, float scale, cl_mem out, int off,
                                          int comp)
{
    size_t local = clseq_pow2_at_most(dev->kernel_wg[K_REGULARIZER_PENALTY], 256);
    if (local > dev->max_item[0])
        local = clseq_pow2_at_most(dev->max_item[0], local);
    const clseq_arg args[] = {CLSEQ_ARG(W),   CLSEQ_ARG(w_off), CLSEQ_ARG(n),
                              CLSEQ_ARG(l1),  CLSEQ_ARG(l2),    CLSEQ_ARG(scale),
                              CLSEQ_ARG(out), CLSEQ_ARG(off),   CLSEQ_ARG(comp),
                              CLSEQ_LOCAL_ARG(local * sizeof(float))};
    cl_int err = clseq_bind_args(dev, K_REGULARIZER_PENALTY, args, CLSEQ_ARG_COUNT(args));
    return clseq_launch_nd(dev, K_REGULARIZER_PENALTY, 1, &local, &local, err);
}

clseq_status clseq_op_regularizer_grads(clseq_device *dev, cl_mem W, cl_mem G, int off, int n,
                                        float l1, float l2)
{
    const clseq_arg args[] = {CLSEQ_ARG(W), CLSEQ_ARG(G),  CLSEQ_ARG(off),
                              CLSEQ_ARG(n), CLSEQ_ARG(l1), CLSEQ_ARG(l2)};
    return clseq_run_1d(dev, K_REGULARIZER_GRADS, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_argmax_rows(clseq_device *dev, cl_mem X, int rows, int cols, cl_mem out)
{
    const clseq_arg args[] = {CLSEQ_ARG(X), CLSEQ_ARG(rows), CLSEQ_ARG(cols), CLSEQ_ARG(out)};
    return clseq_run_1d(dev, K_ARGMAX_ROWS, (size_t)rows, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_loss_rows(clseq_device *dev, cl_mem P, cl_mem Z, cl_mem Y, int rows,
                                int cols, clseq_loss loss, const clseq_metric_args *metric,
                                float grad_scale, cl_mem D, cl_mem stats, cl_mem W)
{
    int loss_code = (int)loss;
    int want_grad = D != NULL, weighted = W != NULL, use_logits = Z != NULL;
    cl_mem grad_buf = want_grad ? D : stats; /* never written when want_grad is 0 */
    cl_mem weight_buf = weighted ? W : stats; /* never read when weighted is 0 */
    cl_mem logits = use_logits ? Z : P;       /* never read when use_logits is 0 */
    const clseq_arg args[] = {CLSEQ_ARG(P),          CLSEQ_ARG(logits),
                              CLSEQ_ARG(use_logits), CLSEQ_ARG(Y),
                              CLSEQ_ARG(rows),       CLSEQ_ARG(cols),
                              CLSEQ_ARG(loss_code),  CLSEQ_ARG(metric->acc_kind),
                              CLSEQ_ARG(metric->threshold), CLSEQ_ARG(metric->top_k),
                              CLSEQ_ARG(grad_scale), CLSEQ_ARG(want_grad),
                              CLSEQ_ARG(grad_buf),   CLSEQ_ARG(stats),
                              CLSEQ_ARG(weighted),   CLSEQ_ARG(weight_buf)};
    return clseq_run_1d(dev, K_LOSS_ROWS, (size_t)rows, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_auc_buckets(clseq_device *dev, cl_mem P, cl_mem Y, int rows, int cols,
                                  cl_mem acc, int acc_off)
{
    const clseq_arg args[] = {CLSEQ_ARG(P),    CLSEQ_ARG(Y),   CLSEQ_ARG(rows),
                              CLSEQ_ARG(cols), CLSEQ_ARG(acc), CLSEQ_ARG(acc_off)};
    return clseq_run_1d(dev, K_AUC_BUCKETS, (size_t)AUC_THRESHOLDS, args,
                        CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_sgd(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, int n, float lr,
                          float momentum, int nesterov)
{
    const clseq_arg args[] = {CLSEQ_ARG(W), CLSEQ_ARG(G), CLSEQ_ARG(M),
                              CLSEQ_ARG(n), CLSEQ_ARG(lr), CLSEQ_ARG(momentum),
                              CLSEQ_ARG(nesterov)};
    return clseq_run_1d(dev, K_SGD_UPDATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_adam(clseq_device *dev, cl_mem W, cl_mem G, cl_mem M, cl_mem V, int n,
                           float alpha, float beta1, float beta2, float epsilon)
{
    const clseq_arg args[] = {CLSEQ_ARG(W), CLSEQ_ARG(G), CLSEQ_ARG(M),
                              CLSEQ_ARG(V), CLSEQ_ARG(n), CLSEQ_ARG(alpha),
                              CLSEQ_ARG(beta1), CLSEQ_ARG(beta2), CLSEQ_ARG(epsilon)};
    return clseq_run_1d(dev, K_ADAM_UPDATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}

clseq_status clseq_op_rmsprop(clseq_device *dev, cl_mem W, cl_mem G, cl_mem V, int n, float lr,
                              float rho, float epsilon)
{
    const clseq_arg args[] = {CLSEQ_ARG(W), CLSEQ_ARG(G), CLSEQ_ARG(V), CLSEQ_ARG(n),
                              CLSEQ_ARG(lr), CLSEQ_ARG(rho), CLSEQ_ARG(epsilon)};
    return clseq_run_1d(dev, K_RMSPROP_UPDATE, (size_t)n, args, CLSEQ_ARG_COUNT(args));
}
