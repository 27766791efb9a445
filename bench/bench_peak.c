/* clseq bench: the machine's FP32 FMA peak, measured in the same run as the
 * figures it is set against. Machines of one kind differ (a Zen 4 and a
 * Zen 5 host both report "2 cores" yet one has twice the other's peak), so
 * a GFLOP/s figure means little without the peak of the machine it came
 * from; "..._share_of_peak" lines divide by this one.
 *
 * The kernel is a hand-written loop of CHAINS independent accumulator
 * chains, each an FMA per iteration on a full vector: enough chains to
 * cover the FMA latency (4 cycles) on both FMA pipes of current x86 cores,
 * few enough to stay in registers (16 vector registers with AVX2). It is
 * compiled for AVX-512, AVX2+FMA and plain C through target attributes and
 * chosen at run time, so the build needs no -march flag. The all-core
 * figure runs one copy per core on pthreads from a common start. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define PEAK_X86 1
#include <immintrin.h>
#endif

enum { CHAINS = 12, PEAK_ROUNDS = 3, PEAK_MAX_THREADS = 256 };
/* Each timed run lasts about this long: long enough for the clock to
 * settle, short enough that the peak costs well under a second. */
static const double peak_target_ms = 60;

/* A kernel runs iters iterations of every chain and returns a value that
 * depends on all of them, so that none is optimised away. */
typedef float (*peak_kernel)(long iters);

/* x = x * 0.999999 + 1e-6 converges to 1: no overflow, no denormals. */
#define PEAK_MUL 0.999999f
#define PEAK_ADD 1e-6f

/* The chains as named variables a0..a11, one statement each: GCC keeps an
 * array of vectors in memory, and the loop would time loads and stores. */
#define PEAK_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

#ifdef PEAK_X86
__attribute__((target("avx512f"))) static float peak_avx512(long iters)
{
    const __m512 mul = _mm512_set1_ps(PEAK_MUL), add = _mm512_set1_ps(PEAK_ADD);
    __m512 sum = _mm512_setzero_ps();
#define PEAK_INIT(c) __m512 a##c = _mm512_set1_ps((float)(c));
#define PEAK_STEP(c) a##c = _mm512_fmadd_ps(a##c, mul, add);
#define PEAK_SUM(c) sum = _mm512_add_ps(sum, a##c);
    PEAK_CHAINS(PEAK_INIT)
    for (long i = 0; i < iters; i++) {
        PEAK_CHAINS(PEAK_STEP)
    }
    PEAK_CHAINS(PEAK_SUM)
#undef PEAK_INIT
#undef PEAK_STEP
#undef PEAK_SUM
    return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static float peak_avx2(long iters)
{
    const __m256 mul = _mm256_set1_ps(PEAK_MUL), add = _mm256_set1_ps(PEAK_ADD);
    __m256 sum = _mm256_setzero_ps();
#define PEAK_INIT(c) __m256 a##c = _mm256_set1_ps((float)(c));
#define PEAK_STEP(c) a##c = _mm256_fmadd_ps(a##c, mul, add);
#define PEAK_SUM(c) sum = _mm256_add_ps(sum, a##c);
    PEAK_CHAINS(PEAK_INIT)
    for (long i = 0; i < iters; i++) {
        PEAK_CHAINS(PEAK_STEP)
    }
    PEAK_CHAINS(PEAK_SUM)
#undef PEAK_INIT
#undef PEAK_STEP
#undef PEAK_SUM
    float lanes[8];
    _mm256_storeu_ps(lanes, sum);
    return lanes[0] + lanes[7];
}
#endif

/* Plain C: a multiply and an add (C11 does not contract them into an FMA
 * unless the compiler is told to), still 2 FLOPs an element. */
static float peak_scalar(long iters)
{
    float sum = 0;
#define PEAK_INIT(c) float a##c = (float)(c);
#define PEAK_STEP(c) a##c = a##c * PEAK_MUL + PEAK_ADD;
#define PEAK_SUM(c) sum += a##c;
    PEAK_CHAINS(PEAK_INIT)
    for (long i = 0; i < iters; i++) {
        PEAK_CHAINS(PEAK_STEP)
    }
    PEAK_CHAINS(PEAK_SUM)
#undef PEAK_INIT
#undef PEAK_STEP
#undef PEAK_SUM
    return sum;
}

typedef struct isa {
    const char *name;
    peak_kernel kernel;
    int lanes; /* floats per vector */
} isa;

static isa pick_isa(void)
{
#ifdef PEAK_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return (isa){"avx512", peak_avx512, 16};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (isa){"avx2", peak_avx2, 8};
#endif
    return (isa){"scalar", peak_scalar, 1};
}

/* The cores this process may run on. */
static int core_count(void)
{
    cpu_set_t set;
    int n = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
    if (n <= 0)
        n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > PEAK_MAX_THREADS ? PEAK_MAX_THREADS : n;
}

/* The workers wait for one "go" so that they start together. */
typedef struct start_gate {
    pthread_mutex_t lock;
    pthread_cond_t opened;
    int go;
} start_gate;

typedef struct worker {
    peak_kernel kernel;
    long iters;
    start_gate *gate;
    volatile float sink;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    pthread_mutex_lock(&w->gate->lock);
    while (!w->gate->go)
        pthread_cond_wait(&w->gate->opened, &w->gate->lock);
    pthread_mutex_unlock(&w->gate->lock);
    w->sink = w->kernel(w->iters);
    return NULL;
}

/* threads copies of the kernel from a common start; their wall time in ms
 * (from the start to the last one's end), or -1 if a thread could not be
 * made (those that were still run, so that none is left waiting). */
static double run_threads(peak_kernel kernel, long iters, int threads)
{
    worker workers[PEAK_MAX_THREADS];
    pthread_t ids[PEAK_MAX_THREADS];
    start_gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    int started = 0;
    for (; started < threads; started++) {
        workers[started] = (worker){kernel, iters, &gate, 0};
        if (pthread_create(&ids[started], NULL, worker_main, &workers[started]) != 0)
            break;
    }
    pthread_mutex_lock(&gate.lock);
    gate.go = 1;
    pthread_cond_broadcast(&gate.opened);
    pthread_mutex_unlock(&gate.lock);
    double t0 = bench_now_ms();
    for (int i = 0; i < started; i++)
        pthread_join(ids[i], NULL);
    double ms = bench_now_ms() - t0;
    if (started < threads) {
        fprintf(stderr, "clseq bench: fma peak: pthread_create failed\n");
        return -1;
    }
    return ms;
}

/* Best GFLOP/s of PEAK_ROUNDS runs of threads copies (0 on failure). */
static double peak_gflops(const isa *k, long iters, int threads)
{
    double best = 0;
    for (int r = 0; r < PEAK_ROUNDS; r++) {
        double ms = run_threads(k->kernel, iters, threads);
        if (ms <= 0)
            return 0;
        double gflops = 2.0 * CHAINS * k->lanes * (double)iters * threads / ms / 1e6;
        best = gflops > best ? gflops : best;
    }
    return best;
}

double bench_fma_peak(void)
{
    isa k = pick_isa();
    /* iterations for about peak_target_ms on one core: double a short run
     * until it takes a few ms, then scale */
    long iters = 1 << 12;
    double ms = 0;
    for (;;) {
        double t0 = bench_now_ms();
        volatile float sink = k.kernel(iters);
        (void)sink;
        ms = bench_now_ms() - t0;
        if (ms >= 5 || iters > (1L << 40))
            break;
        iters *= 2;
    }
    iters = (long)((double)iters * peak_target_ms / (ms > 0 ? ms : 1));
    iters = iters < 1 ? 1 : iters;
    int cores = core_count();
    double one = peak_gflops(&k, iters, 1), all = peak_gflops(&k, iters, cores);
    printf("fma_peak_isa: %s\n", k.name);
    bench_print("fma_peak_threads", cores, "threads");
    if (one > 0)
        bench_print("fma_peak_1thread", one, "GFLOP/s");
    else
        bench_print_na("fma_peak_1thread");
    if (all > 0)
        bench_print("fma_peak", all, "GFLOP/s");
    else
        bench_print_na("fma_peak");
    return all;
}

void bench_print_share(const char *name, double gflops, const bench_options *o)
{
    char line[160];
    snprintf(line, sizeof line, "%s_share_of_peak", name);
    if (o->fma_peak_gflops > 0 && gflops > 0)
        bench_print(line, gflops / o->fma_peak_gflops, "fraction");
}
