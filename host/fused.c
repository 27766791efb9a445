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

/* The layer table and scratch offsets (either may be NULL to only size
 * the scratch); returns the scratch size in floats. */
static size_t build_layout(const clseq_model *m, int batch, int *table, int *offsets)
{
    size_t widest = (size_t)m->input_dim, used = 0, at[4];
    at[0] = 0; /* inputs */
    used += (size_t)batch * m->input_dim;
    at[1] = used; /* targets */
    used += (size_t)batch * clseq_model_target_width(m);
    for (int i = 0; i < m->layer_count; i++) {
        const clseq_layer *l = &m->layers[i];
        if (table) {
            int *row = table + i * FL_FIELDS;
            row[0] = l->input_dim;
            row[1] = l->units;
            row[2] = (int)l->act;
            row[3] = l->dense;
            row[4] = (int)l->kernel_off;
            row[5] = (int)l->bias_off;
            row[6] = (int)used;
        }
        used += (size_t)batch * l->units;
        widest = widest > (size_t)l->units ? widest : (size_t)l->units;
    }
    at[2] = used; /* two gradient buffers */
    at[3] = (size_t)batch * widest;
    for (int i = 0; offsets && i < 4; i++)
        offsets[i] = (int)at[i];
    return used + 2 * at[3];
}

int clseq_fused_applies(const clseq_model *m, int batch)
{
    if (m->ctx->kernel_wg[K_FUSED_TRAIN] < m->ctx->fused_size)
        return 0; /* the kernel cannot run at the size it was built for */
    const char *env = getenv("CLSEQ_FUSED");
    if (env && strcmp(env, "0") == 0)
        return 0;
    /* the kernel indexes parameters and scratch with ints */
    size_t scratch = build_layout(m, batch, NULL, NULL);
    int possible = m->param_count > 0 && m->param_count < (size_t)INT32_MAX &&
                   scratch < (size_t)INT32_MAX && scratch * sizeof(float) <= m->ctx->max_alloc;
    if (env && strcmp(env, "1") == 0)
        return possible;
    return possible && m->param_count <= FUSED_MAX_PARAMS &&
           step_work(m, batch) <= FUSED_MAX_STEP_WORK;
}

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
    CLSEQ_BIND(k, 19, acc, &err);
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
