/* Which code computes large matrix products: clseq's kernels, or CLBlast
 * when clseq was built with it (-DCLSEQ_WITH_CLBLAST=ON). */
#ifndef CLSEQ_GEMM_PROVIDER_H
#define CLSEQ_GEMM_PROVIDER_H

#include "runtime/runtime.h"

/* Sets dev->gemm_clblast from the context's gemm option: builtin, clblast
 * (an error if unavailable or wrong), or auto: CLBlast on GPUs when it passes
 * a check against the built-in kernel on a small product, the built-in
 * kernels on CPUs (where they are the faster of the two: README, "Speed"). */
clseq_status clseq_gemm_provider_choose(clseq_device *dev);
/* C = op(A) op(B) through CLBlast (row-major; at most one transpose);
 * CLSEQ_E_STATE if clseq was built without it. */
clseq_status clseq_clblast_gemm(clseq_device *dev, int trans_a, int trans_b, int M, int N, int K,
                                cl_mem A, int a_off, int lda, cl_mem B, int b_off, int ldb,
                                cl_mem C, int c_off, int ldc);
/* Ends dev's use of CLBlast (when it made one): the last device to go
 * clears CLBlast's process-wide program cache. Called as the device closes,
 * after its queue has finished. */
void clseq_gemm_provider_release(clseq_device *dev);
/* How many devices are counted as CLBlast's users now (0 without CLBlast). */
int clseq_gemm_clblast_users(void);

#endif
