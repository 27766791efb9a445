/* STUB: replaced by the layer's implementation. */
#include "nn/layer.h"
#include "sys/error.h"

static clseq_status stub_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    (void)cfg;
    return clseq_fail(CLSEQ_E_STATE, "%s: not implemented yet", l->kind->keras_class);
}

const clseq_layer_kind clseq_global_average_pooling2d_kind = {
    .keras_class = "GlobalAveragePooling2D",
    .name = "global_average_pooling2d",
    .alias = "globalavgpool2d",
    .decode = stub_decode,
};

const clseq_layer_kind clseq_global_max_pooling2d_kind = {
    .keras_class = "GlobalMaxPooling2D",
    .name = "global_max_pooling2d",
    .alias = "globalmaxpool2d",
    .decode = stub_decode,
};
