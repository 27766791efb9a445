/* Device memory: clseq's count of its buffers per device, the refusal of a
 * buffer that would exceed the device's global memory (before the driver
 * can abort the process), and CLBlast's program cache, cleared when the
 * last context that used CLBlast is freed.
 *
 * The exhaustion test runs this executable again as a child (fork + exec,
 * so the child starts without the parent's OpenCL state) with
 * POCL_MEMORY_LIMIT=1, which makes PoCL report 1 GiB of global memory, and
 * checks the child's exit status: a refusal, not a crash. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/gemm_provider.h"
#include "runtime/runtime.h"
#include "testutil.h"

enum { CHILD_REFUSED = 0, CHILD_FITTED = 1, CHILD_OTHER_ERROR = 2, CHILD_NOT_LIMITED = 3 };

static const char *self_path;

/* The child: a dense layer of 2,000,000 units on 30 inputs under Adam: four
 * parameter-sized vectors of 244 MiB each plus a workspace of 244 MiB per
 * activation at batch 32, well over 1 GiB. Prints the error on stdout. */
static int huge_model_child(void)
{
    clseq_ctx *ctx = NULL;
    if (clseq_ctx_create(NULL, &ctx) != CLSEQ_OK) {
        printf("context: %s\n", clseq_last_error());
        return CHILD_OTHER_ERROR;
    }
    if (clseq_ctx_main_device(ctx)->global_mem != (cl_ulong)1 << 30) {
        printf("the device ignores POCL_MEMORY_LIMIT\n");
        clseq_ctx_free(ctx);
        return CHILD_NOT_LIMITED;
    }
    clseq_model *m = NULL;
    clseq_status s = clseq_model_create(ctx, 30, &m);
    if (s == CLSEQ_OK)
        s = clseq_add_dense(m, 2000000, CLSEQ_RELU);
    if (s == CLSEQ_OK)
        s = clseq_add_dense(m, 1, CLSEQ_LINEAR);
    if (s == CLSEQ_OK)
        s = clseq_compile(m, clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f), CLSEQ_MEAN_SQUARED_ERROR, 0);
    static float x[64 * 30], y[64];
    clseq_fit_options fo = clseq_fit_defaults();
    fo.verbose = 0;
    if (s == CLSEQ_OK)
        s = clseq_fit(m, x, y, 64, &fo, NULL);
    printf("%s: %s\n", clseq_status_name(s), s == CLSEQ_OK ? "" : clseq_last_error());
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    return s == CLSEQ_E_NOMEM ? CHILD_REFUSED
           : s == CLSEQ_OK    ? CHILD_FITTED
                              : CHILD_OTHER_ERROR;
}

START_TEST(exhausting_device_memory_is_an_error_not_a_crash)
{
    int out[2];
    ck_assert_int_eq(pipe(out), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        setenv("POCL_MEMORY_LIMIT", "1", 1);
        execl(self_path, self_path, "--huge-model-child", (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    char text[4096];
    size_t used = 0;
    ssize_t got;
    while (used + 1 < sizeof text && (got = read(out[0], text + used, sizeof text - 1 - used)) > 0)
        used += (size_t)got;
    text[used] = '\0';
    close(out[0]);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status), "the child died of signal %d: %s",
                  WIFSIGNALED(status) ? WTERMSIG(status) : 0, text);
    if (WEXITSTATUS(status) == CHILD_NOT_LIMITED)
        return; /* not PoCL: nothing here limits the device */
    ck_assert_msg(WEXITSTATUS(status) == CHILD_REFUSED, "child exit %d: %s", WEXITSTATUS(status),
                  text);
    /* the request, the device and what is left */
    ck_assert_msg(strstr(text, "CLSEQ_E_NOMEM") && strstr(text, "bytes") &&
                      strstr(text, "global memory") && strstr(text, "left"),
                  "unclear message: %s", text);
}
END_TEST

/* A context of its own, so the count starts from its program's buffers. */
static clseq_ctx *private_ctx(void)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    return test_ctx_with(&o);
}

START_TEST(buffers_are_counted_until_destroyed)
{
    clseq_ctx *ctx = private_ctx();
    clseq_device *d = clseq_ctx_main_device(ctx);
    ck_assert_uint_ge(d->global_mem, 1);
    cl_ulong base = clseq_buffer_allocated(d);
    cl_mem a = NULL, b = NULL;
    ck_assert_clseq_ok(clseq_buffer_create(d, 1000, &a));
    ck_assert_uint_eq(clseq_buffer_allocated(d), base + 1000);
    ck_assert_clseq_ok(clseq_buffer_create_named(d, 0, "empty", &b)); /* one float */
    ck_assert_uint_eq(clseq_buffer_allocated(d), base + 1000 + sizeof(float));
    clseq_buffer_release(&a);
    ck_assert_ptr_null(a);
    ck_assert_uint_eq(clseq_buffer_allocated(d), base + sizeof(float));
    clReleaseMemObject(b); /* released around clseq_buffer_release: still uncounted */
    ck_assert_uint_eq(clseq_buffer_allocated(d), base);
    clseq_ctx_free(ctx);
}
END_TEST

START_TEST(a_buffer_past_global_memory_is_refused_before_the_driver)
{
    clseq_ctx *ctx = private_ctx();
    clseq_device *d = clseq_ctx_main_device(ctx);
    cl_ulong real = d->global_mem;
    /* pretend the device has 4 MiB beyond what clseq holds: its budget is
     * then a little under that, and 2 + 2 MiB cannot both fit */
    d->global_mem = clseq_buffer_allocated(d) + (4u << 20);
    cl_mem a = NULL, b = NULL;
    ck_assert_clseq_ok(clseq_buffer_create_named(d, 2u << 20, "first", &a));
    ck_assert_int_eq(clseq_buffer_create_named(d, 2u << 20, "model parameters", &b),
                     CLSEQ_E_NOMEM);
    ck_assert_ptr_null(b);
    const char *msg = clseq_last_error();
    char request[32];
    snprintf(request, sizeof request, "%u bytes", 2u << 20);
    ck_assert_msg(strstr(msg, "model parameters") && strstr(msg, request) &&
                      strstr(msg, d->name) && strstr(msg, "left"),
                  "unclear message: %s", msg);
    /* the failed request reserved nothing, and a smaller one still fits */
    ck_assert_clseq_ok(clseq_buffer_create(d, 1u << 20, &b));
    clseq_buffer_release(&b);
    /* above the largest allocation: refused whatever is free */
    d->global_mem = real;
    ck_assert_int_eq(clseq_buffer_create(d, (size_t)d->max_alloc + 1, &b), CLSEQ_E_NOMEM);
    ck_assert_msg(strstr(clseq_last_error(), "largest allocation"), "%s", clseq_last_error());
    clseq_buffer_release(&a);
    clseq_ctx_free(ctx);
}
END_TEST

START_TEST(a_buffer_may_outlive_its_context)
{
    clseq_ctx *ctx = private_ctx();
    cl_mem a = NULL;
    ck_assert_clseq_ok(clseq_buffer_create(clseq_ctx_main_device(ctx), 64, &a));
    clseq_ctx_free(ctx); /* the count stays alive for the buffer (ASan checks) */
    clseq_buffer_release(&a);
}
END_TEST

/* C = A B for a 33 x 17 by 17 x 29 product through CLBlast on ctx's device,
 * with three distinct buffers, against a host reference. */
static void clblast_product(clseq_ctx *ctx)
{
    enum { M = 33, K = 17, N = 29 };
    static float a[M * K], b[K * N], c[M * N];
    test_fill_uniform(a, M * K, 3, -1, 1);
    test_fill_uniform(b, K * N, 4, -1, 1);
    clseq_device *d = clseq_ctx_main_device(ctx);
    cl_mem A, B, C;
    ck_assert_clseq_ok(clseq_buffer_create(d, sizeof a, &A));
    ck_assert_clseq_ok(clseq_buffer_create(d, sizeof b, &B));
    ck_assert_clseq_ok(clseq_buffer_create(d, sizeof c, &C));
    ck_assert_clseq_ok(clseq_buffer_write(d, A, 0, sizeof a, a));
    ck_assert_clseq_ok(clseq_buffer_write(d, B, 0, sizeof b, b));
    ck_assert_clseq_ok(clseq_clblast_gemm(d, 0, 0, M, N, K, A, 0, K, B, 0, N, C, 0, N));
    ck_assert_clseq_ok(clseq_buffer_read(d, C, 0, sizeof c, c));
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double want = 0;
            for (int k = 0; k < K; k++)
                want += (double)a[m * K + k] * b[k * N + n];
            ck_assert_msg(fabs(c[m * N + n] - want) <= 1e-5, "(%d,%d): %g vs %g", m, n,
                          c[m * N + n], want);
        }
    clseq_buffer_release(&A);
    clseq_buffer_release(&B);
    clseq_buffer_release(&C);
}

START_TEST(clblast_cache_is_cleared_by_the_last_context)
{
#ifndef CLSEQ_TEST_HAVE_CLBLAST
    return; /* built without CLBlast */
#endif
    clseq_ctx_options o = clseq_ctx_defaults();
    o.gemm = CLSEQ_GEMM_CLBLAST;
    int before = clseq_gemm_clblast_users();
    /* in sequence: the second works after the first cleared the cache */
    for (int round = 0; round < 2; round++) {
        clseq_ctx *ctx = test_ctx_with(&o);
        clblast_product(ctx);
        ck_assert_int_eq(clseq_gemm_clblast_users(), before + 1);
        clseq_ctx_free(ctx);
        ck_assert_int_eq(clseq_gemm_clblast_users(), before);
    }
    /* overlapping: freeing one leaves the other's programs usable */
    clseq_ctx *first = test_ctx_with(&o), *second = test_ctx_with(&o);
    clblast_product(first);
    clblast_product(second);
    ck_assert_int_eq(clseq_gemm_clblast_users(), before + 2);
    clseq_ctx_free(first);
    ck_assert_int_eq(clseq_gemm_clblast_users(), before + 1);
    clblast_product(second);
    clseq_ctx_free(second);
    ck_assert_int_eq(clseq_gemm_clblast_users(), before);
}
END_TEST

Suite *memory_suite(void);
Suite *memory_suite(void)
{
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("memory");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, exhausting_device_memory_is_an_error_not_a_crash);
    tcase_add_test(tc, buffers_are_counted_until_destroyed);
    tcase_add_test(tc, a_buffer_past_global_memory_is_refused_before_the_driver);
    tcase_add_test(tc, a_buffer_may_outlive_its_context);
    tcase_add_test(tc, clblast_cache_is_cleared_by_the_last_context);
    suite_add_tcase(s, tc);
    return s;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--huge-model-child") == 0)
        return huge_model_child();
    self_path = argv[0];
    return test_run_suite(memory_suite());
}
