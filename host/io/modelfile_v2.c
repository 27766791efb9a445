/* Model files, format version 2: the reader (modelfile_write.c writes
 * them). After the common 20 bytes (modelfile.c), integers little-endian,
 * f32 as binary32 bit patterns, strings as a u32 byte count (at most 64)
 * then printable ASCII (bytes.h):
 *
 *   u64     seed (clseq_model_set_seed)
 *   u32     input rank R (1..3), then R x u32 dims (each >= 1, product
 *           at most 2^24)
 *   u32     layer count L, then L layers:
 *             string  Keras class ("Dense", "Activation")
 *             u32     config value count (at most 16), then per value:
 *                       string name; u8 type: 1 int (i32), 2 float (f32,
 *                       finite), 3 string, 4 int list (u8 count 1..4,
 *                       then count x i32); the value
 *             u32     variable count, then per variable (Keras's order):
 *                       string name; u32 rank (1..4); rank x u32 dims
 *                       (each >= 1); u8 trainable (0/1); product-of-dims
 *                       f32 values (finite), row-major
 *   u32     compiled (0/1); if 1:
 *             string  optimizer ("sgd", "adam", "rmsprop", "adamw", ...)
 *             u32     setting count, then settings as config values:
 *                     the ones the optimizer uses, all of them, and the
 *                     optional ones that are set (clseq_mf_optimizer_config);
 *                     then, when not their defaults, "epochs" (int: epochs
 *                     completed), "metric_threshold" (float) and
 *                     "metric_k" (int), the model's metric options
 *             string  loss (Keras's name, clseq_loss_name)
 *             u32     metric bits (CLSEQ_METRIC_*)
 *             u64     iterations: optimizer steps taken (at most 2^63 - 1)
 *             u32     slot count (at most 8), then per slot: string name
 *                     (clseq_optimizer_slot_name), u64 count (the number
 *                     of trainable values), count f32 (finite)
 *
 * Nothing may follow before the checksum. Every count is bounded by the
 * bytes left before anything is allocated. Decoding runs once over the
 * bytes: with a context it builds the model as it goes (layers by class
 * and config through nn/model_io.h, variables checked against the layer's
 * own and set, then clseq_compile and the optimizer state), so a layer's
 * class, config and variables are judged by the layer itself; without
 * one it checks the syntax alone. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/modelfile.h"
#include "io/modelfile_internal.h"
#include "nn/model_io.h"
#include "sys/error.h"

enum {
    MAX_VARIABLE_RANK = 4,
    MAX_SLOTS = 8,
    WHAT = 96,   /* "layer N (CLASS)" */
    LABEL = 256, /* WHAT and a name or two more */
    /* the fewest bytes one item can take, to bound counts by what is left */
    MIN_LAYER_BYTES = 12,    /* empty class, no values, no variables */
    MIN_VALUE_BYTES = 9,     /* empty name, type, a 4-byte value */
    MIN_VARIABLE_BYTES = 17, /* empty name, rank 1, one dim, flag, one value */
    MIN_SLOT_BYTES = 12      /* empty name, count 0 */
};

typedef struct v2 {
    clseq_reader *r;
    clseq_model *m;     /* the model being built; NULL when only validating */
    uint32_t layers;
    uint64_t trainable; /* trainable values so far */
} v2;

/* A variable as the file declares it. */
typedef struct file_variable {
    char name[CLSEQ_MF_MAX_STRING + 1];
    int rank;
    int shape[MAX_VARIABLE_RANK];
    size_t count;
    int trainable;
} file_variable;

static void format_shape(char *buf, size_t size, int rank, const int *dims)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%d", i ? ", " : "", dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, ")");
}

/* n finite floats into a malloc'd *out, bounded by the bytes left. */
static clseq_status read_floats(clseq_reader *r, const char *what, size_t n, float **out)
{
    *out = NULL;
    if (n > r->left / 4)
        return clseq_read_fail(r, r->pos, "%s: %zu values run past the end of the model data",
                               what, n);
    float *x = malloc((n ? n : 1) * sizeof *x);
    if (!x)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of host memory for %s", r->name, what);
    clseq_status s = clseq_read_f32s(r, what, n, x);
    if (s == CLSEQ_OK)
        *out = x;
    else
        free(x);
    return s;
}

/* ---- header ---------------------------------------------------------------- */

static clseq_status parse_input(clseq_ctx *ctx, v2 *d)
{
    clseq_reader *r = d->r;
    uint64_t seed = 0, size = 1;
    uint32_t rank = 0, dim = 0;
    int dims[CLSEQ_MAX_RANK] = {0};
    size_t pos = r->pos;
    clseq_status s = clseq_read_u64(r, "seed", &seed);
    if (s == CLSEQ_OK)
        s = clseq_read_count(r, "input rank", CLSEQ_MAX_RANK, 4, &rank);
    if (s == CLSEQ_OK && rank == 0)
        s = clseq_read_fail(r, CLSEQ_MF2_OFF_RANK, "input rank 0 is not in 1..%d",
                            CLSEQ_MAX_RANK);
    for (uint32_t i = 0; i < rank && s == CLSEQ_OK; i++) {
        size_t at = r->pos;
        if ((s = clseq_read_u32(r, "input dimension", &dim)) != CLSEQ_OK)
            break;
        size *= dim;
        if (dim < 1 || dim > CLSEQ_MAX_UNITS || size > CLSEQ_MAX_UNITS)
            s = clseq_read_fail(r, at, "input dimension %u makes an input of %" PRIu64
                                " values, not 1..%d", (unsigned)dim, size, CLSEQ_MAX_UNITS);
        dims[i] = (int)dim;
    }
    if (s == CLSEQ_OK && ctx) {
        s = clseq_model_create_shaped(ctx, (int)rank, dims, &d->m);
        if (s == CLSEQ_OK)
            s = clseq_model_set_seed(d->m, seed);
        if (s != CLSEQ_OK)
            s = clseq_mf_refused(s, r, pos);
    }
    return s;
}

/* ---- named values ------------------------------------------------------------ */

/* An int list: u8 count (1..CLSEQ_CONFIG_INTS), then count i32. */
static clseq_status read_ints(clseq_reader *r, const char *what, const char *name,
                              clseq_layer_config *cfg)
{
    size_t pos = r->pos;
    unsigned n = 0;
    int values[CLSEQ_CONFIG_INTS];
    clseq_status s = clseq_read_u8(r, what, &n);
    if (s != CLSEQ_OK)
        return s;
    if (n < 1 || n > CLSEQ_CONFIG_INTS)
        return clseq_read_fail(r, pos, "%s: %u values, not 1..%d", what, n, CLSEQ_CONFIG_INTS);
    for (unsigned i = 0; i < n && s == CLSEQ_OK; i++) {
        uint32_t bits = 0;
        int32_t v;
        s = clseq_read_u32(r, what, &bits);
        memcpy(&v, &bits, sizeof v);
        values[i] = (int)v;
    }
    return s == CLSEQ_OK ? clseq_config_put_ints(cfg, name, (int)n, values) : s;
}

static clseq_status put_value(clseq_reader *r, const char *what, const char *name, unsigned type,
                              clseq_layer_config *cfg)
{
    size_t pos = r->pos;
    uint32_t bits = 0;
    float f = 0.0f;
    char text[CLSEQ_MF_MAX_STRING + 1];
    clseq_status s;
    switch (type) {
    case CLSEQ_VALUE_INT:
        if ((s = clseq_read_u32(r, what, &bits)) == CLSEQ_OK) {
            int32_t i;
            memcpy(&i, &bits, sizeof i);
            s = clseq_config_put_int(cfg, name, (int)i);
        }
        break;
    case CLSEQ_VALUE_FLOAT:
        if ((s = clseq_read_f32(r, what, &f)) == CLSEQ_OK)
            s = clseq_config_put_float(cfg, name, f);
        break;
    case CLSEQ_VALUE_STRING:
        if ((s = clseq_read_string(r, what, text)) == CLSEQ_OK)
            s = clseq_config_put_string(cfg, name, text);
        break;
    case CLSEQ_VALUE_INTS:
        s = read_ints(r, what, name, cfg);
        break;
    default:
        return clseq_read_fail(r, pos - 1,
                               "%s: type %u is not 1 (int), 2 (float), 3 (string) or 4 (ints)",
                               what, type);
    }
    return s == CLSEQ_E_ARG ? clseq_mf_refused(s, r, pos) : s;
}

static clseq_status read_value(clseq_reader *r, const char *what, clseq_layer_config *cfg)
{
    char name[CLSEQ_MF_MAX_STRING + 1], label[LABEL];
    unsigned type = 0;
    size_t pos = r->pos;
    snprintf(label, sizeof label, "%s value name", what);
    clseq_status s = clseq_read_string(r, label, name);
    if (s != CLSEQ_OK)
        return s;
    snprintf(label, sizeof label, "%s value '%s'", what, name);
    if (clseq_config_find(cfg, name))
        return clseq_read_fail(r, pos, "%s appears twice", label);
    if ((s = clseq_read_u8(r, label, &type)) != CLSEQ_OK)
        return s;
    return put_value(r, label, name, type, cfg);
}

static clseq_status read_values(clseq_reader *r, const char *what, clseq_layer_config *cfg)
{
    char label[LABEL];
    uint32_t count = 0;
    memset(cfg, 0, sizeof *cfg);
    snprintf(label, sizeof label, "%s value count", what);
    clseq_status s = clseq_read_count(r, label, CLSEQ_CONFIG_MAX_VALUES, MIN_VALUE_BYTES, &count);
    for (uint32_t i = 0; i < count && s == CLSEQ_OK; i++)
        s = read_value(r, what, cfg);
    return s;
}

/* ---- layers and variables ---------------------------------------------------- */

/* The variable's name, shape and trainable flag against the layer's own. */
static clseq_status check_variable(const v2 *d, int layer, int index, const file_variable *v,
                                   const char *what, size_t pos)
{
    clseq_variable_info info;
    char file_shape[96], layer_shape[96];
    clseq_status s = clseq_get_variable_info(d->m, layer, index, &info);
    if (s != CLSEQ_OK)
        return clseq_mf_refused(s, d->r, pos);
    if (strcmp(info.name, v->name) != 0)
        return clseq_read_fail(d->r, pos, "%s variable %d is '%s' in the file, but the layer's is "
                               "'%s'", what, index + 1, v->name, info.name);
    format_shape(file_shape, sizeof file_shape, v->rank, v->shape);
    format_shape(layer_shape, sizeof layer_shape, info.rank, info.shape);
    if (strcmp(file_shape, layer_shape) != 0)
        return clseq_read_fail(d->r, pos, "%s variable '%s': shape %s in the file, but %s from "
                               "the layer's config", what, v->name, file_shape, layer_shape);
    if (info.trainable != v->trainable)
        return clseq_read_fail(d->r, pos, "%s variable '%s': trainable %d in the file, but %d in "
                               "the layer", what, v->name, v->trainable, info.trainable);
    return CLSEQ_OK;
}

/* A variable's name, shape and trainable flag. */
static clseq_status read_variable_header(clseq_reader *r, const char *what, file_variable *v)
{
    char label[LABEL];
    uint32_t rank = 0, dim = 0;
    snprintf(label, sizeof label, "%s variable name", what);
    clseq_status s = clseq_read_string(r, label, v->name);
    if (s != CLSEQ_OK)
        return s;
    snprintf(label, sizeof label, "%s variable '%s' rank", what, v->name);
    size_t pos = r->pos;
    if ((s = clseq_read_count(r, label, MAX_VARIABLE_RANK, 4, &rank)) == CLSEQ_OK && rank == 0)
        s = clseq_read_fail(r, pos, "%s 0 is not in 1..%d", label, MAX_VARIABLE_RANK);
    snprintf(label, sizeof label, "%s variable '%s'", what, v->name);
    v->rank = (int)rank;
    v->count = 1;
    for (uint32_t i = 0; i < rank && s == CLSEQ_OK; i++) {
        pos = r->pos;
        if ((s = clseq_read_u32(r, label, &dim)) != CLSEQ_OK)
            break;
        if (dim < 1 || dim > INT32_MAX / v->count)
            s = clseq_read_fail(r, pos, "%s: dimension %u is 0 or makes more than %d values",
                                label, (unsigned)dim, INT32_MAX);
        v->shape[i] = (int)dim;
        v->count *= dim;
    }
    return s == CLSEQ_OK ? clseq_read_flag(r, label, 1, &v->trainable) : s;
}

static clseq_status parse_variable(v2 *d, int layer, int index, const char *what)
{
    clseq_reader *r = d->r;
    file_variable v;
    char label[LABEL];
    float *values = NULL;
    size_t pos = r->pos;
    clseq_status s = read_variable_header(r, what, &v);
    if (s == CLSEQ_OK && d->m)
        s = check_variable(d, layer, index, &v, what, pos);
    if (s != CLSEQ_OK)
        return s;
    snprintf(label, sizeof label, "%s variable '%s'", what, v.name);
    if (!d->m)
        s = clseq_read_f32s(r, label, v.count, NULL);
    else if ((s = read_floats(r, label, v.count, &values)) == CLSEQ_OK &&
             (s = clseq_set_variable(d->m, layer, index, values)) != CLSEQ_OK)
        s = clseq_mf_refused(s, r, pos);
    free(values);
    d->trainable += v.trainable ? v.count : 0;
    if (s == CLSEQ_OK && d->trainable > INT32_MAX)
        s = clseq_read_fail(r, pos, "%s: more than %d trainable values in all", label, INT32_MAX);
    return s;
}

/* Appends the layer, unless its variables could not fit in the bytes
 * left: a small file must not make the model allocate a large one. */
static clseq_status add_layer(v2 *d, const char *keras_class, const clseq_layer_config *cfg,
                              const char *what, size_t pos)
{
    size_t values = 0;
    clseq_status s = clseq_model_layer_values(d->m, keras_class, cfg, &values);
    if (s == CLSEQ_OK && values > d->r->left / 4)
        return clseq_read_fail(d->r, pos, "%s has variables of %zu values, more than the %zu "
                               "bytes left can hold", what, values, d->r->left);
    if (s == CLSEQ_OK)
        s = clseq_model_add_layer_config(d->m, keras_class, cfg);
    return s == CLSEQ_OK ? s : clseq_mf_refused(s, d->r, pos);
}

static clseq_status parse_layer(v2 *d, int layer)
{
    clseq_reader *r = d->r;
    char keras_class[CLSEQ_MF_MAX_STRING + 1], what[WHAT];
    char label[LABEL];
    clseq_layer_config cfg;
    uint32_t count = 0;
    size_t pos = r->pos;
    snprintf(what, sizeof what, "layer %d class", layer + 1);
    clseq_status s = clseq_read_string(r, what, keras_class);
    if (s != CLSEQ_OK)
        return s;
    snprintf(what, sizeof what, "layer %d (%s)", layer + 1, keras_class);
    if ((s = read_values(r, what, &cfg)) == CLSEQ_OK && d->m)
        s = add_layer(d, keras_class, &cfg, what, pos);
    pos = r->pos;
    snprintf(label, sizeof label, "%s variable count", what);
    if (s == CLSEQ_OK)
        s = clseq_read_count(r, label, INT32_MAX, MIN_VARIABLE_BYTES, &count);
    if (s == CLSEQ_OK && d->m && count != (uint32_t)clseq_variable_count(d->m, layer))
        s = clseq_read_fail(r, pos, "%s has %u variables in the file, but the layer has %d", what,
                            (unsigned)count, clseq_variable_count(d->m, layer));
    for (uint32_t i = 0; i < count && s == CLSEQ_OK; i++)
        s = parse_variable(d, layer, (int)i, what);
    return s;
}

/* ---- compile settings and optimizer state --------------------------------------- */

/* Takes the values that are the model's, not the optimizer's, out of cfg
 * (epochs and the metric options), with their defaults when absent. */
static clseq_status take_model_values(clseq_layer_config *cfg, int *epochs,
                                      clseq_metric_options *mo)
{
    clseq_layer_config rest;
    memset(&rest, 0, sizeof rest);
    clseq_status s = CLSEQ_OK;
    *epochs = 0;
    *mo = clseq_metric_defaults();
    for (int i = 0; i < cfg->count && s == CLSEQ_OK; i++) {
        const clseq_config_value *v = &cfg->values[i];
        if (strcmp(v->name, CLSEQ_MF_EPOCHS) == 0)
            s = clseq_config_get_int(cfg, v->name, "optimizer settings", epochs);
        else if (strcmp(v->name, CLSEQ_MF_METRIC_THRESHOLD) == 0)
            s = clseq_config_get_float(cfg, v->name, "optimizer settings", &mo->threshold);
        else if (strcmp(v->name, CLSEQ_MF_METRIC_K) == 0)
            s = clseq_config_get_int(cfg, v->name, "optimizer settings", &mo->k);
        else
            rest.values[rest.count++] = *v;
    }
    if (s == CLSEQ_OK && *epochs < 0)
        s = clseq_fail(CLSEQ_E_FORMAT, "epochs %d is negative", *epochs);
    *cfg = rest;
    return s;
}

static clseq_status parse_settings(clseq_reader *r, clseq_optimizer *opt, clseq_loss *loss,
                                   unsigned *metrics, int *epochs, clseq_metric_options *mo)
{
    char name[CLSEQ_MF_MAX_STRING + 1];
    clseq_layer_config cfg;
    uint32_t bits = 0;
    size_t pos = r->pos;
    clseq_status s = clseq_read_string(r, "optimizer", name);
    if (s == CLSEQ_OK && (s = read_values(r, "optimizer settings", &cfg)) == CLSEQ_OK &&
        ((s = take_model_values(&cfg, epochs, mo)) != CLSEQ_OK ||
         (s = clseq_mf_optimizer_from_config(name, &cfg, opt)) != CLSEQ_OK))
        s = clseq_mf_refused(s, r, pos);
    pos = r->pos;
    if (s == CLSEQ_OK && (s = clseq_read_string(r, "loss", name)) == CLSEQ_OK &&
        (s = clseq_loss_from_name(name, loss)) != CLSEQ_OK)
        s = clseq_mf_refused(s, r, pos);
    pos = r->pos;
    if (s == CLSEQ_OK && (s = clseq_read_u32(r, "metric bits", &bits)) == CLSEQ_OK &&
        (bits & ~(uint32_t)CLSEQ_METRIC_ALL))
        s = clseq_read_fail(r, pos, "unknown metric bits 0x%x", (unsigned)bits);
    *metrics = bits;
    return s;
}

static clseq_status parse_slot(v2 *d, int slot)
{
    clseq_reader *r = d->r;
    char name[CLSEQ_MF_MAX_STRING + 1], label[LABEL];
    uint64_t count = 0;
    float *values = NULL;
    size_t pos = r->pos;
    snprintf(label, sizeof label, "optimizer slot %d name", slot + 1);
    clseq_status s = clseq_read_string(r, label, name);
    if (s != CLSEQ_OK)
        return s;
    const char *want = d->m ? clseq_optimizer_slot_name(d->m, slot) : name;
    if (!want || strcmp(want, name) != 0)
        return clseq_read_fail(r, pos, "optimizer slot %d is '%s' in the file, but the "
                               "optimizer's is '%s'", slot + 1, name, want ? want : "(none)");
    snprintf(label, sizeof label, "optimizer slot '%s'", name);
    pos = r->pos;
    if ((s = clseq_read_u64(r, label, &count)) == CLSEQ_OK && count != d->trainable)
        s = clseq_read_fail(r, pos, "%s has %" PRIu64 " values, but the model has %" PRIu64
                            " trainable values", label, count, d->trainable);
    if (s == CLSEQ_OK && !d->m)
        s = clseq_read_f32s(r, label, (size_t)count, NULL);
    else if (s == CLSEQ_OK && (s = read_floats(r, label, (size_t)count, &values)) == CLSEQ_OK &&
             (s = clseq_optimizer_set_slot(d->m, slot, values)) != CLSEQ_OK)
        s = clseq_mf_refused(s, r, pos);
    free(values);
    return s;
}

static clseq_status parse_state(v2 *d)
{
    clseq_reader *r = d->r;
    uint64_t iterations = 0;
    uint32_t slots = 0;
    size_t pos = r->pos;
    clseq_status s = clseq_read_u64(r, "iteration count", &iterations);
    if (s == CLSEQ_OK && iterations > INT64_MAX)
        s = clseq_read_fail(r, pos, "iteration count %" PRIu64 " is more than 2^63 - 1",
                            iterations);
    pos = r->pos;
    if (s == CLSEQ_OK)
        s = clseq_read_count(r, "optimizer slot count", MAX_SLOTS, MIN_SLOT_BYTES, &slots);
    if (s == CLSEQ_OK && d->m && slots != (uint32_t)clseq_optimizer_slot_count(d->m))
        s = clseq_read_fail(r, pos, "%u optimizer slots in the file, but the optimizer keeps %d",
                            (unsigned)slots, clseq_optimizer_slot_count(d->m));
    for (uint32_t i = 0; i < slots && s == CLSEQ_OK; i++)
        s = parse_slot(d, (int)i);
    if (s == CLSEQ_OK && d->m)
        clseq_optimizer_set_iterations(d->m, (long long)iterations);
    return s;
}

static clseq_status parse_compile(v2 *d)
{
    clseq_reader *r = d->r;
    clseq_optimizer opt;
    clseq_loss loss = CLSEQ_MEAN_SQUARED_ERROR;
    unsigned metrics = 0;
    int compiled = 0;
    size_t pos = r->pos;
    clseq_status s = clseq_read_flag(r, "compiled flag", 4, &compiled);
    if (s != CLSEQ_OK || !compiled)
        return s;
    if (d->layers == 0)
        return clseq_read_fail(r, pos, "marked compiled but has no layers");
    pos = r->pos;
    int epochs = 0;
    clseq_metric_options mo;
    if ((s = parse_settings(r, &opt, &loss, &metrics, &epochs, &mo)) == CLSEQ_OK && d->m &&
        ((s = clseq_set_metric_options(d->m, &mo)) != CLSEQ_OK ||
         (s = clseq_compile(d->m, opt, loss, metrics)) != CLSEQ_OK ||
         (s = clseq_model_set_epochs(d->m, epochs)) != CLSEQ_OK))
        s = clseq_mf_refused(s, r, pos);
    return s == CLSEQ_OK ? parse_state(d) : s;
}

clseq_status clseq_mf2_decode(clseq_ctx *ctx, clseq_reader *r, clseq_model **out)
{
    v2 d = {r, NULL, 0, 0};
    clseq_status s = parse_input(ctx, &d);
    if (s == CLSEQ_OK)
        s = clseq_read_count(r, "layer count", INT32_MAX, MIN_LAYER_BYTES, &d.layers);
    for (uint32_t i = 0; i < d.layers && s == CLSEQ_OK; i++)
        s = parse_layer(&d, (int)i);
    if (s == CLSEQ_OK)
        s = parse_compile(&d);
    if (s == CLSEQ_OK && r->left)
        s = clseq_read_fail(r, r->pos, "%zu bytes follow the model before the checksum", r->left);
    if (s == CLSEQ_OK)
        *out = d.m;
    else
        clseq_model_free(d.m);
    return s;
}
