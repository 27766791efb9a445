/* The sum of the replicas' gradients (parallel.h), two ways: through the
 * host (each replica's vector read back, added in replica order, written
 * to every replica) or device to device within the context (each
 * replica's vector copied to the main device and added there in replica
 * order, the sum copied back). Both add in the same order, so they give
 * the same floats; which is faster depends on the devices and the bus, so
 * the fit measures both when it starts. With several processes the
 * in-process sum is then summed over them in one collective call. */
#include <float.h>
#include <stdlib.h>

#include "nn/parallel.h"
#include "ops/ops.h"
#include "sys/clock.h"

/* The sum of the process's replicas, in p->host's first param_count
 * floats: summed over the processes and written back to every replica. */
static clseq_status share_host_sum(clseq_parallel *p, int from)
{
    size_t n = p->replica[0]->param_count, bytes = n * sizeof(float);
    clseq_status s = CLSEQ_OK;
    if (p->coll)
        s = p->coll->allreduce(p->coll->impl, CLSEQ_MSG_STEP, p->host, n);
    for (int r = from; r < p->count && s == CLSEQ_OK; r++)
        s = clseq_buffer_write(p->replica[r]->dev, p->replica[r]->grads, 0, bytes, p->host);
    return s;
}

static clseq_status exchange_host(clseq_parallel *p)
{
    size_t n = p->replica[0]->param_count, bytes = n * sizeof(float);
    clseq_status s = CLSEQ_OK;
    /* every device goes on with its backward while the host waits for one */
    for (int r = 0; r < p->count && s == CLSEQ_OK; r++)
        s = clseq_cl_check(clFlush(p->replica[r]->dev->queue), "clFlush");
    for (int r = 0; r < p->count && s == CLSEQ_OK; r++)
        s = clseq_buffer_read(p->replica[r]->dev, p->replica[r]->grads, 0, bytes, p->host + r * n);
    if (s != CLSEQ_OK)
        return s;
    for (int r = 1; r < p->count; r++) {
        const float *add = p->host + (size_t)r * n;
        for (size_t i = 0; i < n; i++)
            p->host[i] += add[i];
    }
    return share_host_sum(p, 0);
}

clseq_status clseq_copy_after(clseq_device *dev, cl_mem src, size_t src_off, cl_mem dst,
                              size_t dst_off, size_t bytes, cl_event after)
{
    if (clseq_fault_due(dev))
        return clseq_fault_fail(dev, CLSEQ_E_CL, "clEnqueueCopyBuffer (between devices)");
    return clseq_cl_check(clEnqueueCopyBuffer(dev->queue, src, dst, src_off, dst_off, bytes, 1,
                                              &after, NULL),
                          "clEnqueueCopyBuffer (between devices)");
}

clseq_status clseq_marker(clseq_device *dev, cl_event *out)
{
    clseq_status s = clseq_cl_check(clEnqueueMarkerWithWaitList(dev->queue, 0, NULL, out),
                                    "clEnqueueMarkerWithWaitList");
    if (s == CLSEQ_OK)
        s = clseq_cl_check(clFlush(dev->queue), "clFlush");
    return s;
}

static clseq_status exchange_device(clseq_parallel *p)
{
    clseq_model *m = p->replica[0];
    size_t n = m->param_count, bytes = n * sizeof(float);
    clseq_status s = CLSEQ_OK;
    for (int r = 1; r < p->count && s == CLSEQ_OK; r++) {
        cl_event done = NULL;
        s = clseq_marker(p->replica[r]->dev, &done);
        if (s == CLSEQ_OK)
            s = clseq_copy_after(m->dev, p->replica[r]->grads, 0, p->stage, 0, bytes, done);
        if (s == CLSEQ_OK)
            s = clseq_op_add_into(m->dev, m->grads, p->stage, (int)n);
        if (done)
            clReleaseEvent(done);
    }
    /* processes: the sum goes through the host to the collective and back */
    if (s == CLSEQ_OK && p->coll) {
        s = clseq_buffer_read(m->dev, m->grads, 0, bytes, p->host);
        if (s == CLSEQ_OK)
            s = share_host_sum(p, 0);
    }
    cl_event summed = NULL, copied[CLSEQ_MAX_DEVICES];
    int copies = 0;
    if (s == CLSEQ_OK && p->count > 1)
        s = clseq_marker(m->dev, &summed);
    for (int r = 1; r < p->count && s == CLSEQ_OK; r++) {
        s = clseq_copy_after(p->replica[r]->dev, m->grads, 0, p->replica[r]->grads, 0, bytes,
                             summed);
        if (s == CLSEQ_OK && (s = clseq_marker(p->replica[r]->dev, &copied[copies])) == CLSEQ_OK)
            copies++;
    }
    /* the main device's update (clipping scales the gradients in place)
     * and next backward must wait until every replica has its copy */
    if (s == CLSEQ_OK && copies > 0)
        s = clseq_cl_check(clEnqueueBarrierWithWaitList(m->dev->queue, (cl_uint)copies, copied,
                                                        NULL),
                           "clEnqueueBarrierWithWaitList");
    for (int i = 0; i < copies; i++)
        clReleaseEvent(copied[i]);
    if (summed)
        clReleaseEvent(summed);
    return s;
}

clseq_status clseq_allreduce_grads(clseq_parallel *p)
{
    /* nothing to sum, and no process has anything either (same model) */
    if (p->replica[0]->param_count == 0)
        return CLSEQ_OK;
    return p->exchange ? exchange_device(p) : exchange_host(p);
}

/* The best of runs exchanges one way, in milliseconds, each waited for. */
static clseq_status time_exchange(clseq_parallel *p, int way, int runs, double *best)
{
    int saved = p->exchange;
    const clseq_collective *coll = p->coll;
    p->exchange = way;
    p->coll = NULL; /* timing is this process's own: no messages */
    *best = DBL_MAX;
    clseq_status s = CLSEQ_OK;
    for (int i = 0; i < runs && s == CLSEQ_OK; i++) {
        double start = clseq_seconds();
        s = clseq_allreduce_grads(p);
        for (int r = 0; r < p->count && s == CLSEQ_OK; r++)
            s = clseq_cl_check(clFinish(p->replica[r]->dev->queue), "clFinish");
        double ms = (clseq_seconds() - start) * 1e3;
        *best = ms < *best ? ms : *best;
    }
    p->exchange = saved;
    p->coll = coll;
    return s;
}

clseq_status clseq_allreduce_choose(clseq_parallel *p, int forced, int runs, double *host_ms,
                                    double *device_ms)
{
    clseq_model *m = p->replica[0];
    size_t n = m->param_count;
    *host_ms = *device_ms = 0;
    free(p->host);
    p->host = malloc((n ? n : 1) * (size_t)p->count * sizeof *p->host);
    if (!p->host)
        return clseq_fail(CLSEQ_E_NOMEM, "data-parallel fit: out of host memory for %d x %zu "
                          "gradients", p->count, n);
    clseq_status s = CLSEQ_OK;
    if (p->count > 1 && n > 0 && !p->stage)
        s = clseq_buffer_create_named(m->dev, n * sizeof(float), "gradient exchange", &p->stage);
    p->exchange = forced > 0;
    if (s != CLSEQ_OK || p->count == 1 || n == 0 || (forced >= 0 && runs == 0))
        return s;
    /* the gradients hold nothing yet: every step's backward rewrites them */
    if ((s = time_exchange(p, 0, runs, host_ms)) == CLSEQ_OK)
        s = time_exchange(p, 1, runs, device_ms);
    if (forced < 0)
        p->exchange = *device_ms < *host_ms;
    return s;
}
