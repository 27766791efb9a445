/* Device copies of a model's weights (snapshot.h). */
#include "nn/snapshot.h"

/* Copies count floats between buffers (nothing for a model without such
 * variables: its vector is empty). */
static clseq_status copy_vector(clseq_model *m, cl_mem from, cl_mem to, size_t count)
{
    if (count == 0)
        return CLSEQ_OK;
    return clseq_buffer_copy(m->dev, from, 0, to, 0, count * sizeof(float));
}

clseq_status clseq_snapshot_take(clseq_model *m, clseq_snapshot *s, const char *name)
{
    clseq_status st = CLSEQ_OK;
    if (!s->params && m->param_count > 0)
        st = clseq_buffer_create_named(m->dev, m->param_count * sizeof(float), name, &s->params);
    if (st == CLSEQ_OK && !s->state && m->state_count > 0)
        st = clseq_buffer_create_named(m->dev, m->state_count * sizeof(float), name, &s->state);
    if (st == CLSEQ_OK)
        st = copy_vector(m, m->params, s->params, m->param_count);
    if (st == CLSEQ_OK)
        st = copy_vector(m, m->state, s->state, m->state_count);
    s->taken = st == CLSEQ_OK;
    return st;
}

clseq_status clseq_snapshot_restore(clseq_model *m, const clseq_snapshot *s)
{
    clseq_status st = copy_vector(m, s->params, m->params, m->param_count);
    if (st == CLSEQ_OK)
        st = copy_vector(m, s->state, m->state, m->state_count);
    /* the host copies are older than the device's now */
    m->host_stale = 1;
    return st;
}

void clseq_snapshot_release(clseq_snapshot *s)
{
    clseq_buffer_release(&s->params);
    clseq_buffer_release(&s->state);
    s->taken = 0;
}
