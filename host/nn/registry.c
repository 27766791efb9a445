/* The registry of layer kinds: Keras class names and spec tokens to
 * kinds. A new kind is one line here (docs/design.md). */
#include <strings.h>

#include "nn/layer.h"

static const clseq_layer_kind *const kinds[] = {
    &clseq_dense_kind,
    &clseq_activation_kind,
    &clseq_conv2d_kind,
    &clseq_max_pooling2d_kind,
    &clseq_average_pooling2d_kind,
    &clseq_global_average_pooling2d_kind,
    &clseq_global_max_pooling2d_kind,
    &clseq_flatten_kind,
    &clseq_reshape_kind,
    &clseq_dropout_kind,
    &clseq_batch_normalization_kind,
};

enum { KIND_COUNT = sizeof kinds / sizeof kinds[0] };

const clseq_layer_kind *clseq_layer_kind_by_class(const char *keras_class)
{
    for (int i = 0; i < KIND_COUNT; i++)
        if (strcasecmp(kinds[i]->keras_class, keras_class) == 0)
            return kinds[i];
    return NULL;
}

const clseq_layer_kind *clseq_layer_kind_by_name(const char *name)
{
    for (int i = 0; i < KIND_COUNT; i++)
        if (strcasecmp(kinds[i]->name, name) == 0 ||
            (kinds[i]->alias && strcasecmp(kinds[i]->alias, name) == 0))
            return kinds[i];
    return NULL;
}

const char *clseq_layer_kinds_list(void)
{
    return "Dense, Activation, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, "
           "GlobalMaxPooling2D, Flatten, Reshape, Dropout, BatchNormalization";
}
