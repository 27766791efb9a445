/* Streaming benchmarks (issue "data sets larger than the device"): what
 * bench/stream.sh runs. Prints "NAME: VALUE UNIT" lines.
 *
 *   bench_stream fit ROWS FEATURES   one epoch of clseq_fit on ROWS x FEATURES
 *                                    floats made here, with the peak RSS
 *                                    before and after (run it under
 *                                    POCL_MEMORY_LIMIT=2 to make the data
 *                                    larger than the device)
 *   bench_stream csv PATH ROWS FEATURES   writes a CSV of that size, fast
 *   bench_stream rss NAME -- CMD ...  runs CMD, prints its time and peak RSS
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clseq.h"

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec * 1e-9;
}

static double peak_rss_mib(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_maxrss / 1024.0;
}

/* xorshift: the data only has to be there, not be good random numbers */
static uint64_t next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static int fail(clseq_status s, const char *what)
{
    fprintf(stderr, "bench_stream: %s: %s: %s\n", what, clseq_status_name(s), clseq_last_error());
    return 1;
}

/* Two classes split by the sign of the features' sum: learnable, so the
 * loss shows the fit really trained. */
static int bench_fit(size_t rows, int features)
{
    float *x = malloc(rows * (size_t)features * sizeof *x), *y = malloc(rows * sizeof *y);
    if (!x || !y) {
        fprintf(stderr, "bench_stream: out of memory for %zu rows\n", rows);
        return 1;
    }
    uint64_t seed = 88172645463325252ull;
    for (size_t r = 0; r < rows; r++) {
        float sum = 0;
        for (int c = 0; c < features; c++) {
            float v = (float)(next(&seed) >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
            x[r * (size_t)features + (size_t)c] = v;
            sum += v;
        }
        y[r] = sum > 0;
    }
    printf("stream_fit_rows: %zu rows\nstream_fit_data: %.0f MiB\n", rows,
           (double)rows * (features + 1) * 4.0 / (1 << 20));
    printf("stream_fit_rss_before: %.0f MiB\n", peak_rss_mib());
    clseq_ctx *ctx;
    clseq_model *m;
    clseq_status s = clseq_ctx_create(NULL, &ctx);
    if (s != CLSEQ_OK)
        return fail(s, "context");
    if ((s = clseq_model_create(ctx, features, &m)) != CLSEQ_OK ||
        (s = clseq_add_dense(m, 16, CLSEQ_RELU)) != CLSEQ_OK ||
        (s = clseq_add_dense(m, 2, CLSEQ_SOFTMAX)) != CLSEQ_OK ||
        (s = clseq_compile(m, clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f),
                           CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY)) !=
            CLSEQ_OK)
        return fail(s, "model");
    printf("stream_fit_device: %s\n", clseq_ctx_device_name(ctx));
    clseq_fit_options o = clseq_fit_defaults();
    o.epochs = 1;
    o.batch_size = 1024;
    o.verbose = 0;
    clseq_history *h = NULL;
    double t0 = now_s();
    if ((s = clseq_fit(m, x, y, rows, &o, &h)) != CLSEQ_OK)
        return fail(s, "fit");
    double t = now_s() - t0;
    printf("stream_fit_time: %.2f s\nstream_fit_speed: %.0f samples/s\n", t, (double)rows / t);
    printf("stream_fit_loss: %.4f\nstream_fit_accuracy: %.4f\n",
           (double)clseq_history_values(h, "loss")[0],
           (double)clseq_history_values(h, "accuracy")[0]);
    printf("stream_fit_rss_after: %.0f MiB\n", peak_rss_mib());
    clseq_history_free(h);
    clseq_model_free(m);
    clseq_ctx_free(ctx);
    free(x);
    free(y);
    return 0;
}

/* Numbers with three decimals, formatted by hand: printf would take
 * longer than the training. */
static char *put_number(char *p, long thousandths)
{
    if (thousandths < 0) {
        *p++ = '-';
        thousandths = -thousandths;
    }
    char digits[24];
    int n = 0;
    long whole = thousandths / 1000, frac = thousandths % 1000;
    do {
        digits[n++] = (char)('0' + whole % 10);
        whole /= 10;
    } while (whole);
    while (n)
        *p++ = digits[--n];
    *p++ = '.';
    *p++ = (char)('0' + frac / 100);
    *p++ = (char)('0' + frac / 10 % 10);
    *p++ = (char)('0' + frac % 10);
    return p;
}

static int bench_csv(const char *path, size_t rows, int features)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        return 1;
    }
    for (int c = 0; c < features; c++)
        fprintf(f, "x%d,", c);
    fprintf(f, "label\n");
    uint64_t seed = 88172645463325252ull;
    char line[64 * 32];
    for (size_t r = 0; r < rows; r++) {
        char *p = line;
        long sum = 0;
        for (int c = 0; c < features; c++) {
            long v = (long)(next(&seed) % 2001) - 1000;
            sum += v;
            p = put_number(p, v);
            *p++ = ',';
        }
        *p++ = sum > 0 ? '1' : '0';
        *p++ = '\n';
        fwrite(line, 1, (size_t)(p - line), f);
    }
    return fclose(f) == 0 ? 0 : (perror(path), 1);
}

static int bench_rss(const char *name, char **argv)
{
    double t0 = now_s();
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    int status = 0;
    struct rusage u;
    if (pid < 0 || wait4(pid, &status, 0, &u) < 0) {
        perror("fork");
        return 1;
    }
    printf("%s_time: %.2f s\n%s_peak_rss: %.0f MiB\n", name, now_s() - t0, name,
           (double)u.ru_maxrss / 1024.0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "fit") == 0)
        return bench_fit(strtoull(argv[2], NULL, 10), atoi(argv[3]));
    if (argc == 5 && strcmp(argv[1], "csv") == 0)
        return bench_csv(argv[2], strtoull(argv[3], NULL, 10), atoi(argv[4]));
    if (argc > 4 && strcmp(argv[1], "rss") == 0 && strcmp(argv[3], "--") == 0)
        return bench_rss(argv[2], argv + 4);
    fprintf(stderr, "usage: bench_stream fit ROWS FEATURES | csv PATH ROWS FEATURES | "
            "rss NAME -- CMD...\n");
    return 2;
}
