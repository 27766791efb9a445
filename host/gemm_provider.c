/* The GEMM provider choice and the CLBlast call. */
#include "gemm_provider.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"

#ifdef CLSEQ_HAVE_CLBLAST
#include <clblast_c.h>
#endif

clseq_status clseq_clblast_gemm(clseq_ctx *ctx, int trans_a, int trans_b, int M, int N, int K,
                                cl_mem A, int a_off, int lda, cl_mem B, int b_off, int ldb,
                                cl_mem C, int c_off, int ldc)
{
#ifdef CLSEQ_HAVE_CLBLAST
    CLBlastStatusCode code = CLBlastSgemm(
        CLBlastLayoutRowMajor, trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        trans_b ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)M, (size_t)N, (size_t)K, 1.0f,
        A, (size_t)a_off, (size_t)lda, B, (size_t)b_off, (size_t)ldb, 0.0f, C, (size_t)c_off,
        (size_t)ldc, &ctx->queue, NULL);
    if (code == CLBlastSuccess)
        return CLSEQ_OK;
    return clseq_fail(code == CLBlastOpenCLOutOfResources || code == CLBlastOpenCLOutOfHostMemory
                          ? CLSEQ_E_NOMEM
                          : CLSEQ_E_CL,
                      "CLBlastSgemm (%d x %d x %d) failed with status %d", M, N, K, (int)code);
#else
    (void)ctx, (void)trans_a, (void)trans_b, (void)M, (void)N, (void)K, (void)A, (void)a_off;
    (void)lda, (void)B, (void)b_off, (void)ldb, (void)C, (void)c_off, (void)ldc;
    return clseq_fail(CLSEQ_E_STATE, "this clseq was built without CLBlast");
#endif
}

/* The product of a 37 x 19 and a 19 x 23 matrix through both providers
 * must agree to float rounding; 1 if it does. */
static clseq_status check_clblast(clseq_ctx *ctx, int *agrees)
{
    enum { M = 37, K = 19, N = 23 };
    float a[M * K], b[K * N], ours[M * N], theirs[M * N];
    for (int i = 0; i < M * K; i++)
        a[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    for (int i = 0; i < K * N; i++)
        b[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
    cl_mem A = NULL, B = NULL, C = NULL;
    clseq_status s = clseq_buffer_create(ctx, sizeof a, &A);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create(ctx, sizeof b, &B);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create(ctx, sizeof ours, &C);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(ctx, A, 0, sizeof a, a);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(ctx, B, 0, sizeof b, b);
    if (s == CLSEQ_OK)
        s = clseq_op_gemm(ctx, 0, 0, M, N, K, (clseq_mat){A, 0, K}, (clseq_mat){B, 0, N},
                          (clseq_mat){C, 0, N}, (clseq_mat){NULL, 0, 0}, CLSEQ_LINEAR);
    if (s == CLSEQ_OK)
        s = clseq_buffer_read(ctx, C, 0, sizeof ours, ours);
    if (s == CLSEQ_OK)
        s = clseq_clblast_gemm(ctx, 0, 0, M, N, K, A, 0, K, B, 0, N, C, 0, N);
    if (s == CLSEQ_OK)
        s = clseq_buffer_read(ctx, C, 0, sizeof theirs, theirs);
    *agrees = s == CLSEQ_OK;
    for (int i = 0; i < M * N && *agrees; i++)
        *agrees = fabsf(ours[i] - theirs[i]) <= 1e-5f;
    clseq_buffer_release(&A);
    clseq_buffer_release(&B);
    clseq_buffer_release(&C);
    return s;
}

clseq_status clseq_gemm_provider_choose(clseq_ctx *ctx)
{
    const char *choice = getenv("CLSEQ_GEMM");
    ctx->gemm_clblast = 0;
    if (!choice || !*choice || strcmp(choice, "builtin") == 0)
        choice = choice && *choice ? choice : "auto";
    if (strcmp(choice, "builtin") == 0)
        return CLSEQ_OK;
    int wanted = strcmp(choice, "clblast") == 0;
    if (!wanted && strcmp(choice, "auto") != 0)
        return clseq_fail(CLSEQ_E_ARG, "CLSEQ_GEMM='%s': expected builtin, clblast or auto", choice);
#ifndef CLSEQ_HAVE_CLBLAST
    if (wanted)
        return clseq_fail(CLSEQ_E_ARG, "CLSEQ_GEMM=clblast, but this clseq was built without CLBlast");
    return CLSEQ_OK;
#else
    if (!wanted && !(ctx->device_type & CL_DEVICE_TYPE_GPU))
        return CLSEQ_OK;
    int agrees = 0;
    clseq_status s = check_clblast(ctx, &agrees);
    if (wanted && s != CLSEQ_OK)
        return clseq_fail_context(s, "CLSEQ_GEMM=clblast: ");
    if (wanted && !agrees)
        return clseq_fail(CLSEQ_E_CL, "CLSEQ_GEMM=clblast: CLBlast's product disagrees with clseq's "
                                      "on %s", ctx->device_name);
    ctx->gemm_clblast = s == CLSEQ_OK && agrees;
    return CLSEQ_OK;
#endif
}
