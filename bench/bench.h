/* clseq bench: the parts shared between its files (cmd_bench.c,
 * bench_gemm.c, bench_train.c, bench_cnn.c, bench_peak.c). Every figure is printed as one
 * "NAME: VALUE UNIT" line on stdout; failures go to stderr. */
#ifndef CLSEQ_CLI_BENCH_H
#define CLSEQ_CLI_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "clseq.h"

/* Settings of one bench run. */
typedef struct bench_options {
    const char *device;  /* --device, or NULL for clseq's default */
    int repeat;          /* --repeat, or 0 for each measurement's own choice */
    double fma_peak_gflops; /* this run's all-core FP32 FMA peak, 0 if not measured */
} bench_options;

/* A monotonic clock in milliseconds. */
double bench_now_ms(void);
/* Prints "name: value unit" with a sensible number of digits and flushes. */
void bench_print(const char *name, double value, const char *unit);
/* Prints "name: n/a" (a reference that is absent) and flushes. */
void bench_print_na(const char *name);
/* The most repeats a benchmark keeps times for. */
enum { BENCH_MAX_RUNS = 100 };
/* The median of count values (sorts them in place). */
double bench_median(double *values, int count);
/* The smallest of count (> 0) values. */
double bench_min(const double *values, int count);
/* Repeats: --repeat when given, else fallback, at most BENCH_MAX_RUNS. */
int bench_runs(const bench_options *o, int fallback);
/* Uniform floats in [lo, hi) from a small deterministic generator. */
void bench_fill_uniform(float *x, size_t n, float lo, float hi, uint64_t seed);
/* Reports a failed clseq call on stderr; returns 0 when s is not CLSEQ_OK. */
int bench_check(clseq_status s, const char *what);
/* Measures the FP32 FMA peak on 1 and on all cores with the widest vector
 * ISA the CPU has, prints the fma_peak_* lines, and returns the all-core
 * GFLOP/s (0 on failure; bench_peak.c). */
double bench_fma_peak(void);
/* Prints "name_share_of_peak: gflops / o's peak" when the peak is known. */
void bench_print_share(const char *name, double gflops, const bench_options *o);

/* The sections; each returns 1 on success, 0 after printing an error. */
int bench_gemm(clseq_ctx *ctx, const bench_options *o);
int bench_seed(clseq_ctx *ctx, const bench_options *o);
/* mlp and predict share one model: *model is created (and trained) by the
 * first that needs it and freed by the caller. */
int bench_mlp(clseq_ctx *ctx, const bench_options *o, clseq_model **model);
int bench_predict(clseq_ctx *ctx, const bench_options *o, clseq_model **model);
/* The Conv2D/MaxPooling2D network: training and predict samples/s. */
int bench_cnn(clseq_ctx *ctx, const bench_options *o);
/* The same network's training step, layer by layer (not part of all). */
int bench_cnn_profile(clseq_ctx *ctx, const bench_options *o);
/* Bytes each bench model's data-parallel step sums, and the time of the
 * sum over ctx's devices (both ways) and, with mpi (inside mpirun, MPI
 * initialised), over the processes (bench_allreduce.c). */
int bench_allreduce(clseq_ctx *ctx, const bench_options *o, int mpi);

#endif
