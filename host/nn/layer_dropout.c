/* Dropout(rate), 0 <= rate < 1, as Keras 3's Dropout.call: in a training
 * pass with rate > 0 each value is zeroed with probability rate and the
 * others divided by 1 - rate (inverted dropout; the jax and numpy
 * backends' random.dropout compute inputs / keep_prob, and so does
 * cl/dropout.cl, correctly rounded); otherwise the layer is the identity.
 *
 * Each training forward pass draws one 64-bit key from the model's
 * dropout stream (p->rng, seeded by clseq_model_set_seed); the mask is a
 * counter-based function of the key and the element index on the device,
 * so a seed repeats every mask and nothing is uploaded but the key. The
 * forward kernel records the key in the saved buffer, from which backward
 * rebuilds the same mask. No variables, no activation. */

#include "nn/layer.h"
#include "ops/ops_norm.h"
#include "sys/error.h"

enum { RATE = 0 }; /* l->farg */

static clseq_status dropout_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    static const char *const known[] = {"rate"};
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    float rate = 0.0f;
    clseq_status s = clseq_config_only(cfg, known, 1, what);
    if (s == CLSEQ_OK)
        s = clseq_config_get_float(cfg, "rate", what, &rate);
    if (s != CLSEQ_OK)
        return s;
    /* Keras accepts 1 (everything dropped, nothing to learn from); a
     * keep probability of 0 has no inverse to scale by */
    if (!(rate >= 0.0f && rate < 1.0f))
        return clseq_fail(CLSEQ_E_ARG, "%s: rate must be in [0, 1), got %g", what, (double)rate);
    l->farg[RATE] = rate;
    return CLSEQ_OK;
}

static clseq_status dropout_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    return clseq_config_put_float(cfg, "rate", l->farg[RATE]);
}

/* "dropout:RATE" (the range is decode's to check, with the layer's name) */
static clseq_status dropout_parse_spec(const char *const *fields, int count,
                                       clseq_layer_config *cfg)
{
    float rate;
    if (count != 1)
        return clseq_fail(CLSEQ_E_ARG, "should read dropout:RATE");
    clseq_status s = clseq_spec_number(fields[0], "rate", &rate);
    return s == CLSEQ_OK ? clseq_config_put_float(cfg, "rate", rate) : s;
}

static int values(const clseq_layer *l, int rows)
{
    return rows * clseq_shape_size(&l->in);
}

/* rate 0 is the identity in every pass: a copy, no key drawn. */
static clseq_status dropout_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    float rate = l->farg[RATE];
    if (rate == 0.0f)
        return clseq_layer_copy_forward(l, p, training);
    if (training && !p->rng) {
        char what[48];
        clseq_layer_label(l, what, sizeof what);
        return clseq_fail(CLSEQ_E_STATE, "%s: a training pass without a dropout stream", what);
    }
    uint64_t key = training ? clseq_rng_next(p->rng) : 0;
    return clseq_op_dropout_forward(p->dev, p->in, p->out, values(l, p->rows), rate, key,
                                    training, p->saved);
}

/* In place: the forward mask and scale again, or nothing after an
 * inference pass (the kernel reads which from the saved buffer). */
static clseq_status dropout_backward(const clseq_layer *l, clseq_pass *p)
{
    p->d_in_in_d_out = 1;
    if (l->farg[RATE] == 0.0f || !p->d_in)
        return CLSEQ_OK;
    return clseq_op_dropout_backward(p->dev, p->d_out, values(l, p->rows), l->farg[RATE],
                                     p->saved);
}

static size_t dropout_saved_floats(const clseq_layer *l, int rows)
{
    (void)rows;
    return l->farg[RATE] > 0.0f ? CLSEQ_DROPOUT_SAVED_FLOATS : 0;
}

const clseq_layer_kind clseq_dropout_kind = {
    .keras_class = "Dropout",
    .name = "dropout",
    .decode = dropout_decode,
    .encode = dropout_encode,
    .parse_spec = dropout_parse_spec,
    .output_shape = clseq_layer_same_shape,
    .variable_count = clseq_layer_no_variables,
    .variable = clseq_layer_no_variable,
    .init = clseq_layer_no_init,
    .forward = dropout_forward,
    .backward = dropout_backward,
    .saved_floats = dropout_saved_floats,
};
