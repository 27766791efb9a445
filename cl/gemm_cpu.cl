/* Matrix products shaped for CPU devices (PoCL and the like): no local
 * memory and no barriers, each work-item keeps a block of C in vector
 * registers. Same contracts and arguments as gemm.cl's kernels:
 *   gemm_cpu_nn: C[M,N] = act(A[M,K]   * B[K,N] + bias[N])
 *   gemm_cpu_tn: C[M,N] = act(A[K,M]^T * B[K,N] + bias[N])
 *   gemm_cpu_nt: C[M,N] = act(A[M,K]   * B[N,K]^T + bias[N])
 * nn and tn: a work-item owns CPU_RM rows x 32 columns of C; per k it loads
 * 32 values of one row of B as two float16 and broadcasts CPU_RM values of
 * A: 2 * CPU_RM vector FMAs per 2 vector loads. Work-items of a group take
 * consecutive row blocks of the same column panel, so that panel of B is
 * reused from cache. nt: a work-item owns a 4 x 4 block and runs float16
 * dot products along k, where both operands are contiguous (short k goes
 * through the packed kernel below instead). Rows beyond M
 * or N are clamped for loading (valid memory, results discarded) and
 * columns beyond N take a guarded scalar path. */

/* CPU_RM and CPU_CN come from codes.h: the host sizes the packing buffers
 * and the launch grid with the same values. */

inline void cpu_store(__global float *C, const int c_off, const int ldc, const int m,
                      const int n, const int M, const int N, const float v,
                      __global const float *bias, const int bias_off, const int has_bias,
                      const int act)
{
    if (m < M && n < N)
        C[c_off + m * ldc + n] = gemm_epilogue(v, n, bias, bias_off, has_bias, act);
}

/* lo[i], hi[i] += a[i] * (b0, b1): one k of a CPU_RM x 32 block. */
inline void cpu_block_fma(const float *a, const float16 b0, const float16 b1, float16 *lo,
                          float16 *hi)
{
#pragma unroll
    for (int i = 0; i < CPU_RM; i++) {
        const float16 av = (float16)(a[i]);
        lo[i] = fma(av, b0, lo[i]);
        hi[i] = fma(av, b1, hi[i]);
    }
}

/* v + bias through act for the common activations, as whole vectors; 0
 * for the others (the scalar epilogue takes them). */
inline int cpu_vector_epilogue(float16 *v, const float16 b, const int act)
{
    if (act != ACT_LINEAR && act != ACT_RELU)
        return 0;
    *v += b;
    if (act == ACT_RELU)
        *v = fmax(*v, (float16)(0.0f));
    return 1;
}

/* Stores a CPU_RM x 32 block at (m0, n0) through the epilogue, guarded. A
 * block wholly inside C with a linear or relu epilogue is stored as
 * vectors: the per-element scalar path (a switch over every activation
 * and a bounds test per value) cost as much as 40% of a convolution's
 * product on PoCL. */
inline void cpu_block_store(const float16 *lo, const float16 *hi, __global float *C,
                            const int c_off, const int ldc, const int m0, const int n0,
                            const int M, const int N, __global const float *bias,
                            const int bias_off, const int has_bias, const int act)
{
    if (m0 + CPU_RM <= M && n0 + CPU_CN <= N && (act == ACT_LINEAR || act == ACT_RELU)) {
        const float16 b0 = has_bias ? vload16(0, bias + bias_off + n0) : (float16)(0.0f);
        const float16 b1 = has_bias ? vload16(1, bias + bias_off + n0) : (float16)(0.0f);
#pragma unroll
        for (int i = 0; i < CPU_RM; i++) {
            float16 v0 = lo[i], v1 = hi[i];
            cpu_vector_epilogue(&v0, b0, act);
            cpu_vector_epilogue(&v1, b1, act);
            __global float *row = C + c_off + (m0 + i) * ldc + n0;
            vstore16(v0, 0, row);
            vstore16(v1, 1, row);
        }
        return;
    }
    for (int i = 0; i < CPU_RM; i++) {
        float out[CPU_CN];
        vstore16(lo[i], 0, out);
        vstore16(hi[i], 1, out);
        for (int j = 0; j < CPU_CN; j++)
            cpu_store(C, c_off, ldc, m0 + i, n0 + j, M, N, out[j], bias, bias_off, has_bias, act);
    }
}

/* Accumulates CPU_RM rows x 32 columns of op(A) B: rows of A through
 * pointers ap[i] stepping a_step per k, B rows from brow stepping ldb. */
inline void cpu_panel_full(__global const float *const *ap, const int a_step,
                           __global const float *brow, const int ldb, const int K,
                           float16 *lo, float16 *hi)
{
    for (int k = 0; k < K; k++, brow += ldb) {
        float a[CPU_RM];
#pragma unroll
        for (int i = 0; i < CPU_RM; i++)
            a[i] = ap[i][k * a_step];
        cpu_block_fma(a, vload16(0, brow), vload16(1, brow), lo, hi);
    }
}

/* The same where B's 32 values for a k are not contiguous: the last column
 * panel (fewer than 32 columns left; b_step 1) or a transposed B (element
 * (k, n) at n * ldb + k: b_step ldb, k_step 1), gathered one by one. */
inline void cpu_panel_gather(__global const float *const *ap, const int a_step,
                             __global const float *b, const int b_step, const int k_step,
                             const int K, const int cols, float16 *lo, float16 *hi)
{
    for (int k = 0; k < K; k++, b += k_step) {
        float tmp[CPU_CN];
        for (int j = 0; j < CPU_CN; j++)
            tmp[j] = j < cols ? b[j * b_step] : 0.0f;
        float a[CPU_RM];
#pragma unroll
        for (int i = 0; i < CPU_RM; i++)
            a[i] = ap[i][k * a_step];
        cpu_block_fma(a, vload16(0, tmp), vload16(1, tmp), lo, hi);
    }
}

inline void gemm_cpu_panel(const int a_trans, const int b_trans, const int M, const int N,
                           const int K,
                           __global const float *A, const int a_off, const int lda,
                           __global const float *B, const int b_off, const int ldb,
                           __global float *C, const int c_off, const int ldc,
                           __global const float *bias, const int bias_off, const int has_bias,
                           const int act)
{
    const int m0 = get_global_id(0) * CPU_RM, n0 = get_global_id(1) * CPU_CN;
    if (m0 >= M || n0 >= N)
        return;
    __global const float *ap[CPU_RM];
    for (int i = 0; i < CPU_RM; i++) {
        const int m = min(m0 + i, M - 1);
        ap[i] = A + a_off + (a_trans ? m : m * lda);
    }
    const int a_step = a_trans ? lda : 1;
    float16 lo[CPU_RM], hi[CPU_RM];
    for (int i = 0; i < CPU_RM; i++)
        lo[i] = hi[i] = (float16)(0.0f);
    const int cols = min(CPU_CN, N - n0);
    if (b_trans)
        cpu_panel_gather(ap, a_step, B + b_off + n0 * ldb, ldb, 1, K, cols, lo, hi);
    else if (cols == CPU_CN)
        cpu_panel_full(ap, a_step, B + b_off + n0, ldb, K, lo, hi);
    else
        cpu_panel_gather(ap, a_step, B + b_off + n0, 1, ldb, K, cols, lo, hi);
    cpu_block_store(lo, hi, C, c_off, ldc, m0, n0, M, N, bias, bias_off, has_bias, act);
}

__kernel void gemm_cpu_nn(GEMM_ARGS)
{
    gemm_cpu_panel(0, 0, M, N, K, A, a_off, lda, B, b_off, ldb, C, c_off, ldc, bias, bias_off,
                   has_bias, act);
}

__kernel void gemm_cpu_tn(GEMM_ARGS)
{
    gemm_cpu_panel(1, 0, M, N, K, A, a_off, lda, B, b_off, ldb, C, c_off, ldc, bias, bias_off,
                   has_bias, act);
}

inline float sum16(const float16 v)
{
    const float8 a = v.lo + v.hi;
    const float4 b = a.lo + a.hi;
    const float2 c = b.lo + b.hi;
    return c.x + c.y;
}

__kernel void gemm_cpu_nt(GEMM_ARGS)
{
    const int m0 = get_global_id(0) * 4, n0 = get_global_id(1) * 4;
    if (m0 >= M || n0 >= N)
        return;
    __global const float *arow[4], *brow[4];
    for (int i = 0; i < 4; i++) {
        arow[i] = A + a_off + min(m0 + i, M - 1) * lda;
        brow[i] = B + b_off + min(n0 + i, N - 1) * ldb;
    }
    float16 acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            acc[i][j] = (float16)(0.0f);
    int k = 0;
    for (; k + 16 <= K; k += 16) {
        float16 a[4], b[4];
#pragma unroll
        for (int i = 0; i < 4; i++) {
            a[i] = vload16(0, arow[i] + k);
            b[i] = vload16(0, brow[i] + k);
        }
#pragma unroll
        for (int i = 0; i < 4; i++)
#pragma unroll
            for (int j = 0; j < 4; j++)
                acc[i][j] = fma(a[i], b[j], acc[i][j]);
    }
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            float v = sum16(acc[i][j]);
            for (int t = k; t < K; t++)
                v = fma(arow[i][t], brow[j][t], v);
            cpu_store(C, c_off, ldc, m0 + i, n0 + j, M, N, v, bias, bias_off, has_bias, act);
        }
    }
}

/* ---- packed operands ---------------------------------------------------
 * For large products the operands are first copied into the order the
 * micro-kernel reads them, zero-padded to whole blocks:
 *   Ap[(blk * K + k) * CPU_RM + i] = op(A)(blk * CPU_RM + i, k)
 *   Bp[(p * K + k) * CPU_CN + j]   = op(B)(k, p * CPU_CN + j)
 * so every form (nn, tn, nt) runs the same loop over two contiguous
 * streams, with no edge tests inside it, and the column panel a row block
 * works through stays in one run of memory (few pages, easy prefetch). */

/* One work-item per (k, row block). */
__kernel void pack_a(__global const float *A, const int a_off, const int lda, const int a_trans,
                     const int M, const int K, __global float *Ap)
{
    const int k = get_global_id(0), blk = get_global_id(1);
    if (k >= K || blk * CPU_RM >= M)
        return;
    __global float *out = Ap + ((size_t)blk * K + k) * CPU_RM;
    for (int i = 0; i < CPU_RM; i++) {
        const int m = blk * CPU_RM + i;
        out[i] = m >= M ? 0.0f : a_trans ? A[a_off + k * lda + m] : A[a_off + m * lda + k];
    }
}

/* One work-item per (column, k). */
__kernel void pack_b(__global const float *B, const int b_off, const int ldb, const int b_trans,
                     const int K, const int N, __global float *Bp)
{
    const int n = get_global_id(0), k = get_global_id(1);
    const int panels = (N + CPU_CN - 1) / CPU_CN;
    if (n >= panels * CPU_CN || k >= K)
        return;
    const float v = n >= N ? 0.0f : b_trans ? B[b_off + n * ldb + k] : B[b_off + k * ldb + n];
    Bp[((size_t)(n / CPU_CN) * K + k) * CPU_CN + n % CPU_CN] = v;
}

/* Bt[k, n] = B[n, k] (at b_off, leading dimension ldb) for n < N, k < K:
 * a small transposed B made plain, so an nt product runs as nn. */
__kernel void transpose_b(__global const float *B, const int b_off, const int ldb, const int K,
                          const int N, __global float *Bt)
{
    const int n = get_global_id(0), k = get_global_id(1);
    if (n < N && k < K)
        Bt[k * N + n] = B[b_off + n * ldb + k];
}

/* C[M,N] = act(Ap Bp + bias): one work-item per (row block, column panel). */
__kernel void gemm_cpu_packed(const int M, const int N, const int K, __global const float *Ap,
                              __global const float *Bp, __global float *C, const int c_off,
                              const int ldc, __global const float *bias, const int bias_off,
                              const int has_bias, const int act)
{
    const int blk = get_global_id(0), p = get_global_id(1);
    const int m0 = blk * CPU_RM, n0 = p * CPU_CN;
    if (m0 >= M || n0 >= N)
        return;
    __global const float *a = Ap + (size_t)blk * K * CPU_RM;
    __global const float *b = Bp + (size_t)p * K * CPU_CN;
    float16 lo[CPU_RM], hi[CPU_RM];
#pragma unroll
    for (int i = 0; i < CPU_RM; i++)
        lo[i] = hi[i] = (float16)(0.0f);
    for (int k = 0; k < K; k++, a += CPU_RM, b += CPU_CN) {
        float av[CPU_RM];
#pragma unroll
        for (int i = 0; i < CPU_RM; i++)
            av[i] = a[i];
        cpu_block_fma(av, vload16(0, b), vload16(1, b), lo, hi);
    }
    cpu_block_store(lo, hi, C, c_off, ldc, m0, n0, M, N, bias, bias_off, has_bias, act);
}
