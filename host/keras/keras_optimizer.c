/* The optimizer's state in Keras's layout (keras_weights.h): iterations,
 * the learning rate, then each trainable variable's slots in the
 * optimizer's build order, interleaved (BaseOptimizer.
 * add_optimizer_variables). clseq's slots (nn/model_io.h) are in that same
 * order and each spans the parameter vector, whose order is Keras's
 * trainable-variable order (every trainable variable of every layer in
 * turn); so Keras's variable 2 + j * S + s is clseq slot s over trainable
 * variable j. With a learning-rate schedule Keras keeps no learning-rate
 * variable (BaseOptimizer._track_variable is skipped for a
 * LearningRateSchedule), and the slots start at 1. Nadam alone keeps one
 * more, u_product, last: clseq derives it from the step count, so it is
 * skipped on reading and computed on writing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras/keras_weights.h"
#include "nn/model_io.h"
#include "sys/error.h"

/* Where the slots start: after iterations and, without a schedule, the
 * learning rate. */
static size_t first_slot(const clseq_model *m)
{
    clseq_lr_schedule schedule;
    return clseq_get_lr_schedule(m, &schedule) ? 1 : 2;
}

/* Keras's optimizer class for each clseq kind, in clseq_optimizer_kind's
 * order; its snake case names the optimizer's group. */
static const char *const keras_classes[] = {"SGD",     "Adam",    "RMSprop", "AdamW", "Adagrad",
                                            "Adadelta", "Adamax", "Nadam",   "Lion"};

/* One trainable variable: its layer, index, shape and place in the
 * parameter vector. */
typedef struct trainable {
    int layer, index;
    clseq_variable_info info;
    size_t offset;
} trainable;

/* Calls fn for each trainable variable in the parameter vector's order. */
static clseq_status each_trainable(const clseq_model *m, void *ctx,
                                   clseq_status (*fn)(void *ctx, const trainable *t, int j))
{
    size_t offset = 0;
    int j = 0;
    clseq_status s = CLSEQ_OK;
    for (int l = 0; l < clseq_layer_count(m) && s == CLSEQ_OK; l++)
        for (int i = 0; i < clseq_variable_count(m, l) && s == CLSEQ_OK; i++) {
            trainable t;
            memset(&t, 0, sizeof t);
            t.layer = l;
            t.index = i;
            t.offset = offset;
            s = clseq_get_variable_info(m, l, i, &t.info);
            if (s != CLSEQ_OK || !t.info.trainable)
                continue;
            s = fn(ctx, &t, j++);
            offset += t.info.count;
        }
    return s;
}

static clseq_status count_one(void *ctx, const trainable *t, int j)
{
    (void)t;
    (void)j;
    ++*(size_t *)ctx;
    return CLSEQ_OK;
}

static size_t trainable_variables(const clseq_model *m)
{
    size_t n = 0;
    each_trainable(m, &n, count_one);
    return n;
}

static clseq_optimizer_kind kind_of(const clseq_model *m)
{
    clseq_optimizer o;
    memset(&o, 0, sizeof o);
    clseq_model_compile_settings(m, &o, NULL, NULL);
    return o.kind;
}

size_t clseq_keras_optimizer_size(const clseq_model *m)
{
    if (!clseq_model_is_compiled(m))
        return 0;
    size_t slots = (size_t)clseq_optimizer_slot_count(m) * trainable_variables(m);
    return first_slot(m) + slots + (kind_of(m) == CLSEQ_OPT_NADAM);
}

/* ---- reading ------------------------------------------------------------- */

typedef struct reader {
    clseq_h5 *h;
    const char *group;
    char *const *names;
    int slots;
    float **values; /* per slot, the parameter vector's length */
    size_t first;   /* first_slot */
} reader;

static void dataset_path(const reader *r, size_t i, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", r->group, r->names[i]);
}

static clseq_status read_slots(void *ctx, const trainable *t, int j)
{
    const reader *r = ctx;
    clseq_status s = CLSEQ_OK;
    for (int k = 0; k < r->slots && s == CLSEQ_OK; k++) {
        char path[2 * CLSEQ_KERAS_PATH];
        dataset_path(r, r->first + (size_t)j * (size_t)r->slots + (size_t)k, path, sizeof path);
        clseq_h5_info d;
        s = clseq_h5_dataset_info(r->h, path, &d);
        int same = s == CLSEQ_OK && d.rank == t->info.rank;
        for (int i = 0; same && i < d.rank; i++)
            same = d.dims[i] == (size_t)t->info.shape[i];
        if (s == CLSEQ_OK && !same)
            s = clseq_fail(CLSEQ_E_FORMAT, "%s: optimizer variable '%s' (slot %d of layer %d's "
                           "'%s') does not have that variable's shape", clseq_h5_where(r->h), path,
                           k, t->layer, t->info.name);
        if (s == CLSEQ_OK)
            s = clseq_h5_read_f32(r->h, path, r->values[k] + t->offset, t->info.count);
    }
    return s;
}

/* The step count and learning rate: Keras's variables 0 and 1. A learning
 * rate other than the compiled one (a callback changed it before the save)
 * is taken by compiling again, before the slots are set. */
static clseq_status read_scalars(const reader *r, clseq_model *m, long long *iterations)
{
    char path[2 * CLSEQ_KERAS_PATH];
    dataset_path(r, 0, path, sizeof path);
    clseq_status s = clseq_h5_read_int(r->h, path, iterations);
    if (s == CLSEQ_OK && *iterations < 0)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: optimizer iterations '%s' is %lld",
                       clseq_h5_where(r->h), path, *iterations);
    if (r->first == 1)
        return s; /* a schedule: no learning-rate variable */
    float lr = 0;
    dataset_path(r, 1, path, sizeof path);
    if (s == CLSEQ_OK)
        s = clseq_h5_read_f32(r->h, path, &lr, 1);
    if (s == CLSEQ_OK && !(lr > 0 && isfinite(lr)))
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: optimizer learning rate '%s' is %g",
                       clseq_h5_where(r->h), path, (double)lr);
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics = 0;
    if (s == CLSEQ_OK && (s = clseq_model_compile_settings(m, &o, &loss, &metrics)) == CLSEQ_OK &&
        o.learning_rate != lr) {
        o.learning_rate = lr;
        s = clseq_compile(m, o, loss, metrics);
    }
    return s;
}

clseq_status clseq_keras_read_optimizer(clseq_h5 *h, clseq_model *m, const char *group,
                                        char *const *names, size_t count)
{
    size_t full = clseq_keras_optimizer_size(m);
    if (full == 0 || count == 0)
        return CLSEQ_OK;
    reader r = {h, group, names, clseq_optimizer_slot_count(m), NULL, first_slot(m)};
    if (count != r.first && count != full)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: '%s' holds %zu optimizer variables; the model's "
                          "optimizer has %zu (iterations,%s %d slot(s) for each of "
                          "%zu trainable variables%s)", clseq_h5_where(h), group, count, full,
                          r.first == 2 ? " learning rate," : "", r.slots, trainable_variables(m),
                          kind_of(m) == CLSEQ_OPT_NADAM ? ", u_product" : "");
    long long iterations = 0;
    clseq_status s = read_scalars(&r, m, &iterations);
    /* the first r.first variables only: Keras saved before the first step */
    size_t params = clseq_model_trainable_count(m);
    if (s == CLSEQ_OK && count == full && r.slots > 0) {
        r.values = calloc((size_t)r.slots, sizeof *r.values);
        for (int k = 0; r.values && k < r.slots; k++)
            if (!(r.values[k] = malloc(params * sizeof(float))))
                s = CLSEQ_E_NOMEM;
        if (!r.values || s != CLSEQ_OK)
            s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory for the optimizer's slots",
                           clseq_h5_where(h));
        if (s == CLSEQ_OK)
            s = each_trainable(m, &r, read_slots);
        for (int k = 0; k < r.slots && s == CLSEQ_OK; k++)
            if ((s = clseq_optimizer_set_slot(m, k, r.values[k])) != CLSEQ_OK)
                s = clseq_fail_context(CLSEQ_E_FORMAT, "%s: optimizer slot '%s': ",
                                       clseq_h5_where(h), clseq_optimizer_slot_name(m, k));
    }
    if (s == CLSEQ_OK)
        clseq_optimizer_set_iterations(m, iterations);
    for (int k = 0; r.values && k < r.slots; k++)
        free(r.values[k]);
    free(r.values);
    return s;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct writer {
    clseq_h5 *h;
    int slots;
    float **values;
    size_t first; /* first_slot */
} writer;

static clseq_status write_slots(void *ctx, const trainable *t, int j)
{
    const writer *w = ctx;
    size_t dims[4];
    for (int i = 0; i < t->info.rank && i < 4; i++)
        dims[i] = (size_t)t->info.shape[i];
    clseq_status s = CLSEQ_OK;
    for (int k = 0; k < w->slots && s == CLSEQ_OK; k++) {
        char path[64];
        snprintf(path, sizeof path, "optimizer/vars/%zu",
                 w->first + (size_t)j * (size_t)w->slots + (size_t)k);
        s = clseq_h5_write_f32(w->h, path, t->info.rank, dims, w->values[k] + t->offset);
    }
    return s;
}

/* Keras's Nadam: u_product = prod over steps t of beta1 (1 - 0.5 *
 * 0.96^(0.004 t)) (nadam.py). The loop ends early once nothing changes:
 * the product underflowed to 0, or (beta1 = 1) the factor became 1. */
static float nadam_u_product(const clseq_model *m)
{
    clseq_optimizer o;
    memset(&o, 0, sizeof o);
    clseq_model_compile_settings(m, &o, NULL, NULL);
    float u = 1.0f; /* in float32, as Keras keeps it */
    for (long long t = 1; t <= clseq_optimizer_iterations(m) && u != 0.0f; t++) {
        float factor = o.beta1 * (1.0f - 0.5f * powf(0.96f, 0.004f * (float)t));
        if (factor == 1.0f)
            break;
        u *= factor;
    }
    return u;
}

static clseq_status write_scalars(const clseq_model *m, clseq_h5 *h)
{
    clseq_optimizer o;
    memset(&o, 0, sizeof o);
    clseq_status s = clseq_model_compile_settings(m, &o, NULL, NULL);
    char name[CLSEQ_KERAS_NAME];
    unsigned kind = (unsigned)o.kind;
    clseq_keras_snake_case(kind < sizeof keras_classes / sizeof *keras_classes
                               ? keras_classes[kind] : "optimizer",
                           name, sizeof name);
    if (s == CLSEQ_OK)
        s = clseq_h5_make_groups(h, "optimizer/vars");
    if (s == CLSEQ_OK)
        s = clseq_h5_write_string(h, "optimizer/vars", "name", name);
    if (s == CLSEQ_OK)
        s = clseq_h5_write_int(h, "optimizer/vars/0", clseq_optimizer_iterations(m));
    if (s == CLSEQ_OK && first_slot(m) == 2) /* no variable for a schedule */
        s = clseq_h5_write_f32(h, "optimizer/vars/1", 0, NULL, &o.learning_rate);
    return s;
}

clseq_status clseq_keras_write_optimizer(const clseq_model *m, clseq_h5 *h)
{
    clseq_status s = write_scalars(m, h);
    writer w = {h, clseq_optimizer_slot_count(m), NULL, first_slot(m)};
    size_t params = clseq_model_trainable_count(m);
    if (s == CLSEQ_OK && w.slots > 0) {
        w.values = calloc((size_t)w.slots, sizeof *w.values);
        for (int k = 0; w.values && k < w.slots && s == CLSEQ_OK; k++)
            if (!(w.values[k] = malloc(params * sizeof(float))))
                s = clseq_fail(CLSEQ_E_NOMEM, "out of memory for the optimizer's slots");
            else
                s = clseq_optimizer_get_slot(m, k, w.values[k]);
        if (!w.values)
            s = clseq_fail(CLSEQ_E_NOMEM, "out of memory for the optimizer's slots");
        if (s == CLSEQ_OK)
            s = each_trainable(m, &w, write_slots);
    }
    if (s == CLSEQ_OK && kind_of(m) == CLSEQ_OPT_NADAM) {
        char path[64];
        float u = nadam_u_product(m);
        snprintf(path, sizeof path, "optimizer/vars/%zu", clseq_keras_optimizer_size(m) - 1);
        s = clseq_h5_write_f32(h, path, 0, NULL, &u);
    }
    for (int k = 0; w.values && k < w.slots; k++)
        free(w.values[k]);
    free(w.values);
    return s;
}
