/* Dense(units, activation, use_bias=True): out = act(in . kernel + bias)
 * on the last axis, so a shaped input (..., k) gives (..., units) as in
 * Keras. Variables, in Keras's order: kernel (k, units), Glorot-uniform,
 * and bias (units), zeros. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nn/layer.h"
#include "ops/ops.h"
#include "sys/error.h"

enum { UNITS = 0 }; /* l->arg */
enum { KERNEL = 0, BIAS = 1 };

static clseq_status dense_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    static const char *const known[] = {"units", "activation"};
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    clseq_status s = clseq_config_only(cfg, known, 2, what);
    if (s == CLSEQ_OK)
        s = clseq_config_get_int(cfg, "units", what, &l->arg[UNITS]);
    if (s == CLSEQ_OK)
        s = clseq_config_get_activation(cfg, what, &l->act);
    if (s == CLSEQ_OK && (l->arg[UNITS] <= 0 || l->arg[UNITS] > CLSEQ_MAX_UNITS))
        return clseq_fail(CLSEQ_E_ARG, "%s: units must be in 1..%d, got %d", what,
                          CLSEQ_MAX_UNITS, l->arg[UNITS]);
    return s;
}

static clseq_status dense_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    clseq_status s = clseq_config_put_int(cfg, "units", l->arg[UNITS]);
    return s == CLSEQ_OK ? clseq_config_put_string(cfg, "activation", clseq_activation_name(l->act))
                         : s;
}

/* "dense:UNITS[:ACTIVATION]" */
static clseq_status dense_parse_spec(const char *const *fields, int count, clseq_layer_config *cfg)
{
    if (count < 1 || count > 2 || !*fields[0])
        return clseq_fail(CLSEQ_E_ARG, "should read dense:UNITS[:ACTIVATION]");
    char *end = NULL;
    errno = 0;
    long units = strtol(fields[0], &end, 10);
    if (errno || *end || units <= 0 || units > CLSEQ_MAX_UNITS)
        return clseq_fail(CLSEQ_E_ARG, "units '%s' must be an integer in 1..%d", fields[0],
                          CLSEQ_MAX_UNITS);
    clseq_activation act = CLSEQ_LINEAR;
    if (count == 2 && clseq_activation_from_name(fields[1], &act) != CLSEQ_OK)
        return clseq_fail(CLSEQ_E_ARG, "unknown activation '%s'", fields[1]);
    clseq_status s = clseq_config_put_int(cfg, "units", (int)units);
    return s == CLSEQ_OK ? clseq_config_put_string(cfg, "activation", clseq_activation_name(act))
                         : s;
}

static clseq_status dense_output_shape(clseq_layer *l)
{
    l->out = l->in;
    l->out.dims[l->out.rank - 1] = l->arg[UNITS];
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    return clseq_shape_check(&l->out, what);
}

static int dense_variable_count(const clseq_layer *l)
{
    (void)l;
    return 2;
}

static void dense_variable(const clseq_layer *l, int index, clseq_variable_info *out)
{
    int kernel[2] = {clseq_shape_last(&l->in), l->arg[UNITS]};
    if (index == KERNEL)
        clseq_variable_describe(out, "kernel", 1, 2, kernel);
    else
        clseq_variable_describe(out, "bias", 1, 1, &kernel[1]);
}

/* Glorot uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)); the
 * bias stays zero. */
static void dense_init(const clseq_layer *l, clseq_rng *rng, float *const *vars)
{
    int fan_in = clseq_shape_last(&l->in), units = l->arg[UNITS];
    float limit = sqrtf(6.0f / (float)(fan_in + units));
    size_t count = (size_t)fan_in * (size_t)units;
    for (size_t i = 0; i < count; i++)
        vars[KERNEL][i] = clseq_rng_uniform(rng, -limit, limit);
    for (int i = 0; i < units; i++)
        vars[BIAS][i] = 0.0f;
}

/* The product runs over every position of a shaped input: rows times the
 * leading dimensions are the product's rows. */
static int product_rows(const clseq_layer *l, int rows)
{
    return clseq_layer_positions(l, rows);
}

static clseq_status dense_forward(const clseq_layer *l, clseq_pass *p, int training)
{
    (void)training;
    int M = product_rows(l, p->rows), K = clseq_shape_last(&l->in), N = l->arg[UNITS];
    clseq_status s = clseq_op_gemm(p->dev, 0, 0, M, N, K, (clseq_mat){p->in, 0, K},
                                   (clseq_mat){p->params, (int)p->offsets[KERNEL], N},
                                   (clseq_mat){clseq_layer_z_target(l, p), 0, N},
                                   (clseq_mat){p->params, (int)p->offsets[BIAS], 0},
                                   clseq_layer_epilogue_act(l, p));
    return s == CLSEQ_OK ? clseq_layer_finish_activation(l, p, M, N) : s;
}

/* dZ = dA act'(A); dW = in^T dZ; db = column sums of dZ; d_in = dZ W^T. */
static clseq_status dense_backward(const clseq_layer *l, clseq_pass *p)
{
    int M = product_rows(l, p->rows), K = clseq_shape_last(&l->in), N = l->arg[UNITS];
    clseq_status s = clseq_layer_backward_activation(l, p, M, N);
    if (s == CLSEQ_OK)
        s = clseq_op_gemm(p->dev, 1, 0, K, N, M, (clseq_mat){p->in, 0, K},
                          (clseq_mat){p->d_out, 0, N},
                          (clseq_mat){p->grads, (int)p->offsets[KERNEL], N},
                          (clseq_mat){NULL, 0, 0}, CLSEQ_LINEAR);
    if (s == CLSEQ_OK)
        s = clseq_op_sum_columns(p->dev, p->d_out, M, N, p->grads, (int)p->offsets[BIAS], 0);
    if (s == CLSEQ_OK && p->d_in)
        s = clseq_op_gemm(p->dev, 0, 1, M, K, N, (clseq_mat){p->d_out, 0, N},
                          (clseq_mat){p->params, (int)p->offsets[KERNEL], N},
                          (clseq_mat){p->d_in, 0, K}, (clseq_mat){NULL, 0, 0}, CLSEQ_LINEAR);
    return s;
}

/* The fused trainer runs Dense on rank-1 inputs. */
static int dense_fused_row(const clseq_layer *l, const size_t *offsets, int *row)
{
    if (l->in.rank != 1 || !clseq_fused_activation(l->act))
        return 0;
    row[FL_IN] = clseq_shape_last(&l->in);
    row[FL_UNITS] = l->arg[UNITS];
    row[FL_ACT] = (int)l->act;
    row[FL_DENSE] = 1;
    row[FL_KERNEL] = (int)offsets[KERNEL];
    row[FL_BIAS] = (int)offsets[BIAS];
    return 1;
}

const clseq_layer_kind clseq_dense_kind = {
    .keras_class = "Dense",
    .name = "dense",
    .applies_activation = 1,
    .decode = dense_decode,
    .encode = dense_encode,
    .parse_spec = dense_parse_spec,
    .output_shape = dense_output_shape,
    .variable_count = dense_variable_count,
    .variable = dense_variable,
    .init = dense_init,
    .forward = dense_forward,
    .backward = dense_backward,
    .fused_row = dense_fused_row,
};
