/* A Keras Sequential's JSON <-> a clseq model (keras_config.h): the top
 * level of both dialects; each layer is keras_layers.c's, the compile
 * settings keras_compile.c's.
 *
 * The input shape, in the order Keras 3 finds it: an InputLayer first in
 * "layers" (its batch_shape, or Keras 2's batch_input_shape), else the
 * first layer's batch_input_shape (Keras 2 without an InputLayer: legacy
 * saving_utils.model_from_config turns it into the layer's input shape),
 * else the Sequential's build_input_shape (Sequential.from_config builds
 * with it), else the top-level build_config's input_shape (what
 * serialization_lib's deserialize_keras_object builds a model with). */
#include "keras/keras_config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "keras/keras_layers.h"
#include "nn/model_io.h"
#include "sys/error.h"

/* ---- reading --------------------------------------------------------------- */

/* Parses text[0..len) (what names it); trailing whitespace and NULs (an
 * HDF5 string's padding) are allowed after the value. */
static clseq_status parse_json(const char *text, size_t len, const char *where, const char *what,
                               cJSON **out)
{
    const char *end = NULL;
    *out = NULL;
    if (!text || len == 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: the %s is empty", where, what);
    /* the position comes back through end, not cJSON's global error */
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: the %s is not valid JSON (at byte %zu of %zu)",
                          where, what, end && end >= text ? (size_t)(end - text) : (size_t)0,
                          len);
    for (const char *p = end; p && p < text + len; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != '\0') {
            cJSON_Delete(root);
            return clseq_fail(CLSEQ_E_FORMAT, "%s: the %s has more after its JSON value (at "
                                              "byte %zu)",
                              where, what, (size_t)(p - text));
        }
    *out = root;
    return CLSEQ_OK;
}

/* The model's class: Sequential only, Keras's own. */
static clseq_status check_model_class(const cJSON *root, const char *where)
{
    const cJSON *cls = clseq_keras_member(root, "class_name");
    const cJSON *module = clseq_keras_member(root, "module");
    const cJSON *registered = clseq_keras_member(root, "registered_name");
    if (!cJSON_IsObject(root))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: the model config is not a JSON object", where);
    if (!cJSON_IsString(cls))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: the model config has no class_name", where);
    if (strcmp(cls->valuestring, "Functional") == 0 || strcmp(cls->valuestring, "Model") == 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: a functional model (class %s); clseq reads only "
                                          "Sequential models",
                          where, cls->valuestring);
    if (strcmp(cls->valuestring, "Sequential") != 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: model class '%.64s' (a subclassed model?); clseq "
                                          "reads only Sequential models",
                          where, cls->valuestring);
    if ((module && !cJSON_IsNull(module) &&
         !(cJSON_IsString(module) && strncmp(module->valuestring, "keras", 5) == 0)) ||
        (registered && !cJSON_IsNull(registered) &&
         !(cJSON_IsString(registered) && strcmp(registered->valuestring, "Sequential") == 0)))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: a subclass of Sequential registered by its "
                                          "author; clseq reads only Keras's own Sequential",
                          where);
    return CLSEQ_OK;
}

/* The Sequential's layer list: config.layers, or config itself (Keras
 * before 2.2.3 wrote the list directly). */
static clseq_status find_layers(const cJSON *root, const char *where, const cJSON **layers)
{
    const cJSON *config = clseq_keras_member(root, "config");
    char text[96];
    *layers = cJSON_IsArray(config) ? config : clseq_keras_member(config, "layers");
    if (!cJSON_IsArray(*layers))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: the Sequential's config has no list of layers",
                          where);
    if (cJSON_GetArraySize(*layers) > CLSEQ_KERAS_MAX_LAYERS)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: %d layers, more than the %d clseq reads", where,
                          cJSON_GetArraySize(*layers), CLSEQ_KERAS_MAX_LAYERS);
    const cJSON *trainable = clseq_keras_member(config, "trainable");
    int flag;
    if (trainable && !(clseq_keras_json_bool(trainable, &flag) && flag)) {
        clseq_keras_json_text(trainable, text, sizeof text);
        return clseq_fail(CLSEQ_E_FORMAT, "%s: the Sequential's trainable is %s (a frozen "
                                          "model); clseq trains every layer",
                          where, text);
    }
    const cJSON *dtype = clseq_keras_member(config, "dtype");
    if (!clseq_keras_dtype_is_float32(dtype)) {
        clseq_keras_json_text(dtype, text, sizeof text);
        return clseq_fail(CLSEQ_E_FORMAT, "%s: the Sequential's dtype is %s; clseq supports "
                                          "only float32",
                          where, text);
    }
    return CLSEQ_OK;
}

/* The input shape when no InputLayer gave one (see the top). */
static clseq_status fallback_shape(const cJSON *root, const clseq_keras_layer *first,
                                   const char *where, int *rank, int *dims)
{
    char what[256];
    if (first->rank > 0) {
        *rank = first->rank;
        memcpy(dims, first->dims, sizeof first->dims);
        return CLSEQ_OK;
    }
    const cJSON *shape = clseq_keras_member(clseq_keras_member(root, "config"),
                                            "build_input_shape");
    snprintf(what, sizeof what, "%s: build_input_shape", where);
    if (!shape || cJSON_IsNull(shape)) {
        shape = clseq_keras_member(clseq_keras_member(root, "build_config"), "input_shape");
        snprintf(what, sizeof what, "%s: build_config.input_shape", where);
    }
    if (!shape || cJSON_IsNull(shape))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: the model has no input shape (no InputLayer, "
                                          "batch_input_shape or build_input_shape)",
                          where);
    return clseq_keras_read_batch_shape(shape, what, rank, dims);
}

/* What one read holds while it runs. */
typedef struct reader {
    clseq_ctx *ctx;
    const char *where;
    size_t max_values, values;
    int have_shape; /* the input shape is known (and the model made, with ctx) */
    clseq_keras_config *out;
} reader;

/* Knows the input shape (see the top) and, with a context, makes the
 * model. first is the first layer (an InputLayer or not). */
static clseq_status start_model(reader *r, const cJSON *root, const clseq_keras_layer *first)
{
    int rank = 0, dims[CLSEQ_MAX_RANK];
    clseq_status s = fallback_shape(root, first, r->where, &rank, dims);
    r->have_shape = s == CLSEQ_OK;
    if (s == CLSEQ_OK && r->ctx)
        s = clseq_model_create_shaped(r->ctx, rank, dims, &r->out->model);
    return s;
}

/* Adds one layer to the model (creating the model first when needed). */
static clseq_status add_layer(reader *r, const cJSON *root, const clseq_keras_layer *l, int index)
{
    clseq_keras_config *out = r->out;
    clseq_status s = r->have_shape ? CLSEQ_OK : start_model(r, root, l);
    if (s == CLSEQ_OK && out->model) {
        size_t values = 0;
        s = clseq_model_layer_values(out->model, l->keras_class, &l->cfg, &values);
        if (s == CLSEQ_OK && values > r->max_values - r->values)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: layers[%d] '%s' (%s): its variables hold %zu "
                                              "values, more than the %zu the weights have left",
                              r->where, index, l->name, l->keras_class, values,
                              r->max_values - r->values);
        r->values += values;
        if (s == CLSEQ_OK)
            s = clseq_model_add_layer_config(out->model, l->keras_class, &l->cfg);
    }
    if (s == CLSEQ_E_ARG || s == CLSEQ_E_SHAPE)
        return clseq_fail_context(CLSEQ_E_FORMAT, "%s: layers[%d] '%s' (%s): ", r->where, index,
                                  l->name, l->keras_class);
    return s;
}

/* Records layer n's name, refusing a name used twice (the weights are
 * stored by name). */
static clseq_status record_name(reader *r, const clseq_keras_layer *l, int index)
{
    clseq_keras_config *out = r->out;
    int n = out->layer_count;
    if (l->name[0])
        snprintf(out->layer_names[n], CLSEQ_KERAS_NAME, "%s", l->name);
    else if (out->model)
        clseq_model_layer_name(out->model, n, out->layer_names[n], CLSEQ_KERAS_NAME);
    for (int i = 0; i < n && out->layer_names[n][0]; i++)
        if (strcmp(out->layer_names[i], out->layer_names[n]) == 0)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: layers[%d] '%s' (%s): a second layer with "
                                              "that name",
                              r->where, index, l->name, l->keras_class);
    out->layer_count = n + 1;
    return CLSEQ_OK;
}

/* The input rank of the next layer, 0 if unknown (no model). */
static int next_in_rank(const clseq_keras_config *out)
{
    int rank = 0, dims[CLSEQ_MAX_RANK];
    if (!out->model)
        return 0;
    if (out->layer_count == 0)
        return clseq_model_input_shape(out->model, dims);
    return clseq_layer_output_shape(out->model, out->layer_count - 1, &rank, dims) == CLSEQ_OK
               ? rank
               : 0;
}

static clseq_status read_layers(reader *r, const cJSON *root, const cJSON *layers)
{
    clseq_keras_layer *l = malloc(sizeof *l);
    clseq_status s = CLSEQ_OK;
    int index = 0;
    const cJSON *item;
    if (!l)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", r->where);
    cJSON_ArrayForEach(item, layers)
    {
        s = clseq_keras_layer_read(item, index, next_in_rank(r->out), r->where, l);
        if (s != CLSEQ_OK)
            break;
        if (l->is_input && index > 0) {
            s = clseq_fail(CLSEQ_E_FORMAT, "%s: layers[%d] '%s': an InputLayer after the first "
                                           "layer",
                           r->where, index, l->name);
            break;
        }
        if (l->is_input)
            s = start_model(r, root, l);
        else if ((s = add_layer(r, root, l, index)) == CLSEQ_OK) {
            s = record_name(r, l, index);
        }
        if (s != CLSEQ_OK)
            break;
        index++;
    }
    /* no layers: a model that passes its input through */
    if (s == CLSEQ_OK && !r->have_shape) {
        memset(l, 0, sizeof *l);
        s = start_model(r, root, l);
    }
    free(l);
    return s;
}

/* Compiles the model with the file's settings when clseq has them; else
 * leaves it uncompiled with the reason in compile_note. */
static clseq_status read_compile(reader *r, const cJSON *config)
{
    clseq_keras_config *out = r->out;
    clseq_keras_compile k;
    char note[sizeof out->compile_note];
    int output_dim = out->model ? clseq_model_output_dim(out->model) : 0;
    /* an uncompiled model's .keras has "compile_config": {} */
    if (!config || cJSON_IsNull(config) || (cJSON_IsObject(config) && !config->child))
        return CLSEQ_OK;
    if (!clseq_keras_compile_read(config, output_dim, &k, note, sizeof note)) {
        snprintf(out->compile_note, sizeof out->compile_note, "%s", note);
        return CLSEQ_OK;
    }
    if (!out->model)
        return CLSEQ_OK;
    clseq_status s = clseq_compile(out->model, k.optimizer, k.loss, k.metrics);
    if (s == CLSEQ_E_ARG || s == CLSEQ_E_SHAPE || s == CLSEQ_E_STATE) {
        snprintf(out->compile_note, sizeof out->compile_note, "%s", clseq_last_error());
        return CLSEQ_OK;
    }
    /* checked by the reader, so these do not fail on a compiled model */
    if (s == CLSEQ_OK)
        s = clseq_set_metric_options(out->model, &k.metric_options);
    if (s == CLSEQ_OK && k.scheduled)
        s = clseq_set_lr_schedule(out->model, &k.schedule);
    return s;
}

clseq_status clseq_keras_read_config_bounded(clseq_ctx *ctx, const char *model_json,
                                             size_t model_len, const char *training_json,
                                             size_t training_len, size_t max_values,
                                             const char *where, clseq_keras_config *out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_keras_read_config: out is NULL");
    memset(out, 0, sizeof *out);
    if (!where)
        where = "Keras model config";
    cJSON *root = NULL, *training = NULL;
    const cJSON *layers = NULL;
    reader r = {ctx, where, max_values, 0, 0, out};
    clseq_status s = parse_json(model_json, model_len, where, "model config", &root);
    if (s == CLSEQ_OK && training_json)
        s = parse_json(training_json, training_len, where, "training_config", &training);
    if (s == CLSEQ_OK)
        s = check_model_class(root, where);
    if (s == CLSEQ_OK)
        s = find_layers(root, where, &layers);
    if (s == CLSEQ_OK) {
        int count = cJSON_GetArraySize(layers);
        out->layer_names = calloc(count > 0 ? (size_t)count : 1, sizeof *out->layer_names);
        if (!out->layer_names)
            s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory for %d layer names", where, count);
    }
    if (s == CLSEQ_OK)
        s = read_layers(&r, root, layers);
    if (s == CLSEQ_OK)
        s = read_compile(&r, training ? training : clseq_keras_member(root, "compile_config"));
    cJSON_Delete(root);
    cJSON_Delete(training);
    if (s != CLSEQ_OK || !ctx) {
        clseq_model_free(out->model);
        clseq_keras_config_free(out);
    }
    return s;
}

clseq_status clseq_keras_read_config(clseq_ctx *ctx, const char *model_json, size_t model_len,
                                     const char *training_json, size_t training_len,
                                     const char *where, clseq_keras_config *out)
{
    return clseq_keras_read_config_bounded(ctx, model_json, model_len, training_json,
                                           training_len, SIZE_MAX, where, out);
}

void clseq_keras_config_free(clseq_keras_config *c)
{
    if (!c)
        return;
    free(c->layer_names);
    memset(c, 0, sizeof *c);
}

/* ---- writing --------------------------------------------------------------- */

static void add(cJSON *obj, const char *key, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

/* InputLayer.get_config (keras/src/layers/core/input_layer.py), as
 * serialize_keras_object wraps it. */
static cJSON *input_layer(int rank, const int *dims, int *ok)
{
    cJSON *obj = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    add(obj, "module", cJSON_CreateString("keras.layers"), ok);
    add(obj, "class_name", cJSON_CreateString("InputLayer"), ok);
    add(cfg, "batch_shape", clseq_keras_shape_json(rank, dims), ok);
    add(cfg, "dtype", cJSON_CreateString("float32"), ok);
    add(cfg, "sparse", cJSON_CreateFalse(), ok);
    add(cfg, "ragged", cJSON_CreateFalse(), ok);
    add(cfg, "name", cJSON_CreateString("input_layer"), ok);
    add(cfg, "optional", cJSON_CreateFalse(), ok);
    add(obj, "config", cfg, ok);
    add(obj, "registered_name", cJSON_CreateNull(), ok);
    return obj;
}

/* Sequential.get_config (keras/src/models/sequential.py) under
 * serialize_keras_object's envelope, with saving_lib's build_config and
 * compile_config. */
clseq_status clseq_keras_write_config(const clseq_model *m, char **json)
{
    if (!m || !json)
        return clseq_fail(CLSEQ_E_ARG, "clseq_keras_write_config: NULL argument");
    *json = NULL;
    int ok = 1, dims[CLSEQ_MAX_RANK];
    int rank = clseq_model_input_shape(m, dims);
    clseq_status s = CLSEQ_OK;
    cJSON *root = cJSON_CreateObject(), *config = cJSON_CreateObject();
    cJSON *layers = cJSON_CreateArray(), *build = cJSON_CreateObject();
    add(root, "module", cJSON_CreateString("keras"), &ok);
    add(root, "class_name", cJSON_CreateString("Sequential"), &ok);
    add(config, "name", cJSON_CreateString("sequential"), &ok);
    add(config, "trainable", cJSON_CreateTrue(), &ok);
    add(config, "dtype", clseq_keras_dtype_policy(), &ok);
    cJSON *input = input_layer(rank, dims, &ok);
    if (!layers || !cJSON_AddItemToArray(layers, input)) {
        cJSON_Delete(input);
        ok = 0;
    }
    for (int i = 0; ok && s == CLSEQ_OK && i < clseq_layer_count(m); i++) {
        cJSON *layer = NULL;
        s = clseq_keras_layer_write(m, i, &layer);
        if (s == CLSEQ_OK && !cJSON_AddItemToArray(layers, layer)) {
            cJSON_Delete(layer);
            ok = 0;
        }
    }
    add(config, "layers", layers, &ok);
    add(config, "build_input_shape", clseq_keras_shape_json(rank, dims), &ok);
    add(root, "config", config, &ok);
    add(root, "registered_name", cJSON_CreateNull(), &ok);
    add(build, "input_shape", clseq_keras_shape_json(rank, dims), &ok);
    add(root, "build_config", build, &ok);
    if (ok && s == CLSEQ_OK && clseq_model_is_compiled(m)) {
        cJSON *cc = NULL;
        s = clseq_keras_compile_write(m, &cc);
        if (s == CLSEQ_OK)
            add(root, "compile_config", cc, &ok);
    }
    if (ok && s == CLSEQ_OK && !(*json = cJSON_PrintUnformatted(root)))
        ok = 0;
    cJSON_Delete(root);
    if (s == CLSEQ_OK && !ok)
        s = clseq_fail(CLSEQ_E_NOMEM, "out of memory writing the Keras model config");
    return s;
}
