/* The C control of clseq bench gemm: an SGEMM written by hand with AVX-512
 * intrinsics (gemm_control.c), timed next to clseq's OpenCL kernels so the
 * figures say what share of the machine's peak code without PoCL reaches. */
#ifndef CLSEQ_BENCH_GEMM_CONTROL_H
#define CLSEQ_BENCH_GEMM_CONTROL_H

/* Whether this CPU and build can run the control (x86 with AVX-512F). */
int gemm_control_available(void);

/* C[m,n] = op(A) op(B), row-major: op(A) is A[m,k] (lda) or, with trans_a,
 * A[k,m]^T; op(B) is B[k,n] (ldb) or, with trans_b, B[n,k]^T; C's leading
 * dimension is n. Runs on up to threads pthreads; returns 0 when out of
 * memory or threads could not start (C is then unspecified). */
int gemm_control_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                       const float *b, int ldb, float *c, int threads);

#endif
