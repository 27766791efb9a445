/* The layer table: one clseq_layer_kind per layer kind (layer_dense.c,
 * layer_activation.c, ...), listed in registry.c. Everything that depends
 * on what a layer is goes through its kind: the spec parser, model files,
 * the summary, variables, the device passes and the fused trainer. No
 * other code switches on a layer's kind. docs/design.md, "Adding a layer
 * kind", lists the steps. */
#ifndef CLSEQ_LAYER_H
#define CLSEQ_LAYER_H

#include "codes.h"
#include "data/rng.h"
#include "nn/layer_config.h"
#include "nn/shape.h"
#include "runtime/runtime.h"

typedef struct clseq_layer clseq_layer;
typedef struct clseq_layer_kind clseq_layer_kind;

enum { CLSEQ_LAYER_ARGS = 8, CLSEQ_MAX_LAYER_VARIABLES = 16 };

/* One layer of a model. */
struct clseq_layer {
    const clseq_layer_kind *kind;
    int index;                  /* 0-based position in the model */
    clseq_shape in, out;        /* per-sample shapes */
    clseq_activation act;       /* applied at its output (CLSEQ_LINEAR if none) */
    int arg[CLSEQ_LAYER_ARGS];  /* the kind's own integer arguments (its file names them) */
    float farg[CLSEQ_LAYER_ARGS];
    int first_variable;         /* its variables are model->vars[first, first + count) */
    int variable_count;
};

/* What a forward or backward call works on. Buffers hold rows samples,
 * each flattened row-major in its shape. */
typedef struct clseq_pass {
    clseq_device *dev;
    int rows;
    cl_mem in;                  /* rows x in-size: the layer's input */
    cl_mem out;                 /* rows x out-size: its output */
    cl_mem params;              /* trainable variables (model parameter vector) */
    cl_mem grads;               /* their gradients, same layout */
    cl_mem state;               /* non-trainable variables */
    const size_t *offsets;      /* the layer's variables' offsets into params or state */
    clseq_rng *rng;             /* forward, training: the model's dropout stream */
    /* The layer's pre-activation values z (rows x out-size), kept from
     * forward for backward: only for a kind that applies_activation with an
     * activation whose derivative needs z (clseq_activation_needs_input);
     * NULL otherwise. */
    cl_mem pre;
    /* The layer's own buffer of saved_floats(rows) floats, kept from
     * forward to backward (dropout's mask, batch statistics); NULL if it
     * asked for none. */
    cl_mem saved;
    /* Scratch of scratch_floats(rows) floats shared by all layers: valid
     * only within one forward or backward call (im2col columns). */
    cl_mem scratch;
    /* backward only */
    cl_mem d_out;               /* dL/d(out), rows x out-size; the layer may overwrite it */
    cl_mem d_in;                /* where dL/d(in) goes (rows x in-size); NULL: not needed */
    int d_out_is_dz;            /* d_out is already through l->act (the loss did it) */
    int d_in_in_d_out;          /* set by the layer: it left dL/d(in) in d_out instead */
} clseq_pass;

struct clseq_layer_kind {
    const char *keras_class;    /* "Dense": Keras's class name, model files, summary */
    const char *name;           /* "dense": layer-spec token and summary name prefix (Keras's
                                   snake-case name) */
    const char *alias;          /* a shorter spec token ("maxpool2d"), or NULL */
    /* 1 if the kind computes z itself and applies l->act to it (Dense,
     * Conv2D): the pass then keeps z in p->pre for activations that need
     * it. 0 for kinds without an activation, or whose input is z
     * (Activation). */
    int applies_activation;
    /* Reads the layer's arguments from cfg (Keras's names: "units",
     * "activation", ...), refusing unknown or bad values (CLSEQ_E_ARG
     * naming the layer and the value). */
    clseq_status (*decode)(clseq_layer *l, const clseq_layer_config *cfg);
    /* The config decode reads back, for model files and Keras export. */
    clseq_status (*encode)(const clseq_layer *l, clseq_layer_config *cfg);
    /* Parses a spec token's fields after the kind name ("64", "relu" of
     * "dense:64:relu") into cfg. */
    clseq_status (*parse_spec)(const char *const *fields, int count, clseq_layer_config *cfg);
    /* Sets l->out from l->in and the arguments; CLSEQ_E_SHAPE naming the
     * layer and both shapes when they do not fit. */
    clseq_status (*output_shape)(clseq_layer *l);
    /* Its variables, in Keras's order. */
    int (*variable_count)(const clseq_layer *l);
    void (*variable)(const clseq_layer *l, int index, clseq_variable_info *out);
    /* Initial values: vars[i] points at variable i's floats. */
    void (*init)(const clseq_layer *l, clseq_rng *rng, float *const *vars);
    /* Enqueues the forward pass (training: fit's pass, where dropout and
     * batch statistics apply). */
    clseq_status (*forward)(const clseq_layer *l, clseq_pass *p, int training);
    /* Enqueues the backward pass: variables' gradients into p->grads at
     * the variables' offsets, dL/d(in) into p->d_in (when not NULL). */
    clseq_status (*backward)(const clseq_layer *l, clseq_pass *p);
    /* Floats of the layer's own saved buffer and of shared scratch it
     * needs for a pass over rows samples (NULL: none). */
    size_t (*saved_floats)(const clseq_layer *l, int rows);
    size_t (*scratch_floats)(const clseq_layer *l, int rows);
    /* Fills the fused trainer's table row (codes.h, FL_*) and returns 1,
     * or returns 0 if cl/train_fused.cl cannot run this layer (it knows
     * only trainable variables: a kind with state returns 0). NULL: never. */
    int (*fused_row)(const clseq_layer *l, const size_t *offsets, int *row);
};

/* The registry (registry.c): kinds by Keras class name and by spec token,
 * case-insensitively; NULL if none. */
const clseq_layer_kind *clseq_layer_kind_by_class(const char *keras_class);
const clseq_layer_kind *clseq_layer_kind_by_name(const char *name);
/* Every kind's Keras class, comma-separated, for messages. */
const char *clseq_layer_kinds_list(void);

/* Parses one spec token of length len (the index-th, for messages) into
 * its kind and config (spec.c). */
clseq_status clseq_parse_layer_token(const char *token, size_t len, int index,
                                     const clseq_layer_kind **kind, clseq_layer_config *cfg);

/* Parses spec's comma-separated tokens in order and calls each(ctx,
 * index, kind, cfg) for every one, stopping at the first failure (a bad
 * token's or each's status); *count gets the tokens visited. Both
 * clseq_parse_layers and clseq_add_layers read specs through it. */
typedef clseq_status (*clseq_spec_visit)(void *ctx, int index, const clseq_layer_kind *kind,
                                         const clseq_layer_config *cfg);
clseq_status clseq_spec_for_each(const char *spec, clseq_spec_visit each, void *ctx,
                                 int *count);

/* Spec fields: "3" or "3x2" into out[0..*count) (at most max ints, each
 * >= min), and a number; CLSEQ_E_ARG naming what and the text otherwise. */
clseq_status clseq_spec_dims(const char *text, const char *what, int max, int min, int *out,
                             int *count);
clseq_status clseq_spec_number(const char *text, const char *what, float *out);

/* "dense 2" (1-based, as the summary and messages count) into buf. */
void clseq_layer_label(const clseq_layer *l, char *buf, size_t size);

/* Shared by the layer files. */
/* A variable description (shape of rank dims' count, trainable or not). */
void clseq_variable_describe(clseq_variable_info *out, const char *name, int trainable, int rank,
                             const int *shape);
/* The activation's Keras name in cfg ("activation"), default linear. */
clseq_status clseq_config_get_activation(const clseq_layer_config *cfg, const char *what,
                                         clseq_activation *out);
/* Table entries for what many kinds share: no variables (a count of 0;
 * variable and init do nothing), no config values (decode refuses every
 * key, encode writes none), an output of the input's shape, and a
 * forward pass that copies the input to the output. */
int clseq_layer_no_variables(const clseq_layer *l);
void clseq_layer_no_variable(const clseq_layer *l, int index, clseq_variable_info *out);
void clseq_layer_no_init(const clseq_layer *l, clseq_rng *rng, float *const *vars);
clseq_status clseq_layer_decode_nothing(clseq_layer *l, const clseq_layer_config *cfg);
clseq_status clseq_layer_encode_nothing(const clseq_layer *l, clseq_layer_config *cfg);
clseq_status clseq_layer_same_shape(clseq_layer *l);
clseq_status clseq_layer_copy_forward(const clseq_layer *l, clseq_pass *p, int training);
/* Rows of the input's last axis in rows samples: rows times its leading
 * dimensions (1 per sample for a rank-1 input). */
int clseq_layer_positions(const clseq_layer *l, int rows);
/* Enqueues y = act(x) over rows x cols (softmax and log_softmax per
 * row); x may be y. */
clseq_status clseq_layer_activate(clseq_device *dev, clseq_activation act, cl_mem x, cl_mem y,
                                  int rows, int cols);
/* dL/dY -> dL/dX through act in place in d, from the outputs y and the
 * inputs x (x may be NULL unless clseq_activation_needs_input(act)). */
clseq_status clseq_layer_activate_backward(clseq_device *dev, clseq_activation act, cl_mem d,
                                           cl_mem y, cl_mem x, int rows, int cols);
/* 1 if act's derivative cannot be had from its output alone (gelu, silu). */
int clseq_activation_needs_input(clseq_activation act);
/* 1 if act works on whole rows (softmax, log_softmax), not elementwise. */
int clseq_activation_is_row(clseq_activation act);

/* 1 if cl/train_fused.cl runs act (everything but log_softmax and the
 * activations that need their inputs). */
int clseq_fused_activation(clseq_activation act);

/* For kinds that applies_activation, over M rows of N values:
 * where the layer's linear result z goes (p->pre when the pass keeps it,
 * else p->out), the activation the product may fuse into its epilogue
 * (linear when z must be kept or act is a row activation), and
 * finishing: act(z) into p->out when it was not fused. */
cl_mem clseq_layer_z_target(const clseq_layer *l, const clseq_pass *p);
clseq_activation clseq_layer_epilogue_act(const clseq_layer *l, const clseq_pass *p);
clseq_status clseq_layer_finish_activation(const clseq_layer *l, clseq_pass *p, int M, int N);
/* Backward: dL/d(out) in p->d_out into dL/dz in place (nothing when
 * p->d_out_is_dz). */
clseq_status clseq_layer_backward_activation(const clseq_layer *l, clseq_pass *p, int M, int N);

extern const clseq_layer_kind clseq_dense_kind;
extern const clseq_layer_kind clseq_activation_kind;
extern const clseq_layer_kind clseq_conv2d_kind;
extern const clseq_layer_kind clseq_max_pooling2d_kind;
extern const clseq_layer_kind clseq_average_pooling2d_kind;
extern const clseq_layer_kind clseq_global_average_pooling2d_kind;
extern const clseq_layer_kind clseq_global_max_pooling2d_kind;
extern const clseq_layer_kind clseq_flatten_kind;
extern const clseq_layer_kind clseq_reshape_kind;
extern const clseq_layer_kind clseq_dropout_kind;
extern const clseq_layer_kind clseq_batch_normalization_kind;

#endif
