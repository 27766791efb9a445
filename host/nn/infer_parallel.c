/* Evaluate and predict over a context's devices (parallel.h): replicas
 * with the model's weights, each given a contiguous share of the rows and
 * a thread that runs the one-device pass over them. OpenCL calls are
 * thread-safe; each thread touches only its own device's queue, kernels
 * and buffers. A thread's failure message is carried back to the caller's
 * thread (the last error is per thread). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "nn/parallel.h"

typedef struct share_job {
    clseq_model *replica;
    clseq_rows src;          /* host rows, moved to the share's first row */
    const float *x;          /* predict: the share's rows */
    float *out;              /* predict: where their outputs go */
    size_t rows;
    clseq_pass_sums sums;    /* evaluate */
    clseq_status status;
    char error[1024];
} share_job;

static void finish_job(share_job *j)
{
    if (j->status != CLSEQ_OK)
        snprintf(j->error, sizeof j->error, "%s", clseq_last_error());
}

static void *evaluate_share(void *arg)
{
    share_job *j = arg;
    memset(&j->sums, 0, sizeof j->sums);
    j->status = j->rows ? clseq_pass_totals(j->replica, &j->src, j->rows, &j->sums) : CLSEQ_OK;
    finish_job(j);
    return NULL;
}

static void *predict_share(void *arg)
{
    share_job *j = arg;
    j->status = j->rows ? clseq_predict_rows(j->replica, j->x, j->rows, j->out) : CLSEQ_OK;
    finish_job(j);
    return NULL;
}

/* Runs work on every job, jobs 1.. in threads of their own and job 0 here;
 * the first failure in device order is the result. */
static clseq_status run_jobs(share_job *jobs, int count, void *(*work)(void *))
{
    pthread_t threads[CLSEQ_MAX_DEVICES];
    int started[CLSEQ_MAX_DEVICES] = {0};
    for (int r = 1; r < count; r++)
        started[r] = pthread_create(&threads[r], NULL, work, &jobs[r]) == 0;
    for (int r = 1; r < count; r++)
        if (!started[r])
            work(&jobs[r]); /* no thread to be had: its share runs here */
    work(&jobs[0]);
    for (int r = 1; r < count; r++)
        if (started[r])
            pthread_join(threads[r], NULL);
    for (int r = 0; r < count; r++)
        if (jobs[r].status != CLSEQ_OK)
            return clseq_fail(jobs[r].status, "%s (on %s)", jobs[r].error,
                              jobs[r].replica->dev->name);
    return CLSEQ_OK;
}

/* Replicas of m and one job per device over n rows, split by the shares. */
static clseq_status make_jobs(clseq_model *m, clseq_parallel *p, size_t n, share_job *jobs,
                              size_t *first)
{
    memset(p, 0, sizeof *p);
    size_t most = n < 4096 ? n : 4096;
    clseq_status s = clseq_replicas_create(m, p, (int)most);
    for (int r = 0; r <= p->count; r++)
        first[r] = r == p->count ? n : (size_t)((double)n * p->cut[r]);
    for (int r = 0; r < p->count; r++) {
        memset(&jobs[r], 0, sizeof jobs[r]);
        jobs[r].replica = p->replica[r];
        jobs[r].rows = first[r + 1] - first[r];
    }
    return s;
}

clseq_status clseq_parallel_pass_totals(clseq_model *m, const clseq_rows *src, size_t n,
                                        clseq_pass_sums *sums)
{
    clseq_parallel p;
    share_job jobs[CLSEQ_MAX_DEVICES];
    size_t first[CLSEQ_MAX_DEVICES + 1];
    int in = m->input_dim, width = clseq_model_target_width(m);
    clseq_status s = make_jobs(m, &p, n, jobs, first);
    for (int r = 0; r < p.count && s == CLSEQ_OK; r++) {
        clseq_rows *share = &jobs[r].src;
        share->hx = src->hx + first[r] * (size_t)in;
        share->hy = src->hy + first[r] * (size_t)width;
        share->hw = src->hw ? src->hw + first[r] : NULL;
    }
    if (s == CLSEQ_OK)
        s = run_jobs(jobs, p.count, evaluate_share);
    if (s == CLSEQ_OK) {
        *sums = jobs[0].sums;
        for (int r = 1; r < p.count; r++) {
            for (int i = 0; i < STATS_PER_ROW; i++)
                sums->stats[i] += jobs[r].sums.stats[i];
            for (int i = 0; i < AUC_THRESHOLDS; i++) {
                sums->positives[i] += jobs[r].sums.positives[i];
                sums->negatives[i] += jobs[r].sums.negatives[i];
            }
        }
    }
    clseq_replicas_free(&p);
    return s;
}

clseq_status clseq_parallel_predict(clseq_model *m, const float *x, size_t n, float *out)
{
    clseq_parallel p;
    share_job jobs[CLSEQ_MAX_DEVICES];
    size_t first[CLSEQ_MAX_DEVICES + 1];
    int in = m->input_dim, width = clseq_model_output_dim(m);
    clseq_status s = make_jobs(m, &p, n, jobs, first);
    for (int r = 0; r < p.count && s == CLSEQ_OK; r++) {
        jobs[r].x = x + first[r] * (size_t)in;
        jobs[r].out = out + first[r] * (size_t)width;
    }
    if (s == CLSEQ_OK)
        s = run_jobs(jobs, p.count, predict_share);
    clseq_replicas_free(&p);
    return s;
}
