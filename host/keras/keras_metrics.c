/* Metrics in Keras compile settings <-> clseq's metric bits and
 * clseq_metric_options. A metric is a name (what compile_utils.get_metric
 * and metrics.get take: "accuracy"/"acc", a class's name or its
 * snake-case name, "mse", "mae") or a serialized metric class
 * (keras/src/metrics, each class's get_config). clseq has one threshold
 * for binary_accuracy, precision and recall and one k for both top-k
 * accuracies: metrics that disagree on them, AUC other than Keras's
 * default (ROC, 200 thresholds, interpolation, one label) and metrics
 * clseq does not compute leave the model uncompiled with a note. */
#include <math.h>
#include <string.h>
#include <strings.h>

#include "keras/keras_layers.h"

/* What a metric's config may set. */
enum { SET_NONE, SET_THRESHOLD, SET_THRESHOLDS, SET_AUC, SET_K };

static const struct {
    const char *name;
    unsigned bit;
    const char *accuracy; /* the accuracy clseq must compute, or NULL */
    int settings;
} metric_table[] = {
    {"accuracy", CLSEQ_METRIC_ACCURACY, NULL, SET_NONE},
    {"acc", CLSEQ_METRIC_ACCURACY, NULL, SET_NONE},
    {"categorical_accuracy", CLSEQ_METRIC_ACCURACY, "categorical", SET_NONE},
    {"CategoricalAccuracy", CLSEQ_METRIC_ACCURACY, "categorical", SET_NONE},
    {"sparse_categorical_accuracy", CLSEQ_METRIC_ACCURACY, "sparse", SET_NONE},
    {"SparseCategoricalAccuracy", CLSEQ_METRIC_ACCURACY, "sparse", SET_NONE},
    {"mse", CLSEQ_METRIC_MSE, NULL, SET_NONE},
    {"MSE", CLSEQ_METRIC_MSE, NULL, SET_NONE},
    {"mean_squared_error", CLSEQ_METRIC_MSE, NULL, SET_NONE},
    {"MeanSquaredError", CLSEQ_METRIC_MSE, NULL, SET_NONE},
    {"mae", CLSEQ_METRIC_MAE, NULL, SET_NONE},
    {"MAE", CLSEQ_METRIC_MAE, NULL, SET_NONE},
    {"mean_absolute_error", CLSEQ_METRIC_MAE, NULL, SET_NONE},
    {"MeanAbsoluteError", CLSEQ_METRIC_MAE, NULL, SET_NONE},
    {"binary_accuracy", CLSEQ_METRIC_BINARY_ACCURACY, NULL, SET_THRESHOLD},
    {"BinaryAccuracy", CLSEQ_METRIC_BINARY_ACCURACY, NULL, SET_THRESHOLD},
    {"precision", CLSEQ_METRIC_PRECISION, NULL, SET_THRESHOLDS},
    {"Precision", CLSEQ_METRIC_PRECISION, NULL, SET_THRESHOLDS},
    {"recall", CLSEQ_METRIC_RECALL, NULL, SET_THRESHOLDS},
    {"Recall", CLSEQ_METRIC_RECALL, NULL, SET_THRESHOLDS},
    {"auc", CLSEQ_METRIC_AUC, NULL, SET_AUC},
    {"AUC", CLSEQ_METRIC_AUC, NULL, SET_AUC},
    {"top_k_categorical_accuracy", CLSEQ_METRIC_TOP_K, NULL, SET_K},
    {"TopKCategoricalAccuracy", CLSEQ_METRIC_TOP_K, NULL, SET_K},
    {"sparse_top_k_categorical_accuracy", CLSEQ_METRIC_SPARSE_TOP_K, NULL, SET_K},
    {"SparseTopKCategoricalAccuracy", CLSEQ_METRIC_SPARSE_TOP_K, NULL, SET_K},
};

/* The metrics read so far, and which metric set the shared settings. */
typedef struct metric_state {
    unsigned bits;
    clseq_metric_options opt;
    const char *threshold_from; /* NULL until a metric sets the threshold */
    const char *k_from;
} metric_state;

/* Which accuracy clseq computes for "accuracy" (clseq_accuracy_kind in
 * host/nn/pass.c, Keras 3's get_metric rule): binary when the output has
 * one unit, sparse with sparse categorical cross-entropy's targets,
 * categorical otherwise. */
static const char *clseq_accuracy(clseq_loss loss, int output_dim)
{
    if (output_dim == 1)
        return "binary";
    if (loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY)
        return "sparse";
    return "categorical";
}

/* The shared threshold (or k) from metric name: equal to any earlier one. */
static int share_threshold(metric_state *st, const char *name, float threshold, char *note,
                           size_t size)
{
    if (!(threshold >= 0.0f && threshold <= 1.0f))
        return clseq_keras_note(note, size, "metric '%.64s': threshold %g is not in [0, 1]", name,
                                (double)threshold);
    if (st->threshold_from && st->opt.threshold != threshold)
        return clseq_keras_note(note, size,
                                "metrics '%.48s' (threshold %g) and '%.48s' "
                                "(threshold %g): clseq has one threshold for "
                                "binary_accuracy, precision and recall",
                                st->threshold_from, (double)st->opt.threshold, name,
                                (double)threshold);
    st->threshold_from = name;
    st->opt.threshold = threshold;
    return 1;
}

static int share_k(metric_state *st, const char *name, int k, char *note, size_t size)
{
    if (st->k_from && st->opt.k != k)
        return clseq_keras_note(note, size,
                                "metrics '%.48s' (k %d) and '%.48s' (k %d): clseq "
                                "has one k for both top-k accuracies",
                                st->k_from, st->opt.k, name, k);
    st->k_from = name;
    st->opt.k = k;
    return 1;
}

/* Precision's and Recall's thresholds: null (0.5), a number or a list of one. */
static int read_thresholds(metric_state *st, const char *name, const cJSON *v, char *note,
                           size_t size)
{
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1)
        v = cJSON_GetArrayItem(v, 0);
    if (!v || cJSON_IsNull(v))
        return share_threshold(st, name, 0.5f, note, size);
    if (!cJSON_IsNumber(v))
        return clseq_keras_note_value(note, size, name, "thresholds", v, "null or one threshold");
    return share_threshold(st, name, (float)v->valuedouble, note, size);
}

/* One config entry of a metric class with settings kind. */
static int metric_setting(metric_state *st, const char *cls, int settings, const cJSON *item,
                          char *note, size_t size)
{
    static const struct {
        const char *key, *value; /* AUC's only values, as JSON text */
    } auc_defaults[] = {{"num_thresholds", "200"},
                        {"curve", "\"ROC\""},
                        {"summation_method", "\"interpolation\""},
                        {"multi_label", "false"},
                        {"num_labels", "null"},
                        {"label_weights", "null"},
                        {"from_logits", "false"},
                        {"thresholds", "null"}};
    const char *key = item->string;
    int k, flag;
    if (strcmp(key, "name") == 0)
        return 1;
    if (strcmp(key, "dtype") == 0)
        return clseq_keras_dtype_is_float32(item)
                   ? 1
                   : clseq_keras_note_value(note, size, cls, key, item, "float32");
    if (settings == SET_THRESHOLD && strcmp(key, "threshold") == 0) {
        if (!cJSON_IsNumber(item))
            return clseq_keras_note_value(note, size, cls, key, item, "a number");
        return share_threshold(st, cls, (float)item->valuedouble, note, size);
    }
    if (settings == SET_THRESHOLDS) {
        if (strcmp(key, "thresholds") == 0)
            return read_thresholds(st, cls, item, note, size);
        if (strcmp(key, "top_k") == 0 || strcmp(key, "class_id") == 0)
            return cJSON_IsNull(item) ? 1
                                      : clseq_keras_note_value(note, size, cls, key, item, "null");
    }
    if (settings == SET_K) {
        if (strcmp(key, "k") == 0)
            return clseq_keras_json_int(item, &k) && k >= 1
                       ? share_k(st, cls, k, note, size)
                       : clseq_keras_note_value(note, size, cls, key, item, "a whole number >= 1");
        if (strcmp(key, "from_sorted_ids") == 0)
            return clseq_keras_json_bool(item, &flag) && !flag
                       ? 1
                       : clseq_keras_note_value(note, size, cls, key, item, "false");
    }
    if (settings == SET_AUC)
        for (size_t i = 0; i < sizeof auc_defaults / sizeof *auc_defaults; i++) {
            if (strcmp(key, auc_defaults[i].key) != 0)
                continue;
            char text[64];
            clseq_keras_json_text(item, text, sizeof text);
            return strcmp(text, auc_defaults[i].value) == 0
                       ? 1
                       : clseq_keras_note_value(note, size, cls, key, item, auc_defaults[i].value);
        }
    return clseq_keras_note(note, size, "metric %s: setting '%.64s' is not one clseq knows", cls,
                            key);
}

/* One metric: a name or a serialized metric class. */
static int read_metric(metric_state *st, const cJSON *v, clseq_loss loss, int output_dim,
                       char *note, size_t size)
{
    const char *name = clseq_keras_function_name(v);
    const cJSON *config = NULL, *item;
    size_t i = 0, count = sizeof metric_table / sizeof *metric_table;
    if (name) {
        /* get_metric takes any case of "accuracy" and "acc" */
        if (strcasecmp(name, "accuracy") == 0 || strcasecmp(name, "acc") == 0)
            name = "accuracy";
    } else {
        const cJSON *cls = clseq_keras_member(v, "class_name");
        const cJSON *registered = clseq_keras_member(v, "registered_name");
        if (!cJSON_IsString(cls))
            return clseq_keras_note_value(note, size, "compile settings", "a metric", v,
                                          "a metric name or a serialized metric");
        name = cls->valuestring;
        if (registered && !cJSON_IsNull(registered) &&
            !(cJSON_IsString(registered) && strcmp(registered->valuestring, name) == 0))
            return clseq_keras_note(note, size, "metric '%.64s' is a custom class", name);
        config = clseq_keras_member(v, "config");
        if (config && !cJSON_IsObject(config))
            return clseq_keras_note_value(note, size, name, "config", config, "an object");
    }
    while (i < count && strcmp(metric_table[i].name, name) != 0)
        i++;
    if (i == count)
        return clseq_keras_note(note, size,
                                "metric '%.64s' is not one clseq computes "
                                "(accuracy, mse, mae, binary_accuracy, precision, "
                                "recall, auc, top_k_categorical_accuracy, "
                                "sparse_top_k_categorical_accuracy)",
                                name);
    const char *acc = clseq_accuracy(loss, output_dim);
    if (metric_table[i].accuracy && output_dim > 0 && strcmp(metric_table[i].accuracy, acc) != 0)
        return clseq_keras_note(note, size,
                                "metric '%.64s': clseq's accuracy for this loss and "
                                "output is %s accuracy",
                                name, acc);
    /* a name, or a class whose config leaves a setting out: Keras's default */
    int settings = metric_table[i].settings;
    if ((settings == SET_THRESHOLD || settings == SET_THRESHOLDS) &&
        !clseq_keras_member(config, settings == SET_THRESHOLD ? "threshold" : "thresholds") &&
        !share_threshold(st, name, 0.5f, note, size))
        return 0;
    if (settings == SET_K && !clseq_keras_member(config, "k") && !share_k(st, name, 5, note, size))
        return 0;
    cJSON_ArrayForEach(item, config)
    {
        if (!metric_setting(st, name, settings, item, note, size))
            return 0;
    }
    st->bits |= metric_table[i].bit;
    return 1;
}

int clseq_keras_metrics_read(const cJSON *v, clseq_loss loss, int output_dim, unsigned *bits,
                             clseq_metric_options *opt, char *note, size_t size)
{
    metric_state st = {0, clseq_metric_defaults(), NULL, NULL};
    *bits = 0;
    *opt = st.opt;
    if (!v || cJSON_IsNull(v))
        return 1;
    /* Keras 2's per-output lists: [["accuracy"]] for one output */
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1 && cJSON_IsArray(cJSON_GetArrayItem(v, 0)))
        v = cJSON_GetArrayItem(v, 0);
    if (!cJSON_IsArray(v)) {
        if (!read_metric(&st, v, loss, output_dim, note, size))
            return 0;
    } else {
        const cJSON *item;
        cJSON_ArrayForEach(item, v)
        {
            if (!read_metric(&st, item, loss, output_dim, note, size))
                return 0;
        }
    }
    *bits = st.bits;
    *opt = st.opt;
    return 1;
}

/* ---- writing --------------------------------------------------------------- */

static void add(cJSON *obj, const char *key, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

/* A metric with a setting other than Keras's default, as
 * serialize_keras_object writes the class. */
static cJSON *metric_object(unsigned bit, const clseq_metric_options *opt, int *ok)
{
    static const struct {
        unsigned bit;
        const char *cls;
    } classes[] = {{CLSEQ_METRIC_BINARY_ACCURACY, "BinaryAccuracy"},
                   {CLSEQ_METRIC_PRECISION, "Precision"},
                   {CLSEQ_METRIC_RECALL, "Recall"},
                   {CLSEQ_METRIC_TOP_K, "TopKCategoricalAccuracy"},
                   {CLSEQ_METRIC_SPARSE_TOP_K, "SparseTopKCategoricalAccuracy"}};
    size_t i = 0;
    while (classes[i].bit != bit)
        i++;
    cJSON *obj = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    add(obj, "module", cJSON_CreateString("keras.metrics"), ok);
    add(obj, "class_name", cJSON_CreateString(classes[i].cls), ok);
    add(cfg, "name", cJSON_CreateString(clseq_metric_name(bit)), ok);
    add(cfg, "dtype", cJSON_CreateString("float32"), ok);
    if (bit == CLSEQ_METRIC_BINARY_ACCURACY) {
        add(cfg, "threshold", clseq_keras_float_json(opt->threshold), ok);
    } else if (bit == CLSEQ_METRIC_PRECISION || bit == CLSEQ_METRIC_RECALL) {
        add(cfg, "thresholds", clseq_keras_float_json(opt->threshold), ok);
        add(cfg, "top_k", cJSON_CreateNull(), ok);
        add(cfg, "class_id", cJSON_CreateNull(), ok);
    } else {
        add(cfg, "k", cJSON_CreateNumber(opt->k), ok);
    }
    add(obj, "config", cfg, ok);
    add(obj, "registered_name", cJSON_CreateNull(), ok);
    return obj;
}

cJSON *clseq_keras_metrics_write(unsigned bits, const clseq_metric_options *opt, int *ok)
{
    const clseq_metric_options def = clseq_metric_defaults();
    const unsigned thresholded =
        CLSEQ_METRIC_BINARY_ACCURACY | CLSEQ_METRIC_PRECISION | CLSEQ_METRIC_RECALL;
    const unsigned with_k = CLSEQ_METRIC_TOP_K | CLSEQ_METRIC_SPARSE_TOP_K;
    if (!(bits & CLSEQ_METRIC_ALL))
        return cJSON_CreateNull();
    cJSON *list = cJSON_CreateArray();
    for (unsigned bit = 1; bit <= CLSEQ_METRIC_SPARSE_TOP_K; bit <<= 1) {
        if (!(bits & bit))
            continue;
        /* the name Keras's compile takes, or the class when a setting
         * differs from the default the name implies */
        int object = ((bit & thresholded) && opt->threshold != def.threshold) ||
                     ((bit & with_k) && opt->k != def.k);
        cJSON *item =
            object ? metric_object(bit, opt, ok) : cJSON_CreateString(clseq_metric_name(bit));
        if (!item || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            *ok = 0;
        }
    }
    return list;
}
