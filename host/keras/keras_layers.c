/* One Keras layer's JSON <-> a clseq layer config (keras_layers.h).
 *
 * Each class clseq has is a table of the arguments Keras 3 writes for it
 * (the layer's get_config in keras/src/layers/..., plus Layer.get_config's
 * name, trainable and dtype) and what clseq does with each: takes it into
 * the clseq config under the same name (host/nn/layer_*.c decode it),
 * ignores it because it does not change what is computed (initializers:
 * the weights come from the file; a seed), or accepts only the one value
 * clseq computes with (null regularizers and constraints, channels_last,
 * groups 1, ...) and refuses any other. Keras 2's extra arguments
 * (BatchNormalization's fused, virtual_batch_size, adjustment) are in the
 * same tables. An argument a table lacks is refused: clseq cannot know
 * what it would change. */
#include "keras/keras_layers.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model_io.h"
#include "sys/error.h"

/* ---- JSON helpers ---------------------------------------------------------- */

const cJSON *clseq_keras_member(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

int clseq_keras_json_int(const cJSON *v, int *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double d = v->valuedouble;
    if (!(d >= -2147483648.0 && d <= 2147483647.0) || d != floor(d))
        return 0;
    *out = (int)d;
    return 1;
}

int clseq_keras_json_bool(const cJSON *v, int *out)
{
    int i;
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v) ? 1 : 0;
        return 1;
    }
    if (clseq_keras_json_int(v, &i) && (i == 0 || i == 1)) {
        *out = i;
        return 1;
    }
    return 0;
}

void clseq_keras_json_text(const cJSON *v, char *buf, size_t size)
{
    if (!v) {
        snprintf(buf, size, "(absent)");
        return;
    }
    char *text = cJSON_PrintUnformatted(v);
    if (!text) {
        snprintf(buf, size, "(a value)");
        return;
    }
    size_t len = strlen(text);
    if (size > 4 && len >= size)
        snprintf(buf, size, "%.*s...", (int)(size - 4), text);
    else
        snprintf(buf, size, "%s", text);
    free(text);
}

int clseq_keras_dtype_is_float32(const cJSON *dtype)
{
    if (!dtype || cJSON_IsNull(dtype))
        return 1;
    if (cJSON_IsString(dtype))
        return strcmp(dtype->valuestring, "float32") == 0;
    /* {"module": "keras", "class_name": "DTypePolicy", "config": {"name":
     * "float32"}} (Keras 3, dtype_policies/__init__.py serialize) or
     * {"class_name": "Policy", "config": {"name": "float32"}} (Keras 2) */
    const cJSON *cls = clseq_keras_member(dtype, "class_name");
    const cJSON *name = clseq_keras_member(clseq_keras_member(dtype, "config"), "name");
    if (!cJSON_IsString(cls) || !cJSON_IsString(name))
        return 0;
    return (strcmp(cls->valuestring, "DTypePolicy") == 0 ||
            strcmp(cls->valuestring, "FloatDTypePolicy") == 0 ||
            strcmp(cls->valuestring, "Policy") == 0) &&
           strcmp(name->valuestring, "float32") == 0;
}

const char *clseq_keras_function_name(const cJSON *v)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    const cJSON *cls = clseq_keras_member(v, "class_name");
    const cJSON *cfg = clseq_keras_member(v, "config");
    if (cJSON_IsString(cls) && strcmp(cls->valuestring, "function") == 0 && cJSON_IsString(cfg))
        return cfg->valuestring;
    return NULL;
}

/* ---- the argument tables --------------------------------------------------- */

typedef enum rule {
    TAKE_INT,        /* an integer, into the config */
    TAKE_INTS,       /* an integer or a list of 1..4: a Keras tuple */
    TAKE_STRIDES,    /* TAKE_INTS, or null for the pool size */
    TAKE_FLOAT,      /* a finite number */
    TAKE_STRING,     /* a string (padding: the layer checks it) */
    TAKE_BOOL,       /* true/false, into the config as 1/0 */
    TAKE_ACTIVATION, /* a name, a serialized function or null (linear) */
    IGNORE,          /* any value: does not change the computation */
    NULL_ONLY,       /* null only: a constraint, ... */
    REGULARIZER,     /* null, or an L1, L2 or L1L2 regularizer */
    CHANNELS_LAST,   /* data_format: null or "channels_last" */
    MUST_TRUE,
    MUST_FALSE,
    MUST_ONE,        /* groups */
    FALSY,           /* lora_rank: null or 0 */
    BN_AXIS          /* -1, or the last axis counted from the batch axis */
} rule;

typedef struct arg {
    const char *name;
    rule rule;
} arg;

/* Layer.get_config's and every layer's (keras/src/layers/layer.py). */
static const arg common_args[] = {
    {"activity_regularizer", NULL_ONLY},
    {NULL, IGNORE},
};

/* keras/src/layers/core/dense.py, Dense.get_config; clseq's Dense always
 * has a bias. */
static const arg dense_args[] = {
    {"units", TAKE_INT},
    {"activation", TAKE_ACTIVATION},
    {"use_bias", MUST_TRUE},
    {"kernel_initializer", IGNORE},
    {"bias_initializer", IGNORE},
    {"kernel_regularizer", REGULARIZER},
    {"bias_regularizer", REGULARIZER},
    {"kernel_constraint", NULL_ONLY},
    {"bias_constraint", NULL_ONLY},
    {"quantization_config", NULL_ONLY},
    {"lora_rank", FALSY},
    {"lora_alpha", IGNORE},
    {NULL, IGNORE},
};

/* keras/src/layers/convolutional/base_conv.py, BaseConv.get_config */
static const arg conv2d_args[] = {
    {"filters", TAKE_INT},
    {"kernel_size", TAKE_INTS},
    {"strides", TAKE_INTS},
    {"padding", TAKE_STRING},
    {"data_format", CHANNELS_LAST},
    {"dilation_rate", TAKE_INTS},
    {"groups", MUST_ONE},
    {"activation", TAKE_ACTIVATION},
    {"use_bias", TAKE_BOOL},
    {"kernel_initializer", IGNORE},
    {"bias_initializer", IGNORE},
    {"kernel_regularizer", REGULARIZER},
    {"bias_regularizer", REGULARIZER},
    {"kernel_constraint", NULL_ONLY},
    {"bias_constraint", NULL_ONLY},
    {"lora_rank", FALSY},
    {"lora_alpha", IGNORE},
    {NULL, IGNORE},
};

/* keras/src/layers/pooling/base_pooling.py, BasePooling.get_config */
static const arg pooling_args[] = {
    {"pool_size", TAKE_INTS},
    {"strides", TAKE_STRIDES},
    {"padding", TAKE_STRING},
    {"data_format", CHANNELS_LAST},
    {NULL, IGNORE},
};

/* keras/src/layers/pooling/base_global_pooling.py */
static const arg global_pooling_args[] = {
    {"data_format", CHANNELS_LAST},
    {"keepdims", MUST_FALSE},
    {NULL, IGNORE},
};

/* keras/src/layers/reshaping/flatten.py */
static const arg flatten_args[] = {
    {"data_format", CHANNELS_LAST},
    {NULL, IGNORE},
};

/* keras/src/layers/reshaping/reshape.py */
static const arg reshape_args[] = {
    {"target_shape", TAKE_INTS},
    {NULL, IGNORE},
};

/* keras/src/layers/regularization/dropout.py; the seed only picks masks */
static const arg dropout_args[] = {
    {"rate", TAKE_FLOAT},
    {"seed", IGNORE},
    {"noise_shape", NULL_ONLY},
    {NULL, IGNORE},
};

/* keras/src/layers/normalization/batch_normalization.py; renorm's
 * settings matter only with renorm; Keras 2's fused picks an
 * implementation of the same formula */
static const arg batch_norm_args[] = {
    {"axis", BN_AXIS},
    {"momentum", TAKE_FLOAT},
    {"epsilon", TAKE_FLOAT},
    {"center", TAKE_BOOL},
    {"scale", TAKE_BOOL},
    {"beta_initializer", IGNORE},
    {"gamma_initializer", IGNORE},
    {"moving_mean_initializer", IGNORE},
    {"moving_variance_initializer", IGNORE},
    {"beta_regularizer", REGULARIZER},
    {"gamma_regularizer", REGULARIZER},
    {"beta_constraint", NULL_ONLY},
    {"gamma_constraint", NULL_ONLY},
    {"synchronized", MUST_FALSE},
    {"renorm", MUST_FALSE},
    {"renorm_clipping", IGNORE},
    {"renorm_momentum", IGNORE},
    {"fused", IGNORE},
    {"virtual_batch_size", NULL_ONLY},
    {"adjustment", NULL_ONLY},
    {NULL, IGNORE},
};

/* keras/src/layers/activations/activation.py */
static const arg activation_args[] = {
    {"activation", TAKE_ACTIVATION},
    {NULL, IGNORE},
};

typedef struct layer_class {
    const char *keras_class;
    const arg *args;
    int has_weights;  /* trainable false would freeze it */
    int build_config; /* Keras 3 writes a build_config for it */
} layer_class;

static const layer_class classes[] = {
    {"Dense", dense_args, 1, 1},
    {"Activation", activation_args, 0, 0},
    {"Conv2D", conv2d_args, 1, 1},
    {"MaxPooling2D", pooling_args, 0, 0},
    {"AveragePooling2D", pooling_args, 0, 0},
    {"GlobalAveragePooling2D", global_pooling_args, 0, 0},
    {"GlobalMaxPooling2D", global_pooling_args, 0, 0},
    {"Flatten", flatten_args, 0, 1},
    {"Reshape", reshape_args, 0, 0},
    {"Dropout", dropout_args, 0, 0},
    {"BatchNormalization", batch_norm_args, 1, 1},
};

enum { CLASS_COUNT = sizeof classes / sizeof classes[0] };

const char *clseq_keras_layer_classes(void)
{
    return "InputLayer, Dense, Activation, Conv2D, MaxPooling2D, AveragePooling2D, "
           "GlobalAveragePooling2D, GlobalMaxPooling2D, Flatten, Reshape, Dropout, "
           "BatchNormalization";
}

/* Keras's class names are case-sensitive. */
static const layer_class *find_class(const char *name)
{
    for (int i = 0; i < CLASS_COUNT; i++)
        if (strcmp(classes[i].keras_class, name) == 0)
            return &classes[i];
    return NULL;
}

static const arg *find_arg(const arg *args, const char *name)
{
    for (; args->name; args++)
        if (strcmp(args->name, name) == 0)
            return args;
    return NULL;
}

/* ---- reading --------------------------------------------------------------- */

/* Where a message points: file, position, name and class. */
typedef struct where_layer {
    const char *where;
    int index;
    const char *name;
    const char *keras_class;
} where_layer;

static clseq_status refuse(const where_layer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static clseq_status refuse(const where_layer *w, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return clseq_fail(CLSEQ_E_FORMAT, "%s: layers[%d] '%.64s' (%.64s): %s", w->where, w->index,
                      w->name, w->keras_class, msg);
}

/* A value clseq does not implement: "argument 'x' is V; clseq supports only ...". */
static clseq_status refuse_value(const where_layer *w, const char *name, const cJSON *v,
                                 const char *supported)
{
    char text[96];
    clseq_keras_json_text(v, text, sizeof text);
    return refuse(w, "argument '%s' is %s; clseq supports only %s", name, text, supported);
}

/* A config put that failed (a string or list too long) as a format error. */
static clseq_status put_failed(const where_layer *w, const char *name)
{
    return clseq_fail_context(CLSEQ_E_FORMAT, "%s: layers[%d] '%.64s' (%.64s): argument '%s': ",
                              w->where, w->index, w->name, w->keras_class, name);
}

static clseq_status take_ints(const where_layer *w, const char *name, const cJSON *v,
                              clseq_layer_config *cfg)
{
    int ints[CLSEQ_CONFIG_INTS], n = 0, one;
    if (clseq_keras_json_int(v, &one))
        return clseq_config_put_int(cfg, name, one) == CLSEQ_OK ? CLSEQ_OK : put_failed(w, name);
    if (!cJSON_IsArray(v))
        return refuse_value(w, name, v, "an integer or a list of integers");
    const cJSON *item;
    cJSON_ArrayForEach(item, v)
    {
        if (n == CLSEQ_CONFIG_INTS)
            return refuse_value(w, name, v, "lists of at most 4 integers");
        if (!clseq_keras_json_int(item, &ints[n++]))
            return refuse_value(w, name, v, "a list of integers");
    }
    if (n == 0)
        return refuse_value(w, name, v, "a non-empty list of integers");
    return clseq_config_put_ints(cfg, name, n, ints) == CLSEQ_OK ? CLSEQ_OK : put_failed(w, name);
}

static clseq_status take_activation(const where_layer *w, const cJSON *v, clseq_layer_config *cfg)
{
    clseq_activation act = CLSEQ_LINEAR; /* activations.get(None) is linear */
    if (!cJSON_IsNull(v)) {
        const char *name = clseq_keras_function_name(v);
        if (!name)
            return refuse_value(w, "activation", v, "an activation's name");
        if (clseq_activation_from_name(name, &act) != CLSEQ_OK)
            return refuse(w, "activation '%.64s' is not one clseq has (linear, relu, sigmoid, "
                             "tanh, softmax, leaky_relu, elu, selu, gelu, softplus, softsign, "
                             "silu or swish, hard_sigmoid, exponential, relu6, log_softmax)",
                          name);
    }
    return clseq_config_put_string(cfg, "activation", clseq_activation_name(act)) == CLSEQ_OK
               ? CLSEQ_OK
               : put_failed(w, "activation");
}

/* BatchNormalization's axis: -1 or [-1], or the sample's last axis
 * counted with the batch axis (Keras 2 wrote [3] for (H, W, C));
 * legacy_h5_format's model_from_config takes a one-element list too. */
static clseq_status check_axis(const where_layer *w, const cJSON *v, int in_rank)
{
    const cJSON *one = v;
    int axis;
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1)
        one = cJSON_GetArrayItem(v, 0);
    if (clseq_keras_json_int(one, &axis) &&
        (axis == -1 || (axis > 0 && (in_rank == 0 || axis == in_rank))))
        return CLSEQ_OK;
    return refuse_value(w, "axis", v, "the last axis (-1)");
}

/* A weight regularizer, "<variable>_regularizer": null, or L1, L2 or
 * L1L2 as keras/src/regularizers/regularizers.py serializes them
 * ({"class_name": "L2", "config": {"l2": 0.01}}), into the clseq
 * config's "<variable>_regularizer_l1" and "..._l2" (nn/model_io.c). */
static clseq_status take_regularizer(const where_layer *w, const char *name, const cJSON *v,
                                     clseq_layer_config *cfg)
{
    if (cJSON_IsNull(v))
        return CLSEQ_OK;
    const cJSON *cls = clseq_keras_member(v, "class_name");
    const cJSON *conf = clseq_keras_member(v, "config");
    static const char expect[] = "null or an L1, L2 or L1L2 regularizer";
    if (!cJSON_IsString(cls) || !cJSON_IsObject(conf))
        return refuse_value(w, name, v, expect);
    const char *c = cls->valuestring;
    int has_l1 = strcmp(c, "L1") == 0 || strcmp(c, "L1L2") == 0 || strcmp(c, "l1_l2") == 0;
    int has_l2 = strcmp(c, "L2") == 0 || strcmp(c, "L1L2") == 0 || strcmp(c, "l1_l2") == 0;
    if (!has_l1 && !has_l2)
        return refuse_value(w, name, v, expect);
    double l[2] = {0, 0};
    const cJSON *item;
    cJSON_ArrayForEach(item, conf)
    {
        int which = strcmp(item->string, "l1") == 0 ? 0 : strcmp(item->string, "l2") == 0 ? 1 : -1;
        if (which < 0 || (which == 0 && !has_l1) || (which == 1 && !has_l2) ||
            !cJSON_IsNumber(item) || !(item->valuedouble >= 0) || item->valuedouble > 3.0e38)
            return refuse_value(w, name, v, "l1 and l2 factors >= 0 of its class");
        l[which] = item->valuedouble;
    }
    char key[CLSEQ_CONFIG_NAME];
    size_t stem = strlen(name) - strlen("_regularizer");
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "%.*s_regularizer_l%d", (int)(stem < 16 ? stem : 16), name,
                 i + 1);
        if (clseq_config_put_float(cfg, key, (float)l[i]) != CLSEQ_OK)
            return put_failed(w, name);
    }
    return CLSEQ_OK;
}

static clseq_status apply_rule(const where_layer *w, const arg *a, const cJSON *v, int in_rank,
                               clseq_layer_config *cfg)
{
    int i;
    clseq_status s = CLSEQ_OK;
    switch (a->rule) {
    case TAKE_INT:
        if (!clseq_keras_json_int(v, &i))
            return refuse_value(w, a->name, v, "an integer");
        s = clseq_config_put_int(cfg, a->name, i);
        break;
    case TAKE_STRIDES: /* strides=None: the pool size */
        return cJSON_IsNull(v) ? CLSEQ_OK : take_ints(w, a->name, v, cfg);
    case TAKE_INTS:
        return take_ints(w, a->name, v, cfg);
    case TAKE_FLOAT:
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 3.0e38)
            return refuse_value(w, a->name, v, "a finite number");
        s = clseq_config_put_float(cfg, a->name, (float)v->valuedouble);
        break;
    case TAKE_STRING:
        if (!cJSON_IsString(v))
            return refuse_value(w, a->name, v, "a string");
        s = clseq_config_put_string(cfg, a->name, v->valuestring);
        break;
    case TAKE_BOOL:
        if (!clseq_keras_json_bool(v, &i))
            return refuse_value(w, a->name, v, "true or false");
        s = clseq_config_put_int(cfg, a->name, i);
        break;
    case TAKE_ACTIVATION:
        return take_activation(w, v, cfg);
    case IGNORE:
        return CLSEQ_OK;
    case NULL_ONLY:
        return cJSON_IsNull(v) ? CLSEQ_OK : refuse_value(w, a->name, v, "null");
    case REGULARIZER:
        return take_regularizer(w, a->name, v, cfg);
    case CHANNELS_LAST:
        return cJSON_IsNull(v) || (cJSON_IsString(v) && strcmp(v->valuestring, "channels_last") == 0)
                   ? CLSEQ_OK
                   : refuse_value(w, a->name, v, "\"channels_last\"");
    case MUST_TRUE:
    case MUST_FALSE:
        return clseq_keras_json_bool(v, &i) && i == (a->rule == MUST_TRUE)
                   ? CLSEQ_OK
                   : refuse_value(w, a->name, v, a->rule == MUST_TRUE ? "true" : "false");
    case MUST_ONE:
        return clseq_keras_json_int(v, &i) && i == 1 ? CLSEQ_OK : refuse_value(w, a->name, v, "1");
    case FALSY:
        return cJSON_IsNull(v) || (clseq_keras_json_int(v, &i) && i == 0)
                   ? CLSEQ_OK
                   : refuse_value(w, a->name, v, "null (no LoRA)");
    case BN_AXIS:
        return check_axis(w, v, in_rank);
    }
    return s == CLSEQ_OK ? CLSEQ_OK : put_failed(w, a->name);
}

clseq_status clseq_keras_read_batch_shape(const cJSON *v, const char *what, int *rank, int *dims)
{
    char text[96];
    int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : 0;
    clseq_keras_json_text(v, text, sizeof text);
    if (n < 2 || n > CLSEQ_MAX_RANK + 1)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: shape %s must be [batch, d1, ...] with 1 to %d "
                                          "dimensions per sample",
                          what, text, CLSEQ_MAX_RANK);
    const cJSON *batch = cJSON_GetArrayItem(v, 0);
    if (!cJSON_IsNull(batch) && !cJSON_IsNumber(batch))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: shape %s: the batch size must be null or a number",
                          what, text);
    for (int i = 1; i < n; i++) {
        int d;
        if (!clseq_keras_json_int(cJSON_GetArrayItem(v, i), &d) || d < 1 ||
            d > CLSEQ_MAX_UNITS)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: shape %s: dimension %d must be an integer in "
                                              "1..%d (clseq needs fixed sizes)",
                              what, text, i, CLSEQ_MAX_UNITS);
        dims[i - 1] = d;
    }
    *rank = n - 1;
    return CLSEQ_OK;
}

/* An InputLayer's config: keras/src/layers/core/input_layer.py,
 * InputLayer.get_config (batch_shape; Keras 2's batch_input_shape, which
 * __init__ still takes). */
static clseq_status read_input_layer(const where_layer *w, const cJSON *config,
                                     clseq_keras_layer *out)
{
    const cJSON *shape = NULL, *item;
    int flag;
    char what[512];
    cJSON_ArrayForEach(item, config)
    {
        const char *key = item->string;
        if (strcmp(key, "batch_shape") == 0 || strcmp(key, "batch_input_shape") == 0)
            shape = item;
        else if (strcmp(key, "dtype") == 0) {
            if (!clseq_keras_dtype_is_float32(item))
                return refuse_value(w, key, item, "float32");
        } else if (strcmp(key, "sparse") == 0 || strcmp(key, "ragged") == 0 ||
                   strcmp(key, "optional") == 0) {
            if (!cJSON_IsNull(item) && !(clseq_keras_json_bool(item, &flag) && flag == 0))
                return refuse_value(w, key, item, "false");
        } else if (strcmp(key, "name") != 0 && strcmp(key, "batch_size") != 0)
            return refuse(w, "argument '%.64s' is not one clseq knows", key);
    }
    if (!shape)
        return refuse(w, "no batch_shape");
    snprintf(what, sizeof what, "%.256s: layers[%d] '%.64s' (InputLayer): batch_shape", w->where,
             w->index, w->name);
    return clseq_keras_read_batch_shape(shape, what, &out->rank, out->dims);
}

/* Who wrote the class: Keras itself (module "keras...", no registered
 * name of its own) or a user (a custom class, clseq cannot run it). */
static clseq_status check_builtin(const where_layer *w, const cJSON *layer)
{
    const cJSON *module = clseq_keras_member(layer, "module");
    const cJSON *registered = clseq_keras_member(layer, "registered_name");
    if (module && !cJSON_IsNull(module) &&
        !(cJSON_IsString(module) && strncmp(module->valuestring, "keras", 5) == 0))
        return refuse_value(w, "module", module, "Keras's own layers (a module keras...)");
    if (registered && !cJSON_IsNull(registered) &&
        !(cJSON_IsString(registered) && strcmp(registered->valuestring, w->keras_class) == 0))
        return refuse_value(w, "registered_name", registered, "Keras's own layers (null)");
    return CLSEQ_OK;
}

static clseq_status copy_name(const where_layer *w, const cJSON *v, const char *what, char *out)
{
    if (!cJSON_IsString(v))
        return refuse_value(w, what, v, "a string");
    if (strlen(v->valuestring) >= CLSEQ_KERAS_NAME)
        return refuse(w, "%s '%.64s...' is longer than %d characters", what, v->valuestring,
                      CLSEQ_KERAS_NAME - 1);
    snprintf(out, CLSEQ_KERAS_NAME, "%s", v->valuestring);
    return CLSEQ_OK;
}

/* The arguments every layer has: trainable, dtype and, on a first layer
 * (Keras 2), batch_input_shape. 1 if key was one of them. */
static int common_arg(const where_layer *w, const layer_class *c, const cJSON *item,
                      clseq_keras_layer *out, clseq_status *s)
{
    const char *key = item->string;
    int flag;
    *s = CLSEQ_OK;
    if (strcmp(key, "name") == 0)
        return 1;
    if (strcmp(key, "trainable") == 0) {
        if (!clseq_keras_json_bool(item, &flag))
            *s = refuse_value(w, key, item, "true or false");
        else if (!flag && c->has_weights)
            *s = refuse(w, "trainable is false (a frozen layer); clseq trains every layer");
        return 1;
    }
    if (strcmp(key, "dtype") == 0) {
        if (!clseq_keras_dtype_is_float32(item))
            *s = refuse_value(w, key, item, "float32");
        return 1;
    }
    if (strcmp(key, "batch_input_shape") == 0) {
        char what[512];
        snprintf(what, sizeof what, "%.256s: layers[%d] '%.64s' (%.64s): batch_input_shape", w->where,
                 w->index, w->name, w->keras_class);
        *s = clseq_keras_read_batch_shape(item, what, &out->rank, out->dims);
        return 1;
    }
    return 0;
}

clseq_status clseq_keras_layer_read(const cJSON *layer, int index, int in_rank, const char *where,
                                    clseq_keras_layer *out)
{
    memset(out, 0, sizeof *out);
    where_layer w = {where, index, "", "?"};
    if (!cJSON_IsObject(layer))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: layers[%d] is not an object", where, index);
    clseq_status s = copy_name(&w, clseq_keras_member(layer, "class_name"), "class_name",
                               out->keras_class);
    if (s != CLSEQ_OK)
        return s;
    w.keras_class = out->keras_class;
    const cJSON *config = clseq_keras_member(layer, "config");
    if (!cJSON_IsObject(config))
        return refuse_value(&w, "config", config, "an object");
    const cJSON *name = clseq_keras_member(config, "name");
    if (name && (s = copy_name(&w, name, "name", out->name)) != CLSEQ_OK)
        return s;
    w.name = out->name;
    if ((s = check_builtin(&w, layer)) != CLSEQ_OK)
        return s;
    if (strcmp(out->keras_class, "InputLayer") == 0) {
        out->is_input = 1;
        return read_input_layer(&w, config, out);
    }
    const layer_class *c = find_class(out->keras_class);
    if (!c)
        return refuse(&w, "class '%s' is not supported (supported: %s)", out->keras_class,
                      clseq_keras_layer_classes());
    const cJSON *item;
    cJSON_ArrayForEach(item, config)
    {
        if (common_arg(&w, c, item, out, &s)) {
            if (s != CLSEQ_OK)
                return s;
            continue;
        }
        const arg *a = find_arg(c->args, item->string);
        if (!a)
            a = find_arg(common_args, item->string);
        if (!a)
            return refuse(&w, "argument '%.64s' is not one clseq knows for %s", item->string,
                          c->keras_class);
        if ((s = apply_rule(&w, a, item, in_rank, &out->cfg)) != CLSEQ_OK)
            return s;
    }
    return CLSEQ_OK;
}

/* ---- writing --------------------------------------------------------------- */

/* Adds item to obj under key; clears *ok (and frees item) on failure. */
static void add(cJSON *obj, const char *key, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

static void append(cJSON *array, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToArray(array, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

cJSON *clseq_keras_float_json(float f)
{
    /* the shortest decimal that reads back as f, always with a '.' or an
     * exponent: Python's json reads "0" as an int, and Keras refuses an
     * int where it checks for a float (SGD's momentum); cJSON prints whole
     * doubles as ints, so the text goes in raw */
    char text[40];
    if (!isfinite(f))
        return NULL;
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, (double)f);
        if (strtof(text, NULL) == f)
            break;
    }
    if (!strpbrk(text, ".e"))
        strcat(text, ".0");
    return cJSON_CreateRaw(text);
}

cJSON *clseq_keras_dtype_policy(void)
{
    int ok = 1;
    cJSON *p = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    add(p, "module", cJSON_CreateString("keras"), &ok);
    add(p, "class_name", cJSON_CreateString("DTypePolicy"), &ok);
    add(cfg, "name", cJSON_CreateString("float32"), &ok);
    add(p, "config", cfg, &ok);
    add(p, "registered_name", cJSON_CreateNull(), &ok);
    if (!ok) {
        cJSON_Delete(p);
        return NULL;
    }
    return p;
}

cJSON *clseq_keras_shape_json(int rank, const int *dims)
{
    int ok = 1;
    cJSON *a = cJSON_CreateArray();
    append(a, cJSON_CreateNull(), &ok);
    for (int i = 0; i < rank; i++)
        append(a, cJSON_CreateNumber(dims[i]), &ok);
    if (!ok) {
        cJSON_Delete(a);
        return NULL;
    }
    return a;
}

/* {"module": "keras.initializers", "class_name": cls, "config": {...}} as
 * keras/src/initializers serialize them. */
static cJSON *initializer(const char *cls)
{
    int ok = 1;
    cJSON *init = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    add(init, "module", cJSON_CreateString("keras.initializers"), &ok);
    add(init, "class_name", cJSON_CreateString(cls), &ok);
    if (strcmp(cls, "GlorotUniform") == 0) {
        add(cfg, "seed", cJSON_CreateNull(), &ok);
        add(cfg, "input_axes", cJSON_CreateNull(), &ok);
        add(cfg, "output_axes", cJSON_CreateNull(), &ok);
    }
    add(init, "config", cfg, &ok);
    add(init, "registered_name", cJSON_CreateNull(), &ok);
    if (!ok) {
        cJSON_Delete(init);
        return NULL;
    }
    return init;
}

/* The clseq config's value name as JSON (ints as a list, 0/1 flags as
 * booleans when as_bool). */
static cJSON *value_json(const clseq_layer_config *cfg, const char *name, int as_bool)
{
    const clseq_config_value *v = clseq_config_find(cfg, name);
    if (!v)
        return NULL;
    switch (v->type) {
    case CLSEQ_VALUE_INT:
        return as_bool ? cJSON_CreateBool(v->i) : cJSON_CreateNumber(v->i);
    case CLSEQ_VALUE_FLOAT:
        return clseq_keras_float_json(v->f);
    case CLSEQ_VALUE_STRING:
        return cJSON_CreateString(v->s);
    case CLSEQ_VALUE_INTS:
        return cJSON_CreateIntArray(v->v, v->n);
    }
    return NULL;
}

static void add_nulls(cJSON *obj, const char *const *names, int *ok)
{
    for (; *names; names++)
        add(obj, *names, cJSON_CreateNull(), ok);
}

/* "<variable>_regularizer": null, or the L1, L2 or L1L2 Keras serializes
 * for the clseq config's factors. */
static void add_regularizer(cJSON *obj, const clseq_layer_config *c, const char *variable,
                            int *ok)
{
    char key[CLSEQ_CONFIG_NAME], argument[CLSEQ_CONFIG_NAME];
    float l[2] = {0, 0};
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "%.16s_regularizer_l%d", variable, i + 1);
        const clseq_config_value *v = clseq_config_find(c, key);
        l[i] = v && v->type == CLSEQ_VALUE_FLOAT ? v->f : 0.0f;
    }
    snprintf(argument, sizeof argument, "%.16s_regularizer", variable);
    if (l[0] == 0.0f && l[1] == 0.0f) {
        add(obj, argument, cJSON_CreateNull(), ok);
        return;
    }
    const char *cls = l[0] != 0.0f && l[1] != 0.0f ? "L1L2" : l[0] != 0.0f ? "L1" : "L2";
    cJSON *r = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    add(r, "module", cJSON_CreateString("keras.regularizers"), ok);
    add(r, "class_name", cJSON_CreateString(cls), ok);
    if (l[0] != 0.0f)
        add(cfg, "l1", clseq_keras_float_json(l[0]), ok);
    if (l[1] != 0.0f)
        add(cfg, "l2", clseq_keras_float_json(l[1]), ok);
    add(r, "config", cfg, ok);
    add(r, "registered_name", cJSON_CreateNull(), ok);
    add(obj, argument, r, ok);
}

/* Each class's arguments after name, trainable and dtype, in the order
 * Keras 3.15 writes them (the get_config methods named above). */
static void class_args(const char *cls, const clseq_layer_config *c, cJSON *cfg, int *ok)
{
    static const char *const dense_nulls[] = {"kernel_constraint", "bias_constraint",
                                              "quantization_config", NULL};
    static const char *const conv_nulls[] = {"activity_regularizer", "kernel_constraint",
                                             "bias_constraint", NULL};
    static const char *const bn_nulls[] = {"beta_constraint", "gamma_constraint", NULL};
    if (strcmp(cls, "Dense") == 0) {
        add(cfg, "units", value_json(c, "units", 0), ok);
        add(cfg, "activation", value_json(c, "activation", 0), ok);
        add(cfg, "use_bias", cJSON_CreateTrue(), ok);
        add(cfg, "kernel_initializer", initializer("GlorotUniform"), ok);
        add(cfg, "bias_initializer", initializer("Zeros"), ok);
        add_regularizer(cfg, c, "kernel", ok);
        add_regularizer(cfg, c, "bias", ok);
        add_nulls(cfg, dense_nulls, ok);
    } else if (strcmp(cls, "Conv2D") == 0) {
        add(cfg, "filters", value_json(c, "filters", 0), ok);
        add(cfg, "kernel_size", value_json(c, "kernel_size", 0), ok);
        add(cfg, "strides", value_json(c, "strides", 0), ok);
        add(cfg, "padding", value_json(c, "padding", 0), ok);
        add(cfg, "data_format", cJSON_CreateString("channels_last"), ok);
        add(cfg, "dilation_rate", value_json(c, "dilation_rate", 0), ok);
        add(cfg, "groups", cJSON_CreateNumber(1), ok);
        add(cfg, "activation", value_json(c, "activation", 0), ok);
        add(cfg, "use_bias", value_json(c, "use_bias", 1), ok);
        add(cfg, "kernel_initializer", initializer("GlorotUniform"), ok);
        add(cfg, "bias_initializer", initializer("Zeros"), ok);
        add_regularizer(cfg, c, "kernel", ok);
        add_regularizer(cfg, c, "bias", ok);
        add_nulls(cfg, conv_nulls, ok);
    } else if (strcmp(cls, "MaxPooling2D") == 0 || strcmp(cls, "AveragePooling2D") == 0) {
        add(cfg, "pool_size", value_json(c, "pool_size", 0), ok);
        add(cfg, "padding", value_json(c, "padding", 0), ok);
        add(cfg, "strides", value_json(c, "strides", 0), ok);
        add(cfg, "data_format", cJSON_CreateString("channels_last"), ok);
    } else if (strncmp(cls, "Global", 6) == 0) {
        add(cfg, "data_format", cJSON_CreateString("channels_last"), ok);
        add(cfg, "keepdims", cJSON_CreateFalse(), ok);
    } else if (strcmp(cls, "Flatten") == 0) {
        add(cfg, "data_format", cJSON_CreateString("channels_last"), ok);
    } else if (strcmp(cls, "Reshape") == 0) {
        add(cfg, "target_shape", value_json(c, "target_shape", 0), ok);
    } else if (strcmp(cls, "Dropout") == 0) {
        add(cfg, "rate", value_json(c, "rate", 0), ok);
        add(cfg, "seed", cJSON_CreateNull(), ok);
        add(cfg, "noise_shape", cJSON_CreateNull(), ok);
    } else if (strcmp(cls, "BatchNormalization") == 0) {
        add(cfg, "axis", cJSON_CreateNumber(-1), ok);
        add(cfg, "momentum", value_json(c, "momentum", 0), ok);
        add(cfg, "epsilon", value_json(c, "epsilon", 0), ok);
        add(cfg, "center", value_json(c, "center", 1), ok);
        add(cfg, "scale", value_json(c, "scale", 1), ok);
        add(cfg, "beta_initializer", initializer("Zeros"), ok);
        add(cfg, "gamma_initializer", initializer("Ones"), ok);
        add(cfg, "moving_mean_initializer", initializer("Zeros"), ok);
        add(cfg, "moving_variance_initializer", initializer("Ones"), ok);
        add_regularizer(cfg, c, "beta", ok);
        add_regularizer(cfg, c, "gamma", ok);
        add_nulls(cfg, bn_nulls, ok);
        add(cfg, "synchronized", cJSON_CreateFalse(), ok);
        add(cfg, "renorm", cJSON_CreateFalse(), ok);
        add(cfg, "renorm_clipping", cJSON_CreateNull(), ok);
        add(cfg, "renorm_momentum", clseq_keras_float_json(0.99f), ok);
    } else if (strcmp(cls, "Activation") == 0) {
        add(cfg, "activation", value_json(c, "activation", 0), ok);
    } else {
        *ok = 0;
    }
}

clseq_status clseq_keras_layer_write(const clseq_model *m, int layer, cJSON **out)
{
    *out = NULL;
    const char *cls = clseq_layer_class(m, layer);
    const layer_class *c = cls ? find_class(cls) : NULL;
    if (!c)
        return clseq_fail(CLSEQ_E_ARG, "layer %d: class '%s' has no Keras config writer",
                          layer + 1, cls ? cls : "?");
    clseq_layer_config lc;
    clseq_status s = clseq_layer_get_config(m, layer, &lc);
    if (s != CLSEQ_OK)
        return s;
    char name[CLSEQ_KERAS_NAME];
    clseq_model_layer_name(m, layer, name, sizeof name);
    int ok = 1, rank, dims[CLSEQ_MAX_RANK];
    if (layer == 0)
        rank = clseq_model_input_shape(m, dims);
    else if ((s = clseq_layer_output_shape(m, layer - 1, &rank, dims)) != CLSEQ_OK)
        return s;
    cJSON *obj = cJSON_CreateObject(), *cfg = cJSON_CreateObject();
    add(obj, "module", cJSON_CreateString("keras.layers"), &ok);
    add(obj, "class_name", cJSON_CreateString(cls), &ok);
    add(cfg, "name", cJSON_CreateString(name), &ok);
    add(cfg, "trainable", cJSON_CreateTrue(), &ok);
    add(cfg, "dtype", clseq_keras_dtype_policy(), &ok);
    class_args(cls, &lc, cfg, &ok);
    add(obj, "config", cfg, &ok);
    add(obj, "registered_name", cJSON_CreateNull(), &ok);
    if (c->build_config) {
        cJSON *build = cJSON_CreateObject();
        add(build, "input_shape", clseq_keras_shape_json(rank, dims), &ok);
        add(obj, "build_config", build, &ok);
    }
    if (!ok) {
        cJSON_Delete(obj);
        return clseq_fail(CLSEQ_E_NOMEM, "layer %d '%s': out of memory writing its Keras config",
                          layer + 1, name);
    }
    *out = obj;
    return CLSEQ_OK;
}
