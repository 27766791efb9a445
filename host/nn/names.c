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

const char *clseq_metric_name(unsigned metric_bit)
{
    switch (metric_bit) {
    case CLSEQ_METRIC_ACCURACY: return "accuracy";
    case CLSEQ_METRIC_MSE: return "mse";
    case CLSEQ_METRIC_MAE: return "mae";
    default: return NULL;
    }
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

clseq_status clseq_optimizer_from_name(const char *name, float lr, clseq_optimizer *out)
{
    if (!name || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_optimizer_from_name: NULL argument");
    if (!(lr >= 0.0f) || isinf(lr))
        return clseq_fail(CLSEQ_E_ARG, "optimizer '%s': learning rate %g must be > 0 (or 0 for "
                                       "Keras's default)",
                          name, (double)lr);
    if (strcasecmp(name, "sgd") == 0)
        *out = clseq_sgd(0.01f, 0.0f, 0);
    else if (strcasecmp(name, "adam") == 0)
        *out = clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f);
    else if (strcasecmp(name, "rmsprop") == 0)
        *out = clseq_rmsprop(0.001f, 0.9f, 1e-7f);
    else
        return clseq_fail(CLSEQ_E_ARG, "unknown optimizer '%s' (sgd, adam, rmsprop)", name);
    if (lr > 0)
        out->learning_rate = lr;
    return CLSEQ_OK;
}

