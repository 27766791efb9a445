/* Keras's names for activations, losses, metrics and optimizers, and the
 * optimizer constructors. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sys/error.h"

static const char *const activation_names[] = {
    "linear",      "relu",     "sigmoid",  "tanh", "softmax",  "leaky_relu",
    "elu",         "selu",     "gelu",     "softplus", "softsign", "silu",
    "hard_sigmoid", "exponential", "relu6", "log_softmax"};
static const char *const loss_names[] = {"categorical_crossentropy",
                                         "sparse_categorical_crossentropy",
                                         "binary_crossentropy", "mean_squared_error",
                                         "mean_absolute_error"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

_Static_assert(COUNT(activation_names) == CLSEQ_LOG_SOFTMAX + 1,
               "one name per clseq_activation, in the enum's order");

clseq_status clseq_activation_from_name(const char *name, clseq_activation *out)
{
    if (!name || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_activation_from_name: NULL argument");
    for (int i = 0; i < COUNT(activation_names); i++)
        if (strcasecmp(name, activation_names[i]) == 0) {
            *out = (clseq_activation)i;
            return CLSEQ_OK;
        }
    if (strcasecmp(name, "swish") == 0) { /* Keras's other name for silu */
        *out = CLSEQ_SILU;
        return CLSEQ_OK;
    }
    return clseq_fail(CLSEQ_E_ARG,
                      "unknown activation '%s' (linear, relu, sigmoid, tanh, softmax, leaky_relu, "
                      "elu, selu, gelu, softplus, softsign, silu or swish, hard_sigmoid, "
                      "exponential, relu6, log_softmax)",
                      name);
}

const char *clseq_activation_name(clseq_activation act)
{
    return (int)act >= 0 && (int)act < COUNT(activation_names) ? activation_names[act] : NULL;
}

clseq_status clseq_loss_from_name(const char *name, clseq_loss *out)
{
    static const struct {
        const char *alias;
        clseq_loss loss;
    } aliases[] = {{"mse", CLSEQ_MEAN_SQUARED_ERROR}, {"mae", CLSEQ_MEAN_ABSOLUTE_ERROR}};
    if (!name || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_loss_from_name: NULL argument");
    for (int i = 0; i < COUNT(loss_names); i++)
        if (strcasecmp(name, loss_names[i]) == 0) {
            *out = (clseq_loss)i;
            return CLSEQ_OK;
        }
    for (int i = 0; i < COUNT(aliases); i++)
        if (strcasecmp(name, aliases[i].alias) == 0) {
            *out = aliases[i].loss;
            return CLSEQ_OK;
        }
    return clseq_fail(CLSEQ_E_ARG,
                      "unknown loss '%s' (categorical_crossentropy, "
                      "sparse_categorical_crossentropy, binary_crossentropy, mse, mae)",
                      name);
}

const char *clseq_loss_name(clseq_loss loss)
{
    return (int)loss >= 0 && (int)loss < COUNT(loss_names) ? loss_names[loss] : NULL;
}

/* Keras's names of the metric bits, in bit order (history names: the
 * string a Keras user passes to compile, compile_utils.get_metric). */
static const char *const metric_names[CLSEQ_METRIC_COUNT] = {
    "accuracy", "mse", "mae", "binary_accuracy", "precision", "recall", "auc",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"};

const char *clseq_metric_name(unsigned metric_bit)
{
    for (int i = 0; i < CLSEQ_METRIC_COUNT; i++)
        if (metric_bit == 1u << i)
            return metric_names[i];
    return NULL;
}

clseq_status clseq_metric_from_name(const char *name, unsigned *out)
{
    if (!name || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_metric_from_name: NULL name or out");
    static const struct {
        const char *alias;
        unsigned bit;
    } aliases[] = {{"acc", CLSEQ_METRIC_ACCURACY},
                   {"mean_squared_error", CLSEQ_METRIC_MSE},
                   {"mean_absolute_error", CLSEQ_METRIC_MAE}};
    for (int i = 0; i < CLSEQ_METRIC_COUNT; i++)
        if (strcmp(name, metric_names[i]) == 0) {
            *out = 1u << i;
            return CLSEQ_OK;
        }
    for (int i = 0; i < COUNT(aliases); i++)
        if (strcmp(name, aliases[i].alias) == 0) {
            *out = aliases[i].bit;
            return CLSEQ_OK;
        }
    return clseq_fail(CLSEQ_E_ARG, "unknown metric '%s' (accuracy, mse, mae, binary_accuracy, "
                                   "precision, recall, auc, top_k_categorical_accuracy, "
                                   "sparse_top_k_categorical_accuracy)",
                      name);
}

clseq_metric_options clseq_metric_defaults(void)
{
    /* keras.metrics.BinaryAccuracy/Precision/Recall threshold 0.5,
     * TopKCategoricalAccuracy k 5 */
    clseq_metric_options o = {0.5f, 5};
    return o;
}

clseq_optimizer clseq_sgd(float learning_rate, float momentum, int nesterov)
{
    clseq_optimizer o = {0};
    o.kind = CLSEQ_OPT_SGD;
    o.learning_rate = learning_rate;
    o.momentum = momentum;
    o.nesterov = nesterov;
    return o;
}

clseq_optimizer clseq_adam(float learning_rate, float beta1, float beta2, float epsilon)
{
    clseq_optimizer o = {0};
    o.kind = CLSEQ_OPT_ADAM;
    o.learning_rate = learning_rate;
    o.beta1 = beta1;
    o.beta2 = beta2;
    o.epsilon = epsilon;
    return o;
}

clseq_optimizer clseq_rmsprop(float learning_rate, float rho, float epsilon)
{
    clseq_optimizer o = {0};
    o.kind = CLSEQ_OPT_RMSPROP;
    o.learning_rate = learning_rate;
    o.rho = rho;
    o.epsilon = epsilon;
    return o;
}

clseq_optimizer clseq_adamw(float learning_rate, float weight_decay, float beta1, float beta2,
                            float epsilon)
{
    clseq_optimizer o = clseq_adam(learning_rate, beta1, beta2, epsilon);
    o.kind = CLSEQ_OPT_ADAMW;
    o.weight_decay = weight_decay;
    return o;
}

clseq_optimizer clseq_adagrad(float learning_rate, float initial_accumulator_value, float epsilon)
{
    clseq_optimizer o = {0};
    o.kind = CLSEQ_OPT_ADAGRAD;
    o.learning_rate = learning_rate;
    o.initial_accumulator_value = initial_accumulator_value;
    o.epsilon = epsilon;
    return o;
}

clseq_optimizer clseq_adadelta(float learning_rate, float rho, float epsilon)
{
    clseq_optimizer o = clseq_rmsprop(learning_rate, rho, epsilon);
    o.kind = CLSEQ_OPT_ADADELTA;
    return o;
}

clseq_optimizer clseq_adamax(float learning_rate, float beta1, float beta2, float epsilon)
{
    clseq_optimizer o = clseq_adam(learning_rate, beta1, beta2, epsilon);
    o.kind = CLSEQ_OPT_ADAMAX;
    return o;
}

clseq_optimizer clseq_nadam(float learning_rate, float beta1, float beta2, float epsilon)
{
    clseq_optimizer o = clseq_adam(learning_rate, beta1, beta2, epsilon);
    o.kind = CLSEQ_OPT_NADAM;
    return o;
}

clseq_optimizer clseq_lion(float learning_rate, float beta1, float beta2)
{
    clseq_optimizer o = clseq_adam(learning_rate, beta1, beta2, 0.0f);
    o.kind = CLSEQ_OPT_LION;
    return o;
}

clseq_status clseq_optimizer_from_name(const char *name, float lr, clseq_optimizer *out)
{
    if (!name || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_optimizer_from_name: NULL argument");
    if (!(lr >= 0.0f) || isinf(lr))
        return clseq_fail(CLSEQ_E_ARG, "optimizer '%s': learning rate %g must be > 0 (or 0 for "
                                       "Keras's default)",
                          name, (double)lr);
    /* Keras 3's defaults (keras/src/optimizers/<name>.py, __init__) */
    if (strcasecmp(name, "sgd") == 0)
        *out = clseq_sgd(0.01f, 0.0f, 0);
    else if (strcasecmp(name, "adam") == 0)
        *out = clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f);
    else if (strcasecmp(name, "rmsprop") == 0)
        *out = clseq_rmsprop(0.001f, 0.9f, 1e-7f);
    else if (strcasecmp(name, "adamw") == 0)
        *out = clseq_adamw(0.001f, 0.004f, 0.9f, 0.999f, 1e-7f);
    else if (strcasecmp(name, "adagrad") == 0)
        *out = clseq_adagrad(0.001f, 0.1f, 1e-7f);
    else if (strcasecmp(name, "adadelta") == 0)
        *out = clseq_adadelta(0.001f, 0.95f, 1e-7f);
    else if (strcasecmp(name, "adamax") == 0)
        *out = clseq_adamax(0.001f, 0.9f, 0.999f, 1e-7f);
    else if (strcasecmp(name, "nadam") == 0)
        *out = clseq_nadam(0.001f, 0.9f, 0.999f, 1e-7f);
    else if (strcasecmp(name, "lion") == 0)
        *out = clseq_lion(0.001f, 0.9f, 0.99f);
    else
        return clseq_fail(CLSEQ_E_ARG, "unknown optimizer '%s' (sgd, adam, rmsprop, adamw, "
                                       "adagrad, adadelta, adamax, nadam, lion)",
                          name);
    if (lr > 0)
        out->learning_rate = lr;
    return CLSEQ_OK;
}

