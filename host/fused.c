/* Host side of the fused trainer: when it applies, the per-layer table,
 * the scratch layout, and the launch. */
#include <stdlib.h>
#include <string.h>

#include "fused.h"
#include "ops.h"
#include "train.h"

enum { FL_FIELDS = 7 };  /* ints per layer in the table (cl/train_fused.cl) */
enum { FUSED_MAX_STEP_WORK = 1 << 16, FUSED_MAX_PARAMS = 1 << 15 };

/* Multiply-adds of one training step, the quantity a single work-group
 * must get through between launches. */
static double step_work(const clseq_model *m, int batch)
{
    double work = 0;
    for (int i = 0; i < m->layer_count; i++)
        work += 3.0 * batch * m->layers[i].input_dim * m->layers[i].units;
    return work;
}

int clseq_fused_applies(const clseq_model *m, int batch)
{
    if (m->ctx->kernel_wg[K_FUSED_TRAIN] < m->ctx->fused_size)
        return 0; /* the kernel cannot run at the size it was built for */
    const char *env = getenv("CLSEQ_FUSED");
    if (env && strcmp(env, "0") == 0)
        return 0;
    int possible = m->param_count > 0 && m->param_count < (size_t)INT32_MAX;
    if (env && strcmp(env, "1") == 0)
        return possible;
    return possible && m->param_count <= FUSED_MAX_PARAMS &&
           step_work(m, batch) <= FUSED_MAX_STEP_WORK;
}

/* The layer table and scratch offsets; returns the scratch size in floats. */
static size_t build_layout(const clseq_model *m, int batch, int *table, int offsets[4])
{
    int widest = m->input_dim;
    size_t used = 0;
    offsets[0] = 0; /* inputs */
    used += (size_t)batch * m->input_dim;
    offsets[1] = (int)used; /* targets */
    used += (size_t)batch * clseq_model_target_width(m);
    for (int i = 0; i < m->layer_count; i++) {
        const clseq_layer *l = &m->layers[i];
        int *row = table + i * FL_FIELDS;
        row[0] = l->input_dim;
        row[1] = l->units;
        row[2] = (int)l->act;
        row[3] = l->dense;
        row[4] = (int)l->kernel_off;
        row[5] = (int)l->bias_off;
        row[6] = (int)used;
        used += (size_t)batch * l->units;
        widest = widest > l->units ? widest : l->units;
    }
    offsets[2] = (int)used; /* two gradient buffers */
    offsets[3] = batch * widest;
    return used + 2 * (size_t)batch * widest;
}

#define BIND(index, value)                                                                 \
    do {                                                                                   \
        cl_int bind_err_ = clSetKernelArg(k, (index), sizeof(value), &(value));            \
        if (bind_err_ != CL_SUCCESS && err == CL_SUCCESS)                                  \
            err = bind_err_;                                                               \
    } while (0)

static clseq_status launch(clseq_model *m, cl_mem x, cl_mem y, cl_mem perm, int n, int batch,
                           cl_mem table, cl_mem scratch, const int offsets[4], cl_mem totals)
{
    cl_kernel k = m->ctx->kernels[K_FUSED_TRAIN];
    const clseq_optimizer *o = &m->optimizer;
    cl_int err = CL_SUCCESS;
    int layers = m->layer_count, target_width = clseq_model_target_width(m);
    int params = (int)m->param_count, loss = (int)m->loss, acc = clseq_accuracy_kind(m);
    int fused_loss = m->loss != CLSEQ_MEAN_SQUARED_ERROR && m->loss != CLSEQ_MEAN_ABSOLUTE_ERROR;
    int opt = (int)o->kind, t0 = (int)m->iterations;
    size_t local = m->ctx->fused_size;
    BIND(0, x);
    BIND(1, y);
    BIND(2, perm);
    BIND(3, n);
    BIND(4, batch);
    BIND(5, table);
    BIND(6, layers);
    BIND(7, target_width);
    BIND(8, m->params);
    BIND(9, m->grads);
    BIND(10, m->opt_m);
    BIND(11, m->opt_v);
    BIND(12, params);
    BIND(13, scratch);
    BIND(14, offsets[0]);
    BIND(15, offsets[1]);
    BIND(16, offsets[2]);
    BIND(17, offsets[3]);
    BIND(18, loss);
    BIND(19, acc);
    BIND(20, fused_loss);
    BIND(21, opt);
    BIND(22, o->learning_rate);
    BIND(23, o->momentum);
    BIND(24, o->nesterov);
    BIND(25, o->beta1);
    BIND(26, o->beta2);
    BIND(27, o->rho);
    BIND(28, o->epsilon);
    BIND(29, t0);
    BIND(30, totals);
    if (err == CL_SUCCESS)
        err = clSetKernelArg(k, 31, local * sizeof(float), NULL);
    if (err != CL_SUCCESS)
        return clseq_cl_fail(err, "clSetKernelArg (fused_train)");
    return clseq_cl_check(clEnqueueNDRangeKernel(m->ctx->queue, k, 1, NULL, &local, &local, 0,
                                                 NULL, NULL),
                          "clEnqueueNDRangeKernel (fused_train)");
}

clseq_status clseq_fused_epoch(clseq_model *m, cl_mem x, cl_mem y, cl_mem perm, size_t n,
                               int batch, cl_mem totals)
{
    if ((size_t)batch > n)
        batch = (int)n;
    int *table = malloc((size_t)m->layer_count * FL_FIELDS * sizeof *table);
    if (!table)
        return clseq_fail(CLSEQ_E_NOMEM, "fused training: out of host memory");
    int offsets[4];
    size_t scratch_floats = build_layout(m, batch, table, offsets);
    cl_mem table_buf = NULL, scratch = NULL;
    size_t table_bytes = (size_t)m->layer_count * FL_FIELDS * sizeof *table;
    clseq_status s = clseq_buffer_create(m->ctx, table_bytes, &table_buf);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(m->ctx, table_buf, 0, table_bytes, table);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create(m->ctx, scratch_floats * sizeof(float), &scratch);
    if (s == CLSEQ_OK)
        s = launch(m, x, y, perm, (int)n, batch, table_buf, scratch, offsets, totals);
    if (s == CLSEQ_OK)
        m->iterations += (long long)((n + (size_t)batch - 1) / (size_t)batch);
    /* the buffers are released after the kernel has run: OpenCL keeps
     * them alive while enqueued work uses them */
    clseq_buffer_release(&table_buf);
    clseq_buffer_release(&scratch);
    free(table);
    return s;
}
