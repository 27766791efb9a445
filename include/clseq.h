/* clseq: Keras-style Sequential neural networks on any OpenCL device.
 *
 * The whole public API. Arrays are row-major float on the host unless a
 * declaration says otherwise. Every function that can fail returns a
 * clseq_status; on failure clseq_last_error() says what went wrong and names
 * the file, line, layer or value at fault. The library never prints (except
 * the progress lines that clseq_fit's verbose option asks for), never aborts
 * and never exits.
 *
 * Thread safety: a clseq_ctx, and every model created on it, belongs to one
 * thread at a time; use one context per thread to train concurrently.
 * Functions that take no context or model (data utilities, parsers,
 * clseq_list_devices, clseq_status_name, clseq_version) may be called from
 * any thread at any time. clseq_last_error() is per thread.
 */
#ifndef CLSEQ_H
#define CLSEQ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(CLSEQ_BUILDING_LIBRARY) && defined(__GNUC__)
#define CLSEQ_API __attribute__((visibility("default")))
#else
#define CLSEQ_API
#endif

#define CLSEQ_VERSION_MAJOR 0
#define CLSEQ_VERSION_MINOR 1
#define CLSEQ_VERSION_PATCH 0

/* The library's version as "MAJOR.MINOR.PATCH" (compare with the macros). */
CLSEQ_API const char *clseq_version(void);

/* ---- status and errors ------------------------------------------------ */

typedef enum clseq_status {
    CLSEQ_OK = 0,
    CLSEQ_E_ARG,      /* a bad argument: NULL, out of range, unknown name */
    CLSEQ_E_SHAPE,    /* sizes that do not fit together */
    CLSEQ_E_STATE,    /* a call in the wrong order (fit before compile, ...) */
    CLSEQ_E_NODEVICE, /* no OpenCL device matches */
    CLSEQ_E_BUILD,    /* kernel build failed; the message holds the build log */
    CLSEQ_E_CL,       /* an OpenCL call failed */
    CLSEQ_E_NOMEM,    /* host or device memory exhausted */
    CLSEQ_E_IO,       /* a file could not be read or written */
    CLSEQ_E_FORMAT,   /* a file's contents are malformed */
    CLSEQ_E_NUMERIC   /* NaN or Inf in data, or training diverged */
} clseq_status;

/* A status's name, e.g. "CLSEQ_E_SHAPE"; never NULL. */
CLSEQ_API const char *clseq_status_name(clseq_status s);
/* This thread's last failure, in words ("" if none yet); valid until this
 * thread's next failing call. */
CLSEQ_API const char *clseq_last_error(void);

/* ---- devices and contexts --------------------------------------------- */

typedef struct clseq_device_info {
    int platform_index;
    int device_index;
    char platform[128];
    char name[128];
    char type[8];          /* "GPU", "CPU", "ACCEL" or "OTHER" */
    char version[128];     /* CL_DEVICE_VERSION */
    char driver[64];       /* CL_DRIVER_VERSION */
    int compute_units;
    uint64_t global_mem;   /* bytes */
    uint64_t local_mem;    /* bytes */
    int is_default;        /* 1 for the device clseq_ctx_create(NULL) picks
                              (none if $CLSEQ_DEVICE matches no device) */
} clseq_device_info;

/* Lists every device of every platform into out[0..capacity); *count gets
 * the total number (which may exceed capacity). out may be NULL to count. */
CLSEQ_API clseq_status clseq_list_devices(clseq_device_info *out, int capacity, int *count);

typedef struct clseq_ctx clseq_ctx;

/* Who computes large matrix products. */
typedef enum clseq_gemm_provider {
    CLSEQ_GEMM_AUTO = 0,  /* CLBlast on GPUs where it agrees with clseq's kernel
                             on a check product, clseq's own kernels elsewhere */
    CLSEQ_GEMM_BUILTIN,   /* clseq's own kernels */
    CLSEQ_GEMM_CLBLAST    /* CLBlast (an error if clseq was built without it) */
} clseq_gemm_provider;

/* Which of clseq's own GEMM kernel families large products use. */
typedef enum clseq_gemm_kernel {
    CLSEQ_GEMM_KERNEL_AUTO = 0, /* register-blocked on CPUs, local-memory tiles on GPUs */
    CLSEQ_GEMM_KERNEL_TILED,    /* local-memory tiles */
    CLSEQ_GEMM_KERNEL_CPU,      /* register-blocked, packing operands of large products */
    CLSEQ_GEMM_KERNEL_PACKED    /* register-blocked, always packing (for tests) */
} clseq_gemm_kernel;

/* How a context is made. Get one from clseq_ctx_defaults(), change fields,
 * pass it to clseq_ctx_create_with; new fields only ever get appended. */
typedef struct clseq_ctx_options {
    char device[256];         /* device spec ("" = first GPU, else first device) */
    clseq_gemm_provider gemm;
    clseq_gemm_kernel gemm_kernel;
    int fused;                /* fused training of small models: -1 when it pays
                                 (default), 0 never, 1 whenever the model allows */
    int cache;                /* clseq's binary cache: -1 where the driver has no
                                 cache of its own (default), 0 never, 1 always */
    char cache_dir[1024];     /* the cache's folder ("" = no cache) */
    char build_options[512];  /* added to every kernel build, e.g. "-cl-mad-enable" */
    long long data_bytes;     /* the most device memory a fit's rows may take; a
                                 larger data set is streamed from the host in
                                 blocks. 0 (default): half of what the device has
                                 left when the fit starts. Evaluate and predict
                                 always go a chunk at a time. */
    long long fail_after;     /* a testing aid: when > 0, the fail_after-th
                                 device operation (buffer creation, kernel
                                 launch, buffer read, write or fill) counted
                                 from the context's creation fails once, as
                                 the driver would (CLSEQ_E_NOMEM or
                                 CLSEQ_E_CL, "injected fault" in the
                                 message). 0 (default): off. */
    int exchange;             /* how a fit over several devices sums their
                                 gradients: -1 (default) whichever the fit
                                 measures faster at its start, 0 through the
                                 host, 1 device to device ($CLSEQ_EXCHANGE:
                                 host or device) */
} clseq_ctx_options;

/* The most devices one context opens. */
#define CLSEQ_MAX_DEVICES 16

/* The defaults, read once from the environment (README, "Environment"):
 * CLSEQ_DEVICE, CLSEQ_GEMM, CLSEQ_GEMM_KERNEL, CLSEQ_FUSED, CLSEQ_NO_CACHE,
 * CLSEQ_CACHE_ALWAYS, CLSEQ_CACHE_DIR (else $XDG_CACHE_HOME/clseq, else
 * ~/.cache/clseq), CLSEQ_BUILD_OPTIONS and CLSEQ_EXCHANGE. The library reads the
 * environment nowhere else. Values it cannot parse are kept as given and
 * refused by clseq_ctx_create_with. */
CLSEQ_API clseq_ctx_options clseq_ctx_defaults(void);
/* Opens the devices opt names and builds every kernel they can use. A
 * device spec is "gpu", "cpu", "P:D" (platform and device index) or a
 * case-insensitive substring of the device name; several such specs joined
 * by commas ("0:0,0:1"), or "all" (every device of the default device's
 * platform), open several devices of one platform for data-parallel
 * training (README, "Several devices"). Each may end in "@SHARE", its
 * relative share of every batch ("0:0@3,0:1@1"; default 1 each). Models
 * live on the first device. Bad options are CLSEQ_E_ARG naming the field.
 * The caller frees *out with clseq_ctx_free. */
CLSEQ_API clseq_status clseq_ctx_create_with(const clseq_ctx_options *opt, clseq_ctx **out);
/* clseq_ctx_create_with(clseq_ctx_defaults()) with device_spec, when not
 * NULL, in place of the default device. */
CLSEQ_API clseq_status clseq_ctx_create(const char *device_spec, clseq_ctx **out);
/* The options ctx was made with (NULL if ctx is NULL); owned by ctx. */
CLSEQ_API const clseq_ctx_options *clseq_ctx_get_options(const clseq_ctx *ctx);
/* Frees a context (NULL is fine). Free its models first. */
CLSEQ_API void clseq_ctx_free(clseq_ctx *ctx);
/* The device's name; owned by the context. */
CLSEQ_API const char *clseq_ctx_device_name(const clseq_ctx *ctx);
/* Devices the context opened (1 unless its spec named several). */
CLSEQ_API int clseq_ctx_device_count(const clseq_ctx *ctx);
/* The i-th device's name (0: the one clseq_ctx_device_name gives); NULL if
 * out of range. Owned by the context. */
CLSEQ_API const char *clseq_ctx_device_name_at(const clseq_ctx *ctx, int i);
/* 1 if this context's kernels came from clseq's on-disk binary cache, 0 if
 * they were compiled from source. */
CLSEQ_API int clseq_ctx_from_cache(const clseq_ctx *ctx);

/* ---- models ------------------------------------------------------------ */

/* Keras's activations (keras.activations, Keras 3 formulas and defaults):
 * leaky_relu has negative_slope 0.2, elu alpha 1, selu Keras's two
 * constants, gelu the exact erf form, hard_sigmoid relu6(x + 3) / 6;
 * softmax and log_softmax act over the last axis. */
typedef enum clseq_activation {
    CLSEQ_LINEAR = 0,
    CLSEQ_RELU,
    CLSEQ_SIGMOID,
    CLSEQ_TANH,
    CLSEQ_SOFTMAX,
    CLSEQ_LEAKY_RELU,
    CLSEQ_ELU,
    CLSEQ_SELU,
    CLSEQ_GELU,
    CLSEQ_SOFTPLUS,
    CLSEQ_SOFTSIGN,
    CLSEQ_SILU,         /* also called swish */
    CLSEQ_HARD_SIGMOID,
    CLSEQ_EXPONENTIAL,
    CLSEQ_RELU6,
    CLSEQ_LOG_SOFTMAX
} clseq_activation;

typedef enum clseq_loss {
    CLSEQ_CATEGORICAL_CROSSENTROPY = 0,
    CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY,
    CLSEQ_BINARY_CROSSENTROPY,
    CLSEQ_MEAN_SQUARED_ERROR,
    CLSEQ_MEAN_ABSOLUTE_ERROR
} clseq_loss;

/* Metrics, as bits of clseq_compile's metrics (values are stable: model
 * files store them). Each is Keras 3's metric of that name; fit, evaluate,
 * the history and the progress lines report them in bit order under
 * clseq_metric_name (validation series with "val_" in front).
 *   ACCURACY         Keras's "accuracy", chosen by shapes as Keras 3's
 *                    compile does (trainers/compile_utils.py, get_metric):
 *                    binary (threshold 0.5) when the model has one output,
 *                    sparse categorical with sparse targets, categorical
 *                    (arg-max of outputs and targets) otherwise, also for
 *                    several sigmoid outputs.
 *   MSE, MAE         mean squared and absolute error.
 *   BINARY_ACCURACY  "binary_accuracy": outputs above the threshold against
 *                    0/1 targets, per output (multi-label models).
 *   PRECISION, RECALL  "precision", "recall" (keras.metrics.Precision,
 *                    Recall at the threshold): confusion counts over every
 *                    output of the epoch, as Keras flattens them.
 *   AUC              "auc" (keras.metrics.AUC(): ROC, 200 thresholds,
 *                    interpolation) over every output of the epoch.
 *   TOP_K            "top_k_categorical_accuracy" (one-hot targets).
 *   SPARSE_TOP_K     "sparse_top_k_categorical_accuracy" (sparse targets).
 * Accuracies and errors are means of per-row values; precision, recall
 * and AUC are computed from the epoch's confusion counts, as Keras's
 * stateful metrics. Sample weights do not weigh them (Keras weights only
 * weighted_metrics, which clseq does not have). The metrics that
 * compare each output with its target (binary_accuracy, precision, recall,
 * auc, top_k) need targets as wide as the outputs, sparse_top_k sparse
 * categorical cross-entropy; clseq_compile refuses other pairings. */
enum {
    CLSEQ_METRIC_ACCURACY = 1u << 0,
    CLSEQ_METRIC_MSE = 1u << 1,
    CLSEQ_METRIC_MAE = 1u << 2,
    CLSEQ_METRIC_BINARY_ACCURACY = 1u << 3,
    CLSEQ_METRIC_PRECISION = 1u << 4,
    CLSEQ_METRIC_RECALL = 1u << 5,
    CLSEQ_METRIC_AUC = 1u << 6,
    CLSEQ_METRIC_TOP_K = 1u << 7,
    CLSEQ_METRIC_SPARSE_TOP_K = 1u << 8
};
/* Every metric bit. */
#define CLSEQ_METRIC_ALL 0x1ffu
/* The most metric values evaluate writes (one per bit). */
#define CLSEQ_METRIC_COUNT 9

/* Settings of the metrics that have them; Keras's constructor arguments. */
typedef struct clseq_metric_options {
    float threshold;  /* binary_accuracy, precision and recall: a prediction
                         above it counts as positive; in [0, 1], default 0.5 */
    int k;            /* the top-k accuracies' k; >= 1, default 5 */
} clseq_metric_options;

/* Keras's names ("relu", "categorical_crossentropy", "accuracy", ...) to
 * enums and back. Unknown names are CLSEQ_E_ARG. */
CLSEQ_API clseq_status clseq_activation_from_name(const char *name, clseq_activation *out);
CLSEQ_API const char *clseq_activation_name(clseq_activation act);
CLSEQ_API clseq_status clseq_loss_from_name(const char *name, clseq_loss *out);
CLSEQ_API const char *clseq_loss_name(clseq_loss loss);
/* A metric bit's Keras name ("accuracy", "mse", "auc", ...); NULL if not
 * exactly one known bit. */
CLSEQ_API const char *clseq_metric_name(unsigned metric_bit);
/* A metric's bit from its Keras name (clseq_metric_name's, or Keras's
 * aliases "acc", "mean_squared_error", "mean_absolute_error"). */
CLSEQ_API clseq_status clseq_metric_from_name(const char *name, unsigned *out);
/* Keras's defaults: threshold 0.5, k 5. */
CLSEQ_API clseq_metric_options clseq_metric_defaults(void);

typedef struct clseq_model clseq_model;

/* The largest input_dim and units a layer may have. */
#define CLSEQ_MAX_UNITS (1 << 24)

/* The largest rank of one sample's shape (H, W, C: channels last, as Keras). */
#define CLSEQ_MAX_RANK 3

/* A new empty model on ctx taking input_dim features per sample (rank 1). */
CLSEQ_API clseq_status clseq_model_create(clseq_ctx *ctx, int input_dim, clseq_model **out);
/* A new empty model whose samples have shape dims[0..rank) (rank 1 to
 * CLSEQ_MAX_RANK, e.g. {28, 28, 1}); rows of x are the samples flattened
 * in row-major order, as NumPy stores them. */
CLSEQ_API clseq_status clseq_model_create_shaped(clseq_ctx *ctx, int rank, const int *dims,
                                                 clseq_model **out);
/* Frees a model (NULL is fine). */
CLSEQ_API void clseq_model_free(clseq_model *m);
/* Seeds the model's random streams (default seed: 0): weight
 * initialisation, shuffling and dropout each draw from their own stream
 * derived from the seed, so adding a layer never changes the shuffles.
 * Call before adding layers for reproducible initial weights. */
CLSEQ_API clseq_status clseq_model_set_seed(clseq_model *m, uint64_t seed);
/* Appends Dense(units, activation): Glorot-uniform kernel, zero bias. */
CLSEQ_API clseq_status clseq_add_dense(clseq_model *m, int units, clseq_activation act);
/* Applies an activation to the previous layer's output (a separate Keras
 * Activation layer; it has no weights). */
CLSEQ_API clseq_status clseq_add_activation(clseq_model *m, clseq_activation act);

/* Keras's padding of convolutions and pooling windows. */
typedef enum clseq_padding {
    CLSEQ_PADDING_VALID = 0,  /* windows lie inside the input */
    CLSEQ_PADDING_SAME = 1    /* output size ceil(input / stride), zeros around */
} clseq_padding;

/* The layers below take samples of shape (height, width, channels),
 * channels last as Keras, and say which shape they need (CLSEQ_E_SHAPE
 * naming the layer and both shapes). */

/* Conv2D(filters, (kernel_h, kernel_w), strides (stride_h, stride_w),
 * padding, activation), dilation 1, with a bias. Kernel (kernel_h,
 * kernel_w, channels, filters), Glorot-uniform; bias (filters), zeros.
 * Input (H, W, C); output (H', W', filters). */
CLSEQ_API clseq_status clseq_add_conv2d(clseq_model *m, int filters, int kernel_h, int kernel_w,
                                        int stride_h, int stride_w, clseq_padding padding,
                                        clseq_activation act);
/* MaxPooling2D / AveragePooling2D(pool_size, strides, padding) on (H, W,
 * C). Strides 0 mean the pool size (Keras's strides=None). Average
 * pooling with 'same' divides by the window's cells inside the input, as
 * Keras does. */
CLSEQ_API clseq_status clseq_add_max_pooling2d(clseq_model *m, int pool_h, int pool_w,
                                               int stride_h, int stride_w, clseq_padding padding);
CLSEQ_API clseq_status clseq_add_average_pooling2d(clseq_model *m, int pool_h, int pool_w,
                                                   int stride_h, int stride_w,
                                                   clseq_padding padding);
/* GlobalAveragePooling2D / GlobalMaxPooling2D: (H, W, C) to (C). */
CLSEQ_API clseq_status clseq_add_global_average_pooling2d(clseq_model *m);
CLSEQ_API clseq_status clseq_add_global_max_pooling2d(clseq_model *m);
/* Flatten: any shape to (size). */
CLSEQ_API clseq_status clseq_add_flatten(clseq_model *m);
/* Reshape(target_shape): dims[0..rank) (rank 1 to CLSEQ_MAX_RANK); one
 * dimension may be -1, inferred from the size. */
CLSEQ_API clseq_status clseq_add_reshape(clseq_model *m, int rank, const int *dims);
/* Dropout(rate), 0 <= rate < 1: during clseq_fit each value is zeroed with
 * probability rate and the others scaled by 1 / (1 - rate); evaluate and
 * predict pass values through. Masks come from the model's dropout stream
 * (clseq_model_set_seed), so a seed repeats a fit exactly. */
CLSEQ_API clseq_status clseq_add_dropout(clseq_model *m, float rate);
/* BatchNormalization(momentum, epsilon) over the last axis, with gamma
 * (ones) and beta (zeros) trainable and the moving mean (zeros) and moving
 * variance (ones) not. fit normalises by the batch's statistics and
 * updates moving = momentum moving + (1 - momentum) batch; evaluate and
 * predict use the moving ones. Keras's defaults: 0.99 and 0.001. */
CLSEQ_API clseq_status clseq_add_batch_normalization(clseq_model *m, float momentum,
                                                     float epsilon);

/* Appends the layers of a spec (below) to m: the command line's --layers.
 * Stops at the first bad token (CLSEQ_E_ARG naming it, or the layer's own
 * error); layers before it stay added. */
CLSEQ_API clseq_status clseq_add_layers(clseq_model *m, const char *spec);

/* One layer as a spec names it. */
typedef struct clseq_layer_spec {
    int units;              /* > 0 for dense; 0 for other layers */
    clseq_activation activation; /* dense, conv2d and activation layers */
    char keras_class[32];   /* "Dense", "Conv2D", ... */
} clseq_layer_spec;

/* Layer specs: comma-separated tokens, fields separated by ':'.
 *   dense:UNITS[:ACT]                      activation:ACT
 *   conv2d:FILTERS:KH[xKW][:OPT...]        OPT: ACT, same, valid, sN[xM]
 *                                          (strides), dN[xM] (dilation), nobias
 *   maxpool2d[:PH[xPW]][:OPT...]           avgpool2d[:PH[xPW]][:OPT...]
 *                                          OPT: same, valid, sN[xM]
 *   globalavgpool2d   globalmaxpool2d   flatten   reshape:D1[xD2[xD3]] (-1 once)
 *   dropout:RATE      batchnorm[:MOMENTUM[:EPSILON]]
 * Keras's snake-case names (max_pooling2d, batch_normalization, ...) work
 * too. For example conv2d:16:3x3:relu:same,maxpool2d:2,flatten,dense:10:softmax.
 * clseq_parse_layers checks a spec and describes each layer into
 * out[0..capacity); *count gets the layer count. A bad token is
 * CLSEQ_E_ARG naming it. */
CLSEQ_API clseq_status clseq_parse_layers(const char *spec, clseq_layer_spec *out,
                                          int capacity, int *count);

typedef enum clseq_optimizer_kind {
    CLSEQ_OPT_SGD = 0,
    CLSEQ_OPT_ADAM,
    CLSEQ_OPT_RMSPROP,
    CLSEQ_OPT_ADAMW,
    CLSEQ_OPT_ADAGRAD,
    CLSEQ_OPT_ADADELTA,
    CLSEQ_OPT_ADAMAX,
    CLSEQ_OPT_NADAM,
    CLSEQ_OPT_LION
} clseq_optimizer_kind;

/* An optimizer's settings, passed by value. weight_decay and the three
 * clipping options apply to every kind, as Keras's base optimizer
 * arguments do (base_optimizer.py: _apply_weight_decay, _clip_gradients);
 * 0 means off (Keras's None), and at most one clipping option may be set. */
typedef struct clseq_optimizer {
    clseq_optimizer_kind kind;
    float learning_rate;
    float momentum;   /* SGD */
    int nesterov;     /* SGD */
    float beta1;      /* Adam, AdamW, Adamax, Nadam, Lion */
    float beta2;      /* Adam, AdamW, Adamax, Nadam, Lion */
    float rho;        /* RMSprop, Adadelta */
    float epsilon;    /* all but SGD and Lion */
    float weight_decay;              /* w -= w * weight_decay * lr before each step */
    float initial_accumulator_value; /* Adagrad */
    float clipnorm;        /* each variable's gradient scaled to an L2 norm of at most this */
    float clipvalue;       /* each gradient value clipped to [-clipvalue, clipvalue] */
    float global_clipnorm; /* all gradients scaled to a joint L2 norm of at most this */
} clseq_optimizer;

/* Keras's defaults: SGD(0.01, 0, no), Adam(0.001, 0.9, 0.999, 1e-7),
 * RMSprop(0.001, 0.9, 1e-7). */
CLSEQ_API clseq_optimizer clseq_sgd(float learning_rate, float momentum, int nesterov);
CLSEQ_API clseq_optimizer clseq_adam(float learning_rate, float beta1, float beta2, float epsilon);
CLSEQ_API clseq_optimizer clseq_rmsprop(float learning_rate, float rho, float epsilon);
/* Keras's defaults: AdamW(0.001, weight_decay 0.004, 0.9, 0.999, 1e-7):
 * Adam after decaying the weights. */
CLSEQ_API clseq_optimizer clseq_adamw(float learning_rate, float weight_decay, float beta1,
                                      float beta2, float epsilon);
/* Keras's defaults: Adagrad(0.001, initial_accumulator_value 0.1, 1e-7). */
CLSEQ_API clseq_optimizer clseq_adagrad(float learning_rate, float initial_accumulator_value,
                                        float epsilon);
/* Keras's defaults: Adadelta(0.001, rho 0.95, 1e-7). */
CLSEQ_API clseq_optimizer clseq_adadelta(float learning_rate, float rho, float epsilon);
/* Keras's defaults: Adamax(0.001, 0.9, 0.999, 1e-7). */
CLSEQ_API clseq_optimizer clseq_adamax(float learning_rate, float beta1, float beta2,
                                       float epsilon);
/* Keras's defaults: Nadam(0.001, 0.9, 0.999, 1e-7). */
CLSEQ_API clseq_optimizer clseq_nadam(float learning_rate, float beta1, float beta2, float epsilon);
/* Keras's defaults: Lion(0.001, beta1 0.9, beta2 0.99); beta1 in (0, 1]. */
CLSEQ_API clseq_optimizer clseq_lion(float learning_rate, float beta1, float beta2);
/* "sgd", "adam", "rmsprop", "adamw", "adagrad", "adadelta", "adamax",
 * "nadam" or "lion" (any case) with Keras's defaults; lr > 0 overrides the
 * learning rate, 0 keeps the default, a negative or non-finite lr is
 * CLSEQ_E_ARG. */
CLSEQ_API clseq_status clseq_optimizer_from_name(const char *name, float lr, clseq_optimizer *out);

/* Fixes the optimizer, loss and metrics (CLSEQ_METRIC_* bits); allocates
 * optimizer state. Layers can no longer be added afterwards. Compiling
 * again resets the optimizer state but keeps the weights. */
CLSEQ_API clseq_status clseq_compile(clseq_model *m, clseq_optimizer opt, clseq_loss loss,
                                     unsigned metrics);

/* Sets the metrics' threshold and k (a model starts with
 * clseq_metric_defaults()); before or after clseq_compile, which keeps
 * them. Out-of-range values are CLSEQ_E_ARG naming the field. Model files
 * do not store them yet: a loaded model has the defaults. */
CLSEQ_API clseq_status clseq_set_metric_options(clseq_model *m, const clseq_metric_options *opt);
/* The model's metric settings into *out. */
CLSEQ_API clseq_status clseq_get_metric_options(const clseq_model *m, clseq_metric_options *out);

/* The optimizer, loss and metrics a model was compiled with (any pointer
 * may be NULL); CLSEQ_E_STATE if it was not compiled. */
CLSEQ_API clseq_status clseq_model_compile_settings(const clseq_model *m, clseq_optimizer *opt,
                                                    clseq_loss *loss, unsigned *metrics);

/* ---- training ---------------------------------------------------------- */

typedef struct clseq_history clseq_history;

/* Called after each epoch with the 0-based epoch and the history so far;
 * returning non-zero stops training after this epoch. */
typedef int (*clseq_epoch_callback)(int epoch, const clseq_history *history, void *user_data);

/* Which way a monitored quantity improves (Keras's mode). AUTO: "loss",
 * "mse" and "mae" (with or without "val_") go down; the accuracies,
 * "precision", "recall" and "auc" go up (Keras's metric _direction). */
typedef enum clseq_monitor_mode {
    CLSEQ_MODE_AUTO = 0,
    CLSEQ_MODE_MIN,
    CLSEQ_MODE_MAX
} clseq_monitor_mode;

/* Keras's EarlyStopping: stops when the monitored series has not improved
 * by more than |min_delta| for patience epochs. With restore_best_weights
 * the weights of the best epoch are put back when the fit ends (as Keras 3
 * does, whether or not it stopped early). */
typedef struct clseq_early_stopping {
    const char *monitor;       /* a history series; default "val_loss" */
    float min_delta;           /* default 0 */
    int patience;              /* default 0 */
    clseq_monitor_mode mode;   /* default CLSEQ_MODE_AUTO */
    float baseline;            /* default NAN: none; otherwise an epoch only
                                  resets the patience by beating it too */
    int restore_best_weights;  /* default 0 */
    int start_from_epoch;      /* default 0: epochs before it are not watched */
} clseq_early_stopping;

/* Keras's ModelCheckpoint (save_freq "epoch"): saves the model with
 * clseq_save after every epoch, or with save_best_only only when the
 * monitored series improved. "{epoch}" or "{epoch:0Nd}" in path become
 * the 1-based epoch number; a path ending in ".keras" saves a Keras file. */
typedef struct clseq_model_checkpoint {
    const char *path;          /* required */
    const char *monitor;       /* default "val_loss" */
    int save_best_only;        /* default 0 */
    clseq_monitor_mode mode;   /* default CLSEQ_MODE_AUTO */
    float initial_value_threshold; /* default NAN: none */
} clseq_model_checkpoint;

/* Keras's ReduceLROnPlateau: multiplies the learning rate by factor (not
 * below min_lr) after patience epochs without an improvement of more than
 * min_delta, then waits cooldown epochs. */
typedef struct clseq_reduce_lr_on_plateau {
    const char *monitor;       /* default "val_loss" */
    float factor;              /* default 0.1; in (0, 1) */
    int patience;              /* default 10 */
    clseq_monitor_mode mode;   /* default CLSEQ_MODE_AUTO */
    float min_delta;           /* default 1e-4 */
    int cooldown;              /* default 0 */
    float min_lr;              /* default 0 */
} clseq_reduce_lr_on_plateau;

/* Keras's CSVLogger: one row per epoch, "epoch" (0-based) then the history
 * series sorted by name; without validation data the val_ columns are
 * there too, holding "NA", as Keras writes them. */
typedef struct clseq_csv_logger {
    const char *path;          /* required; a regular file or a new one */
    char separator;            /* default ',' */
    int append;                /* default 0: the file is truncated when the
                                  fit starts */
} clseq_csv_logger;

/* Defaults of each callback, as Keras's constructors have them. */
CLSEQ_API clseq_early_stopping clseq_early_stopping_defaults(void);
CLSEQ_API clseq_model_checkpoint clseq_model_checkpoint_defaults(const char *path);
CLSEQ_API clseq_reduce_lr_on_plateau clseq_reduce_lr_on_plateau_defaults(void);
CLSEQ_API clseq_csv_logger clseq_csv_logger_defaults(const char *path);

typedef struct clseq_fit_options {
    int epochs;               /* default 1 */
    int batch_size;           /* default 32 */
    int shuffle;              /* default 1: reshuffle the training rows each epoch */
    int verbose;              /* 0 silent, 1 progress bar (default), 2 one line per epoch */
    float validation_split;   /* default 0: fraction of the last rows held out */
    const float *val_x;       /* explicit validation data (overrides the split) */
    const float *val_y;
    size_t val_n;
    clseq_epoch_callback on_epoch_end; /* may be NULL; returning non-zero stops
                                          the fit after this epoch */
    void *user_data;
    FILE *progress_stream;    /* where verbose output goes; NULL means stdout */
    int initial_epoch;        /* default 0: the fit runs epochs initial_epoch
                                 to epochs - 1 (Keras's initial_epoch), e.g.
                                 to go on with a loaded model */
    int terminate_on_nan;     /* default 1: a non-finite loss or weight ends
                                 the fit with CLSEQ_E_NUMERIC and puts back the
                                 weights from before that epoch; 0: no check,
                                 training goes on (Keras without TerminateOnNaN) */
    /* Keras's callbacks, each off when NULL. They run after each epoch in
     * this order: ReduceLROnPlateau, EarlyStopping, ModelCheckpoint,
     * CSVLogger, then on_epoch_end. */
    const clseq_early_stopping *early_stopping;
    const clseq_model_checkpoint *checkpoint;
    const clseq_reduce_lr_on_plateau *reduce_lr_on_plateau;
    const clseq_csv_logger *csv_logger;
    /* Keras's sample_weight and class_weight (at most one of them): n
     * weights, one per row of x; or class_weight_count weights indexed by
     * class (the arg-max of a one-hot target, else the rounded label;
     * classes past the count weigh 1). Weights are finite and >= 0. Each
     * row's loss and gradient are scaled by its weight (the loss stays
     * divided by the batch size); the metrics are not weighted, as
     * Keras's compile metrics are not (it weights only weighted_metrics,
     * which clseq does not have). Validation data is not weighted. */
    const float *sample_weight;
    const float *class_weight;
    int class_weight_count;
} clseq_fit_options;

/* Keras's defaults: batch 32, epochs 1, shuffle on, verbose 1. */
CLSEQ_API clseq_fit_options clseq_fit_defaults(void);

/* Keras's learning-rate schedules (keras/src/optimizers/schedules/
 * learning_rate_schedule.py), a function of the optimizer's step count
 * (0 for the first step, as Keras calls them with iterations). */
typedef enum clseq_schedule_kind {
    CLSEQ_SCHEDULE_EXPONENTIAL = 1, /* initial * rate^(step / decay_steps),
                                       the exponent floored with staircase */
    CLSEQ_SCHEDULE_PIECEWISE,       /* values[i] while step <= boundaries[i],
                                       values[count] after the last */
    CLSEQ_SCHEDULE_COSINE,          /* optional linear warm-up from initial to
                                       warmup_target over warmup_steps, then
                                       cosine decay to alpha x it over
                                       decay_steps */
    CLSEQ_SCHEDULE_FUNCTION         /* the caller's function(step, user_data) */
} clseq_schedule_kind;

enum { CLSEQ_SCHEDULE_MAX_BOUNDARIES = 16 };

typedef float (*clseq_lr_function)(long long step, void *user_data);

typedef struct clseq_lr_schedule {
    clseq_schedule_kind kind;
    float initial_learning_rate;   /* exponential, cosine */
    long long decay_steps;         /* exponential, cosine (> 0) */
    float decay_rate;              /* exponential */
    int staircase;                 /* exponential */
    int count;                     /* piecewise: boundaries; values has count + 1 */
    long long boundaries[CLSEQ_SCHEDULE_MAX_BOUNDARIES];
    float values[CLSEQ_SCHEDULE_MAX_BOUNDARIES + 1];
    float alpha;                   /* cosine: the floor's fraction (default 0) */
    float warmup_target;           /* cosine: NAN for no warm-up */
    long long warmup_steps;        /* cosine */
    clseq_lr_function function;    /* function */
    void *user_data;
} clseq_lr_schedule;

/* The schedules with Keras's defaults for what they leave out. */
CLSEQ_API clseq_lr_schedule clseq_exponential_decay(float initial_learning_rate,
                                                    long long decay_steps, float decay_rate,
                                                    int staircase);
CLSEQ_API clseq_lr_schedule clseq_piecewise_constant_decay(int count, const long long *boundaries,
                                                           const float *values);
CLSEQ_API clseq_lr_schedule clseq_cosine_decay(float initial_learning_rate, long long decay_steps,
                                               float alpha, float warmup_target,
                                               long long warmup_steps);
CLSEQ_API clseq_lr_schedule clseq_lr_function_schedule(clseq_lr_function function,
                                                       void *user_data);
/* Makes the learning rate follow schedule from the next step on (NULL: a
 * fixed rate again, the schedule's last value). Checked: positive steps,
 * finite values, increasing boundaries. A model with a schedule trains on
 * the layer path; clseq_set_learning_rate then returns CLSEQ_E_STATE (as
 * Keras refuses to assign a schedule's learning rate). Schedules are not
 * saved in clseq's model files; set it again after clseq_load (the step
 * count is saved, so the schedule goes on where it was). A .keras file
 * holds an exponential, piecewise or cosine schedule as Keras does;
 * saving a model with a function schedule as .keras is CLSEQ_E_ARG, since
 * Keras cannot hold the function. */
CLSEQ_API clseq_status clseq_set_lr_schedule(clseq_model *m, const clseq_lr_schedule *schedule);
/* The model's schedule into *out: 1 if it has one, 0 if its learning rate
 * is fixed (or m or out is NULL). */
CLSEQ_API int clseq_get_lr_schedule(const clseq_model *m, clseq_lr_schedule *out);
/* The schedule's value at a step (what the step-th update uses). */
CLSEQ_API clseq_status clseq_lr_schedule_value(const clseq_lr_schedule *schedule, long long step,
                                               float *out);

/* Epochs the model has completed: the last clseq_fit's last epoch + 1
 * (so counting initial_epoch), kept in model files with the optimizer
 * state. Going on after a load: initial_epoch = clseq_model_epochs(m) and
 * epochs the total wanted, as Keras's fit(initial_epoch=) counts. 0 for a
 * new model; clseq_model_set_epochs sets it (Keras files do not keep it). */
CLSEQ_API int clseq_model_epochs(const clseq_model *m);
CLSEQ_API clseq_status clseq_model_set_epochs(clseq_model *m, int epochs);

/* The optimizer's learning rate now, and a new one (> 0, finite) for the
 * steps that follow; both may be called from an epoch callback.
 *
 * Calls from inside a fit's callback: reading the history, the learning
 * rate, clseq_layer_*, clseq_get_variable(_info), clseq_get_weights,
 * clseq_model_summary, clseq_model_compile_settings and clseq_save are
 * allowed. Calls that would break the running fit return CLSEQ_E_STATE:
 * clseq_compile, clseq_add_*, clseq_fit, clseq_evaluate, clseq_predict,
 * clseq_set_variable, clseq_set_weights and clseq_model_set_seed;
 * clseq_model_free does nothing then (clseq_last_error says so). */
CLSEQ_API clseq_status clseq_get_learning_rate(const clseq_model *m, float *out);
CLSEQ_API clseq_status clseq_set_learning_rate(clseq_model *m, float learning_rate);

/* Trains on x (n x input_dim) and y (n x output_dim, or n x 1 class indices
 * for sparse categorical cross-entropy). history may be NULL; otherwise the
 * caller frees *history with clseq_history_free. Divergence to NaN or Inf
 * stops with CLSEQ_E_NUMERIC and restores the last good weights. On a
 * context of several devices each batch is split over them and their
 * gradients summed (README, "Several devices"); evaluate and predict split
 * their rows too. */
CLSEQ_API clseq_status clseq_fit(clseq_model *m, const float *x, const float *y, size_t n,
                                 const clseq_fit_options *opt, clseq_history **history);
/* Rows handed out on request, for a data set larger than memory
 * (clseq_csv_open reads a CSV file this way). read copies rows [first,
 * first + count) into x (count x the model's input values) and y (count x
 * the target width, as clseq_fit's y) and returns CLSEQ_OK, or a status
 * that ends the fit with it (with the message read left in
 * clseq_last_error, if it left one). It is called for any run of rows, in
 * any order, more than once. */
typedef struct clseq_source {
    size_t rows;
    clseq_status (*read)(void *user, size_t first, size_t count, float *x, float *y);
    void *user;
} clseq_source;

/* clseq_fit over a source: the rows go up a block at a time, the next
 * read while the device trains on the current one, so neither host nor
 * device memory grows with the rows (two blocks, at most 32 MiB on the
 * host). Validation rows come from val, or with validation_split from
 * train's last rows; val may be NULL. Each block is checked as clseq_fit
 * checks x and y. Shuffling permutes the order of the blocks (the last,
 * partial one stays last) and the rows within each: with every row at
 * hand clseq_fit (and Keras) permute them all, which a source larger than
 * memory cannot afford. class_weight is taken; sample_weight, val_x,
 * val_y and val_n are not. Results depend on the block size, which
 * follows the device's memory (clseq_ctx_options.data_bytes). */
CLSEQ_API clseq_status clseq_fit_source(clseq_model *m, const clseq_source *train,
                                        const clseq_source *val, const clseq_fit_options *opt,
                                        clseq_history **history);
/* Mean loss over the n rows into *loss, and one value per requested metric,
 * in bit order, into metric_values (which may be NULL if none; at most
 * CLSEQ_METRIC_COUNT values). */
CLSEQ_API clseq_status clseq_evaluate(clseq_model *m, const float *x, const float *y,
                                      size_t n, float *loss, float *metric_values);
/* clseq_evaluate with a weight per row (Keras's sample_weight; NULL: all
 * 1): the loss is sum(w loss) / n; the metrics are unweighted, as
 * Keras's compile metrics. */
CLSEQ_API clseq_status clseq_evaluate_weighted(clseq_model *m, const float *x, const float *y,
                                               const float *sample_weight, size_t n, float *loss,
                                               float *metric_values);
/* The model's outputs for x (n x input_dim) into out (n x output_dim). */
CLSEQ_API clseq_status clseq_predict(clseq_model *m, const float *x, size_t n, float *out);

/* Epochs recorded. */
CLSEQ_API int clseq_history_epochs(const clseq_history *h);
/* Number of series ("loss", each metric, then "val_..." for each). */
CLSEQ_API int clseq_history_series_count(const clseq_history *h);
/* The i-th series' name; NULL if out of range. */
CLSEQ_API const char *clseq_history_series_name(const clseq_history *h, int i);
/* A series' values by name (epochs values), NULL if there is no such series.
 * Owned by the history. */
CLSEQ_API const float *clseq_history_values(const clseq_history *h, const char *name);
/* Frees a history (NULL is fine). */
CLSEQ_API void clseq_history_free(clseq_history *h);

/* ---- layers and weights ------------------------------------------------ */

/* Number of layers (layers without weights count too). */
CLSEQ_API int clseq_layer_count(const clseq_model *m);
/* Values per sample the model takes (the product of its input shape), and
 * outputs it gives. */
CLSEQ_API int clseq_model_input_dim(const clseq_model *m);
CLSEQ_API int clseq_model_output_dim(const clseq_model *m);
/* Layer i's sizes: input and output values per sample (the products of
 * its shapes) and the activation at its output; *has_weights is 1 if it
 * has variables. Any out pointer may be NULL. */
CLSEQ_API clseq_status clseq_layer_info(const clseq_model *m, int layer, int *input_dim,
                                        int *units, clseq_activation *act, int *has_weights);
/* Copies layer's kernel (input_dim x units) and bias (units) out; either
 * pointer may be NULL. A layer without a kernel and a bias is CLSEQ_E_ARG.
 * (clseq_get_variable reads any variable.) */
CLSEQ_API clseq_status clseq_get_weights(const clseq_model *m, int layer, float *kernel, float *bias);
/* Replaces layer's kernel and bias (both required, all finite). */
CLSEQ_API clseq_status clseq_set_weights(clseq_model *m, int layer, const float *kernel, const float *bias);
/* Layer i's Keras class name ("Dense", "Conv2D", ...); NULL if out of range. */
CLSEQ_API const char *clseq_layer_class(const clseq_model *m, int layer);
/* Layer i's output shape per sample: *rank and dims[0..rank) (dims holds
 * CLSEQ_MAX_RANK ints). */
CLSEQ_API clseq_status clseq_layer_output_shape(const clseq_model *m, int layer, int *rank,
                                                int *dims);

/* One variable of a layer: trainable parameters (Dense's kernel and bias)
 * and non-trainable state (e.g. moving statistics) alike. */
typedef struct clseq_variable_info {
    char name[32];      /* Keras's name: "kernel", "bias", ... */
    int rank;           /* 1 to 4 */
    int shape[4];       /* Keras's layout, e.g. kernel (input, units) */
    size_t count;       /* elements: the product of the shape */
    int trainable;      /* 1 if optimizers update it */
} clseq_variable_info;

/* Variables of a layer, in Keras's order (Dense: kernel, bias); 0 for a
 * layer without or a bad index. */
CLSEQ_API int clseq_variable_count(const clseq_model *m, int layer);
CLSEQ_API clseq_status clseq_get_variable_info(const clseq_model *m, int layer, int index,
                                               clseq_variable_info *out);
/* Copies a variable's count floats out, row-major in its shape. */
CLSEQ_API clseq_status clseq_get_variable(const clseq_model *m, int layer, int index, float *out);
/* Replaces a variable's values (all finite). */
CLSEQ_API clseq_status clseq_set_variable(clseq_model *m, int layer, int index, const float *in);

/* Keras's L1L2 regularizer on a trainable variable ("kernel", "bias",
 * "gamma", ...; Dense(kernel_regularizer=L2(0.01)) is
 * clseq_set_regularizer(m, layer, "kernel", 0, 0.01f)): l1 sum|w| +
 * l2 sum w^2 joins the loss (and the reported loss and val_loss, as in
 * Keras) and its gradient the variable's. 0, 0 removes it; both must be
 * finite and >= 0. Saved with the model. */
CLSEQ_API clseq_status clseq_set_regularizer(clseq_model *m, int layer, const char *variable,
                                             float l1, float l2);
CLSEQ_API clseq_status clseq_get_regularizer(const clseq_model *m, int layer,
                                             const char *variable, float *l1, float *l2);

/* Writes a Keras-style summary table into buf (always NUL-terminated). */
CLSEQ_API clseq_status clseq_model_summary(const clseq_model *m, char *buf, size_t size);

/* ---- model files ------------------------------------------------------- */

/* Saves the model (model file v2, docs/model-format.md): input shape, seed,
 * every layer by Keras class with its config and variables, and when
 * compiled the optimizer's settings, step count and state, so a loaded
 * model resumes training where it stopped (exactly so with shuffle off).
 * The file is written to a temporary name, synced and renamed, so the old
 * file survives a crash. */
CLSEQ_API clseq_status clseq_save(const clseq_model *m, const char *path);
/* Loads a saved model (v2, or v1 from clseq 0.1) onto ctx, compiled again
 * with its optimizer state if it was compiled. */
CLSEQ_API clseq_status clseq_load(clseq_ctx *ctx, const char *path, clseq_model **out);

/* ---- data utilities ---------------------------------------------------- */

typedef struct clseq_blobs_options {
    size_t n_samples;      /* default 100 */
    int n_features;        /* default 2 */
    int centers;           /* default 3 */
    double cluster_std;    /* default 1.0 */
    double center_box_lo;  /* default -10 */
    double center_box_hi;  /* default 10 */
    int shuffle;           /* default 1 */
    uint32_t random_state; /* default 0 */
} clseq_blobs_options;

/* scikit-learn's make_blobs defaults. */
CLSEQ_API clseq_blobs_options clseq_blobs_defaults(void);
/* Exactly scikit-learn's make_blobs (NumPy legacy RandomState): x gets
 * n_samples x n_features doubles, labels gets n_samples centre indices. */
CLSEQ_API clseq_status clseq_make_blobs(const clseq_blobs_options *opt, double *x, int *labels);

/* Train and test sizes of scikit-learn's train_test_split for a float
 * test_size in (0, 1): n_test = ceil(test_size * n). */
CLSEQ_API clseq_status clseq_split_sizes(size_t n, double test_size, size_t *n_train,
                                         size_t *n_test);
/* Exactly scikit-learn's train_test_split(arange(n), test_size,
 * random_state=seed): train_idx and test_idx receive the row indices (sizes
 * from clseq_split_sizes). */
CLSEQ_API clseq_status clseq_train_test_split(size_t n, double test_size, uint32_t seed,
                                              size_t *train_idx, size_t *test_idx);
/* dst[i] = src[idx[i]] for rows of cols floats; dst must not overlap src. */
CLSEQ_API clseq_status clseq_take_rows(const float *src, size_t src_rows, size_t cols,
                                       const size_t *idx, size_t n, float *dst);
/* One-hot rows (n x classes) from class indices stored as floats. */
CLSEQ_API clseq_status clseq_one_hot(const float *labels, size_t n, int classes, float *out);
/* Index of each row's largest value. */
CLSEQ_API clseq_status clseq_argmax_rows(const float *x, size_t n, size_t cols, int *out);

/* A table read from CSV: features then the target. */
typedef struct clseq_dataset {
    float *x;        /* rows x features */
    float *y;        /* rows (the last column) */
    size_t rows;
    int features;
    size_t *lines;   /* rows: the 1-based line of the file each row came
                        from (headers and blank lines are skipped), for
                        messages about a row */
} clseq_dataset;

/* Reads a CSV file: one row per sample, features first, the target last; a
 * header row is detected and skipped. Errors name file, line and column.
 * Free with clseq_dataset_free. */
CLSEQ_API clseq_status clseq_csv_read(const char *path, clseq_dataset *out);
/* The same from memory; name is used in messages. */
CLSEQ_API clseq_status clseq_csv_parse(const char *text, size_t len, const char *name,
                                       clseq_dataset *out);
/* Frees a dataset's arrays and zeroes it. */
CLSEQ_API void clseq_dataset_free(clseq_dataset *d);
/* A CSV file read a block of rows at a time, for data larger than memory
 * (clseq_fit_source; `clseq train --stream`). Opening reads the file once:
 * it checks every row as clseq_csv_read does, counts them, and keeps the
 * byte offset of every CLSEQ_CSV_INDEX_ROWS-th row, so a read seeks to
 * the nearest one: 16 bytes of memory per 1024 rows, nothing else that
 * grows with the file. */
typedef struct clseq_csv_file clseq_csv_file;
enum { CLSEQ_CSV_INDEX_ROWS = 1024 };

/* What the opening pass found. */
typedef struct clseq_csv_summary {
    size_t rows;
    int features;
    float target_min, target_max;          /* the smallest and largest target */
    size_t target_min_line, target_max_line; /* the 1-based lines they are on */
    size_t fraction_line;  /* the first line whose target is not a whole
                              number; 0 if every target is one */
} clseq_csv_summary;

CLSEQ_API clseq_status clseq_csv_open(const char *path, clseq_csv_file **out);
CLSEQ_API clseq_status clseq_csv_summarize(const clseq_csv_file *f, clseq_csv_summary *out);
/* Rows [first, first + count) into x (count x features) and y (count
 * targets). A file that changed since it was opened (size or modification
 * time) is CLSEQ_E_IO rather than rows that were never checked. */
CLSEQ_API clseq_status clseq_csv_read_rows(clseq_csv_file *f, size_t first, size_t count,
                                           float *x, float *y);
/* Closes the file (NULL is fine). */
CLSEQ_API void clseq_csv_close(clseq_csv_file *f);
/* Writes rows x cols values (and y as a last column if not NULL) with an
 * optional header of cols (+1) names; written to a temporary file and renamed. */
CLSEQ_API clseq_status clseq_csv_write(const char *path, const float *x, size_t rows, int cols,
                                       const float *y, const char *const *header);

#ifdef __cplusplus
}
#endif

#endif /* CLSEQ_H */
