/* A data-parallel fit's set-up, steps and epoch ends (parallel.h). */
#include <stdlib.h>
#include <string.h>

#include "nn/parallel.h"
#include "nn/train.h"

/* Row counts cross the collective as floats: in two parts below 2^24, so
 * each is exact. */
#define SPLIT 16777216.0

int clseq_parallel_wanted(const clseq_model *m)
{
    return m->ctx->device_count > 1 || m->collective != NULL;
}

int clseq_parallel_active(const clseq_model *m)
{
    return m->parallel != NULL;
}

static size_t valid_floats(void)
{
    return STATS_PER_ROW + 2 * AUC_THRESHOLDS + 2;
}

size_t clseq_parallel_payload(const clseq_model *m, int size)
{
    size_t need = m->param_count;
    size_t epoch = CLSEQ_SUMS_FLOATS + m->state_count + 1, begin = 3 * (size_t)size;
    need = epoch > need ? epoch : need;
    need = begin > need ? begin : need;
    return valid_floats() > need ? valid_floats() : need;
}

/* BEGIN: every process's training rows and batch, and from them the steps
 * of an epoch (the most any process takes) and the rows of all. */
static clseq_status share_rows(clseq_parallel *p, size_t n, int batch)
{
    const clseq_collective *c = p->coll;
    if (c->size > CLSEQ_MAX_PROCESSES)
        return clseq_fail(CLSEQ_E_ARG, "data-parallel fit: %d processes, at most %d", c->size,
                          CLSEQ_MAX_PROCESSES);
    float *table = calloc(3 * (size_t)c->size, sizeof *table);
    if (!table)
        return clseq_fail(CLSEQ_E_NOMEM, "data-parallel fit: out of host memory");
    table[3 * c->rank] = (float)(double)(n / (size_t)SPLIT);
    table[3 * c->rank + 1] = (float)(double)(n % (size_t)SPLIT);
    table[3 * c->rank + 2] = (float)batch;
    clseq_status s = c->allreduce(c->impl, CLSEQ_MSG_BEGIN, table, 3 * (size_t)c->size);
    p->steps = 0;
    p->rows = 0;
    for (int q = 0; q < c->size && s == CLSEQ_OK; q++) {
        p->rank_rows[q] = (size_t)table[3 * q] * (size_t)SPLIT + (size_t)table[3 * q + 1];
        p->rank_batch[q] = (int)table[3 * q + 2];
        if (p->rank_batch[q] <= 0)
            s = clseq_fail(CLSEQ_E_ARG, "data-parallel fit: process %d has a batch of %d rows",
                           q, p->rank_batch[q]);
        else {
            size_t steps = (p->rank_rows[q] + (size_t)p->rank_batch[q] - 1) /
                           (size_t)p->rank_batch[q];
            p->steps = steps > (size_t)p->steps ? (int)steps : p->steps;
            p->rows += p->rank_rows[q];
        }
    }
    free(table);
    return s;
}

clseq_status clseq_parallel_begin(clseq_model *m, size_t n, int batch)
{
    if (!clseq_parallel_wanted(m))
        return CLSEQ_OK;
    clseq_parallel *p = calloc(1, sizeof *p);
    if (!p)
        return clseq_fail(CLSEQ_E_NOMEM, "data-parallel fit: out of host memory");
    m->parallel = p;
    p->coll = m->collective;
    double host_ms, device_ms;
    int rows = (size_t)batch < n ? batch : (int)n;
    clseq_status s = clseq_replicas_create(m, p, rows);
    for (int r = 1; r < p->count && s == CLSEQ_OK; r++) {
        s = clseq_buffer_create_named(p->replica[r]->dev, CLSEQ_SUMS_FLOATS * sizeof(float),
                                      "a replica's loss sums", &p->totals[r]);
        if (s == CLSEQ_OK)
            s = clseq_buffer_fill(p->replica[r]->dev, p->totals[r], 0, CLSEQ_SUMS_FLOATS, 0.0f);
    }
    if (s == CLSEQ_OK)
        s = clseq_allreduce_choose(p, m->ctx->options.exchange, 3, &host_ms, &device_ms);
    if (s == CLSEQ_OK && p->coll)
        s = share_rows(p, n, batch);
    return s;
}

void clseq_parallel_end(clseq_model *m)
{
    clseq_parallel *p = m->parallel;
    if (!p)
        return;
    clseq_replicas_free(p);
    for (int r = 1; r < CLSEQ_MAX_DEVICES; r++)
        clseq_buffer_release(&p->totals[r]);
    clseq_buffer_release(&p->stage);
    free(p->host);
    free(p);
    m->parallel = NULL;
}

size_t clseq_parallel_rows(const clseq_model *m, size_t n)
{
    return m->parallel && m->parallel->coll ? m->parallel->rows : n;
}

/* The rows of the step about to run, over every process: each process
 * takes its batch from its rows until they run out. */
static int step_rows(const clseq_parallel *p, int rows)
{
    if (!p->coll)
        return rows;
    size_t total = 0;
    for (int q = 0; q < p->coll->size; q++) {
        size_t done = (size_t)p->step * (size_t)p->rank_batch[q];
        if (p->rank_rows[q] > done) {
            size_t left = p->rank_rows[q] - done;
            total += left < (size_t)p->rank_batch[q] ? left : (size_t)p->rank_batch[q];
        }
    }
    return (int)total;
}

/* Copies each replica's rows [first[r], first[r + 1]) of the batch the main
 * device gathered into the front of its own workspace. */
static clseq_status hand_out_rows(clseq_parallel *p, const int *first, int weighted)
{
    clseq_model *m = p->replica[0];
    size_t in = (size_t)m->input_dim * sizeof(float);
    size_t width = (size_t)clseq_model_target_width(m) * sizeof(float);
    cl_event ready = NULL;
    clseq_status s = p->count > 1 ? clseq_marker(m->dev, &ready) : CLSEQ_OK;
    for (int r = 1; r < p->count && s == CLSEQ_OK; r++) {
        clseq_model *c = p->replica[r];
        size_t at = (size_t)first[r], rows = (size_t)(first[r + 1] - first[r]);
        if (rows == 0)
            continue;
        s = clseq_copy_after(c->dev, m->work.input, at * in, c->work.input, 0, rows * in, ready);
        if (s == CLSEQ_OK)
            s = clseq_copy_after(c->dev, m->work.target, at * width, c->work.target, 0,
                                 rows * width, ready);
        if (s == CLSEQ_OK && weighted)
            s = clseq_copy_after(c->dev, m->work.weight, at * sizeof(float), c->work.weight, 0,
                                 rows * sizeof(float), ready);
    }
    if (ready)
        clReleaseEvent(ready);
    return s;
}

/* Replica r's forward and backward over its rows, the gradient scaled by
 * 1 / the step's rows of every process; no rows: zero gradients. The
 * regularizers' penalty and gradient belong to the batch once: the first
 * process's main replica adds them. */
static clseq_status replica_pass(clseq_parallel *p, int r, int rows, int all_rows, int weighted,
                                 cl_mem totals)
{
    clseq_model *c = p->replica[r];
    int lead = r == 0 && (!p->coll || p->coll->rank == 0);
    clseq_status s = CLSEQ_OK;
    if (rows == 0 && c->param_count > 0)
        s = clseq_buffer_fill(c->dev, c->grads, 0, c->param_count, 0.0f);
    if (rows > 0) {
        s = clseq_forward(c, rows, 1);
        if (s == CLSEQ_OK)
            s = clseq_loss_stats_scaled(c, rows, 1.0f / (float)all_rows, totals, 1, weighted);
        if (s == CLSEQ_OK)
            s = clseq_backward(c, rows, clseq_loss_includes_activation(c), NULL);
    }
    if (s == CLSEQ_OK && lead && c->regularized) {
        s = clseq_regularizer_penalty(c, (float)all_rows, totals, 0);
        if (s == CLSEQ_OK)
            s = clseq_regularizer_grads(c);
    }
    return s;
}

clseq_status clseq_parallel_step(clseq_model *m, int rows, int weighted, cl_mem totals)
{
    clseq_parallel *p = m->parallel;
    int all_rows = step_rows(p, rows);
    p->step++;
    /* replica r's rows: its share of the process's, cut at rows x the
     * cumulative shares */
    int first[CLSEQ_MAX_DEVICES + 1];
    for (int r = 0; r < p->count; r++)
        first[r] = (int)((double)rows * p->cut[r]);
    first[p->count] = rows;
    clseq_status s = hand_out_rows(p, first, weighted);
    for (int r = 0; r < p->count && s == CLSEQ_OK; r++)
        s = replica_pass(p, r, first[r + 1] - first[r], all_rows, weighted,
                         r == 0 ? totals : p->totals[r]);
    if (s == CLSEQ_OK)
        s = clseq_allreduce_grads(p);
    /* the same update of the same sum keeps the replicas identical */
    clseq_replicas_follow(p);
    for (int r = 0; r < p->count && s == CLSEQ_OK; r++)
        s = clseq_optimizer_step(p->replica[r]);
    return s;
}

/* Adds count floats of buf from device into sum. */
static clseq_status add_read(clseq_device *dev, cl_mem buf, size_t count, float *tmp, float *sum)
{
    clseq_status s = clseq_buffer_read(dev, buf, 0, count * sizeof(float), tmp);
    for (size_t i = 0; i < count && s == CLSEQ_OK; i++)
        sum[i] += tmp[i];
    return s;
}

/* The loss and metric sums of every replica and process into totals, and
 * the state's average over every replica into each. */
static clseq_status gather_epoch(clseq_parallel *p, cl_mem totals)
{
    clseq_model *m = p->replica[0];
    size_t k = CLSEQ_SUMS_FLOATS, st = m->state_count, all = k + st + 1;
    float *sum = calloc(all, sizeof *sum), *tmp = malloc((k > st ? k : st) * sizeof *tmp);
    if (!sum || !tmp) {
        free(sum);
        free(tmp);
        return clseq_fail(CLSEQ_E_NOMEM, "data-parallel fit: out of host memory");
    }
    clseq_status s = CLSEQ_OK;
    for (int r = 0; r < p->count && s == CLSEQ_OK; r++) {
        clseq_model *c = p->replica[r];
        s = add_read(c->dev, r == 0 ? totals : p->totals[r], k, tmp, sum);
        if (s == CLSEQ_OK && st > 0)
            s = add_read(c->dev, c->state, st, tmp, sum + k);
    }
    sum[k + st] = (float)p->count; /* replicas, summed over processes */
    if (s == CLSEQ_OK && p->coll)
        s = p->coll->allreduce(p->coll->impl, CLSEQ_MSG_EPOCH, sum, all);
    for (size_t i = 0; i < st; i++)
        sum[k + i] /= sum[k + st];
    for (int r = 0; r < p->count && s == CLSEQ_OK; r++) {
        clseq_model *c = p->replica[r];
        s = r == 0 ? clseq_buffer_write(c->dev, totals, 0, k * sizeof(float), sum)
                   : clseq_buffer_fill(c->dev, p->totals[r], 0, k, 0.0f);
        if (s == CLSEQ_OK && st > 0)
            s = clseq_buffer_write(c->dev, c->state, 0, st * sizeof(float), sum + k);
    }
    free(sum);
    free(tmp);
    return s;
}

clseq_status clseq_parallel_epoch_end(clseq_model *m, cl_mem totals)
{
    clseq_parallel *p = m->parallel;
    if (!p)
        return CLSEQ_OK;
    clseq_status s = CLSEQ_OK;
    /* other processes still have rows: their steps need this one's sum */
    while (p->coll && p->step < p->steps && s == CLSEQ_OK)
        s = clseq_parallel_step(m, 0, 0, totals);
    p->step = 0;
    return s == CLSEQ_OK ? gather_epoch(p, totals) : s;
}

clseq_status clseq_parallel_reduce_sums(clseq_model *m, clseq_pass_sums *sums, size_t *n)
{
    clseq_parallel *p = m->parallel;
    if (!p || !p->coll)
        return CLSEQ_OK;
    float buf[STATS_PER_ROW + 2 * AUC_THRESHOLDS + 2];
    size_t k = 0;
    for (int i = 0; i < STATS_PER_ROW; i++)
        buf[k++] = (float)sums->stats[i];
    for (int i = 0; i < AUC_THRESHOLDS; i++) {
        buf[k++] = (float)sums->positives[i];
        buf[k++] = (float)sums->negatives[i];
    }
    buf[k++] = (float)(double)(*n / (size_t)SPLIT);
    buf[k++] = (float)(double)(*n % (size_t)SPLIT);
    clseq_status s = p->coll->allreduce(p->coll->impl, CLSEQ_MSG_VALID, buf, k);
    if (s != CLSEQ_OK)
        return s;
    k = 0;
    for (int i = 0; i < STATS_PER_ROW; i++)
        sums->stats[i] = buf[k++];
    for (int i = 0; i < AUC_THRESHOLDS; i++) {
        sums->positives[i] = buf[k++];
        sums->negatives[i] = buf[k++];
    }
    *n = (size_t)buf[k] * (size_t)SPLIT + (size_t)buf[k + 1];
    return CLSEQ_OK;
}
