/* The layer-by-layer device passes, the reference engine: the workspace,
 * forward and backward over the layer table, the loss. Everything here
 * only enqueues work. */
#include <stdlib.h>

#include "nn/model.h"
#include "nn/train.h"
#include "ops/ops.h"

_Static_assert(CLSEQ_LINEAR == ACT_LINEAR && CLSEQ_RELU == ACT_RELU &&
                   CLSEQ_SIGMOID == ACT_SIGMOID && CLSEQ_TANH == ACT_TANH &&
                   CLSEQ_SOFTMAX == ACT_SOFTMAX && CLSEQ_LEAKY_RELU == ACT_LEAKY_RELU &&
                   CLSEQ_ELU == ACT_ELU && CLSEQ_SELU == ACT_SELU && CLSEQ_GELU == ACT_GELU &&
                   CLSEQ_SOFTPLUS == ACT_SOFTPLUS && CLSEQ_SOFTSIGN == ACT_SOFTSIGN &&
                   CLSEQ_SILU == ACT_SILU && CLSEQ_HARD_SIGMOID == ACT_HARD_SIGMOID &&
                   CLSEQ_EXPONENTIAL == ACT_EXPONENTIAL && CLSEQ_RELU6 == ACT_RELU6 &&
                   CLSEQ_LOG_SOFTMAX == ACT_LOG_SOFTMAX,
               "cl/codes.h's activation codes must be clseq_activation's values");
_Static_assert(CLSEQ_CATEGORICAL_CROSSENTROPY == LOSS_CCE &&
                   CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY == LOSS_SPARSE_CCE &&
                   CLSEQ_BINARY_CROSSENTROPY == LOSS_BCE && CLSEQ_MEAN_SQUARED_ERROR == LOSS_MSE &&
                   CLSEQ_MEAN_ABSOLUTE_ERROR == LOSS_MAE,
               "cl/codes.h's loss codes must be clseq_loss's values");

void clseq_workspace_release(clseq_model *m)
{
    clseq_workspace *w = &m->work;
    clseq_buffer_release(&w->input);
    clseq_buffer_release(&w->target);
    clseq_buffer_release(&w->stats);
    clseq_buffer_release(&w->weight);
    clseq_buffer_release(&w->delta[0]);
    clseq_buffer_release(&w->delta[1]);
    clseq_buffer_release(&w->scratch);
    for (int i = 0; i < w->layers; i++) {
        clseq_buffer_release(&w->outputs[i]);
        clseq_buffer_release(&w->pre[i]);
        clseq_buffer_release(&w->saved[i]);
    }
    free(w->outputs);
    free(w->pre);
    free(w->saved);
    w->outputs = w->pre = w->saved = NULL;
    w->layers = 0;
    w->rows = 0;
}

/* The most values per sample anywhere in the model: the gradient buffers
 * hold any layer's input or output. */
static int largest_size(const clseq_model *m)
{
    int largest = m->input_dim;
    for (int i = 0; i < m->layer_count; i++) {
        int size = clseq_shape_size(&m->layers[i].out);
        largest = size > largest ? size : largest;
    }
    return largest;
}

/* rows x cols floats, or CLSEQ_E_SHAPE if that overflows the int indexing
 * the kernels use. */
static clseq_status matrix_buffer(clseq_model *m, int rows, int cols, cl_mem *out)
{
    size_t count;
    if (clseq_mul_overflows((size_t)rows, (size_t)cols, &count) || count > (size_t)INT32_MAX)
        return clseq_fail(CLSEQ_E_SHAPE, "a %d x %d work buffer exceeds 2^31 elements", rows,
                          cols);
    return clseq_buffer_create_named(m->dev, count * sizeof(float), "workspace", out);
}

/* count floats (> 0) into *out, or CLSEQ_E_SHAPE past the kernels' int
 * indexing; what names the buffer. */
static clseq_status float_buffer(clseq_model *m, size_t count, const char *what, int layer,
                                 cl_mem *out)
{
    if (count > (size_t)INT32_MAX)
        return clseq_fail(CLSEQ_E_SHAPE, "layer %d: its %s of %zu values exceeds 2^31", layer + 1,
                          what, count);
    return clseq_buffer_create(m->dev, count * sizeof(float), out);
}

/* Activations whose logits the cross-entropies' reported loss is computed
 * from (cl/loss.cl): the last layer keeps them in its pre buffer. */
static int keeps_logits(clseq_activation act)
{
    return act == CLSEQ_SOFTMAX || act == CLSEQ_SIGMOID;
}

/* The per-layer buffers beyond the outputs: pre-activations where the
 * activation needs them, each kind's saved buffer, the shared scratch. */
static clseq_status layer_buffers(clseq_model *m, int rows)
{
    clseq_workspace *w = &m->work;
    size_t scratch = 0;
    clseq_status s = CLSEQ_OK;
    for (int i = 0; i < m->layer_count && s == CLSEQ_OK; i++) {
        const clseq_layer *l = &m->layers[i];
        const clseq_layer_kind *k = l->kind;
        if (k->applies_activation && (clseq_activation_needs_input(l->act) ||
                                      (i == m->layer_count - 1 && keeps_logits(l->act))))
            s = matrix_buffer(m, rows, clseq_shape_size(&l->out), &w->pre[i]);
        size_t saved = k->saved_floats ? k->saved_floats(l, rows) : 0;
        if (s == CLSEQ_OK && saved)
            s = float_buffer(m, saved, "saved buffer", i, &w->saved[i]);
        size_t need = k->scratch_floats ? k->scratch_floats(l, rows) : 0;
        scratch = need > scratch ? need : scratch;
    }
    if (s == CLSEQ_OK && scratch)
        s = float_buffer(m, scratch, "scratch", m->layer_count - 1, &w->scratch);
    return s;
}

clseq_status clseq_workspace_reserve(clseq_model *m, int rows)
{
    clseq_workspace *w = &m->work;
    if (w->rows >= rows)
        return CLSEQ_OK;
    clseq_workspace_release(m);
    clseq_status s;
    w->outputs = calloc((size_t)m->layer_count, sizeof *w->outputs);
    w->pre = calloc((size_t)m->layer_count, sizeof *w->pre);
    w->saved = calloc((size_t)m->layer_count, sizeof *w->saved);
    if (!w->outputs || !w->pre || !w->saved) {
        free(w->outputs);
        free(w->pre);
        free(w->saved);
        w->outputs = w->pre = w->saved = NULL;
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for the workspace");
    }
    w->layers = m->layer_count;
    int largest = largest_size(m);
    if ((s = matrix_buffer(m, rows, m->input_dim, &w->input)) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, largest, &w->target)) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, STATS_PER_ROW, &w->stats)) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, 1, &w->weight)) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, largest, &w->delta[0])) != CLSEQ_OK ||
        (s = matrix_buffer(m, rows, largest, &w->delta[1])) != CLSEQ_OK)
        goto fail;
    for (int i = 0; i < m->layer_count; i++)
        if ((s = matrix_buffer(m, rows, clseq_shape_size(&m->layers[i].out), &w->outputs[i])) !=
            CLSEQ_OK)
            goto fail;
    if ((s = layer_buffers(m, rows)) != CLSEQ_OK)
        goto fail;
    w->rows = rows;
    return CLSEQ_OK;
fail:
    clseq_workspace_release(m);
    return clseq_fail_context(s, "workspace for %d rows: ", rows);
}

/* A pass over layer i: its input and output buffers and variables. */
clseq_pass clseq_layer_pass(clseq_model *m, int i, int rows)
{
    const clseq_layer *l = &m->layers[i];
    clseq_pass p = {0};
    p.dev = m->dev;
    p.rows = rows;
    p.in = i > 0 ? m->work.outputs[i - 1] : m->work.input;
    p.out = m->work.outputs[i];
    p.params = m->params;
    p.grads = m->grads;
    p.state = m->state;
    p.offsets = clseq_layer_offsets(m, l);
    p.rng = &m->dropout_rng;
    p.pre = m->work.pre[i];
    p.saved = m->work.saved[i];
    p.scratch = m->work.scratch;
    return p;
}

clseq_status clseq_forward(clseq_model *m, int rows, int training)
{
    clseq_status s = CLSEQ_OK;
    for (int i = 0; i < m->layer_count && s == CLSEQ_OK; i++) {
        const clseq_layer *l = &m->layers[i];
        clseq_pass p = clseq_layer_pass(m, i, rows);
        s = l->kind->forward(l, &p, training);
    }
    return s;
}

int clseq_accuracy_kind(const clseq_model *m)
{
    /* Keras 3 chooses "accuracy" by shapes only
     * (keras/src/trainers/compile_utils.py, get_metric and
     * is_binary_or_sparse_categorical): binary when the output has one
     * unit, sparse when the targets are one column and the output wider,
     * categorical otherwise (several sigmoid outputs included) */
    if (clseq_model_output_size(m) == 1)
        return ACC_BINARY;
    if (clseq_model_target_width(m) == 1)
        return ACC_SPARSE;
    return ACC_CATEGORICAL;
}

int clseq_loss_from_logits(const clseq_model *m)
{
    const clseq_layer *last = &m->layers[m->layer_count - 1];
    return (last->act == CLSEQ_SOFTMAX && (m->loss == CLSEQ_CATEGORICAL_CROSSENTROPY ||
                                           m->loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY)) ||
           (last->act == CLSEQ_SIGMOID && m->loss == CLSEQ_BINARY_CROSSENTROPY);
}

cl_mem clseq_loss_logits(const clseq_model *m)
{
    const clseq_layer *last = &m->layers[m->layer_count - 1];
    if (!clseq_loss_from_logits(m))
        return NULL;
    if (last->kind->applies_activation)
        return m->work.pre[m->layer_count - 1];
    if (last->kind == &clseq_activation_kind) /* an Activation layer: z is its input */
        return m->layer_count > 1 ? m->work.outputs[m->layer_count - 2] : m->work.input;
    return NULL;
}

clseq_metric_args clseq_metric_args_of(const clseq_model *m)
{
    clseq_metric_args a;
    a.acc_kind = clseq_accuracy_kind(m);
    a.threshold = m->metric_options.threshold;
    a.top_k = m->metric_options.k;
    return a;
}

clseq_status clseq_loss_stats(clseq_model *m, int rows, cl_mem totals, int want_grad,
                              int weighted)
{
    return clseq_loss_stats_scaled(m, rows, 1.0f / (float)rows, totals, want_grad, weighted);
}

clseq_status clseq_loss_stats_scaled(clseq_model *m, int rows, float grad_scale, cl_mem totals,
                                     int want_grad, int weighted)
{
    int width = clseq_model_output_size(m);
    cl_mem out = m->work.outputs[m->layer_count - 1];
    cl_mem w = weighted ? m->work.weight : NULL;
    clseq_metric_args metric = clseq_metric_args_of(m);
    clseq_status s = clseq_op_loss_rows(m->dev, out, clseq_loss_logits(m), m->work.target, rows,
                                        width, m->loss, &metric, grad_scale,
                                        want_grad ? m->work.delta[0] : NULL, m->work.stats, w);
    if (s == CLSEQ_OK)
        s = clseq_op_sum_columns(m->dev, m->work.stats, rows, STATS_PER_ROW, totals, 0, 1);
    if (s == CLSEQ_OK && (m->metrics & CLSEQ_METRIC_AUC))
        s = clseq_op_auc_buckets(m->dev, out, m->work.target, rows, width, totals,
                                 CLSEQ_SUMS_AUC); /* unweighted, as Keras's compile metrics */
    return s;
}

int clseq_loss_includes_activation(const clseq_model *m)
{
    return m->loss == CLSEQ_CATEGORICAL_CROSSENTROPY ||
           m->loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY ||
           m->loss == CLSEQ_BINARY_CROSSENTROPY;
}

clseq_status clseq_backward(clseq_model *m, int rows, int d_out_is_dz, cl_mem *input_grad)
{
    int cur = 0; /* work.delta[cur] holds the gradient at layer i's output */
    clseq_status s = CLSEQ_OK;
    for (int i = m->layer_count - 1; i >= 0 && s == CLSEQ_OK; i--) {
        const clseq_layer *l = &m->layers[i];
        clseq_pass p = clseq_layer_pass(m, i, rows);
        p.d_out = m->work.delta[cur];
        p.d_in = (i > 0 || input_grad) ? m->work.delta[1 - cur] : NULL;
        p.d_out_is_dz = i == m->layer_count - 1 && d_out_is_dz;
        s = l->kind->backward(l, &p);
        if (!p.d_in_in_d_out)
            cur = 1 - cur;
    }
    if (input_grad)
        *input_grad = m->work.delta[cur];
    return s;
}
