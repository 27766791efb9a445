/* The Sequential model's internals, shared by model.c, train.c, fit.c,
 * infer.c and modelfile.c. */
#ifndef CLSEQ_MODEL_H
#define CLSEQ_MODEL_H

#include "rng.h"
#include "runtime.h"

typedef struct clseq_layer {
    int input_dim;
    int units;              /* output width */
    clseq_activation act;
    int dense;              /* 1: Dense (kernel + bias); 0: an Activation layer */
    size_t kernel_off;      /* floats into the parameter vector (dense only) */
    size_t bias_off;
} clseq_layer;

/* Device buffers for a pass over up to `rows` rows at a time. */
typedef struct clseq_workspace {
    int rows;               /* capacity in rows; 0 when not allocated */
    cl_mem input;           /* rows x input_dim */
    cl_mem target;          /* rows x target width */
    cl_mem *outputs;        /* per layer: rows x units */
    int layers;             /* entries in outputs (the layer count it was built for) */
    cl_mem delta[2];        /* ping-pong gradients: rows x widest layer */
    cl_mem stats;           /* rows x CLSEQ_STATS_PER_ROW */
} clseq_workspace;

struct clseq_model {
    clseq_ctx *ctx;
    int input_dim;
    int layer_count;
    int layer_capacity;
    clseq_layer *layers;
    clseq_rng rng;          /* weight initialisation and shuffling */

    /* Parameters: every layer's kernel then bias, in one vector, so one
     * optimizer launch updates them all. The host copy and the device copy
     * are kept in step lazily: whichever was written last is current. */
    size_t param_count;
    float *host_params;
    cl_mem params;
    int device_stale;       /* host_params has changes the device lacks */
    int host_stale;         /* the device has changes host_params lacks */

    int compiled;
    clseq_optimizer optimizer;
    clseq_loss loss;
    unsigned metrics;
    cl_mem grads;
    cl_mem opt_m;           /* SGD momentum / Adam first moment */
    cl_mem opt_v;           /* Adam second moment / RMSprop mean square */
    long long iterations;   /* optimizer steps taken (Adam's t) */

    clseq_workspace work;
};

/* Width of the target rows the loss expects (1 for sparse labels). */
int clseq_model_target_width(const clseq_model *m);
/* Makes the device parameters current (allocating them if needed). */
clseq_status clseq_model_sync_device(clseq_model *m);
/* Makes host_params current (reading the device back if needed). */
clseq_status clseq_model_sync_host(const clseq_model *m);
/* Ensures the workspace holds at least rows rows. */
clseq_status clseq_workspace_reserve(clseq_model *m, int rows);
void clseq_workspace_release(clseq_model *m);
/* Allocates (zeroed) gradient and optimizer-state buffers for the compiled
 * optimizer and resets the iteration count. */
clseq_status clseq_model_reset_optimizer(clseq_model *m);
/* Checks that n rows of width cols are finite; names the first bad value
 * as "what row R column C". */
clseq_status clseq_check_finite(const float *x, size_t n, int cols, const char *what);
/* Checks targets against the loss: finite, and class indices in range for
 * sparse labels. */
clseq_status clseq_check_targets(const clseq_model *m, const float *y, size_t n, const char *what);
/* Appends a layer record (used by clseq_add_dense / clseq_add_activation
 * and the model loader); dense layers' parameters are zeroed. */
clseq_status clseq_model_append_layer(clseq_model *m, int units, clseq_activation act, int dense);

#endif
