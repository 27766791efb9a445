/* clseq_fit: Keras's fit loop on the device. The data set, parameters,
 * gradients and optimizer state stay in device buffers for the whole fit;
 * each epoch uploads one permutation, enqueues every batch without waiting,
 * and reads the loss and metric sums back once. A data set larger than the
 * device's share for data, or read from a source, is streamed instead, a
 * block at a time (fit_blocks.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn/callbacks.h"
#include "nn/fit_data.h"
#include "nn/fused.h"
#include "nn/history.h"
#include "nn/infer.h"
#include "nn/parallel.h"
#include "ops/ops.h"
#include "nn/progress.h"
#include "nn/train.h"
#include "nn/weights.h"

/* totals: the loss and metric sums (CLSEQ_SUMS_FLOATS, nn/train.h), then
 * the parameters' and the state's sums (finite unless training diverged) */
enum {
    PARAM_SUM = CLSEQ_SUMS_FLOATS,
    STATE_SUM = CLSEQ_SUMS_FLOATS + 1,
    TOTALS = CLSEQ_SUMS_FLOATS + 2
};

clseq_fit_options clseq_fit_defaults(void)
{
    clseq_fit_options o;
    memset(&o, 0, sizeof o);
    o.epochs = 1;
    o.batch_size = 32;
    o.shuffle = 1;
    o.verbose = 1;
    o.terminate_on_nan = 1;
    return o;
}

static clseq_status check_options(const clseq_fit_options *o)
{
    if (o->epochs <= 0)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: epochs must be > 0, got %d", o->epochs);
    if (o->batch_size <= 0)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: batch_size must be > 0, got %d", o->batch_size);
    if (o->verbose < 0 || o->verbose > 2)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: verbose must be 0, 1 or 2, got %d", o->verbose);
    if (!(o->validation_split >= 0.0f && o->validation_split < 1.0f))
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: validation_split must be in [0, 1), got %g",
                          (double)o->validation_split);
    if (o->initial_epoch < 0 || o->initial_epoch > o->epochs)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: initial_epoch must be in [0, epochs = %d], "
                          "got %d", o->epochs, o->initial_epoch);
    if (o->val_n > 0 && (!o->val_x || !o->val_y))
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: val_n is %zu but val_x or val_y is NULL",
                          o->val_n);
    return CLSEQ_OK;
}

static clseq_status check_fit_args(const clseq_model *m, const float *x, const float *y, size_t n,
                                   const clseq_fit_options *o)
{
    if (!m || !x || !y || !o)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: model, x, y and options must not be NULL");
    if (!m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "clseq_fit: compile the model first");
    if (n == 0)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit: n must be > 0");
    if (n > (size_t)INT32_MAX)
        return clseq_fail(CLSEQ_E_SHAPE, "clseq_fit: %zu rows exceed 2^31", n);
    clseq_status s = check_options(o);
    if (s == CLSEQ_OK)
        s = clseq_check_finite(x, n, m->input_dim, "x");
    if (s == CLSEQ_OK)
        s = clseq_check_targets(m, y, n, "y");
    if (s == CLSEQ_OK && o->val_n > 0)
        s = clseq_check_finite(o->val_x, o->val_n, m->input_dim, "val_x");
    if (s == CLSEQ_OK && o->val_n > 0)
        s = clseq_check_targets(m, o->val_y, o->val_n, "val_y");
    return s;
}

static void release_data(fit_data *d)
{
    clseq_fit_blocks_release(d);
    clseq_buffer_release(&d->x);
    clseq_buffer_release(&d->y);
    clseq_buffer_release(&d->val_x);
    clseq_buffer_release(&d->val_y);
    clseq_buffer_release(&d->w);
    free(d->host_w);
    clseq_buffer_release(&d->perm);
    clseq_buffer_release(&d->totals);
    clseq_snapshot_release(&d->backup);
    free(d->host_perm);
}

/* Keras splits at int(n * (1 - validation_split)) with the split as the
 * decimal the user wrote; the float 0.2f is 0.200000003, which would move
 * one row, so go back to the float's shortest decimal first. */
static size_t train_rows_after_split(size_t n, float split)
{
    char text[32];
    snprintf(text, sizeof text, "%.7g", (double)split);
    return (size_t)((double)n * (1.0 - strtod(text, NULL)));
}

/* The device bytes a fit's data may take before it is streamed: the
 * context's data_bytes, else half of what the device has left. */
static size_t data_budget(const clseq_model *m)
{
    long long option = m->ctx->options.data_bytes;
    if (option > 0)
        return (size_t)option;
    cl_ulong budget = clseq_buffer_budget(m->dev), held = clseq_buffer_allocated(m->dev);
    return held < budget ? (size_t)((budget - held) / 2) : 0;
}

/* Keras's validation_split holds out the last of n rows, before any
 * shuffle: d->n rows to train on, d->val_n (the split's, or given ones)
 * to validate on. */
static clseq_status split_rows(size_t n, size_t val_n, const clseq_fit_options *o, fit_data *d)
{
    d->n = n;
    d->val_n = val_n;
    if (val_n == 0 && o->validation_split > 0.0f) {
        d->n = train_rows_after_split(n, o->validation_split);
        d->val_n = n - d->n;
        if (d->n == 0 || d->val_n == 0)
            return clseq_fail(CLSEQ_E_ARG,
                              "clseq_fit: validation_split %g of %zu rows leaves %zu to train on "
                              "and %zu to validate",
                              (double)o->validation_split, n, d->n, d->val_n);
    }
    return CLSEQ_OK;
}

/* A training row's device bytes: features, targets, weight, order. */
static size_t train_row_bytes(const clseq_model *m, int weighted)
{
    return (size_t)(m->input_dim + clseq_model_target_width(m) + weighted + 1) * sizeof(float);
}

static clseq_status upload_data(clseq_model *m, const float *x, const float *y, size_t n,
                                const clseq_fit_options *o, fit_data *d)
{
    int width = clseq_model_target_width(m);
    clseq_status s = split_rows(n, o->val_n, o, d);
    if (s != CLSEQ_OK)
        return s;
    const float *vx = o->val_n ? o->val_x : x + d->n * (size_t)m->input_dim;
    const float *vy = o->val_n ? o->val_y : y + d->n * (size_t)width;
    clseq_device *dev = m->dev;
    /* weights of the training rows only: the split keeps the first d->n */
    s = clseq_row_weights(m, y, d->n, o->sample_weight, o->class_weight, o->class_weight_count,
                          "clseq_fit", &d->host_w);
    if (s != CLSEQ_OK)
        return s;
    d->host_perm = malloc(d->n * sizeof *d->host_perm);
    if (!d->host_perm)
        return clseq_fail(CLSEQ_E_NOMEM, "clseq_fit: out of host memory for %zu rows", d->n);
    for (size_t i = 0; i < d->n; i++)
        d->host_perm[i] = (int)i;
    if ((s = clseq_buffer_create(dev, TOTALS * sizeof(float), &d->totals)) != CLSEQ_OK)
        return s;
    size_t row_bytes = train_row_bytes(m, d->host_w != NULL);
    size_t val_bytes = (size_t)(m->input_dim + width) * sizeof(float);
    size_t budget = data_budget(m);
    d->streamed = d->n > budget / row_bytes || d->val_n > (budget - d->n * row_bytes) / val_bytes;
    if (d->streamed) {
        d->hx = x;
        d->hy = y;
        d->val_hx = vx;
        d->val_hy = vy;
        return clseq_fit_blocks_make(m, d, o->batch_size, row_bytes, budget);
    }
    d->here = d->n;
    if ((s = clseq_upload_rows(dev, x, d->n, m->input_dim, &d->x)) != CLSEQ_OK ||
        (s = clseq_upload_rows(dev, y, d->n, width, &d->y)) != CLSEQ_OK ||
        (d->host_w && (s = clseq_upload_rows(dev, d->host_w, d->n, 1, &d->w)) != CLSEQ_OK))
        return s;
    if (d->val_n > 0 &&
        ((s = clseq_upload_rows(dev, vx, d->val_n, m->input_dim, &d->val_x)) != CLSEQ_OK ||
         (s = clseq_upload_rows(dev, vy, d->val_n, width, &d->val_y)) != CLSEQ_OK))
        return s;
    return clseq_buffer_create(dev, d->n * sizeof(int), &d->perm);
}

/* A source's rows are always streamed; validation rows come from val, or
 * (validation_split) from the training source's last rows. */
static clseq_status source_data(clseq_model *m, const clseq_source *train,
                                const clseq_source *val, const clseq_fit_options *o, fit_data *d)
{
    clseq_status s = split_rows(train->rows, val ? val->rows : 0, o, d);
    if (s != CLSEQ_OK)
        return s;
    d->src = train;
    d->val_src = val ? val : train;
    d->val_first = val ? 0 : d->n;
    d->class_weight = o->class_weight;
    d->class_weight_count = o->class_weight_count;
    d->streamed = 1;
    if ((s = clseq_buffer_create(m->dev, TOTALS * sizeof(float), &d->totals)) != CLSEQ_OK)
        return s;
    return clseq_fit_blocks_make(m, d, o->batch_size, train_row_bytes(m, o->class_weight != NULL),
                                 data_budget(m));
}

/* One batch: gather, forward, loss, backward, update. */
static clseq_status train_batch(clseq_model *m, fit_data *d, size_t start, int rows)
{
    clseq_device *dev = m->dev;
    clseq_status s = clseq_op_gather_rows(dev, d->x, d->perm, (int)start, rows, m->input_dim,
                                          m->work.input);
    if (s == CLSEQ_OK)
        s = clseq_op_gather_rows(dev, d->y, d->perm, (int)start, rows,
                                 clseq_model_target_width(m), m->work.target);
    if (s == CLSEQ_OK && d->w)
        s = clseq_op_gather_rows(dev, d->w, d->perm, (int)start, rows, 1, m->work.weight);
    /* data-parallel (nn/parallel.h): the devices share out the gathered rows */
    if (s == CLSEQ_OK && clseq_parallel_active(m))
        return clseq_parallel_step(m, rows, d->w != NULL, d->totals);
    if (s == CLSEQ_OK)
        s = clseq_forward(m, rows, 1);
    if (s == CLSEQ_OK)
        s = clseq_loss_stats(m, rows, d->totals, 1, d->w != NULL);
    /* the batch's loss is its mean plus the penalty: rows x penalty in the sum */
    if (s == CLSEQ_OK && m->regularized)
        s = clseq_regularizer_penalty(m, (float)rows, d->totals, 0);
    if (s == CLSEQ_OK)
        s = clseq_backward(m, rows, clseq_loss_includes_activation(m), NULL);
    if (s == CLSEQ_OK && m->regularized)
        s = clseq_regularizer_grads(m);
    if (s == CLSEQ_OK)
        s = clseq_optimizer_step(m);
    return s;
}

/* The layer path's steps first..last-1 of the rows on the device. */
static clseq_status layer_steps(clseq_model *m, fit_data *d, int batch, int first, int last)
{
    clseq_status s = CLSEQ_OK;
    for (int step = first; step < last && s == CLSEQ_OK; step++) {
        size_t start = (size_t)step * (size_t)batch;
        int rows = d->here - start < (size_t)batch ? (int)(d->here - start) : batch;
        s = train_batch(m, d, start, rows);
    }
    return s;
}

/* The running values after rows rows of the epoch, from a copy of the
 * totals' sums: what the live bar shows as Keras does. */
static int running_values(const clseq_model *m, const float *sums, size_t rows, float *values)
{
    clseq_pass_sums totals;
    clseq_pass_sums_read(sums, &totals);
    return clseq_totals_to_values(m, &totals, rows, values);
}

/* The live bar's marks: reads of the running sums enqueued after parts of
 * the epoch, drawn as the device reaches them. */
enum { MARKS = 20 };
typedef struct marks {
    cl_event read[MARKS];
    int step[MARKS];    /* steps done when the read was enqueued */
    int count, drawn;
    float *slots;       /* MARKS copies of the sums, or NULL when not live */
} marks;

static const size_t SUM_BYTES = CLSEQ_SUMS_FLOATS * sizeof(float);

static clseq_status mark(clseq_model *m, fit_data *d, marks *k, int step)
{
    if (!k->slots || k->count == MARKS)
        return CLSEQ_OK;
    k->step[k->count] = step;
    clseq_status s = clseq_cl_check(
        clEnqueueReadBuffer(m->dev->queue, d->totals, CL_FALSE, 0, SUM_BYTES,
                            k->slots + k->count * CLSEQ_SUMS_FLOATS, 0, NULL, &k->read[k->count]),
        "clEnqueueReadBuffer (running sums)");
    k->count += s == CLSEQ_OK;
    return s;
}

/* Draws the marks the device has reached; with wait, all of them. */
static clseq_status draw_marks(clseq_model *m, const fit_data *d, marks *k, int batch,
                               const clseq_history *h, clseq_progress *progress, int wait)
{
    clseq_status s = clseq_cl_check(clFlush(m->dev->queue), "clFlush");
    while (s == CLSEQ_OK && k->drawn < k->count) {
        cl_int state = CL_QUEUED;
        s = clseq_cl_check(clGetEventInfo(k->read[k->drawn], CL_EVENT_COMMAND_EXECUTION_STATUS,
                                          sizeof state, &state, NULL),
                           "clGetEventInfo");
        if (s == CLSEQ_OK && state < 0)
            s = clseq_cl_fail(state, "training batch on the device");
        if (s != CLSEQ_OK || (state != CL_COMPLETE && !wait))
            break;
        if (state != CL_COMPLETE) {
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
            continue;
        }
        float values[CLSEQ_HISTORY_MAX_SERIES];
        const char *names[CLSEQ_HISTORY_MAX_SERIES];
        size_t rows = (size_t)k->step[k->drawn] * (size_t)batch;
        int count = running_values(m, k->slots + k->drawn * CLSEQ_SUMS_FLOATS,
                                   rows < d->n ? rows : d->n, values);
        for (int i = 0; i < count; i++)
            names[i] = clseq_history_series_name(h, i);
        clseq_progress_update(progress, k->step[k->drawn], names, values, count);
        k->drawn++;
    }
    return s;
}

/* Every step of the epoch, enqueued without waiting. On a terminal the
 * steps go in up to MARKS parts, each followed by a read of the running
 * sums (the fused kernel then runs a part per launch), and the bar is
 * redrawn with the running loss and metrics as the device reaches each.
 * Streamed, a part never crosses a block, and the next block is staged
 * once the current one's steps are queued. */
static clseq_status train_steps(clseq_model *m, fit_data *d, int batch, int fused,
                                const clseq_history *h, clseq_progress *progress)
{
    marks k;
    memset(&k, 0, sizeof k);
    k.slots = progress->live ? malloc(MARKS * SUM_BYTES) : NULL;
    int steps = (int)((d->n + (size_t)batch - 1) / (size_t)batch);
    int block_steps = d->streamed ? (int)(d->block_rows / (size_t)batch) : steps;
    int every = k.slots ? (steps + MARKS - 1) / MARKS : steps;
    clseq_status s = d->streamed ? clseq_fit_blocks_epoch(m, d) : CLSEQ_OK;
    for (int first = 0; first < steps && s == CLSEQ_OK;) {
        int block = first / block_steps;
        int block_first = block * block_steps;
        int block_last = block_first + block_steps < steps ? block_first + block_steps : steps;
        if (d->streamed && first == block_first)
            s = clseq_fit_block_begin(m, d, block);
        int last = first + every < block_last ? first + every : block_last;
        /* steps counted from the start of the rows on the device */
        int from = first - block_first, to = last - block_first;
        if (s == CLSEQ_OK)
            s = fused ? clseq_fused_steps(m, d->x, d->y, d->perm, d->here, batch, from, to,
                                          d->totals)
                      : layer_steps(m, d, batch, from, to);
        /* the next block is read while the device trains on this one */
        if (s == CLSEQ_OK && d->streamed && last == block_last)
            s = clseq_fit_block_prefetch(m, d, block + 1);
        if (s == CLSEQ_OK)
            s = mark(m, d, &k, last);
        if (s == CLSEQ_OK)
            s = draw_marks(m, d, &k, batch, h, progress, 0);
        first = last;
    }
    if (s == CLSEQ_OK)
        s = draw_marks(m, d, &k, batch, h, progress, 1);
    /* a failed enqueue leaves the reads still to come; wait for the queue
     * before the slots go (the reads write into them) */
    clFinish(m->dev->queue);
    for (int i = 0; i < k.count; i++)
        clReleaseEvent(k.read[i]);
    free(k.slots);
    return s;
}

static clseq_status run_epoch(clseq_model *m, fit_data *d, const clseq_fit_options *o,
                              const clseq_history *h, clseq_progress *progress, float *values,
                              int *count, float *param_sum)
{
    clseq_device *dev = m->dev;
    float sums[TOTALS];
    clseq_pass_sums totals;
    if (o->shuffle && d->host_perm)
        clseq_rng_shuffle(&m->shuffle_rng, d->host_perm, d->n);
    /* resident: the order goes to the device; streamed: the host gathers
     * each block in it */
    clseq_status s = d->streamed ? CLSEQ_OK
                                 : clseq_buffer_write(dev, d->perm, 0, d->n * sizeof(int),
                                                      d->host_perm);
    if (s == CLSEQ_OK)
        s = clseq_buffer_fill(dev, d->totals, 0, TOTALS, 0.0f);
    if (s == CLSEQ_OK && o->terminate_on_nan)
        s = clseq_snapshot_take(m, &d->backup, "the epoch's weight backup");
    /* the fused kernel has no weights, regularizers, schedules or replicas */
    int fused = !d->w && !m->regularized && !m->scheduled && !clseq_parallel_active(m) &&
                clseq_fused_applies(m, o->batch_size);
    if (s == CLSEQ_OK)
        s = train_steps(m, d, o->batch_size, fused, h, progress);
    /* data-parallel: the other replicas' and processes' sums join d->totals */
    if (s == CLSEQ_OK)
        s = clseq_parallel_epoch_end(m, d->totals);
    /* a step can overflow the weights after the last loss was measured:
     * their sum turns non-finite then */
    if (s == CLSEQ_OK && m->param_count > 0)
        s = clseq_op_sum_columns(dev, m->params, (int)m->param_count, 1, d->totals, PARAM_SUM, 0);
    if (s == CLSEQ_OK && m->state_count > 0)
        s = clseq_op_sum_columns(dev, m->state, (int)m->state_count, 1, d->totals, STATE_SUM, 0);
    if (s == CLSEQ_OK)
        s = clseq_buffer_read(dev, d->totals, 0, sizeof sums, sums);
    if (s != CLSEQ_OK)
        return s;
    clseq_pass_sums_read(sums, &totals);
    /* a non-finite moving statistic breaks inference as surely as a weight */
    *param_sum = isfinite(sums[STATE_SUM]) ? sums[PARAM_SUM] : sums[STATE_SUM];
    *count = clseq_totals_to_values(m, &totals, clseq_parallel_rows(m, d->n), values);
    if (d->val_n > 0) {
        clseq_rows val = {.x = d->val_x, .y = d->val_y, .hx = d->val_hx, .hy = d->val_hy,
                          .src = d->val_src, .src_first = d->val_first};
        size_t val_n = d->val_n; /* every process's, in a fit over several */
        if ((s = clseq_pass_totals(m, &val, d->val_n, &totals)) != CLSEQ_OK ||
            (s = clseq_parallel_reduce_sums(m, &totals, &val_n)) != CLSEQ_OK)
            return s;
        *count += clseq_totals_to_values(m, &totals, val_n, values + *count);
    }
    return CLSEQ_OK;
}

/* Puts back the weights from before a diverged epoch and starts the
 * optimizer afresh: its moments are as non-finite as the weights were. */
static clseq_status restore_backup(clseq_model *m, fit_data *d, int epoch, float loss,
                                   float param_sum)
{
    clseq_status s = clseq_snapshot_restore(m, &d->backup);
    if (s == CLSEQ_OK)
        s = clseq_model_reset_optimizer(m);
    clFinish(m->dev->queue);
    if (s != CLSEQ_OK)
        return s;
    return clseq_fail(CLSEQ_E_NUMERIC,
                      "clseq_fit: training diverged in epoch %d (loss %g, weights %s); the "
                      "weights from before that epoch were kept and the optimizer state reset",
                      epoch + 1, (double)loss, isfinite(param_sum) ? "finite" : "not finite");
}

/* The epochs over the rows in d, which s says were set up (or not), then
 * d released. */
static clseq_status train_epochs(clseq_model *m, fit_data *d_rows, const clseq_fit_options *opt,
                                 clseq_history **history, clseq_status s)
{
    fit_data d = *d_rows;
    clseq_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    clseq_history *h = NULL;
    if (s != CLSEQ_OK)
        goto done;
    int work_rows = opt->batch_size < (int)d.n ? opt->batch_size : (int)d.n;
    if (d.val_n > (size_t)work_rows)
        work_rows = d.val_n < 4096 ? (int)d.val_n : (work_rows > 4096 ? work_rows : 4096);
    if ((s = clseq_workspace_reserve(m, work_rows)) != CLSEQ_OK ||
        (s = clseq_parallel_begin(m, d.n, opt->batch_size)) != CLSEQ_OK)
        goto done;
    h = clseq_history_create(m->metrics, d.val_n > 0, opt->epochs);
    if (!h) {
        s = clseq_fail(CLSEQ_E_NOMEM, "clseq_fit: out of host memory for the history");
        goto done;
    }
    if (opt->reduce_lr_on_plateau && m->scheduled) {
        s = clseq_fail(CLSEQ_E_STATE, "clseq_fit: reduce_lr_on_plateau cannot change a learning "
                       "rate that follows a schedule");
        goto done;
    }
    if ((s = clseq_callbacks_begin(&callbacks, opt, h)) != CLSEQ_OK)
        goto done;
    clseq_progress progress;
    int steps = (int)((d.n + (size_t)opt->batch_size - 1) / (size_t)opt->batch_size);
    clseq_progress_init(&progress, opt->progress_stream, opt->verbose, opt->epochs, steps);
    /* from here the callbacks may call in: what would break the fit is
     * refused (clseq_model_check_idle) */
    m->in_fit = 1;
    int stop = 0;
    for (int epoch = opt->initial_epoch; epoch < opt->epochs && !stop; epoch++) {
        float values[CLSEQ_HISTORY_MAX_SERIES];
        const char *names[CLSEQ_HISTORY_MAX_SERIES];
        int count = 0;
        float param_sum = 0;
        clseq_progress_epoch_begin(&progress, epoch);
        s = run_epoch(m, &d, opt, h, &progress, values, &count, &param_sum);
        m->host_stale = 1;
        if (s == CLSEQ_OK && opt->terminate_on_nan &&
            (!isfinite(values[0]) || !isfinite(param_sum)))
            s = restore_backup(m, &d, epoch, values[0], param_sum);
        if (s != CLSEQ_OK)
            break;
        for (int i = 0; i < count; i++)
            names[i] = clseq_history_series_name(h, i);
        clseq_progress_epoch_end(&progress, names, values, count);
        clseq_history_append(h, values);
        m->epochs = epoch + 1;
        if ((s = clseq_callbacks_epoch_end(&callbacks, m, epoch, h, values, &stop)) != CLSEQ_OK)
            break;
        if (opt->on_epoch_end && opt->on_epoch_end(epoch, h, opt->user_data))
            stop = 1;
    }
    m->in_fit = 0;
done:;
    clseq_parallel_end(m);
    clseq_status ended = clseq_callbacks_end(&callbacks, m, s);
    if (s == CLSEQ_OK)
        s = ended;
    release_data(&d);
    if (history && s == CLSEQ_OK)
        *history = h;
    else
        clseq_history_free(h);
    return s;
}

/* What both fits do before their rows are set up. */
static clseq_status fit_begin(clseq_model *m, const clseq_fit_options *opt, fit_data *d)
{
    memset(d, 0, sizeof *d);
    d->shuffle = opt->shuffle;
    m->regularized = clseq_model_regularized(m);
    return clseq_model_sync_device(m);
}

clseq_status clseq_fit(clseq_model *m, const float *x, const float *y, size_t n,
                       const clseq_fit_options *opt, clseq_history **history)
{
    if (history)
        *history = NULL;
    clseq_status s = check_fit_args(m, x, y, n, opt);
    if (s != CLSEQ_OK)
        return s;
    if (m->in_fit)
        return clseq_model_check_idle(m, "clseq_fit");
    fit_data d;
    if ((s = fit_begin(m, opt, &d)) == CLSEQ_OK)
        s = upload_data(m, x, y, n, opt, &d);
    return train_epochs(m, &d, opt, history, s);
}

static clseq_status check_source(const clseq_source *src, const char *which)
{
    if (!src->read)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit_source: %s's read function is NULL", which);
    if (src->rows == 0 || src->rows > (size_t)INT32_MAX)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit_source: %s holds %zu rows; it needs 1 to 2^31",
                          which, src->rows);
    return CLSEQ_OK;
}

static clseq_status check_source_args(const clseq_model *m, const clseq_source *train,
                                      const clseq_source *val, const clseq_fit_options *o)
{
    if (!m || !train || !o)
        return clseq_fail(CLSEQ_E_ARG, "clseq_fit_source: model, train and options must not "
                          "be NULL");
    if (!m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "clseq_fit_source: compile the model first");
    clseq_status s = check_options(o);
    if (s == CLSEQ_OK)
        s = check_source(train, "train");
    if (s == CLSEQ_OK && val)
        s = check_source(val, "val");
    if (s == CLSEQ_OK && (o->val_n || o->val_x || o->val_y))
        s = clseq_fail(CLSEQ_E_ARG, "clseq_fit_source: validation rows come from the val source "
                       "or validation_split, not val_x, val_y and val_n");
    /* a weight per row would be an array as long as the data */
    if (s == CLSEQ_OK && o->sample_weight)
        s = clseq_fail(CLSEQ_E_ARG, "clseq_fit_source: sample_weight is not taken; class_weight "
                       "is");
    return s;
}

clseq_status clseq_fit_source(clseq_model *m, const clseq_source *train, const clseq_source *val,
                              const clseq_fit_options *opt, clseq_history **history)
{
    if (history)
        *history = NULL;
    clseq_status s = check_source_args(m, train, val, opt);
    if (s != CLSEQ_OK)
        return s;
    if (m->in_fit)
        return clseq_model_check_idle(m, "clseq_fit_source");
    fit_data d;
    if ((s = fit_begin(m, opt, &d)) == CLSEQ_OK)
        s = source_data(m, train, val, opt, &d);
    return train_epochs(m, &d, opt, history, s);
}
