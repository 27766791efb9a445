/* Model files: the writer. clseq_save writes format version 2, laid out
 * at the top of modelfile_v2.c and in docs/model-format.md: the seed and
 * input shape, each layer as its Keras class, config values and variables
 * (through nn/model_io.h and the public variable calls), then, for a
 * compiled model, the compile settings, the iteration count and the
 * optimizer's slot variables, so training resumes where it stopped.
 * Encoding is deterministic: the same model gives the same bytes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/modelfile.h"
#include "io/modelfile_internal.h"
#include "nn/model_io.h"
#include "sys/error.h"

/* A file the loader would refuse is not worth writing over a good one. */
static clseq_status check_finite(const float *x, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return clseq_fail(CLSEQ_E_NUMERIC, "%s value %zu is %g; refusing to save", what, i,
                              (double)x[i]);
    return CLSEQ_OK;
}

static clseq_status write_values(clseq_writer *w, const clseq_layer_config *cfg,
                                 const char *what)
{
    clseq_write_u32(w, (uint32_t)cfg->count);
    for (int i = 0; i < cfg->count; i++) {
        const clseq_config_value *v = &cfg->values[i];
        clseq_write_string(w, v->name);
        clseq_write_u8(w, (unsigned)v->type);
        if (v->type == CLSEQ_VALUE_INT)
            clseq_write_u32(w, (uint32_t)v->i);
        else if (v->type == CLSEQ_VALUE_STRING)
            clseq_write_string(w, v->s);
        else if (v->type == CLSEQ_VALUE_INTS) {
            clseq_write_u8(w, (unsigned)v->n);
            for (int k = 0; k < v->n; k++)
                clseq_write_u32(w, (uint32_t)v->v[k]);
        } else if (isfinite(v->f))
            clseq_write_f32(w, v->f);
        else
            return clseq_fail(CLSEQ_E_NUMERIC, "%s: '%s' is %g; refusing to save", what, v->name,
                              (double)v->f);
    }
    return w->status;
}

static clseq_status write_variable(clseq_writer *w, const clseq_model *m, int layer, int index,
                                   const char *what)
{
    clseq_variable_info info;
    char label[192];
    float *values = NULL;
    clseq_status s = clseq_get_variable_info(m, layer, index, &info);
    if (s == CLSEQ_OK && !(values = malloc((info.count ? info.count : 1) * sizeof *values)))
        s = clseq_fail(CLSEQ_E_NOMEM, "out of host memory for %s's %zu values", what, info.count);
    if (s == CLSEQ_OK)
        s = clseq_get_variable(m, layer, index, values);
    snprintf(label, sizeof label, "%s variable '%s'", what, info.name);
    if (s == CLSEQ_OK)
        s = check_finite(values, info.count, label);
    if (s == CLSEQ_OK) {
        clseq_write_string(w, info.name);
        clseq_write_u32(w, (uint32_t)info.rank);
        for (int i = 0; i < info.rank; i++)
            clseq_write_u32(w, (uint32_t)info.shape[i]);
        clseq_write_u8(w, info.trainable ? 1u : 0u);
        clseq_write_f32s(w, values, info.count);
        s = w->status;
    }
    free(values);
    return s;
}

static clseq_status write_layer(clseq_writer *w, const clseq_model *m, int layer)
{
    clseq_layer_config cfg;
    char what[96];
    const char *keras_class = clseq_layer_class(m, layer);
    snprintf(what, sizeof what, "layer %d (%s)", layer + 1, keras_class);
    clseq_status s = clseq_layer_get_config(m, layer, &cfg);
    if (s != CLSEQ_OK)
        return s;
    clseq_write_string(w, keras_class);
    if ((s = write_values(w, &cfg, what)) != CLSEQ_OK)
        return s;
    int count = clseq_variable_count(m, layer);
    clseq_write_u32(w, (uint32_t)count);
    for (int i = 0; i < count && s == CLSEQ_OK; i++)
        s = write_variable(w, m, layer, i, what);
    return s;
}

static clseq_status write_slots(clseq_writer *w, const clseq_model *m)
{
    int count = clseq_optimizer_slot_count(m);
    size_t n = clseq_model_trainable_count(m);
    char label[64];
    float *values = malloc((n ? n : 1) * sizeof *values);
    if (!values)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for %zu optimizer values", n);
    clseq_write_u32(w, (uint32_t)count);
    clseq_status s = CLSEQ_OK;
    for (int k = 0; k < count && s == CLSEQ_OK; k++) {
        const char *name = clseq_optimizer_slot_name(m, k);
        snprintf(label, sizeof label, "optimizer slot '%s'", name);
        if ((s = clseq_optimizer_get_slot(m, k, values)) == CLSEQ_OK &&
            (s = check_finite(values, n, label)) == CLSEQ_OK) {
            clseq_write_string(w, name);
            clseq_write_u64(w, n);
            clseq_write_f32s(w, values, n);
            s = w->status;
        }
    }
    free(values);
    return s;
}

static clseq_status write_compile(clseq_writer *w, const clseq_model *m)
{
    if (!clseq_model_is_compiled(m)) {
        clseq_write_u32(w, 0);
        return w->status;
    }
    clseq_optimizer opt;
    clseq_loss loss;
    unsigned metrics;
    clseq_layer_config cfg;
    clseq_metric_options mo;
    clseq_metric_options defaults = clseq_metric_defaults();
    clseq_status s = clseq_model_compile_settings(m, &opt, &loss, &metrics);
    if (s == CLSEQ_OK)
        s = clseq_mf_optimizer_config(&opt, &cfg);
    if (s == CLSEQ_OK)
        s = clseq_get_metric_options(m, &mo);
    /* the training's progress and the metrics' settings ride with the
     * optimizer's, each only when it is not the default */
    if (s == CLSEQ_OK && clseq_model_epochs(m) > 0)
        s = clseq_config_put_int(&cfg, CLSEQ_MF_EPOCHS, clseq_model_epochs(m));
    if (s == CLSEQ_OK && mo.threshold != defaults.threshold)
        s = clseq_config_put_float(&cfg, CLSEQ_MF_METRIC_THRESHOLD, mo.threshold);
    if (s == CLSEQ_OK && mo.k != defaults.k)
        s = clseq_config_put_int(&cfg, CLSEQ_MF_METRIC_K, mo.k);
    if (s != CLSEQ_OK)
        return s;
    clseq_write_u32(w, 1);
    clseq_write_string(w, clseq_mf_optimizer_name(opt.kind));
    if ((s = write_values(w, &cfg, "optimizer")) != CLSEQ_OK)
        return s;
    clseq_write_string(w, clseq_loss_name(loss));
    clseq_write_u32(w, metrics);
    clseq_write_u64(w, (uint64_t)clseq_optimizer_iterations(m));
    return write_slots(w, m);
}

static clseq_status write_model(clseq_writer *w, const clseq_model *m)
{
    int dims[CLSEQ_MAX_RANK];
    int rank = clseq_model_input_shape(m, dims);
    clseq_write_raw(w, CLSEQ_MF_MAGIC, 8);
    clseq_write_u32(w, CLSEQ_MODEL_FORMAT_VERSION);
    clseq_write_u64(w, 0); /* the length, filled in at the end */
    clseq_write_u64(w, clseq_model_seed(m));
    clseq_write_u32(w, (uint32_t)rank);
    for (int i = 0; i < rank; i++)
        clseq_write_u32(w, (uint32_t)dims[i]);
    int layers = clseq_layer_count(m);
    clseq_write_u32(w, (uint32_t)layers);
    clseq_status s = CLSEQ_OK;
    for (int i = 0; i < layers && s == CLSEQ_OK; i++)
        s = write_layer(w, m, i);
    if (s == CLSEQ_OK)
        s = write_compile(w, m);
    if (s == CLSEQ_OK && (s = w->status) == CLSEQ_OK) {
        clseq_put_u64(w->data + CLSEQ_MF_OFF_LENGTH, (uint64_t)w->size + CLSEQ_MF_CHECKSUM_BYTES);
        clseq_write_u32(w, clseq_crc32(0, w->data, w->size));
        s = w->status;
    }
    return s;
}

clseq_status clseq_model_encode(const clseq_model *m, unsigned char **data, size_t *size)
{
    if (!data || !size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_encode: NULL output");
    *data = NULL;
    *size = 0;
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_encode: model is NULL");
    clseq_writer w = {NULL, 0, 0, CLSEQ_OK};
    clseq_status s = write_model(&w, m);
    if (s != CLSEQ_OK) {
        free(w.data);
        return s;
    }
    *data = w.data;
    *size = w.size;
    return CLSEQ_OK;
}
