/* The layer-by-layer device passes: workspace buffers, forward, loss,
 * backward and the optimizer step. Everything here only enqueues work. */
#include <math.h>
#include <stdlib.h>

#include "model.h"
#include "ops.h"
#include "train.h"

void clseq_workspace_release(clseq_model *m)
{
    clseq_workspace *w = &m->work;
    clseq_buffer_release(&w->input);
    clseq_buffer_release(&w->target);
    clseq_buffer_release(&w->stats);
    clseq_buffer_release(&w->delta[0]);
    clseq_buffer_release(&w->delta[1]);
    for (int i = 0; i < w->layers; i++)
        clseq_buffer_release(&w->outputs[i]);
    free(w->outputs);
    w->outputs = NULL;
    w->layers = 0;
    w->rows = 0;
}

static int widest_layer(const clseq_model *m)
{
    int widest = m->input_dim;
    for (int i = 0; i < m->layer_count; i++)
        if (m->layers[i].units > widest)
            widest = m->layers[i].units;
    return widest;
}

/* rows x cols floats, or CLSEQ_E_SHAPE if that overflows the int indexing
 * the kernels use. */
static clseq_status matrix_buffer(clseq_model *m, int rows, int cols, cl_mem *out)
{
    size_t count;
    if (clseq_mul_overflows((size_t)rows, (size_t)cols, &count) || count > (size_t)INT32_MAX)
        return clseq_fail(CLSEQ_E_SHAPE, "a %d x %d work buffer exceeds 2^31 elements", rows,
                          cols);
    return clseq_buffer_create(m->ctx, count * sizeof(float), out);
}

clseq_status clseq_workspace_reserve(clseq_model *m, int rows)
{
    clseq_workspace *w = &m->work;
    if (w->rows >= rows)
        return CLSEQ_OK;
    clseq_workspace_release(m);
    clseq_status s;
    w->outputs = calloc((size_t)m->layer_count, sizeof *w->outputs);
    if (!w->outputs)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for the workspace");
    w->layers = m->layer_count;
    int widest = widest_layer(m);
    if ((s = matrix_buffer(m, rows, m->input_dim, &w->input)) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, widest, &w->target)) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, CLSEQ_STATS_PER_ROW, &w->stats)) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, widest, &w->delta[0])) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, widest, &w->delta[1])) != CLSEQ_OK)
        goto fail;
    for (int i = 0; i < m->layer_count; i++)
        if ((s = matrix_buffer(m, rows, m->layers[i].units, &w->outputs[i])) != CLSEQ_OK)
            goto fail;
    w->rows = rows;
    return CLSEQ_OK;
fail:
    clseq_workspace_release(m);
    return clseq_fail_context(s, "workspace for %d rows: ", rows);
}

clseq_status clseq_forward(clseq_model *m, int rows)
{
    clseq_ctx *ctx = m->ctx;
    cl_mem in = m->work.input;
    clseq_status s = CLSEQ_OK;
    for (int i = 0; i < m->layer_count && s == CLSEQ_OK; i++) {
        const clseq_layer *l = &m->layers[i];
        cl_mem out = m->work.outputs[i];
        int softmax = l->act == CLSEQ_SOFTMAX;
        if (l->dense) {
            s = clseq_op_gemm(ctx, 0, 0, rows, l->units, l->input_dim,
                              (clseq_mat){in, 0, l->input_dim},
                              (clseq_mat){m->params, (int)l->kernel_off, l->units},
                              (clseq_mat){out, 0, l->units},
                              (clseq_mat){m->params, (int)l->bias_off, 0},
                              softmax ? CLSEQ_LINEAR : l->act);
            if (s == CLSEQ_OK && softmax)
                s = clseq_op_softmax(ctx, out, out, rows, l->units);
        } else if (softmax) {
            s = clseq_op_softmax(ctx, in, out, rows, l->units);
        } else {
            s = clseq_op_activate(ctx, in, out, rows * l->units, l->act);
        }
        in = out;
    }
    return s;
}

int clseq_accuracy_kind(const clseq_model *m)
{
    if (m->loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY)
        return CLSEQ_ACC_SPARSE;
    if (m->loss == CLSEQ_BINARY_CROSSENTROPY || clseq_model_output_dim(m) == 1)
        return CLSEQ_ACC_BINARY;
    return CLSEQ_ACC_CATEGORICAL;
}

clseq_status clseq_loss_stats(clseq_model *m, int rows, cl_mem totals, int want_grad)
{
    const clseq_layer *last = &m->layers[m->layer_count - 1];
    clseq_status s = clseq_op_loss_rows(m->ctx, m->work.outputs[m->layer_count - 1],
                                        m->work.target, rows, last->units, m->loss,
                                        clseq_accuracy_kind(m), 1.0f / (float)rows,
                                        want_grad ? m->work.delta[0] : NULL, m->work.stats);
    if (s != CLSEQ_OK)
        return s;
    return clseq_op_sum_columns(m->ctx, m->work.stats, rows, CLSEQ_STATS_PER_ROW, totals, 0, 1);
}

/* Whether the loss already gave dL/dZ through the last layer's activation
 * (softmax or sigmoid with a cross-entropy). */
static int loss_includes_activation(const clseq_model *m)
{
    return m->loss == CLSEQ_CATEGORICAL_CROSSENTROPY ||
           m->loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY ||
           m->loss == CLSEQ_BINARY_CROSSENTROPY;
}

/* dL/dA -> dL/dZ through layer i's activation, in place. */
static clseq_status activation_backward(clseq_model *m, int i, cl_mem d, int rows)
{
    const clseq_layer *l = &m->layers[i];
    if (l->act == CLSEQ_SOFTMAX)
        return clseq_op_softmax_backward(m->ctx, d, m->work.outputs[i], rows, l->units);
    if (l->act == CLSEQ_LINEAR)
        return CLSEQ_OK;
    return clseq_op_activation_backward(m->ctx, d, m->work.outputs[i], rows * l->units, l->act);
}

clseq_status clseq_backward(clseq_model *m, int rows)
{
    clseq_ctx *ctx = m->ctx;
    int cur = 0; /* work.delta[cur] holds the gradient at layer i's output */
    clseq_status s = CLSEQ_OK;
    for (int i = m->layer_count - 1; i >= 0 && s == CLSEQ_OK; i--) {
        const clseq_layer *l = &m->layers[i];
        cl_mem d = m->work.delta[cur];
        cl_mem in = i > 0 ? m->work.outputs[i - 1] : m->work.input;
        if (!(i == m->layer_count - 1 && loss_includes_activation(m)))
            s = activation_backward(m, i, d, rows);
        if (s != CLSEQ_OK || !l->dense)
            continue; /* an activation layer passes its dZ on as the previous dA */
        /* dW = in^T d, db = column sums of d, d_prev = d W^T */
        s = clseq_op_gemm(ctx, 1, 0, l->input_dim, l->units, rows,
                          (clseq_mat){in, 0, l->input_dim}, (clseq_mat){d, 0, l->units},
                          (clseq_mat){m->grads, (int)l->kernel_off, l->units},
                          (clseq_mat){NULL, 0, 0}, CLSEQ_LINEAR);
        if (s == CLSEQ_OK)
            s = clseq_op_sum_columns(ctx, d, rows, l->units, m->grads, (int)l->bias_off, 0);
        if (s == CLSEQ_OK && i > 0) {
            s = clseq_op_gemm(ctx, 0, 1, rows, l->input_dim, l->units,
                              (clseq_mat){d, 0, l->units},
                              (clseq_mat){m->params, (int)l->kernel_off, l->units},
                              (clseq_mat){m->work.delta[1 - cur], 0, l->input_dim},
                              (clseq_mat){NULL, 0, 0}, CLSEQ_LINEAR);
            cur = 1 - cur;
        }
    }
    return s;
}

clseq_status clseq_optimizer_step(clseq_model *m)
{
    const clseq_optimizer *o = &m->optimizer;
    int n = (int)m->param_count;
    m->iterations++;
    if (n == 0)
        return CLSEQ_OK; /* activation layers only: nothing to update */
    switch (o->kind) {
    case CLSEQ_OPT_SGD:
        return clseq_op_sgd(m->ctx, m->params, m->grads, m->opt_m, n, o->learning_rate,
                            o->momentum, o->nesterov);
    case CLSEQ_OPT_ADAM: {
        /* Keras folds both bias corrections into the step size */
        float t = (float)m->iterations;
        float alpha = o->learning_rate * sqrtf(1.0f - powf(o->beta2, t)) / (1.0f - powf(o->beta1, t));
        return clseq_op_adam(m->ctx, m->params, m->grads, m->opt_m, m->opt_v, n, alpha, o->beta1,
                             o->beta2, o->epsilon);
    }
    default:
        return clseq_op_rmsprop(m->ctx, m->params, m->grads, m->opt_v, n, o->learning_rate,
                                o->rho, o->epsilon);
    }
}
