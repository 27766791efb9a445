/* The Sequential model: layers, Glorot-uniform initialisation, the
 * parameter vector and its host/device copies, compile, weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "ops.h"

#define DEFAULT_SEED 0

clseq_status clseq_model_create(clseq_ctx *ctx, int input_dim, clseq_model **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_create: out is NULL");
    *out = NULL;
    if (!ctx)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_create: ctx is NULL");
    if (input_dim <= 0 || input_dim > CLSEQ_MAX_UNITS)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_create: input_dim must be in 1..%d, got %d",
                          CLSEQ_MAX_UNITS, input_dim);
    clseq_model *m = calloc(1, sizeof *m);
    if (!m)
        return clseq_fail(CLSEQ_E_NOMEM, "clseq_model_create: out of host memory");
    m->ctx = ctx;
    m->input_dim = input_dim;
    clseq_rng_seed(&m->rng, DEFAULT_SEED);
    *out = m;
    return CLSEQ_OK;
}

void clseq_model_free(clseq_model *m)
{
    if (!m)
        return;
    clseq_workspace_release(m);
    clseq_buffer_release(&m->params);
    clseq_buffer_release(&m->grads);
    clseq_buffer_release(&m->opt_m);
    clseq_buffer_release(&m->opt_v);
    free(m->host_params);
    free(m->layers);
    free(m);
}

clseq_status clseq_model_set_seed(clseq_model *m, uint64_t seed)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_set_seed: model is NULL");
    clseq_rng_seed(&m->rng, seed);
    return CLSEQ_OK;
}

static int output_width(const clseq_model *m)
{
    return m->layer_count ? m->layers[m->layer_count - 1].units : m->input_dim;
}

clseq_status clseq_model_append_layer(clseq_model *m, int units, clseq_activation act, int dense)
{
    if (m->layer_count == m->layer_capacity) {
        int capacity = m->layer_capacity ? m->layer_capacity * 2 : 4;
        clseq_layer *grown = realloc(m->layers, (size_t)capacity * sizeof *grown);
        if (!grown)
            return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for layer %d", m->layer_count + 1);
        m->layers = grown;
        m->layer_capacity = capacity;
    }
    clseq_layer layer = {output_width(m), dense ? units : output_width(m), act, dense, 0, 0};
    /* the workspace has one output buffer per layer and rows as wide as
     * the widest: it no longer fits */
    clseq_workspace_release(m);
    size_t added = 0;
    if (dense) {
        size_t kernel;
        if (clseq_mul_overflows((size_t)layer.input_dim, (size_t)units, &kernel) ||
            kernel + (size_t)units > (size_t)INT32_MAX - m->param_count)
            return clseq_fail(CLSEQ_E_SHAPE, "dense layer %d: %d x %d parameters are too many",
                              m->layer_count + 1, layer.input_dim, units);
        layer.kernel_off = m->param_count;
        layer.bias_off = m->param_count + kernel;
        added = kernel + (size_t)units;
        float *grown = realloc(m->host_params, (m->param_count + added) * sizeof *grown);
        if (!grown)
            return clseq_fail(CLSEQ_E_NOMEM, "dense layer %d: out of host memory for %zu parameters",
                              m->layer_count + 1, added);
        m->host_params = grown;
        memset(m->host_params + m->param_count, 0, added * sizeof *grown);
    }
    m->layers[m->layer_count++] = layer;
    m->param_count += added;
    if (added) {
        /* the device copy has the wrong size now: rebuild it on next use */
        clseq_buffer_release(&m->params);
        m->device_stale = 1;
    }
    return CLSEQ_OK;
}

static clseq_status check_can_add(const clseq_model *m, const char *what)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "%s: model is NULL", what);
    if (m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "%s: layer %d cannot be added after clseq_compile", what,
                          m->layer_count + 1);
    return CLSEQ_OK;
}

static clseq_status check_activation(clseq_activation act, int layer)
{
    if (!clseq_activation_name(act))
        return clseq_fail(CLSEQ_E_ARG, "layer %d: unknown activation code %d", layer, (int)act);
    return CLSEQ_OK;
}

clseq_status clseq_add_dense(clseq_model *m, int units, clseq_activation act)
{
    clseq_status s = check_can_add(m, "clseq_add_dense");
    if (s != CLSEQ_OK)
        return s;
    if (units <= 0 || units > CLSEQ_MAX_UNITS)
        return clseq_fail(CLSEQ_E_ARG, "dense layer %d: units must be in 1..%d, got %d",
                          m->layer_count + 1, CLSEQ_MAX_UNITS, units);
    if ((s = check_activation(act, m->layer_count + 1)) != CLSEQ_OK)
        return s;
    if (m->host_stale && (s = clseq_model_sync_host(m)) != CLSEQ_OK)
        return s;
    if ((s = clseq_model_append_layer(m, units, act, 1)) != CLSEQ_OK)
        return s;
    /* Glorot uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)); zero bias */
    const clseq_layer *layer = &m->layers[m->layer_count - 1];
    float limit = sqrtf(6.0f / (float)(layer->input_dim + units));
    size_t kernel = (size_t)layer->input_dim * (size_t)units;
    for (size_t i = 0; i < kernel; i++)
        m->host_params[layer->kernel_off + i] = clseq_rng_uniform(&m->rng, -limit, limit);
    return CLSEQ_OK;
}

clseq_status clseq_add_activation(clseq_model *m, clseq_activation act)
{
    clseq_status s = check_can_add(m, "clseq_add_activation");
    if (s != CLSEQ_OK)
        return s;
    if ((s = check_activation(act, m->layer_count + 1)) != CLSEQ_OK)
        return s;
    return clseq_model_append_layer(m, 0, act, 0);
}

int clseq_model_target_width(const clseq_model *m)
{
    return m->loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : output_width(m);
}

clseq_status clseq_model_sync_device(clseq_model *m)
{
    clseq_status s;
    if (!m->params) {
        s = clseq_buffer_create(m->ctx, m->param_count * sizeof(float), &m->params);
        if (s != CLSEQ_OK)
            return clseq_fail_context(s, "model parameters: ");
        m->device_stale = 1;
    }
    if (!m->device_stale)
        return CLSEQ_OK;
    s = clseq_buffer_write(m->ctx, m->params, 0, m->param_count * sizeof(float), m->host_params);
    if (s == CLSEQ_OK)
        m->device_stale = 0;
    return s;
}

clseq_status clseq_model_sync_host(const clseq_model *cm)
{
    /* Reading back changes only the cache of the weights, not the model's
     * value, so const callers (get_weights, save) may do it. */
    clseq_model *m = (clseq_model *)cm;
    if (!m->host_stale)
        return CLSEQ_OK;
    clseq_status s =
        clseq_buffer_read(m->ctx, m->params, 0, m->param_count * sizeof(float), m->host_params);
    if (s == CLSEQ_OK)
        m->host_stale = 0;
    return s;
}

static clseq_status check_optimizer(const clseq_optimizer *o)
{
    if (!(o->learning_rate > 0.0f) || !isfinite(o->learning_rate))
        return clseq_fail(CLSEQ_E_ARG, "optimizer: learning_rate must be > 0, got %g",
                          (double)o->learning_rate);
    switch (o->kind) {
    case CLSEQ_OPT_SGD:
        if (!(o->momentum >= 0.0f && o->momentum < 1.0f))
            return clseq_fail(CLSEQ_E_ARG, "sgd: momentum must be in [0, 1), got %g",
                              (double)o->momentum);
        return CLSEQ_OK;
    case CLSEQ_OPT_ADAM:
        if (!(o->beta1 >= 0.0f && o->beta1 < 1.0f) || !(o->beta2 >= 0.0f && o->beta2 < 1.0f))
            return clseq_fail(CLSEQ_E_ARG, "adam: beta1 and beta2 must be in [0, 1), got %g, %g",
                              (double)o->beta1, (double)o->beta2);
        break;
    case CLSEQ_OPT_RMSPROP:
        if (!(o->rho >= 0.0f && o->rho < 1.0f))
            return clseq_fail(CLSEQ_E_ARG, "rmsprop: rho must be in [0, 1), got %g", (double)o->rho);
        break;
    default:
        return clseq_fail(CLSEQ_E_ARG, "optimizer: unknown kind %d", (int)o->kind);
    }
    if (!(o->epsilon > 0.0f) || !isfinite(o->epsilon))
        return clseq_fail(CLSEQ_E_ARG, "optimizer: epsilon must be > 0, got %g", (double)o->epsilon);
    return CLSEQ_OK;
}

/* The cross-entropies differentiate through their output activation (the
 * stable p - y gradient), so they need that activation on the last layer. */
static clseq_status check_loss_fits_output(const clseq_model *m, clseq_loss loss)
{
    const clseq_layer *last = &m->layers[m->layer_count - 1];
    clseq_activation need = loss == CLSEQ_BINARY_CROSSENTROPY ? CLSEQ_SIGMOID : CLSEQ_SOFTMAX;
    if (!clseq_loss_name(loss))
        return clseq_fail(CLSEQ_E_ARG, "clseq_compile: unknown loss code %d", (int)loss);
    if (loss == CLSEQ_MEAN_SQUARED_ERROR || loss == CLSEQ_MEAN_ABSOLUTE_ERROR)
        return CLSEQ_OK;
    if (last->act != need)
        return clseq_fail(CLSEQ_E_ARG, "clseq_compile: %s needs a %s output, but layer %d is %s",
                          clseq_loss_name(loss), clseq_activation_name(need), m->layer_count,
                          clseq_activation_name(last->act));
    return CLSEQ_OK;
}

clseq_status clseq_model_reset_optimizer(clseq_model *m)
{
    clseq_status s = CLSEQ_OK;
    size_t bytes = m->param_count * sizeof(float);
    clseq_buffer_release(&m->grads);
    clseq_buffer_release(&m->opt_m);
    clseq_buffer_release(&m->opt_v);
    m->iterations = 0;
    if (m->param_count == 0)
        return CLSEQ_OK;
    int wants_m = m->optimizer.kind == CLSEQ_OPT_ADAM ||
                  (m->optimizer.kind == CLSEQ_OPT_SGD && m->optimizer.momentum > 0.0f);
    int wants_v = m->optimizer.kind != CLSEQ_OPT_SGD;
    if ((s = clseq_buffer_create(m->ctx, bytes, &m->grads)) != CLSEQ_OK)
        return s;
    /* optimizers without a given state still get a buffer to bind */
    if ((s = clseq_buffer_create(m->ctx, wants_m ? bytes : sizeof(float), &m->opt_m)) != CLSEQ_OK ||
        (s = clseq_buffer_create(m->ctx, wants_v ? bytes : sizeof(float), &m->opt_v)) != CLSEQ_OK)
        return s;
    if ((s = clseq_buffer_fill(m->ctx, m->opt_m, 0, wants_m ? m->param_count : 1, 0.0f)) !=
        CLSEQ_OK)
        return s;
    return clseq_buffer_fill(m->ctx, m->opt_v, 0, wants_v ? m->param_count : 1, 0.0f);
}

clseq_status clseq_compile(clseq_model *m, clseq_optimizer opt, clseq_loss loss, unsigned metrics)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_compile: model is NULL");
    if (m->layer_count == 0)
        return clseq_fail(CLSEQ_E_STATE, "clseq_compile: the model has no layers");
    clseq_status s = check_optimizer(&opt);
    if (s == CLSEQ_OK)
        s = check_loss_fits_output(m, loss);
    if (s != CLSEQ_OK)
        return s;
    if (metrics & ~(unsigned)(CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE))
        return clseq_fail(CLSEQ_E_ARG, "clseq_compile: unknown metric bits 0x%x", metrics);
    m->optimizer = opt;
    m->loss = loss;
    m->metrics = metrics;
    /* a failure here has released the old optimizer state: the model is
     * no longer compiled rather than compiled with buffers missing */
    m->compiled = 0;
    if ((s = clseq_model_sync_device(m)) != CLSEQ_OK ||
        (s = clseq_model_reset_optimizer(m)) != CLSEQ_OK)
        return s;
    m->compiled = 1;
    return CLSEQ_OK;
}

clseq_status clseq_model_compile_settings(const clseq_model *m, clseq_optimizer *opt,
                                          clseq_loss *loss, unsigned *metrics)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_compile_settings: model is NULL");
    if (!m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "the model has not been compiled");
    if (opt)
        *opt = m->optimizer;
    if (loss)
        *loss = m->loss;
    if (metrics)
        *metrics = m->metrics;
    return CLSEQ_OK;
}

int clseq_layer_count(const clseq_model *m)
{
    return m ? m->layer_count : 0;
}

int clseq_model_input_dim(const clseq_model *m)
{
    return m ? m->input_dim : 0;
}

int clseq_model_output_dim(const clseq_model *m)
{
    return m ? output_width(m) : 0;
}

static clseq_status check_layer_index(const clseq_model *m, int layer, const char *what)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "%s: model is NULL", what);
    if (layer < 0 || layer >= m->layer_count)
        return clseq_fail(CLSEQ_E_ARG, "%s: layer %d out of range (the model has %d layers)", what,
                          layer, m->layer_count);
    return CLSEQ_OK;
}

clseq_status clseq_layer_info(const clseq_model *m, int layer, int *input_dim, int *units,
                              clseq_activation *act, int *has_weights)
{
    clseq_status s = check_layer_index(m, layer, "clseq_layer_info");
    if (s != CLSEQ_OK)
        return s;
    const clseq_layer *l = &m->layers[layer];
    if (input_dim)
        *input_dim = l->input_dim;
    if (units)
        *units = l->units;
    if (act)
        *act = l->act;
    if (has_weights)
        *has_weights = l->dense;
    return CLSEQ_OK;
}

clseq_status clseq_get_weights(const clseq_model *m, int layer, float *kernel, float *bias)
{
    clseq_status s = check_layer_index(m, layer, "clseq_get_weights");
    if (s != CLSEQ_OK)
        return s;
    const clseq_layer *l = &m->layers[layer];
    if (!l->dense)
        return clseq_fail(CLSEQ_E_ARG, "clseq_get_weights: layer %d (%s activation) has no weights",
                          layer, clseq_activation_name(l->act));
    if ((s = clseq_model_sync_host(m)) != CLSEQ_OK)
        return s;
    if (kernel)
        memcpy(kernel, m->host_params + l->kernel_off,
               (size_t)l->input_dim * (size_t)l->units * sizeof(float));
    if (bias)
        memcpy(bias, m->host_params + l->bias_off, (size_t)l->units * sizeof(float));
    return CLSEQ_OK;
}

clseq_status clseq_set_weights(clseq_model *m, int layer, const float *kernel, const float *bias)
{
    clseq_status s = check_layer_index(m, layer, "clseq_set_weights");
    if (s != CLSEQ_OK)
        return s;
    const clseq_layer *l = &m->layers[layer];
    if (!l->dense)
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_weights: layer %d (%s activation) has no weights",
                          layer, clseq_activation_name(l->act));
    if (!kernel || !bias)
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_weights: layer %d: kernel and bias are required",
                          layer);
    char what[64];
    snprintf(what, sizeof what, "clseq_set_weights: layer %d kernel", layer);
    if ((s = clseq_check_finite(kernel, (size_t)l->input_dim, l->units, what)) != CLSEQ_OK)
        return s;
    snprintf(what, sizeof what, "clseq_set_weights: layer %d bias", layer);
    if ((s = clseq_check_finite(bias, 1, l->units, what)) != CLSEQ_OK)
        return s;
    if ((s = clseq_model_sync_host(m)) != CLSEQ_OK)
        return s;
    memcpy(m->host_params + l->kernel_off, kernel,
           (size_t)l->input_dim * (size_t)l->units * sizeof(float));
    memcpy(m->host_params + l->bias_off, bias, (size_t)l->units * sizeof(float));
    m->device_stale = 1;
    return CLSEQ_OK;
}

clseq_status clseq_check_finite(const float *x, size_t n, int cols, const char *what)
{
    for (size_t r = 0; r < n; r++)
        for (int c = 0; c < cols; c++)
            if (!isfinite(x[r * (size_t)cols + (size_t)c]))
                return clseq_fail(CLSEQ_E_NUMERIC, "%s row %zu column %d is %g", what, r, c,
                                  (double)x[r * (size_t)cols + (size_t)c]);
    return CLSEQ_OK;
}

clseq_status clseq_check_targets(const clseq_model *m, const float *y, size_t n, const char *what)
{
    int width = clseq_model_target_width(m);
    clseq_status s = clseq_check_finite(y, n, width, what);
    if (s != CLSEQ_OK || m->loss != CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY)
        return s;
    int classes = output_width(m);
    for (size_t r = 0; r < n; r++)
        if (y[r] != floorf(y[r]) || y[r] < 0 || y[r] >= (float)classes)
            return clseq_fail(CLSEQ_E_ARG, "%s row %zu: label %g is not a class index in 0..%d",
                              what, r, (double)y[r], classes - 1);
    return CLSEQ_OK;
}
