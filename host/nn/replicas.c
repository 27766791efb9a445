/* Replicas of a model on its context's other devices (parallel.h). A
 * replica is a shallow copy of the model: the layer table, the variables'
 * table and the host copies of the weights are the model's (read only
 * while the fit runs), the device buffers and the workspace its own. */
#include <stdlib.h>
#include <string.h>

#include "nn/parallel.h"

/* Dropout keys of replica r come from a stream of its own (the model's
 * are 0 to 2, model.c), so replicas do not drop the same cells. */
enum { REPLICA_DROPOUT_STREAM = 16 };

/* Releases what a replica owns; the shared tables stay with the model. */
static void replica_free(clseq_model *c)
{
    if (!c)
        return;
    clseq_workspace_release(c);
    clseq_buffer_release(&c->params);
    clseq_buffer_release(&c->state);
    clseq_buffer_release(&c->grads);
    clseq_buffer_release(&c->opt_m);
    clseq_buffer_release(&c->opt_v);
    clseq_buffer_release(&c->opt_segments);
    free(c);
}

/* A new buffer on c's device holding a copy of src (bytes of it), copied
 * device to device within the context; NULL src stays NULL. */
static clseq_status clone_buffer(clseq_model *c, cl_mem src, const char *what, cl_mem *out)
{
    *out = NULL;
    if (!src)
        return CLSEQ_OK;
    size_t bytes = 0;
    clseq_status s = clseq_cl_check(clGetMemObjectInfo(src, CL_MEM_SIZE, sizeof bytes, &bytes,
                                                       NULL),
                                    "clGetMemObjectInfo");
    if (s == CLSEQ_OK)
        s = clseq_buffer_create_named(c->dev, bytes, what, out);
    if (s == CLSEQ_OK)
        s = clseq_buffer_copy(c->dev, src, 0, *out, 0, bytes);
    return s;
}

/* Replica r of m on dev: m's weights, state and optimizer state, copied
 * after m's queue has finished with them. */
static clseq_status replica_create(clseq_model *m, clseq_device *dev, int r, int rows,
                                   clseq_model **out)
{
    clseq_model *c = malloc(sizeof *c);
    if (!c)
        return clseq_fail(CLSEQ_E_NOMEM, "data-parallel fit: out of host memory for a replica");
    *c = *m;
    c->dev = dev;
    c->params = c->state = c->grads = c->opt_m = c->opt_v = c->opt_segments = NULL;
    memset(&c->work, 0, sizeof c->work);
    c->parallel = NULL;
    clseq_rng_seed_stream(&c->dropout_rng, m->seed, REPLICA_DROPOUT_STREAM + (uint64_t)r);
    clseq_status s;
    if ((s = clone_buffer(c, m->params, "replica parameters", &c->params)) != CLSEQ_OK ||
        (s = clone_buffer(c, m->state, "replica state", &c->state)) != CLSEQ_OK ||
        (s = clone_buffer(c, m->grads, "replica gradients", &c->grads)) != CLSEQ_OK ||
        (s = clone_buffer(c, m->opt_m, "replica optimizer slot m", &c->opt_m)) != CLSEQ_OK ||
        (s = clone_buffer(c, m->opt_v, "replica optimizer slot v", &c->opt_v)) != CLSEQ_OK ||
        (s = clone_buffer(c, m->opt_segments, "replica clipnorm table", &c->opt_segments)) !=
            CLSEQ_OK ||
        (s = clseq_workspace_reserve(c, rows)) != CLSEQ_OK) {
        replica_free(c);
        return clseq_fail_context(s, "replica on %s: ", dev->name);
    }
    *out = c;
    return CLSEQ_OK;
}

clseq_status clseq_replicas_create(clseq_model *m, clseq_parallel *p, int rows)
{
    clseq_ctx *ctx = m->ctx;
    p->count = 1;
    p->replica[0] = m;
    /* the copies read m's buffers on other queues: m's work must be done */
    clseq_status s = clseq_cl_check(clFinish(m->dev->queue), "clFinish");
    for (int r = 1; r < ctx->device_count && s == CLSEQ_OK; r++) {
        s = replica_create(m, &ctx->devices[r], r, rows, &p->replica[r]);
        p->count += s == CLSEQ_OK;
    }
    for (int r = 1; r < p->count && s == CLSEQ_OK; r++)
        s = clseq_cl_check(clFinish(p->replica[r]->dev->queue), "clFinish");
    double total = 0, run = 0;
    for (int r = 0; r < p->count; r++)
        total += p->replica[r]->dev->share > 0 ? p->replica[r]->dev->share : 1.0;
    p->cut[0] = 0;
    for (int r = 0; r < p->count; r++) {
        run += p->replica[r]->dev->share > 0 ? p->replica[r]->dev->share : 1.0;
        p->cut[r + 1] = run / total;
    }
    p->cut[p->count] = 1.0;
    return s;
}

void clseq_replicas_free(clseq_parallel *p)
{
    /* a failed step may leave work queued that reads the buffers */
    for (int r = 0; r < p->count; r++)
        clFinish(p->replica[r]->dev->queue);
    for (int r = 1; r < p->count; r++) {
        replica_free(p->replica[r]);
        p->replica[r] = NULL;
    }
    p->count = 0;
}

void clseq_replicas_follow(clseq_parallel *p)
{
    const clseq_model *m = p->replica[0];
    for (int r = 1; r < p->count; r++) {
        clseq_model *c = p->replica[r];
        c->optimizer = m->optimizer;
        c->schedule = m->schedule;
        c->scheduled = m->scheduled;
    }
}
