/* Compile settings: Keras 3's compile_config (Model.get_compile_config,
 * keras/src/trainers/trainer.py) and the legacy .h5 training_config
 * (legacy/saving/saving_utils.py: model_metadata writes it,
 * compile_args_from_training_config reads it; the optimizer is under
 * "optimizer_config") <-> clseq_optimizer, clseq_loss and metric bits.
 *
 * All or nothing: when any setting is one clseq lacks (an optimizer other
 * than SGD, Adam and RMSprop, a learning-rate schedule, clipping, EMA,
 * weight decay, a loss from logits or with label smoothing, a metric
 * clseq does not compute, loss weights), the reader says why and the
 * model stays uncompiled: it still predicts, and the user compiles it. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keras/keras_layers.h"
#include "nn/model_io.h"
#include "sys/error.h"

/* Why the settings cannot be restored, into note; returns 0. */
static int cannot(char *note, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int cannot(char *note, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, size, fmt, ap);
    va_end(ap);
    return 0;
}

static int value_cannot(char *note, size_t size, const char *what, const char *key,
                        const cJSON *v, const char *supported)
{
    char text[96];
    clseq_keras_json_text(v, text, sizeof text);
    return cannot(note, size, "%s: %s is %s; clseq supports only %s", what, key, text, supported);
}

static int is_null_or(const cJSON *v, double value)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble == value);
}

/* ---- optimizer ------------------------------------------------------------- */

/* Keras 3's base Optimizer arguments (keras/src/optimizers/base_optimizer.py,
 * BaseOptimizer.get_config) and Keras 2's, with what clseq accepts. */
static int base_setting(const char *key, const cJSON *v, char *note, size_t size, int *handled)
{
    static const char *const ignored[] = {"name", "ema_momentum", "ema_overwrite_frequency",
                                          "jit_compile", "is_legacy_optimizer"};
    static const char *const must_be_null[] = {"clipnorm", "global_clipnorm", "clipvalue",
                                               "loss_scale_factor"};
    int flag;
    *handled = 1;
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        if (strcmp(key, ignored[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof must_be_null / sizeof *must_be_null; i++)
        if (strcmp(key, must_be_null[i]) == 0)
            return cJSON_IsNull(v) ? 1 : value_cannot(note, size, "optimizer", key, v, "null");
    if (strcmp(key, "weight_decay") == 0 || strcmp(key, "decay") == 0)
        return is_null_or(v, 0.0) ? 1 : value_cannot(note, size, "optimizer", key, v, "null or 0");
    if (strcmp(key, "gradient_accumulation_steps") == 0)
        return is_null_or(v, 1.0) ? 1 : value_cannot(note, size, "optimizer", key, v, "null");
    if (strcmp(key, "use_ema") == 0)
        return clseq_keras_json_bool(v, &flag) && !flag
                   ? 1
                   : value_cannot(note, size, "optimizer", key, v, "false");
    *handled = 0;
    return 1;
}

/* A number setting into *out (absent or null: the default stays). */
static int number_setting(const char *kind, const char *key, const cJSON *v, float *out,
                          char *note, size_t size)
{
    if (cJSON_IsNull(v))
        return 1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 3.0e38)
        return value_cannot(note, size, kind, key, v, "a number");
    *out = (float)v->valuedouble;
    return 1;
}

/* The kind's own settings (sgd.py, adam.py, rmsprop.py get_config). */
static int kind_setting(clseq_optimizer *o, const char *kind, const char *key, const cJSON *v,
                        char *note, size_t size)
{
    int flag;
    if (strcmp(key, "learning_rate") == 0 || strcmp(key, "lr") == 0) {
        const cJSON *cls = clseq_keras_member(v, "class_name");
        if (cJSON_IsObject(v))
            return cannot(note, size, "optimizer %s: the learning rate is a schedule (%.64s); "
                                      "clseq has a constant learning rate",
                          kind, cJSON_IsString(cls) ? cls->valuestring : "?");
        return number_setting(kind, key, v, &o->learning_rate, note, size);
    }
    if (o->kind == CLSEQ_OPT_SGD) {
        if (strcmp(key, "momentum") == 0)
            return number_setting(kind, key, v, &o->momentum, note, size);
        if (strcmp(key, "nesterov") == 0) {
            if (!clseq_keras_json_bool(v, &flag))
                return value_cannot(note, size, kind, key, v, "true or false");
            o->nesterov = flag;
            return 1;
        }
    } else if (o->kind == CLSEQ_OPT_ADAM) {
        if (strcmp(key, "beta_1") == 0)
            return number_setting(kind, key, v, &o->beta1, note, size);
        if (strcmp(key, "beta_2") == 0)
            return number_setting(kind, key, v, &o->beta2, note, size);
        if (strcmp(key, "epsilon") == 0)
            return number_setting(kind, key, v, &o->epsilon, note, size);
        if (strcmp(key, "amsgrad") == 0)
            return clseq_keras_json_bool(v, &flag) && !flag
                       ? 1
                       : value_cannot(note, size, kind, key, v, "false");
    } else {
        if (strcmp(key, "rho") == 0)
            return number_setting(kind, key, v, &o->rho, note, size);
        if (strcmp(key, "epsilon") == 0)
            return number_setting(kind, key, v, &o->epsilon, note, size);
        if (strcmp(key, "momentum") == 0)
            return is_null_or(v, 0.0) ? 1 : value_cannot(note, size, kind, key, v, "0");
        if (strcmp(key, "centered") == 0)
            return clseq_keras_json_bool(v, &flag) && !flag
                       ? 1
                       : value_cannot(note, size, kind, key, v, "false");
    }
    return cannot(note, size, "optimizer %s: setting '%.64s' is not one clseq knows", kind, key);
}

/* A serialized optimizer ({"class_name": "Adam", "config": {...}}, the
 * class name any case as optimizers.deserialize allows) or a bare name. */
static int read_optimizer(const cJSON *v, clseq_optimizer *o, char *note, size_t size)
{
    const cJSON *cls = cJSON_IsString(v) ? v : clseq_keras_member(v, "class_name");
    if (!cJSON_IsString(cls))
        return value_cannot(note, size, "compile settings", "the optimizer", v,
                            "a serialized optimizer");
    const char *kind = cls->valuestring;
    if (strncmp(kind, "Custom>", 7) == 0) /* tf.keras 2.11+'s registered names */
        kind += 7;
    if (strcasecmp(kind, "sgd") != 0 && strcasecmp(kind, "adam") != 0 &&
        strcasecmp(kind, "rmsprop") != 0)
        return cannot(note, size, "optimizer '%.64s' is not one clseq has (SGD, Adam, RMSprop)",
                      cls->valuestring);
    if (clseq_optimizer_from_name(kind, 0.0f, o) != CLSEQ_OK)
        return cannot(note, size, "optimizer '%.64s': %s", kind, clseq_last_error());
    if (cJSON_IsString(v))
        return 1;
    const cJSON *config = clseq_keras_member(v, "config"), *item;
    if (config && !cJSON_IsObject(config))
        return value_cannot(note, size, kind, "config", config, "an object");
    cJSON_ArrayForEach(item, config)
    {
        int handled;
        if (!base_setting(item->string, item, note, size, &handled))
            return 0;
        if (!handled && !kind_setting(o, kind, item->string, item, note, size))
            return 0;
    }
    return 1;
}

/* ---- loss ------------------------------------------------------------------ */

/* Loss classes (keras/src/losses/losses.py) with the loss they compute. */
static const struct {
    const char *keras_class;
    clseq_loss loss;
} loss_classes[] = {
    {"CategoricalCrossentropy", CLSEQ_CATEGORICAL_CROSSENTROPY},
    {"SparseCategoricalCrossentropy", CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY},
    {"BinaryCrossentropy", CLSEQ_BINARY_CROSSENTROPY},
    {"MeanSquaredError", CLSEQ_MEAN_SQUARED_ERROR},
    {"MeanAbsoluteError", CLSEQ_MEAN_ABSOLUTE_ERROR},
};

/* A loss class's config: only what computes clseq's loss. */
static int loss_setting(const char *cls, const char *key, const cJSON *v, char *note, size_t size)
{
    int flag, axis;
    if (strcmp(key, "name") == 0 || strcmp(key, "dtype") == 0)
        return 1;
    if (strcmp(key, "reduction") == 0)
        return cJSON_IsNull(v) ||
                       (cJSON_IsString(v) && (strcmp(v->valuestring, "sum_over_batch_size") == 0 ||
                                              strcmp(v->valuestring, "auto") == 0))
                   ? 1
                   : value_cannot(note, size, cls, key, v, "\"sum_over_batch_size\"");
    if (strcmp(key, "from_logits") == 0)
        return clseq_keras_json_bool(v, &flag) && !flag
                   ? 1
                   : value_cannot(note, size, cls, key, v, "false (probabilities)");
    if (strcmp(key, "label_smoothing") == 0)
        return is_null_or(v, 0.0) ? 1 : value_cannot(note, size, cls, key, v, "0");
    if (strcmp(key, "axis") == 0)
        return clseq_keras_json_int(v, &axis) && axis == -1
                   ? 1
                   : value_cannot(note, size, cls, key, v, "-1");
    if (strcmp(key, "ignore_class") == 0)
        return cJSON_IsNull(v) ? 1 : value_cannot(note, size, cls, key, v, "null");
    return cannot(note, size, "loss %s: setting '%.64s' is not one clseq knows", cls, key);
}

static int read_loss(const cJSON *v, clseq_loss *loss, char *note, size_t size)
{
    /* a one-output list ([loss]) is that loss */
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1)
        v = cJSON_GetArrayItem(v, 0);
    const char *name = clseq_keras_function_name(v);
    if (name) {
        if (clseq_loss_from_name(name, loss) != CLSEQ_OK)
            return cannot(note, size, "loss '%.64s' is not one clseq has (categorical_crossentropy, "
                                      "sparse_categorical_crossentropy, binary_crossentropy, "
                                      "mean_squared_error, mean_absolute_error)",
                          name);
        return 1;
    }
    const cJSON *cls = clseq_keras_member(v, "class_name");
    if (!cJSON_IsString(cls))
        return value_cannot(note, size, "compile settings", "loss", v,
                            "a loss name or a serialized loss");
    size_t i = 0, count = sizeof loss_classes / sizeof *loss_classes;
    while (i < count && strcmp(loss_classes[i].keras_class, cls->valuestring) != 0)
        i++;
    if (i == count)
        return cannot(note, size, "loss '%.64s' is not one clseq has (CategoricalCrossentropy, "
                                  "SparseCategoricalCrossentropy, BinaryCrossentropy, "
                                  "MeanSquaredError, MeanAbsoluteError)",
                      cls->valuestring);
    const cJSON *config = clseq_keras_member(v, "config"), *item;
    cJSON_ArrayForEach(item, config)
    {
        if (!loss_setting(cls->valuestring, item->string, item, note, size))
            return 0;
    }
    *loss = loss_classes[i].loss;
    return 1;
}

/* ---- metrics --------------------------------------------------------------- */

/* Which accuracy clseq computes for this loss and output (README: arg-max
 * for categorical, class index for sparse, threshold 0.5 for binary
 * cross-entropy or one output): "categorical", "sparse" or "binary". */
static const char *clseq_accuracy(clseq_loss loss, int output_dim)
{
    if (loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY)
        return "sparse";
    if (loss == CLSEQ_BINARY_CROSSENTROPY || output_dim == 1)
        return "binary";
    return "categorical";
}

/* One metric: a name (compile_utils's "accuracy"/"acc", a metric
 * function's name) or a serialized metric class (keras/src/metrics). */
static int read_metric(const cJSON *v, clseq_loss loss, int output_dim, unsigned *bits, char *note,
                       size_t size)
{
    static const struct {
        const char *name;
        unsigned bit;
        const char *accuracy; /* the accuracy it must be, or NULL */
    } metrics[] = {
        {"accuracy", CLSEQ_METRIC_ACCURACY, NULL},
        {"acc", CLSEQ_METRIC_ACCURACY, NULL},
        {"categorical_accuracy", CLSEQ_METRIC_ACCURACY, "categorical"},
        {"CategoricalAccuracy", CLSEQ_METRIC_ACCURACY, "categorical"},
        {"sparse_categorical_accuracy", CLSEQ_METRIC_ACCURACY, "sparse"},
        {"SparseCategoricalAccuracy", CLSEQ_METRIC_ACCURACY, "sparse"},
        {"binary_accuracy", CLSEQ_METRIC_ACCURACY, "binary"},
        {"BinaryAccuracy", CLSEQ_METRIC_ACCURACY, "binary"},
        {"mse", CLSEQ_METRIC_MSE, NULL},
        {"mean_squared_error", CLSEQ_METRIC_MSE, NULL},
        {"MeanSquaredError", CLSEQ_METRIC_MSE, NULL},
        {"mae", CLSEQ_METRIC_MAE, NULL},
        {"mean_absolute_error", CLSEQ_METRIC_MAE, NULL},
        {"MeanAbsoluteError", CLSEQ_METRIC_MAE, NULL},
    };
    const char *name = clseq_keras_function_name(v);
    const cJSON *config = NULL;
    if (!name) {
        const cJSON *cls = clseq_keras_member(v, "class_name");
        if (!cJSON_IsString(cls))
            return value_cannot(note, size, "compile settings", "a metric", v,
                                "a metric name or a serialized metric");
        name = cls->valuestring;
        config = clseq_keras_member(v, "config");
    }
    size_t i = 0, count = sizeof metrics / sizeof *metrics;
    while (i < count && strcmp(metrics[i].name, name) != 0)
        i++;
    if (i == count)
        return cannot(note, size, "metric '%.64s' is not one clseq computes (accuracy, mse, mae)",
                      name);
    const char *acc = clseq_accuracy(loss, output_dim);
    if (metrics[i].accuracy && output_dim > 0 && strcmp(metrics[i].accuracy, acc) != 0)
        return cannot(note, size, "metric '%.64s': clseq's accuracy for this loss and output "
                                  "is %s accuracy",
                      name, acc);
    const cJSON *threshold = clseq_keras_member(config, "threshold");
    if (threshold && !is_null_or(threshold, 0.5))
        return value_cannot(note, size, name, "threshold", threshold, "0.5");
    *bits |= metrics[i].bit;
    return 1;
}

static int read_metrics(const cJSON *v, clseq_loss loss, int output_dim, unsigned *bits,
                        char *note, size_t size)
{
    *bits = 0;
    if (!v || cJSON_IsNull(v))
        return 1;
    /* Keras 2's per-output lists: [["accuracy"]] for one output */
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1 && cJSON_IsArray(cJSON_GetArrayItem(v, 0)))
        v = cJSON_GetArrayItem(v, 0);
    if (!cJSON_IsArray(v))
        return read_metric(v, loss, output_dim, bits, note, size);
    const cJSON *item;
    cJSON_ArrayForEach(item, v)
    {
        if (!read_metric(item, loss, output_dim, bits, note, size))
            return 0;
    }
    return 1;
}

/* ---- the whole --------------------------------------------------------------- */

static int empty(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 0) ||
           (cJSON_IsObject(v) && !v->child);
}

int clseq_keras_compile_read(const cJSON *config, int output_dim, clseq_keras_compile *out,
                             char *note, size_t note_size)
{
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(config))
        return value_cannot(note, note_size, "compile settings", "the config", config,
                            "an object");
    const cJSON *optimizer = clseq_keras_member(config, "optimizer");
    if (!optimizer)
        optimizer = clseq_keras_member(config, "optimizer_config");
    const cJSON *loss = clseq_keras_member(config, "loss"), *item;
    if (!optimizer || !loss || cJSON_IsNull(loss))
        return cannot(note, note_size, "the compile settings have no %s",
                      optimizer ? "loss" : "optimizer");
    if (!read_optimizer(optimizer, &out->optimizer, note, note_size) ||
        !read_loss(loss, &out->loss, note, note_size))
        return 0;
    cJSON_ArrayForEach(item, config)
    {
        const char *key = item->string;
        if (strcmp(key, "optimizer") == 0 || strcmp(key, "optimizer_config") == 0 ||
            strcmp(key, "loss") == 0 || strcmp(key, "metrics") == 0 ||
            strcmp(key, "run_eagerly") == 0 || strcmp(key, "steps_per_execution") == 0 ||
            strcmp(key, "jit_compile") == 0 || strcmp(key, "auto_scale_loss") == 0)
            continue;
        if (strcmp(key, "loss_weights") == 0) {
            const cJSON *w = cJSON_IsArray(item) && cJSON_GetArraySize(item) == 1
                                 ? cJSON_GetArrayItem(item, 0)
                                 : item;
            if (!is_null_or(w, 1.0))
                return value_cannot(note, note_size, "compile settings", key, item, "null");
        } else if (strcmp(key, "weighted_metrics") == 0 || strcmp(key, "sample_weight_mode") == 0) {
            if (!empty(item))
                return value_cannot(note, note_size, "compile settings", key, item, "null");
        } else {
            return cannot(note, note_size, "compile settings: '%.64s' is not one clseq knows",
                          key);
        }
    }
    return read_metrics(clseq_keras_member(config, "metrics"), out->loss, output_dim,
                        &out->metrics, note, note_size);
}

/* ---- writing --------------------------------------------------------------- */

static void add(cJSON *obj, const char *key, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

/* Keras 3's serialized optimizer: BaseOptimizer.get_config's arguments,
 * then the kind's, as optimizers.serialize writes them. */
static cJSON *optimizer_json(const clseq_optimizer *o, int *ok)
{
    static const char *const classes[] = {"SGD", "Adam", "RMSprop"};
    static const char *const names[] = {"sgd", "adam", "rm_sprop"}; /* Keras's auto names */
    cJSON *obj = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    int kind = (int)o->kind;
    if (kind < 0 || kind > 2) {
        *ok = 0;
        kind = 0;
    }
    add(obj, "module", cJSON_CreateString("keras.optimizers"), ok);
    add(obj, "class_name", cJSON_CreateString(classes[kind]), ok);
    add(cfg, "name", cJSON_CreateString(names[kind]), ok);
    add(cfg, "learning_rate", clseq_keras_float_json(o->learning_rate), ok);
    add(cfg, "weight_decay", cJSON_CreateNull(), ok);
    add(cfg, "clipnorm", cJSON_CreateNull(), ok);
    add(cfg, "global_clipnorm", cJSON_CreateNull(), ok);
    add(cfg, "clipvalue", cJSON_CreateNull(), ok);
    add(cfg, "use_ema", cJSON_CreateFalse(), ok);
    add(cfg, "ema_momentum", clseq_keras_float_json(0.99f), ok);
    add(cfg, "ema_overwrite_frequency", cJSON_CreateNull(), ok);
    add(cfg, "loss_scale_factor", cJSON_CreateNull(), ok);
    add(cfg, "gradient_accumulation_steps", cJSON_CreateNull(), ok);
    if (o->kind == CLSEQ_OPT_SGD) {
        add(cfg, "momentum", clseq_keras_float_json(o->momentum), ok);
        add(cfg, "nesterov", cJSON_CreateBool(o->nesterov), ok);
    } else if (o->kind == CLSEQ_OPT_ADAM) {
        add(cfg, "beta_1", clseq_keras_float_json(o->beta1), ok);
        add(cfg, "beta_2", clseq_keras_float_json(o->beta2), ok);
        add(cfg, "epsilon", clseq_keras_float_json(o->epsilon), ok);
        add(cfg, "amsgrad", cJSON_CreateFalse(), ok);
    } else {
        add(cfg, "rho", clseq_keras_float_json(o->rho), ok);
        add(cfg, "momentum", cJSON_CreateNumber(0.0), ok);
        add(cfg, "epsilon", clseq_keras_float_json(o->epsilon), ok);
        add(cfg, "centered", cJSON_CreateFalse(), ok);
    }
    add(obj, "config", cfg, ok);
    add(obj, "registered_name", cJSON_CreateNull(), ok);
    return obj;
}

clseq_status clseq_keras_compile_write(const clseq_model *m, cJSON **out)
{
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics;
    *out = NULL;
    clseq_status s = clseq_model_compile_settings(m, &o, &loss, &metrics);
    if (s != CLSEQ_OK)
        return s;
    if ((int)o.kind < 0 || (int)o.kind > (int)CLSEQ_OPT_RMSPROP)
        return clseq_fail(CLSEQ_E_ARG, "the model's optimizer (kind %d) has no Keras config "
                                       "writer (SGD, Adam, RMSprop)",
                          (int)o.kind);
    int ok = 1;
    cJSON *cc = cJSON_CreateObject();
    add(cc, "optimizer", optimizer_json(&o, &ok), &ok);
    add(cc, "loss", cJSON_CreateString(clseq_loss_name(loss)), &ok);
    add(cc, "loss_weights", cJSON_CreateNull(), &ok);
    if (metrics) {
        cJSON *list = cJSON_CreateArray();
        for (unsigned bit = 1; bit <= CLSEQ_METRIC_MAE; bit <<= 1) {
            cJSON *name = (metrics & bit) ? cJSON_CreateString(clseq_metric_name(bit)) : NULL;
            if ((metrics & bit) && (!name || !cJSON_AddItemToArray(list, name))) {
                cJSON_Delete(name);
                ok = 0;
            }
        }
        add(cc, "metrics", list, &ok);
    } else {
        add(cc, "metrics", cJSON_CreateNull(), &ok);
    }
    add(cc, "weighted_metrics", cJSON_CreateNull(), &ok);
    add(cc, "run_eagerly", cJSON_CreateFalse(), &ok);
    add(cc, "steps_per_execution", cJSON_CreateNumber(1), &ok);
    add(cc, "jit_compile", cJSON_CreateTrue(), &ok);
    if (!ok) {
        cJSON_Delete(cc);
        return clseq_fail(CLSEQ_E_NOMEM, "out of memory writing the Keras compile_config");
    }
    *out = cc;
    return CLSEQ_OK;
}
