/* The C control for clseq's SGEMM: the same product written by hand for
 * AVX-512 in plain C, so that `clseq bench gemm` can say how much of the
 * machine's peak is reachable without PoCL's code generation (issue
 * "Speed 2"). It is a benchmark, not a provider: nothing in the library
 * calls it.
 *
 * Organisation (the BLIS loop nest, written for row-major C, so the roles
 * of A and B are those of BLIS's B and A):
 *   for each NC-column block of B (jc):
 *     for each KC-deep slice (pc): pack B[pc.., jc..] into NR-column panels
 *       for each MC-row block of A (ic): pack A[ic.., pc..] into MR-row panels
 *         for each MR-row panel (ir), for each NR-column panel (jr):
 *           the MR x NR micro-kernel, C += Ap Bp over KC
 * The micro-kernel keeps its 6 x 32 block of C in 12 zmm registers; per k
 * it loads two vectors of B and broadcasts 6 values of A (folded into the
 * FMAs as {1to16} operands): 12 FMAs per 2 loads. (A 12 x 32 block, 24
 * accumulators and 24 FMAs per 2 loads, measured slower on the Zen 4 this
 * was tuned on: 0.86 of OpenBLAS at 2048^3 against 0.94.) The MR x KC
 * panel of A (6 KiB at KC 256) stays in L1 while the NR-wide panels of the
 * packed B block (KC x NC, 512 KiB) stream from L2. Packing reads the
 * transposed operands in their own order, so all forms run the same
 * kernel.
 *
 * Threads split the columns of C (or its rows, when C is narrow); each
 * packs its own share. The micro-kernel and packing compile for AVX-512
 * through target attributes, so the build needs no -march flag. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "gemm_control.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__)
#define CONTROL_X86 1
#include <immintrin.h>
#endif

/* Register block and cache blocks (chosen by measurement on a Zen 4 EPYC:
 * 32 KiB L1d, 1 MiB L2 per core; KC 384 or 512, MC 144 or 192 and NC 1024
 * measured the same within noise). */
enum { MR = 6, NR = 32, KC = 256, MC = 96, NC = 512, MAX_THREADS = 64 };

int gemm_control_available(void)
{
#ifdef CONTROL_X86
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}

/* One thread's share: C[m, n] (leading dimension ldc) = op(A) op(B) where
 * A and B already point at the share's first row and column. */
typedef struct share {
    int trans_a, trans_b, m, n, k, lda, ldb, ldc;
    const float *a, *b;
    float *c;
    float *ap, *bp; /* MC x KC and KC x NC packing buffers */
} share;

#ifdef CONTROL_X86
/* op(A)[i0 + i, p0 + p] into MR-row panels: ap[(i / MR) * kc * MR + p * MR
 * + i % MR], rows past mc zero. */
static void pack_a(const share *s, int i0, int mc, int p0, int kc, float *ap)
{
    for (int ir = 0; ir < mc; ir += MR) {
        float *panel = ap + (size_t)ir * kc;
        int rows = mc - ir < MR ? mc - ir : MR;
        if (s->trans_a) {
            /* a panel's row of k is contiguous in A^T */
            for (int p = 0; p < kc; p++) {
                const float *src = s->a + (size_t)(p0 + p) * s->lda + i0 + ir;
                for (int i = 0; i < MR; i++)
                    panel[p * MR + i] = i < rows ? src[i] : 0.0f;
            }
            continue;
        }
        /* MR rows of A read side by side, the panel written in order */
        const float *src[MR];
        for (int i = 0; i < MR; i++)
            src[i] = s->a + (size_t)(i0 + ir + (i < rows ? i : 0)) * s->lda + p0;
        for (int p = 0; p < kc; p++)
            for (int i = 0; i < MR; i++)
                panel[p * MR + i] = i < rows ? src[i][p] : 0.0f;
    }
}

/* op(B)[p0 + p, j0 + j] into NR-column panels: bp[(j / NR) * kc * NR + p *
 * NR + j % NR], columns past nc zero. */
static void pack_b(const share *s, int p0, int kc, int j0, int nc, float *bp)
{
    for (int jr = 0; jr < nc; jr += NR) {
        float *panel = bp + (size_t)jr * kc;
        int cols = nc - jr < NR ? nc - jr : NR;
        if (!s->trans_b) {
            for (int p = 0; p < kc; p++) {
                const float *src = s->b + (size_t)(p0 + p) * s->ldb + j0 + jr;
                memcpy(panel + p * NR, src, (size_t)cols * sizeof(float));
                memset(panel + p * NR + cols, 0, (size_t)(NR - cols) * sizeof(float));
            }
        } else {
            for (int j = 0; j < NR; j++) {
                const float *src = s->b + (size_t)(j0 + jr + j) * s->ldb + p0;
                for (int p = 0; p < kc; p++)
                    panel[p * NR + j] = j < cols ? src[p] : 0.0f;
            }
        }
    }
}

/* The MR rows of the register block, as named variables: GCC keeps an
 * array of vectors in memory. */
#define CONTROL_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* c[MR x NR] (leading dimension ldc) = (accumulate ? c : 0) + ap bp over kc. */
__attribute__((target("avx512f"))) static void micro_kernel(int kc, const float *restrict ap,
                                                            const float *restrict bp,
                                                            float *restrict c, int ldc,
                                                            int accumulate)
{
#define DECLARE(i) __m512 lo##i = _mm512_setzero_ps(), hi##i = _mm512_setzero_ps();
    CONTROL_ROWS(DECLARE)
    for (int p = 0; p < kc; p++, ap += MR, bp += NR) {
        const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
#define STEP(i)                                                                                   \
    {                                                                                             \
        const __m512 a = _mm512_set1_ps(ap[i]);                                                  \
        lo##i = _mm512_fmadd_ps(a, b0, lo##i);                                                    \
        hi##i = _mm512_fmadd_ps(a, b1, hi##i);                                                    \
    }
        CONTROL_ROWS(STEP)
    }
#define STORE(i)                                                                                  \
    {                                                                                             \
        float *row = c + (size_t)(i) * ldc;                                                       \
        if (accumulate) {                                                                         \
            lo##i = _mm512_add_ps(lo##i, _mm512_loadu_ps(row));                                   \
            hi##i = _mm512_add_ps(hi##i, _mm512_loadu_ps(row + 16));                              \
        }                                                                                         \
        _mm512_storeu_ps(row, lo##i);                                                             \
        _mm512_storeu_ps(row + 16, hi##i);                                                        \
    }
    CONTROL_ROWS(STORE)
#undef DECLARE
#undef STEP
#undef STORE
}

/* One register block at C(i, j) of rows x cols (at most MR x NR); a
 * partial block goes through a full one on the stack. */
__attribute__((target("avx512f"))) static void block(const share *s, int kc, const float *ap,
                                                     const float *bp, int i, int j, int rows,
                                                     int cols, int accumulate)
{
    float *c = s->c + (size_t)i * s->ldc + j;
    if (rows == MR && cols == NR) {
        micro_kernel(kc, ap, bp, c, s->ldc, accumulate);
        return;
    }
    float tile[MR * NR] __attribute__((aligned(64)));
    micro_kernel(kc, ap, bp, tile, NR, 0);
    for (int r = 0; r < rows; r++)
        for (int q = 0; q < cols; q++)
            c[(size_t)r * s->ldc + q] = (accumulate ? c[(size_t)r * s->ldc + q] : 0.0f) +
                                        tile[r * NR + q];
}

static void run_share(const share *s)
{
    for (int jc = 0; jc < s->n; jc += NC) {
        int nc = s->n - jc < NC ? s->n - jc : NC;
        for (int pc = 0; pc < s->k; pc += KC) {
            int kc = s->k - pc < KC ? s->k - pc : KC;
            pack_b(s, pc, kc, jc, nc, s->bp);
            for (int ic = 0; ic < s->m; ic += MC) {
                int mc = s->m - ic < MC ? s->m - ic : MC;
                pack_a(s, ic, mc, pc, kc, s->ap);
                for (int ir = 0; ir < mc; ir += MR)
                    for (int jr = 0; jr < nc; jr += NR)
                        block(s, kc, s->ap + (size_t)ir * kc, s->bp + (size_t)jr * kc, ic + ir,
                              jc + jr, mc - ir < MR ? mc - ir : MR, nc - jr < NR ? nc - jr : NR,
                              pc > 0);
            }
        }
    }
}
#else
static void run_share(const share *s)
{
    (void)s;
}
#endif

static void *share_main(void *arg)
{
    run_share(arg);
    return NULL;
}

static int cpu_count(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return 1;
    int n = CPU_COUNT(&set);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
}

int gemm_control_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                       const float *b, int ldb, float *c, int threads)
{
    if (threads <= 0)
        threads = cpu_count();
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    /* split the columns in NR-wide steps when there are enough of them,
     * else the rows in MR-high steps */
    int by_cols = n >= threads * NR * 2;
    int units = by_cols ? (n + NR - 1) / NR : (m + MR - 1) / MR;
    if (threads > units)
        threads = units;
    share shares[MAX_THREADS];
    pthread_t ids[MAX_THREADS];
    int started = 0, ok = 1;
    for (int t = 0; t < threads; t++) {
        int u0 = units * t / threads, u1 = units * (t + 1) / threads;
        int i0 = by_cols ? 0 : u0 * MR, j0 = by_cols ? u0 * NR : 0;
        int rows = by_cols ? m : (u1 * MR < m ? u1 * MR : m) - i0;
        int cols = by_cols ? (u1 * NR < n ? u1 * NR : n) - j0 : n;
        shares[t] = (share){trans_a, trans_b, rows, cols, k, lda, ldb, n,
                            trans_a ? a + i0 : a + (size_t)i0 * lda,
                            trans_b ? b + (size_t)j0 * ldb : b + j0,
                            c + (size_t)i0 * n + j0, NULL, NULL};
        shares[t].ap = aligned_alloc(64, (size_t)MC * KC * sizeof(float));
        shares[t].bp = aligned_alloc(64, (size_t)KC * NC * sizeof(float));
        if (!shares[t].ap || !shares[t].bp) {
            free(shares[t].ap);
            free(shares[t].bp);
            threads = t;
            ok = 0;
            break;
        }
    }
    /* the caller's thread takes share 0 */
    for (int t = 1; ok && t < threads; t++) {
        if (pthread_create(&ids[t], NULL, share_main, &shares[t]) != 0)
            ok = 0;
        else
            started = t;
    }
    if (ok && threads > 0)
        run_share(&shares[0]);
    for (int t = 1; t <= started; t++)
        pthread_join(ids[t], NULL);
    for (int t = 0; t < threads; t++) {
        free(shares[t].ap);
        free(shares[t].bp);
    }
    return ok;
}
