/* clseq bench: speed figures as "NAME: VALUE UNIT" lines.
 *
 *   gemm     SGEMM through clseq's kernel, OpenBLAS and CLBlast (bench_gemm.c)
 *   seed     the lesson's small fit: fused, layer by layer, plain C (bench_train.c)
 *   mlp      784-512-512-10 training samples/s (bench_train.c)
 *   predict  the same MLP's inference samples/s (bench_train.c)
 *   cnn      a Conv2D/MaxPooling2D network's training and inference
 *            samples/s (bench_cnn.c)
 *   cnn-profile  that network's training step layer by layer
 *            (bench_cnn.c; not part of all)
 *   allreduce  bytes a data-parallel step sums per model, and the sum's
 *            time over the context's devices and MPI processes
 *            (bench_allreduce.c; not part of all: it wants several devices)
 *   startup  process start to first prediction, measured from a parent that
 *            fork/execs "clseq bench startup-child" (here)
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli_util.h"
#ifdef CLSEQ_CLI_HAVE_MPI
#include <mpi.h>
#endif
#include "commands.h"

static const char bench_usage[] =
    "usage: clseq bench [SECTION...] [--device S] [--repeat N] [--mpi]\n"
    "  SECTION: gemm|seed|mlp|predict|cnn|startup|all|cnn-profile|allreduce; several run\n"
    "  in the order given, each once (startup last: it wants the machine to itself).\n"
    "  Prints NAME: VALUE UNIT lines (default section: all, which is every section but\n"
    "  cnn-profile and allreduce), after this machine's FP32 FMA peak (fma_peak_*).\n"
    "  allreduce: give several devices (--device all; on PoCL with\n"
    "  POCL_DEVICES=\"pthread pthread\"); under mpirun, --mpi times MPI_Allreduce too.\n"
    "  --device S   device spec as for every command (default $CLSEQ_DEVICE, else GPU, else first)\n"
    "  --repeat N   timed repetitions of each measurement (default: chosen per measurement)\n"
    "  OpenBLAS (libopenblas.so.0) and CLBlast (libclblast.so.1) are loaded at run time when\n"
    "  present; their lines read n/a otherwise.\n";

/* ---- shared helpers (bench.h) ------------------------------------------ */

double bench_now_ms(void)
{
    return cli_seconds() * 1e3;
}

void bench_print(const char *name, double value, const char *unit)
{
    double a = fabs(value);
    if (value == floor(value) && a < 1e7)
        printf("%s: %.0f %s\n", name, value, unit);
    else if (a != 0 && (a < 1e-3 || a >= 1e7))
        printf("%s: %.3e %s\n", name, value, unit);
    else if (a >= 1000)
        printf("%s: %.0f %s\n", name, value, unit);
    else if (a >= 100)
        printf("%s: %.1f %s\n", name, value, unit);
    else if (a >= 1)
        printf("%s: %.2f %s\n", name, value, unit);
    else
        printf("%s: %.4f %s\n", name, value, unit);
    fflush(stdout);
}

void bench_print_na(const char *name)
{
    printf("%s: n/a\n", name);
    fflush(stdout);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *values, int count)
{
    if (count <= 0)
        return 0;
    qsort(values, (size_t)count, sizeof *values, compare_doubles);
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

double bench_min(const double *values, int count)
{
    double m = values[0];
    for (int i = 1; i < count; i++)
        m = values[i] < m ? values[i] : m;
    return m;
}

int bench_runs(const bench_options *o, int fallback)
{
    int r = o->repeat > 0 ? o->repeat : fallback;
    return r > BENCH_MAX_RUNS ? BENCH_MAX_RUNS : r;
}

void bench_fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < n; i++) {
        /* splitmix64 */
        uint64_t z = (s += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        z ^= z >> 31;
        x[i] = lo + (hi - lo) * (float)((double)(z >> 40) / (double)(1ull << 24));
    }
}

int bench_check(clseq_status s, const char *what)
{
    if (s == CLSEQ_OK)
        return 1;
    fprintf(stderr, "clseq bench: %s: %s\n", what, clseq_last_error());
    return 0;
}

/* ---- startup ------------------------------------------------------------ */

/* The hidden child: a context, a small model and one prediction. Quiet
 * unless something fails. */
static int startup_child(const char *device)
{
    clseq_ctx *ctx = NULL;
    clseq_model *m = NULL;
    const float x[2] = {0.5f, -1.0f};
    float out[4];
    int ok = bench_check(clseq_ctx_create(device, &ctx), "context") &&
             bench_check(clseq_model_create(ctx, 2, &m), "model") &&
             bench_check(clseq_add_dense(m, 4, CLSEQ_SOFTMAX), "Dense(4)") &&
             bench_check(clseq_predict(m, x, 1, out), "predict");
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    return ok ? 0 : 1;
}

/* One fork/exec of the child; its wall time in ms, or -1 on failure. */
static double startup_once(const char *exe, const char *device)
{
    char *args[6];
    int n = 0;
    args[n++] = (char *)"clseq";
    args[n++] = (char *)"bench";
    args[n++] = (char *)"startup-child";
    if (device) {
        args[n++] = (char *)"--device";
        args[n++] = (char *)device;
    }
    args[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    double t0 = bench_now_ms();
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "clseq bench: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        execv(exe, args);
        fprintf(stderr, "clseq bench: exec %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "clseq bench: waitpid: %s\n", strerror(errno));
            return -1;
        }
    }
    double ms = bench_now_ms() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "clseq bench: startup-child failed (status %d)\n", status);
        return -1;
    }
    return ms;
}

enum { STARTUP_MAX_RUNS = 50 };

static int bench_startup(const bench_options *o)
{
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        fprintf(stderr, "clseq bench: cannot find this program (/proc/self/exe): %s\n",
                strerror(errno));
        return 0;
    }
    exe[len] = '\0';
    int runs = o->repeat > 0 ? o->repeat : 5;
    if (runs > STARTUP_MAX_RUNS)
        runs = STARTUP_MAX_RUNS;
    double times[STARTUP_MAX_RUNS];
    if (startup_once(exe, o->device) < 0) /* warm-up: caches, page cache */
        return 0;
    for (int i = 0; i < runs; i++)
        if ((times[i] = startup_once(exe, o->device)) < 0)
            return 0;
    double best = times[0];
    for (int i = 1; i < runs; i++)
        best = times[i] < best ? times[i] : best;
    bench_print("startup_to_first_prediction_ms", bench_median(times, runs), "ms");
    bench_print("startup_to_first_prediction_min_ms", best, "ms");
    return 1;
}

/* ---- the command -------------------------------------------------------- */

/* Other work on the machine skews every figure: the load when we start
 * and the share of the last 10 s in which some runnable task waited for a
 * CPU (Linux's /proc/loadavg and /proc/pressure/cpu; nothing elsewhere). */
static void print_load(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double value = 0;
    if (f && fscanf(f, "%lf", &value) == 1)
        bench_print("host_load_average_1min", value, "runnable");
    if (f)
        fclose(f);
    f = fopen("/proc/pressure/cpu", "r");
    if (f && fscanf(f, "some avg10=%lf", &value) == 1)
        bench_print("host_cpu_pressure_avg10", value, "%");
    if (f)
        fclose(f);
}

enum {
    SEC_GEMM = 1,
    SEC_SEED = 2,
    SEC_MLP = 4,
    SEC_PREDICT = 8,
    SEC_STARTUP = 16,
    SEC_CNN = 32,
    SEC_ALL = 63,
    /* a diagnosis rather than a figure to track: asked for by name only */
    SEC_CNN_PROFILE = 64,
    SEC_ALLREDUCE = 128
};

static int section_from_name(const char *name)
{
    static const struct { const char *name; int bits; } sections[] = {
        {"gemm", SEC_GEMM},       {"seed", SEC_SEED},         {"mlp", SEC_MLP},
        {"predict", SEC_PREDICT}, {"cnn", SEC_CNN},           {"startup", SEC_STARTUP},
        {"all", SEC_ALL},         {"cnn-profile", SEC_CNN_PROFILE},
        {"allreduce", SEC_ALLREDUCE},
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (strcmp(name, sections[i].name) == 0)
            return sections[i].bits;
    return 0;
}

/* Appends the sections in bits to order[*n], each once, in the order of
 * `all` (a plain section has one bit). */
static void section_append(int bits, int order[], int *n, int *seen)
{
    static const int all_order[] = {SEC_GEMM, SEC_SEED,        SEC_MLP,      SEC_PREDICT,
                                    SEC_CNN,  SEC_CNN_PROFILE, SEC_ALLREDUCE, SEC_STARTUP};
    for (size_t i = 0; i < sizeof all_order / sizeof all_order[0]; i++)
        if ((bits & all_order[i]) && !(*seen & all_order[i])) {
            *seen |= all_order[i];
            order[(*n)++] = all_order[i];
        }
}

/* One section; mlp and predict share *mlp. startup is not one of them:
 * cmd_bench runs it last, once the context is closed. */
static int section_run(int section, clseq_ctx *ctx, const bench_options *o, clseq_model **mlp,
                       int mpi)
{
    switch (section) {
    case SEC_GEMM: return bench_gemm(ctx, o);
    case SEC_SEED: return bench_seed(ctx, o);
    case SEC_MLP: return bench_mlp(ctx, o, mlp);
    case SEC_PREDICT: return bench_predict(ctx, o, mlp);
    case SEC_CNN: return bench_cnn(ctx, o);
    case SEC_CNN_PROFILE: return bench_cnn_profile(ctx, o);
    case SEC_ALLREDUCE: return bench_allreduce(ctx, o, mpi);
    default: return 1;
    }
}

int cmd_bench(int argc, char **argv)
{
    int sections = 0, child = 0, order[16], n_order = 0;
    /* the sections first, as many as given: clseq bench gemm mlp ... */
    while (argc > 1 && argv[1][0] != '-') {
        int bits = 0;
        if (strcmp(argv[1], "startup-child") == 0) {
            child = 1;
        } else if (!(bits = section_from_name(argv[1]))) {
            fprintf(stderr, "clseq bench: unknown section '%s'\n%s", argv[1], bench_usage);
            return 2;
        }
        section_append(bits, order, &n_order, &sections);
        argc--;
        argv++;
    }
    if (!child && !n_order)
        section_append(SEC_ALL, order, &n_order, &sections);
    cli_option options[] = {{"--device", 1, NULL}, {"--repeat", 1, NULL}, {"--mpi", 0, NULL}};
    int count = (int)(sizeof options / sizeof options[0]);
    int parsed = cli_parse("bench", bench_usage, argc, argv, options, count);
    if (parsed <= 0)
        return parsed < 0 ? 0 : 2;
    bench_options o = {cli_get(options, count, "--device"), 0, 0};
    const char *repeat = cli_get(options, count, "--repeat");
    long r = 0;
    if (repeat && !cli_int("bench", "--repeat", repeat, 1, 1000, &r))
        return 2;
    o.repeat = (int)r;
    if (child)
        return startup_child(o.device);
    int mpi = cli_get(options, count, "--mpi") != NULL;
#ifdef CLSEQ_CLI_HAVE_MPI
    if (mpi && MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        fprintf(stderr, "clseq bench: --mpi: MPI_Init failed\n");
        return 1;
    }
#else
    if (mpi) {
        fprintf(stderr, "clseq bench: --mpi: this clseq was built without MPI\n");
        return 2;
    }
#endif

    double t0 = bench_now_ms();
    clseq_ctx *ctx = NULL;
    if (!bench_check(clseq_ctx_create(o.device, &ctx), "context"))
        return 1;
    double ctx_ms = bench_now_ms() - t0;
    printf("device: %s\n", clseq_ctx_device_name(ctx));
    bench_print("context_create_ms", ctx_ms, "ms");
    bench_print("kernels_from_cache", clseq_ctx_from_cache(ctx), "bool");
    print_load();
    /* GFLOP/s figures are read against this machine's peak, measured now;
     * not under mpirun, where the ranks would measure one another */
    if (!mpi)
        o.fma_peak_gflops = bench_fma_peak();

    clseq_model *mlp = NULL;
    int ok = 1, pending = sections;
    for (int i = 0; ok && i < n_order; i++) {
        ok = section_run(order[i], ctx, &o, &mlp, mpi);
        pending &= ~order[i];
        if (!(pending & (SEC_MLP | SEC_PREDICT))) { /* its memory back for the rest */
            clseq_model_free(mlp);
            mlp = NULL;
        }
    }
    clseq_model_free(mlp);
    clseq_ctx_free(ctx);
    /* Last and without a context of our own open: the children get the
     * machine to themselves. */
    if (ok && (sections & SEC_STARTUP))
        ok = bench_startup(&o);
    if (ok)
        bench_print("bench_total_s", (bench_now_ms() - t0) / 1e3, "s");
#ifdef CLSEQ_CLI_HAVE_MPI
    if (mpi)
        MPI_Finalize();
#endif
    return ok ? 0 : 1;
}
