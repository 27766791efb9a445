/* Learning-rate schedules in Keras configs: an optimizer's learning_rate
 * that is a serialized schedule (keras/src/optimizers/schedules/
 * learning_rate_schedule.py, each class's get_config; Keras 3 writes
 * {"module": "keras.optimizers.schedules", "class_name", "config",
 * "registered_name": null}, tf.keras the class_name and config alone)
 * <-> clseq_lr_schedule. ExponentialDecay, PiecewiseConstantDecay and
 * CosineDecay are clseq's; other classes (PolynomialDecay,
 * InverseTimeDecay, CosineDecayRestarts, custom ones) are refused with a
 * note, and a CLSEQ_SCHEDULE_FUNCTION schedule has no Keras form. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "keras/keras_layers.h"
#include "sys/error.h"

/* Integral steps (decay_steps, warmup_steps, boundaries) into *out:
 * Keras takes any number, clseq counts steps in whole numbers. */
static int read_steps(const char *cls, const char *key, const cJSON *v, long long *out, char *note,
                      size_t size)
{
    if (!cJSON_IsNumber(v) || !(fabs(v->valuedouble) < 9.0e15) ||
        v->valuedouble != floor(v->valuedouble))
        return clseq_keras_note_value(note, size, cls, key, v, "a whole number of steps");
    *out = (long long)v->valuedouble;
    return 1;
}

static int read_rate(const char *cls, const char *key, const cJSON *v, float *out, char *note,
                     size_t size)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 3.0e38)
        return clseq_keras_note_value(note, size, cls, key, v, "a number");
    *out = (float)v->valuedouble;
    return 1;
}

/* PiecewiseConstantDecay's two lists. */
static int read_piecewise(const cJSON *boundaries, const cJSON *values, const char *cls,
                          clseq_lr_schedule *s, char *note, size_t size)
{
    int count = cJSON_GetArraySize(boundaries);
    if (!cJSON_IsArray(boundaries) || count < 1 || count > CLSEQ_SCHEDULE_MAX_BOUNDARIES)
        return clseq_keras_note_value(note, size, cls, "boundaries", boundaries,
                                      "a list of 1 to 16 steps");
    if (!cJSON_IsArray(values) || cJSON_GetArraySize(values) != count + 1)
        return clseq_keras_note(note, size,
                                "%s: values must have one more entry than "
                                "boundaries (%d)",
                                cls, count);
    s->count = count;
    for (int i = 0; i <= count; i++) {
        if (i < count && !read_steps(cls, "boundaries", cJSON_GetArrayItem(boundaries, i),
                                     &s->boundaries[i], note, size))
            return 0;
        if (!read_rate(cls, "values", cJSON_GetArrayItem(values, i), &s->values[i], note, size))
            return 0;
    }
    return 1;
}

/* One config entry of the exponential or cosine schedule. */
static int read_setting(clseq_lr_schedule *s, const char *cls, const cJSON *item, char *note,
                        size_t size)
{
    const char *key = item->string;
    int flag;
    if (strcmp(key, "name") == 0)
        return 1;
    if (strcmp(key, "initial_learning_rate") == 0)
        return read_rate(cls, key, item, &s->initial_learning_rate, note, size);
    if (strcmp(key, "decay_steps") == 0)
        return read_steps(cls, key, item, &s->decay_steps, note, size);
    if (s->kind == CLSEQ_SCHEDULE_EXPONENTIAL) {
        if (strcmp(key, "decay_rate") == 0)
            return read_rate(cls, key, item, &s->decay_rate, note, size);
        if (strcmp(key, "staircase") == 0) {
            if (!clseq_keras_json_bool(item, &flag))
                return clseq_keras_note_value(note, size, cls, key, item, "true or false");
            s->staircase = flag;
            return 1;
        }
    } else {
        if (strcmp(key, "alpha") == 0)
            return read_rate(cls, key, item, &s->alpha, note, size);
        if (strcmp(key, "warmup_target") == 0)
            return cJSON_IsNull(item) ? (s->warmup_target = NAN, 1)
                                      : read_rate(cls, key, item, &s->warmup_target, note, size);
        if (strcmp(key, "warmup_steps") == 0)
            return read_steps(cls, key, item, &s->warmup_steps, note, size);
    }
    return clseq_keras_note(note, size, "%s: setting '%.64s' is not one clseq knows", cls, key);
}

int clseq_keras_schedule_read(const cJSON *v, const char *what, clseq_lr_schedule *out, char *note,
                              size_t size)
{
    const cJSON *cls = clseq_keras_member(v, "class_name");
    const cJSON *config = clseq_keras_member(v, "config");
    const cJSON *module = clseq_keras_member(v, "module");
    const cJSON *registered = clseq_keras_member(v, "registered_name"), *item;
    const char *name = cJSON_IsString(cls) ? cls->valuestring : "?";
    int custom =
        (module && !(cJSON_IsString(module) && strncmp(module->valuestring, "keras", 5) == 0)) ||
        (registered && !cJSON_IsNull(registered) &&
         !(cJSON_IsString(registered) && strcmp(registered->valuestring, name) == 0));
    if (custom ||
        (strcmp(name, "ExponentialDecay") != 0 && strcmp(name, "PiecewiseConstantDecay") != 0 &&
         strcmp(name, "CosineDecay") != 0))
        return clseq_keras_note(note, size,
                                "%s: the learning rate is a schedule clseq lacks "
                                "(%.64s%s); clseq has ExponentialDecay, "
                                "PiecewiseConstantDecay and CosineDecay",
                                what, name, custom ? ", a custom class" : "");
    /* messages name the optimizer and the class */
    char who[160];
    snprintf(who, sizeof who, "%.80s: %.64s", what, name);
    if (!cJSON_IsObject(config))
        return clseq_keras_note_value(note, size, who, "config", config, "an object");
    if (name[0] == 'P') {
        *out = clseq_piecewise_constant_decay(0, NULL, NULL);
        cJSON_ArrayForEach(item, config)
        {
            if (strcmp(item->string, "name") != 0 && strcmp(item->string, "boundaries") != 0 &&
                strcmp(item->string, "values") != 0)
                return clseq_keras_note(note, size, "%s: setting '%.64s' is not one clseq knows",
                                        who, item->string);
        }
        if (!read_piecewise(clseq_keras_member(config, "boundaries"),
                            clseq_keras_member(config, "values"), who, out, note, size))
            return 0;
    } else {
        /* Keras's defaults for what a config leaves out */
        *out = name[0] == 'E' ? clseq_exponential_decay(NAN, 0, NAN, 0)
                              : clseq_cosine_decay(NAN, 0, 0.0f, NAN, 0);
        cJSON_ArrayForEach(item, config)
        {
            if (!read_setting(out, who, item, note, size))
                return 0;
        }
    }
    /* clseq's own checks (positive steps, finite rates, increasing
     * boundaries), which a missing argument fails too */
    float lr;
    if (clseq_lr_schedule_value(out, 0, &lr) != CLSEQ_OK)
        return clseq_keras_note(note, size, "%s: %s", who, clseq_last_error());
    return 1;
}

static void add(cJSON *obj, const char *key, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

static void append(cJSON *list, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToArray(list, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

/* The config each class's get_config writes, its keys in Keras's order. */
static void schedule_config(const clseq_lr_schedule *s, cJSON *cfg, int *ok)
{
    if (s->kind == CLSEQ_SCHEDULE_PIECEWISE) {
        cJSON *boundaries = cJSON_CreateArray(), *values = cJSON_CreateArray();
        for (int i = 0; i <= s->count; i++) {
            if (i < s->count)
                append(boundaries, cJSON_CreateNumber((double)s->boundaries[i]), ok);
            append(values, clseq_keras_float_json(s->values[i]), ok);
        }
        add(cfg, "boundaries", boundaries, ok);
        add(cfg, "values", values, ok);
        add(cfg, "name", cJSON_CreateString("PiecewiseConstant"), ok);
        return;
    }
    add(cfg, "initial_learning_rate", clseq_keras_float_json(s->initial_learning_rate), ok);
    add(cfg, "decay_steps", cJSON_CreateNumber((double)s->decay_steps), ok);
    if (s->kind == CLSEQ_SCHEDULE_EXPONENTIAL) {
        add(cfg, "decay_rate", clseq_keras_float_json(s->decay_rate), ok);
        add(cfg, "staircase", cJSON_CreateBool(s->staircase), ok);
        add(cfg, "name", cJSON_CreateString("ExponentialDecay"), ok);
        return;
    }
    add(cfg, "alpha", clseq_keras_float_json(s->alpha), ok);
    add(cfg, "name", cJSON_CreateString("CosineDecay"), ok);
    add(cfg, "warmup_target",
        isnan(s->warmup_target) ? cJSON_CreateNull() : clseq_keras_float_json(s->warmup_target),
        ok);
    add(cfg, "warmup_steps", cJSON_CreateNumber((double)s->warmup_steps), ok);
}

clseq_status clseq_keras_schedule_write(const clseq_lr_schedule *s, cJSON **out)
{
    static const char *const classes[] = {"ExponentialDecay", "PiecewiseConstantDecay",
                                          "CosineDecay"};
    *out = NULL;
    if (s->kind == CLSEQ_SCHEDULE_FUNCTION)
        return clseq_fail(CLSEQ_E_ARG, "the model's learning rate follows a function schedule, "
                                       "which a Keras config cannot hold; set a fixed rate or a "
                                       "Keras schedule (exponential, piecewise, cosine) first");
    if ((int)s->kind < (int)CLSEQ_SCHEDULE_EXPONENTIAL ||
        (int)s->kind > (int)CLSEQ_SCHEDULE_COSINE)
        return clseq_fail(CLSEQ_E_ARG, "learning-rate schedule kind %d has no Keras class",
                          (int)s->kind);
    int ok = 1;
    cJSON *obj = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    add(obj, "module", cJSON_CreateString("keras.optimizers.schedules"), &ok);
    add(obj, "class_name",
        cJSON_CreateString(classes[(int)s->kind - (int)CLSEQ_SCHEDULE_EXPONENTIAL]), &ok);
    if (cfg)
        schedule_config(s, cfg, &ok);
    add(obj, "config", cfg, &ok);
    add(obj, "registered_name", cJSON_CreateNull(), &ok);
    if (!ok) {
        cJSON_Delete(obj);
        return clseq_fail(CLSEQ_E_NOMEM, "out of memory writing a learning-rate schedule");
    }
    *out = obj;
    return CLSEQ_OK;
}
