/* clseq bench seed, mlp and predict: whole fits and predictions through the
 * public API, timed around clseq_fit / clseq_predict only (data and model
 * set-up excluded).
 *
 * seed: the lesson's fit (Dense(4, softmax) on 3200 make_blobs rows, batch 4,
 * 10 epochs, SGD 0.01) on the fused path, on the layer-by-layer path (the
 * context's fused option at 0, read at each fit) and as a plain C loop
 * on the host that does the same arithmetic, standing in for NumPy.
 * mlp/predict: 784-512-512-10 on random data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "runtime/runtime.h"

/* ---- seed: data ----------------------------------------------------------- */

enum { SEED_ROWS = 4000, SEED_FEATURES = 2, SEED_CLASSES = 4, SEED_BATCH = 4, SEED_EPOCHS = 10 };

typedef struct seed_data {
    float *x_train, *y_train, *x_test, *y_test;
    size_t n_train, n_test;
} seed_data;

static void seed_data_free(seed_data *d)
{
    free(d->x_train);
    free(d->y_train);
    free(d->x_test);
    free(d->y_test);
}

/* make_blobs(4000, 2 features, 4 centres, std 2, seed 101), the 80/20
 * train_test_split with seed 42, one-hot targets. */
static int seed_data_make(seed_data *d)
{
    clseq_blobs_options b = clseq_blobs_defaults();
    b.n_samples = SEED_ROWS;
    b.n_features = SEED_FEATURES;
    b.centers = SEED_CLASSES;
    b.cluster_std = 2.0;
    b.random_state = 101;
    double *xd = malloc(SEED_ROWS * SEED_FEATURES * sizeof *xd);
    int *labels = malloc(SEED_ROWS * sizeof *labels);
    float *x = malloc(SEED_ROWS * SEED_FEATURES * sizeof *x);
    float *yl = malloc(SEED_ROWS * sizeof *yl);
    float *y = malloc(SEED_ROWS * SEED_CLASSES * sizeof *y);
    size_t *train = malloc(SEED_ROWS * sizeof *train), *test = malloc(SEED_ROWS * sizeof *test);
    int ok = xd && labels && x && yl && y && train && test &&
             bench_check(clseq_make_blobs(&b, xd, labels), "make_blobs") &&
             bench_check(clseq_split_sizes(SEED_ROWS, 0.2, &d->n_train, &d->n_test), "split");
    if (ok) {
        for (size_t i = 0; i < SEED_ROWS * SEED_FEATURES; i++)
            x[i] = (float)xd[i];
        for (size_t i = 0; i < SEED_ROWS; i++)
            yl[i] = (float)labels[i];
        d->x_train = malloc(d->n_train * SEED_FEATURES * sizeof(float));
        d->y_train = malloc(d->n_train * SEED_CLASSES * sizeof(float));
        d->x_test = malloc(d->n_test * SEED_FEATURES * sizeof(float));
        d->y_test = malloc(d->n_test * SEED_CLASSES * sizeof(float));
        ok = d->x_train && d->y_train && d->x_test && d->y_test &&
             bench_check(clseq_train_test_split(SEED_ROWS, 0.2, 42, train, test), "split") &&
             bench_check(clseq_one_hot(yl, SEED_ROWS, SEED_CLASSES, y), "one_hot") &&
             bench_check(clseq_take_rows(x, SEED_ROWS, SEED_FEATURES, train, d->n_train,
                                         d->x_train), "take_rows") &&
             bench_check(clseq_take_rows(y, SEED_ROWS, SEED_CLASSES, train, d->n_train,
                                         d->y_train), "take_rows") &&
             bench_check(clseq_take_rows(x, SEED_ROWS, SEED_FEATURES, test, d->n_test, d->x_test),
                         "take_rows") &&
             bench_check(clseq_take_rows(y, SEED_ROWS, SEED_CLASSES, test, d->n_test, d->y_test),
                         "take_rows");
    }
    free(xd);
    free(labels);
    free(x);
    free(yl);
    free(y);
    free(train);
    free(test);
    return ok;
}

/* ---- seed: clseq ---------------------------------------------------------- */

/* One fit on a fresh model; its fit time in ms (-1 on failure) and the
 * test accuracy. */
static double seed_fit(clseq_ctx *ctx, const seed_data *d, int epochs, float *accuracy)
{
    clseq_model *m = NULL;
    clseq_fit_options fo = clseq_fit_defaults();
    fo.epochs = epochs;
    fo.batch_size = SEED_BATCH;
    fo.verbose = 0;
    float loss = 0;
    double ms = -1;
    if (bench_check(clseq_model_create(ctx, SEED_FEATURES, &m), "model") &&
        bench_check(clseq_add_dense(m, SEED_CLASSES, CLSEQ_SOFTMAX), "Dense(4)") &&
        bench_check(clseq_compile(m, clseq_sgd(0.01f, 0.0f, 0), CLSEQ_CATEGORICAL_CROSSENTROPY,
                                  CLSEQ_METRIC_ACCURACY),
                    "compile")) {
        double t0 = bench_now_ms();
        if (bench_check(clseq_fit(m, d->x_train, d->y_train, d->n_train, &fo, NULL), "fit"))
            ms = bench_now_ms() - t0;
        if (ms >= 0 && !bench_check(clseq_evaluate(m, d->x_test, d->y_test, d->n_test, &loss,
                                                   accuracy),
                                    "evaluate"))
            ms = -1;
    }
    clseq_model_free(m);
    return ms;
}

/* A warm-up fit of one epoch, then runs timed fits; median and min in ms. */
static int seed_time(clseq_ctx *ctx, const seed_data *d, int runs, double *median, double *best,
                     float *accuracy)
{
    double times[BENCH_MAX_RUNS];
    if (seed_fit(ctx, d, 1, accuracy) < 0)
        return 0;
    for (int i = 0; i < runs; i++)
        if ((times[i] = seed_fit(ctx, d, SEED_EPOCHS, accuracy)) < 0)
            return 0;
    *best = bench_min(times, runs);
    *median = bench_median(times, runs);
    return 1;
}

/* ---- seed: the plain C reference ----------------------------------------- */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Dense(4, softmax) trained by minibatch SGD exactly as Keras does it:
 * a reshuffle per epoch, mean cross-entropy over the batch, loss and
 * accuracy tracked per batch. Returns the test accuracy. */
static float host_seed_fit(const seed_data *d, double *ms)
{
    enum { F = SEED_FEATURES, C = SEED_CLASSES };
    float w[F * C], bias[C] = {0};
    uint64_t rng = 0x853c49e6748fea9bull;
    float limit = sqrtf(6.0f / (F + C)); /* Glorot uniform */
    for (int i = 0; i < F * C; i++)
        w[i] = limit * (2.0f * (float)((xorshift(&rng) >> 40) / 16777216.0) - 1.0f);
    size_t n = d->n_train;
    size_t *perm = malloc(n * sizeof *perm);
    if (!perm)
        return -1;
    double t0 = bench_now_ms();
    volatile float sink = 0;
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    for (int epoch = 0; epoch < SEED_EPOCHS; epoch++) {
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)(xorshift(&rng) % (i + 1)), t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        float loss_sum = 0, hits = 0;
        for (size_t start = 0; start < n; start += SEED_BATCH) {
            size_t rows = n - start < SEED_BATCH ? n - start : SEED_BATCH;
            float gw[F * C] = {0}, gb[C] = {0};
            for (size_t r = 0; r < rows; r++) {
                const float *x = d->x_train + perm[start + r] * F;
                const float *y = d->y_train + perm[start + r] * C;
                float z[C], top = -INFINITY, sum = 0;
                int arg = 0, label = 0;
                for (int c = 0; c < C; c++) {
                    z[c] = bias[c];
                    for (int k = 0; k < F; k++)
                        z[c] += x[k] * w[k * C + c];
                    if (z[c] > top) {
                        top = z[c];
                        arg = c;
                    }
                    if (y[c] > y[label])
                        label = c;
                }
                for (int c = 0; c < C; c++)
                    sum += (z[c] = expf(z[c] - top));
                for (int c = 0; c < C; c++) {
                    float p = z[c] / sum;
                    loss_sum -= y[c] * logf(p > 1e-7f ? p : 1e-7f);
                    float g = (p - y[c]) / (float)rows;
                    gb[c] += g;
                    for (int k = 0; k < F; k++)
                        gw[k * C + c] += x[k] * g;
                }
                hits += arg == label;
            }
            for (int i = 0; i < F * C; i++)
                w[i] -= 0.01f * gw[i];
            for (int c = 0; c < C; c++)
                bias[c] -= 0.01f * gb[c];
        }
        sink = loss_sum + hits; /* the per-epoch figures a fit reports */
    }
    (void)sink;
    *ms = bench_now_ms() - t0;
    free(perm);
    size_t right = 0;
    for (size_t i = 0; i < d->n_test; i++) {
        const float *x = d->x_test + i * F, *y = d->y_test + i * C;
        int arg = 0, label = 0;
        float best = -INFINITY;
        for (int c = 0; c < C; c++) {
            float z = bias[c];
            for (int k = 0; k < F; k++)
                z += x[k] * w[k * C + c];
            if (z > best) {
                best = z;
                arg = c;
            }
            if (y[c] > y[label])
                label = c;
        }
        right += arg == label;
    }
    return (float)right / (float)d->n_test;
}

int bench_seed(clseq_ctx *ctx, const bench_options *o)
{
    seed_data d;
    memset(&d, 0, sizeof d);
    if (!seed_data_make(&d)) {
        seed_data_free(&d);
        return 0;
    }
    double fused = 0, fused_min = 0, layered = 0, layered_min = 0, host[BENCH_MAX_RUNS];
    float fused_acc = 0, layered_acc = 0, host_acc = 0;
    /* The library's own choice (fused for this model), then the
     * layer-by-layer path, then the caller's setting back: the fused option
     * is read at each fit, so the bench flips it on its context. */
    int saved = ctx->options.fused;
    ctx->options.fused = -1;
    int ok = seed_time(ctx, &d, bench_runs(o, 5), &fused, &fused_min, &fused_acc);
    if (ok) {
        bench_print("seed_fit_fused_ms", fused, "ms");
        bench_print("seed_fit_fused_min_ms", fused_min, "ms");
        bench_print("seed_fit_fused_test_accuracy", fused_acc, "fraction");
        ctx->options.fused = 0;
        ok = seed_time(ctx, &d, bench_runs(o, 3), &layered, &layered_min, &layered_acc);
    }
    ctx->options.fused = saved;
    if (ok) {
        bench_print("seed_fit_unfused_ms", layered, "ms");
        bench_print("seed_fit_unfused_min_ms", layered_min, "ms");
        bench_print("seed_fit_unfused_test_accuracy", layered_acc, "fraction");
        int runs = bench_runs(o, 5);
        double warm = 0;
        ok = host_seed_fit(&d, &warm) >= 0;
        for (int i = 0; ok && i < runs; i++)
            ok = (host_acc = host_seed_fit(&d, &host[i])) >= 0;
        if (!ok)
            fprintf(stderr, "clseq bench: out of host memory\n");
    }
    if (ok) {
        int runs = bench_runs(o, 5);
        double host_med = bench_median(host, runs);
        bench_print("seed_fit_host_c_ms", host_med, "ms");
        bench_print("seed_fit_host_c_test_accuracy", host_acc, "fraction");
        bench_print("seed_speedup_fused_over_unfused", layered / fused, "x");
        bench_print("seed_time_ratio_fused_to_host_c", fused / host_med, "x");
    }
    seed_data_free(&d);
    return ok;
}

/* ---- mlp and predict ------------------------------------------------------ */

enum { MLP_IN = 784, MLP_HIDDEN = 512, MLP_OUT = 10, MLP_ROWS = 4096, PREDICT_ROWS = 1000 };

/* The MLP's matrix-product FLOPs per row, for its GFLOP/s and share of the
 * machine's peak: forward 2 (784*512 + 512*512 + 512*10); a training step
 * adds the weight gradients (as many again) and the input gradients of
 * layers 2 and 3 (layer 1's is not needed). Biases, activations, the loss
 * and Adam grow with the units, not their products, and are left out. */
static double mlp_flops_per_row(int training)
{
    double forward = 2.0 * ((double)MLP_IN * MLP_HIDDEN + (double)MLP_HIDDEN * MLP_HIDDEN +
                            (double)MLP_HIDDEN * MLP_OUT);
    double input_grads = 2.0 * ((double)MLP_HIDDEN * MLP_HIDDEN + (double)MLP_HIDDEN * MLP_OUT);
    return training ? 2 * forward + input_grads : forward;
}

/* "NAME_gflops" and "NAME_share_of_peak" of a figure in rows per second. */
static void print_mlp_gflops(const char *name, double rows_per_s, int training,
                             const bench_options *o)
{
    char line[96];
    double gflops = rows_per_s * mlp_flops_per_row(training) / 1e9;
    snprintf(line, sizeof line, "%s_gflops", name);
    bench_print(line, gflops, "GFLOP/s");
    bench_print_share(name, gflops, o);
}

static int mlp_create(clseq_ctx *ctx, clseq_model **out)
{
    clseq_model *m = NULL;
    int ok = bench_check(clseq_model_create(ctx, MLP_IN, &m), "model") &&
             bench_check(clseq_model_set_seed(m, 1), "seed") &&
             bench_check(clseq_add_dense(m, MLP_HIDDEN, CLSEQ_RELU), "Dense(512)") &&
             bench_check(clseq_add_dense(m, MLP_HIDDEN, CLSEQ_RELU), "Dense(512)") &&
             bench_check(clseq_add_dense(m, MLP_OUT, CLSEQ_SOFTMAX), "Dense(10)") &&
             bench_check(clseq_compile(m, clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f),
                                       CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY),
                         "compile");
    if (!ok) {
        clseq_model_free(m);
        return 0;
    }
    *out = m;
    return 1;
}

int bench_mlp(clseq_ctx *ctx, const bench_options *o, clseq_model **model)
{
    float *x = malloc((size_t)MLP_ROWS * MLP_IN * sizeof *x);
    float *y = calloc((size_t)MLP_ROWS * MLP_OUT, sizeof *y);
    int ok = x && y;
    if (!ok)
        fprintf(stderr, "clseq bench: out of host memory\n");
    if (ok) {
        bench_fill_uniform(x, (size_t)MLP_ROWS * MLP_IN, 0.0f, 1.0f, 3);
        float *labels = malloc(MLP_ROWS * sizeof *labels);
        ok = labels != NULL;
        if (ok) {
            bench_fill_uniform(labels, MLP_ROWS, 0.0f, (float)MLP_OUT, 4);
            for (size_t i = 0; i < MLP_ROWS; i++) {
                int c = (int)labels[i];
                y[i * MLP_OUT + (c < MLP_OUT ? c : MLP_OUT - 1)] = 1.0f;
            }
        }
        free(labels);
    }
    ok = ok && (*model || mlp_create(ctx, model));
    /* One warm-up epoch, then single-epoch fits: the median and the best
     * epoch (one epoch is short enough for other work on the machine to
     * skew it). */
    static const int batches[] = {128, 512};
    int runs = bench_runs(o, 3);
    for (int b = 0; ok && b < 2; b++) {
        clseq_fit_options fo = clseq_fit_defaults();
        fo.batch_size = batches[b];
        fo.verbose = 0;
        fo.epochs = 1;
        double times[BENCH_MAX_RUNS];
        ok = bench_check(clseq_fit(*model, x, y, MLP_ROWS, &fo, NULL), "fit (warm-up)");
        for (int r = 0; ok && r < runs; r++) {
            double t0 = bench_now_ms();
            ok = bench_check(clseq_fit(*model, x, y, MLP_ROWS, &fo, NULL), "fit");
            times[r] = (bench_now_ms() - t0) / 1e3;
        }
        if (!ok)
            break;
        double med = bench_median(times, runs), best = bench_min(times, runs);
        int steps = (MLP_ROWS + batches[b] - 1) / batches[b];
        char name[64];
        snprintf(name, sizeof name, "mlp_train_bs%d_samples_per_s", batches[b]);
        bench_print(name, MLP_ROWS / med, "samples/s");
        snprintf(name, sizeof name, "mlp_train_bs%d_best_samples_per_s", batches[b]);
        bench_print(name, MLP_ROWS / best, "samples/s");
        snprintf(name, sizeof name, "mlp_train_bs%d_step_ms", batches[b]);
        bench_print(name, med * 1e3 / steps, "ms");
        snprintf(name, sizeof name, "mlp_train_bs%d", batches[b]);
        print_mlp_gflops(name, MLP_ROWS / med, 1, o);
    }
    free(x);
    free(y);
    return ok;
}

int bench_predict(clseq_ctx *ctx, const bench_options *o, clseq_model **model)
{
    float *x = malloc((size_t)PREDICT_ROWS * MLP_IN * sizeof *x);
    float *out = malloc((size_t)PREDICT_ROWS * MLP_OUT * sizeof *out);
    int ok = x && out;
    if (!ok)
        fprintf(stderr, "clseq bench: out of host memory\n");
    ok = ok && (*model || mlp_create(ctx, model));
    int runs = bench_runs(o, 7);
    double times[BENCH_MAX_RUNS];
    if (ok) {
        bench_fill_uniform(x, (size_t)PREDICT_ROWS * MLP_IN, 0.0f, 1.0f, 5);
        ok = bench_check(clseq_predict(*model, x, PREDICT_ROWS, out), "predict (warm-up)");
    }
    for (int i = 0; ok && i < runs; i++) {
        double t0 = bench_now_ms();
        ok = bench_check(clseq_predict(*model, x, PREDICT_ROWS, out), "predict");
        times[i] = bench_now_ms() - t0;
    }
    if (ok) {
        double best = bench_min(times, runs), med = bench_median(times, runs);
        bench_print("predict_1000_samples_per_s", PREDICT_ROWS / (med / 1e3), "samples/s");
        bench_print("predict_1000_best_samples_per_s", PREDICT_ROWS / (best / 1e3), "samples/s");
        bench_print("predict_1000_ms", med, "ms");
        print_mlp_gflops("predict_1000", PREDICT_ROWS / (med / 1e3), 0, o);
    }
    free(x);
    free(out);
    return ok;
}
