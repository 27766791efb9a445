/* Keras's weight regularizers (L1, L2, L1L2 on kernels and biases): set
 * per variable, their penalty added to the loss and its gradient to the
 * variable's, as Keras 3 adds Layer.losses to the compiled loss
 * (keras/src/regularizers/regularizers.py; Trainer.compute_loss). */
#include <math.h>
#include <string.h>

#include "nn/model.h"
#include "ops/ops.h"

int clseq_model_regularized(const clseq_model *m)
{
    for (int v = 0; v < m->var_count; v++)
        if (m->vars[v].l1 != 0.0f || m->vars[v].l2 != 0.0f)
            return 1;
    return 0;
}

clseq_status clseq_regularizer_penalty(clseq_model *m, float scale, cl_mem out, int off)
{
    clseq_status s = CLSEQ_OK;
    for (int v = 0; v < m->var_count && s == CLSEQ_OK; v++) {
        const clseq_variable *var = &m->vars[v];
        if (var->l1 != 0.0f || var->l2 != 0.0f)
            s = clseq_op_regularizer_penalty(m->dev, m->params, (int)m->var_offset[v],
                                             (int)var->count, var->l1, var->l2, scale, out, off,
                                             off + STATS_PER_ROW);
    }
    return s;
}

clseq_status clseq_regularizer_grads(clseq_model *m)
{
    clseq_status s = CLSEQ_OK;
    for (int v = 0; v < m->var_count && s == CLSEQ_OK; v++) {
        const clseq_variable *var = &m->vars[v];
        if (var->l1 != 0.0f || var->l2 != 0.0f)
            s = clseq_op_regularizer_grads(m->dev, m->params, m->grads, (int)m->var_offset[v],
                                           (int)var->count, var->l1, var->l2);
    }
    return s;
}

/* The variable called name in layer (a trainable one: Keras regularizes
 * what the optimizer updates), or -1 after failing. */
static int find_variable(const clseq_model *m, int layer, const char *name, const char *what)
{
    if (!m || !name)
        return clseq_fail(CLSEQ_E_ARG, "%s: NULL model or variable name", what), -1;
    if (layer < 0 || layer >= m->layer_count)
        return clseq_fail(CLSEQ_E_ARG, "%s: layer %d out of range (the model has %d)", what,
                          layer, m->layer_count), -1;
    const clseq_layer *l = &m->layers[layer];
    for (int i = 0; i < l->variable_count; i++) {
        clseq_variable_info info;
        l->kind->variable(l, i, &info);
        if (strcmp(info.name, name) != 0)
            continue;
        if (!m->vars[l->first_variable + i].trainable)
            return clseq_fail(CLSEQ_E_ARG, "%s: layer %d (%s): '%s' is not trainable", what,
                              layer, l->kind->keras_class, name), -1;
        return l->first_variable + i;
    }
    return clseq_fail(CLSEQ_E_ARG, "%s: layer %d (%s) has no variable '%s'", what, layer,
                      l->kind->keras_class, name), -1;
}

clseq_status clseq_set_regularizer(clseq_model *m, int layer, const char *variable, float l1,
                                   float l2)
{
    static const char what[] = "clseq_set_regularizer";
    int v = find_variable(m, layer, variable, what);
    if (v < 0)
        return CLSEQ_E_ARG;
    if (m->in_fit)
        return clseq_model_check_idle(m, what);
    if (!(l1 >= 0.0f) || !(l2 >= 0.0f) || !isfinite(l1) || !isfinite(l2))
        return clseq_fail(CLSEQ_E_ARG, "%s: layer %d '%s': l1 %g and l2 %g must be finite and "
                          ">= 0", what, layer, variable, (double)l1, (double)l2);
    m->vars[v].l1 = l1;
    m->vars[v].l2 = l2;
    return CLSEQ_OK;
}

clseq_status clseq_get_regularizer(const clseq_model *m, int layer, const char *variable,
                                   float *l1, float *l2)
{
    int v = find_variable(m, layer, variable, "clseq_get_regularizer");
    if (v < 0)
        return CLSEQ_E_ARG;
    if (l1)
        *l1 = m->vars[v].l1;
    if (l2)
        *l2 = m->vars[v].l2;
    return CLSEQ_OK;
}
