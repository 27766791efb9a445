/* clseq bench cnn and cnn-profile: the small convolutional network of
 * Keras's MNIST example, trained and run through the public API.
 *
 *   28x28x1 -> Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3x3,
 *   relu) -> MaxPooling2D(2) -> Flatten -> Dense(128, relu) -> Dense(10,
 *   softmax); Adam(0.001, 0.9, 0.999, 1e-7), sparse categorical
 *   cross-entropy, accuracy; pixels uniform in [0, 1) and labels 0..9 from
 *   fixed seeds (random data costs the same as MNIST and needs no file).
 *
 * cnn: a warm-up fit of two batches (kernel builds, the workspace), then
 * single-epoch fits of CNN_TRAIN_ROWS rows at batch 128, timed around
 * clseq_fit only; and predictions of CNN_PREDICT_ROWS rows, one warm-up,
 * then timed runs: in one clseq_predict call (one chunk: how the API is
 * meant to be called), and in calls of 128 rows (the batch a Keras or
 * PyTorch user would predict in; on a CPU a smaller batch's activations
 * stay in cache). Samples/s of the median and of the best run.
 * bench/compare.sh runs the same model in PyTorch and Keras.
 *
 * cnn-profile (not part of `all`): where the time of one training step
 * (batch 128) and of one predict chunk (CNN_PREDICT_ROWS rows) goes, layer
 * by layer. It drives the layer-by-layer passes itself (nn/train.h, the
 * layer table) with a clFinish after every layer's forward and backward,
 * the loss and the optimizer update, so each figure is that part's own
 * device time plus one queue round trip. The same step and forward pass
 * without the waits are timed too: the difference is what the waits cost.
 * Medians over the runs. Which kernels a layer's time goes to: perf (see
 * bench/README.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nn/model.h"
#include "nn/train.h"

enum {
    CNN_SIDE = 28,
    CNN_INPUT = CNN_SIDE * CNN_SIDE,
    CNN_CLASSES = 10,
    CNN_BATCH = 128,
    /* 16 steps a run: 0.8 to 1.3 s at the 1600 to 2600 samples/s that
     * clseq, Keras and PyTorch reach on two cores */
    CNN_TRAIN_ROWS = 2048,
    CNN_WARMUP_ROWS = 2 * CNN_BATCH,
    CNN_PREDICT_ROWS = 1024
};

/* The network's multiply-add FLOPs per image, for its GFLOP/s and share of
 * the machine's peak: Conv2D(32) 26*26*32 outputs of 3*3*1 products,
 * Conv2D(64) 11*11*64 of 3*3*32, Dense 1600*128 and 128*10, two FLOPs a
 * product. Training adds the weight gradients (as many again) and every
 * input gradient but the first layer's. Pooling, activations, the loss and
 * Adam are left out. */
static double cnn_flops_per_image(int training)
{
    double conv1 = 2.0 * 26 * 26 * 32 * 9, conv2 = 2.0 * 11 * 11 * 64 * 9 * 32;
    double dense = 2.0 * (1600 * 128 + 128 * CNN_CLASSES);
    double forward = conv1 + conv2 + dense;
    return training ? 2 * forward + conv2 + dense : forward;
}

/* "NAME_gflops" and "NAME_share_of_peak" of a figure in images per second. */
static void print_cnn_gflops(const char *name, double images_per_s, int training,
                             const bench_options *o)
{
    char line[96];
    double gflops = images_per_s * cnn_flops_per_image(training) / 1e9;
    snprintf(line, sizeof line, "%s_gflops", name);
    bench_print(line, gflops, "GFLOP/s");
    bench_print_share(name, gflops, o);
}

static int cnn_create(clseq_ctx *ctx, clseq_model **out)
{
    static const int shape[3] = {CNN_SIDE, CNN_SIDE, 1};
    clseq_model *m = NULL;
    int ok =
        bench_check(clseq_model_create_shaped(ctx, 3, shape, &m), "model") &&
        bench_check(clseq_model_set_seed(m, 1), "seed") &&
        bench_check(clseq_add_conv2d(m, 32, 3, 3, 1, 1, CLSEQ_PADDING_VALID, CLSEQ_RELU),
                    "Conv2D(32)") &&
        bench_check(clseq_add_max_pooling2d(m, 2, 2, 0, 0, CLSEQ_PADDING_VALID),
                    "MaxPooling2D") &&
        bench_check(clseq_add_conv2d(m, 64, 3, 3, 1, 1, CLSEQ_PADDING_VALID, CLSEQ_RELU),
                    "Conv2D(64)") &&
        bench_check(clseq_add_max_pooling2d(m, 2, 2, 0, 0, CLSEQ_PADDING_VALID),
                    "MaxPooling2D") &&
        bench_check(clseq_add_flatten(m), "Flatten") &&
        bench_check(clseq_add_dense(m, 128, CLSEQ_RELU), "Dense(128)") &&
        bench_check(clseq_add_dense(m, CNN_CLASSES, CLSEQ_SOFTMAX), "Dense(10)") &&
        bench_check(clseq_compile(m, clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f),
                                  CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY),
                    "compile");
    if (!ok) {
        clseq_model_free(m);
        return 0;
    }
    *out = m;
    return 1;
}

/* rows images and their class indices (as floats, one per row). */
static int cnn_data(size_t rows, uint64_t seed, float **x, float **y)
{
    *x = malloc(rows * CNN_INPUT * sizeof **x);
    *y = malloc(rows * sizeof **y);
    if (!*x || !*y) {
        fprintf(stderr, "clseq bench: out of host memory\n");
        return 0;
    }
    bench_fill_uniform(*x, rows * CNN_INPUT, 0.0f, 1.0f, seed);
    bench_fill_uniform(*y, rows, 0.0f, (float)CNN_CLASSES, seed + 1);
    for (size_t i = 0; i < rows; i++) {
        int c = (int)(*y)[i];
        (*y)[i] = (float)(c < CNN_CLASSES ? c : CNN_CLASSES - 1);
    }
    return 1;
}

static int cnn_fit(clseq_model *m, const float *x, const float *y, size_t rows)
{
    clseq_fit_options fo = clseq_fit_defaults();
    fo.batch_size = CNN_BATCH;
    fo.epochs = 1;
    fo.verbose = 0;
    return bench_check(clseq_fit(m, x, y, rows, &fo, NULL), "fit");
}

int bench_cnn(clseq_ctx *ctx, const bench_options *o)
{
    float *x = NULL, *y = NULL, *px = NULL, *py = NULL, *out = NULL;
    clseq_model *m = NULL;
    double times[BENCH_MAX_RUNS];
    int ok = cnn_data(CNN_TRAIN_ROWS, 11, &x, &y) && cnn_data(CNN_PREDICT_ROWS, 13, &px, &py);
    if (ok && !(out = malloc((size_t)CNN_PREDICT_ROWS * CNN_CLASSES * sizeof *out))) {
        fprintf(stderr, "clseq bench: out of host memory\n");
        ok = 0;
    }
    ok = ok && cnn_create(ctx, &m) && cnn_fit(m, x, y, CNN_WARMUP_ROWS);
    int runs = bench_runs(o, 3);
    for (int r = 0; ok && r < runs; r++) {
        double t0 = bench_now_ms();
        ok = cnn_fit(m, x, y, CNN_TRAIN_ROWS);
        times[r] = (bench_now_ms() - t0) / 1e3;
    }
    if (ok) {
        double med = bench_median(times, runs), best = bench_min(times, runs);
        bench_print("cnn_train_bs128", CNN_TRAIN_ROWS / med, "samples/s");
        bench_print("cnn_train_bs128_best", CNN_TRAIN_ROWS / best, "samples/s");
        bench_print("cnn_train_bs128_step_ms", med * 1e3 / (CNN_TRAIN_ROWS / CNN_BATCH), "ms");
        print_cnn_gflops("cnn_train_bs128", CNN_TRAIN_ROWS / med, 1, o);
    }
    /* predictions of all the rows in calls of `batch` rows each */
    static const struct { int batch; const char *name; } ways[] = {
        {CNN_PREDICT_ROWS, "cnn_predict"}, {CNN_BATCH, "cnn_predict_bs128"}};
    runs = bench_runs(o, 5);
    for (int w = 0; ok && w < 2; w++) {
        int batch = ways[w].batch;
        for (int r = -1; ok && r < runs; r++) { /* r = -1: the warm-up */
            double t0 = bench_now_ms();
            for (int first = 0; ok && first < CNN_PREDICT_ROWS; first += batch)
                ok = bench_check(clseq_predict(m, px + (size_t)first * CNN_INPUT, (size_t)batch,
                                               out + (size_t)first * CNN_CLASSES),
                                 "predict");
            if (r >= 0)
                times[r] = (bench_now_ms() - t0) / 1e3;
        }
        if (!ok)
            break;
        double med = bench_median(times, runs), best = bench_min(times, runs);
        char name[64];
        bench_print(ways[w].name, CNN_PREDICT_ROWS / med, "samples/s");
        snprintf(name, sizeof name, "%s_best", ways[w].name);
        bench_print(name, CNN_PREDICT_ROWS / best, "samples/s");
        snprintf(name, sizeof name, "%s_ms", ways[w].name);
        bench_print(name, med * 1e3, "ms");
        print_cnn_gflops(ways[w].name, CNN_PREDICT_ROWS / med, 0, o);
    }
    clseq_model_free(m);
    free(x);
    free(y);
    free(px);
    free(py);
    free(out);
    return ok;
}

/* ---- cnn-profile ---------------------------------------------------------- */

static int finish(clseq_model *m)
{
    return bench_check(clseq_cl_check(clFinish(m->dev->queue), "clFinish"), "clFinish");
}

enum { PROFILE_MAX_LAYERS = 16 };

/* One step timed part by part: fwd[i], bwd[i] per layer, then the loss and
 * the optimizer update, in ms. The same order of work as fit.c's
 * train_batch and pass.c's clseq_backward. */
static int profile_step(clseq_model *m, int rows, cl_mem totals, double *fwd, double *bwd,
                        double *loss, double *update)
{
    int ok = finish(m);
    for (int i = 0; ok && i < m->layer_count; i++) {
        clseq_pass p = clseq_layer_pass(m, i, rows);
        double t0 = bench_now_ms();
        ok = bench_check(m->layers[i].kind->forward(&m->layers[i], &p, 1), "forward") &&
             finish(m);
        fwd[i] = bench_now_ms() - t0;
    }
    double t0 = bench_now_ms();
    ok = ok && bench_check(clseq_loss_stats(m, rows, totals, 1, 0), "loss") && finish(m);
    *loss = bench_now_ms() - t0;
    int cur = 0;
    for (int i = m->layer_count - 1; ok && i >= 0; i--) {
        clseq_pass p = clseq_layer_pass(m, i, rows);
        p.d_out = m->work.delta[cur];
        p.d_in = i > 0 ? m->work.delta[1 - cur] : NULL;
        p.d_out_is_dz = i == m->layer_count - 1 && clseq_loss_includes_activation(m);
        t0 = bench_now_ms();
        ok = bench_check(m->layers[i].kind->backward(&m->layers[i], &p), "backward") &&
             finish(m);
        bwd[i] = bench_now_ms() - t0;
        if (!p.d_in_in_d_out)
            cur = 1 - cur;
    }
    t0 = bench_now_ms();
    ok = ok && bench_check(clseq_optimizer_step(m), "optimizer") && finish(m);
    *update = bench_now_ms() - t0;
    return ok;
}

/* One step as fit runs it (no waits but the last), in ms; -1 on failure. */
static double plain_step(clseq_model *m, int rows, cl_mem totals)
{
    if (!finish(m))
        return -1;
    double t0 = bench_now_ms();
    int ok = bench_check(clseq_forward(m, rows, 1), "forward") &&
             bench_check(clseq_loss_stats(m, rows, totals, 1, 0), "loss") &&
             bench_check(clseq_backward(m, rows, clseq_loss_includes_activation(m), NULL),
                         "backward") &&
             bench_check(clseq_optimizer_step(m), "optimizer") && finish(m);
    return ok ? bench_now_ms() - t0 : -1;
}

/* The forward pass at inference over rows rows of work.input, layer by
 * layer (fwd[i], ms) and, when plain is not NULL, whole without waits. */
static int profile_predict(clseq_model *m, int rows, double *fwd, double *plain)
{
    int ok = finish(m);
    for (int i = 0; ok && i < m->layer_count; i++) {
        clseq_pass p = clseq_layer_pass(m, i, rows);
        double t0 = bench_now_ms();
        ok = bench_check(m->layers[i].kind->forward(&m->layers[i], &p, 0), "forward") &&
             finish(m);
        fwd[i] = bench_now_ms() - t0;
    }
    double t0 = bench_now_ms();
    ok = ok && bench_check(clseq_forward(m, rows, 0), "forward") && finish(m);
    *plain = bench_now_ms() - t0;
    return ok;
}

/* "cnn_profile_forward_1_conv2d_ms" for layer index 0, and so on. */
static void print_part(const char *pass, const clseq_layer *l, double ms)
{
    char name[96];
    snprintf(name, sizeof name, "cnn_profile_%s_%d_%s_ms", pass, l->index + 1, l->kind->name);
    bench_print(name, ms, "ms");
}

int bench_cnn_profile(clseq_ctx *ctx, const bench_options *o)
{
    float *x = NULL, *y = NULL;
    clseq_model *m = NULL;
    cl_mem totals = NULL;
    int ok = cnn_data(CNN_WARMUP_ROWS, 11, &x, &y) && cnn_create(ctx, &m) &&
             cnn_fit(m, x, y, CNN_WARMUP_ROWS);
    /* the warm-up fit left the workspace at CNN_BATCH rows and the
     * parameters on the device; one batch goes straight into its input */
    int L = ok ? m->layer_count : 0, rows = CNN_BATCH;
    if (ok && L > PROFILE_MAX_LAYERS) {
        fprintf(stderr, "clseq bench: cnn-profile: %d layers (at most %d)\n", L,
                PROFILE_MAX_LAYERS);
        ok = 0;
    }
    ok = ok && bench_check(clseq_buffer_create(m->dev, 16 * sizeof(float), &totals), "buffer") &&
         bench_check(clseq_buffer_fill(m->dev, totals, 0, 16, 0.0f), "fill") &&
         bench_check(clseq_buffer_write(m->dev, m->work.input, 0,
                                        (size_t)rows * CNN_INPUT * sizeof(float), x),
                     "write x") &&
         bench_check(clseq_buffer_write(m->dev, m->work.target, 0, (size_t)rows * sizeof(float),
                                        y),
                     "write y");
    int runs = bench_runs(o, 5);
    static double fwd[PROFILE_MAX_LAYERS][BENCH_MAX_RUNS], bwd[PROFILE_MAX_LAYERS][BENCH_MAX_RUNS];
    double loss[BENCH_MAX_RUNS], update[BENCH_MAX_RUNS], plain[BENCH_MAX_RUNS], sum[BENCH_MAX_RUNS];
    double f[PROFILE_MAX_LAYERS], b[PROFILE_MAX_LAYERS];
    /* one untimed round of each, then alternate the two kinds of step */
    ok = ok && plain_step(m, rows, totals) >= 0 && profile_step(m, rows, totals, f, b, loss, update);
    for (int r = 0; ok && r < runs; r++) {
        ok = (plain[r] = plain_step(m, rows, totals)) >= 0 &&
             profile_step(m, rows, totals, f, b, &loss[r], &update[r]);
        sum[r] = loss[r] + update[r];
        for (int i = 0; i < L; i++) {
            fwd[i][r] = f[i];
            bwd[i][r] = b[i];
            sum[r] += f[i] + b[i];
        }
    }
    if (ok) {
        bench_print("cnn_profile_batch", rows, "rows");
        for (int i = 0; i < L; i++)
            print_part("forward", &m->layers[i], bench_median(fwd[i], runs));
        bench_print("cnn_profile_loss_ms", bench_median(loss, runs), "ms");
        for (int i = L - 1; i >= 0; i--)
            print_part("backward", &m->layers[i], bench_median(bwd[i], runs));
        bench_print("cnn_profile_optimizer_ms", bench_median(update, runs), "ms");
        bench_print("cnn_profile_parts_sum_ms", bench_median(sum, runs), "ms");
        bench_print("cnn_profile_step_ms", bench_median(plain, runs), "ms");
    }
    /* Inference: clseq_predict grows the workspace to the chunk, then the
     * chunk's rows go straight into its input. */
    float *px = NULL, *py = NULL, *out = NULL;
    rows = CNN_PREDICT_ROWS;
    ok = ok && cnn_data(CNN_PREDICT_ROWS, 13, &px, &py);
    if (ok && !(out = malloc((size_t)rows * CNN_CLASSES * sizeof *out))) {
        fprintf(stderr, "clseq bench: out of host memory\n");
        ok = 0;
    }
    ok = ok && bench_check(clseq_predict(m, px, (size_t)rows, out), "predict") &&
         bench_check(clseq_buffer_write(m->dev, m->work.input, 0,
                                        (size_t)rows * CNN_INPUT * sizeof(float), px),
                     "write x") &&
         profile_predict(m, rows, f, &plain[0]);
    for (int r = 0; ok && r < runs; r++) {
        ok = profile_predict(m, rows, f, &plain[r]);
        sum[r] = 0;
        for (int i = 0; i < L; i++) {
            fwd[i][r] = f[i];
            sum[r] += f[i];
        }
    }
    if (ok) {
        bench_print("cnn_profile_predict_rows", rows, "rows");
        for (int i = 0; i < L; i++)
            print_part("predict", &m->layers[i], bench_median(fwd[i], runs));
        bench_print("cnn_profile_predict_parts_sum_ms", bench_median(sum, runs), "ms");
        bench_print("cnn_profile_predict_forward_ms", bench_median(plain, runs), "ms");
    }
    free(px);
    free(py);
    free(out);
    clseq_buffer_release(&totals);
    clseq_model_free(m);
    free(x);
    free(y);
    return ok;
}
