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
 * columns beyond N take a guarded scalar path; a last panel of at most 16
 * columns runs only the left half of the block (cpu_panel_narrow). */

/* CPU_RM and CPU_CN come from codes.h: the host sizes the packing buffers
 * and the launch grid with the same values. */

/* Helpers that take the accumulator arrays must be inlined: left as calls
 * (PoCL's LLVM did so for cpu_packed_loop) the accumulators live in
 * memory and every FMA loads and stores one, at a third of the speed. */
#define CPU_INLINE inline __attribute__((always_inline))

inline void cpu_store(__global float *C, const int c_off, const int ldc, const int m,
                      const int n, const int M, const int N, const float v,
                      __global const float *bias, const int bias_off, const int has_bias,
                      const int act)
{
    if (m < M && n < N)
        C[c_off + m * ldc + n] = gemm_epilogue(v, n, bias, bias_off, has_bias, act);
}

/* lo[i], hi[i] += a[i] * (b0, b1): one k of a CPU_RM x 32 block. */
CPU_INLINE void cpu_block_fma(const float *a, const float16 b0, const float16 b1, float16 *lo,
                              float16 *hi)
{
#pragma unroll
    for (int i = 0; i < CPU_RM; i++) {
        const float16 av = (float16)(a[i]);
        lo[i] = fma(av, b0, lo[i]);
        hi[i] = fma(av, b1, hi[i]);
    }
}

/* lo[i] += a[i] * b: the left half of cpu_block_fma, for a panel of at
 * most 16 columns (a layer of 10 units), where the right half would only
 * multiply padding. */
CPU_INLINE void cpu_block_fma_lo(const float *a, const float16 b, float16 *lo)
{
#pragma unroll
    for (int i = 0; i < CPU_RM; i++)
        lo[i] = fma((float16)(a[i]), b, lo[i]);
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
CPU_INLINE void cpu_panel_full(__global const float *const *ap, const int a_step,
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
CPU_INLINE void cpu_panel_gather(__global const float *const *ap, const int a_step,
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

/* The same for a last panel of cols <= 16 columns of a plain B, on the
 * left half only: a float16 load of row k reads 16 - cols values past the
 * panel (the next row's, discarded with their lanes); that stays inside B
 * while (K - 1 - k) * ldb >= 16 - cols, and the last rows, fewer than
 * 16 / ldb + 1, are gathered. A layer of 10 units thus costs 6 FMAs per k
 * instead of 12 and no per-element gather. */
CPU_INLINE void cpu_panel_narrow(__global const float *const *ap, const int a_step,
                                 __global const float *brow, const int ldb, const int K,
                                 const int cols, float16 *lo)
{
    const int k_vec = max(K - (16 - cols + ldb - 1) / ldb, 0);
    float a[CPU_RM];
    int k = 0;
    for (; k < k_vec; k++) {
#pragma unroll
        for (int i = 0; i < CPU_RM; i++)
            a[i] = ap[i][k * a_step];
        cpu_block_fma_lo(a, vload16(0, brow + (size_t)k * ldb), lo);
    }
    for (; k < K; k++) {
        float tmp[16];
        for (int j = 0; j < 16; j++)
            tmp[j] = j < cols ? brow[(size_t)k * ldb + j] : 0.0f;
#pragma unroll
        for (int i = 0; i < CPU_RM; i++)
            a[i] = ap[i][k * a_step];
        cpu_block_fma_lo(a, vload16(0, tmp), lo);
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
    else if (cols <= 16)
        cpu_panel_narrow(ap, a_step, B + b_off + n0, ldb, K, cols, lo);
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
 * so every form (nn, tn, nt) runs the same loop over contiguous streams,
 * with no edge tests inside it, and the column panel a group of row
 * blocks shares stays in one run of memory. Packing B matters most: a
 * row-major B whose leading dimension is a multiple of 512 floats puts
 * every row of a 32-column panel in the same few cache sets, so that the
 * panel, read once per row block, never stays in L1 or L2 (2048^3 NN on
 * PoCL, one thread: 0.37 of OpenBLAS unpacked, 1.03 with B packed). A is
 * packed only past the products measured (ops.c, pack_operands); below,
 * gemm_cpu_packed reads op(A) where it lies, as fast.
 *
 * Each packing work-item copies CPU_PACK_K consecutive k of one row block
 * or column panel: whole float16 loads along the operand's contiguous
 * direction, transposed in registers where the packed order runs across
 * it, and whole float16 stores; one work-item per element had left PoCL
 * with scalar loads, inserts and scatters. */

/* r[i][j] <- r[j][i] for a 16 x 16 block in registers: four rounds of
 * r'[i] = evens of (r[2i], r[2i+1]), r'[i + 8] = odds, each of which
 * rotates the (row, column) bit address right by one, so four rotate it
 * by four: rows and columns swap. Sixty-four two-source shuffles instead
 * of 256 single inserts (the transposed packs ran at a third of the
 * plain ones' speed through a private array). */
CPU_INLINE void cpu_transpose16(float16 *r)
{
    /* shuffle2, not (float16)(x.even, y.even): the same single two-source
     * shuffle on PoCL, and the swizzle form crashes Oclgrind 21.10's
     * uninitialised-value checker */
    const uint16 evens = (uint16)(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const uint16 odds = evens + 1;
    for (int round = 0; round < 4; round++) {
        float16 o[16];
#pragma unroll
        for (int i = 0; i < 8; i++) {
            o[i] = shuffle2(r[2 * i], r[2 * i + 1], evens);
            o[i + 8] = shuffle2(r[2 * i], r[2 * i + 1], odds);
        }
#pragma unroll
        for (int i = 0; i < 16; i++)
            r[i] = o[i];
    }
}

/* One work-item per (CPU_PACK_K-chunk of k, row block). */
__kernel void pack_a(__global const float *A, const int a_off, const int lda, const int a_trans,
                     const int M, const int K, __global float *Ap)
{
    const int k0 = get_global_id(0) * CPU_PACK_K, blk = get_global_id(1);
    if (k0 >= K || blk * CPU_RM >= M)
        return;
    const int kn = min(CPU_PACK_K, K - k0);
    __global float *out = Ap + ((size_t)blk * K + k0) * CPU_RM;
    if (a_trans) {
        /* op(A)(m, k) = A[k * lda + m]: a row block's CPU_RM values of one
         * k are contiguous, as in the packed order */
        for (int kk = 0; kk < kn; kk++) {
            __global const float *src = A + a_off + (size_t)(k0 + kk) * lda;
#pragma unroll
            for (int i = 0; i < CPU_RM; i++) {
                const int m = blk * CPU_RM + i;
                out[kk * CPU_RM + i] = m < M ? src[m] : 0.0f;
            }
        }
        return;
    }
    /* CPU_RM rows of A along k (zero rows below M and up to 16), turned
     * into k-major order in registers */
    float16 r[16];
#pragma unroll
    for (int i = 0; i < 16; i++) {
        const int m = blk * CPU_RM + i;
        __global const float *src = A + a_off + (size_t)m * lda + k0;
        if (i >= CPU_RM || m >= M) {
            r[i] = (float16)(0.0f);
        } else if (kn == CPU_PACK_K) {
            r[i] = vload16(0, src);
        } else {
            float t[CPU_PACK_K];
            for (int kk = 0; kk < CPU_PACK_K; kk++)
                t[kk] = kk < kn ? src[kk] : 0.0f;
            r[i] = vload16(0, t);
        }
    }
    cpu_transpose16(r);
    for (int kk = 0; kk < kn; kk++) {
        float t[16];
        vstore16(r[kk], 0, t);
#pragma unroll
        for (int i = 0; i < CPU_RM; i++)
            out[kk * CPU_RM + i] = t[i];
    }
}

/* One work-item per (CPU_PACK_K-chunk of k, column panel). */
__kernel void pack_b(__global const float *B, const int b_off, const int ldb, const int b_trans,
                     const int K, const int N, __global float *Bp)
{
    const int k0 = get_global_id(0) * CPU_PACK_K, p = get_global_id(1);
    const int n0 = p * CPU_CN;
    if (k0 >= K || n0 >= N)
        return;
    const int kn = min(CPU_PACK_K, K - k0), cols = min(CPU_CN, N - n0);
    __global float *out = Bp + ((size_t)p * K + k0) * CPU_CN;
    if (!b_trans) {
        /* a row of the panel is 32 contiguous values of a row of B */
        for (int kk = 0; kk < kn; kk++) {
            __global const float *src = B + b_off + (size_t)(k0 + kk) * ldb + n0;
            if (cols == CPU_CN) {
                vstore16(vload16(0, src), 0, out + kk * CPU_CN);
                vstore16(vload16(1, src), 1, out + kk * CPU_CN);
            } else {
                for (int j = 0; j < CPU_CN; j++)
                    out[kk * CPU_CN + j] = j < cols ? src[j] : 0.0f;
            }
        }
        return;
    }
    /* B[n, k]: each column of the panel is CPU_PACK_K contiguous values of
     * a row of B; 16 columns at a time are transposed in registers, the
     * edges (short k, a partial half panel) copied one by one */
    for (int h = 0; h < CPU_CN; h += 16) {
        __global const float *src = B + b_off + (size_t)(n0 + h) * ldb + k0;
        if (kn == CPU_PACK_K && cols >= h + 16) {
            float16 r[16];
#pragma unroll
            for (int j = 0; j < 16; j++)
                r[j] = vload16(0, src + (size_t)j * ldb);
            cpu_transpose16(r);
#pragma unroll
            for (int kk = 0; kk < 16; kk++)
                vstore16(r[kk], 0, out + kk * CPU_CN + h);
        } else {
            for (int kk = 0; kk < kn; kk++)
                for (int j = 0; j < 16; j++)
                    out[kk * CPU_CN + h + j] = h + j < cols ? src[(size_t)j * ldb + kk] : 0.0f;
        }
    }
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

/* Accumulates a row block against a packed panel b (CPU_CN per k); op(A)
 * from the packed block a (a_step 0) or through the row pointers ap
 * stepping a_step per k. narrow: only the first 16 columns. */
CPU_INLINE void cpu_packed_loop(__global const float *a, __global const float *const *ap,
                                const int a_step, __global const float *b, const int K,
                                const int narrow, float16 *lo, float16 *hi)
{
    float av[CPU_RM];
    if (a_step == 0 && !narrow) {
        for (int k = 0; k < K; k++, a += CPU_RM, b += CPU_CN) {
#pragma unroll
            for (int i = 0; i < CPU_RM; i++)
                av[i] = a[i];
            cpu_block_fma(av, vload16(0, b), vload16(1, b), lo, hi);
        }
    } else if (a_step == 0) {
        for (int k = 0; k < K; k++, a += CPU_RM, b += CPU_CN) {
#pragma unroll
            for (int i = 0; i < CPU_RM; i++)
                av[i] = a[i];
            cpu_block_fma_lo(av, vload16(0, b), lo);
        }
    } else if (!narrow) {
        for (int k = 0; k < K; k++, b += CPU_CN) {
#pragma unroll
            for (int i = 0; i < CPU_RM; i++)
                av[i] = ap[i][k * a_step];
            cpu_block_fma(av, vload16(0, b), vload16(1, b), lo, hi);
        }
    } else {
        for (int k = 0; k < K; k++, b += CPU_CN) {
#pragma unroll
            for (int i = 0; i < CPU_RM; i++)
                av[i] = ap[i][k * a_step];
            cpu_block_fma_lo(av, vload16(0, b), lo);
        }
    }
}

/* C[M,N] = act(op(A) Bp + bias): one work-item per (row block, column
 * panel). a_form says where op(A) is: 0 packed (A is Ap, offsets unused),
 * 1 A[M,K] as given, 2 A[K,M] (transposed). */
__kernel void gemm_cpu_packed(const int M, const int N, const int K, __global const float *A,
                              const int a_off, const int lda, const int a_form,
                              __global const float *Bp, __global float *C, const int c_off,
                              const int ldc, __global const float *bias, const int bias_off,
                              const int has_bias, const int act)
{
    const int blk = get_global_id(0), p = get_global_id(1);
    const int m0 = blk * CPU_RM, n0 = p * CPU_CN;
    if (m0 >= M || n0 >= N)
        return;
    __global const float *b = Bp + (size_t)p * K * CPU_CN;
    __global const float *ap[CPU_RM];
#pragma unroll
    for (int i = 0; i < CPU_RM; i++) {
        const int m = min(m0 + i, M - 1); /* clamped: valid memory, result discarded */
        ap[i] = A + a_off + (a_form == 2 ? (size_t)m : (size_t)m * lda);
    }
    const int a_step = a_form == 0 ? 0 : a_form == 2 ? lda : 1;
    float16 lo[CPU_RM], hi[CPU_RM];
#pragma unroll
    for (int i = 0; i < CPU_RM; i++)
        lo[i] = hi[i] = (float16)(0.0f);
    cpu_packed_loop(A + (size_t)blk * K * CPU_RM, ap, a_step, b, K, N - n0 <= 16, lo, hi);
    cpu_block_store(lo, hi, C, c_off, ldc, m0, n0, M, N, bias, bias_off, has_bias, act);
}
