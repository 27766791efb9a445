/* Compile settings: Keras 3's compile_config (Model.get_compile_config,
 * keras/src/trainers/trainer.py) and the legacy .h5 training_config
 * (legacy/saving/saving_utils.py: model_metadata writes it,
 * compile_args_from_training_config reads it; the optimizer is under
 * "optimizer_config") <-> clseq_optimizer, clseq_loss, metric bits and
 * options (keras_metrics.c) and a learning-rate schedule
 * (keras_schedule.c).
 *
 * Optimizers: SGD, Adam, RMSprop, AdamW, Adagrad, Adadelta, Adamax, Nadam
 * and Lion with each one's get_config settings (keras/src/optimizers/
 * *.py) and the base ones every kind has (weight_decay, clipnorm,
 * clipvalue, global_clipnorm; null means off).
 *
 * All or nothing: when any setting is one clseq lacks (another optimizer,
 * amsgrad, RMSprop's momentum or centered, EMA, loss scaling, gradient
 * accumulation, a schedule other than ExponentialDecay,
 * PiecewiseConstantDecay and CosineDecay, a loss from logits or with
 * label smoothing, a metric clseq does not compute, loss weights), the
 * reader says why and the model stays uncompiled: it still predicts, and
 * the user compiles it. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "keras/keras_layers.h"
#include "nn/model_io.h"
#include "sys/error.h"

int clseq_keras_note(char *note, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note, size, fmt, ap);
    va_end(ap);
    return 0;
}

int clseq_keras_note_value(char *note, size_t size, const char *what, const char *key,
                           const cJSON *v, const char *supported)
{
    char text[96];
    clseq_keras_json_text(v, text, sizeof text);
    return clseq_keras_note(note, size, "%s: %s is %s; clseq supports only %s", what, key, text,
                            supported);
}

static int is_null_or(const cJSON *v, double value)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsNumber(v) && v->valuedouble == value);
}

/* ---- optimizer ------------------------------------------------------------- */

/* Keras's optimizer classes in clseq's kind order, with the name Keras
 * gives an unnamed one (auto_name: the class in snake case). */
static const struct {
    const char *keras_class, *auto_name;
} optimizer_classes[] = {
    {"SGD", "sgd"},       {"Adam", "adam"},       {"RMSprop", "rm_sprop"},
    {"AdamW", "adam_w"},  {"Adagrad", "adagrad"}, {"Adadelta", "adadelta"},
    {"Adamax", "adamax"}, {"Nadam", "nadam"},     {"Lion", "lion"},
};
#define OPTIMIZER_KINDS (int)(sizeof optimizer_classes / sizeof *optimizer_classes)

#define KIND(k) (1u << CLSEQ_OPT_##k)
#define BETAS (KIND(ADAM) | KIND(ADAMW) | KIND(ADAMAX) | KIND(NADAM) | KIND(LION))
#define ALL_KINDS ((1u << OPTIMIZER_KINDS) - 1u)

/* The number settings: which kinds' get_config has each, the field it
 * sets, and whether null means off (0, the base settings) or the default. */
static const struct {
    const char *key;
    unsigned kinds;
    size_t offset;
    int null_is_zero;
} number_settings[] = {
    {"momentum", KIND(SGD), offsetof(clseq_optimizer, momentum), 0},
    {"beta_1", BETAS, offsetof(clseq_optimizer, beta1), 0},
    {"beta_2", BETAS, offsetof(clseq_optimizer, beta2), 0},
    {"rho", KIND(RMSPROP) | KIND(ADADELTA), offsetof(clseq_optimizer, rho), 0},
    {"epsilon", ALL_KINDS & ~(KIND(SGD) | KIND(LION)), offsetof(clseq_optimizer, epsilon), 0},
    {"initial_accumulator_value", KIND(ADAGRAD),
     offsetof(clseq_optimizer, initial_accumulator_value), 0},
    {"weight_decay", ALL_KINDS, offsetof(clseq_optimizer, weight_decay), 1},
    {"clipnorm", ALL_KINDS, offsetof(clseq_optimizer, clipnorm), 1},
    {"clipvalue", ALL_KINDS, offsetof(clseq_optimizer, clipvalue), 1},
    {"global_clipnorm", ALL_KINDS, offsetof(clseq_optimizer, global_clipnorm), 1},
};

/* A number setting into *out; null leaves the default, or is 0 (off). */
static int number_setting(const char *kind, const char *key, const cJSON *v, int null_is_zero,
                          float *out, char *note, size_t size)
{
    if (cJSON_IsNull(v)) {
        if (null_is_zero)
            *out = 0.0f;
        return 1;
    }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 3.0e38)
        return clseq_keras_note_value(note, size, kind, key, v, "a number");
    *out = (float)v->valuedouble;
    return 1;
}

/* Settings that must keep the value clseq computes with (else a note),
 * and ones that do not change training. */
static int fixed_setting(const clseq_optimizer *o, const char *kind, const char *key,
                         const cJSON *v, char *note, size_t size, int *handled)
{
    static const char *const ignored[] = {"name", "ema_momentum", "ema_overwrite_frequency",
                                          "jit_compile", "is_legacy_optimizer"};
    unsigned bit = 1u << o->kind;
    int flag;
    *handled = 1;
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        if (strcmp(key, ignored[i]) == 0)
            return 1;
    if (strcmp(key, "loss_scale_factor") == 0)
        return cJSON_IsNull(v) ? 1 : clseq_keras_note_value(note, size, kind, key, v, "null");
    if (strcmp(key, "decay") == 0) /* Keras 2's time-based decay */
        return is_null_or(v, 0.0) ? 1
                                  : clseq_keras_note_value(note, size, kind, key, v, "null or 0");
    if (strcmp(key, "gradient_accumulation_steps") == 0)
        return is_null_or(v, 1.0) ? 1 : clseq_keras_note_value(note, size, kind, key, v, "null");
    if (strcmp(key, "use_ema") == 0 ||
        ((bit & (KIND(ADAM) | KIND(ADAMW))) && strcmp(key, "amsgrad") == 0) ||
        ((bit & KIND(RMSPROP)) && strcmp(key, "centered") == 0))
        return clseq_keras_json_bool(v, &flag) && !flag
                   ? 1
                   : clseq_keras_note_value(note, size, kind, key, v, "false");
    if ((bit & KIND(RMSPROP)) && strcmp(key, "momentum") == 0)
        return is_null_or(v, 0.0) ? 1 : clseq_keras_note_value(note, size, kind, key, v, "0");
    *handled = 0;
    return 1;
}

/* One setting of a kind's get_config (sgd.py, adam.py, ...) or of
 * BaseOptimizer.get_config; a schedule as learning_rate into *schedule. */
static int optimizer_setting(clseq_optimizer *o, const char *kind, const cJSON *item,
                             clseq_lr_schedule *schedule, int *scheduled, char *note, size_t size)
{
    const char *key = item->string;
    int handled, flag;
    if (!fixed_setting(o, kind, key, item, note, size, &handled))
        return 0;
    if (handled)
        return 1;
    if (strcmp(key, "learning_rate") == 0 || strcmp(key, "lr") == 0) {
        if (!cJSON_IsObject(item))
            return number_setting(kind, key, item, 0, &o->learning_rate, note, size);
        char what[96];
        snprintf(what, sizeof what, "optimizer %.64s", kind);
        if (!clseq_keras_schedule_read(item, what, schedule, note, size))
            return 0;
        *scheduled = 1;
        return 1;
    }
    if (o->kind == CLSEQ_OPT_SGD && strcmp(key, "nesterov") == 0) {
        if (!clseq_keras_json_bool(item, &flag))
            return clseq_keras_note_value(note, size, kind, key, item, "true or false");
        o->nesterov = flag;
        return 1;
    }
    for (size_t i = 0; i < sizeof number_settings / sizeof *number_settings; i++)
        if ((number_settings[i].kinds & (1u << o->kind)) &&
            strcmp(key, number_settings[i].key) == 0)
            return number_setting(kind, key, item, number_settings[i].null_is_zero,
                                  (float *)((char *)o + number_settings[i].offset), note, size);
    return clseq_keras_note(note, size, "optimizer %s: setting '%.64s' is not one clseq knows",
                            kind, key);
}

/* A serialized optimizer ({"class_name": "Adam", "config": {...}}, the
 * class name any case as optimizers.deserialize allows) or a bare name. */
static int read_optimizer(const cJSON *v, clseq_keras_compile *out, char *note, size_t size)
{
    clseq_optimizer *o = &out->optimizer;
    const cJSON *cls = cJSON_IsString(v) ? v : clseq_keras_member(v, "class_name");
    if (!cJSON_IsString(cls))
        return clseq_keras_note_value(note, size, "compile settings", "the optimizer", v,
                                      "a serialized optimizer");
    const char *kind = cls->valuestring;
    if (strncmp(kind, "Custom>", 7) == 0) /* tf.keras 2.11+'s registered names */
        kind += 7;
    int k = 0;
    while (k < OPTIMIZER_KINDS && strcasecmp(kind, optimizer_classes[k].keras_class) != 0)
        k++;
    if (k == OPTIMIZER_KINDS)
        return clseq_keras_note(note, size,
                                "optimizer '%.64s' is not one clseq has (SGD, Adam, RMSprop, "
                                "AdamW, Adagrad, Adadelta, Adamax, Nadam, Lion)",
                                cls->valuestring);
    if (clseq_optimizer_from_name(kind, 0.0f, o) != CLSEQ_OK)
        return clseq_keras_note(note, size, "optimizer '%.64s': %s", kind, clseq_last_error());
    if (cJSON_IsString(v))
        return 1;
    const cJSON *config = clseq_keras_member(v, "config"), *item;
    if (config && !cJSON_IsObject(config))
        return clseq_keras_note_value(note, size, kind, "config", config, "an object");
    cJSON_ArrayForEach(item, config)
    {
        if (!optimizer_setting(o, kind, item, &out->schedule, &out->scheduled, note, size))
            return 0;
    }
    /* the rate the schedule gives the first step (checked when read) */
    if (out->scheduled &&
        clseq_lr_schedule_value(&out->schedule, 0, &o->learning_rate) != CLSEQ_OK)
        return clseq_keras_note(note, size, "optimizer %s: %s", kind, clseq_last_error());
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
                   : clseq_keras_note_value(note, size, cls, key, v, "\"sum_over_batch_size\"");
    if (strcmp(key, "from_logits") == 0)
        return clseq_keras_json_bool(v, &flag) && !flag
                   ? 1
                   : clseq_keras_note_value(note, size, cls, key, v, "false (probabilities)");
    if (strcmp(key, "label_smoothing") == 0)
        return is_null_or(v, 0.0) ? 1 : clseq_keras_note_value(note, size, cls, key, v, "0");
    if (strcmp(key, "axis") == 0)
        return clseq_keras_json_int(v, &axis) && axis == -1
                   ? 1
                   : clseq_keras_note_value(note, size, cls, key, v, "-1");
    if (strcmp(key, "ignore_class") == 0)
        return cJSON_IsNull(v) ? 1 : clseq_keras_note_value(note, size, cls, key, v, "null");
    return clseq_keras_note(note, size, "loss %s: setting '%.64s' is not one clseq knows", cls,
                            key);
}

static int read_loss(const cJSON *v, clseq_loss *loss, char *note, size_t size)
{
    /* a one-output list ([loss]) is that loss */
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1)
        v = cJSON_GetArrayItem(v, 0);
    const char *name = clseq_keras_function_name(v);
    if (name) {
        if (clseq_loss_from_name(name, loss) != CLSEQ_OK)
            return clseq_keras_note(note, size,
                                    "loss '%.64s' is not one clseq has (categorical_crossentropy, "
                                    "sparse_categorical_crossentropy, binary_crossentropy, "
                                    "mean_squared_error, mean_absolute_error)",
                                    name);
        return 1;
    }
    const cJSON *cls = clseq_keras_member(v, "class_name");
    if (!cJSON_IsString(cls))
        return clseq_keras_note_value(note, size, "compile settings", "loss", v,
                                      "a loss name or a serialized loss");
    size_t i = 0, count = sizeof loss_classes / sizeof *loss_classes;
    while (i < count && strcmp(loss_classes[i].keras_class, cls->valuestring) != 0)
        i++;
    if (i == count)
        return clseq_keras_note(note, size,
                                "loss '%.64s' is not one clseq has (CategoricalCrossentropy, "
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
        return clseq_keras_note_value(note, note_size, "compile settings", "the config", config,
                                      "an object");
    const cJSON *optimizer = clseq_keras_member(config, "optimizer");
    if (!optimizer)
        optimizer = clseq_keras_member(config, "optimizer_config");
    const cJSON *loss = clseq_keras_member(config, "loss"), *item;
    if (!optimizer || !loss || cJSON_IsNull(loss))
        return clseq_keras_note(note, note_size, "the compile settings have no %s",
                                optimizer ? "loss" : "optimizer");
    if (!read_optimizer(optimizer, out, note, note_size) ||
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
                return clseq_keras_note_value(note, note_size, "compile settings", key, item,
                                              "null");
        } else if (strcmp(key, "weighted_metrics") == 0 ||
                   strcmp(key, "sample_weight_mode") == 0) {
            if (!empty(item))
                return clseq_keras_note_value(note, note_size, "compile settings", key, item,
                                              "null");
        } else {
            return clseq_keras_note(note, note_size,
                                    "compile settings: '%.64s' is not one clseq knows", key);
        }
    }
    return clseq_keras_metrics_read(clseq_keras_member(config, "metrics"), out->loss, output_dim,
                                    &out->metrics, &out->metric_options, note, note_size);
}

/* ---- writing --------------------------------------------------------------- */

static void add(cJSON *obj, const char *key, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

/* A base setting: the number, or null when 0 (off). */
static cJSON *number_or_null(float v)
{
    return v != 0.0f ? clseq_keras_float_json(v) : cJSON_CreateNull();
}

/* Keras 3's serialized optimizer: BaseOptimizer.get_config's arguments,
 * then the kind's, in the order optimizers.serialize writes them; the
 * learning rate is schedule when not NULL. */
static cJSON *optimizer_json(const clseq_optimizer *o, cJSON *schedule, int *ok)
{
    static const char *const betas_epsilon[] = {"beta_1", "beta_2", "epsilon"};
    const float values[] = {o->beta1, o->beta2, o->epsilon};
    cJSON *obj = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    unsigned bit = 1u << o->kind;
    add(obj, "module", cJSON_CreateString("keras.optimizers"), ok);
    add(obj, "class_name", cJSON_CreateString(optimizer_classes[o->kind].keras_class), ok);
    add(cfg, "name", cJSON_CreateString(optimizer_classes[o->kind].auto_name), ok);
    add(cfg, "learning_rate", schedule ? schedule : clseq_keras_float_json(o->learning_rate), ok);
    /* AdamW refuses weight_decay=None: it writes its number, 0 too */
    add(cfg, "weight_decay",
        o->kind == CLSEQ_OPT_ADAMW ? clseq_keras_float_json(o->weight_decay)
                                   : number_or_null(o->weight_decay),
        ok);
    add(cfg, "clipnorm", number_or_null(o->clipnorm), ok);
    add(cfg, "global_clipnorm", number_or_null(o->global_clipnorm), ok);
    add(cfg, "clipvalue", number_or_null(o->clipvalue), ok);
    add(cfg, "use_ema", cJSON_CreateFalse(), ok);
    add(cfg, "ema_momentum", clseq_keras_float_json(0.99f), ok);
    add(cfg, "ema_overwrite_frequency", cJSON_CreateNull(), ok);
    add(cfg, "loss_scale_factor", cJSON_CreateNull(), ok);
    add(cfg, "gradient_accumulation_steps", cJSON_CreateNull(), ok);
    if (o->kind == CLSEQ_OPT_SGD) {
        add(cfg, "momentum", clseq_keras_float_json(o->momentum), ok);
        add(cfg, "nesterov", cJSON_CreateBool(o->nesterov), ok);
    } else if (o->kind == CLSEQ_OPT_RMSPROP) {
        add(cfg, "rho", clseq_keras_float_json(o->rho), ok);
        add(cfg, "momentum", cJSON_CreateNumber(0.0), ok);
        add(cfg, "epsilon", clseq_keras_float_json(o->epsilon), ok);
        add(cfg, "centered", cJSON_CreateFalse(), ok);
    } else if (o->kind == CLSEQ_OPT_ADAGRAD) {
        add(cfg, "initial_accumulator_value", clseq_keras_float_json(o->initial_accumulator_value),
            ok);
        add(cfg, "epsilon", clseq_keras_float_json(o->epsilon), ok);
    } else if (o->kind == CLSEQ_OPT_ADADELTA) {
        add(cfg, "rho", clseq_keras_float_json(o->rho), ok);
        add(cfg, "epsilon", clseq_keras_float_json(o->epsilon), ok);
    } else {
        /* Adam, AdamW, Adamax, Nadam: beta_1, beta_2, epsilon; Lion the betas */
        for (int i = 0; i < (o->kind == CLSEQ_OPT_LION ? 2 : 3); i++)
            add(cfg, betas_epsilon[i], clseq_keras_float_json(values[i]), ok);
        if (bit & (KIND(ADAM) | KIND(ADAMW)))
            add(cfg, "amsgrad", cJSON_CreateFalse(), ok);
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
    clseq_metric_options mo;
    clseq_lr_schedule schedule;
    cJSON *sched = NULL;
    *out = NULL;
    clseq_status s = clseq_model_compile_settings(m, &o, &loss, &metrics);
    if (s == CLSEQ_OK)
        s = clseq_get_metric_options(m, &mo);
    if (s == CLSEQ_OK && ((int)o.kind < 0 || (int)o.kind >= OPTIMIZER_KINDS))
        s = clseq_fail(CLSEQ_E_ARG, "the model's optimizer (kind %d) has no Keras class",
                       (int)o.kind);
    if (s == CLSEQ_OK && clseq_get_lr_schedule(m, &schedule))
        s = clseq_keras_schedule_write(&schedule, &sched);
    if (s != CLSEQ_OK)
        return s;
    int ok = 1;
    cJSON *cc = cJSON_CreateObject();
    add(cc, "optimizer", optimizer_json(&o, sched, &ok), &ok);
    add(cc, "loss", cJSON_CreateString(clseq_loss_name(loss)), &ok);
    add(cc, "loss_weights", cJSON_CreateNull(), &ok);
    add(cc, "metrics", clseq_keras_metrics_write(metrics, &mo, &ok), &ok);
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
