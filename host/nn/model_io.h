/* What model readers and writers (io/) need from a model, without OpenCL:
 * layers as (Keras class, config), the input shape, the compile settings
 * and the optimizer's state. Variables themselves go through the public
 * clseq_get_variable / clseq_set_variable. */
#ifndef CLSEQ_MODEL_IO_H
#define CLSEQ_MODEL_IO_H

#include <stddef.h>
#include <stdint.h>

#include "clseq.h"
#include "nn/layer_config.h"

/* The input shape: returns the rank and fills dims[0..rank). */
int clseq_model_input_shape(const clseq_model *m, int *dims);
/* Layer i's config as its kind encodes it (Keras's names). */
clseq_status clseq_layer_get_config(const clseq_model *m, int layer, clseq_layer_config *out);
/* Appends a layer by Keras class name and config. Its variables start at
 * zero (the caller sets them); CLSEQ_E_ARG names an unknown class and
 * lists the known ones. */
clseq_status clseq_model_add_layer_config(clseq_model *m, const char *keras_class,
                                          const clseq_layer_config *cfg);
/* The values the variables of a keras_class layer with cfg would hold if
 * appended to m now, without appending it or allocating anything; fails
 * as clseq_model_add_layer_config would on a bad class, config or shape.
 * Model readers bound a layer by the bytes left before adding it. */
clseq_status clseq_model_layer_values(const clseq_model *m, const char *keras_class,
                                      const clseq_layer_config *cfg, size_t *values);
/* Layer i's Keras name as a fresh Keras Sequential would give it
 * ("dense", "dense_1", "conv2d", ...); what summaries print and what a
 * saved .keras file calls the layer. */
void clseq_model_layer_name(const clseq_model *m, int layer, char *buf, size_t size);
/* 1 if compiled. */
int clseq_model_is_compiled(const clseq_model *m);
/* The model's seed (clseq_model_set_seed). */
uint64_t clseq_model_seed(const clseq_model *m);

/* The optimizer's state, for exact resume: the step count and its slot
 * variables, each one float per trainable parameter (the parameter
 * vector's order: every trainable variable of every layer in turn).
 * SGD with momentum has "momentum"; Adam "m" and "v"; RMSprop "v". */
size_t clseq_model_trainable_count(const clseq_model *m);
int clseq_optimizer_slot_count(const clseq_model *m);
const char *clseq_optimizer_slot_name(const clseq_model *m, int slot);
clseq_status clseq_optimizer_get_slot(const clseq_model *m, int slot, float *out);
clseq_status clseq_optimizer_set_slot(clseq_model *m, int slot, const float *in);
long long clseq_optimizer_iterations(const clseq_model *m);
void clseq_optimizer_set_iterations(clseq_model *m, long long iterations);

#endif
