/* clseq bench gemm: SGEMM through clseq's own kernel (clseq_op_gemm on
 * device buffers), against OpenBLAS's cblas_sgemm and CLBlast's
 * CLBlastSgemm measured in the same run. Neither reference is linked: both
 * are loaded with dlopen when present, and their lines read n/a otherwise.
 * A fourth provider, c_control, is this directory's hand-written AVX-512
 * SGEMM (gemm_control.c): what plain C reaches on the same machine, to
 * set against what clseq's kernels reach through PoCL.
 *
 * Timing, per product: each provider makes one warm-up call, whose time
 * sizes its batches; then three rounds in which clseq, CLBlast, OpenBLAS
 * and the C control each run one batch of calls in turn (OpenCL batches between two clFinish
 * calls). A figure is its provider's best batch. Interleaving the rounds
 * keeps a ratio honest on a machine where other work comes and goes; the
 * pause after each OpenBLAS batch lets its worker threads, which spin for a
 * while after a call, go to sleep before the OpenCL runtime needs the cores.
 *
 * Checks: C is filled with NaN before each provider's first batch, so one
 * that writes nothing fails; every product up to 1024 x 1024 is compared
 * with OpenBLAS's, and 256^3 with a double-precision loop on the host. */
#define _GNU_SOURCE /* RTLD_NOLOAD */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "gemm_control.h"
#include "ops/ops.h"

/* cblas_sgemm with OpenBLAS's 32-bit integers; the enums are ints. */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };
typedef void (*cblas_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k,
                               float alpha, const float *a, int lda, const float *b, int ldb,
                               float beta, float *c, int ldc);
typedef int (*openblas_threads_fn)(void);
typedef char *(*openblas_string_fn)(void);
/* CLBlastSgemm from clblast_c.h (CLBlastLayout, CLBlastTranspose and
 * CLBlastStatusCode are C enums: ints). */
enum { CLBLAST_ROW_MAJOR = 101, CLBLAST_NO = 111, CLBLAST_YES = 112 };
typedef int (*clblast_sgemm_fn)(int layout, int trans_a, int trans_b, size_t m, size_t n,
                                size_t k, float alpha, cl_mem a, size_t a_off, size_t a_ld,
                                cl_mem b, size_t b_off, size_t b_ld, float beta, cl_mem c,
                                size_t c_off, size_t c_ld, cl_command_queue *queue,
                                cl_event *event);

typedef enum form { FORM_NN, FORM_TN, FORM_NT } form;
static const char *const form_suffix[] = {"", "_tn", "_nt"};

/* The products measured, C[m,n] = op(A) op(B) with inner size k: squares in
 * the NN form, 1024 in all three, and the forms one step of the MLP
 * benchmark runs (forward, weight gradient, input gradient) at batch 128
 * and 512, the 10-wide output layer's included. */
typedef struct product {
    int m, n, k;
    form f;
    double target_ms; /* each provider's timed calls, all rounds together */
} product;
static const product products[] = {
    {256, 256, 256, FORM_NN, 200},    {1024, 1024, 1024, FORM_NN, 600},
    {1024, 1024, 1024, FORM_TN, 400}, {1024, 1024, 1024, FORM_NT, 400},
    {2048, 2048, 2048, FORM_NN, 1200}, {128, 512, 784, FORM_NN, 150},
    {784, 512, 128, FORM_TN, 150},    {128, 512, 512, FORM_NT, 150},
    {512, 512, 784, FORM_NN, 150},    {784, 512, 512, FORM_TN, 150},
    {512, 512, 512, FORM_NT, 150},    {512, 10, 512, FORM_NN, 100},
    {512, 10, 512, FORM_TN, 100},     {512, 512, 10, FORM_NT, 100},
};
enum { PRODUCTS = sizeof products / sizeof products[0], MAX_N = 2048, HOST_CHECK_N = 256,
       MAX_REPS = 200, ROUNDS = 3, OPENBLAS_PAUSE_MS = 120 };
/* Products up to this many elements of C are read back and checked. */
static const size_t check_max = (size_t)1024 * 1024;

enum { P_CLSEQ, P_CLBLAST, P_OPENBLAS, P_CONTROL, PROVIDERS };
static const char *const provider_names[] = {"clseq", "clblast", "openblas", "c_control"};

typedef struct gemm_bench {
    clseq_device *dev;
    const bench_options *o;
    cl_mem a, b, c;
    float *ha, *hb; /* MAX_N x MAX_N inputs; products use a prefix */
    float *hc;      /* OpenBLAS's C */
    float *hx;      /* the C control's C */
    int control;    /* the C control can run here */
    clblast_sgemm_fn clblast;
    cblas_sgemm_fn cblas;
} gemm_bench;

/* One product's state while it is measured. */
typedef struct run {
    int reps[PROVIDERS];       /* 0: provider absent or failed */
    double best_ms[PROVIDERS];
    float *result[PROVIDERS];  /* C as each provider left it, when checked */
} run;

static double flops(const product *p)
{
    return 2.0 * (double)p->m * (double)p->n * (double)p->k;
}

/* "256", "1024_tn", "784x512x128_tn" */
static void label(char *buf, size_t size, const product *p)
{
    if (p->m == p->n && p->n == p->k)
        snprintf(buf, size, "%d%s", p->m, form_suffix[p->f]);
    else
        snprintf(buf, size, "%dx%dx%d%s", p->m, p->n, p->k, form_suffix[p->f]);
}

/* Leading dimensions of A and B as stored (row-major; C's is n). */
static int lda(const product *p)
{
    return p->f == FORM_TN ? p->m : p->k;
}

static int ldb(const product *p)
{
    return p->f == FORM_NT ? p->k : p->n;
}

static int finish(gemm_bench *g)
{
    cl_int err = clFinish(g->dev->queue);
    if (err != CL_SUCCESS)
        fprintf(stderr, "clseq bench: clFinish: %s\n", clseq_cl_error_name(err));
    return err == CL_SUCCESS;
}

/* ---- the providers' calls ------------------------------------------------ */

static int call_clseq(gemm_bench *g, const product *p)
{
    clseq_mat a = {g->a, 0, lda(p)}, b = {g->b, 0, ldb(p)}, c = {g->c, 0, p->n};
    clseq_mat none = {NULL, 0, 0};
    return bench_check(clseq_op_gemm(g->dev, p->f == FORM_TN, p->f == FORM_NT, p->m, p->n, p->k,
                                     a, b, c, none, CLSEQ_LINEAR),
                       "clseq_op_gemm");
}

static int call_clblast(gemm_bench *g, const product *p)
{
    cl_command_queue q = g->dev->queue;
    int status = g->clblast(CLBLAST_ROW_MAJOR, p->f == FORM_TN ? CLBLAST_YES : CLBLAST_NO,
                            p->f == FORM_NT ? CLBLAST_YES : CLBLAST_NO, (size_t)p->m,
                            (size_t)p->n, (size_t)p->k, 1.0f, g->a, 0, (size_t)lda(p), g->b, 0,
                            (size_t)ldb(p), 0.0f, g->c, 0, (size_t)p->n, &q, NULL);
    if (status != 0)
        fprintf(stderr, "clseq bench: CLBlastSgemm(%dx%dx%d) returned status %d\n", p->m, p->n,
                p->k, status);
    return status == 0;
}

static int call_control(gemm_bench *g, const product *p)
{
    int ok = gemm_control_sgemm(p->f == FORM_TN, p->f == FORM_NT, p->m, p->n, p->k, g->ha, lda(p),
                                g->hb, ldb(p), g->hx, 0);
    if (!ok)
        fprintf(stderr, "clseq bench: the C control (%dx%dx%d) failed\n", p->m, p->n, p->k);
    return ok;
}

static int call_openblas(gemm_bench *g, const product *p)
{
    g->cblas(CBLAS_ROW_MAJOR, p->f == FORM_TN ? CBLAS_TRANS : CBLAS_NO_TRANS,
             p->f == FORM_NT ? CBLAS_TRANS : CBLAS_NO_TRANS, p->m, p->n, p->k, 1.0f, g->ha,
             lda(p), g->hb, ldb(p), 0.0f, g->hc, p->n);
    return 1;
}

/* reps calls of provider who, waited for; their time in ms or -1. */
static double batch(gemm_bench *g, int who, const product *p, int reps)
{
    double t0 = bench_now_ms();
    for (int r = 0; r < reps; r++) {
        int ok = who == P_CLSEQ      ? call_clseq(g, p)
                 : who == P_CLBLAST  ? call_clblast(g, p)
                 : who == P_OPENBLAS ? call_openblas(g, p)
                                     : call_control(g, p);
        if (!ok)
            return -1;
    }
    if (who <= P_CLBLAST && !finish(g))
        return -1;
    return bench_now_ms() - t0;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- checks -------------------------------------------------------------- */

/* NaN in all of C, so that a call that writes nothing fails the checks. */
static int poison_c(gemm_bench *g)
{
    return bench_check(clseq_buffer_fill(g->dev, g->c, 0, (size_t)MAX_N * MAX_N, NAN),
                       "fill C") &&
           finish(g);
}

static float *read_c(gemm_bench *g, const product *p)
{
    size_t count = (size_t)p->m * (size_t)p->n;
    float *dst = malloc(count * sizeof *dst);
    if (dst && clseq_buffer_read(g->dev, g->c, 0, count * sizeof *dst, dst) != CLSEQ_OK) {
        free(dst);
        dst = NULL;
    }
    if (!dst)
        fprintf(stderr, "clseq bench: reading C back failed: %s\n", clseq_last_error());
    return dst;
}

/* max |c - ref| / max |ref|; NaN if c holds any NaN. */
static double max_rel_error(const float *c, const float *ref, size_t count)
{
    double worst = 0, largest = 0;
    for (size_t i = 0; i < count; i++) {
        double e = fabs((double)c[i] - ref[i]);
        if (isnan(e))
            return NAN;
        worst = e > worst ? e : worst;
        largest = fabs((double)ref[i]) > largest ? fabs((double)ref[i]) : largest;
    }
    return largest > 0 ? worst / largest : worst;
}

/* The 256 product against a plain double-precision loop on the host. */
static void check_against_host(const gemm_bench *g, const float *c, int n)
{
    double *ref = malloc((size_t)n * n * sizeof *ref);
    if (ref) {
        for (int r = 0; r < n; r++)
            for (int col = 0; col < n; col++) {
                double s = 0;
                for (int k = 0; k < n; k++)
                    s += (double)g->ha[(size_t)r * n + k] * g->hb[(size_t)k * n + col];
                ref[(size_t)r * n + col] = s;
            }
        double worst = 0, largest = 0;
        for (size_t i = 0; i < (size_t)n * n; i++) {
            double e = fabs(c[i] - ref[i]);
            worst = isnan(e) ? INFINITY : e > worst ? e : worst;
            largest = fabs(ref[i]) > largest ? fabs(ref[i]) : largest;
        }
        char name[64];
        snprintf(name, sizeof name, "gemm_max_rel_error_%d_vs_host_double", n);
        bench_print(name, largest > 0 ? worst / largest : worst, "max|C-ref|/max|ref|");
    }
    free(ref);
}

/* ---- one product ---------------------------------------------------------- */

static int present(const gemm_bench *g, int who)
{
    return who == P_CLSEQ || (who == P_CLBLAST && g->clblast) ||
           (who == P_OPENBLAS && g->cblas) || (who == P_CONTROL && g->control);
}

/* Warm-up call; sets the provider's reps per batch, 0 if it failed. */
static int warm_up(gemm_bench *g, int who, const product *p, run *r)
{
    if (who <= P_CLBLAST && !poison_c(g))
        return 0;
    if (who == P_CONTROL)
        for (size_t i = 0; i < (size_t)p->m * (size_t)p->n; i++)
            g->hx[i] = NAN;
    double one = batch(g, who, p, 1);
    if (one < 0)
        return 0;
    if (who == P_OPENBLAS)
        pause_ms(OPENBLAS_PAUSE_MS);
    int reps = MAX_REPS;
    if (g->o->repeat > 0)
        reps = g->o->repeat;
    else if (one > 0)
        reps = (int)ceil(p->target_ms / ROUNDS / one);
    r->reps[who] = reps < 1 ? 1 : reps > MAX_REPS ? MAX_REPS : reps;
    return 1;
}

static void print_product(const gemm_bench *g, const product *p, const run *r)
{
    char l[40], name[96];
    label(l, sizeof l, p);
    for (int who = 0; who < PROVIDERS; who++) {
        snprintf(name, sizeof name, "gemm_%s_%s", provider_names[who], l);
        if (r->reps[who] > 0) {
            double gflops = flops(p) * r->reps[who] / r->best_ms[who] / 1e6;
            bench_print(name, gflops, "GFLOP/s");
            bench_print_share(name, gflops, g->o);
        } else {
            bench_print_na(name);
        }
    }
    for (int who = P_CLSEQ; who < PROVIDERS; who++) {
        size_t count = (size_t)p->m * (size_t)p->n;
        if (who == P_OPENBLAS || count > check_max || (who != P_CLSEQ && !r->result[who]))
            continue;
        snprintf(name, sizeof name, "gemm_max_rel_error_%s_%s_vs_openblas", provider_names[who],
                 l);
        if (r->result[who] && r->result[P_OPENBLAS])
            bench_print(name, max_rel_error(r->result[who], r->result[P_OPENBLAS], count),
                        "max|C-ref|/max|ref|");
        else
            bench_print_na(name);
    }
    for (int who = P_CLBLAST; who < PROVIDERS; who++) {
        snprintf(name, sizeof name, "gemm_ratio_clseq_to_%s_%s", provider_names[who], l);
        if (r->reps[who] > 0 && r->reps[P_CLSEQ] > 0)
            bench_print(name,
                        (r->reps[P_CLSEQ] / r->best_ms[P_CLSEQ]) / (r->reps[who] / r->best_ms[who]),
                        "x");
        else
            bench_print_na(name);
    }
}

static int measure_product(gemm_bench *g, const product *p)
{
    run r;
    memset(&r, 0, sizeof r);
    int ok = 1;
    for (int who = 0; who < PROVIDERS && ok; who++) {
        if (!present(g, who))
            continue;
        if (!warm_up(g, who, p, &r)) {
            ok = who != P_CLSEQ; /* a reference that fails is only n/a */
            continue;
        }
        if (who <= P_CLBLAST && (size_t)p->m * (size_t)p->n <= check_max)
            r.result[who] = read_c(g, p);
    }
    if (g->cblas && r.reps[P_OPENBLAS])
        r.result[P_OPENBLAS] = g->hc;
    if (r.reps[P_CONTROL])
        r.result[P_CONTROL] = g->hx; /* rewritten by each call: the same product */
    if (ok && r.result[P_CLSEQ] && p->m == HOST_CHECK_N && p->n == p->m && p->k == p->m &&
        p->f == FORM_NN)
        check_against_host(g, r.result[P_CLSEQ], p->m);
    for (int round = 0; ok && round < ROUNDS; round++)
        for (int who = 0; who < PROVIDERS; who++) {
            if (!r.reps[who])
                continue;
            double ms = batch(g, who, p, r.reps[who]);
            if (ms < 0) {
                r.reps[who] = 0;
                ok = who != P_CLSEQ;
                break;
            }
            if (round == 0 || ms < r.best_ms[who])
                r.best_ms[who] = ms;
            if (who == P_OPENBLAS)
                pause_ms(OPENBLAS_PAUSE_MS);
        }
    if (ok)
        print_product(g, p, &r);
    free(r.result[P_CLSEQ]);
    free(r.result[P_CLBLAST]);
    return ok;
}

/* ---- the section ---------------------------------------------------------- */

/* OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, which some machines set, hold
 * OpenBLAS to an older kernel (Haswell's on an AVX-512 CPU: half the
 * speed), and the reference is meant to be OpenBLAS at its best. OpenBLAS
 * reads them once, when it is loaded, so they go from this process's
 * environment before the dlopen below; only the bench does this (tests
 * and CI keep the environment). If something loaded OpenBLAS earlier the
 * removal comes too late, and the line says so. The OpenCL runtime's
 * threads are idle here (its queue is finished), so nothing reads the
 * environment while it changes. */
static void openblas_env_clear(void)
{
    static const char *const vars[] = {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"};
    void *early = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_NOLOAD);
    char removed[512] = "";
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *value = getenv(vars[i]);
        if (!value)
            continue;
        size_t used = strlen(removed);
        snprintf(removed + used, sizeof removed - used, "%s%s=%s", used ? "," : "", vars[i],
                 value);
        unsetenv(vars[i]);
    }
    printf("gemm_openblas_env_removed: %s%s\n", removed[0] ? removed : "none",
           early ? " (too late: OpenBLAS was already loaded)" : "");
    if (early)
        dlclose(early);
}

/* The kernel and build OpenBLAS chose, and its threads. */
static void openblas_describe(void *lib)
{
    openblas_string_fn corename = NULL, config = NULL;
    openblas_threads_fn threads = NULL;
    void *sym;
    if (lib && (sym = dlsym(lib, "openblas_get_corename")))
        memcpy(&corename, &sym, sizeof corename);
    if (lib && (sym = dlsym(lib, "openblas_get_config")))
        memcpy(&config, &sym, sizeof config);
    if (lib && (sym = dlsym(lib, "openblas_get_num_threads")))
        memcpy(&threads, &sym, sizeof threads);
    printf("gemm_openblas_corename: %s\n", corename ? corename() : "n/a");
    printf("gemm_openblas_config: %s\n", config ? config() : "n/a");
    if (threads)
        bench_print("gemm_openblas_threads", threads(), "threads");
    else
        bench_print_na("gemm_openblas_threads");
}

/* Loads the references; prints their set-up lines. */
static void load_references(gemm_bench *g, void **clblast_lib, void **openblas_lib)
{
    void *sym;
    *clblast_lib = dlopen("libclblast.so.1", RTLD_NOW | RTLD_LOCAL);
    if (*clblast_lib && (sym = dlsym(*clblast_lib, "CLBlastSgemm")))
        memcpy(&g->clblast, &sym, sizeof g->clblast);
    if (g->clblast) {
        /* The first call builds CLBlast's kernels for this device, every
         * run (CLBlast keeps its binaries in memory only). */
        double t0 = bench_now_ms();
        if (call_clblast(g, &products[0]) && finish(g)) {
            bench_print("gemm_clblast_first_call_ms", bench_now_ms() - t0, "ms");
        } else {
            g->clblast = NULL;
            bench_print_na("gemm_clblast_first_call_ms");
        }
    } else {
        bench_print_na("gemm_clblast_first_call_ms");
    }
    openblas_env_clear(); /* before the dlopen: OpenBLAS reads them as it loads */
    *openblas_lib = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (*openblas_lib && (sym = dlsym(*openblas_lib, "cblas_sgemm")))
        memcpy(&g->cblas, &sym, sizeof g->cblas);
    openblas_describe(g->cblas ? *openblas_lib : NULL);
}

int bench_gemm(clseq_ctx *ctx, const bench_options *o)
{
    gemm_bench g;
    memset(&g, 0, sizeof g);
    g.dev = clseq_ctx_main_device(ctx);
    g.o = o;
    size_t count = (size_t)MAX_N * MAX_N, bytes = count * sizeof(float);
    g.ha = malloc(bytes);
    g.hb = malloc(bytes);
    g.hc = malloc(bytes);
    g.hx = malloc(bytes);
    g.control = gemm_control_available();
    int ok = g.ha && g.hb && g.hc && g.hx;
    if (!ok)
        fprintf(stderr, "clseq bench: out of host memory for %dx%d matrices\n", MAX_N, MAX_N);
    if (ok) {
        bench_fill_uniform(g.ha, count, -1.0f, 1.0f, 1);
        bench_fill_uniform(g.hb, count, -1.0f, 1.0f, 2);
    }
    ok = ok && bench_check(clseq_buffer_create(g.dev, bytes, &g.a), "buffer A") &&
         bench_check(clseq_buffer_create(g.dev, bytes, &g.b), "buffer B") &&
         bench_check(clseq_buffer_create(g.dev, bytes, &g.c), "buffer C") &&
         bench_check(clseq_buffer_write(g.dev, g.a, 0, bytes, g.ha), "upload A") &&
         bench_check(clseq_buffer_write(g.dev, g.b, 0, bytes, g.hb), "upload B");
    void *clblast_lib = NULL, *openblas_lib = NULL;
    if (ok)
        load_references(&g, &clblast_lib, &openblas_lib);
    for (int i = 0; ok && i < PRODUCTS; i++)
        ok = measure_product(&g, &products[i]);
    if (clblast_lib)
        dlclose(clblast_lib);
    if (openblas_lib)
        dlclose(openblas_lib);
    clseq_buffer_release(&g.a);
    clseq_buffer_release(&g.b);
    clseq_buffer_release(&g.c);
    free(g.ha);
    free(g.hb);
    free(g.hc);
    free(g.hx);
    return ok;
}
