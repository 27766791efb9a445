/* Activation(activation): out = act(in), elementwise (softmax over the
 * last axis). No variables. */
#include <stdio.h>

#include "nn/layer.h"
#include "ops/ops.h"
#include "sys/error.h"

static clseq_status activation_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    static const char *const known[] = {"activation"};
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    clseq_status s = clseq_config_only(cfg, known, 1, what);
    if (s == CLSEQ_OK && !clseq_config_find(cfg, "activation"))
        return clseq_fail(CLSEQ_E_ARG, "%s: no 'activation' in its config", what);
    return s == CLSEQ_OK ? clseq_config_get_activation(cfg, what, &l->act) : s;
}

static clseq_status activation_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    return clseq_config_put_string(cfg, "activation", clseq_activation_name(l->act));
}

/* "activation:NAME" */
static clseq_status activation_parse_spec(const char *const *fields, int count,
                                          clseq_layer_config *cfg)
{
    clseq_activation act;
    if (count != 1)
        return clseq_fail(CLSEQ_E_ARG, "should read activation:NAME");
    clseq_status s = clseq_activation_from_name(fields[0], &act);
    return s == CLSEQ_OK ? clseq_config_put_string(cfg, "activation", clseq_activation_name(act))
                         : s;
}

/* Rows of the last axis: softmax normalises each. */
static int axis_rows(const clseq_layer *l, int rows)
{
    return clseq_layer_positions(l, rows);
}

static clseq_status activation_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    (void)training;
    return clseq_layer_activate(p->dev, l->act, p->in, p->out, axis_rows(l, p->rows),
                                clseq_shape_last(&l->in));
}

/* Works in place: dL/d(in) = dL/d(out) act'(out) is left in d_out. */
static clseq_status activation_backward(const clseq_layer *l, clseq_pass *p)
{
    p->d_in_in_d_out = 1;
    if (p->d_out_is_dz)
        return CLSEQ_OK;
    return clseq_layer_activate_backward(p->dev, l->act, p->d_out, p->out, p->in,
                                         axis_rows(l, p->rows), clseq_shape_last(&l->in));
}

static int activation_fused_row(const clseq_layer *l, const size_t *offsets, int *row)
{
    (void)offsets;
    if (l->in.rank != 1 || !clseq_fused_activation(l->act))
        return 0;
    row[FL_IN] = row[FL_UNITS] = clseq_shape_last(&l->in);
    row[FL_ACT] = (int)l->act;
    row[FL_DENSE] = 0;
    row[FL_KERNEL] = row[FL_BIAS] = 0;
    return 1;
}

const clseq_layer_kind clseq_activation_kind = {
    .keras_class = "Activation",
    .name = "activation",
    .decode = activation_decode,
    .encode = activation_encode,
    .parse_spec = activation_parse_spec,
    .output_shape = clseq_layer_same_shape,
    .variable_count = clseq_layer_no_variables,
    .variable = clseq_layer_no_variable,
    .init = clseq_layer_no_init,
    .forward = activation_forward,
    .backward = activation_backward,
    .fused_row = activation_fused_row,
};
