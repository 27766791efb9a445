/* Every kernel against a plain C reference on random data across shapes.
 *
 * Tolerances: a float dot product of length K accumulates rounding of about
 * K * 2^-24 relative to the sum of |a_i b_i|; the checks allow 4x that bound
 * plus a tiny absolute floor, computed per element from the reference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/gemm_provider.h"
#include "ops/ops.h"
#include "testutil.h"

/* The device of the shared test context, where everything but the GEMM
 * families runs. */
static clseq_device *dev(void)
{
    return clseq_ctx_main_device(test_ctx());
}

static cl_mem upload_to(clseq_device *d, const float *host, size_t count)
{
    cl_mem buf;
    ck_assert_clseq_ok(clseq_buffer_create(d, count * sizeof(float), &buf));
    ck_assert_clseq_ok(clseq_buffer_write(d, buf, 0, count * sizeof(float), host));
    return buf;
}

static void download_from(clseq_device *d, cl_mem buf, float *host, size_t count)
{
    ck_assert_clseq_ok(clseq_buffer_read(d, buf, 0, count * sizeof(float), host));
}

static cl_mem upload(const float *host, size_t count)
{
    return upload_to(dev(), host, count);
}

static void download(cl_mem buf, float *host, size_t count)
{
    download_from(dev(), buf, host, count);
}

static float act_ref(clseq_activation act, float z)
{
    return (float)test_activation(act, z);
}

static const char *family_name(const clseq_device *d);

/* Checks op(A) op(B) + bias on device d for one shape and transpose form,
 * with the matrices placed at non-zero offsets inside larger buffers. */
static void check_gemm(clseq_device *d, int trans_a, int trans_b, int M, int N, int K,
                       int with_bias, clseq_activation act)
{
    const int a_off = 3, b_off = 5, c_off = 7, bias_off = 2;
    size_t a_count = (size_t)M * K + a_off, b_count = (size_t)K * N + b_off;
    size_t c_count = (size_t)M * N + c_off;
    float *a = malloc(a_count * sizeof *a), *b = malloc(b_count * sizeof *b);
    float *bias = malloc(((size_t)N + bias_off) * sizeof *bias);
    float *c = malloc(c_count * sizeof *c);
    test_fill_uniform(a, a_count, 11u + (unsigned)M, -1, 1);
    test_fill_uniform(b, b_count, 23u + (unsigned)N, -1, 1);
    test_fill_uniform(bias, (size_t)N + bias_off, 5, -1, 1);
    for (size_t i = 0; i < c_count; i++)
        c[i] = -999.0f;
    cl_mem A = upload_to(d, a, a_count), B = upload_to(d, b, b_count);
    cl_mem C = upload_to(d, c, c_count), Bias = upload_to(d, bias, (size_t)N + bias_off);
    int lda = trans_a ? M : K, ldb = trans_b ? K : N;
    clseq_mat bias_mat = {with_bias ? Bias : NULL, bias_off, 0};
    ck_assert_clseq_ok(clseq_op_gemm(d, trans_a, trans_b, M, N, K,
                                     (clseq_mat){A, a_off, lda}, (clseq_mat){B, b_off, ldb},
                                     (clseq_mat){C, c_off, N}, bias_mat, act));
    download_from(d, C, c, c_count);
    for (int i = 0; i < c_off; i++)
        ck_assert_msg(c[i] == -999.0f, "gemm wrote before its offset at %d", i);
    for (int m = 0; m < M; m++) {
        for (int n = 0; n < N; n++) {
            double sum = 0, magnitude = 0;
            for (int k = 0; k < K; k++) {
                double x = trans_a ? a[a_off + k * lda + m] : a[a_off + m * lda + k];
                double y = trans_b ? b[b_off + n * ldb + k] : b[b_off + k * ldb + n];
                sum += x * y;
                magnitude += fabs(x * y);
            }
            if (with_bias) {
                sum += bias[bias_off + n];
                magnitude += fabs(bias[bias_off + n]);
            }
            float want = act_ref(act, (float)sum);
            float got = c[c_off + m * N + n];
            double tol = 4.0 * (K + 1) * magnitude * 0x1p-24 + 1e-6;
            ck_assert_msg(fabs(got - want) <= tol,
                          "gemm %s t%d%d %dx%dx%d at (%d,%d): got %.9g want %.9g (tol %.3g)",
                          family_name(d), trans_a, trans_b, M, N, K, m, n, got, want, tol);
        }
    }
    clReleaseMemObject(A);
    clReleaseMemObject(B);
    clReleaseMemObject(C);
    clReleaseMemObject(Bias);
    free(a);
    free(b);
    free(bias);
    free(c);
}

static const int gemm_shapes[][3] = {
    {1, 1, 1}, {1, 17, 1}, {1, 1, 300}, {5, 1, 9}, {1, 64, 64}, {7, 33, 129},
    {64, 64, 64}, {65, 63, 17}, {100, 4, 2}, {128, 96, 200}, {256, 256, 256}, {33, 130, 7},
    {37, 70, 45}, {6, 32, 33}, {7, 33, 16}, {97, 31, 300}, {64, 100, 10}, {300, 20, 12},
    /* N K > 2^21: a CPU nt product too large to transpose B first
     * (ops.c, transpose_b_first) runs gemm_cpu_nt itself */
    {8, 1450, 1450},
    /* a last column panel of at most 16 columns (cpu_panel_narrow): B
     * rows of 4 leave 3 rows of k to gather, of 10 one */
    {200, 4, 300}, {130, 10, 200},
    /* past CPU_PACK_B_MIN and CPU_PACK_B_MIN_K on CPUs: op(B) packed
     * (transposed in registers for nt), op(A) read in place, plain or
     * transposed; M, N and K off every block size, the last panel narrow */
    {97, 40, 1100},
};

/* ---- GEMM families ---------------------------------------------------
 * Every provider of large products is checked whatever the device would
 * pick: the local-memory tiles of gemm.cl, gemm_cpu_* unpacked and always
 * packed, and CLBlast where this clseq is built with it. Each runs on a
 * context of its own made through the options (gemm_kernel, gemm), made
 * once per process and freed by main. */

enum { FAMILY_TILED, FAMILY_CPU, FAMILY_PACKED, FAMILY_CLBLAST, FAMILY_COUNT };

static const char *const family_names[FAMILY_COUNT] = {"tiled", "cpu", "packed", "clblast"};
static clseq_ctx *family_ctx[FAMILY_COUNT];

static const char *family_name(const clseq_device *d)
{
    for (int f = 0; f < FAMILY_COUNT; f++)
        if (family_ctx[f] && clseq_ctx_main_device(family_ctx[f]) == d)
            return family_names[f];
    return "default";
}

static int have_clblast(void)
{
#ifdef CLSEQ_TEST_HAVE_CLBLAST
    return 1;
#else
    return 0;
#endif
}

/* The device of family's context, or NULL where this build has no CLBlast. */
static clseq_device *family_device(int family)
{
    if (family == FAMILY_CLBLAST && !have_clblast())
        return NULL;
    if (!family_ctx[family]) {
        clseq_ctx_options o = clseq_ctx_defaults();
        static const clseq_gemm_kernel kernel[FAMILY_COUNT] = {
            CLSEQ_GEMM_KERNEL_TILED, CLSEQ_GEMM_KERNEL_CPU, CLSEQ_GEMM_KERNEL_PACKED,
            CLSEQ_GEMM_KERNEL_AUTO}; /* CLBlast: whichever family the device would use */
        o.gemm = family == FAMILY_CLBLAST ? CLSEQ_GEMM_CLBLAST : CLSEQ_GEMM_BUILTIN;
        o.gemm_kernel = kernel[family];
        family_ctx[family] = test_ctx_with(&o);
    }
    clseq_device *d = clseq_ctx_main_device(family_ctx[family]);
    /* the options gave the family asked for */
    ck_assert_int_eq(d->gemm_clblast, family == FAMILY_CLBLAST);
    if (family != FAMILY_CLBLAST) {
        ck_assert_int_eq(d->cpu_gemm, family != FAMILY_TILED);
        ck_assert_int_eq(d->gemm_packed, family == FAMILY_PACKED ? 2 : 1); /* 2: always */
    }
    return d;
}

static void free_family_contexts(void)
{
    for (int f = 0; f < FAMILY_COUNT; f++) {
        clseq_ctx_free(family_ctx[f]);
        family_ctx[f] = NULL;
    }
}

/* The CLBlast provider is there exactly when the build says so (a 1x1x1
 * product through it on the default device). */
START_TEST(clblast_provider_matches_the_build)
{
    /* three buffers: C may not alias A or B (Oclgrind reports the race) */
    cl_mem buf[3];
    for (int i = 0; i < 3; i++) {
        ck_assert_clseq_ok(clseq_buffer_create(dev(), sizeof(float), &buf[i]));
        ck_assert_clseq_ok(clseq_buffer_fill(dev(), buf[i], 0, 1, (float)(i + 2)));
    }
    clseq_status s =
        clseq_clblast_gemm(dev(), 0, 0, 1, 1, 1, buf[0], 0, 1, buf[1], 0, 1, buf[2], 0, 1);
    const char *error = s == CLSEQ_OK ? "available" : clseq_last_error();
    float c = 0;
    if (s == CLSEQ_OK)
        ck_assert_clseq_ok(clseq_buffer_read(dev(), buf[2], 0, sizeof c, &c));
    for (int i = 0; i < 3; i++)
        clReleaseMemObject(buf[i]);
    ck_assert_msg(s == (have_clblast() ? CLSEQ_OK : CLSEQ_E_STATE), "CLBlast: %s", error);
    if (s == CLSEQ_OK)
        ck_assert_msg(c == 6.0f, "CLBlast's 1 x 1 product of 2 and 3 is %g", c);
}
END_TEST

START_TEST(gemm_all_forms_and_shapes)
{
    const int forms[3][2] = {{0, 0}, {1, 0}, {0, 1}};
    const int *shape = gemm_shapes[_i];
    for (int family = 0; family < FAMILY_COUNT; family++) {
        clseq_device *d = family_device(family);
        if (!d || (family == FAMILY_TILED && !d->blocked_gemm_ok))
            continue;
        for (int f = 0; f < 3; f++)
            check_gemm(d, forms[f][0], forms[f][1], shape[0], shape[1], shape[2], 0,
                       CLSEQ_LINEAR);
    }
}
END_TEST

START_TEST(gemm_bias_and_activation_epilogue)
{
    const clseq_activation acts[] = {CLSEQ_LINEAR, CLSEQ_RELU, CLSEQ_SIGMOID, CLSEQ_TANH};
    for (int a = 0; a < 4; a++) {
        check_gemm(dev(), 0, 0, 9, 5, 3, 1, acts[a]);
        for (int family = 0; family < FAMILY_COUNT; family++) {
            clseq_device *d = family_device(family); /* every provider's epilogue */
            if (!d)
                continue;
            check_gemm(d, 0, 0, 70, 80, 90, 1, acts[a]);
            check_gemm(d, 1, 0, 70, 80, 90, 1, acts[a]);
            check_gemm(d, 0, 1, 70, 80, 90, 1, acts[a]);
        }
    }
}
END_TEST

START_TEST(activations_and_derivatives)
{
    enum { N = 1001 };
    static float x[N], y[N], d[N];
    /* every elementwise activation (softmax and log_softmax are rows) */
    clseq_activation acts[16];
    int count = 0;
    for (int a = 0; clseq_activation_name((clseq_activation)a); a++)
        if (a != CLSEQ_SOFTMAX && a != CLSEQ_LOG_SOFTMAX)
            acts[count++] = (clseq_activation)a;
    test_fill_uniform(x, N, 77, -7, 7);
    x[0] = 0.0f;
    for (int a = 0; a < count; a++) {
        cl_mem X = upload(x, N), Y = upload(x, N);
        ck_assert_clseq_ok(clseq_op_activate(dev(), X, Y, N, acts[a]));
        download(Y, y, N);
        /* a few ulp of the value (exp, erf, tanh are within 16 ulp in
         * OpenCL 1.2) plus float rounding of the argument */
        for (int i = 0; i < N; i++)
            ck_assert_msg(fabs(y[i] - test_activation(acts[a], x[i])) <=
                              2e-6 * (1 + fabs(test_activation(acts[a], x[i]))),
                          "%s x=%g got %g want %g", clseq_activation_name(acts[a]), x[i], y[i],
                          test_activation(acts[a], x[i]));
        /* derivative from outputs, checked by central differences of act_ref */
        float ones[N];
        for (int i = 0; i < N; i++)
            ones[i] = 1.0f;
        cl_mem D = upload(ones, N);
        ck_assert_clseq_ok(clseq_op_activation_backward(dev(), D, Y, X, N, acts[a]));
        download(D, d, N);
        double kinks[4];
        int kink_count;
        test_activation_kinks(acts[a], kinks, &kink_count);
        for (int i = 1; i < N; i++) {
            int near_kink = 0;
            for (int k = 0; k < kink_count; k++)
                near_kink |= fabs(x[i] - kinks[k]) < 1e-2;
            if (near_kink)
                continue;
            double h = 1e-4;
            double fd = (test_activation(acts[a], x[i] + h) -
                         test_activation(acts[a], x[i] - h)) / (2 * h);
            /* the derivative from the float output carries its rounding
             * (exponential's a, softplus's 1 - exp(-a)) */
            ck_assert_msg(fabs(d[i] - fd) <= 1e-4 * (1 + fabs(fd)), "%s derivative at %g: %g vs %g",
                          clseq_activation_name(acts[a]), x[i], d[i], fd);
        }
        ck_assert_msg(acts[a] != CLSEQ_RELU || d[0] == 0.0f, "relu'(0) must be 0");
        clReleaseMemObject(X);
        clReleaseMemObject(Y);
        clReleaseMemObject(D);
    }
}
END_TEST

static void check_softmax(int rows, int cols, float scale)
{
    size_t n = (size_t)rows * cols;
    float *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
    test_fill_uniform(x, n, (uint64_t)rows * 31 + (uint64_t)cols, -scale, scale);
    cl_mem X = upload(x, n);
    ck_assert_clseq_ok(clseq_op_softmax(dev(), X, X, rows, cols));
    download(X, y, n);
    for (int r = 0; r < rows; r++) {
        double top = x[r * cols], sum = 0;
        for (int c = 1; c < cols; c++)
            top = fmax(top, x[r * cols + c]);
        for (int c = 0; c < cols; c++)
            sum += exp(x[r * cols + c] - top);
        double total = 0;
        for (int c = 0; c < cols; c++) {
            float got = y[r * cols + c];
            double want = exp(x[r * cols + c] - top) / sum;
            ck_assert_msg(isfinite(got), "softmax row %d col %d not finite", r, c);
            ck_assert_msg(fabs(got - want) <= 1e-6 + 1e-5 * want, "softmax %d,%d: %g vs %g", r,
                          c, got, want);
            total += got;
        }
        ck_assert_msg(fabs(total - 1.0) <= cols * 1e-6 + 1e-6, "row %d sums to %.9g", r, total);
    }
    clReleaseMemObject(X);
    free(x);
    free(y);
}

START_TEST(softmax_rows_stable)
{
    check_softmax(1, 1, 1);
    check_softmax(1, 10, 3);
    check_softmax(257, 4, 5);
    check_softmax(3, 1000, 1000); /* +-1000: naive exp would overflow */
}
END_TEST

START_TEST(softmax_backward_matches_jacobian)
{
    enum { R = 5, C = 7 };
    float z[R * C], p[R * C], d[R * C], got[R * C];
    test_fill_uniform(z, R * C, 3, -2, 2);
    test_fill_uniform(d, R * C, 4, -1, 1);
    cl_mem P = upload(z, R * C);
    ck_assert_clseq_ok(clseq_op_softmax(dev(), P, P, R, C));
    download(P, p, R * C);
    cl_mem D = upload(d, R * C);
    ck_assert_clseq_ok(clseq_op_softmax_backward(dev(), D, P, R, C));
    download(D, got, R * C);
    for (int r = 0; r < R; r++)
        for (int i = 0; i < C; i++) {
            double want = 0; /* sum_j d_j dp_j/dz_i with dp_j/dz_i = p_j (delta_ij - p_i) */
            for (int j = 0; j < C; j++)
                want += d[r * C + j] * p[r * C + j] * ((i == j) - p[r * C + i]);
            ck_assert_msg(fabs(got[r * C + i] - want) < 1e-6, "softmax backward %d,%d", r, i);
        }
    clReleaseMemObject(P);
    clReleaseMemObject(D);
}
END_TEST

START_TEST(sum_columns_and_accumulate)
{
    const int shapes[][2] = {{1, 1}, {1, 9}, {1000, 1}, {7, 33}, {4000, 3}, {256, 256}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int rows = shapes[s][0], cols = shapes[s][1];
        size_t n = (size_t)rows * cols, slots = 1 + 2 * (size_t)cols;
        float *x = malloc(n * sizeof *x), *out = malloc(slots * sizeof *out);
        test_fill_uniform(x, n, (uint64_t)s + 1, -1, 1);
        for (size_t c = 0; c < slots; c++)
            out[c] = c ? 0.0f : 0.5f; /* slot 0 must stay as it is */
        cl_mem X = upload(x, n), O = upload(out, slots);
        ck_assert_clseq_ok(clseq_op_sum_columns(dev(), X, rows, cols, O, 1, 0));
        ck_assert_clseq_ok(clseq_op_sum_columns(dev(), X, rows, cols, O, 1, 1));
        download(O, out, slots);
        ck_assert(out[0] == 0.5f);
        for (int c = 0; c < cols; c++) {
            double want = 0;
            for (int r = 0; r < rows; r++)
                want += x[r * cols + c];
            /* twice the sum; pairwise tree sums err by about log2(rows) ulps of sum|x| */
            ck_assert_msg(fabs(out[c + 1] - 2 * want) <= 2.0 * rows * 0x1p-24 * 4 + 1e-5,
                          "sum_columns %dx%d col %d: %g vs %g", rows, cols, c, out[c + 1],
                          2 * want);
        }
        clReleaseMemObject(X);
        clReleaseMemObject(O);
        free(x);
        free(out);
    }
}
END_TEST

/* Adding many small sums into a large total stays exact to float rounding
 * of the true total: 20000 adds of 1.1 (float) drift by about 2 units in
 * plain float and by nothing with the compensation. */
START_TEST(accumulated_sums_are_compensated)
{
    enum { ADDS = 20000 };
    float one = 1.1f, out[2] = {0.0f, 0.0f};
    cl_mem X = upload(&one, 1), O = upload(out, 2);
    for (int i = 0; i < ADDS; i++)
        ck_assert_clseq_ok(clseq_op_sum_columns(dev(), X, 1, 1, O, 0, 1));
    download(O, out, 2);
    double want = (double)ADDS * 1.1f;
    ck_assert_msg(fabs(out[0] - want) <= want * 0x1p-24, "total %.9g, want %.9g", out[0], want);
    clReleaseMemObject(X);
    clReleaseMemObject(O);
}
END_TEST

START_TEST(argmax_first_of_ties)
{
    enum { R = 300, C = 13 };
    float x[R * C];
    int got[R];
    test_fill_uniform(x, R * C, 99, -1, 1);
    x[0 * C + 3] = x[0 * C + 7] = 5.0f; /* a tie: numpy picks the first */
    cl_mem X = upload(x, R * C), O;
    ck_assert_clseq_ok(clseq_buffer_create(dev(), sizeof got, &O));
    ck_assert_clseq_ok(clseq_op_argmax_rows(dev(), X, R, C, O));
    ck_assert_clseq_ok(clseq_buffer_read(dev(), O, 0, sizeof got, got));
    for (int r = 0; r < R; r++) {
        int best = 0;
        for (int c = 1; c < C; c++)
            if (x[r * C + c] > x[r * C + best])
                best = c;
        ck_assert_int_eq(got[r], best);
    }
    ck_assert_int_eq(got[0], 3);
    clReleaseMemObject(X);
    clReleaseMemObject(O);
}
END_TEST

START_TEST(gather_rows_through_permutation)
{
    enum { R = 10, C = 3 };
    float src[R * C], dst[4 * C];
    int perm[R] = {9, 2, 7, 0, 4, 1, 8, 3, 6, 5};
    test_fill_uniform(src, R * C, 5, -1, 1);
    cl_mem S = upload(src, R * C), D = upload(dst, 4 * C), P;
    ck_assert_clseq_ok(clseq_buffer_create(dev(), sizeof perm, &P));
    ck_assert_clseq_ok(clseq_buffer_write(dev(), P, 0, sizeof perm, perm));
    ck_assert_clseq_ok(clseq_op_gather_rows(dev(), S, P, 3, 4, C, D));
    download(D, dst, 4 * C);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < C; c++)
            ck_assert(dst[r * C + c] == src[perm[3 + r] * C + c]);
    clReleaseMemObject(S);
    clReleaseMemObject(D);
    clReleaseMemObject(P);
}
END_TEST

Suite *kernels_suite(void);
Suite *kernels_suite(void)
{
    Suite *s = suite_create("kernels");
    TCase *tc = tcase_create("kernels");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, clblast_provider_matches_the_build);
    tcase_add_loop_test(tc, gemm_all_forms_and_shapes, 0,
                        (int)(sizeof gemm_shapes / sizeof gemm_shapes[0]));
    tcase_add_test(tc, gemm_bias_and_activation_epilogue);
    tcase_add_test(tc, activations_and_derivatives);
    tcase_add_test(tc, softmax_rows_stable);
    tcase_add_test(tc, softmax_backward_matches_jacobian);
    tcase_add_test(tc, sum_columns_and_accumulate);
    tcase_add_test(tc, accumulated_sums_are_compensated);
    tcase_add_test(tc, argmax_first_of_ties);
    tcase_add_test(tc, gather_rows_through_permutation);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    int status = test_run_suite(kernels_suite());
    free_family_contexts();
    return status;
}
