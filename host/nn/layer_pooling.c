/* STUB: replaced by the layer's implementation. */
#include "nn/layer.h"
#include "sys/error.h"

static clseq_status stub_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    (void)cfg;
    return clseq_fail(CLSEQ_E_STATE, "%s: not implemented yet", l->kind->keras_class);
}

const clseq_layer_kind clseq_max_pooling2d_kind = {
    .keras_class = "MaxPooling2D",
    .name = "max_pooling2d",
    .alias = "maxpool2d",
    .decode = stub_decode,
};

const clseq_layer_kind clseq_average_pooling2d_kind = {
    .keras_class = "AveragePooling2D",
    .name = "average_pooling2d",
    .alias = "avgpool2d",
    .decode = stub_decode,
};
