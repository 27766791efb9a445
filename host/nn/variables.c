/* Reading and writing layers' variables, and what the API tells about
 * layers: all through the layer table. */
#include <stdio.h>
#include <string.h>

#include "nn/model.h"

int clseq_layer_count(const clseq_model *m)
{
    return m ? m->layer_count : 0;
}

int clseq_model_input_dim(const clseq_model *m)
{
    return m ? m->input_dim : 0;
}

int clseq_model_output_dim(const clseq_model *m)
{
    return m ? clseq_model_output_size(m) : 0;
}

static clseq_status check_layer_index(const clseq_model *m, int layer, const char *what)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "%s: model is NULL", what);
    if (layer < 0 || layer >= m->layer_count)
        return clseq_fail(CLSEQ_E_ARG, "%s: layer %d out of range (the model has %d layer%s)",
                          what, layer, m->layer_count, m->layer_count == 1 ? "" : "s");
    return CLSEQ_OK;
}

clseq_status clseq_layer_info(const clseq_model *m, int layer, int *input_dim, int *units,
                              clseq_activation *act, int *has_weights)
{
    clseq_status s = check_layer_index(m, layer, "clseq_layer_info");
    if (s != CLSEQ_OK)
        return s;
    const clseq_layer *l = &m->layers[layer];
    if (input_dim)
        *input_dim = clseq_shape_size(&l->in);
    if (units)
        *units = clseq_shape_size(&l->out);
    if (act)
        *act = l->act;
    if (has_weights)
        *has_weights = l->variable_count > 0;
    return CLSEQ_OK;
}

const char *clseq_layer_class(const clseq_model *m, int layer)
{
    if (!m || layer < 0 || layer >= m->layer_count)
        return NULL;
    return m->layers[layer].kind->keras_class;
}

clseq_status clseq_layer_output_shape(const clseq_model *m, int layer, int *rank, int *dims)
{
    clseq_status s = check_layer_index(m, layer, "clseq_layer_output_shape");
    if (s != CLSEQ_OK)
        return s;
    if (!rank || !dims)
        return clseq_fail(CLSEQ_E_ARG, "clseq_layer_output_shape: rank or dims is NULL");
    const clseq_shape *out = &m->layers[layer].out;
    *rank = out->rank;
    for (int i = 0; i < out->rank; i++)
        dims[i] = out->dims[i];
    return CLSEQ_OK;
}

int clseq_variable_count(const clseq_model *m, int layer)
{
    if (!m || layer < 0 || layer >= m->layer_count)
        return 0;
    return m->layers[layer].variable_count;
}

static clseq_status check_variable(const clseq_model *m, int layer, int index, const char *what)
{
    clseq_status s = check_layer_index(m, layer, what);
    if (s == CLSEQ_OK && (index < 0 || index >= m->layers[layer].variable_count))
        return clseq_fail(CLSEQ_E_ARG, "%s: layer %d (%s) has %d variable%s; no variable %d",
                          what, layer, m->layers[layer].kind->keras_class,
                          m->layers[layer].variable_count,
                          m->layers[layer].variable_count == 1 ? "" : "s", index);
    return s;
}

clseq_status clseq_get_variable_info(const clseq_model *m, int layer, int index,
                                     clseq_variable_info *out)
{
    clseq_status s = check_variable(m, layer, index, "clseq_get_variable_info");
    if (s != CLSEQ_OK)
        return s;
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_get_variable_info: out is NULL");
    const clseq_layer *l = &m->layers[layer];
    l->kind->variable(l, index, out);
    return CLSEQ_OK;
}

clseq_status clseq_get_variable(const clseq_model *m, int layer, int index, float *out)
{
    clseq_status s = check_variable(m, layer, index, "clseq_get_variable");
    if (s != CLSEQ_OK)
        return s;
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_get_variable: out is NULL");
    if ((s = clseq_model_sync_host(m)) != CLSEQ_OK)
        return s;
    int var = m->layers[layer].first_variable + index;
    memcpy(out, clseq_variable_host(m, var), m->vars[var].count * sizeof(float));
    return CLSEQ_OK;
}

/* CLSEQ_E_NUMERIC naming the first non-finite value of a layer's variable
 * as "caller: layer L NAME row R column C", rows being its first axis. */
static clseq_status check_variable_finite(const clseq_model *m, int layer, int index,
                                          const float *in, const char *caller)
{
    const clseq_layer *l = &m->layers[layer];
    clseq_variable_info info;
    l->kind->variable(l, index, &info);
    int rows = info.rank > 1 ? info.shape[0] : 1;
    char what[96];
    snprintf(what, sizeof what, "%s: layer %d %s", caller, layer, info.name);
    return clseq_check_finite(in, (size_t)rows, (int)(info.count / (size_t)rows), what);
}

/* Copies in over a variable's host values (checked by the caller). */
static clseq_status write_variable(clseq_model *m, int layer, int index, const float *in)
{
    clseq_status s = clseq_model_sync_host(m);
    if (s != CLSEQ_OK)
        return s;
    int var = m->layers[layer].first_variable + index;
    memcpy(clseq_variable_host(m, var), in, m->vars[var].count * sizeof(float));
    m->device_stale = 1;
    return CLSEQ_OK;
}

clseq_status clseq_set_variable(clseq_model *m, int layer, int index, const float *in)
{
    clseq_status s = check_variable(m, layer, index, "clseq_set_variable");
    if (s == CLSEQ_OK)
        s = clseq_model_check_idle(m, "clseq_set_variable");
    if (s != CLSEQ_OK)
        return s;
    if (!in)
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_variable: in is NULL");
    if ((s = check_variable_finite(m, layer, index, in, "clseq_set_variable")) != CLSEQ_OK)
        return s;
    return write_variable(m, layer, index, in);
}

/* The layer's (kernel, bias) variable indices, if it has exactly those. */
static clseq_status kernel_and_bias(const clseq_model *m, int layer, const char *what)
{
    clseq_status s = check_layer_index(m, layer, what);
    if (s != CLSEQ_OK)
        return s;
    const clseq_layer *l = &m->layers[layer];
    clseq_variable_info k, b;
    if (l->variable_count == 2) {
        l->kind->variable(l, 0, &k);
        l->kind->variable(l, 1, &b);
        if (strcmp(k.name, "kernel") == 0 && strcmp(b.name, "bias") == 0)
            return CLSEQ_OK;
    }
    if (l->variable_count == 0)
        return clseq_fail(CLSEQ_E_ARG, "%s: layer %d (%s %s) has no weights", what, layer,
                          clseq_activation_name(l->act), l->kind->name);
    return clseq_fail(CLSEQ_E_ARG, "%s: layer %d (%s) has no (kernel, bias) pair; use "
                      "clseq_get_variable", what, layer, l->kind->keras_class);
}

clseq_status clseq_get_weights(const clseq_model *m, int layer, float *kernel, float *bias)
{
    clseq_status s = kernel_and_bias(m, layer, "clseq_get_weights");
    if (s == CLSEQ_OK && kernel)
        s = clseq_get_variable(m, layer, 0, kernel);
    if (s == CLSEQ_OK && bias)
        s = clseq_get_variable(m, layer, 1, bias);
    return s;
}

clseq_status clseq_set_weights(clseq_model *m, int layer, const float *kernel, const float *bias)
{
    clseq_status s = kernel_and_bias(m, layer, "clseq_set_weights");
    if (s == CLSEQ_OK)
        s = clseq_model_check_idle(m, "clseq_set_weights");
    if (s != CLSEQ_OK)
        return s;
    if (!kernel || !bias)
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_weights: layer %d: kernel and bias are required",
                          layer);
    /* both checked before either is written: a bad bias leaves the kernel */
    if ((s = check_variable_finite(m, layer, 0, kernel, "clseq_set_weights")) != CLSEQ_OK ||
        (s = check_variable_finite(m, layer, 1, bias, "clseq_set_weights")) != CLSEQ_OK ||
        (s = write_variable(m, layer, 0, kernel)) != CLSEQ_OK)
        return s;
    return write_variable(m, layer, 1, bias);
}
