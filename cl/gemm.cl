/* Matrix products for dense layers, in the three forms backprop needs:
 *   gemm_nn: C[M,N] = act(A[M,K]   * B[K,N]   + bias[N])   forward
 *   gemm_tn: C[M,N] =     A[K,M]^T * B[K,N]                weight gradient
 *   gemm_nt: C[M,N] =     A[M,K]   * B[N,K]^T              input gradient
 * Matrices are row-major with leading dimensions lda, ldb, ldc and start at
 * element offsets a_off, b_off, c_off (one parameter buffer holds every
 * layer). bias may be ignored with has_bias = 0; act is an ACT_* code other
 * than softmax. Any shape works: tiles are padded with zeros and stores are
 * guarded.
 *
 * The blocked kernels run (GEMM_TN/GEMM_WN) x (GEMM_TM/GEMM_WM) work-items
 * per group; each computes a GEMM_WM x GEMM_WN block of C from GEMM_TK-deep
 * slices staged in local memory. The gemm_small_* kernels compute one
 * element per work-item, for products too small to fill a tile. */

#ifndef GEMM_TM
#define GEMM_TM 64
#endif
#ifndef GEMM_TN
#define GEMM_TN 64
#endif
#ifndef GEMM_TK
#define GEMM_TK 16
#endif
#ifndef GEMM_WM
#define GEMM_WM 4
#endif
#ifndef GEMM_WN
#define GEMM_WN 4
#endif

#define GEMM_LX (GEMM_TN / GEMM_WN)
#define GEMM_LY (GEMM_TM / GEMM_WM)

/* Element (m, k) of op(A) and (k, n) of op(B). */
#define A_AT(m, k) (a_trans ? A[a_off + (k) * lda + (m)] : A[a_off + (m) * lda + (k)])
#define B_AT(k, n) (b_trans ? B[b_off + (n) * ldb + (k)] : B[b_off + (k) * ldb + (n)])

inline float gemm_epilogue(const float v, const int n, __global const float *bias,
                           const int bias_off, const int has_bias, const int act)
{
    return act_forward(act, has_bias ? v + bias[bias_off + n] : v);
}

inline void gemm_blocked(const int a_trans, const int b_trans, const int M, const int N,
                         const int K, __global const float *A, const int a_off, const int lda,
                         __global const float *B, const int b_off, const int ldb,
                         __global float *C, const int c_off, const int ldc,
                         __global const float *bias, const int bias_off, const int has_bias,
                         const int act, __local float *As, __local float *Bs)
{
    const int lx = get_local_id(0), ly = get_local_id(1);
    const int tid = ly * GEMM_LX + lx;
    const int threads = GEMM_LX * GEMM_LY;
    const int row0 = get_group_id(1) * GEMM_TM, col0 = get_group_id(0) * GEMM_TN;
    float acc[GEMM_WM][GEMM_WN];
    for (int i = 0; i < GEMM_WM; i++)
        for (int j = 0; j < GEMM_WN; j++)
            acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += GEMM_TK) {
        /* Stage As[k][m] and Bs[k][n]; consecutive work-items read along
         * the contiguous direction of each operand. */
        for (int i = tid; i < GEMM_TM * GEMM_TK; i += threads) {
            const int r = a_trans ? i % GEMM_TM : i / GEMM_TK;
            const int c = a_trans ? i / GEMM_TM : i % GEMM_TK;
            const int m = row0 + r, k = k0 + c;
            As[c * GEMM_TM + r] = (m < M && k < K) ? A_AT(m, k) : 0.0f;
        }
        for (int i = tid; i < GEMM_TN * GEMM_TK; i += threads) {
            const int c = b_trans ? i / GEMM_TK : i % GEMM_TN;
            const int r = b_trans ? i % GEMM_TK : i / GEMM_TN;
            const int n = col0 + c, k = k0 + r;
            Bs[r * GEMM_TN + c] = (n < N && k < K) ? B_AT(k, n) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int kk = 0; kk < GEMM_TK; kk++) {
            float a[GEMM_WM], b[GEMM_WN];
            for (int i = 0; i < GEMM_WM; i++)
                a[i] = As[kk * GEMM_TM + ly + i * GEMM_LY];
            for (int j = 0; j < GEMM_WN; j++)
                b[j] = Bs[kk * GEMM_TN + lx + j * GEMM_LX];
            for (int i = 0; i < GEMM_WM; i++)
                for (int j = 0; j < GEMM_WN; j++)
                    acc[i][j] = fma(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int i = 0; i < GEMM_WM; i++) {
        const int m = row0 + ly + i * GEMM_LY;
        for (int j = 0; j < GEMM_WN; j++) {
            const int n = col0 + lx + j * GEMM_LX;
            if (m < M && n < N)
                C[c_off + m * ldc + n] = gemm_epilogue(acc[i][j], n, bias, bias_off, has_bias, act);
        }
    }
}

inline void gemm_simple(const int a_trans, const int b_trans, const int M, const int N,
                        const int K, __global const float *A, const int a_off, const int lda,
                        __global const float *B, const int b_off, const int ldb,
                        __global float *C, const int c_off, const int ldc,
                        __global const float *bias, const int bias_off, const int has_bias,
                        const int act)
{
    const int n = get_global_id(0), m = get_global_id(1);
    if (m >= M || n >= N)
        return;
    float acc = 0.0f;
    for (int k = 0; k < K; k++)
        acc = fma(A_AT(m, k), B_AT(k, n), acc);
    C[c_off + m * ldc + n] = gemm_epilogue(acc, n, bias, bias_off, has_bias, act);
}

#define GEMM_ARGS                                                                        \
    const int M, const int N, const int K, __global const float *A, const int a_off,     \
        const int lda, __global const float *B, const int b_off, const int ldb,          \
        __global float *C, const int c_off, const int ldc, __global const float *bias,   \
        const int bias_off, const int has_bias, const int act
#define GEMM_PASS M, N, K, A, a_off, lda, B, b_off, ldb, C, c_off, ldc, bias, bias_off, has_bias, act

__kernel __attribute__((reqd_work_group_size(GEMM_LX, GEMM_LY, 1))) void gemm_nn(GEMM_ARGS)
{
    __local float As[GEMM_TK * GEMM_TM], Bs[GEMM_TK * GEMM_TN];
    gemm_blocked(0, 0, GEMM_PASS, As, Bs);
}

__kernel __attribute__((reqd_work_group_size(GEMM_LX, GEMM_LY, 1))) void gemm_tn(GEMM_ARGS)
{
    __local float As[GEMM_TK * GEMM_TM], Bs[GEMM_TK * GEMM_TN];
    gemm_blocked(1, 0, GEMM_PASS, As, Bs);
}

__kernel __attribute__((reqd_work_group_size(GEMM_LX, GEMM_LY, 1))) void gemm_nt(GEMM_ARGS)
{
    __local float As[GEMM_TK * GEMM_TM], Bs[GEMM_TK * GEMM_TN];
    gemm_blocked(0, 1, GEMM_PASS, As, Bs);
}

__kernel void gemm_small_nn(GEMM_ARGS) { gemm_simple(0, 0, GEMM_PASS); }
__kernel void gemm_small_tn(GEMM_ARGS) { gemm_simple(1, 0, GEMM_PASS); }
__kernel void gemm_small_nt(GEMM_ARGS) { gemm_simple(0, 1, GEMM_PASS); }
