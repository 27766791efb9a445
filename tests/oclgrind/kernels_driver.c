/* kernels_driver: launches every kernel of runtime/sources.c's table at
 * tiny sizes, for tests/oclgrind/run.sh to run under Oclgrind (which
 * checks each access; this program checks little else).
 *
 * It trains small models through the public API on a few contexts of the
 * device $CLSEQ_DEVICE names: every layer kind, activation, pooling
 * variant (max and average, same and valid, overlapping windows, whose
 * backward passes gather, and not, which scatter; channel counts 1, 4, 8
 * and 16 for every vector width), BatchNormalization in training and
 * inference, Dropout, every optimizer with each clipping option,
 * regularizers, sample and class weights, every metric bit, losses taken
 * from logits, the fused trainer, streamed data and evaluate / predict.
 * What models never reach at tiny sizes it launches through the ops
 * layer, checked against host references: the GEMM families past their
 * size thresholds (the tiled kernels launched directly, as a 64^3
 * product takes long to simulate), bias_activate (only after CLBlast's
 * products), argmax_rows (no caller in the library) and conv_accumulate
 * (only for columns over 2^20 floats).
 *
 * Some launches depend on the device's type: the pooling kernels of
 * widths 8 and 16, the pools' one-line-per-work-item launches,
 * im2col_lines4 and conv's smaller chunks are for CPUs only, im2col4 and
 * the pools' 3-D grids for other devices. Oclgrind's one device says it
 * is of every type (CL_DEVICE_TYPE 15: CPU, GPU, accelerator, default),
 * so clseq would only take the CPU paths there. Each context below
 * therefore marks its device a GPU or a CPU once it is made
 * (clseq_device.type); the program was built, and the GEMM family and the
 * fused trainer's group size chosen, for what the device reported.
 *
 * Every launch is counted: the link wraps clEnqueueNDRangeKernel
 * (-Wl,--wrap, tests/CMakeLists.txt), and the wrapper looks each
 * kernel's name up in the table. The program fails, listing them, when
 * some kernel of the table was never launched, and on any error. It
 * prints each part's seconds; KERNELS_DRIVER_COUNTS=1 also prints the
 * launches of each kernel. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clseq.h"
#include "ops/ops.h"
#include "ops/ops_conv.h"
#include "runtime/runtime.h"
#include "runtime/sources.h"

/* ---- launch counts ------------------------------------------------------ */

static long launches[K_COUNT];
static long unknown_launches;

cl_int __real_clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint dims,
                                     const size_t *offset, const size_t *global,
                                     const size_t *local, cl_uint num_events,
                                     const cl_event *events, cl_event *event);
cl_int __wrap_clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint dims,
                                     const size_t *offset, const size_t *global,
                                     const size_t *local, cl_uint num_events,
                                     const cl_event *events, cl_event *event);

cl_int __wrap_clEnqueueNDRangeKernel(cl_command_queue queue, cl_kernel kernel, cl_uint dims,
                                     const size_t *offset, const size_t *global,
                                     const size_t *local, cl_uint num_events,
                                     const cl_event *events, cl_event *event)
{
    char name[128] = "";
    int found = 0;
    if (clGetKernelInfo(kernel, CL_KERNEL_FUNCTION_NAME, sizeof name, name, NULL) == CL_SUCCESS)
        for (int id = 0; id < K_COUNT && !found; id++)
            if (strcmp(name, clseq_kernel_name((clseq_kernel_id)id)) == 0) {
                launches[id]++;
                found = 1;
            }
    if (!found)
        unknown_launches++;
    return __real_clEnqueueNDRangeKernel(queue, kernel, dims, offset, global, local, num_events,
                                         events, event);
}

/* ---- helpers ------------------------------------------------------------- */

/* Exits with the library's message when a call fails. */
#define CHECK(call) check_status((call), #call, __LINE__)

static void check_status(clseq_status s, const char *call, int line)
{
    if (s == CLSEQ_OK)
        return;
    fprintf(stderr, "kernels_driver.c:%d: %s: %s\n", line, call, clseq_last_error());
    exit(1);
}

static void fail(const char *what)
{
    fprintf(stderr, "kernels_driver: %s\n", what);
    exit(1);
}

static void *xmalloc(size_t bytes)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p)
        fail("out of memory");
    return p;
}

static uint32_t rng_state = 12345u;

/* Uniform in [-1, 1) (xorshift32): data the driver makes up. */
static float uniform(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (float)(rng_state >> 8) / 8388608.0f - 1.0f;
}

static float *random_floats(size_t n)
{
    float *v = xmalloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = uniform();
    return v;
}

/* Targets for n rows of x (dim wide), classes wide but SPARSE and BINARY
 * (one column): the class is the arg-max of the first features, one-hot
 * or as its index; BINARY and MULTI_LABEL are 0/1 by the sign of a
 * feature; REGRESSION a multiple of one. */
typedef enum target_kind { ONE_HOT, SPARSE, BINARY, MULTI_LABEL, REGRESSION } target_kind;

static float *make_targets(const float *x, size_t n, int dim, int classes, target_kind kind)
{
    int width = kind == SPARSE || kind == BINARY ? 1 : classes;
    float *y = xmalloc(n * (size_t)width * sizeof *y);
    for (size_t r = 0; r < n; r++) {
        const float *row = x + r * (size_t)dim;
        int best = 0, span = dim < classes ? dim : classes;
        for (int c = 1; c < span; c++)
            if (row[c] > row[best])
                best = c;
        float *out = y + r * (size_t)width;
        for (int c = 0; c < width; c++) {
            if (kind == ONE_HOT)
                out[c] = c == best ? 1.0f : 0.0f;
            else if (kind == MULTI_LABEL)
                out[c] = row[c % dim] > 0.0f ? 1.0f : 0.0f;
            else if (kind == REGRESSION)
                out[c] = row[c % dim] * 0.5f + 0.25f;
        }
        if (kind == SPARSE)
            out[0] = (float)best;
        else if (kind == BINARY)
            out[0] = row[0] > 0.0f ? 1.0f : 0.0f;
    }
    return y;
}

/* Prints name and, when a section ends, the seconds it took (where the
 * time goes under Oclgrind). */
static void section(const char *name)
{
    static struct timespec start;
    static int started;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (started)
        printf("  %.1f s\n",
               (double)(now.tv_sec - start.tv_sec) + 1e-9 * (double)(now.tv_nsec - start.tv_nsec));
    start = now;
    started = 1;
    if (name)
        printf("%s\n", name);
}

typedef struct context_spec {
    const char *name;
    clseq_gemm_kernel gemm_kernel;
    int fused;
    long long data_bytes;
    cl_device_type type; /* what the device is taken for (see the top) */
} context_spec;

static clseq_ctx *make_context(const context_spec *c)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    o.gemm = CLSEQ_GEMM_BUILTIN;
    o.gemm_kernel = c->gemm_kernel;
    o.fused = c->fused;
    o.data_bytes = c->data_bytes;
    clseq_ctx *ctx = NULL;
    section(c->name);
    CHECK(clseq_ctx_create_with(&o, &ctx));
    clseq_ctx_main_device(ctx)->type = c->type;
    printf("  on %s\n", clseq_ctx_device_name(ctx));
    return ctx;
}

/* A model of input shape dims[0..rank) with the layers of spec. */
static clseq_model *make_model(clseq_ctx *ctx, int rank, const int *dims, const char *spec)
{
    clseq_model *m = NULL;
    CHECK(clseq_model_create_shaped(ctx, rank, dims, &m));
    CHECK(clseq_model_set_seed(m, 7));
    CHECK(clseq_add_layers(m, spec));
    return m;
}

/* What one training run takes besides the model. */
typedef struct run {
    size_t n;
    int batch;
    int epochs;
    float validation_split;
    const float *sample_weight;
    const float *class_weight;
    int class_weight_count;
    int evaluate; /* evaluate (weighted when sample_weight) and predict afterwards */
} run;

/* Fits m to n rows of x and y as r says, silently. */
static void train(clseq_model *m, const float *x, const float *y, const run *r)
{
    clseq_fit_options o = clseq_fit_defaults();
    o.epochs = r->epochs > 0 ? r->epochs : 1;
    o.batch_size = r->batch;
    o.verbose = 0;
    o.validation_split = r->validation_split;
    o.sample_weight = r->sample_weight;
    o.class_weight = r->class_weight;
    o.class_weight_count = r->class_weight_count;
    o.terminate_on_nan = 0; /* what the kernels compute is Oclgrind's business here */
    CHECK(clseq_fit(m, x, y, r->n, &o, NULL));
    if (!r->evaluate)
        return;
    float loss, metrics[CLSEQ_METRIC_COUNT];
    CHECK(clseq_evaluate_weighted(m, x, y, r->sample_weight, r->n, &loss, metrics));
    float *out = xmalloc(r->n * (size_t)clseq_model_output_dim(m) * sizeof *out);
    CHECK(clseq_predict(m, x, r->n, out));
    free(out);
}

/* ---- models ------------------------------------------------------------- */

/* Every activation in a Dense layer and as an Activation layer; softmax
 * last, its loss from the logits. */
static void activations(clseq_ctx *ctx)
{
    static const clseq_activation acts[] = {
        CLSEQ_LINEAR,   CLSEQ_RELU,     CLSEQ_SIGMOID, CLSEQ_TANH,
        CLSEQ_SOFTMAX,  CLSEQ_LEAKY_RELU, CLSEQ_ELU,   CLSEQ_SELU,
        CLSEQ_GELU,     CLSEQ_SOFTPLUS, CLSEQ_SOFTSIGN, CLSEQ_SILU,
        CLSEQ_HARD_SIGMOID, CLSEQ_EXPONENTIAL, CLSEQ_RELU6, CLSEQ_LOG_SOFTMAX};
    const int dim = 5;
    clseq_model *m = NULL;
    CHECK(clseq_model_create(ctx, dim, &m));
    CHECK(clseq_model_set_seed(m, 3));
    for (size_t i = 0; i < sizeof acts / sizeof acts[0]; i++) {
        CHECK(clseq_add_dense(m, 4, acts[i]));
        CHECK(clseq_add_activation(m, acts[i]));
    }
    CHECK(clseq_add_dense(m, 3, CLSEQ_SOFTMAX));
    CHECK(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                        CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY));
    size_t n = 12;
    float *x = random_floats(n * dim), *y = make_targets(x, n, dim, 3, ONE_HOT);
    train(m, x, y, &(run){.n = n, .batch = 8, .evaluate = 1});
    clseq_model_free(m);
    free(x);
    free(y);
}

/* One model per loss and output kind, with every metric its targets
 * allow, weights and validation data. */
static void losses_and_metrics(clseq_ctx *ctx)
{
    const unsigned wide = CLSEQ_METRIC_ALL & ~(unsigned)CLSEQ_METRIC_SPARSE_TOP_K;
    const struct {
        const char *layers;
        clseq_loss loss;
        target_kind targets;
        unsigned metrics;
        int weights; /* 0 none, 1 sample weights, 2 class weights */
    } cases[] = {
        {"dense:6:relu,dense:4:softmax", CLSEQ_CATEGORICAL_CROSSENTROPY, ONE_HOT, wide, 1},
        {"dense:6:tanh,dense:4,activation:softmax", CLSEQ_CATEGORICAL_CROSSENTROPY, ONE_HOT,
         wide, 0},
        {"dense:6:relu,dense:4:softmax", CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY, SPARSE,
         CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_SPARSE_TOP_K, 2},
        {"dense:6:elu,dense:1:sigmoid", CLSEQ_BINARY_CROSSENTROPY, BINARY, wide, 1},
        {"dense:6:relu,dense:4:sigmoid", CLSEQ_BINARY_CROSSENTROPY, MULTI_LABEL, wide, 0},
        {"dense:6:relu,dense:4,activation:sigmoid", CLSEQ_BINARY_CROSSENTROPY, MULTI_LABEL,
         wide, 1},
        {"dense:6:relu,dense:4", CLSEQ_MEAN_SQUARED_ERROR, REGRESSION,
         CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE, 1},
        {"dense:6:relu,dense:4:linear", CLSEQ_MEAN_ABSOLUTE_ERROR, REGRESSION,
         CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE | CLSEQ_METRIC_ACCURACY, 0},
        {"dense:6:relu,dense:4:softmax", CLSEQ_MEAN_SQUARED_ERROR, ONE_HOT, wide, 0},
    };
    const int dim = 5, classes = 4;
    const size_t n = 20;
    float *x = random_floats(n * dim), *w = random_floats(n);
    for (size_t i = 0; i < n; i++)
        w[i] = w[i] + 1.0f; /* in [0, 2) */
    const float class_weight[] = {0.5f, 2.0f, 1.0f};
    clseq_metric_options mo = clseq_metric_defaults();
    mo.k = 2;
    mo.threshold = 0.4f;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int d[1] = {dim};
        clseq_model *m = make_model(ctx, 1, d, cases[i].layers);
        CHECK(clseq_set_metric_options(m, &mo));
        CHECK(clseq_compile(m, clseq_sgd(0.05f, 0.0f, 0), cases[i].loss, cases[i].metrics));
        float *y = make_targets(x, n, dim, classes, cases[i].targets);
        run r = {.n = n, .batch = 8, .validation_split = 0.25f, .evaluate = 1};
        if (cases[i].weights == 1)
            r.sample_weight = w;
        if (cases[i].weights == 2) {
            r.class_weight = class_weight;
            r.class_weight_count = 3;
        }
        train(m, x, y, &r);
        clseq_model_free(m);
        free(y);
    }
    free(x);
    free(w);
}

/* Every optimizer with no clipping and each clipping option, on one
 * model compiled again for each; regularizers on a kernel and a bias. */
static void optimizers(clseq_ctx *ctx)
{
    const clseq_optimizer kinds[] = {
        clseq_sgd(0.05f, 0.0f, 0),
        clseq_sgd(0.05f, 0.9f, 1),
        clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
        clseq_rmsprop(0.01f, 0.9f, 1e-7f),
        clseq_adamw(0.01f, 0.004f, 0.9f, 0.999f, 1e-7f),
        clseq_adagrad(0.01f, 0.1f, 1e-7f),
        clseq_adadelta(0.5f, 0.95f, 1e-7f),
        clseq_adamax(0.01f, 0.9f, 0.999f, 1e-7f),
        clseq_nadam(0.01f, 0.9f, 0.999f, 1e-7f),
        clseq_lion(0.001f, 0.9f, 0.99f),
    };
    const int dim = 5;
    const size_t n = 8; /* one step each */
    int d[1] = {dim};
    clseq_model *m = make_model(ctx, 1, d, "dense:6:relu,dense:3:softmax");
    CHECK(clseq_set_regularizer(m, 0, "kernel", 0.01f, 0.02f));
    CHECK(clseq_set_regularizer(m, 1, "bias", 0.0f, 0.01f));
    CHECK(clseq_set_regularizer(m, 1, "kernel", 0.01f, 0.0f));
    float *x = random_floats(n * dim), *y = make_targets(x, n, dim, 3, ONE_HOT);
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        for (int clip = 0; clip < 4; clip++) {
            clseq_optimizer o = kinds[k];
            o.clipnorm = clip == 1 ? 0.5f : 0.0f;
            o.clipvalue = clip == 2 ? 0.05f : 0.0f;
            o.global_clipnorm = clip == 3 ? 0.5f : 0.0f;
            CHECK(clseq_compile(m, o, CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY));
            train(m, x, y, &(run){.n = n, .batch = 8});
        }
    clseq_model_free(m);
    free(x);
    free(y);
}

/* Convolutions, pooling, BatchNormalization and Dropout over channels
 * channels (a multiple of 4 or 1): the first conv takes 1 channel or 4
 * (im2col or its float4 forms), the later ones channels (col2im or
 * col2im4), and the pools run at the widest width dividing channels.
 * Model a: BN, a 1x1 (direct) conv, pools max/avg 3x3 stride 1 'same'
 * (overlapping: gathering backward), max 2x2 'valid' and avg 2x2 'same'
 * (scattering), global max. Model b: dropout, avg and max 2x2 stride 1
 * 'valid' (overlapping), max 2x2 'same' and avg 2x1 'valid' (not), global
 * average. Model c: strided, dilated and non-square convolutions. Unless
 * full, only a and b, b's second conv 1x1 (the cost of simulating 3x3
 * convolutions over 8 or 16 channels). */
static void convolutions(clseq_ctx *ctx, int channels, int full)
{
    char a[512], b[512], c[512];
    snprintf(a, sizeof a,
             "conv2d:%d:3x3:relu:same,batchnorm,conv2d:%d:1x1:nobias,maxpool2d:3:s1:same,"
             "avgpool2d:3:s1:same,maxpool2d:2:valid,avgpool2d:2:same,globalmaxpool2d,"
             "dense:3:softmax",
             channels, channels);
    snprintf(b, sizeof b,
             "conv2d:%d:2x2:gelu:same,dropout:0.3,conv2d:%d:%s:same,avgpool2d:2:s1:valid,"
             "maxpool2d:2:same,maxpool2d:2:s1:valid,avgpool2d:2x1:valid,globalavgpool2d,"
             "dense:3:softmax",
             channels, channels, full ? "3x3" : "1x1");
    snprintf(c, sizeof c,
             "conv2d:%d:3x3:s2:same:tanh,batchnorm:0.9:0.01,conv2d:%d:2x2:d2:same,"
             "conv2d:%d:3x2:s2x1:valid:relu,flatten,dropout:0.2,dense:3:softmax",
             channels, channels, channels);
    const char *specs[] = {a, b, c};
    const int dims[3][3] = {{6, 5, 0}, {7, 6, 0}, {9, 8, 0}};
    int in_channels = channels == 1 ? 1 : 4;
    for (int i = 0; i < (full ? 3 : 2); i++) {
        int d[3] = {dims[i][0], dims[i][1], in_channels};
        clseq_model *m = make_model(ctx, 3, d, specs[i]);
        if (i == 0) {
            CHECK(clseq_set_regularizer(m, 0, "kernel", 0.01f, 0.01f));
            CHECK(clseq_set_regularizer(m, 1, "gamma", 0.0f, 0.01f));
        }
        CHECK(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                            CLSEQ_CATEGORICAL_CROSSENTROPY, CLSEQ_METRIC_ACCURACY));
        int dim = d[0] * d[1] * d[2];
        size_t n = 10; /* batches of 8 and 2 */
        float *x = random_floats(n * (size_t)dim), *y = make_targets(x, n, dim, 3, ONE_HOT);
        /* inference runs training's forward kernels but for
         * BatchNormalization's and Dropout's: evaluate model c, which has
         * both, once per device type */
        train(m, x, y, &(run){.n = n, .batch = 8, .evaluate = i == 2 && channels == 4});
        clseq_model_free(m);
        free(x);
        free(y);
    }
}

/* The fused trainer (its context forces it): its three optimizers, every
 * loss, metrics, weights, validation; then the layer path on the same
 * context for an optimizer it lacks. */
static void fused(clseq_ctx *ctx)
{
    const int dim = 5;
    const size_t n = 20;
    float *x = random_floats(n * dim), *w = random_floats(n);
    for (size_t i = 0; i < n; i++)
        w[i] = w[i] + 1.0f;
    const unsigned wide = CLSEQ_METRIC_ALL & ~(unsigned)CLSEQ_METRIC_SPARSE_TOP_K;
    const struct {
        const char *layers;
        clseq_loss loss;
        target_kind targets;
        unsigned metrics;
        clseq_optimizer opt;
    } cases[] = {
        {"dense:6:relu,dense:3:softmax", CLSEQ_CATEGORICAL_CROSSENTROPY, ONE_HOT, wide,
         clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f)},
        {"dense:6:tanh,dense:3,activation:softmax", CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
         SPARSE, CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_SPARSE_TOP_K, clseq_sgd(0.05f, 0.9f, 1)},
        {"dense:6:sigmoid,dense:1:sigmoid", CLSEQ_BINARY_CROSSENTROPY, BINARY, wide,
         clseq_rmsprop(0.01f, 0.9f, 1e-7f)},
        {"dense:6:elu,activation:relu,dense:3", CLSEQ_MEAN_SQUARED_ERROR, REGRESSION,
         CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE, clseq_sgd(0.05f, 0.0f, 0)},
        {"dense:6:softsign,dense:3:hard_sigmoid", CLSEQ_MEAN_ABSOLUTE_ERROR, MULTI_LABEL, wide,
         clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f)},
        {"dense:6:relu,dense:3:softmax", CLSEQ_CATEGORICAL_CROSSENTROPY, ONE_HOT,
         CLSEQ_METRIC_ACCURACY, clseq_adagrad(0.01f, 0.1f, 1e-7f)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int d[1] = {dim};
        clseq_model *m = make_model(ctx, 1, d, cases[i].layers);
        CHECK(clseq_compile(m, cases[i].opt, cases[i].loss, cases[i].metrics));
        float *y = make_targets(x, n, dim, 3, cases[i].targets);
        train(m, x, y,
              &(run){.n = n, .batch = 8, .validation_split = 0.2f,
                     .sample_weight = i % 2 ? NULL : w, .evaluate = i == 0});
        clseq_model_free(m);
        free(y);
    }
    free(x);
    free(w);
}

/* ---- operations models do not reach at these sizes ------------------------ */

static cl_mem upload(clseq_device *dev, const void *host, size_t bytes)
{
    cl_mem buf = NULL;
    CHECK(clseq_buffer_create(dev, bytes, &buf));
    CHECK(clseq_buffer_write(dev, buf, 0, bytes, host));
    return buf;
}

/* |got - want| <= 1e-4 + 1e-4 |want| for each of n: float sums of at most
 * a few hundred products of values in [-1, 1], against double sums. */
static void compare(const char *what, const float *got, const double *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= 1e-4 + 1e-4 * fabs(want[i]))) {
            fprintf(stderr, "kernels_driver: %s: element %zu is %.9g, expected %.9g\n", what, i,
                    (double)got[i], want[i]);
            exit(1);
        }
}

/* Launches the tiled kernel of op(A)'s and op(B)'s form as clseq_op_gemm
 * does for a large product (ops.c: one work-item per WM x WN outputs of a
 * TM x TN tile), whatever the size: its own size test would want a
 * product of 64^3, too slow to simulate. */
static clseq_status tiled_gemm(clseq_device *dev, int trans_a, int trans_b, int M, int N, int K,
                               clseq_mat A, clseq_mat B, clseq_mat C, clseq_mat bias,
                               clseq_activation act)
{
    clseq_kernel_id id = trans_a ? K_GEMM_TN : trans_b ? K_GEMM_NT : K_GEMM_NN;
    int has_bias = 1, act_code = (int)act;
    const clseq_arg args[] = {CLSEQ_ARG(M),        CLSEQ_ARG(N),        CLSEQ_ARG(K),
                              CLSEQ_ARG(A.buf),    CLSEQ_ARG(A.off),    CLSEQ_ARG(A.ld),
                              CLSEQ_ARG(B.buf),    CLSEQ_ARG(B.off),    CLSEQ_ARG(B.ld),
                              CLSEQ_ARG(C.buf),    CLSEQ_ARG(C.off),    CLSEQ_ARG(C.ld),
                              CLSEQ_ARG(bias.buf), CLSEQ_ARG(bias.off), CLSEQ_ARG(has_bias),
                              CLSEQ_ARG(act_code)};
    cl_int err = clseq_bind_args(dev, id, args, CLSEQ_ARG_COUNT(args));
    const clseq_gemm_tiles t = dev->tiles;
    size_t local[2] = {(size_t)(t.tn / t.wn), (size_t)(t.tm / t.wm)};
    size_t global[2] = {(size_t)((N + t.tn - 1) / t.tn * t.tn / t.wn),
                        (size_t)((M + t.tm - 1) / t.tm * t.tm / t.wm)};
    return clseq_launch_nd(dev, id, 2, global, local, err);
}

/* C = relu(op(A) op(B) + bias) through clseq_op_gemm (or tiled_gemm),
 * against the host. */
static void gemm_case(clseq_device *dev, const char *what, int tiled, int trans_a, int trans_b,
                      int M, int N, int K)
{
    float *a = random_floats((size_t)M * K), *b = random_floats((size_t)K * N);
    float *bias = random_floats((size_t)N), *c = xmalloc((size_t)M * N * sizeof *c);
    double *want = xmalloc((size_t)M * N * sizeof *want);
    int lda = trans_a ? M : K, ldb = trans_b ? K : N;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = bias[j];
            for (int k = 0; k < K; k++)
                s += (double)(trans_a ? a[k * lda + i] : a[i * lda + k]) *
                     (trans_b ? b[j * ldb + k] : b[k * ldb + j]);
            want[i * N + j] = s > 0 ? s : 0;
        }
    cl_mem A = upload(dev, a, (size_t)M * K * sizeof *a);
    cl_mem B = upload(dev, b, (size_t)K * N * sizeof *b);
    cl_mem bias_buf = upload(dev, bias, (size_t)N * sizeof *bias);
    cl_mem C = NULL;
    CHECK(clseq_buffer_create(dev, (size_t)M * N * sizeof *c, &C));
    CHECK((tiled ? tiled_gemm : clseq_op_gemm)(dev, trans_a, trans_b, M, N, K,
                                               (clseq_mat){A, 0, lda}, (clseq_mat){B, 0, ldb},
                                               (clseq_mat){C, 0, N}, (clseq_mat){bias_buf, 0, 0},
                                               CLSEQ_RELU));
    CHECK(clseq_buffer_read(dev, C, 0, (size_t)M * N * sizeof *c, c));
    compare(what, c, want, (size_t)M * N);
    clseq_buffer_release(&A);
    clseq_buffer_release(&B);
    clseq_buffer_release(&bias_buf);
    clseq_buffer_release(&C);
    free(a);
    free(b);
    free(bias);
    free(c);
    free(want);
}

/* The local-memory tiled GEMMs: two tiles of M or N, the last one partial,
 * and K past one TK step. */
static void tiled_gemms(clseq_ctx *ctx)
{
    clseq_device *dev = clseq_ctx_main_device(ctx);
    gemm_case(dev, "gemm_nn", 1, 0, 0, 70, 40, 21);
    gemm_case(dev, "gemm_tn", 1, 1, 0, 40, 70, 21);
    gemm_case(dev, "gemm_nt", 1, 0, 1, 40, 40, 21);
}

/* The register-blocked GEMMs: products of at least 32^3. An nt product
 * with k < 32 packs op(B) (gemm_cpu_packed reads op(A) in place); a longer
 * one transposes B, unless the device has no transpose_b (the kernel is
 * hidden for one call to reach gemm_cpu_nt); always packing (the 'packed'
 * option) packs op(A) too. A last panel of 3 columns takes the narrow
 * loops. */
static void cpu_gemms(clseq_ctx *ctx)
{
    clseq_device *dev = clseq_ctx_main_device(ctx);
    if (!dev->cpu_gemm)
        fail("the cpu context does not use the CPU GEMM");
    gemm_case(dev, "gemm_cpu_nn", 0, 0, 0, 37, 35, 30);
    gemm_case(dev, "gemm_cpu_tn", 0, 1, 0, 37, 35, 30);
    gemm_case(dev, "packed nt", 0, 0, 1, 37, 35, 30);
    gemm_case(dev, "transpose_b and gemm_cpu_nn", 0, 0, 1, 37, 35, 33);
    cl_kernel transpose = dev->kernels[K_TRANSPOSE_B];
    dev->kernels[K_TRANSPOSE_B] = NULL;
    gemm_case(dev, "gemm_cpu_nt", 0, 0, 1, 37, 35, 33);
    dev->kernels[K_TRANSPOSE_B] = transpose;
    int packed = dev->gemm_packed;
    dev->gemm_packed = 2;
    gemm_case(dev, "packed tn", 0, 1, 0, 37, 35, 30);
    gemm_case(dev, "packed nn", 0, 0, 0, 37, 35, 30);
    dev->gemm_packed = packed;
}

/* bias_activate (what follows a CLBlast product), argmax_rows, add_into and
 * conv_accumulate, each against the host. */
static void other_ops(clseq_ctx *ctx)
{
    clseq_device *dev = clseq_ctx_main_device(ctx);
    const int M = 7, N = 5;
    float *c = random_floats((size_t)M * N), *bias = random_floats((size_t)N);
    double want[7 * 5];
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double v = (double)c[i * N + j] + bias[j];
            want[i * N + j] = 1.0 / (1.0 + exp(-v));
        }
    cl_mem C = upload(dev, c, (size_t)M * N * sizeof *c);
    cl_mem B = upload(dev, bias, (size_t)N * sizeof *bias);
    int off = 0, ld = N, bias_off = 0, has_bias = 1, act = CLSEQ_SIGMOID;
    const clseq_arg args[] = {CLSEQ_ARG(C), CLSEQ_ARG(off), CLSEQ_ARG(ld),
                              CLSEQ_ARG(M), CLSEQ_ARG(N), CLSEQ_ARG(B),
                              CLSEQ_ARG(bias_off), CLSEQ_ARG(has_bias), CLSEQ_ARG(act)};
    CHECK(clseq_run_2d(dev, K_BIAS_ACTIVATE, (size_t)N, (size_t)M, args, CLSEQ_ARG_COUNT(args)));
    CHECK(clseq_buffer_read(dev, C, 0, (size_t)M * N * sizeof *c, c));
    compare("bias_activate", c, want, (size_t)M * N);

    int rows[7], expect[7];
    cl_mem R = NULL;
    CHECK(clseq_buffer_create(dev, sizeof rows, &R));
    CHECK(clseq_op_argmax_rows(dev, C, M, N, R));
    CHECK(clseq_buffer_read(dev, R, 0, sizeof rows, rows));
    for (int i = 0; i < M; i++) {
        expect[i] = 0;
        for (int j = 1; j < N; j++)
            if (c[i * N + j] > c[i * N + expect[i]])
                expect[i] = j;
        if (rows[i] != expect[i])
            fail("argmax_rows: wrong row index");
    }

    /* dst[2..2+n) += src[3..3+n) */
    const int n = 9;
    float *dst = random_floats(16), *src = random_floats(16);
    double sum[16];
    for (int i = 0; i < 16; i++)
        sum[i] = dst[i] + (i >= 2 && i < 2 + n ? src[i + 1] : 0.0f);
    cl_mem D = upload(dev, dst, 16 * sizeof *dst), S = upload(dev, src, 16 * sizeof *src);
    CHECK(clseq_op_conv_accumulate(dev, D, 2, S, 3, n));
    CHECK(clseq_buffer_read(dev, D, 0, 16 * sizeof *dst, dst));
    compare("conv_accumulate", dst, sum, 16);

    /* dst += src: the device-to-device gradient sum */
    for (int i = 0; i < 16; i++)
        sum[i] = (double)dst[i] + src[i];
    CHECK(clseq_op_add_into(dev, D, S, 16));
    CHECK(clseq_buffer_read(dev, D, 0, 16 * sizeof *dst, dst));
    compare("add_into", dst, sum, 16);

    clseq_buffer_release(&C);
    clseq_buffer_release(&B);
    clseq_buffer_release(&R);
    clseq_buffer_release(&D);
    clseq_buffer_release(&S);
    free(c);
    free(bias);
    free(dst);
    free(src);
}

/* Streams blocks of rows (data_bytes below one epoch's rows): the layer
 * path and the fused one, with validation and weights. */
static void streamed(clseq_ctx *ctx)
{
    const int dim = 6;
    const size_t n = 40;
    float *x = random_floats(n * dim), *w = random_floats(n);
    for (size_t i = 0; i < n; i++)
        w[i] = w[i] + 1.0f;
    float *y = make_targets(x, n, dim, 3, ONE_HOT);
    const clseq_optimizer opts[] = {clseq_adamax(0.01f, 0.9f, 0.999f, 1e-7f),
                                    clseq_sgd(0.05f, 0.0f, 0)};
    for (int i = 0; i < 2; i++) {
        int d[1] = {dim};
        clseq_model *m = make_model(ctx, 1, d, "dense:5:relu,dense:3:softmax");
        CHECK(clseq_compile(m, opts[i], CLSEQ_CATEGORICAL_CROSSENTROPY,
                            CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_AUC));
        train(m, x, y,
              &(run){.n = n, .batch = 8, .epochs = 2, .validation_split = 0.25f,
                     .sample_weight = i ? w : NULL, .evaluate = 1});
        clseq_model_free(m);
    }
    free(x);
    free(y);
    free(w);
}

/* ---- main ------------------------------------------------------------------ */

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    static const context_spec gpu = {"context gpu: marked GPU, tiled GEMM, layer path",
                                     CLSEQ_GEMM_KERNEL_TILED, 0, 0, CL_DEVICE_TYPE_GPU};
    static const context_spec cpu = {"context cpu: marked CPU, register-blocked GEMM",
                                     CLSEQ_GEMM_KERNEL_CPU, 0, 0, CL_DEVICE_TYPE_CPU};
    static const context_spec fuse = {"context fused: marked GPU, fused trainer",
                                      CLSEQ_GEMM_KERNEL_AUTO, 1, 0, CL_DEVICE_TYPE_GPU};
    static const context_spec stream = {"context streamed: marked CPU, data_bytes 1 KiB",
                                        CLSEQ_GEMM_KERNEL_AUTO, 1, 1024, CL_DEVICE_TYPE_CPU};

    clseq_ctx *ctx = make_context(&gpu);
    section("activations");
    activations(ctx);
    section("losses and metrics");
    losses_and_metrics(ctx);
    section("optimizers");
    optimizers(ctx);
    section("convolutions and pooling (1, 4 channels)");
    convolutions(ctx, 1, 1);
    convolutions(ctx, 4, 1);
    section("tiled GEMMs, bias_activate, argmax_rows, conv_accumulate");
    tiled_gemms(ctx);
    other_ops(ctx);
    clseq_ctx_free(ctx);

    ctx = make_context(&cpu);
    section("convolutions and pooling (1, 4, 8, 16 channels)");
    for (int c = 1; c <= 16; c *= c == 1 ? 4 : 2)
        convolutions(ctx, c, c <= 4);
    section("CPU GEMMs");
    cpu_gemms(ctx);
    clseq_ctx_free(ctx);

    ctx = make_context(&fuse);
    section("fused trainer");
    fused(ctx);
    clseq_ctx_free(ctx);

    ctx = make_context(&stream);
    section("streamed data");
    streamed(ctx);
    clseq_ctx_free(ctx);

    section(NULL);
    int missing = 0, counts = getenv("KERNELS_DRIVER_COUNTS") != NULL;
    for (int id = 0; id < K_COUNT; id++) {
        if (counts)
            printf("%6ld %s\n", launches[id], clseq_kernel_name((clseq_kernel_id)id));
        if (launches[id] == 0) {
            printf("never launched: %s (%s)\n", clseq_kernel_name((clseq_kernel_id)id),
                   clseq_kernel_file((clseq_kernel_id)id));
            missing++;
        }
    }
    if (unknown_launches)
        printf("%ld launches of kernels not in the table\n", unknown_launches);
    printf("%d of %d kernels launched\n", K_COUNT - missing, (int)K_COUNT);
    return missing || unknown_launches ? 1 : 0;
}
