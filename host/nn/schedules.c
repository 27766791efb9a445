/* Keras's learning-rate schedules (keras/src/optimizers/schedules/
 * learning_rate_schedule.py: ExponentialDecay, PiecewiseConstantDecay,
 * CosineDecay), computed in float32 as Keras computes them for a float32
 * initial learning rate, and the model's schedule. */
#include <math.h>
#include <string.h>

#include "nn/model.h"

/* A schedule of kind with every field zero and no warm-up. */
static clseq_lr_schedule blank(clseq_schedule_kind kind)
{
    clseq_lr_schedule s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.warmup_target = NAN;
    return s;
}

clseq_lr_schedule clseq_exponential_decay(float initial_learning_rate, long long decay_steps,
                                          float decay_rate, int staircase)
{
    clseq_lr_schedule s = blank(CLSEQ_SCHEDULE_EXPONENTIAL);
    s.initial_learning_rate = initial_learning_rate;
    s.decay_steps = decay_steps;
    s.decay_rate = decay_rate;
    s.staircase = staircase;
    return s;
}

clseq_lr_schedule clseq_piecewise_constant_decay(int count, const long long *boundaries,
                                                 const float *values)
{
    clseq_lr_schedule s = blank(CLSEQ_SCHEDULE_PIECEWISE);
    s.count = count;
    for (int i = 0; boundaries && values && i >= 0 && i < count &&
                    i < CLSEQ_SCHEDULE_MAX_BOUNDARIES; i++) {
        s.boundaries[i] = boundaries[i];
        s.values[i] = values[i];
    }
    if (values && count >= 0 && count <= CLSEQ_SCHEDULE_MAX_BOUNDARIES)
        s.values[count] = values[count];
    return s;
}

clseq_lr_schedule clseq_cosine_decay(float initial_learning_rate, long long decay_steps,
                                     float alpha, float warmup_target, long long warmup_steps)
{
    clseq_lr_schedule s = blank(CLSEQ_SCHEDULE_COSINE);
    s.initial_learning_rate = initial_learning_rate;
    s.decay_steps = decay_steps;
    s.alpha = alpha;
    s.warmup_target = warmup_target;
    s.warmup_steps = warmup_steps;
    return s;
}

clseq_lr_schedule clseq_lr_function_schedule(clseq_lr_function function, void *user_data)
{
    clseq_lr_schedule s = blank(CLSEQ_SCHEDULE_FUNCTION);
    s.function = function;
    s.user_data = user_data;
    return s;
}

static int finite_rate(float v)
{
    return isfinite(v) && v >= 0.0f;
}

static clseq_status check_schedule(const clseq_lr_schedule *s)
{
    static const char what[] = "learning-rate schedule";
    switch (s->kind) {
    case CLSEQ_SCHEDULE_EXPONENTIAL:
        if (!finite_rate(s->initial_learning_rate) || s->decay_steps <= 0 ||
            !finite_rate(s->decay_rate))
            return clseq_fail(CLSEQ_E_ARG, "%s: exponential decay needs initial_learning_rate "
                              "and decay_rate finite and >= 0 and decay_steps > 0", what);
        return CLSEQ_OK;
    case CLSEQ_SCHEDULE_PIECEWISE:
        if (s->count < 1 || s->count > CLSEQ_SCHEDULE_MAX_BOUNDARIES)
            return clseq_fail(CLSEQ_E_ARG, "%s: piecewise decay needs 1 to %d boundaries, got %d",
                              what, CLSEQ_SCHEDULE_MAX_BOUNDARIES, s->count);
        for (int i = 0; i <= s->count; i++)
            if (!finite_rate(s->values[i]))
                return clseq_fail(CLSEQ_E_ARG, "%s: piecewise value %d (%g) is not a finite "
                                  "rate >= 0", what, i, (double)s->values[i]);
        for (int i = 1; i < s->count; i++)
            if (s->boundaries[i] <= s->boundaries[i - 1])
                return clseq_fail(CLSEQ_E_ARG, "%s: piecewise boundaries must increase (%lld "
                                  "after %lld)", what, s->boundaries[i], s->boundaries[i - 1]);
        return CLSEQ_OK;
    case CLSEQ_SCHEDULE_COSINE:
        if (!finite_rate(s->initial_learning_rate) || s->decay_steps <= 0 ||
            !(s->alpha >= 0.0f && s->alpha <= 1.0f) ||
            (!isnan(s->warmup_target) && (!finite_rate(s->warmup_target) || s->warmup_steps < 0)))
            return clseq_fail(CLSEQ_E_ARG, "%s: cosine decay needs initial_learning_rate >= 0, "
                              "decay_steps > 0, alpha in [0, 1] and, with a warm-up, a finite "
                              "warmup_target and warmup_steps >= 0", what);
        return CLSEQ_OK;
    case CLSEQ_SCHEDULE_FUNCTION:
        return s->function ? CLSEQ_OK
                           : clseq_fail(CLSEQ_E_ARG, "%s: the function is NULL", what);
    }
    return clseq_fail(CLSEQ_E_ARG, "%s: unknown kind %d", what, (int)s->kind);
}

/* math.pi as the float32 Keras makes of it */
#define PI 3.14159265358979323846f

/* CosineDecay._decay_function */
static float cosine(float step, float decay_steps, float from, float alpha)
{
    float fraction = step / decay_steps;
    float decayed = 0.5f * (1.0f + cosf(PI * fraction));
    return from * ((1.0f - alpha) * decayed + alpha);
}

static float schedule_value(const clseq_lr_schedule *s, long long step)
{
    float t = (float)step;
    switch (s->kind) {
    case CLSEQ_SCHEDULE_EXPONENTIAL: {
        float p = t / (float)s->decay_steps;
        return s->initial_learning_rate * powf(s->decay_rate, s->staircase ? floorf(p) : p);
    }
    case CLSEQ_SCHEDULE_PIECEWISE:
        for (int i = 0; i < s->count; i++)
            if (step <= s->boundaries[i])
                return s->values[i];
        return s->values[s->count];
    case CLSEQ_SCHEDULE_COSINE: {
        float decay_steps = (float)s->decay_steps;
        if (isnan(s->warmup_target))
            return cosine(fminf(t, decay_steps), decay_steps, s->initial_learning_rate, s->alpha);
        float warmup = (float)s->warmup_steps;
        t = fminf(t, decay_steps + warmup);
        if (t < warmup) /* CosineDecay._warmup_function */
            return (s->warmup_target - s->initial_learning_rate) * (t / warmup) +
                   s->initial_learning_rate;
        return cosine(t - warmup, decay_steps, s->warmup_target, s->alpha);
    }
    case CLSEQ_SCHEDULE_FUNCTION:
        return s->function(step, s->user_data);
    }
    return NAN;
}

clseq_status clseq_lr_schedule_value(const clseq_lr_schedule *schedule, long long step,
                                     float *out)
{
    if (!schedule || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_lr_schedule_value: NULL argument");
    clseq_status s = check_schedule(schedule);
    if (s != CLSEQ_OK)
        return s;
    *out = schedule_value(schedule, step);
    return CLSEQ_OK;
}

clseq_status clseq_set_lr_schedule(clseq_model *m, const clseq_lr_schedule *schedule)
{
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_set_lr_schedule: model is NULL");
    if (!schedule) {
        m->scheduled = 0;
        return CLSEQ_OK;
    }
    clseq_status s = check_schedule(schedule);
    if (s != CLSEQ_OK)
        return s;
    m->schedule = *schedule;
    m->scheduled = 1;
    return CLSEQ_OK;
}

int clseq_get_lr_schedule(const clseq_model *m, clseq_lr_schedule *out)
{
    if (!m || !out || !m->scheduled)
        return 0;
    *out = m->schedule;
    return 1;
}

clseq_status clseq_schedule_step(clseq_model *m)
{
    if (!m->scheduled)
        return CLSEQ_OK;
    float lr = schedule_value(&m->schedule, m->iterations);
    if (!isfinite(lr) || lr < 0.0f)
        return clseq_fail(CLSEQ_E_NUMERIC, "learning-rate schedule: step %lld gives %g, not a "
                          "finite rate >= 0", m->iterations, (double)lr);
    m->optimizer.learning_rate = lr;
    return CLSEQ_OK;
}
