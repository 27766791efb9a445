/* GlobalAveragePooling2D and GlobalMaxPooling2D: (H, W, C) to (C), the
 * mean or the largest value of each channel over the image (Keras's
 * keepdims=False, channels last; the layers take no other settings).
 * Each is the pooling kernels' case of one window covering the image, so
 * (1, 1, C) outputs are exactly the (C) layout: the windowed kinds' passes
 * run them (nn/layer_pooling.h), and the max's gradient likewise goes to
 * the first maximum in row-major order, through the choice saved in
 * forward (see layer_pooling.c). */
#include "nn/layer_pooling.h"
#include "nn/window.h"
#include "sys/error.h"

/* "globalavgpool2d" / "globalmaxpool2d": no fields. */
static clseq_status global_parse_spec(const char *const *fields, int count,
                                      clseq_layer_config *cfg)
{
    (void)fields, (void)cfg;
    if (count)
        return clseq_fail(CLSEQ_E_ARG, "global pooling takes no fields");
    return CLSEQ_OK;
}

static clseq_status global_output_shape(clseq_layer *l)
{
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    clseq_status s = clseq_window_check_input(l, what);
    if (s == CLSEQ_OK)
        l->out = clseq_shape_flat(l->in.dims[2]);
    return s;
}

const clseq_layer_kind clseq_global_average_pooling2d_kind = {
    .keras_class = "GlobalAveragePooling2D",
    .name = "global_average_pooling2d",
    .alias = "globalavgpool2d",
    .decode = clseq_layer_decode_nothing,
    .encode = clseq_layer_encode_nothing,
    .parse_spec = global_parse_spec,
    .output_shape = global_output_shape,
    CLSEQ_POOLING_ENTRIES,
};

const clseq_layer_kind clseq_global_max_pooling2d_kind = {
    .keras_class = "GlobalMaxPooling2D",
    .name = "global_max_pooling2d",
    .alias = "globalmaxpool2d",
    .decode = clseq_layer_decode_nothing,
    .encode = clseq_layer_encode_nothing,
    .parse_spec = global_parse_spec,
    .output_shape = global_output_shape,
    .saved_floats = clseq_pooling_max_saved_floats,
    CLSEQ_POOLING_ENTRIES,
};
