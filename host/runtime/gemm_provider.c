/* The GEMM provider choice and the CLBlast call. */
#include "runtime/gemm_provider.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

#ifdef CLSEQ_HAVE_CLBLAST
#include <stdatomic.h>

#include <clblast_c.h>

/* Devices that have called CLBlast and not yet closed. CLBlast keeps every
 * program it compiles in one process-wide cache, keyed by context and
 * device, and each cached program holds its OpenCL context; nothing empties
 * it but CLBlastClearCache(), so without a clear the programs are only
 * released by C++ static destructors at exit, after the OpenCL driver may
 * have been torn down (Oclgrind: "corrupted double-linked list"). The
 * cache is process-wide, so the count of its users has to be too. Clearing
 * while another device still uses CLBlast would be safe (CLBlast's caches
 * take a mutex and hand out shared references, src/cache.cpp) but would
 * make that device compile its kernels again, so only the last user
 * clears. */
static atomic_int clblast_users;

/* Counts dev among CLBlast's users on its first call. */
static void clblast_use(clseq_device *dev)
{
    if (atomic_exchange(&dev->clblast_user, 1) == 0)
        atomic_fetch_add(&clblast_users, 1);
}
#endif

clseq_status clseq_clblast_gemm(clseq_device *dev, int trans_a, int trans_b, int M, int N, int K,
                                cl_mem A, int a_off, int lda, cl_mem B, int b_off, int ldb,
                                cl_mem C, int c_off, int ldc)
{
#ifdef CLSEQ_HAVE_CLBLAST
    clblast_use(dev);
    CLBlastStatusCode code = CLBlastSgemm(
        CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)M, (size_t)N, (size_t)K, 1.0f,
        A, (size_t)a_off, (size_t)lda, B, (size_t)b_off, (size_t)ldb, 0.0f, C, (size_t)c_off,
        (size_t)ldc, &dev->queue, NULL);
    if (code == CLBlastSuccess)
        return CLSEQ_OK;
    return clseq_fail(code == CLBlastOpenCLOutOfResources || code == CLBlastOpenCLOutOfHostMemory
                          ? CLSEQ_E_NOMEM
                          : CLSEQ_E_CL,
                      "CLBlastSgemm (%d x %d x %d) failed with status %d", M, N, K, (int)code);
#else
    (void)dev, (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)A, (void)a_off;
    (void)lda, (void)B, (void)b_off, (void)ldb, (void)C, (void)c_off, (void)ldc;
    return clseq_fail(CLSEQ_E_STATE, "this clseq was built without CLBlast");
#endif
}

#ifdef CLSEQ_HAVE_CLBLAST
/* The product of a 37 x 19 and a 19 x 23 matrix through both providers
 * must agree to float rounding; 1 if it does. */
static clseq_status check_clblast(clseq_device *dev, int *agrees)
{
    enum { M = 37, K = 19, N = 23 };
    float a[M * K], b[K * N], ours[M * N], theirs[M * N];
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
    cl_mem A = NULL, B = NULL, C = NULL;
    clseq_status s = clseq_buffer_create(dev, sizeof a, &A);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create(dev, sizeof b, &B);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create(dev, sizeof ours, &C);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(dev, A, 0, sizeof a, a);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(dev, B, 0, sizeof b, b);
    if (s == CLSEQ_OK)
        s = clseq_op_gemm(dev, 0, 0, M, N, K, (clseq_mat){A, 0, K}, (clseq_mat){B, 0, N},
                          (clseq_mat){C, 0, N}, (clseq_mat){NULL, 0, 0}, CLSEQ_LINEAR);
    if (s == CLSEQ_OK)
        s = clseq_buffer_read(dev, C, 0, sizeof ours, ours);
    if (s == CLSEQ_OK)
        s = clseq_clblast_gemm(dev, 0, 0, M, N, K, A, 0, K, B, 0, N, C, 0, N);
    if (s == CLSEQ_OK)
        s = clseq_buffer_read(dev, C, 0, sizeof theirs, theirs);
    *agrees = s == CLSEQ_OK;
    for (int i = 0; i < M * N && *agrees; i++)
        *agrees = fabsf(ours[i] - theirs[i]) <= 1e-5f;
    clseq_buffer_release(&A);
    clseq_buffer_release(&B);
    clseq_buffer_release(&C);
    return s;
}

#endif

clseq_status clseq_gemm_provider_choose(clseq_device *dev)
{
    clseq_gemm_provider choice = dev->ctx->options.gemm;
    dev->gemm_clblast = 0;
    if (choice == CLSEQ_GEMM_BUILTIN)
        return CLSEQ_OK;
    int wanted = choice == CLSEQ_GEMM_CLBLAST;
#ifndef CLSEQ_HAVE_CLBLAST
    if (wanted)
        return clseq_fail(CLSEQ_E_ARG, "GEMM provider clblast asked for, but this clseq was built "
                                       "without CLBlast");
    return CLSEQ_OK;
#else
    if (!wanted && !(dev->type & CL_DEVICE_TYPE_GPU))
        return CLSEQ_OK;
    int agrees = 0;
    clseq_status s = check_clblast(dev, &agrees);
    if (wanted && s != CLSEQ_OK)
        return clseq_fail_context(s, "GEMM provider clblast: ");
    if (wanted && !agrees)
        return clseq_fail(CLSEQ_E_CL, "GEMM provider clblast: CLBlast's product disagrees with "
                                      "clseq's on %s", dev->name);
    dev->gemm_clblast = s == CLSEQ_OK && agrees;
    return CLSEQ_OK;
#endif
}

void clseq_gemm_provider_release(clseq_device *dev)
{
#ifdef CLSEQ_HAVE_CLBLAST
    if (atomic_exchange(&dev->clblast_user, 0) && atomic_fetch_sub(&clblast_users, 1) == 1)
        CLBlastClearCache();
#else
    (void)dev;
#endif
}

int clseq_gemm_clblast_users(void)
{
#ifdef CLSEQ_HAVE_CLBLAST
    return atomic_load(&clblast_users);
#else
    return 0;
#endif
}
