/* Keras's weights <-> a clseq model's variables and optimizer state
 * (keras_paths.c, keras_weights.c, keras_legacy.c, keras_optimizer.c).
 *
 * Keras 3's model.weights.h5 (saving_lib.py, H5IOStore):
 *   layers/<path>/vars/<i>  a layer's variables, trainable ones first, each
 *                           in creation order (Layer.save_own_variables);
 *                           <path> is the snake-case class name, made
 *                           unique in model order (dense, dense_1, ...);
 *                           the vars group's "name" attribute holds the
 *                           layer's name
 *   optimizer/vars/<i>      0 iterations (integer scalar), 1 learning_rate
 *                           (float32 scalar), then for each trainable
 *                           variable in model order its slots in the
 *                           optimizer's build order (Adam: momentum,
 *                           velocity; SGD with momentum: momentum; RMSprop:
 *                           velocity); only 0 and 1 before the first step
 *   vars                    the Sequential's own variables: none
 * The legacy .h5 (legacy_h5_format.py) keeps the same order of variables
 * in model_weights/<layer name>/<weight name>, listed by the attributes
 * layer_names (on model_weights) and weight_names (on each layer group),
 * and the optimizer's variables in optimizer_weights, listed by its
 * weight_names attribute. Every shape must equal the clseq variable's. */
#ifndef CLSEQ_KERAS_WEIGHTS_H
#define CLSEQ_KERAS_WEIGHTS_H

#include <stddef.h>

#include "clseq.h"
#include "keras/keras_config.h"
#include "keras/keras_h5.h"

enum { CLSEQ_KERAS_PATH = CLSEQ_KERAS_NAME + 32 };

/* Keras's naming.to_snake_case: "Conv2D" -> "conv2d", "RMSprop" ->
 * "rm_sprop", "GlobalAveragePooling2D" -> "global_average_pooling2d". */
void clseq_keras_snake_case(const char *name, char *buf, size_t size);

/* Each clseq layer's group in a Keras 3 weights file ("layers/dense_1"),
 * from config.json's layer classes and the config reader's layer names. */
clseq_status clseq_keras_layer_paths(const clseq_keras_config *kc, const char *config_json,
                                     size_t config_len, const char *where,
                                     char (*paths)[CLSEQ_KERAS_PATH]);

/* Sets every variable of kc's model from a Keras 3 weights file, and when
 * the model is compiled, the optimizer's iterations, learning rate and
 * slots. */
clseq_status clseq_keras_read_weights(clseq_h5 *h, clseq_model *m,
                                      char (*paths)[CLSEQ_KERAS_PATH]);
/* The same from a legacy .h5's model_weights and optimizer_weights. */
clseq_status clseq_keras_read_legacy_weights(clseq_h5 *h, clseq_model *m);
/* Writes m's variables and, when compiled, its optimizer's state in Keras
 * 3's layout. */
clseq_status clseq_keras_write_weights(const clseq_model *m, clseq_h5 *h);
/* Writes optimizer/vars (keras_optimizer.c); m is compiled. */
clseq_status clseq_keras_write_optimizer(const clseq_model *m, clseq_h5 *h);

/* ---- shared by the readers (keras_weights.c) ---- */

/* A layer's variable indices in Keras's order: trainable ones, then the
 * others, each in the layer's own order; returns how many. */
int clseq_keras_variable_order(const clseq_model *m, int layer, int *order, int capacity);
/* Reads dataset path into variable (layer, index) after checking that its
 * shape is the variable's exactly; label names the layer in messages. */
clseq_status clseq_keras_read_variable(clseq_h5 *h, const char *path, clseq_model *m, int layer,
                                       int index, const char *label);
/* How many variables Keras's optimizer has for m once built (0 if m is not
 * compiled): iterations, learning rate, the slots of every trainable
 * variable, and Nadam's u_product. */
size_t clseq_keras_optimizer_size(const clseq_model *m);
/* Sets the optimizer's state from the datasets group/names[0..count), in
 * Keras's order: iterations, learning rate, slots. */
clseq_status clseq_keras_read_optimizer(clseq_h5 *h, clseq_model *m, const char *group,
                                        char *const *names, size_t count);

#endif
