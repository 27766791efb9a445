/* The Sequential model: creation, random streams, appending layers through
 * the layer table, the variables' host and device copies, compile. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"
#include "ops/ops.h"

#define DEFAULT_SEED 0

/* Stream numbers of clseq_rng_seed_stream: stream 0 keeps initial weights
 * what clseq 0.1 drew from a seed. */
enum { STREAM_INIT = 0, STREAM_SHUFFLE = 1, STREAM_DROPOUT = 2 };

static void seed_streams(clseq_model *m, uint64_t seed)
{
    m->seed = seed;
    clseq_rng_seed_stream(&m->init_rng, seed, STREAM_INIT);
    clseq_rng_seed_stream(&m->shuffle_rng, seed, STREAM_SHUFFLE);
    clseq_rng_seed_stream(&m->dropout_rng, seed, STREAM_DROPOUT);
}

clseq_status clseq_model_create_shaped(clseq_ctx *ctx, int rank, const int *dims,
                                       clseq_model **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_create: out is NULL");
    *out = NULL;
    if (!ctx || !dims)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_create: %s is NULL", ctx ? "dims" : "ctx");
    if (rank < 1 || rank > CLSEQ_MAX_RANK)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_create: rank must be in 1..%d, got %d",
                          CLSEQ_MAX_RANK, rank);
    clseq_shape input = {rank, {0, 0, 0}};
    for (int i = 0; i < rank; i++)
        input.dims[i] = dims[i];
    /* the check's message names the bad dimension; a caller's shape is an
     * argument error */
    if (clseq_shape_check(&input, "clseq_model_create: input shape") != CLSEQ_OK)
        return CLSEQ_E_ARG;
    clseq_model *m = calloc(1, sizeof *m);
    if (!m)
        return clseq_fail(CLSEQ_E_NOMEM, "clseq_model_create: out of host memory");
    m->ctx = ctx;
    m->dev = clseq_ctx_main_device(ctx);
    m->input = input;
    m->input_dim = clseq_shape_size(&input);
    seed_streams(m, DEFAULT_SEED);
    m->metric_options = clseq_metric_defaults();
    *out = m;
    return CLSEQ_OK;
}

clseq_status clseq_model_create(clseq_ctx *ctx, int input_dim, clseq_model **out)
{
    if (input_dim <= 0 || input_dim > CLSEQ_MAX_UNITS) {
        if (out)
            *out = NULL;
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_create: input_dim must be in 1..%d, got %d",
                          CLSEQ_MAX_UNITS, input_dim);
    }
    return clseq_model_create_shaped(ctx, 1, &input_dim, out);
}

clseq_status clseq_model_check_idle(const clseq_model *m, const char *call)
{
    if (m && m->in_fit)
        return clseq_fail(CLSEQ_E_STATE, "%s: not allowed while clseq_fit runs on this model "
                          "(called from one of its callbacks)", call);
    return CLSEQ_OK;
}

void clseq_model_free(clseq_model *m)
{
    if (!m || clseq_model_check_idle(m, "clseq_model_free") != CLSEQ_OK)
        return;
    clseq_workspace_release(m);
    clseq_buffer_release(&m->params);
    clseq_buffer_release(&m->state);
    clseq_buffer_release(&m->grads);
    clseq_buffer_release(&m->opt_m);
    clseq_buffer_release(&m->opt_v);
    clseq_buffer_release(&m->opt_segments);
    free(m->host_params);
    free(m->host_state);
    free(m->vars);
    free(m->var_offset);
    free(m->layers);
    free(m);
}

clseq_status clseq_model_set_seed(clseq_model *m, uint64_t seed)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_set_seed: model is NULL");
    if (m->in_fit)
        return clseq_model_check_idle(m, "clseq_model_set_seed");
    seed_streams(m, seed);
    return CLSEQ_OK;
}

int clseq_model_output_size(const clseq_model *m)
{
    return m->layer_count ? clseq_shape_size(&m->layers[m->layer_count - 1].out) : m->input_dim;
}

const size_t *clseq_layer_offsets(const clseq_model *m, const clseq_layer *l)
{
    return m->var_offset + l->first_variable;
}

float *clseq_variable_host(const clseq_model *m, int var)
{
    return (m->vars[var].trainable ? m->host_params : m->host_state) + m->var_offset[var];
}

/* Room for one more layer and count more variables. */
static clseq_status grow(clseq_model *m, int count)
{
    if (m->layer_count == m->layer_capacity) {
        int capacity = m->layer_capacity ? m->layer_capacity * 2 : 4;
        clseq_layer *grown = realloc(m->layers, (size_t)capacity * sizeof *grown);
        if (!grown)
            return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for layer %d", m->layer_count + 1);
        m->layers = grown;
        m->layer_capacity = capacity;
    }
    if (m->var_count + count > m->var_capacity) {
        int capacity = m->var_capacity ? m->var_capacity * 2 : 8;
        while (capacity < m->var_count + count)
            capacity *= 2;
        clseq_variable *vars = realloc(m->vars, (size_t)capacity * sizeof *vars);
        if (vars)
            m->vars = vars;
        size_t *offsets = realloc(m->var_offset, (size_t)capacity * sizeof *offsets);
        if (offsets)
            m->var_offset = offsets;
        if (!vars || !offsets)
            return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for layer %d's variables",
                              m->layer_count + 1);
        m->var_capacity = capacity;
    }
    return CLSEQ_OK;
}

/* Grows a host vector by added zeroed floats. */
static clseq_status extend_vector(float **vector, size_t count, size_t added, const char *what)
{
    if (added == 0)
        return CLSEQ_OK;
    float *grown = realloc(*vector, (count + added) * sizeof *grown);
    if (!grown)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of host memory for %zu values", what, added);
    memset(grown + count, 0, added * sizeof *grown);
    *vector = grown;
    return CLSEQ_OK;
}

/* Registers l's variables after the model's, growing both vectors. */
static clseq_status add_variables(clseq_model *m, clseq_layer *l, const char *what)
{
    size_t params = 0, state = 0;
    int count = l->kind->variable_count(l);
    if (count > CLSEQ_MAX_LAYER_VARIABLES)
        return clseq_fail(CLSEQ_E_SHAPE, "%s: %d variables, more than the %d a layer may have",
                          what, count, CLSEQ_MAX_LAYER_VARIABLES);
    clseq_status s = grow(m, count);
    if (s != CLSEQ_OK)
        return s;
    for (int i = 0; i < count; i++) {
        clseq_variable_info info;
        l->kind->variable(l, i, &info);
        size_t *total = info.trainable ? &params : &state;
        size_t base = info.trainable ? m->param_count : m->state_count;
        /* the kernels index parameters with ints */
        if (info.count > (size_t)INT32_MAX - base - *total)
            return clseq_fail(CLSEQ_E_SHAPE, "%s: %s of %zu values makes the model too large",
                              what, info.name, info.count);
        m->vars[m->var_count + i] =
            (clseq_variable){l->index, i, info.count, info.trainable, 0.0f, 0.0f};
        m->var_offset[m->var_count + i] = base + *total;
        *total += info.count;
    }
    if ((s = extend_vector(&m->host_params, m->param_count, params, what)) != CLSEQ_OK ||
        (s = extend_vector(&m->host_state, m->state_count, state, what)) != CLSEQ_OK)
        return s;
    l->first_variable = m->var_count;
    l->variable_count = count;
    m->var_count += count;
    m->param_count += params;
    m->state_count += state;
    if (params + state) {
        /* the device copies have the wrong size now: rebuilt on next use */
        clseq_buffer_release(&m->params);
        clseq_buffer_release(&m->state);
        m->device_stale = 1;
    }
    return CLSEQ_OK;
}

clseq_status clseq_model_append(clseq_model *m, const clseq_layer_kind *kind,
                                const clseq_layer_config *cfg, int init)
{
    if (m->in_fit)
        return clseq_model_check_idle(m, "adding a layer");
    clseq_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    l.index = m->layer_count;
    l.in = m->layer_count ? m->layers[m->layer_count - 1].out : m->input;
    l.act = CLSEQ_LINEAR;
    char what[48];
    clseq_layer_label(&l, what, sizeof what);
    clseq_status s = kind->decode(&l, cfg);
    if (s == CLSEQ_OK)
        s = kind->output_shape(&l);
    if (s == CLSEQ_OK && m->host_stale)
        s = clseq_model_sync_host(m);
    if (s != CLSEQ_OK)
        return s;
    /* the workspace has one output buffer per layer: it no longer fits */
    clseq_workspace_release(m);
    if ((s = add_variables(m, &l, what)) != CLSEQ_OK)
        return s;
    m->layers[m->layer_count++] = l;
    if (init && l.variable_count) {
        float *vars[CLSEQ_MAX_LAYER_VARIABLES];
        for (int i = 0; i < l.variable_count; i++)
            vars[i] = clseq_variable_host(m, l.first_variable + i);
        kind->init(&l, &m->init_rng, vars);
    }
    return CLSEQ_OK;
}

int clseq_model_target_width(const clseq_model *m)
{
    return m->loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY ? 1 : clseq_model_output_size(m);
}

/* Creates (if needed) and fills one device vector from its host copy. */
static clseq_status upload_vector(clseq_model *m, cl_mem *buf, const float *host, size_t count,
                                  const char *what)
{
    clseq_status s;
    if (!*buf && (s = clseq_buffer_create_named(m->dev, count * sizeof(float), what, buf)) !=
                     CLSEQ_OK)
        return clseq_fail_context(s, "%s: ", what);
    return clseq_buffer_write(m->dev, *buf, 0, count * sizeof(float), host);
}

clseq_status clseq_model_sync_device(clseq_model *m)
{
    if (!m->device_stale && m->params && m->state)
        return CLSEQ_OK;
    clseq_status s = upload_vector(m, &m->params, m->host_params, m->param_count,
                                   "model parameters");
    if (s == CLSEQ_OK)
        s = upload_vector(m, &m->state, m->host_state, m->state_count, "model state");
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
        clseq_buffer_read(m->dev, m->params, 0, m->param_count * sizeof(float), m->host_params);
    if (s == CLSEQ_OK)
        s = clseq_buffer_read(m->dev, m->state, 0, m->state_count * sizeof(float), m->host_state);
    if (s == CLSEQ_OK)
        m->host_stale = 0;
    return s;
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
    /* Keras takes a categorical cross-entropy per position of the last
     * axis and averages over batch and positions (losses/loss.py,
     * reduce_values); clseq's loss rows are whole samples, so it refuses
     * what it would get wrong. Binary cross-entropy is a mean over all
     * outputs either way. */
    if (loss != CLSEQ_BINARY_CROSSENTROPY && last->out.rank > 1 &&
        clseq_shape_size(&last->out) != clseq_shape_last(&last->out)) {
        char shape[64];
        clseq_shape_format(&last->out, shape, sizeof shape);
        return clseq_fail(CLSEQ_E_ARG,
                          "clseq_compile: %s over an output of shape %s (one distribution per "
                          "position) is not supported; add a Flatten before the last Dense",
                          clseq_loss_name(loss), shape);
    }
    if (last->act != need)
        return clseq_fail(CLSEQ_E_ARG, "clseq_compile: %s needs a %s output, but layer %d is %s",
                          clseq_loss_name(loss), clseq_activation_name(need), m->layer_count,
                          clseq_activation_name(last->act));
    return CLSEQ_OK;
}

/* The metrics that compare each output with its target need targets as
 * wide as the outputs; sparse_top_k needs sparse ones (Keras picks the
 * top-k flavour by name and would misread the other targets). */
static clseq_status check_metrics_fit_targets(clseq_loss loss, unsigned metrics)
{
    const unsigned per_output = CLSEQ_METRIC_BINARY_ACCURACY | CLSEQ_METRIC_PRECISION |
                                CLSEQ_METRIC_RECALL | CLSEQ_METRIC_AUC | CLSEQ_METRIC_TOP_K;
    if (metrics & ~CLSEQ_METRIC_ALL)
        return clseq_fail(CLSEQ_E_ARG, "clseq_compile: unknown metric bits 0x%x",
                          metrics & ~CLSEQ_METRIC_ALL);
    int sparse = loss == CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY;
    unsigned wrong = sparse ? metrics & per_output : metrics & CLSEQ_METRIC_SPARSE_TOP_K;
    if (wrong) {
        unsigned bit = wrong & -wrong;
        return clseq_fail(CLSEQ_E_ARG, "clseq_compile: metric %s needs %s targets, but %s's are %s",
                          clseq_metric_name(bit), sparse ? "one column per output" : "sparse",
                          clseq_loss_name(loss),
                          sparse ? "sparse class indices" : "one column per output");
    }
    return CLSEQ_OK;
}

clseq_status clseq_set_metric_options(clseq_model *m, const clseq_metric_options *opt)
{
    if (!m || !opt)
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_metric_options: NULL model or options");
    if (m->in_fit)
        return clseq_model_check_idle(m, "clseq_set_metric_options");
    /* Keras checks thresholds of the confusion metrics to lie in [0, 1]
     * (metrics_utils.assert_thresholds_range) */
    if (!(opt->threshold >= 0.0f && opt->threshold <= 1.0f))
        return clseq_fail(CLSEQ_E_ARG,
                          "clseq_set_metric_options: threshold must be in [0, 1], got %g",
                          (double)opt->threshold);
    if (opt->k < 1)
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_metric_options: k must be >= 1, got %d",
                          opt->k);
    m->metric_options = *opt;
    return CLSEQ_OK;
}

clseq_status clseq_get_metric_options(const clseq_model *m, clseq_metric_options *out)
{
    if (!m || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_get_metric_options: NULL model or out");
    *out = m->metric_options;
    return CLSEQ_OK;
}

clseq_status clseq_compile(clseq_model *m, clseq_optimizer opt, clseq_loss loss, unsigned metrics)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_compile: model is NULL");
    if (m->in_fit)
        return clseq_model_check_idle(m, "clseq_compile");
    if (m->layer_count == 0)
        return clseq_fail(CLSEQ_E_STATE, "clseq_compile: the model has no layers");
    clseq_status s = clseq_optimizer_check(&opt);
    if (s == CLSEQ_OK)
        s = check_loss_fits_output(m, loss);
    if (s != CLSEQ_OK)
        return s;
    if ((s = check_metrics_fit_targets(loss, metrics)) != CLSEQ_OK)
        return s;
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

int clseq_model_epochs(const clseq_model *m)
{
    return m ? m->epochs : 0;
}

clseq_status clseq_model_set_epochs(clseq_model *m, int epochs)
{
    if (!m || epochs < 0)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_set_epochs: NULL model or epochs %d < 0",
                          epochs);
    m->epochs = epochs;
    return CLSEQ_OK;
}

clseq_status clseq_get_learning_rate(const clseq_model *m, float *out)
{
    if (!m || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_get_learning_rate: NULL model or out");
    if (!m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "clseq_get_learning_rate: compile the model first");
    if (m->scheduled) /* what the next step will use */
        return clseq_lr_schedule_value(&m->schedule, m->iterations, out);
    *out = m->optimizer.learning_rate;
    return CLSEQ_OK;
}

clseq_status clseq_set_learning_rate(clseq_model *m, float learning_rate)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_learning_rate: model is NULL");
    if (!m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "clseq_set_learning_rate: compile the model first");
    if (m->scheduled)
        return clseq_fail(CLSEQ_E_STATE, "clseq_set_learning_rate: the learning rate follows a "
                          "schedule (clseq_set_lr_schedule(m, NULL) first)");
    if (!(learning_rate > 0.0f) || !isfinite(learning_rate))
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_learning_rate: the learning rate must be > 0 "
                          "and finite, got %g", (double)learning_rate);
    /* every step reads it from here: the layer path's optimizer launch and
     * the fused epoch's kernel argument */
    m->optimizer.learning_rate = learning_rate;
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

/* 1 if every one of count floats is finite: an exponent of all ones is
 * Inf or NaN. Integer tests without a branch, so the compiler vectorises
 * the loop; a predict of 1000 MNIST rows spent 3% of its time in isfinite. */
static int all_finite(const float *x, size_t count)
{
    enum { LANES = 16 }; /* a fixed inner count: GCC's -O2 vectoriser wants one */
    uint32_t bad = 0, bits[LANES];
    size_t i = 0;
    for (; i + LANES <= count; i += LANES) {
        memcpy(bits, x + i, sizeof bits);
        for (int j = 0; j < LANES; j++)
            bad |= (uint32_t)((bits[j] & 0x7f800000u) == 0x7f800000u);
    }
    for (; i < count; i++) {
        memcpy(bits, x + i, sizeof bits[0]);
        bad |= (uint32_t)((bits[0] & 0x7f800000u) == 0x7f800000u);
    }
    return !bad;
}

clseq_status clseq_check_finite(const float *x, size_t n, int cols, const char *what)
{
    for (size_t r = 0; r < n; r++) {
        const float *row = x + r * (size_t)cols;
        if (all_finite(row, (size_t)cols))
            continue;
        for (int c = 0; c < cols; c++)
            if (!isfinite(row[c]))
                return clseq_fail(CLSEQ_E_NUMERIC, "%s row %zu column %d is %g", what, r, c,
                                  (double)row[c]);
    }
    return CLSEQ_OK;
}

clseq_status clseq_check_targets(const clseq_model *m, const float *y, size_t n, const char *what)
{
    int width = clseq_model_target_width(m);
    clseq_status s = clseq_check_finite(y, n, width, what);
    if (s == CLSEQ_OK && m->loss == CLSEQ_BINARY_CROSSENTROPY) {
        /* Keras does not check, and reports a negative loss for such targets */
        size_t count = n * (size_t)width;
        for (size_t i = 0; i < count; i++)
            if (!(y[i] >= 0.0f && y[i] <= 1.0f))
                return clseq_fail(CLSEQ_E_ARG, "%s row %zu: target %g is not a probability in "
                                  "[0, 1] (binary_crossentropy)", what, i / (size_t)width,
                                  (double)y[i]);
    }
    if (s != CLSEQ_OK || m->loss != CLSEQ_SPARSE_CATEGORICAL_CROSSENTROPY)
        return s;
    int classes = clseq_model_output_size(m);
    for (size_t r = 0; r < n; r++)
        if (y[r] != floorf(y[r]) || y[r] < 0 || y[r] >= (float)classes)
            return clseq_fail(CLSEQ_E_ARG, "%s row %zu: label %g is not a class index in 0..%d",
                              what, r, (double)y[r], classes - 1);
    return CLSEQ_OK;
}
