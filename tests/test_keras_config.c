/* Keras model configs (host/keras/keras_config.c, keras_layers.c,
 * keras_compile.c): JSON <-> clseq model.
 *
 * References: configs Keras 3.15 itself wrote (.keras config.json, .h5
 * model_config and training_config) and two in tf.keras 2.x's layout,
 * made by tests/fuzz/make_keras_config_seeds.py into the fuzz seed corpus
 * (tests/fuzz/corpus/fuzz_keras_config/, read here through
 * $CLSEQ_FIXTURES/..): the classes and per-layer output shapes a model
 * built from them has are the ones Keras's model.summary() gives for the
 * same models (listed with each test), and the compile settings are the
 * ones the script passed to model.compile. Exact comparisons throughout
 * (shapes and names are integers and strings; settings are floats parsed
 * from the shortest decimal of a float32, compared with == against the
 * same float literal). Refusals: one argument of a Keras-written config
 * changed at a time, checking the status and that the message names the
 * layer, its class and the argument. Writing: a model of every kind
 * written and read back must give the same layers, configs, shapes and
 * compile settings. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras/keras_config.h"
#include "nn/layer_config.h"
#include "nn/model_io.h"
#include "sys/fileio.h"
#include "testutil.h"

#define SEEDS "../fuzz/corpus/fuzz_keras_config/"

/* A seed file's text (NUL-terminated); the caller frees it. */
static char *read_seed(const char *name, size_t *len)
{
    unsigned char *data = NULL;
    size_t size = 0;
    char rel[256];
    snprintf(rel, sizeof rel, SEEDS "%s", name);
    ck_assert_clseq_ok(clseq_read_file(test_fixture_path(rel), &data, &size));
    char *text = malloc(size + 1);
    ck_assert_ptr_nonnull(text);
    memcpy(text, data, size);
    text[size] = '\0';
    free(data);
    if (len)
        *len = size;
    return text;
}

/* Reads model (and training, if not NULL) seeds; expects CLSEQ_OK. */
static void read_seeds(const char *model, const char *training, clseq_keras_config *c)
{
    size_t ml, tl = 0;
    char *mj = read_seed(model, &ml), *tj = training ? read_seed(training, &tl) : NULL;
    ck_assert_clseq_ok(clseq_keras_read_config(test_ctx(), mj, ml, tj, tl, model, c));
    free(mj);
    free(tj);
}

/* Layer i has class cls, file name name and output shape dims[0..rank). */
static void check_layer(const clseq_keras_config *c, int i, const char *cls, const char *name,
                        int rank, const int *dims)
{
    int r = 0, d[CLSEQ_MAX_RANK] = {0};
    ck_assert_str_eq(clseq_layer_class(c->model, i), cls);
    ck_assert_str_eq(c->layer_names[i], name);
    ck_assert_clseq_ok(clseq_layer_output_shape(c->model, i, &r, d));
    ck_assert_int_eq(r, rank);
    for (int k = 0; k < rank; k++)
        ck_assert_int_eq(d[k], dims[k]);
}

static void free_config(clseq_keras_config *c)
{
    clseq_model_free(c->model);
    clseq_keras_config_free(c);
}

/* Keras's summary of the every-kind model: conv2d (8, 8, 4), max_pooling2d
 * (4, 4, 4), average_pooling2d (4, 4, 4), batch_normalization (4, 4, 4),
 * global_average_pooling2d (4), reshape (2, 2), flatten (4), dense (5),
 * dropout (5), activation (5); compiled Adam(0.01), categorical
 * cross-entropy, accuracy and mae. */
START_TEST(test_keras3_every_kind)
{
    static const struct {
        const char *cls, *name;
        int rank, dims[3];
    } want[] = {
        {"Conv2D", "conv2d", 3, {8, 8, 4}},
        {"MaxPooling2D", "max_pooling2d", 3, {4, 4, 4}},
        {"AveragePooling2D", "average_pooling2d", 3, {4, 4, 4}},
        {"BatchNormalization", "batch_normalization", 3, {4, 4, 4}},
        {"GlobalAveragePooling2D", "global_average_pooling2d", 1, {4}},
        {"Reshape", "reshape", 2, {2, 2}},
        {"Flatten", "flatten", 1, {4}},
        {"Dense", "dense", 1, {5}},
        {"Dropout", "dropout", 1, {5}},
        {"Activation", "activation", 1, {5}},
    };
    clseq_keras_config c;
    read_seeds("k3_in8x8x3_every_kind_adam.json", NULL, &c);
    ck_assert_int_eq(c.layer_count, 10);
    ck_assert_int_eq(clseq_layer_count(c.model), 10);
    ck_assert_int_eq(clseq_model_input_dim(c.model), 8 * 8 * 3);
    for (int i = 0; i < 10; i++)
        check_layer(&c, i, want[i].cls, want[i].name, want[i].rank, want[i].dims);
    clseq_activation act;
    ck_assert_clseq_ok(clseq_layer_info(c.model, 0, NULL, NULL, &act, NULL));
    ck_assert_int_eq(act, CLSEQ_RELU);
    ck_assert_clseq_ok(clseq_layer_info(c.model, 7, NULL, NULL, &act, NULL));
    ck_assert_int_eq(act, CLSEQ_TANH);
    ck_assert_clseq_ok(clseq_layer_info(c.model, 9, NULL, NULL, &act, NULL));
    ck_assert_int_eq(act, CLSEQ_SOFTMAX);
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics;
    ck_assert_str_eq(c.compile_note, "");
    ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, &loss, &metrics));
    ck_assert_int_eq(o.kind, CLSEQ_OPT_ADAM);
    ck_assert(o.learning_rate == 0.01f && o.beta1 == 0.9f && o.beta2 == 0.999f &&
              o.epsilon == 1e-7f);
    ck_assert_int_eq(loss, CLSEQ_CATEGORICAL_CROSSENTROPY);
    ck_assert_uint_eq(metrics, CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_MAE);
    free_config(&c);
}
END_TEST

/* global_max_pooling2d (2), dense (2); SGD() with Keras's defaults, a
 * CategoricalCrossentropy object, "acc". */
START_TEST(test_keras3_loss_object)
{
    clseq_keras_config c;
    read_seeds("k3_in6x6x2_gmp_dense2_sgd_loss_object.json", NULL, &c);
    check_layer(&c, 0, "GlobalMaxPooling2D", "global_max_pooling2d", 1, (int[]){2});
    check_layer(&c, 1, "Dense", "dense", 1, (int[]){2});
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics;
    ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, &loss, &metrics));
    ck_assert_int_eq(o.kind, CLSEQ_OPT_SGD);
    ck_assert(o.learning_rate == 0.01f && o.momentum == 0.0f && !o.nesterov);
    ck_assert_int_eq(loss, CLSEQ_CATEGORICAL_CROSSENTROPY);
    ck_assert_uint_eq(metrics, CLSEQ_METRIC_ACCURACY);
    free_config(&c);
}
END_TEST

/* A learning-rate schedule: RMSprop(ExponentialDecay(0.1, 100, 0.9)),
 * a MeanSquaredError loss object, a MeanAbsoluteError metric object and
 * "mse". The model is compiled with the schedule's first rate and
 * follows the schedule. */
START_TEST(test_keras3_schedule)
{
    clseq_keras_config c;
    read_seeds("k3_in4_dense3_dense1_rmsprop_schedule.json", NULL, &c);
    ck_assert_int_eq(c.layer_count, 2);
    ck_assert_str_eq(c.compile_note, "");
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics;
    ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, &loss, &metrics));
    ck_assert_int_eq(o.kind, CLSEQ_OPT_RMSPROP);
    ck_assert(o.learning_rate == 0.1f && o.rho == 0.9f && o.epsilon == 1e-7f);
    ck_assert_int_eq(loss, CLSEQ_MEAN_SQUARED_ERROR);
    ck_assert_uint_eq(metrics, CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE);
    clseq_lr_schedule sch;
    ck_assert(clseq_get_lr_schedule(c.model, &sch));
    ck_assert_int_eq(sch.kind, CLSEQ_SCHEDULE_EXPONENTIAL);
    ck_assert(sch.initial_learning_rate == 0.1f && sch.decay_rate == 0.9f);
    ck_assert(sch.decay_steps == 100 && !sch.staircase);
    float x[4] = {1, 2, 3, 4}, y[1];
    ck_assert_clseq_ok(clseq_predict(c.model, x, 1, y));
    free_config(&c);
}
END_TEST

/* conv2d (4, 6, 3) from (9, 7, 2) with kernel (3, 2) and strides (2, 1),
 * no bias (one variable), flatten (72), then one Activation per clseq
 * activation in the enum's order. */
START_TEST(test_keras3_conv_activations)
{
    clseq_keras_config c;
    read_seeds("k3_in9x7x2_conv_nobias_activations_uncompiled.json", NULL, &c);
    ck_assert_int_eq(c.layer_count, 2 + 16);
    check_layer(&c, 0, "Conv2D", "conv2d", 3, (int[]){4, 6, 3});
    ck_assert_int_eq(clseq_variable_count(c.model, 0), 1);
    check_layer(&c, 1, "Flatten", "flatten", 1, (int[]){72});
    for (int a = 0; a < 16; a++) {
        clseq_activation act;
        ck_assert_clseq_ok(clseq_layer_info(c.model, 2 + a, NULL, NULL, &act, NULL));
        ck_assert_int_eq(act, a);
    }
    ck_assert(!clseq_model_is_compiled(c.model));
    ck_assert_str_eq(c.compile_note, "");
    free_config(&c);
}
END_TEST

/* The .h5 dialect: model_config plus training_config. */
START_TEST(test_h5_training_config)
{
    clseq_keras_config c;
    read_seeds("h5_in4_dense3_dense1.json", "h5train_in4_dense3_dense1_sgd_nesterov_bce.json", &c);
    check_layer(&c, 0, "Dense", "dense", 1, (int[]){3});
    check_layer(&c, 1, "Dense", "dense_1", 1, (int[]){1});
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics;
    ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, &loss, &metrics));
    ck_assert_int_eq(o.kind, CLSEQ_OPT_SGD);
    ck_assert(o.learning_rate == 0.1f && o.momentum == 0.9f && o.nesterov == 1);
    ck_assert_int_eq(loss, CLSEQ_BINARY_CROSSENTROPY);
    ck_assert_uint_eq(metrics, CLSEQ_METRIC_ACCURACY);
    free_config(&c);
}
END_TEST

/* tf.keras 2.x's layout: the input shape on the first layer, axis [3],
 * Keras 2's Adam config and [["accuracy"]]. conv2d (3, 3, 2), batch
 * normalization (3, 3, 2) with scale off, max_pooling2d (2, 2, 2) with
 * strides 1, flatten (8), dense (3). */
START_TEST(test_keras2_layout)
{
    clseq_keras_config c;
    read_seeds("k2_in5x5x1_conv_bn_pool_dense.json", "k2train_in5x5x1_adam_sparse.json", &c);
    ck_assert_int_eq(clseq_model_input_dim(c.model), 25);
    check_layer(&c, 0, "Conv2D", "conv2d", 3, (int[]){3, 3, 2});
    check_layer(&c, 1, "BatchNormalization", "batch_normalization", 3, (int[]){3, 3, 2});
    ck_assert_int_eq(clseq_variable_count(c.model, 1), 3); /* beta, moving mean, variance */
    check_layer(&c, 2, "MaxPooling2D", "max_pooling2d", 3, (int[]){2, 2, 2});
    check_layer(&c, 3, "Flatten", "flatten", 1, (int[]){8});
    check_layer(&c, 4, "Dense", "dense", 1, (int[]){3});
    clseq_layer_config lc;
    ck_assert_clseq_ok(clseq_layer_get_config(c.model, 1, &lc));
    ck_assert(clseq_config_find(&lc, "momentum")->f == 0.9f);
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics;
    ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, &loss, &metrics));
    ck_assert_int_eq(o.kind, CLSEQ_OPT_ADAM);
    ck_assert(o.learning_rate == 0.0005f);
    ck_assert_int_eq(loss, CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY);
    ck_assert_uint_eq(metrics, CLSEQ_METRIC_ACCURACY);
    free_config(&c);
}
END_TEST

/* text with the first occurrence of from replaced by to (malloc'd). */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    ck_assert_msg(at != NULL, "'%s' is not in the seed", from);
    size_t head = (size_t)(at - text), fl = strlen(from), tl = strlen(to);
    char *out = malloc(strlen(text) - fl + tl + 1);
    ck_assert_ptr_nonnull(out);
    memcpy(out, text, head);
    memcpy(out + head, to, tl);
    strcpy(out + head + tl, at + fl);
    return out;
}

/* An activation serialized as a function (serialization_lib's
 * {"class_name": "function", "config": NAME}) and as null (linear). */
START_TEST(test_activation_forms)
{
    char *seed = read_seed("k3_in8x8x3_every_kind_adam.json", NULL);
    char *a = replace(seed, "\"activation\": \"softmax\"}",
                      "\"activation\": {\"module\": \"builtins\", \"class_name\": "
                      "\"function\", \"config\": \"softmax\", \"registered_name\": "
                      "\"function\"}}");
    char *b = replace(a, "\"activation\": \"tanh\"", "\"activation\": null");
    clseq_keras_config c;
    ck_assert_clseq_ok(clseq_keras_read_config(test_ctx(), b, strlen(b), NULL, 0, "m", &c));
    clseq_activation act;
    ck_assert_clseq_ok(clseq_layer_info(c.model, 7, NULL, NULL, &act, NULL));
    ck_assert_int_eq(act, CLSEQ_LINEAR);
    ck_assert_clseq_ok(clseq_layer_info(c.model, 9, NULL, NULL, &act, NULL));
    ck_assert_int_eq(act, CLSEQ_SOFTMAX);
    free_config(&c);
    free(b);
    free(a);
    free(seed);
}
END_TEST

/* ---- refusals ------------------------------------------------------------------ */

/* Each edit of a Keras-written config, and words its message must hold. */
static const struct {
    const char *seed, *from, *to;
    const char *words[4];
} refusals[] = {
    {"k3_in8x8x3_every_kind_adam.json", "\"kernel_regularizer\": null",
     "\"kernel_regularizer\": {\"class_name\": \"OrthogonalRegularizer\", \"config\": "
     "{\"factor\": 0.01, \"mode\": \"rows\"}}",
     {"layers[1]", "'conv2d'", "(Conv2D)", "kernel_regularizer"}},
    {"k3_in8x8x3_every_kind_adam.json", "\"padding\": \"same\", \"data_format\": \"channels_last\"",
     "\"padding\": \"same\", \"data_format\": \"channels_first\"",
     {"'conv2d'", "(Conv2D)", "data_format", "channels_first"}},
    {"k3_in8x8x3_every_kind_adam.json", "\"groups\": 1", "\"groups\": 2",
     {"'conv2d'", "(Conv2D)", "groups", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"noise_shape\": null", "\"noise_shape\": [null, 1]",
     {"layers[9]", "'dropout'", "(Dropout)", "noise_shape"}},
    {"k3_in8x8x3_every_kind_adam.json", "\"axis\": -1", "\"axis\": 1",
     {"'batch_normalization'", "(BatchNormalization)", "axis", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"renorm\": false", "\"renorm\": true",
     {"'batch_normalization'", "(BatchNormalization)", "renorm", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"synchronized\": false", "\"synchronized\": true",
     {"'batch_normalization'", "(BatchNormalization)", "synchronized", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"keepdims\": false", "\"keepdims\": true",
     {"'global_average_pooling2d'", "(GlobalAveragePooling2D)", "keepdims", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"name\": \"dense\", \"trainable\": true",
     "\"name\": \"dense\", \"trainable\": false",
     {"'dense'", "(Dense)", "trainable", "frozen"}},
    {"k3_in8x8x3_every_kind_adam.json", "\"units\": 5, \"activation\": \"tanh\", \"use_bias\": true",
     "\"units\": 5, \"activation\": \"tanh\", \"use_bias\": false",
     {"'dense'", "(Dense)", "use_bias", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"activation\": \"softmax\"}", "\"activation\": \"hard_silu\"}",
     {"'activation'", "(Activation)", "hard_silu", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"class_name\": \"Flatten\"", "\"class_name\": \"LSTM\"",
     {"(LSTM)", "not supported", "BatchNormalization", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"rate\": 0.5,", "\"rate\": 0.5, \"lora\": 1,",
     {"'dropout'", "(Dropout)", "'lora'", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"batch_shape\": [null, 8, 8, 3]",
     "\"batch_shape\": [null, null, 8, 3]", {"InputLayer", "batch_shape", "dimension 1", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"dtype\": \"float32\"", "\"dtype\": \"int32\"",
     {"InputLayer", "dtype", NULL, NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"config\": {\"name\": \"float32\"}",
     "\"config\": {\"name\": \"mixed_float16\"}", {"dtype", "float32", NULL, NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"class_name\": \"Sequential\"",
     "\"class_name\": \"MyModel\"", {"MyModel", "Sequential", NULL, NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"filters\": 4,", "\"filters\": 0,",
     {"'conv2d'", "(Conv2D)", "filters", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"target_shape\": [2, 2]", "\"target_shape\": [3, 2]",
     {"'reshape'", "(Reshape)", NULL, NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"module\": \"keras.layers\", \"class_name\": \"Dense\", "
     "\"config\": {\"name\": \"dense\"",
     "\"module\": \"my_package\", \"class_name\": \"Dense\", \"config\": {\"name\": \"dense\"",
     {"'dense'", "(Dense)", "module", NULL}},
    {"k3_in8x8x3_every_kind_adam.json", "\"quantization_config\": null",
     "\"quantization_config\": null, \"lora_rank\": 4", {"'dense'", "(Dense)", "lora_rank", NULL}},
    {"refuse_functional.json", "", "", {"functional", "Functional", "Sequential", NULL}},
};

/* L1, L2 and L1L2 regularizers load into the model's variables and are
 * written back as Keras serializes them. */
START_TEST(test_regularizers)
{
    char *seed = read_seed("k3_in8x8x3_every_kind_adam.json", NULL);
    char *one = replace(seed, "\"kernel_regularizer\": null",
                        "\"kernel_regularizer\": {\"module\": \"keras.regularizers\", "
                        "\"class_name\": \"L1L2\", \"config\": {\"l1\": 0.001, \"l2\": 0.01}, "
                        "\"registered_name\": null}");
    char *text = replace(one, "\"bias_regularizer\": null",
                         "\"bias_regularizer\": {\"class_name\": \"L2\", \"config\": "
                         "{\"l2\": 0.5}}");
    clseq_keras_config c;
    ck_assert_clseq_ok(clseq_keras_read_config(test_ctx(), text, strlen(text), NULL, 0, "r", &c));
    float l1 = -1, l2 = -1;
    ck_assert_clseq_ok(clseq_get_regularizer(c.model, 0, "kernel", &l1, &l2));
    ck_assert(l1 == 0.001f && l2 == 0.01f);
    ck_assert_clseq_ok(clseq_get_regularizer(c.model, 0, "bias", &l1, &l2));
    ck_assert(l1 == 0.0f && l2 == 0.5f);
    char *json = NULL;
    ck_assert_clseq_ok(clseq_keras_write_config(c.model, &json));
    cJSON *root = cJSON_Parse(json);
    cJSON *layers = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "layers");
    cJSON *conv = cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 1), "config");
    cJSON *kr = cJSON_GetObjectItem(conv, "kernel_regularizer");
    cJSON *br = cJSON_GetObjectItem(conv, "bias_regularizer");
    ck_assert_str_eq(cJSON_GetObjectItem(kr, "class_name")->valuestring, "L1L2");
    ck_assert_str_eq(cJSON_GetObjectItem(br, "class_name")->valuestring, "L2");
    ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(br, "config"), "l1") == NULL);
    ck_assert_float_eq((float)cJSON_GetObjectItem(cJSON_GetObjectItem(br, "config"), "l2")
                           ->valuedouble, 0.5f);
    cJSON_Delete(root);
    free(json);
    free_config(&c);
    free(text);
    free(one);
    free(seed);
}
END_TEST

START_TEST(test_refusals)
{
    int i = _i;
    char *seed = read_seed(refusals[i].seed, NULL);
    char *text = refusals[i].from[0] ? replace(seed, refusals[i].from, refusals[i].to) : seed;
    clseq_keras_config c;
    memset(&c, 0x5a, sizeof c);
    clseq_status s = clseq_keras_read_config(test_ctx(), text, strlen(text), NULL, 0,
                                             "m.keras/config.json", &c);
    ck_assert_msg(s == CLSEQ_E_FORMAT, "row %d: %s: %s", i, clseq_status_name(s),
                  clseq_last_error());
    ck_assert_ptr_null(c.model);
    ck_assert_ptr_null(c.layer_names);
    ck_assert_int_eq(c.layer_count, 0);
    const char *msg = clseq_last_error();
    ck_assert_msg(strncmp(msg, "m.keras/config.json", 19) == 0, "row %d: %s", i, msg);
    for (int w = 0; w < 4 && refusals[i].words[w]; w++)
        ck_assert_msg(strstr(msg, refusals[i].words[w]), "row %d: no '%s' in: %s", i,
                      refusals[i].words[w], msg);
    if (text != seed)
        free(text);
    free(seed);
}
END_TEST

/* Malformed JSON: CLSEQ_E_FORMAT with the byte offset. */
START_TEST(test_malformed_json)
{
    static const char bad[] = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": [}";
    clseq_keras_config c;
    ck_assert_int_eq(clseq_keras_read_config(test_ctx(), bad, sizeof bad - 1, NULL, 0, "x.json", &c),
                     CLSEQ_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "x.json"));
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "at byte 51"));
    static const char trailing[] = "{} x";
    ck_assert_int_eq(clseq_keras_read_config(test_ctx(), trailing, 4, NULL, 0, "x.json", &c),
                     CLSEQ_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "byte 3"));
    ck_assert_int_eq(clseq_keras_read_config(test_ctx(), "", 0, NULL, 0, "x.json", &c),
                     CLSEQ_E_FORMAT);
    /* NUL padding after the value (an HDF5 string) is fine */
    static const char padded[] = "{\"class_name\": \"Sequential\", \"config\": {\"layers\": "
                                 "[{\"class_name\": \"InputLayer\", \"config\": "
                                 "{\"batch_shape\": [null, 3]}}]}}\0\0";
    ck_assert_clseq_ok(clseq_keras_read_config(test_ctx(), padded, sizeof padded, NULL, 0,
                                               "x.h5", &c));
    ck_assert_int_eq(c.layer_count, 0);
    ck_assert_int_eq(clseq_model_input_dim(c.model), 3);
    free_config(&c);
}
END_TEST

/* Compile settings clseq lacks leave the model uncompiled with a note;
 * they never fail the read. */
START_TEST(test_compile_left_uncompiled)
{
    static const struct {
        const char *from, *to, *word;
    } edits[] = {
        {"\"from_logits\": false", "\"from_logits\": true", "from_logits"},
        {"\"label_smoothing\": 0.0", "\"label_smoothing\": 0.1", "label_smoothing"},
        {"\"gradient_accumulation_steps\": null", "\"gradient_accumulation_steps\": 4",
         "gradient_accumulation_steps"},
        {"\"loss_scale_factor\": null", "\"loss_scale_factor\": 128.0", "loss_scale_factor"},
        {"\"class_name\": \"SGD\"", "\"class_name\": \"Ftrl\"", "Ftrl"},
        {"\"metrics\": [\"acc\"]", "\"metrics\": [\"F1Score\"]", "F1Score"},
        {"\"metrics\": [\"acc\"]", "\"metrics\": [\"sparse_categorical_accuracy\"]",
         "categorical accuracy"},
        {"\"use_ema\": false", "\"use_ema\": true", "use_ema"},
        {"\"loss_weights\": null", "\"loss_weights\": [0.5]", "loss_weights"},
        {"\"momentum\": 0.0", "\"momentum\": 1.5", "momentum"},
    };
    char *seed = read_seed("k3_in6x6x2_gmp_dense2_sgd_loss_object.json", NULL);
    for (size_t i = 0; i < sizeof edits / sizeof *edits; i++) {
        char *text = replace(seed, edits[i].from, edits[i].to);
        clseq_keras_config c;
        ck_assert_clseq_ok(
            clseq_keras_read_config(test_ctx(), text, strlen(text), NULL, 0, "m.keras", &c));
        ck_assert_int_eq(c.layer_count, 2);
        ck_assert_msg(!clseq_model_is_compiled(c.model), "edit %zu compiled", i);
        ck_assert_msg(strstr(c.compile_note, edits[i].word), "edit %zu: no '%s' in '%s'", i,
                      edits[i].word, c.compile_note);
        free_config(&c);
        free(text);
    }
    free(seed);
}
END_TEST

/* ctx NULL: everything checked, nothing built, *out zeroed. */
START_TEST(test_no_context)
{
    char *seed = read_seed("k3_in8x8x3_every_kind_adam.json", NULL);
    clseq_keras_config c;
    ck_assert_clseq_ok(clseq_keras_read_config(NULL, seed, strlen(seed), NULL, 0, "m", &c));
    ck_assert_ptr_null(c.model);
    ck_assert_ptr_null(c.layer_names);
    char *bad = replace(seed, "\"groups\": 1", "\"groups\": 3");
    ck_assert_int_eq(clseq_keras_read_config(NULL, bad, strlen(bad), NULL, 0, "m", &c),
                     CLSEQ_E_FORMAT);
    /* every prefix is malformed and refused, none crashes */
    size_t len = strlen(seed);
    for (size_t n = 0; n < len; n += 7)
        ck_assert_int_eq(clseq_keras_read_config(NULL, seed, n, NULL, 0, "m", &c),
                         CLSEQ_E_FORMAT);
    free(bad);
    free(seed);
}
END_TEST

/* max_values bounds the variables a config may ask for. */
START_TEST(test_bounded)
{
    char *seed = read_seed("h5_in4_dense3_dense1.json", NULL);
    clseq_keras_config c;
    /* dense holds 4 x 3 + 3 = 15 values, dense_1 3 + 1 = 4 */
    ck_assert_clseq_ok(clseq_keras_read_config_bounded(test_ctx(), seed, strlen(seed), NULL, 0,
                                                       19, "m.h5", &c));
    free_config(&c);
    ck_assert_int_eq(clseq_keras_read_config_bounded(test_ctx(), seed, strlen(seed), NULL, 0,
                                                     18, "m.h5", &c),
                     CLSEQ_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "layers[2] 'dense_1'"));
    free(seed);
}
END_TEST

/* ---- compile settings ------------------------------------------------------- */

/* Two optimizers have the same settings, field by field. */
static void check_same_optimizer(const clseq_optimizer *a, const clseq_optimizer *b,
                                 const char *what)
{
    ck_assert_msg(a->kind == b->kind, "%s: kind %d, want %d", what, a->kind, b->kind);
    ck_assert_msg(a->learning_rate == b->learning_rate && a->momentum == b->momentum &&
                      a->nesterov == b->nesterov && a->beta1 == b->beta1 &&
                      a->beta2 == b->beta2 && a->rho == b->rho && a->epsilon == b->epsilon,
                  "%s: lr %g momentum %g nesterov %d betas %g %g rho %g epsilon %g", what,
                  (double)a->learning_rate, (double)a->momentum, a->nesterov, (double)a->beta1,
                  (double)a->beta2, (double)a->rho, (double)a->epsilon);
    ck_assert_msg(a->weight_decay == b->weight_decay &&
                      a->initial_accumulator_value == b->initial_accumulator_value &&
                      a->clipnorm == b->clipnorm && a->clipvalue == b->clipvalue &&
                      a->global_clipnorm == b->global_clipnorm,
                  "%s: weight_decay %g accumulator %g clipnorm %g clipvalue %g global %g", what,
                  (double)a->weight_decay, (double)a->initial_accumulator_value,
                  (double)a->clipnorm, (double)a->clipvalue, (double)a->global_clipnorm);
}

static void check_same_schedule(const clseq_lr_schedule *a, const clseq_lr_schedule *b)
{
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert(a->initial_learning_rate == b->initial_learning_rate);
    ck_assert(a->decay_steps == b->decay_steps && a->decay_rate == b->decay_rate);
    ck_assert_int_eq(a->staircase, b->staircase);
    ck_assert_int_eq(a->count, b->count);
    for (int i = 0; i < a->count; i++)
        ck_assert(a->boundaries[i] == b->boundaries[i]);
    for (int i = 0; a->kind == CLSEQ_SCHEDULE_PIECEWISE && i <= a->count; i++)
        ck_assert(a->values[i] == b->values[i]);
    ck_assert(a->alpha == b->alpha && a->warmup_steps == b->warmup_steps);
    ck_assert(a->warmup_target == b->warmup_target ||
              (isnan(a->warmup_target) && isnan(b->warmup_target)));
}

/* JSON values equal, key order included; numbers as the float32 they
 * hold (Keras writes a float32 learning rate as its double, 0.05 as
 * 0.05000000074505806). */
static void check_same_json(const cJSON *a, const cJSON *b, const char *path)
{
    ck_assert_msg(a && b, "%s: absent on one side", path);
    if (cJSON_IsNumber(a)) {
        ck_assert_msg(cJSON_IsNumber(b) && (float)a->valuedouble == (float)b->valuedouble,
                      "%s: %g and not %g", path, a->valuedouble, b->valuedouble);
        return;
    }
    ck_assert_msg((a->type & 0xff) == (b->type & 0xff), "%s: types differ", path);
    if (cJSON_IsString(a))
        ck_assert_msg(strcmp(a->valuestring, b->valuestring) == 0, "%s: '%s' and not '%s'", path,
                      a->valuestring, b->valuestring);
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s.%s", path, x->string ? x->string : "[]");
        if (x->string)
            ck_assert_msg(y->string && strcmp(x->string, y->string) == 0, "%s: key '%s' here",
                          sub, y->string ? y->string : "");
        check_same_json(x, y, sub);
    }
    ck_assert_msg(!x && !y, "%s: lengths differ", path);
}

/* The compile_config of a config's JSON text (owned by *root). */
static const cJSON *compile_config_of(const char *json, cJSON **root)
{
    *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(*root);
    const cJSON *cc = cJSON_GetObjectItem(*root, "compile_config");
    ck_assert_ptr_nonnull(cc);
    return cc;
}

/* Writes c's model and reads the config back into *back; checks that the
 * optimizer Keras wrote in seed (its compile_config's) is the one
 * clseq writes, key for key. Returns the written JSON (caller frees). */
static char *write_read_back(const clseq_keras_config *c, const char *seed,
                             clseq_keras_config *back)
{
    char *json = NULL, *text = read_seed(seed, NULL);
    cJSON *a, *b;
    ck_assert_clseq_ok(clseq_keras_write_config(c->model, &json));
    const cJSON *written = compile_config_of(json, &a), *keras = compile_config_of(text, &b);
    check_same_json(cJSON_GetObjectItem(written, "optimizer"),
                    cJSON_GetObjectItem(keras, "optimizer"), seed);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(text);
    ck_assert_clseq_ok(clseq_keras_read_config(test_ctx(), json, strlen(json), NULL, 0, "w", back));
    ck_assert_msg(back->compile_note[0] == '\0', "%s: %s", seed, back->compile_note);
    return json;
}

/* What each optimizer seed's script passed to the optimizer's constructor. */
static clseq_optimizer optimizer_seed(int i, const char **seed)
{
    static const char *const seeds[] = {
        "k3_in4_dense2_opt_sgd.json",    "k3_in4_dense2_opt_adam.json",
        "k3_in4_dense2_opt_rmsprop.json", "k3_in4_dense2_opt_adamw.json",
        "k3_in4_dense2_opt_adagrad.json", "k3_in4_dense2_opt_adadelta.json",
        "k3_in4_dense2_opt_adamax.json", "k3_in4_dense2_opt_nadam.json",
        "k3_in4_dense2_opt_lion.json"};
    clseq_optimizer o;
    *seed = seeds[i];
    switch (i) {
    case 0: /* SGD(0.05, momentum=0.5, weight_decay=0.01, clipvalue=0.5) */
        o = clseq_sgd(0.05f, 0.5f, 0);
        o.weight_decay = 0.01f;
        o.clipvalue = 0.5f;
        return o;
    case 1: /* Adam(0.002, 0.8, 0.99, 1e-6, clipnorm=1.0) */
        o = clseq_adam(0.002f, 0.8f, 0.99f, 1e-6f);
        o.clipnorm = 1.0f;
        return o;
    case 2: /* RMSprop(0.003, rho=0.8, epsilon=1e-6, global_clipnorm=2.0) */
        o = clseq_rmsprop(0.003f, 0.8f, 1e-6f);
        o.global_clipnorm = 2.0f;
        return o;
    case 3: /* AdamW(0.004, weight_decay=0.01, 0.85, 0.995, 1e-6) */
        return clseq_adamw(0.004f, 0.01f, 0.85f, 0.995f, 1e-6f);
    case 4: /* Adagrad(0.01, initial_accumulator_value=0.2, 1e-6, clipnorm=1.5) */
        o = clseq_adagrad(0.01f, 0.2f, 1e-6f);
        o.clipnorm = 1.5f;
        return o;
    case 5: /* Adadelta(0.5, rho=0.9, epsilon=1e-6, weight_decay=0.002) */
        o = clseq_adadelta(0.5f, 0.9f, 1e-6f);
        o.weight_decay = 0.002f;
        return o;
    case 6: /* Adamax(0.002, 0.85, 0.995, 1e-6, weight_decay=0.001) */
        o = clseq_adamax(0.002f, 0.85f, 0.995f, 1e-6f);
        o.weight_decay = 0.001f;
        return o;
    case 7: /* Nadam(0.002, 0.85, 0.995, 1e-6, global_clipnorm=1.0) */
        o = clseq_nadam(0.002f, 0.85f, 0.995f, 1e-6f);
        o.global_clipnorm = 1.0f;
        return o;
    default: /* Lion(0.0003, beta_1=0.95, beta_2=0.98, clipvalue=0.1) */
        o = clseq_lion(0.0003f, 0.95f, 0.98f);
        o.clipvalue = 0.1f;
        return o;
    }
}

/* Each optimizer as Keras wrote it: read, every setting as the script
 * gave it; written back, the optimizer's config is Keras's (keys, order,
 * auto name, null for what is off) and reads back the same. */
START_TEST(test_optimizers)
{
    const char *seed;
    clseq_optimizer want = optimizer_seed(_i, &seed), o;
    clseq_keras_config c, back;
    read_seeds(seed, NULL, &c);
    ck_assert_msg(c.compile_note[0] == '\0', "%s: %s", seed, c.compile_note);
    ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, NULL, NULL));
    check_same_optimizer(&o, &want, seed);
    free(write_read_back(&c, seed, &back));
    ck_assert_clseq_ok(clseq_model_compile_settings(back.model, &o, NULL, NULL));
    check_same_optimizer(&o, &want, seed);
    free_config(&back);
    free_config(&c);
}
END_TEST

/* Each schedule clseq has, as Keras wrote it (and one .h5
 * training_config): the model's schedule is the script's, compiled with
 * its first rate; written back as Keras serializes it. */
START_TEST(test_schedules)
{
    static const long long bounds[] = {10, 20};
    static const float values[] = {0.1f, 0.01f, 0.001f};
    const struct {
        const char *seed, *training;
        clseq_optimizer_kind kind;
        clseq_lr_schedule schedule;
        float first_rate;
    } cases[] = {
        {"k3_in4_dense2_schedule_exponential_staircase.json", NULL, CLSEQ_OPT_ADAM,
         clseq_exponential_decay(0.01f, 50, 0.5f, 1), 0.01f},
        {"k3_in4_dense2_schedule_piecewise.json", NULL, CLSEQ_OPT_SGD,
         clseq_piecewise_constant_decay(2, bounds, values), 0.1f},
        {"k3_in4_dense2_schedule_cosine_warmup.json", NULL, CLSEQ_OPT_ADAMW,
         clseq_cosine_decay(0.001f, 100, 0.1f, 0.01f, 10), 0.001f},
        {"h5_in4_dense3_dense1.json", "h5train_in4_dense3_dense1_nadam_cosine_auc.json",
         CLSEQ_OPT_NADAM, clseq_cosine_decay(0.01f, 1000, 0.0f, NAN, 0), 0.01f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clseq_keras_config c, back;
        clseq_optimizer o;
        clseq_lr_schedule s;
        read_seeds(cases[i].seed, cases[i].training, &c);
        ck_assert_msg(c.compile_note[0] == '\0', "%s: %s", cases[i].seed, c.compile_note);
        ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, NULL, NULL));
        ck_assert_int_eq(o.kind, cases[i].kind);
        ck_assert(o.learning_rate == cases[i].first_rate);
        ck_assert(clseq_get_lr_schedule(c.model, &s));
        check_same_schedule(&s, &cases[i].schedule);
        if (!cases[i].training) {
            free(write_read_back(&c, cases[i].seed, &back));
            ck_assert(clseq_get_lr_schedule(back.model, &s));
            check_same_schedule(&s, &cases[i].schedule);
            free_config(&back);
        }
        free_config(&c);
    }
}
END_TEST

/* A written metric (a name or a serialized class) is one Keras wrote in
 * keras_metrics: the same name, the same class and config, or a name
 * for a class Keras wrote with its defaults (AUC() is "auc"). */
static void check_metric_in(const cJSON *item, const cJSON *keras_metrics, const char *seed)
{
    const cJSON *k;
    cJSON_ArrayForEach(k, keras_metrics)
    {
        const cJSON *name = cJSON_GetObjectItem(cJSON_GetObjectItem(k, "config"), "name");
        if (cJSON_IsString(item) &&
            ((cJSON_IsString(k) && strcmp(k->valuestring, item->valuestring) == 0) ||
             (cJSON_IsString(name) && strcmp(name->valuestring, item->valuestring) == 0)))
            return;
        if (cJSON_IsObject(item) && cJSON_IsObject(k) &&
            strcmp(cJSON_GetObjectItem(k, "class_name")->valuestring,
                   cJSON_GetObjectItem(item, "class_name")->valuestring) == 0) {
            check_same_json(item, k, seed);
            return;
        }
    }
    char *text = cJSON_PrintUnformatted(item);
    ck_abort_msg("%s: clseq wrote metric %s, which Keras did not", seed, text);
    free(text);
}

/* The metrics, by name and as classes with a threshold or k. */
START_TEST(test_metrics)
{
    static const struct {
        const char *seed;
        unsigned metrics;
        float threshold;
        int k;
    } cases[] = {
        {"k3_in4_dense3_sigmoid_bce_metric_names.json",
         CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_BINARY_ACCURACY | CLSEQ_METRIC_PRECISION |
             CLSEQ_METRIC_RECALL | CLSEQ_METRIC_AUC,
         0.5f, 5},
        {"k3_in4_dense3_sigmoid_bce_metric_threshold0.7.json",
         CLSEQ_METRIC_BINARY_ACCURACY | CLSEQ_METRIC_PRECISION | CLSEQ_METRIC_RECALL |
             CLSEQ_METRIC_AUC,
         0.7f, 5},
        {"k3_in4_dense5_softmax_cce_metric_top3.json",
         CLSEQ_METRIC_TOP_K | CLSEQ_METRIC_MAE | CLSEQ_METRIC_PRECISION, 0.5f, 3},
        {"k3_in4_dense5_softmax_sparse_metric_top2.json",
         CLSEQ_METRIC_SPARSE_TOP_K | CLSEQ_METRIC_ACCURACY, 0.5f, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clseq_keras_config c, back;
        unsigned metrics;
        clseq_metric_options mo;
        read_seeds(cases[i].seed, NULL, &c);
        ck_assert_msg(c.compile_note[0] == '\0', "%s: %s", cases[i].seed, c.compile_note);
        ck_assert_clseq_ok(clseq_model_compile_settings(c.model, NULL, NULL, &metrics));
        ck_assert_clseq_ok(clseq_get_metric_options(c.model, &mo));
        ck_assert_uint_eq(metrics, cases[i].metrics);
        ck_assert(mo.threshold == cases[i].threshold);
        ck_assert_int_eq(mo.k, cases[i].k);
        char *json = write_read_back(&c, cases[i].seed, &back);
        char *text = read_seed(cases[i].seed, NULL);
        cJSON *a, *b;
        const cJSON *written = cJSON_GetObjectItem(compile_config_of(json, &a), "metrics");
        const cJSON *keras = cJSON_GetObjectItem(compile_config_of(text, &b), "metrics"), *item;
        ck_assert_int_eq(cJSON_GetArraySize(written), cJSON_GetArraySize(keras));
        cJSON_ArrayForEach(item, written)
        {
            check_metric_in(item, keras, cases[i].seed);
        }
        ck_assert_clseq_ok(clseq_model_compile_settings(back.model, NULL, NULL, &metrics));
        ck_assert_clseq_ok(clseq_get_metric_options(back.model, &mo));
        ck_assert_uint_eq(metrics, cases[i].metrics);
        ck_assert(mo.threshold == cases[i].threshold);
        ck_assert_int_eq(mo.k, cases[i].k);
        cJSON_Delete(a);
        cJSON_Delete(b);
        free(text);
        free(json);
        free_config(&back);
        free_config(&c);
    }
}
END_TEST

/* Compile settings of the new seeds that clseq lacks, one edit at a time
 * (an empty from: the seed as Keras wrote it): the model loads
 * uncompiled and the note names the setting. With a training seed the
 * edit is to it. */
static const struct {
    const char *seed, *training, *from, *to, *word;
} compile_refusals[] = {
    {"k3_in4_dense2_opt_adam.json", NULL, "\"amsgrad\": false", "\"amsgrad\": true", "amsgrad"},
    {"k3_in4_dense2_opt_rmsprop.json", NULL, "\"centered\": false", "\"centered\": true",
     "centered"},
    {"k3_in4_dense2_opt_rmsprop.json", NULL, "\"momentum\": 0.0", "\"momentum\": 0.9",
     "momentum"},
    {"k3_in4_dense2_opt_sgd.json", NULL, "\"clipnorm\": null", "\"clipnorm\": 1.0", "clip"},
    {"k3_in4_dense2_opt_lion.json", NULL, "\"class_name\": \"Lion\"", "\"class_name\": \"Lamb\"",
     "Lamb"},
    {"k3_in4_dense2_schedule_polynomial.json", NULL, "", "", "PolynomialDecay"},
    {"k3_in4_dense2_schedule_exponential_staircase.json", NULL,
     "\"class_name\": \"ExponentialDecay\"", "\"class_name\": \"InverseTimeDecay\"",
     "InverseTimeDecay"},
    {"k3_in4_dense2_schedule_exponential_staircase.json", NULL,
     "\"name\": \"ExponentialDecay\"}, \"registered_name\": null",
     "\"name\": \"ExponentialDecay\"}, \"registered_name\": \"my>ExponentialDecay\"", "custom"},
    {"k3_in4_dense2_schedule_exponential_staircase.json", NULL, "\"decay_steps\": 50",
     "\"decay_steps\": 50.5", "decay_steps"},
    {"k3_in4_dense2_schedule_exponential_staircase.json", NULL, "\"decay_steps\": 50",
     "\"decay_steps\": 0", "decay_steps"},
    {"k3_in4_dense2_schedule_piecewise.json", NULL, "[0.1, 0.01, 0.001]", "[0.1, 0.01]",
     "values"},
    {"k3_in4_dense2_schedule_piecewise.json", NULL, "[10, 20]", "[20, 10]", "boundaries"},
    {"k3_in4_dense2_schedule_cosine_warmup.json", NULL, "\"warmup_steps\": 10",
     "\"warmup_steps\": 10, \"cycle\": true", "cycle"},
    {"k3_in4_dense3_sigmoid_bce_metric_threshold0.7.json", NULL,
     "\"name\": \"recall\", \"dtype\": \"float32\", \"thresholds\": 0.7",
     "\"name\": \"recall\", \"dtype\": \"float32\", \"thresholds\": 0.6", "one threshold"},
    {"k3_in4_dense3_sigmoid_bce_metric_threshold0.7.json", NULL, "\"thresholds\": 0.7, \"top_k\"",
     "\"thresholds\": [0.5, 0.7], \"top_k\"", "thresholds"},
    {"k3_in4_dense3_sigmoid_bce_metric_threshold0.7.json", NULL, "\"top_k\": null",
     "\"top_k\": 1", "top_k"},
    {"k3_in4_dense3_sigmoid_bce_metric_threshold0.7.json", NULL, "\"curve\": \"ROC\"",
     "\"curve\": \"PR\"", "curve"},
    {"k3_in4_dense3_sigmoid_bce_metric_threshold0.7.json", NULL, "\"num_thresholds\": 200",
     "\"num_thresholds\": 100", "num_thresholds"},
    {"k3_in4_dense3_sigmoid_bce_metric_threshold0.7.json", NULL, "\"multi_label\": false",
     "\"multi_label\": true", "multi_label"},
    {"k3_in4_dense3_sigmoid_bce_metric_names.json", NULL, "\"precision\"", "\"precision\", "
     "{\"class_name\": \"Precision\", \"config\": {\"thresholds\": 0.3}}", "one threshold"},
    {"k3_in4_dense5_softmax_cce_metric_top3.json", NULL, "\"mae\"",
     "\"top_k_categorical_accuracy\"", "one k"},
    {"k3_in4_dense5_softmax_sparse_metric_top2.json", NULL, "\"accuracy\"]",
     "\"binary_accuracy\"]", "binary_accuracy"},
    {"k3_in4_dense5_softmax_sparse_metric_top2.json", NULL, "\"accuracy\"]",
     "{\"class_name\": \"F1Score\", \"config\": {}}]", "F1Score"},
    {"h5_in4_dense3_dense1.json", "h5train_in4_dense3_dense1_nadam_cosine_auc.json",
     "[\"accuracy\", \"auc\"]", "[\"categorical_accuracy\"]", "binary accuracy"},
};

START_TEST(test_compile_refusals)
{
    int i = _i;
    const char *edited = compile_refusals[i].training ? compile_refusals[i].training
                                                      : compile_refusals[i].seed;
    char *seed = read_seed(edited, NULL);
    char *text = compile_refusals[i].from[0]
                     ? replace(seed, compile_refusals[i].from, compile_refusals[i].to)
                     : seed;
    char *model = compile_refusals[i].training ? read_seed(compile_refusals[i].seed, NULL) : text;
    const char *training = compile_refusals[i].training ? text : NULL;
    clseq_keras_config c;
    ck_assert_clseq_ok(clseq_keras_read_config(test_ctx(), model, strlen(model), training,
                                               training ? strlen(training) : 0, "m", &c));
    ck_assert_msg(!clseq_model_is_compiled(c.model), "row %d compiled", i);
    ck_assert_msg(strstr(c.compile_note, compile_refusals[i].word), "row %d: no '%s' in '%s'", i,
                  compile_refusals[i].word, c.compile_note);
    free_config(&c);
    if (model != text)
        free(model);
    if (text != seed)
        free(text);
    free(seed);
}
END_TEST

static float halving(long long step, void *user_data)
{
    (void)user_data;
    return 0.1f / (float)(1 + step);
}

/* A function schedule has no Keras form: writing refuses (CLSEQ_E_ARG
 * saying why) rather than save a model that would train otherwise. */
START_TEST(test_write_function_schedule)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), 3, &m));
    ck_assert_clseq_ok(clseq_add_dense(m, 2, CLSEQ_SOFTMAX));
    ck_assert_clseq_ok(clseq_compile(m, clseq_sgd(0.1f, 0, 0), CLSEQ_CATEGORICAL_CROSSENTROPY, 0));
    clseq_lr_schedule s = clseq_lr_function_schedule(halving, NULL);
    ck_assert_clseq_ok(clseq_set_lr_schedule(m, &s));
    char *json = NULL;
    ck_assert_int_eq(clseq_keras_write_config(m, &json), CLSEQ_E_ARG);
    ck_assert_ptr_null(json);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "function schedule"));
    /* a fixed rate again: written */
    ck_assert_clseq_ok(clseq_set_lr_schedule(m, NULL));
    ck_assert_clseq_ok(clseq_keras_write_config(m, &json));
    free(json);
    clseq_model_free(m);
}
END_TEST

/* ---- writing ------------------------------------------------------------------- */

static clseq_model *every_kind_model(void)
{
    clseq_model *m = NULL;
    int in[3] = {8, 8, 3}, target[2] = {2, 2};
    ck_assert_clseq_ok(clseq_model_create_shaped(test_ctx(), 3, in, &m));
    ck_assert_clseq_ok(clseq_add_conv2d(m, 4, 3, 3, 1, 1, CLSEQ_PADDING_SAME, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_layers(m, "conv2d:4:1x2:nobias:s1x2:selu"));
    ck_assert_clseq_ok(clseq_add_max_pooling2d(m, 2, 2, 0, 0, CLSEQ_PADDING_VALID));
    ck_assert_clseq_ok(clseq_add_average_pooling2d(m, 2, 2, 1, 1, CLSEQ_PADDING_SAME));
    ck_assert_clseq_ok(clseq_add_batch_normalization(m, 0.9f, 0.001f));
    ck_assert_clseq_ok(clseq_add_global_average_pooling2d(m));
    ck_assert_clseq_ok(clseq_add_reshape(m, 2, target));
    ck_assert_clseq_ok(clseq_add_flatten(m));
    ck_assert_clseq_ok(clseq_add_dense(m, 5, CLSEQ_SOFTMAX));
    ck_assert_clseq_ok(clseq_add_dropout(m, 0.25f));
    ck_assert_clseq_ok(clseq_add_activation(m, CLSEQ_GELU));
    return m;
}

/* Two configs are the same value for value. */
static void check_same_config(const clseq_layer_config *a, const clseq_layer_config *b)
{
    ck_assert_int_eq(a->count, b->count);
    for (int i = 0; i < a->count; i++) {
        const clseq_config_value *x = &a->values[i], *y = clseq_config_find(b, x->name);
        ck_assert_msg(y != NULL, "no '%s' after reading back", x->name);
        ck_assert_int_eq(x->type, y->type);
        ck_assert_int_eq(x->i, y->i);
        ck_assert(x->f == y->f);
        ck_assert_str_eq(x->s, y->s);
        ck_assert_int_eq(x->n, y->n);
        ck_assert_mem_eq(x->v, y->v, sizeof x->v);
    }
}

START_TEST(test_write_read_back)
{
    clseq_model *m = every_kind_model();
    /* a model whose last layer is a Conv2D cannot take cross-entropy: use
     * MSE, RMSprop and every metric */
    ck_assert_clseq_ok(clseq_compile(m, clseq_rmsprop(0.002f, 0.8f, 1e-6f),
                                     CLSEQ_MEAN_SQUARED_ERROR,
                                     CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE));
    char *json = NULL;
    ck_assert_clseq_ok(clseq_keras_write_config(m, &json));
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    ck_assert_str_eq(cJSON_GetObjectItem(root, "class_name")->valuestring, "Sequential");
    cJSON *layers = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "config"), "layers");
    ck_assert_int_eq(cJSON_GetArraySize(layers), 1 + clseq_layer_count(m));
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 0), "class_name")->valuestring,
                     "InputLayer");
    cJSON *cc = cJSON_GetObjectItem(root, "compile_config");
    ck_assert_str_eq(cJSON_GetObjectItem(cc, "loss")->valuestring, "mean_squared_error");
    cJSON_Delete(root);

    clseq_keras_config c;
    ck_assert_clseq_ok(clseq_keras_read_config(test_ctx(), json, strlen(json), NULL, 0, "w", &c));
    ck_assert_int_eq(c.layer_count, clseq_layer_count(m));
    for (int i = 0; i < clseq_layer_count(m); i++) {
        char name[CLSEQ_KERAS_NAME];
        clseq_model_layer_name(m, i, name, sizeof name);
        int rank = 0, dims[3] = {0};
        ck_assert_clseq_ok(clseq_layer_output_shape(m, i, &rank, dims));
        check_layer(&c, i, clseq_layer_class(m, i), name, rank, dims);
        clseq_layer_config a, b;
        ck_assert_clseq_ok(clseq_layer_get_config(m, i, &a));
        ck_assert_clseq_ok(clseq_layer_get_config(c.model, i, &b));
        check_same_config(&a, &b);
    }
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics;
    ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, &loss, &metrics));
    ck_assert_int_eq(o.kind, CLSEQ_OPT_RMSPROP);
    ck_assert(o.learning_rate == 0.002f && o.rho == 0.8f && o.epsilon == 1e-6f);
    ck_assert_int_eq(loss, CLSEQ_MEAN_SQUARED_ERROR);
    ck_assert_uint_eq(metrics, CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE);
    free_config(&c);
    free(json);
    clseq_model_free(m);
}
END_TEST

/* Uncompiled: no compile_config; Adam and SGD settings come back too. */
START_TEST(test_write_optimizers)
{
    const clseq_optimizer opts[] = {clseq_adam(0.003f, 0.8f, 0.99f, 1e-5f),
                                    clseq_sgd(0.05f, 0.5f, 1)};
    for (int k = -1; k < 2; k++) {
        clseq_model *m = NULL;
        ck_assert_clseq_ok(clseq_model_create(test_ctx(), 3, &m));
        ck_assert_clseq_ok(clseq_add_dense(m, 2, CLSEQ_SOFTMAX));
        if (k >= 0)
            ck_assert_clseq_ok(clseq_compile(m, opts[k], CLSEQ_CATEGORICAL_CROSSENTROPY,
                                             CLSEQ_METRIC_ACCURACY));
        char *json = NULL;
        ck_assert_clseq_ok(clseq_keras_write_config(m, &json));
        ck_assert_int_eq(strstr(json, "\"compile_config\"") != NULL, k >= 0);
        clseq_keras_config c;
        ck_assert_clseq_ok(
            clseq_keras_read_config(test_ctx(), json, strlen(json), NULL, 0, "w", &c));
        ck_assert_int_eq(clseq_model_is_compiled(c.model), k >= 0);
        if (k >= 0) {
            clseq_optimizer o;
            ck_assert_clseq_ok(clseq_model_compile_settings(c.model, &o, NULL, NULL));
            ck_assert_int_eq(o.kind, opts[k].kind);
            ck_assert(o.learning_rate == opts[k].learning_rate &&
                      o.beta1 == opts[k].beta1 && o.beta2 == opts[k].beta2 &&
                      o.epsilon == opts[k].epsilon && o.momentum == opts[k].momentum &&
                      o.nesterov == opts[k].nesterov);
        }
        free_config(&c);
        free(json);
        clseq_model_free(m);
    }
}
END_TEST

static Suite *keras_config_suite(void)
{
    Suite *s = suite_create("keras_config");
    TCase *t = tcase_create("read");
    tcase_add_test(t, test_keras3_every_kind);
    tcase_add_test(t, test_keras3_loss_object);
    tcase_add_test(t, test_keras3_schedule);
    tcase_add_test(t, test_keras3_conv_activations);
    tcase_add_test(t, test_h5_training_config);
    tcase_add_test(t, test_keras2_layout);
    tcase_add_test(t, test_activation_forms);
    tcase_add_test(t, test_malformed_json);
    tcase_add_test(t, test_compile_left_uncompiled);
    tcase_add_test(t, test_no_context);
    tcase_add_test(t, test_bounded);
    tcase_add_test(t, test_regularizers);
    tcase_add_loop_test(t, test_refusals, 0, (int)(sizeof refusals / sizeof *refusals));
    suite_add_tcase(s, t);
    TCase *cc = tcase_create("compile");
    tcase_add_loop_test(cc, test_optimizers, 0, 9);
    tcase_add_test(cc, test_schedules);
    tcase_add_test(cc, test_metrics);
    tcase_add_loop_test(cc, test_compile_refusals, 0,
                        (int)(sizeof compile_refusals / sizeof *compile_refusals));
    suite_add_tcase(s, cc);
    TCase *w = tcase_create("write");
    tcase_add_test(w, test_write_read_back);
    tcase_add_test(w, test_write_optimizers);
    tcase_add_test(w, test_write_function_schedule);
    suite_add_tcase(s, w);
    return s;
}

int main(void)
{
    return test_run_suite(keras_config_suite());
}
