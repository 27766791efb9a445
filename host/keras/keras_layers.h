/* Inside host/keras/: one Keras layer's JSON <-> a clseq layer config
 * (keras_layers.c), the compile settings (keras_compile.c), and the small
 * JSON helpers both use. Not for use outside host/keras/. */
#ifndef CLSEQ_KERAS_LAYERS_H
#define CLSEQ_KERAS_LAYERS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "clseq.h"
#include "keras/keras_config.h"
#include "nn/layer_config.h"

/* ---- JSON helpers ---------------------------------------------------------- */

/* obj's member key (case-sensitive, as Python's dicts), NULL if absent or
 * obj is not an object. */
const cJSON *clseq_keras_member(const cJSON *obj, const char *key);
/* 1 and *out if v is an integral number in int's range. */
int clseq_keras_json_int(const cJSON *v, int *out);
/* 1 and *out (0 or 1) if v is true or false (or, as old writers did, the
 * number 0 or 1). */
int clseq_keras_json_bool(const cJSON *v, int *out);
/* At most size - 1 characters of v's JSON text into buf, "..." marking a
 * cut; "(absent)" for NULL. For messages. */
void clseq_keras_json_text(const cJSON *v, char *buf, size_t size);
/* 1 if a dtype is float32: absent, null, "float32", or a dtype policy
 * dict (Keras 3's DTypePolicy, Keras 2's Policy) named "float32". */
int clseq_keras_dtype_is_float32(const cJSON *dtype);
/* The name of a serialized Keras function or plain name: v itself when a
 * string, else a dict's "config" when its class_name is "function"
 * (serialization_lib.serialize_keras_object of a function), else NULL. */
const char *clseq_keras_function_name(const cJSON *v);

/* ---- layers ---------------------------------------------------------------- */

/* One entry of a Sequential's "layers", as read. */
typedef struct clseq_keras_layer {
    char keras_class[CLSEQ_KERAS_NAME]; /* "Dense", "InputLayer", ... */
    char name[CLSEQ_KERAS_NAME];        /* config.name ("" if absent) */
    int is_input;                       /* an InputLayer: no clseq layer */
    int rank;                           /* > 0: a shape given (InputLayer's
                                           batch_shape, a first layer's
                                           batch_input_shape), per sample */
    int dims[CLSEQ_MAX_RANK];
    clseq_layer_config cfg;             /* the clseq config (not InputLayer) */
} clseq_keras_layer;

/* Reads layers[index] of the file where. in_rank is the rank of the
 * layer's input (0 if unknown), for BatchNormalization's axis. Refuses,
 * as CLSEQ_E_FORMAT naming the layer, its class and the argument, an
 * unknown class, an argument clseq does not implement, a value other than
 * the one clseq computes with, and a custom (registered) class. */
clseq_status clseq_keras_layer_read(const cJSON *layer, int index, int in_rank, const char *where,
                                    clseq_keras_layer *out);
/* The classes clseq_keras_layer_read knows, for messages. */
const char *clseq_keras_layer_classes(void);
/* Parses a Keras batch shape [batch, d1, ...] (batch null or a number)
 * into a per-sample shape; what names it in messages (CLSEQ_E_FORMAT). */
clseq_status clseq_keras_read_batch_shape(const cJSON *v, const char *what, int *rank,
                                          int *dims);

/* Keras 3's DTypePolicy dict for float32. */
cJSON *clseq_keras_dtype_policy(void);
/* [null, dims...]: a batch shape. */
cJSON *clseq_keras_shape_json(int rank, const int *dims);
/* A float as JSON with the fewest digits that read back as the same float
 * (0.99f as 0.99, as Python writes the float Keras holds). */
cJSON *clseq_keras_float_json(float f);
/* Keras 3's serialized layer {"module": "keras.layers", "class_name", ...}
 * for layer of m, under its clseq_model_layer_name. */
clseq_status clseq_keras_layer_write(const clseq_model *m, int layer, cJSON **out);

/* ---- compile settings ------------------------------------------------------ */

typedef struct clseq_keras_compile {
    clseq_optimizer optimizer;    /* with a schedule, learning_rate is its value at step 0 */
    clseq_loss loss;
    unsigned metrics;             /* CLSEQ_METRIC_* bits */
    clseq_metric_options metric_options; /* the threshold and k the metrics set */
    int scheduled;                /* 1: the learning rate follows schedule */
    clseq_lr_schedule schedule;   /* exponential, piecewise or cosine */
} clseq_keras_compile;

/* Reads a Keras 3 compile_config or a legacy training_config (its
 * optimizer under "optimizer_config"). Returns 1 with *out filled when
 * clseq has every setting; 0 with the reason in note otherwise (never an
 * error: a model whose compile settings clseq lacks still predicts).
 * output_dim (0 if unknown) decides whether a named accuracy metric is
 * the one clseq computes. Whoever compiles applies out->metric_options
 * and, when out->scheduled, out->schedule (both already checked). */
int clseq_keras_compile_read(const cJSON *config, int output_dim, clseq_keras_compile *out,
                             char *note, size_t note_size);
/* Keras 3's compile_config for a compiled m: its optimizer (the schedule
 * as learning_rate when it has one), loss and metrics. A function
 * schedule has no Keras form: CLSEQ_E_ARG saying so (writing a fixed rate
 * instead would change how the saved model trains). */
clseq_status clseq_keras_compile_write(const clseq_model *m, cJSON **out);

/* Why compile settings cannot be restored, into note (vsnprintf); returns 0. */
int clseq_keras_note(char *note, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "WHAT: KEY is VALUE; clseq supports only SUPPORTED" into note; returns 0. */
int clseq_keras_note_value(char *note, size_t size, const char *what, const char *key,
                           const cJSON *v, const char *supported);

/* A serialized ExponentialDecay, PiecewiseConstantDecay or CosineDecay
 * (keras_schedule.c) into *out, checked as clseq_set_lr_schedule checks
 * it; 1, or 0 with the reason in note (what names the optimizer). */
int clseq_keras_schedule_read(const cJSON *v, const char *what, clseq_lr_schedule *out,
                              char *note, size_t size);
/* Keras 3's serialized schedule for s; CLSEQ_E_ARG for a function schedule. */
clseq_status clseq_keras_schedule_write(const clseq_lr_schedule *s, cJSON **out);

/* Compile settings' "metrics" (keras_metrics.c: null, one metric, a list,
 * or Keras 2's list per output) into bits and the threshold and k they
 * set; 1, or 0 with the reason in note. */
int clseq_keras_metrics_read(const cJSON *v, clseq_loss loss, int output_dim, unsigned *bits,
                             clseq_metric_options *opt, char *note, size_t size);
/* The "metrics" Keras 3 writes for bits: null when none, else a list of
 * names, a metric as its serialized class when opt differs from the
 * default its name implies. *ok becomes 0 when out of memory. */
cJSON *clseq_keras_metrics_write(unsigned bits, const clseq_metric_options *opt, int *ok);

#endif
