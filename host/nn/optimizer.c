/* Optimizers: settings checks, their state buffers, and one update step
 * over the trainable variables (the parameter vector). Keras 3's rules
 * (keras/src/optimizers/<name>.py, update_step), with base_optimizer.py's
 * gradient clipping (_clip_gradients) and weight decay
 * (_apply_weight_decay) before the update, as _backend_apply_gradients
 * does them. Everything stays on the device: clipping by norm reduces the
 * gradients in a kernel that also scales them, with no read-back. */
#include <math.h>
#include <stdlib.h>

#include "nn/model.h"
#include "nn/train.h"
#include "ops/ops.h"
#include "ops/ops_optim.h"

_Static_assert(CLSEQ_OPT_SGD == OPT_SGD && CLSEQ_OPT_ADAM == OPT_ADAM &&
                   CLSEQ_OPT_RMSPROP == OPT_RMSPROP && CLSEQ_OPT_ADAMW == OPT_ADAMW &&
                   CLSEQ_OPT_ADAGRAD == OPT_ADAGRAD && CLSEQ_OPT_ADADELTA == OPT_ADADELTA &&
                   CLSEQ_OPT_ADAMAX == OPT_ADAMAX && CLSEQ_OPT_NADAM == OPT_NADAM &&
                   CLSEQ_OPT_LION == OPT_LION,
               "cl/codes.h's optimizer codes must be clseq_optimizer_kind's values");

static const char *const kind_names[] = {"sgd",      "adam",   "rmsprop", "adamw", "adagrad",
                                         "adadelta", "adamax", "nadam",   "lion"};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == CLSEQ_OPT_LION + 1,
               "a name for every optimizer kind");

static int in_unit(float v, int closed_top)
{
    return v >= 0.0f && (closed_top ? v <= 1.0f : v < 1.0f);
}

/* The settings every kind takes (Keras's base optimizer arguments):
 * finite and >= 0, and at most one clipping option (Keras's rule). */
static clseq_status check_common(const clseq_optimizer *o, const char *name)
{
    const struct {
        const char *what;
        float value;
    } opts[] = {{"weight_decay", o->weight_decay},
                {"clipnorm", o->clipnorm},
                {"clipvalue", o->clipvalue},
                {"global_clipnorm", o->global_clipnorm}};
    int clips = 0;
    for (int i = 0; i < 4; i++) {
        if (!(opts[i].value >= 0.0f) || !isfinite(opts[i].value))
            return clseq_fail(CLSEQ_E_ARG, "%s: %s must be >= 0 (0 means off), got %g", name,
                              opts[i].what, (double)opts[i].value);
        clips += i > 0 && opts[i].value > 0.0f;
    }
    if (clips > 1)
        return clseq_fail(CLSEQ_E_ARG, "%s: only one of clipnorm, clipvalue and global_clipnorm "
                          "can be set, got %g, %g, %g", name, (double)o->clipnorm,
                          (double)o->clipvalue, (double)o->global_clipnorm);
    return CLSEQ_OK;
}

clseq_status clseq_optimizer_check(const clseq_optimizer *o)
{
    if ((unsigned)o->kind > CLSEQ_OPT_LION)
        return clseq_fail(CLSEQ_E_ARG, "optimizer: unknown kind %d", (int)o->kind);
    const char *name = kind_names[o->kind];
    if (!(o->learning_rate > 0.0f) || !isfinite(o->learning_rate))
        return clseq_fail(CLSEQ_E_ARG, "%s: learning_rate must be > 0, got %g", name,
                          (double)o->learning_rate);
    clseq_status s = check_common(o, name);
    if (s != CLSEQ_OK)
        return s;
    switch (o->kind) {
    case CLSEQ_OPT_SGD:
        if (!in_unit(o->momentum, 0))
            return clseq_fail(CLSEQ_E_ARG, "sgd: momentum must be in [0, 1), got %g",
                              (double)o->momentum);
        return CLSEQ_OK;
    case CLSEQ_OPT_LION:
        /* Keras refuses beta_1 outside (0, 1]: it degenerates to SignSGD */
        if (!(o->beta1 > 0.0f && o->beta1 <= 1.0f) || !in_unit(o->beta2, 1))
            return clseq_fail(CLSEQ_E_ARG, "lion: beta1 must be in (0, 1] and beta2 in [0, 1], "
                              "got %g, %g", (double)o->beta1, (double)o->beta2);
        return CLSEQ_OK;
    case CLSEQ_OPT_ADAM:
    case CLSEQ_OPT_ADAMW:
    case CLSEQ_OPT_ADAMAX:
    case CLSEQ_OPT_NADAM:
        if (!in_unit(o->beta1, 0) || !in_unit(o->beta2, 0))
            return clseq_fail(CLSEQ_E_ARG, "%s: beta1 and beta2 must be in [0, 1), got %g, %g",
                              name, (double)o->beta1, (double)o->beta2);
        break;
    case CLSEQ_OPT_RMSPROP:
    case CLSEQ_OPT_ADADELTA:
        if (!in_unit(o->rho, 0))
            return clseq_fail(CLSEQ_E_ARG, "%s: rho must be in [0, 1), got %g", name,
                              (double)o->rho);
        break;
    case CLSEQ_OPT_ADAGRAD:
        if (!(o->initial_accumulator_value >= 0.0f) || !isfinite(o->initial_accumulator_value))
            return clseq_fail(CLSEQ_E_ARG, "adagrad: initial_accumulator_value must be >= 0, "
                              "got %g", (double)o->initial_accumulator_value);
        break;
    }
    if (!(o->epsilon > 0.0f) || !isfinite(o->epsilon))
        return clseq_fail(CLSEQ_E_ARG, "%s: epsilon must be > 0, got %g", name,
                          (double)o->epsilon);
    return CLSEQ_OK;
}

/* clipnorm's table: (offset, count) in params of each trainable variable. */
static clseq_status make_segments(clseq_model *m)
{
    int *seg = malloc((size_t)(m->var_count > 0 ? m->var_count : 1) * 2 * sizeof *seg);
    if (!seg)
        return clseq_fail(CLSEQ_E_NOMEM, "clipnorm: out of host memory");
    int count = 0;
    for (int v = 0; v < m->var_count; v++)
        if (m->vars[v].trainable && m->vars[v].count > 0) {
            seg[2 * count] = (int)m->var_offset[v];
            seg[2 * count + 1] = (int)m->vars[v].count;
            count++;
        }
    size_t bytes = (size_t)(count > 0 ? count : 1) * 2 * sizeof *seg;
    clseq_status s = clseq_buffer_create_named(m->dev, bytes, "clipnorm variable table",
                                               &m->opt_segments);
    if (s == CLSEQ_OK && count > 0)
        s = clseq_buffer_write(m->dev, m->opt_segments, 0, bytes, seg);
    m->opt_segment_count = count;
    free(seg);
    return s;
}

clseq_status clseq_model_reset_optimizer(clseq_model *m)
{
    clseq_status s = CLSEQ_OK;
    const clseq_optimizer *o = &m->optimizer;
    size_t bytes = m->param_count * sizeof(float);
    clseq_buffer_release(&m->grads);
    clseq_buffer_release(&m->opt_m);
    clseq_buffer_release(&m->opt_v);
    clseq_buffer_release(&m->opt_segments);
    m->opt_segment_count = 0;
    m->iterations = 0;
    m->nadam_u_product = 1.0f; /* Nadam.build: backend.Variable(1.0) */
    m->nadam_u_step = 0;
    if (m->param_count == 0)
        return CLSEQ_OK;
    int wants_m = o->kind != CLSEQ_OPT_RMSPROP && o->kind != CLSEQ_OPT_ADAGRAD &&
                  (o->kind != CLSEQ_OPT_SGD || o->momentum > 0.0f);
    int wants_v = o->kind != CLSEQ_OPT_SGD && o->kind != CLSEQ_OPT_LION;
    /* Adagrad's accumulator starts at initial_accumulator_value (Adagrad.build) */
    float v0 = o->kind == CLSEQ_OPT_ADAGRAD ? o->initial_accumulator_value : 0.0f;
    if ((s = clseq_buffer_create_named(m->dev, bytes, "gradients", &m->grads)) != CLSEQ_OK)
        return s;
    /* optimizers without a given state still get a buffer to bind */
    if ((s = clseq_buffer_create_named(m->dev, wants_m ? bytes : sizeof(float),
                                       "optimizer slot m", &m->opt_m)) != CLSEQ_OK ||
        (s = clseq_buffer_create_named(m->dev, wants_v ? bytes : sizeof(float),
                                       "optimizer slot v", &m->opt_v)) != CLSEQ_OK)
        return s;
    if (o->clipnorm > 0.0f && (s = make_segments(m)) != CLSEQ_OK)
        return s;
    if ((s = clseq_buffer_fill(m->dev, m->opt_m, 0, wants_m ? m->param_count : 1, 0.0f)) !=
        CLSEQ_OK)
        return s;
    return clseq_buffer_fill(m->dev, m->opt_v, 0, wants_v ? m->param_count : 1, v0);
}

/* Nadam's momentum schedule u_t = beta1 (1 - 0.5 * 0.96^t), in float32 as
 * Keras forms it. */
static float nadam_u(float beta1, long long t)
{
    return beta1 * (1.0f - 0.5f * powf(0.96f, (float)t));
}

/* Nadam._backend_update_step: u_product *= u_t before the step t, as
 * (u_product * beta1) * (1 - 0.5 * 0.96^t). A model whose step count was
 * set without it (a loaded one) replays the product from step 1, so a
 * resumed fit uses the very floats an uninterrupted one would. */
static float nadam_u_product(clseq_model *m, long long t)
{
    float beta1 = m->optimizer.beta1;
    if (m->nadam_u_step != t - 1) {
        m->nadam_u_product = 1.0f;
        m->nadam_u_step = 0;
    }
    while (m->nadam_u_step < t) {
        float k = (float)++m->nadam_u_step;
        m->nadam_u_product = m->nadam_u_product * beta1 * (1.0f - 0.5f * powf(0.96f, k));
    }
    return m->nadam_u_product;
}

/* Clipping of m->grads, then weight decay of m->params (either may be a
 * no-op): base_optimizer._clip_gradients and _apply_weight_decay. */
static clseq_status clip_and_decay(clseq_model *m, int n)
{
    const clseq_optimizer *o = &m->optimizer;
    clseq_status s = CLSEQ_OK;
    if (o->clipnorm > 0.0f && m->opt_segment_count > 0)
        s = clseq_op_clip_by_norm(m->dev, m->grads, m->opt_segments, m->opt_segment_count, n,
                                  o->clipnorm, 0);
    else if (o->global_clipnorm > 0.0f)
        s = clseq_op_clip_by_norm(m->dev, m->grads, m->grads, 1, n, o->global_clipnorm, 1);
    else if (o->clipvalue > 0.0f)
        s = clseq_op_clip_values(m->dev, m->grads, n, o->clipvalue);
    if (s == CLSEQ_OK && o->weight_decay > 0.0f)
        s = clseq_op_decay_weights(m->dev, m->params, n, o->weight_decay, o->learning_rate);
    return s;
}

static clseq_status optimizer_update(clseq_model *m);

/* With a schedule, the step runs with its value at the step count before
 * the step (Keras's _get_current_learning_rate(iterations)); the rate the
 * model was compiled with stays in m->optimizer (and its files), as a
 * Keras optimizer keeps its schedule. */
clseq_status clseq_optimizer_step(clseq_model *m)
{
    float compiled_rate = m->optimizer.learning_rate;
    clseq_status s = clseq_schedule_step(m);
    if (s == CLSEQ_OK)
        s = optimizer_update(m);
    m->optimizer.learning_rate = compiled_rate;
    return s;
}

static clseq_status optimizer_update(clseq_model *m)
{
    const clseq_optimizer *o = &m->optimizer;
    int n = (int)m->param_count;
    m->iterations++;
    if (n == 0)
        return CLSEQ_OK; /* no trainable variables: nothing to update */
    clseq_status s = clip_and_decay(m, n);
    if (s != CLSEQ_OK)
        return s;
    /* Keras's local_step (iterations + 1 before its increment) */
    float t = (float)m->iterations;
    clseq_opt_scalars c = {o->learning_rate, o->beta1, o->beta2, o->rho, o->epsilon,
                           0, 0, 0, 0, 0, 0};
    switch (o->kind) {
    case CLSEQ_OPT_SGD:
        return clseq_op_sgd(m->dev, m->params, m->grads, m->opt_m, n, o->learning_rate,
                            o->momentum, o->nesterov);
    case CLSEQ_OPT_ADAM:
    case CLSEQ_OPT_ADAMW: {
        /* Keras folds both bias corrections into the step size */
        float alpha = o->learning_rate * sqrtf(1.0f - powf(o->beta2, t)) / (1.0f - powf(o->beta1, t));
        return clseq_op_adam(m->dev, m->params, m->grads, m->opt_m, m->opt_v, n, alpha, o->beta1,
                             o->beta2, o->epsilon);
    }
    case CLSEQ_OPT_RMSPROP:
        return clseq_op_rmsprop(m->dev, m->params, m->grads, m->opt_v, n, o->learning_rate,
                                o->rho, o->epsilon);
    case CLSEQ_OPT_ADAGRAD:
        return clseq_op_adagrad(m->dev, m->params, m->grads, m->opt_v, n, &c);
    case CLSEQ_OPT_ADADELTA:
        return clseq_op_adadelta(m->dev, m->params, m->grads, m->opt_m, m->opt_v, n, &c);
    case CLSEQ_OPT_ADAMAX:
        c.bc1 = 1.0f - powf(o->beta1, t);
        return clseq_op_adamax(m->dev, m->params, m->grads, m->opt_m, m->opt_v, n, &c);
    case CLSEQ_OPT_NADAM: {
        /* Nadam.update_step: u_product_t already holds u_t; the
         * next step's u_{t+1} enters the momentum term */
        float u_product_t = nadam_u_product(m, m->iterations);
        float u_t = nadam_u(o->beta1, m->iterations);
        c.u_t1 = nadam_u(o->beta1, m->iterations + 1);
        c.d1 = 1.0f - u_product_t * c.u_t1;
        c.c_g = 1.0f - u_t;
        c.d0 = 1.0f - u_product_t;
        c.bc2 = 1.0f - powf(o->beta2, t);
        return clseq_op_nadam(m->dev, m->params, m->grads, m->opt_m, m->opt_v, n, &c);
    }
    case CLSEQ_OPT_LION:
        return clseq_op_lion(m->dev, m->params, m->grads, m->opt_m, n, &c);
    }
    return clseq_fail(CLSEQ_E_ARG, "optimizer: unknown kind %d", (int)o->kind);
}
