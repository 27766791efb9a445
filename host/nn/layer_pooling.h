/* The passes every pooling kind shares (nn/layer_pooling.c): the windowed
 * MaxPooling2D and AveragePooling2D, and their global forms
 * (nn/layer_global_pooling.c), which pool one window covering the image.
 * Each runs cl/pool.cl's max or average kernels over the kind's window;
 * the max kinds keep each window's choice in the saved buffer. */
#ifndef CLSEQ_LAYER_POOLING_H
#define CLSEQ_LAYER_POOLING_H

#include "nn/layer.h"

/* Table entries: forward, backward, and the max kinds' saved_floats. */
clseq_status clseq_pooling_forward(const clseq_layer *l, clseq_pass *p, int training);
clseq_status clseq_pooling_backward(const clseq_layer *l, clseq_pass *p);
size_t clseq_pooling_max_saved_floats(const clseq_layer *l, int rows);

/* The entries every pooling kind's table holds: no variables, and the
 * passes above. */
#define CLSEQ_POOLING_ENTRIES                                                              \
    .variable_count = clseq_layer_no_variables, .variable = clseq_layer_no_variable,         \
    .init = clseq_layer_no_init, .forward = clseq_pooling_forward,                           \
    .backward = clseq_pooling_backward

#endif
