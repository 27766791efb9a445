/* The public clseq_add_* calls: each checks its arguments' form, writes
 * the layer's config under Keras's names and appends it through the
 * layer table (clseq_model_append), where the kind checks the values and
 * the shapes. clseq_add_layers does the same from a spec. */
#include <string.h>

#include "nn/model.h"
#include "sys/error.h"

static clseq_status check_can_add(const clseq_model *m, const char *what)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "%s: model is NULL", what);
    if (m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "%s: layer %d cannot be added after clseq_compile", what,
                          m->layer_count + 1);
    return CLSEQ_OK;
}

static clseq_status check_activation(clseq_activation act, const char *kind, int layer)
{
    if (!clseq_activation_name(act))
        return clseq_fail(CLSEQ_E_ARG, "%s layer %d: unknown activation code %d", kind, layer,
                          (int)act);
    return CLSEQ_OK;
}

static clseq_status check_padding(clseq_padding padding, const char *kind, int layer)
{
    if (padding != CLSEQ_PADDING_VALID && padding != CLSEQ_PADDING_SAME)
        return clseq_fail(CLSEQ_E_ARG, "%s layer %d: unknown padding code %d", kind, layer,
                          (int)padding);
    return CLSEQ_OK;
}

static const char *padding_name(clseq_padding padding)
{
    return padding == CLSEQ_PADDING_SAME ? "same" : "valid";
}

/* Appends kind with cfg after the checks; the config's own errors (a full
 * config cannot happen with these few values) surface from the kind. */
static clseq_status append(clseq_model *m, const clseq_layer_kind *kind,
                           const clseq_layer_config *cfg)
{
    return clseq_model_append(m, kind, cfg, 1);
}

clseq_status clseq_add_dense(clseq_model *m, int units, clseq_activation act)
{
    clseq_status s = check_can_add(m, "clseq_add_dense");
    if (s != CLSEQ_OK || (s = check_activation(act, "dense", m->layer_count + 1)) != CLSEQ_OK)
        return s;
    clseq_layer_config cfg = {0};
    clseq_config_put_int(&cfg, "units", units);
    clseq_config_put_string(&cfg, "activation", clseq_activation_name(act));
    return append(m, &clseq_dense_kind, &cfg);
}

clseq_status clseq_add_activation(clseq_model *m, clseq_activation act)
{
    clseq_status s = check_can_add(m, "clseq_add_activation");
    if (s != CLSEQ_OK || (s = check_activation(act, "activation", m->layer_count + 1)) != CLSEQ_OK)
        return s;
    clseq_layer_config cfg = {0};
    clseq_config_put_string(&cfg, "activation", clseq_activation_name(act));
    return append(m, &clseq_activation_kind, &cfg);
}

clseq_status clseq_add_conv2d(clseq_model *m, int filters, int kernel_h, int kernel_w,
                              int stride_h, int stride_w, clseq_padding padding,
                              clseq_activation act)
{
    clseq_status s = check_can_add(m, "clseq_add_conv2d");
    if (s != CLSEQ_OK || (s = check_activation(act, "conv2d", m->layer_count + 1)) != CLSEQ_OK ||
        (s = check_padding(padding, "conv2d", m->layer_count + 1)) != CLSEQ_OK)
        return s;
    int kernel[2] = {kernel_h, kernel_w}, strides[2] = {stride_h, stride_w}, one[2] = {1, 1};
    clseq_layer_config cfg = {0};
    clseq_config_put_int(&cfg, "filters", filters);
    clseq_config_put_ints(&cfg, "kernel_size", 2, kernel);
    clseq_config_put_ints(&cfg, "strides", 2, strides);
    clseq_config_put_string(&cfg, "padding", padding_name(padding));
    clseq_config_put_ints(&cfg, "dilation_rate", 2, one);
    clseq_config_put_string(&cfg, "activation", clseq_activation_name(act));
    clseq_config_put_int(&cfg, "use_bias", 1);
    return append(m, &clseq_conv2d_kind, &cfg);
}

static clseq_status add_pooling(clseq_model *m, const clseq_layer_kind *kind, const char *what,
                                int pool_h, int pool_w, int stride_h, int stride_w,
                                clseq_padding padding)
{
    clseq_status s = check_can_add(m, what);
    if (s != CLSEQ_OK || (s = check_padding(padding, kind->name, m->layer_count + 1)) != CLSEQ_OK)
        return s;
    /* strides 0: Keras's strides=None, the pool size */
    int pool[2] = {pool_h, pool_w};
    int strides[2] = {stride_h ? stride_h : pool_h, stride_w ? stride_w : pool_w};
    clseq_layer_config cfg = {0};
    clseq_config_put_ints(&cfg, "pool_size", 2, pool);
    clseq_config_put_ints(&cfg, "strides", 2, strides);
    clseq_config_put_string(&cfg, "padding", padding_name(padding));
    return append(m, kind, &cfg);
}

clseq_status clseq_add_max_pooling2d(clseq_model *m, int pool_h, int pool_w, int stride_h,
                                     int stride_w, clseq_padding padding)
{
    return add_pooling(m, &clseq_max_pooling2d_kind, "clseq_add_max_pooling2d", pool_h, pool_w,
                       stride_h, stride_w, padding);
}

clseq_status clseq_add_average_pooling2d(clseq_model *m, int pool_h, int pool_w, int stride_h,
                                         int stride_w, clseq_padding padding)
{
    return add_pooling(m, &clseq_average_pooling2d_kind, "clseq_add_average_pooling2d", pool_h,
                       pool_w, stride_h, stride_w, padding);
}

/* A layer without arguments. */
static clseq_status add_plain(clseq_model *m, const clseq_layer_kind *kind, const char *what)
{
    clseq_status s = check_can_add(m, what);
    clseq_layer_config cfg = {0};
    return s == CLSEQ_OK ? append(m, kind, &cfg) : s;
}

clseq_status clseq_add_global_average_pooling2d(clseq_model *m)
{
    return add_plain(m, &clseq_global_average_pooling2d_kind,
                     "clseq_add_global_average_pooling2d");
}

clseq_status clseq_add_global_max_pooling2d(clseq_model *m)
{
    return add_plain(m, &clseq_global_max_pooling2d_kind, "clseq_add_global_max_pooling2d");
}

clseq_status clseq_add_flatten(clseq_model *m)
{
    return add_plain(m, &clseq_flatten_kind, "clseq_add_flatten");
}

clseq_status clseq_add_reshape(clseq_model *m, int rank, const int *dims)
{
    clseq_status s = check_can_add(m, "clseq_add_reshape");
    if (s != CLSEQ_OK)
        return s;
    if (!dims || rank < 1 || rank > CLSEQ_MAX_RANK)
        return clseq_fail(CLSEQ_E_ARG, "reshape layer %d: %s", m->layer_count + 1,
                          dims ? "rank must be in 1..3" : "dims is NULL");
    clseq_layer_config cfg = {0};
    clseq_config_put_ints(&cfg, "target_shape", rank, dims);
    return append(m, &clseq_reshape_kind, &cfg);
}

clseq_status clseq_add_dropout(clseq_model *m, float rate)
{
    clseq_status s = check_can_add(m, "clseq_add_dropout");
    clseq_layer_config cfg = {0};
    clseq_config_put_float(&cfg, "rate", rate);
    return s == CLSEQ_OK ? append(m, &clseq_dropout_kind, &cfg) : s;
}

clseq_status clseq_add_batch_normalization(clseq_model *m, float momentum, float epsilon)
{
    clseq_status s = check_can_add(m, "clseq_add_batch_normalization");
    clseq_layer_config cfg = {0};
    clseq_config_put_float(&cfg, "momentum", momentum);
    clseq_config_put_float(&cfg, "epsilon", epsilon);
    clseq_config_put_int(&cfg, "center", 1);
    clseq_config_put_int(&cfg, "scale", 1);
    return s == CLSEQ_OK ? append(m, &clseq_batch_normalization_kind, &cfg) : s;
}

/* clseq_add_layers' visitor: appends each layer to the model in ctx. */
static clseq_status append_layer(void *ctx, int index, const clseq_layer_kind *kind,
                                 const clseq_layer_config *cfg)
{
    (void)index;
    return append(ctx, kind, cfg);
}

clseq_status clseq_add_layers(clseq_model *m, const char *spec)
{
    clseq_status s = check_can_add(m, "clseq_add_layers");
    if (s != CLSEQ_OK)
        return s;
    if (!spec)
        return clseq_fail(CLSEQ_E_ARG, "clseq_add_layers: spec is NULL");
    int count;
    return clseq_spec_for_each(spec, append_layer, m, &count);
}
