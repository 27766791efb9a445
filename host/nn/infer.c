/* evaluate and predict: forward passes over data uploaded once, in chunks
 * that fit the workspace, with results read back once at the end. */
#include <stdlib.h>

#include "nn/infer.h"
#include "nn/parallel.h"
#include "ops/ops.h"
#include "nn/train.h"
#include "nn/weights.h"

enum { EVAL_CHUNK_ROWS = 4096 };

clseq_status clseq_upload_rows(clseq_device *dev, const float *x, size_t rows, int cols, cl_mem *out)
{
    size_t count;
    if (clseq_mul_overflows(rows, (size_t)cols, &count) || count > (size_t)INT32_MAX)
        return clseq_fail(CLSEQ_E_SHAPE, "%zu rows x %d columns exceed 2^31 values", rows, cols);
    clseq_status s = clseq_buffer_create_named(dev, count * sizeof(float), "data rows", out);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(dev, *out, 0, count * sizeof(float), x);
    if (s != CLSEQ_OK)
        clseq_buffer_release(out);
    return s;
}

/* Copies rows [start, start + rows) of src (cols wide) to the front of dst. */
static clseq_status copy_rows(clseq_device *dev, cl_mem src, size_t start, int rows, int cols,
                              cl_mem dst)
{
    size_t row_bytes = (size_t)cols * sizeof(float);
    return clseq_buffer_copy(dev, src, start * row_bytes, dst, 0, (size_t)rows * row_bytes);
}

static int chunk_rows(size_t n)
{
    return n < EVAL_CHUNK_ROWS ? (int)n : EVAL_CHUNK_ROWS;
}

/* Rows [start, start + rows) of a cols-wide table, from the device or the
 * host, to the front of dst. */
static clseq_status take_rows(clseq_device *dev, cl_mem src, const float *host, size_t start,
                              int rows, int cols, cl_mem dst)
{
    size_t row_floats = (size_t)cols;
    if (!src)
        return clseq_buffer_write(dev, dst, 0, (size_t)rows * row_floats * sizeof(float),
                                  host + start * row_floats);
    return copy_rows(dev, src, start, rows, cols, dst);
}

clseq_status clseq_source_rows(clseq_model *m, const clseq_source *src, size_t first,
                               size_t rows, float *x, float *y, const char *what)
{
    clseq_fail(CLSEQ_OK, "%s", "");
    clseq_status s = src->read(src->user, first, rows, x, y);
    if (s != CLSEQ_OK && clseq_last_error()[0] == '\0')
        clseq_fail(s, "the source's read failed (%s)", clseq_status_name(s));
    if (s != CLSEQ_OK && !(s > CLSEQ_OK && s <= CLSEQ_E_NUMERIC))
        s = CLSEQ_E_IO; /* not one of clseq's statuses */
    if (s == CLSEQ_OK)
        s = clseq_check_finite(x, rows, m->input_dim, "x");
    if (s == CLSEQ_OK)
        s = clseq_check_targets(m, y, rows, "y");
    return s == CLSEQ_OK ? s
                         : clseq_fail_context(s, "%s rows %zu..%zu: ", what, first, first + rows);
}

/* Rows [start, start + rows) of a source to the fronts of the workspace's
 * input and target, through stage (a chunk's rows and targets). */
static clseq_status read_source_rows(clseq_model *m, const clseq_rows *src, size_t start,
                                     int rows, float *stage)
{
    int in = m->input_dim, width = clseq_model_target_width(m);
    float *x = stage, *y = stage + (size_t)rows * (size_t)in;
    clseq_status s = clseq_source_rows(m, src->src, src->src_first + start, (size_t)rows, x, y,
                                       "validation source");
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(m->dev, m->work.input, 0,
                               (size_t)rows * (size_t)in * sizeof(float), x);
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(m->dev, m->work.target, 0,
                               (size_t)rows * (size_t)width * sizeof(float), y);
    return s;
}

clseq_status clseq_pass_totals(clseq_model *m, const clseq_rows *src, size_t n,
                               clseq_pass_sums *sums)
{
    float acc_host[CLSEQ_SUMS_FLOATS];
    cl_mem acc = NULL;
    int chunk = m->work.rows < chunk_rows(n) ? m->work.rows : chunk_rows(n);
    float *stage = NULL;
    clseq_status s = CLSEQ_OK;
    if (src->src && !(stage = malloc((size_t)chunk * (size_t)(m->input_dim +
                                                               clseq_model_target_width(m)) *
                                     sizeof *stage)))
        s = clseq_fail(CLSEQ_E_NOMEM, "out of host memory for %d validation rows", chunk);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create(m->dev, sizeof acc_host, &acc);
    if (s == CLSEQ_OK)
        s = clseq_buffer_fill(m->dev, acc, 0, CLSEQ_SUMS_FLOATS, 0.0f);
    for (size_t start = 0; start < n && s == CLSEQ_OK; start += (size_t)chunk) {
        int rows = n - start < (size_t)chunk ? (int)(n - start) : chunk;
        int weighted = src->w || src->hw;
        if (src->src)
            s = read_source_rows(m, src, start, rows, stage);
        else
            s = take_rows(m->dev, src->x, src->hx, start, rows, m->input_dim, m->work.input);
        if (s == CLSEQ_OK && !src->src)
            s = take_rows(m->dev, src->y, src->hy, start, rows, clseq_model_target_width(m),
                          m->work.target);
        if (s == CLSEQ_OK && weighted)
            s = take_rows(m->dev, src->w, src->hw, start, rows, 1, m->work.weight);
        if (s == CLSEQ_OK)
            s = clseq_forward(m, rows, 0);
        if (s == CLSEQ_OK)
            s = clseq_loss_stats(m, rows, acc, 0, weighted);
    }
    /* Keras's test_step adds the regularizers' penalty too: n x it */
    if (s == CLSEQ_OK && clseq_model_regularized(m))
        s = clseq_regularizer_penalty(m, (float)n, acc, 0);
    if (s == CLSEQ_OK)
        s = clseq_buffer_read(m->dev, acc, 0, sizeof acc_host, acc_host);
    if (s == CLSEQ_OK)
        clseq_pass_sums_read(acc_host, sums);
    clseq_buffer_release(&acc);
    free(stage);
    return s;
}

static clseq_status check_ready(const clseq_model *m, const float *x, size_t n, const char *what)
{
    if (!m || !x)
        return clseq_fail(CLSEQ_E_ARG, "%s: %s is NULL", what, m ? "x" : "model");
    if (m->in_fit)
        return clseq_model_check_idle(m, what);
    if (m->layer_count == 0)
        return clseq_fail(CLSEQ_E_STATE, "%s: the model has no layers", what);
    if (n == 0)
        return clseq_fail(CLSEQ_E_ARG, "%s: n must be > 0", what);
    size_t count;
    if (clseq_mul_overflows(n, (size_t)m->input_dim, &count) || count > (size_t)INT32_MAX)
        return clseq_fail(CLSEQ_E_SHAPE, "%s: %zu rows x %d features exceed 2^31 values", what, n,
                          m->input_dim);
    return clseq_check_finite(x, n, m->input_dim, "x");
}

clseq_status clseq_evaluate(clseq_model *m, const float *x, const float *y, size_t n, float *loss,
                            float *metric_values)
{
    return clseq_evaluate_weighted(m, x, y, NULL, n, loss, metric_values);
}

clseq_status clseq_evaluate_weighted(clseq_model *m, const float *x, const float *y,
                                     const float *sample_weight, size_t n, float *loss,
                                     float *metric_values)
{
    clseq_status s = check_ready(m, x, n, "clseq_evaluate");
    if (s != CLSEQ_OK)
        return s;
    if (!m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "clseq_evaluate: compile the model first");
    if (!y || !loss || (m->metrics && !metric_values))
        return clseq_fail(CLSEQ_E_ARG, "clseq_evaluate: y, loss%s is NULL",
                          m->metrics ? " or metric_values" : "");
    if ((s = clseq_check_targets(m, y, n, "y")) != CLSEQ_OK)
        return s;
    float *weights = NULL;
    if ((s = clseq_row_weights(m, y, n, sample_weight, NULL, 0, "clseq_evaluate", &weights)) !=
        CLSEQ_OK)
        return s;
    /* the rows go up a chunk at a time: a data set larger than the device
     * is evaluated as any other */
    clseq_rows src = {.hx = x, .hy = y, .hw = weights};
    clseq_pass_sums sums;
    float values[1 + CLSEQ_METRIC_COUNT];
    /* several devices: each takes its share of the rows */
    int split = m->ctx->device_count > 1;
    if ((s = clseq_model_sync_device(m)) == CLSEQ_OK &&
        (s = clseq_workspace_reserve(m, chunk_rows(n))) == CLSEQ_OK &&
        (s = split ? clseq_parallel_pass_totals(m, &src, n, &sums)
                   : clseq_pass_totals(m, &src, n, &sums)) == CLSEQ_OK) {
        int count = clseq_totals_to_values(m, &sums, n, values);
        *loss = values[0];
        for (int i = 1; i < count; i++)
            metric_values[i - 1] = values[i];
    }
    free(weights);
    return s;
}

clseq_status clseq_predict(clseq_model *m, const float *x, size_t n, float *out)
{
    clseq_status s = check_ready(m, x, n, "clseq_predict");
    if (s != CLSEQ_OK)
        return s;
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_predict: out is NULL");
    if ((s = clseq_model_sync_device(m)) != CLSEQ_OK ||
        (s = clseq_workspace_reserve(m, chunk_rows(n))) != CLSEQ_OK)
        return s;
    /* several devices: each predicts its share of the rows */
    return m->ctx->device_count > 1 ? clseq_parallel_predict(m, x, n, out)
                                    : clseq_predict_rows(m, x, n, out);
}

clseq_status clseq_predict_rows(clseq_model *m, const float *x, size_t n, float *out)
{
    int width = clseq_model_output_dim(m);
    clseq_status s = clseq_workspace_reserve(m, chunk_rows(n));
    if (s != CLSEQ_OK)
        return s;
    int chunk = m->work.rows < chunk_rows(n) ? m->work.rows : chunk_rows(n);
    cl_mem last = m->work.outputs[m->layer_count - 1];
    /* a chunk of rows up, its outputs down: the device never holds more,
     * whatever n is */
    for (size_t start = 0; start < n && s == CLSEQ_OK; start += (size_t)chunk) {
        int rows = n - start < (size_t)chunk ? (int)(n - start) : chunk;
        s = take_rows(m->dev, NULL, x, start, rows, m->input_dim, m->work.input);
        if (s == CLSEQ_OK)
            s = clseq_forward(m, rows, 0);
        /* blocking: the next chunk reuses the output buffer */
        if (s == CLSEQ_OK)
            s = clseq_buffer_read(m->dev, last, 0, (size_t)rows * (size_t)width * sizeof(float),
                                  out + start * (size_t)width);
    }
    return s;
}
