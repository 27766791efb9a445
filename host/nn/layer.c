/* Helpers every layer kind shares. */
#include <stdio.h>
#include <string.h>

#include "nn/layer.h"
#include "ops/ops.h"
#include "sys/error.h"

void clseq_layer_label(const clseq_layer *l, char *buf, size_t size)
{
    snprintf(buf, size, "%s layer %d", l->kind->name, l->index + 1);
}

void clseq_variable_describe(clseq_variable_info *out, const char *name, int trainable, int rank,
                             const int *shape)
{
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%s", name);
    out->trainable = trainable;
    out->rank = rank;
    out->count = 1;
    for (int i = 0; i < rank; i++) {
        out->shape[i] = shape[i];
        out->count *= (size_t)shape[i];
    }
}

int clseq_layer_no_variables(const clseq_layer *l)
{
    (void)l;
    return 0;
}

void clseq_layer_no_variable(const clseq_layer *l, int index, clseq_variable_info *out)
{
    (void)l, (void)index, (void)out;
}

void clseq_layer_no_init(const clseq_layer *l, clseq_rng *rng, float *const *vars)
{
    (void)l, (void)rng, (void)vars;
}

clseq_status clseq_layer_decode_nothing(clseq_layer *l, const clseq_layer_config *cfg)
{
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    return clseq_config_only(cfg, NULL, 0, what);
}

clseq_status clseq_layer_encode_nothing(const clseq_layer *l, clseq_layer_config *cfg)
{
    (void)l, (void)cfg;
    return CLSEQ_OK;
}

clseq_status clseq_layer_same_shape(clseq_layer *l)
{
    l->out = l->in;
    return CLSEQ_OK;
}

clseq_status clseq_layer_copy_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    (void)training;
    size_t bytes = (size_t)p->rows * (size_t)clseq_shape_size(&l->in) * sizeof(float);
    return clseq_buffer_copy(p->dev, p->in, 0, p->out, 0, bytes);
}

int clseq_layer_positions(const clseq_layer *l, int rows)
{
    return rows * (clseq_shape_size(&l->in) / clseq_shape_last(&l->in));
}

clseq_status clseq_config_get_activation(const clseq_layer_config *cfg, const char *what,
                                         clseq_activation *out)
{
    const char *name = NULL;
    *out = CLSEQ_LINEAR;
    if (!clseq_config_find(cfg, "activation"))
        return CLSEQ_OK;
    clseq_status s = clseq_config_get_string(cfg, "activation", what, &name);
    if (s == CLSEQ_OK && (s = clseq_activation_from_name(name, out)) != CLSEQ_OK)
        return clseq_fail_context(s, "%s: ", what);
    return s;
}

int clseq_activation_needs_input(clseq_activation act)
{
    return ACT_NEEDS_INPUT((int)act);
}

int clseq_activation_is_row(clseq_activation act)
{
    return act == CLSEQ_SOFTMAX || act == CLSEQ_LOG_SOFTMAX;
}

clseq_status clseq_layer_activate(clseq_device *dev, clseq_activation act, cl_mem x, cl_mem y,
                                  int rows, int cols)
{
    if (act == CLSEQ_SOFTMAX)
        return clseq_op_softmax(dev, x, y, rows, cols);
    if (act == CLSEQ_LOG_SOFTMAX)
        return clseq_op_log_softmax(dev, x, y, rows, cols);
    return clseq_op_activate(dev, x, y, rows * cols, act);
}

clseq_status clseq_layer_activate_backward(clseq_device *dev, clseq_activation act, cl_mem d,
                                           cl_mem y, cl_mem x, int rows, int cols)
{
    if (act == CLSEQ_SOFTMAX)
        return clseq_op_softmax_backward(dev, d, y, rows, cols);
    if (act == CLSEQ_LOG_SOFTMAX)
        return clseq_op_log_softmax_backward(dev, d, y, rows, cols);
    if (act == CLSEQ_LINEAR)
        return CLSEQ_OK;
    if (clseq_activation_needs_input(act) && !x)
        return clseq_fail(CLSEQ_E_STATE, "%s's derivative needs its inputs, which were not kept",
                          clseq_activation_name(act));
    return clseq_op_activation_backward(dev, d, y, x, rows * cols, act);
}

int clseq_fused_activation(clseq_activation act)
{
    return act != CLSEQ_LOG_SOFTMAX && !clseq_activation_needs_input(act);
}

cl_mem clseq_layer_z_target(const clseq_layer *l, const clseq_pass *p)
{
    (void)l;
    return p->pre ? p->pre : p->out;
}

clseq_activation clseq_layer_epilogue_act(const clseq_layer *l, const clseq_pass *p)
{
    return p->pre || clseq_activation_is_row(l->act) ? CLSEQ_LINEAR : l->act;
}

clseq_status clseq_layer_finish_activation(const clseq_layer *l, clseq_pass *p, int M, int N)
{
    if (p->pre)
        return clseq_layer_activate(p->dev, l->act, p->pre, p->out, M, N);
    if (clseq_activation_is_row(l->act))
        return clseq_layer_activate(p->dev, l->act, p->out, p->out, M, N);
    return CLSEQ_OK; /* fused into the product's epilogue */
}

clseq_status clseq_layer_backward_activation(const clseq_layer *l, clseq_pass *p, int M, int N)
{
    if (p->d_out_is_dz)
        return CLSEQ_OK;
    return clseq_layer_activate_backward(p->dev, l->act, p->d_out, p->out, p->pre, M, N);
}
