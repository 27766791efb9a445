/* Streamed fits (nn/fit_data.h): training rows that do not stay on the
 * device go up a block at a time, through two sets of block buffers, so
 * the host reads or gathers block b + 1 while the device trains on block
 * b.
 *
 * From the caller's arrays the host gathers each block in the epoch's
 * global permutation, so a streamed fit's weights are bit-identical to a
 * resident one's (the fused trainer's reported loss may differ in its
 * last bit: it adds its sums to the totals once per launch, and a
 * streamed epoch launches once per block). A source (clseq_fit_source)
 * can only be read in runs of rows, so its shuffle is by blocks: the
 * order of its whole blocks is permuted (the last, partial block stays
 * last, so the steps keep their sizes) and so are the rows within each
 * block, through the block's perm buffer. */
#include <stdlib.h>
#include <string.h>

#include "nn/fit_data.h"
#include "nn/infer.h"
#include "nn/weights.h"

/* The two host stages together stay under this, whatever the device
 * could take: a streamed fit's memory should not follow the data's size,
 * and blocks larger than a few MiB make no step faster. */
static const size_t STAGE_BYTES = (size_t)32 << 20;

int clseq_fit_block_count(const fit_data *d)
{
    return (int)((d->n + d->block_rows - 1) / d->block_rows);
}

static size_t block_rows_of(const fit_data *d, int b)
{
    size_t first = (size_t)b * d->block_rows;
    return d->n - first < d->block_rows ? d->n - first : d->block_rows;
}

static clseq_status make_slot(clseq_model *m, fit_data *d, fit_slot *slot, int width)
{
    size_t rows = d->block_rows;
    int weighted = d->host_w || d->class_weight;
    size_t floats = rows * (size_t)(m->input_dim + width + weighted);
    slot->block = -1;
    slot->stage = malloc(floats * sizeof *slot->stage);
    slot->order = malloc(rows * sizeof *slot->order);
    if (!slot->stage || !slot->order)
        return clseq_fail(CLSEQ_E_NOMEM, "clseq_fit: out of host memory for a block of %zu rows",
                          rows);
    for (size_t i = 0; i < rows; i++)
        slot->order[i] = (int)i;
    clseq_status s = clseq_buffer_create_named(m->dev, rows * (size_t)m->input_dim * sizeof(float),
                                               "a block of training rows", &slot->x);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create_named(m->dev, rows * (size_t)width * sizeof(float),
                                      "a block of training targets", &slot->y);
    if (s == CLSEQ_OK && weighted)
        s = clseq_buffer_create_named(m->dev, rows * sizeof(float), "a block of sample weights",
                                      &slot->w);
    if (s == CLSEQ_OK)
        s = clseq_buffer_create_named(m->dev, rows * sizeof(int), "a block's row order",
                                      &slot->perm);
    /* in order until a source's shuffle reorders it */
    if (s == CLSEQ_OK)
        s = clseq_buffer_write(m->dev, slot->perm, 0, rows * sizeof(int), slot->order);
    return s;
}

clseq_status clseq_fit_blocks_make(clseq_model *m, fit_data *d, int batch, size_t row_bytes,
                                   size_t budget)
{
    int width = clseq_model_target_width(m);
    /* two blocks share the budget, and two host stages STAGE_BYTES */
    size_t fit_rows = budget / 2 / row_bytes;
    if (fit_rows > STAGE_BYTES / 2 / row_bytes)
        fit_rows = STAGE_BYTES / 2 / row_bytes;
    size_t whole = (d->n + (size_t)batch - 1) / (size_t)batch * (size_t)batch;
    d->block_rows = fit_rows < (size_t)batch ? (size_t)batch : fit_rows / batch * batch;
    if (d->block_rows > whole)
        d->block_rows = whole;
    if (d->src) {
        d->block_order = malloc((size_t)clseq_fit_block_count(d) * sizeof *d->block_order);
        if (!d->block_order)
            return clseq_fail(CLSEQ_E_NOMEM, "clseq_fit: out of host memory for the block order");
        for (int b = 0; b < clseq_fit_block_count(d); b++)
            d->block_order[b] = b;
    }
    clseq_status s = make_slot(m, d, &d->slots[0], width);
    if (s == CLSEQ_OK)
        s = make_slot(m, d, &d->slots[1], width);
    /* weighted rows have a weight buffer from the start: the first epoch
     * picks its trainer before any block is staged, and one without
     * weights (the fused kernel) would train that epoch unweighted */
    if (s == CLSEQ_OK)
        d->w = d->slots[0].w;
    return s;
}

/* Waits for the slot's last writes: its host copies may change after. */
static clseq_status slot_settle(fit_slot *slot)
{
    clseq_status s = CLSEQ_OK;
    if (slot->written) {
        s = clseq_cl_check(clWaitForEvents(1, &slot->written), "writing a block of rows");
        clReleaseEvent(slot->written);
        slot->written = NULL;
    }
    return s;
}

clseq_status clseq_fit_blocks_epoch(clseq_model *m, fit_data *d)
{
    clseq_status s = CLSEQ_OK;
    for (int i = 0; i < 2; i++) {
        clseq_status settled = slot_settle(&d->slots[i]);
        s = s == CLSEQ_OK ? settled : s;
        d->slots[i].block = -1;
    }
    int blocks = clseq_fit_block_count(d);
    int whole = block_rows_of(d, blocks - 1) == d->block_rows ? blocks : blocks - 1;
    if (d->src && d->shuffle && whole > 1)
        clseq_rng_shuffle(&m->shuffle_rng, d->block_order, (size_t)whole);
    return s;
}

/* A source's block: read, checked as clseq_fit checks arrays, weighed by
 * class, and its rows shuffled through the order. */
static clseq_status read_block(clseq_model *m, fit_data *d, fit_slot *slot, size_t first,
                               float *sx, float *sy, float *sw)
{
    size_t rows = slot->rows;
    clseq_status s = clseq_source_rows(m, d->src, first, rows, sx, sy, "clseq_fit: source");
    if (s != CLSEQ_OK)
        return s;
    if (d->class_weight) {
        float *w = NULL;
        if ((s = clseq_row_weights(m, sy, rows, NULL, d->class_weight, d->class_weight_count,
                                   "clseq_fit", &w)) != CLSEQ_OK)
            return s;
        memcpy(sw, w, rows * sizeof *w);
        free(w);
    }
    for (size_t i = 0; i < rows; i++)
        slot->order[i] = (int)i;
    if (d->shuffle)
        clseq_rng_shuffle(&m->shuffle_rng, slot->order, rows);
    return CLSEQ_OK;
}

/* An array block: gathered in the epoch's global order. */
static void gather_block(clseq_model *m, fit_data *d, size_t first, size_t rows, float *sx,
                         float *sy, float *sw)
{
    int in = m->input_dim, width = clseq_model_target_width(m);
    for (size_t r = 0; r < rows; r++) {
        size_t from = (size_t)d->host_perm[first + r];
        memcpy(sx + r * (size_t)in, d->hx + from * (size_t)in, (size_t)in * sizeof(float));
        memcpy(sy + r * (size_t)width, d->hy + from * (size_t)width, (size_t)width * sizeof(float));
        if (d->host_w)
            sw[r] = d->host_w[from];
    }
}

/* Enqueues one write of the slot's, keeping the last one's event. */
static clseq_status write_part(clseq_model *m, fit_slot *slot, cl_mem buf, size_t bytes,
                               const void *src)
{
    cl_event done = NULL;
    clseq_status s = clseq_buffer_write_async(m->dev, buf, 0, bytes, src, &done);
    if (s == CLSEQ_OK && done) {
        if (slot->written)
            clReleaseEvent(slot->written);
        slot->written = done;
    }
    return s;
}

static clseq_status stage(clseq_model *m, fit_data *d, int b)
{
    fit_slot *slot = &d->slots[b % 2];
    clseq_status s = slot_settle(slot);
    if (s != CLSEQ_OK)
        return s;
    int in = m->input_dim, width = clseq_model_target_width(m);
    slot->block = -1;
    slot->rows = block_rows_of(d, b);
    size_t rows = slot->rows;
    float *sx = slot->stage, *sy = sx + rows * (size_t)in, *sw = sy + rows * (size_t)width;
    if (d->src)
        s = read_block(m, d, slot, (size_t)d->block_order[b] * d->block_rows, sx, sy, sw);
    else
        gather_block(m, d, (size_t)b * d->block_rows, rows, sx, sy, sw);
    if (s == CLSEQ_OK)
        s = write_part(m, slot, slot->x, rows * (size_t)in * sizeof(float), sx);
    if (s == CLSEQ_OK)
        s = write_part(m, slot, slot->y, rows * (size_t)width * sizeof(float), sy);
    if (s == CLSEQ_OK && slot->w)
        s = write_part(m, slot, slot->w, rows * sizeof(float), sw);
    if (s == CLSEQ_OK && d->src && d->shuffle)
        s = write_part(m, slot, slot->perm, rows * sizeof(int), slot->order);
    if (s == CLSEQ_OK)
        slot->block = b;
    return s;
}

clseq_status clseq_fit_block_prefetch(clseq_model *m, fit_data *d, int b)
{
    if (b >= clseq_fit_block_count(d) || d->slots[b % 2].block == b)
        return CLSEQ_OK;
    /* the device starts on what is queued while the host reads */
    clseq_status s = clseq_cl_check(clFlush(m->dev->queue), "clFlush");
    return s == CLSEQ_OK ? stage(m, d, b) : s;
}

clseq_status clseq_fit_block_begin(clseq_model *m, fit_data *d, int b)
{
    fit_slot *slot = &d->slots[b % 2];
    clseq_status s = slot->block == b ? CLSEQ_OK : stage(m, d, b);
    if (s != CLSEQ_OK)
        return s;
    d->x = slot->x;
    d->y = slot->y;
    d->w = slot->w;
    d->perm = slot->perm;
    d->here = slot->rows;
    return CLSEQ_OK;
}

void clseq_fit_blocks_release(fit_data *d)
{
    for (int i = 0; i < 2; i++) {
        fit_slot *slot = &d->slots[i];
        /* a write still queued reads the stage: wait before it goes */
        slot_settle(slot);
        clseq_buffer_release(&slot->x);
        clseq_buffer_release(&slot->y);
        clseq_buffer_release(&slot->w);
        clseq_buffer_release(&slot->perm);
        free(slot->stage);
        free(slot->order);
    }
    free(d->block_order);
    /* the current block's buffers were the slots' */
    if (d->streamed) {
        d->x = d->y = d->w = d->perm = NULL;
    }
}
