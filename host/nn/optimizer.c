/* Optimizers: settings checks, their state buffers, and one update step
 * over the trainable variables (the parameter vector). Keras's rules. */
#include <math.h>

#include "nn/model.h"
#include "nn/train.h"
#include "ops/ops.h"

_Static_assert(CLSEQ_OPT_SGD == OPT_SGD && CLSEQ_OPT_ADAM == OPT_ADAM &&
                   CLSEQ_OPT_RMSPROP == OPT_RMSPROP,
               "cl/codes.h's optimizer codes must be clseq_optimizer_kind's values");

clseq_status clseq_optimizer_check(const clseq_optimizer *o)
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
    if ((s = clseq_buffer_create_named(m->dev, bytes, "gradients", &m->grads)) != CLSEQ_OK)
        return s;
    /* optimizers without a given state still get a buffer to bind */
    if ((s = clseq_buffer_create_named(m->dev, wants_m ? bytes : sizeof(float),
                                       "optimizer slot m", &m->opt_m)) != CLSEQ_OK ||
        (s = clseq_buffer_create_named(m->dev, wants_v ? bytes : sizeof(float),
                                       "optimizer slot v", &m->opt_v)) != CLSEQ_OK)
        return s;
    if ((s = clseq_buffer_fill(m->dev, m->opt_m, 0, wants_m ? m->param_count : 1, 0.0f)) !=
        CLSEQ_OK)
        return s;
    return clseq_buffer_fill(m->dev, m->opt_v, 0, wants_v ? m->param_count : 1, 0.0f);
}

clseq_status clseq_optimizer_step(clseq_model *m)
{
    const clseq_optimizer *o = &m->optimizer;
    int n = (int)m->param_count;
    m->iterations++;
    if (n == 0)
        return CLSEQ_OK; /* no trainable variables: nothing to update */
    switch (o->kind) {
    case CLSEQ_OPT_SGD:
        return clseq_op_sgd(m->dev, m->params, m->grads, m->opt_m, n, o->learning_rate,
                            o->momentum, o->nesterov);
    case CLSEQ_OPT_ADAM: {
        /* Keras folds both bias corrections into the step size */
        float t = (float)m->iterations;
        float alpha = o->learning_rate * sqrtf(1.0f - powf(o->beta2, t)) / (1.0f - powf(o->beta1, t));
        return clseq_op_adam(m->dev, m->params, m->grads, m->opt_m, m->opt_v, n, alpha, o->beta1,
                             o->beta2, o->epsilon);
    }
    default:
        return clseq_op_rmsprop(m->dev, m->params, m->grads, m->opt_v, n, o->learning_rate,
                                o->rho, o->epsilon);
    }
}
