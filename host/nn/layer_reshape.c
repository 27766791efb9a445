/* Flatten and Reshape(target_shape): the same values under another shape,
 * as Keras (channels last, so Flatten needs no transpose). Samples are
 * stored flattened row-major whatever their shape, so neither moves
 * data: forward copies the input buffer into the layer's own output, and
 * backward leaves dL/d(in) = dL/d(out) where it is (d_in_in_d_out, as
 * Activation does). No variables. */
#include "nn/layer.h"
#include "sys/error.h"

enum { RANK = 0, DIMS = 1 }; /* Reshape's l->arg: the target's rank, then its dims as given */

static clseq_status pass_through_backward(const clseq_layer *l, clseq_pass *p)
{
    (void)l;
    p->d_in_in_d_out = 1;
    return CLSEQ_OK;
}

/* ---- Flatten ------------------------------------------------------------ */

/* "flatten": no fields. */
static clseq_status flatten_parse_spec(const char *const *fields, int count,
                                       clseq_layer_config *cfg)
{
    (void)fields, (void)cfg;
    return count ? clseq_fail(CLSEQ_E_ARG, "flatten takes no fields") : CLSEQ_OK;
}

static clseq_status flatten_output_shape(clseq_layer *l)
{
    l->out = clseq_shape_flat(clseq_shape_size(&l->in));
    return CLSEQ_OK;
}

/* ---- Reshape ------------------------------------------------------------ */

/* The target as given (a -1 stays -1), for messages. */
static clseq_shape target_of(const clseq_layer *l)
{
    clseq_shape t = {l->arg[RANK], {0}};
    for (int i = 0; i < t.rank; i++)
        t.dims[i] = l->arg[DIMS + i];
    return t;
}

/* Keras's rules for target_shape: positive dims, at most one -1. what
 * prefixes the message unless empty (the spec parser adds its own). */
static clseq_status check_target(const int *dims, int rank, const char *what)
{
    const char *sep = *what ? ": " : "";
    int unknown = 0;
    for (int i = 0; i < rank; i++) {
        if (dims[i] == -1 && unknown++)
            return clseq_fail(CLSEQ_E_ARG, "%s%starget_shape has more than one -1", what, sep);
        if (dims[i] != -1 && (dims[i] < 1 || dims[i] > CLSEQ_MAX_UNITS))
            return clseq_fail(CLSEQ_E_ARG, "%s%starget_shape dimension %d is %d, not in 1..%d "
                              "or -1", what, sep, i, dims[i], CLSEQ_MAX_UNITS);
    }
    return CLSEQ_OK;
}

static clseq_status reshape_decode(clseq_layer *l, const clseq_layer_config *cfg)
{
    static const char *const known[] = {"target_shape"};
    char what[48];
    clseq_layer_label(l, what, sizeof what);
    clseq_status s = clseq_config_only(cfg, known, 1, what);
    if (s != CLSEQ_OK)
        return s;
    /* a single int is a rank-1 target (clseq_config_get_ints takes it) */
    const clseq_config_value *v = clseq_config_find(cfg, "target_shape");
    int rank = v && v->type == CLSEQ_VALUE_INTS ? v->n : 1;
    if (rank > CLSEQ_MAX_RANK)
        return clseq_fail(CLSEQ_E_ARG, "%s: target_shape has %d dimensions, more than %d", what,
                          rank, CLSEQ_MAX_RANK);
    l->arg[RANK] = rank;
    s = clseq_config_get_ints(cfg, "target_shape", what, rank, &l->arg[DIMS]);
    return s == CLSEQ_OK ? check_target(&l->arg[DIMS], rank, what) : s;
}

static clseq_status reshape_encode(const clseq_layer *l, clseq_layer_config *cfg)
{
    return clseq_config_put_ints(cfg, "target_shape", l->arg[RANK], &l->arg[DIMS]);
}

/* "reshape:D1[xD2[xD3]]", one D may be -1. */
static clseq_status reshape_parse_spec(const char *const *fields, int count,
                                       clseq_layer_config *cfg)
{
    int dims[CLSEQ_MAX_RANK], rank = 0;
    if (count != 1)
        return clseq_fail(CLSEQ_E_ARG, "should read reshape:D1[xD2[xD3]] (one D may be -1)");
    clseq_status s = clseq_spec_dims(fields[0], "target shape", CLSEQ_MAX_RANK, -1, dims, &rank);
    if (s == CLSEQ_OK)
        s = check_target(dims, rank, "");
    return s == CLSEQ_OK ? clseq_config_put_ints(cfg, "target_shape", rank, dims) : s;
}

/* The target with its -1 worked out (Keras: the known dimensions must
 * divide the size); the sizes must agree. */
static clseq_status reshape_output_shape(clseq_layer *l)
{
    char what[48], in[64], target[64];
    clseq_layer_label(l, what, sizeof what);
    clseq_shape t = target_of(l);
    long long size = clseq_shape_size(&l->in), known = 1;
    int unknown = -1;
    for (int i = 0; i < t.rank; i++) {
        if (t.dims[i] == -1)
            unknown = i;
        else if ((known *= t.dims[i]) > size)
            known = size + 1; /* already too many; keeps the product in range */
    }
    int fits = unknown >= 0 ? size % known == 0 : known == size;
    if (!fits) {
        clseq_shape_format(&l->in, in, sizeof in);
        clseq_shape_format(&t, target, sizeof target);
        if (unknown >= 0)
            return clseq_fail(CLSEQ_E_SHAPE, "%s: input %s (%lld values) cannot be reshaped to "
                              "%s: its other dimensions do not divide the size", what, in, size,
                              target);
        double values = 1; /* exact in a double up to 2^53, beyond any size */
        for (int i = 0; i < t.rank; i++)
            values *= t.dims[i];
        return clseq_fail(CLSEQ_E_SHAPE, "%s: input %s (%lld values) cannot be reshaped to %s "
                          "(%.0f values)", what, in, size, target, values);
    }
    if (unknown >= 0)
        t.dims[unknown] = (int)(size / known);
    l->out = t;
    return clseq_shape_check(&l->out, what);
}

const clseq_layer_kind clseq_flatten_kind = {
    .keras_class = "Flatten",
    .name = "flatten",
    .decode = clseq_layer_decode_nothing,
    .encode = clseq_layer_encode_nothing,
    .parse_spec = flatten_parse_spec,
    .output_shape = flatten_output_shape,
    .variable_count = clseq_layer_no_variables,
    .variable = clseq_layer_no_variable,
    .init = clseq_layer_no_init,
    .forward = clseq_layer_copy_forward,
    .backward = pass_through_backward,
};

const clseq_layer_kind clseq_reshape_kind = {
    .keras_class = "Reshape",
    .name = "reshape",
    .decode = reshape_decode,
    .encode = reshape_encode,
    .parse_spec = reshape_parse_spec,
    .output_shape = reshape_output_shape,
    .variable_count = clseq_layer_no_variables,
    .variable = clseq_layer_no_variable,
    .init = clseq_layer_no_init,
    .forward = clseq_layer_copy_forward,
    .backward = pass_through_backward,
};
