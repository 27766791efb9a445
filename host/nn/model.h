/* The Sequential model's internals, shared by the nn/ files. */
#ifndef CLSEQ_MODEL_H
#define CLSEQ_MODEL_H

#include "data/rng.h"
#include "nn/layer.h"
#include "runtime/runtime.h"

/* One variable of one layer: where its floats live. Trainable variables
 * are packed into the parameter vector (so one optimizer launch updates
 * them all), non-trainable ones into the state vector. */
typedef struct clseq_variable {
    int layer;
    int index;              /* within its layer, in Keras's order */
    size_t count;
    int trainable;
    float l1, l2;           /* Keras's L1L2 regularizer on it (0, 0: none) */
} clseq_variable;

/* Device buffers for a pass over up to `rows` rows at a time. */
typedef struct clseq_workspace {
    int rows;               /* capacity in rows; 0 when not allocated */
    cl_mem input;           /* rows x input size */
    cl_mem target;          /* rows x target width */
    cl_mem *outputs;        /* per layer: rows x its output size */
    cl_mem *pre;            /* per layer: its pre-activation values, or NULL (clseq_pass.pre) */
    cl_mem *saved;          /* per layer: its saved buffer, or NULL (clseq_pass.saved) */
    int layers;             /* entries in outputs, pre and saved (the layer count it was
                               built for) */
    cl_mem scratch;         /* the largest scratch any layer asks for, or NULL */
    cl_mem delta[2];        /* ping-pong gradients: rows x the largest size */
    cl_mem stats;           /* rows x STATS_PER_ROW */
    cl_mem weight;          /* rows: the batch's sample weights */
} clseq_workspace;

struct clseq_model {
    clseq_ctx *ctx;
    clseq_device *dev;      /* where its buffers live and its work runs */
    clseq_shape input;      /* one sample's shape */
    int input_dim;          /* its size (values per sample) */
    int layer_count;
    int layer_capacity;
    clseq_layer *layers;

    /* Random streams, each derived from the seed (set_seed): initial
     * weights, the shuffle of each epoch, dropout masks. */
    uint64_t seed;
    clseq_rng init_rng;
    clseq_rng shuffle_rng;
    clseq_rng dropout_rng;

    int var_count;
    int var_capacity;
    clseq_variable *vars;
    size_t *var_offset;     /* per variable: floats into params or state */

    /* Trainable variables in one vector, non-trainable in another. The
     * host copies and the device copies are kept in step lazily:
     * whichever was written last is current. */
    size_t param_count;
    float *host_params;
    cl_mem params;
    size_t state_count;
    float *host_state;
    cl_mem state;
    int device_stale;       /* the host copies have changes the device lacks */
    int host_stale;         /* the device has changes the host copies lack */

    int compiled;
    int in_fit;             /* a clseq_fit is running (its callbacks may call in) */
    int regularized;        /* clseq_model_regularized, as the running fit found it */
    clseq_lr_schedule schedule; /* the learning rate's schedule ... */
    int scheduled;          /* ... when set (clseq_set_lr_schedule) */
    clseq_optimizer optimizer;
    clseq_loss loss;
    unsigned metrics;
    clseq_metric_options metric_options; /* threshold and k (clseq_set_metric_options) */
    cl_mem grads;
    cl_mem opt_m;           /* first state vector: SGD, Lion, Adam, Adamax, Nadam momentum,
                               Adadelta accumulated_grad (nn/model_io.c's slots) */
    cl_mem opt_v;           /* second: Adam, Nadam velocity, RMSprop mean square, Adagrad
                               accumulator, Adamax norm, Adadelta accumulated_delta_var */
    cl_mem opt_segments;    /* clipnorm: (offset, count) of each trainable variable in
                               params, int pairs; NULL without clipnorm */
    int opt_segment_count;
    long long iterations;   /* optimizer steps taken (Adam's t) */
    int epochs;             /* epochs completed: the last fit's last epoch + 1 */
    float nadam_u_product;  /* Nadam's u_product after step nadam_u_step (replayed from
                               step 0 when iterations moved without it: a load) */
    long long nadam_u_step;

    clseq_workspace work;

    /* Data-parallel fits (nn/parallel.h): the replicas while one runs, and
     * the processes a fit joins (set by clseq_fit_mpi for its duration). */
    struct clseq_parallel *parallel;
    const struct clseq_collective *collective;
};

/* Width of the target rows the loss expects (1 for sparse labels). */
int clseq_model_target_width(const clseq_model *m);
/* Makes the device copies current (allocating them if needed). */
clseq_status clseq_model_sync_device(clseq_model *m);
/* Makes the host copies current (reading the device back if needed). */
clseq_status clseq_model_sync_host(const clseq_model *m);
/* Ensures the workspace holds at least rows rows. */
clseq_status clseq_workspace_reserve(clseq_model *m, int rows);
void clseq_workspace_release(clseq_model *m);
/* Checks the optimizer's settings (CLSEQ_E_ARG naming the bad one). */
clseq_status clseq_optimizer_check(const clseq_optimizer *o);
/* With a schedule, sets the optimizer's learning rate to its value at the
 * step about to be taken (m->iterations, before the step counts it); the
 * caller puts the compiled rate back after the step. */
clseq_status clseq_schedule_step(clseq_model *m);
/* 1 if any variable has a regularizer (its penalty joins the loss). */
int clseq_model_regularized(const clseq_model *m);
/* The regularizers' penalty, sum over variables of l1 sum|w| + l2 sum w^2,
 * times scale, added into out[off] (its Kahan compensation in
 * out[off + STATS_PER_ROW]); on the device, from the current weights. */
clseq_status clseq_regularizer_penalty(clseq_model *m, float scale, cl_mem out, int off);
/* Adds each regularizer's gradient, l1 sign(w) + 2 l2 w, to m->grads. */
clseq_status clseq_regularizer_grads(clseq_model *m);
/* CLSEQ_E_STATE naming call when a fit is running on m: calls that would
 * break it are refused from its callbacks (clseq.h lists them). */
clseq_status clseq_model_check_idle(const clseq_model *m, const char *call);
/* Allocates (zeroed) gradient and optimizer-state buffers for the compiled
 * optimizer and resets the iteration count. */
clseq_status clseq_model_reset_optimizer(clseq_model *m);
/* Checks that n rows of width cols are finite; names the first bad value
 * as "what row R column C". */
clseq_status clseq_check_finite(const float *x, size_t n, int cols, const char *what);
/* Checks targets against the loss: finite, and class indices in range for
 * sparse labels. */
clseq_status clseq_check_targets(const clseq_model *m, const float *y, size_t n, const char *what);
/* Appends a layer of kind with config cfg: decodes and checks it, derives
 * its output shape, registers its variables and, with init, initialises
 * them from the init stream (the loader sets them instead). */
clseq_status clseq_model_append(clseq_model *m, const clseq_layer_kind *kind,
                                const clseq_layer_config *cfg, int init);
/* The offsets of layer l's variables (l->variable_count entries). */
const size_t *clseq_layer_offsets(const clseq_model *m, const clseq_layer *l);
/* Host pointer to a variable's floats (host copies must be current). */
float *clseq_variable_host(const clseq_model *m, int var);
/* The last layer's output size. */
int clseq_model_output_size(const clseq_model *m);

#endif
