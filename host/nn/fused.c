/* Host side of the fused trainer: when it applies, the per-layer table,
 * the scratch layout, and the launch. */
#include <stdlib.h>
#include <string.h>

#include "nn/fused.h"
#include "ops/ops.h"
#include "nn/train.h"

enum { FUSED_MAX_STEP_WORK = 1 << 16, FUSED_MAX_PARAMS = 1 << 15 };

/* Multiply-adds of one training step, the quantity a single work-group
 * must get through between launches. */
static double step_work(const clseq_model *m, int batch)
{
    double work = 0;
    for (int i = 0; i < m->layer_count; i++)
        work += 3.0 * batch * clseq_shape_size(&m->layers[i].in) *
                clseq_shape_size(&m->layers[i].out);
    return work;
}

/* Scratch offsets the kernel takes besides the layer table. */
enum { OFF_INPUT, OFF_TARGET, OFF_DELTA, OFF_DELTA_STRIDE, OFF_LOGITS, OFF_LSE, OFFSETS };

/* The kernel's layer table (each kind fills its own row) and scratch
 * offsets (OFF_*; OFF_LOGITS -1 when the loss is not taken from logits:
 * else a dense last layer's kept z, or an activation layer's input; then
 * OFF_LSE, a float per row for a softmax's log-sum-exp, else -1);
 * either may be NULL to only size the scratch. Returns the scratch size in
 * floats, or 0 if some layer cannot be fused. */
static size_t build_layout(const clseq_model *m, int batch, int *table, int *offsets)
{
    size_t widest = (size_t)m->input_dim, used = 0, at[OFFSETS], prev_out = 0;
    long logits = -1, lse = -1;
    at[OFF_INPUT] = 0;
    used += (size_t)batch * m->input_dim;
    at[OFF_TARGET] = used;
    used += (size_t)batch * clseq_model_target_width(m);
    for (int i = 0; i < m->layer_count; i++) {
        const clseq_layer *l = &m->layers[i];
        int row[FL_FIELDS];
        if (!l->kind->fused_row || !l->kind->fused_row(l, clseq_layer_offsets(m, l), row))
            return 0;
        row[FL_OUT] = (int)used;
        if (table)
            for (int f = 0; f < FL_FIELDS; f++)
                table[i * FL_FIELDS + f] = row[f];
        used += (size_t)batch * row[FL_UNITS];
        widest = widest > (size_t)row[FL_UNITS] ? widest : (size_t)row[FL_UNITS];
        if (i == m->layer_count - 1 && clseq_loss_from_logits(m)) {
            logits = row[FL_DENSE] ? (long)used : (long)prev_out;
            if (row[FL_DENSE])
                used += (size_t)batch * row[FL_UNITS];
            lse = (long)used;
            used += (size_t)batch;
        }
        prev_out = (size_t)row[FL_OUT];
    }
    at[OFF_DELTA] = used; /* two gradient buffers */
    at[OFF_DELTA_STRIDE] = (size_t)batch * widest;
    for (int i = 0; offsets && i < OFF_LOGITS; i++)
        offsets[i] = (int)at[i];
    if (offsets) {
        offsets[OFF_LOGITS] = (int)logits;
        offsets[OFF_LSE] = (int)lse;
    }
    return used + 2 * at[OFF_DELTA_STRIDE];
}

/* Whether the fused kernel has m's optimizer: SGD, Adam or RMSprop
 * without clipping or weight decay (the others run on the layer path). */
static int fused_optimizer(const clseq_optimizer *o)
{
    return (o->kind == CLSEQ_OPT_SGD || o->kind == CLSEQ_OPT_ADAM ||
            o->kind == CLSEQ_OPT_RMSPROP) &&
           o->weight_decay == 0.0f && o->clipnorm == 0.0f && o->clipvalue == 0.0f &&
           o->global_clipnorm == 0.0f;
}

int clseq_fused_applies(const clseq_model *m, int batch)
{
    if (!fused_optimizer(&m->optimizer))
        return 0;
    if (m->dev->kernel_wg[K_FUSED_TRAIN] < m->dev->fused_size)
        return 0; /* the kernel cannot run at the size it was built for */
    int option = m->ctx->options.fused;
    if (option == 0)
        return 0;
    /* the kernel indexes parameters and scratch with ints */
    size_t scratch = build_layout(m, batch, NULL, NULL);
    int possible = scratch > 0 && m->param_count > 0 &&
                   m->param_count < (size_t)INT32_MAX &&
                   scratch < (size_t)INT32_MAX && scratch * sizeof(float) <= m->dev->max_alloc;
    if (option == 1)
        return possible;
    return possible && m->param_count <= FUSED_MAX_PARAMS &&
           step_work(m, batch) <= FUSED_MAX_STEP_WORK;
}

static clseq_status launch(clseq_model *m, cl_mem x, cl_mem y, cl_mem perm, int n, int batch,
                           cl_mem table, cl_mem scratch, const int offsets[OFFSETS],
                           cl_mem totals, int first_step, int last_step)
{
    cl_kernel k = m->dev->kernels[K_FUSED_TRAIN];
    const clseq_optimizer *o = &m->optimizer;
    cl_int err = CL_SUCCESS;
    int layers = m->layer_count, target_width = clseq_model_target_width(m);
    int params = (int)m->param_count, loss = (int)m->loss;
    clseq_metric_args metric = clseq_metric_args_of(m);
    int auc_off = (m->metrics & CLSEQ_METRIC_AUC) ? CLSEQ_SUMS_AUC : -1;
    int fused_loss = clseq_loss_includes_activation(m);
    /* the kernel counts step t0 + step + 1 for the epoch's step */
    int opt = (int)o->kind, t0 = (int)(m->iterations - first_step);
    size_t local = m->dev->fused_size;
    CLSEQ_BIND(k, 0, x, &err);
    CLSEQ_BIND(k, 1, y, &err);
    CLSEQ_BIND(k, 2, perm, &err);
    CLSEQ_BIND(k, 3, n, &err);
    CLSEQ_BIND(k, 4, batch, &err);
    CLSEQ_BIND(k, 5, table, &err);
    CLSEQ_BIND(k, 6, layers, &err);
    CLSEQ_BIND(k, 7, target_width, &err);
    CLSEQ_BIND(k, 8, m->params, &err);
    CLSEQ_BIND(k, 9, m->grads, &err);
    CLSEQ_BIND(k, 10, m->opt_m, &err);
    CLSEQ_BIND(k, 11, m->opt_v, &err);
    CLSEQ_BIND(k, 12, params, &err);
    CLSEQ_BIND(k, 13, scratch, &err);
    CLSEQ_BIND(k, 14, offsets[0], &err);
    CLSEQ_BIND(k, 15, offsets[1], &err);
    CLSEQ_BIND(k, 16, offsets[2], &err);
    CLSEQ_BIND(k, 17, offsets[3], &err);
    CLSEQ_BIND(k, 18, loss, &err);
    CLSEQ_BIND(k, 19, metric.acc_kind, &err);
    CLSEQ_BIND(k, 20, fused_loss, &err);
    CLSEQ_BIND(k, 21, opt, &err);
    CLSEQ_BIND(k, 22, o->learning_rate, &err);
    CLSEQ_BIND(k, 23, o->momentum, &err);
    CLSEQ_BIND(k, 24, o->nesterov, &err);
    CLSEQ_BIND(k, 25, o->beta1, &err);
    CLSEQ_BIND(k, 26, o->beta2, &err);
    CLSEQ_BIND(k, 27, o->rho, &err);
    CLSEQ_BIND(k, 28, o->epsilon, &err);
    CLSEQ_BIND(k, 29, t0, &err);
    CLSEQ_BIND(k, 30, totals, &err);
    CLSEQ_BIND(k, 31, metric.threshold, &err);
    CLSEQ_BIND(k, 32, metric.top_k, &err);
    CLSEQ_BIND(k, 33, offsets[OFF_LOGITS], &err);
    CLSEQ_BIND(k, 34, auc_off, &err);
    CLSEQ_BIND(k, 35, first_step, &err);
    CLSEQ_BIND(k, 36, last_step, &err);
    if (err == CL_SUCCESS)
        err = clSetKernelArg(k, 37, local * sizeof(float), NULL);
    CLSEQ_BIND(k, 38, offsets[OFF_LSE], &err);
    if (err != CL_SUCCESS)
        return clseq_cl_fail(err, "clSetKernelArg (fused_train)");
    if (clseq_fault_due(m->dev))
        return clseq_fault_fail(m->dev, CLSEQ_E_CL, "clEnqueueNDRangeKernel (fused_train)");
    return clseq_cl_check(clEnqueueNDRangeKernel(m->dev->queue, k, 1, NULL, &local, &local, 0,
                                                 NULL, NULL),
                          "clEnqueueNDRangeKernel (fused_train)");
}

clseq_status clseq_fused_steps(clseq_model *m, cl_mem x, cl_mem y, cl_mem perm, size_t n,
                               int batch, int first_step, int last_step, cl_mem totals)
{
    if ((size_t)batch > n)
        batch = (int)n;
    int *table = malloc((size_t)m->layer_count * FL_FIELDS * sizeof *table);
    if (!table)
        return clseq_fail(CLSEQ_E_NOMEM, "fused training: out of host memory");
    int offsets[OFFSETS];
    size_t scratch_floats = build_layout(m, batch, table, offsets);
    cl_mem table_buf = NULL, scratch = NULL;
    size_t table_bytes = (size_t)m->layer_count * FL_FIELDS * sizeof *table;
    clseq_status s = clseq_buffer_create(m->dev, table_bytes, &table_buf);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(m->dev, table_buf, 0, table_bytes, table);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create(m->dev, scratch_floats * sizeof(float), &scratch);
    if (s == CLSEQ_OK)
        s = launch(m, x, y, perm, (int)n, batch, table_buf, scratch, offsets, totals, first_step,
                   last_step);
    if (s == CLSEQ_OK)
        m->iterations += last_step - first_step;
    /* the buffers are released after the kernel has run: OpenCL keeps
     * them alive while enqueued work uses them */
    clseq_buffer_release(&table_buf);
    clseq_buffer_release(&scratch);
    free(table);
    return s;
}
