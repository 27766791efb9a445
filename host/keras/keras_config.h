/* Keras's JSON model description <-> a clseq model: the part of the Keras
 * file formats that is JSON (cJSON), apart from the containers (zip, HDF5)
 * and the weights, which keras_*.c files beside this one handle.
 *
 * Two dialects are read:
 *   - Keras 3's config.json inside a .keras zip: {"module": "keras",
 *     "class_name": "Sequential", "config": {"layers": [...]},
 *     "build_config": ..., "compile_config": {...}};
 *   - the legacy .h5's `model_config` attribute (Keras 2 / tf.keras, and
 *     Keras 3's own legacy writer): {"class_name": "Sequential", "config":
 *     {"layers": [...]}}, the input shape in an InputLayer or in the first
 *     layer's batch_input_shape, and the compile settings in a separate
 *     `training_config` attribute.
 * One is written: Keras 3's config.json.
 *
 * Compile settings (keras_compile.c): the nine optimizers with their
 * settings, weight decay and clipping; ExponentialDecay,
 * PiecewiseConstantDecay and CosineDecay learning rates, set as the
 * model's schedule; losses; the metrics clseq computes with their
 * threshold and k. Settings clseq lacks (another optimizer or schedule,
 * amsgrad, EMA, loss scaling, gradient accumulation, a loss from logits
 * or with label smoothing, another metric, metrics that disagree on the
 * one threshold or k, loss weights) do not fail a read: the model is left
 * uncompiled (it still predicts; the user compiles it) and compile_note
 * says why. All or nothing: a model is never compiled with part of its
 * file's settings. */
#ifndef CLSEQ_KERAS_CONFIG_H
#define CLSEQ_KERAS_CONFIG_H

#include <stddef.h>

#include "clseq.h"

enum {
    CLSEQ_KERAS_NAME = 128,
    CLSEQ_KERAS_MAX_LAYERS = 4096 /* entries of a Sequential's "layers" */
};

/* What a config read produces. */
typedef struct clseq_keras_config {
    clseq_model *model;     /* every layer added (variables zero, for the
                               caller to fill); compiled when the compile
                               settings are ones clseq has */
    int layer_count;        /* clseq layers, == the model's layer count */
    char (*layer_names)[CLSEQ_KERAS_NAME]; /* the file's name of each clseq
                               layer: where its weights are stored */
    char compile_note[256]; /* why the file's compile settings were not
                               restored; "" when restored or when the file
                               has none */
} clseq_keras_config;

/* Builds a model on ctx from a model config (either dialect) and, when
 * not NULL, a legacy training_config (the compile settings of an .h5;
 * Keras 3's config.json carries its own compile_config). where names the
 * file and member in messages. Malformed JSON is CLSEQ_E_FORMAT with the
 * byte offset; what clseq cannot run (functional or subclassed models, an
 * unknown layer class, an argument with a value clseq does not implement,
 * channels_first, a dtype other than float32) is CLSEQ_E_FORMAT naming
 * the layer, its class and the argument, and listing what is supported.
 * On failure *out is zeroed and nothing is left allocated. With ctx
 * NULL the JSON is parsed and every layer and compile setting mapped and
 * checked, but no model is built (no OpenCL: the fuzzer's entry); *out is
 * then zeroed on success too. */
clseq_status clseq_keras_read_config(clseq_ctx *ctx, const char *model_json, size_t model_len,
                                     const char *training_json, size_t training_len,
                                     const char *where, clseq_keras_config *out);
/* The same, refusing (CLSEQ_E_FORMAT, before allocating them) layers
 * whose variables would together hold more than max_values floats: a
 * caller that knows the weights' size bounds the memory a small config
 * can ask for (clseq_keras_read_config allows any size the model does). */
clseq_status clseq_keras_read_config_bounded(clseq_ctx *ctx, const char *model_json,
                                             size_t model_len, const char *training_json,
                                             size_t training_len, size_t max_values,
                                             const char *where, clseq_keras_config *out);
/* Frees the names (not the model) and zeroes *c. */
void clseq_keras_config_free(clseq_keras_config *c);

/* Keras 3's config.json for m (malloc'd, NUL-terminated; free() it): the Sequential
 * with an InputLayer, each layer under clseq_model_layer_name's name with
 * the arguments Keras 3.x writes for it, and, when m is compiled, its
 * compile_config (optimizer with its schedule, loss, metrics).
 * keras.saving.load_model accepts it. A model whose learning rate follows
 * a function schedule is CLSEQ_E_ARG: Keras cannot hold the function, and
 * writing the fixed rate instead would change how the saved model trains. */
clseq_status clseq_keras_write_config(const clseq_model *m, char **json);

#endif
