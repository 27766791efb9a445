/* STUB: replaced by the layer's implementation. */
#include "nn/layer.h"
#include "sys/error.h"

static clseq_status stub_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    (void)cfg;
    return clseq_fail(CLSEQ_E_STATE, "%s: not implemented yet", l->kind->keras_class);
}

const clseq_layer_kind clseq_flatten_kind = {
    .keras_class = "Flatten",
    .name = "flatten",
    .decode = stub_decode,
};

const clseq_layer_kind clseq_reshape_kind = {
    .keras_class = "Reshape",
    .name = "reshape",
    .decode = stub_decode,
};
