/* STUB: replaced by the layer's implementation. */
#include "nn/layer.h"
#include "sys/error.h"

static clseq_status stub_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    (void)cfg;
    return clseq_fail(CLSEQ_E_STATE, "%s: not implemented yet", l->kind->keras_class);
}

const clseq_layer_kind clseq_dropout_kind = {
    .keras_class = "Dropout",
    .name = "dropout",
    .decode = stub_decode,
};
