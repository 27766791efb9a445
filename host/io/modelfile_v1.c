/* Model files, format version 1: the reader (clseq 0.1 wrote these; no
 * writer is kept). After the common 20 bytes (modelfile.c), with every
 * integer little-endian and every f32 a binary32 bit pattern:
 *
 *   offset  bytes  field
 *   20      4      u32 input_dim (1..16777216)
 *   24      4      u32 layer count L
 *   28      12*L   per layer: u32 kind (1 dense, 0 activation),
 *                  u32 units (output width), u32 activation code
 *   +0      4      u32 compiled (0 or 1)
 *   +4      4      u32 optimizer kind (0 sgd, 1 adam, 2 rmsprop)
 *   +8      4      f32 learning_rate
 *   +12     4      f32 momentum
 *   +16     4      u32 nesterov (0 or 1)
 *   +20     4      f32 beta1
 *   +24     4      f32 beta2
 *   +28     4      f32 rho
 *   +32     4      f32 epsilon
 *   +36     4      u32 loss code
 *   +40     4      u32 metric bits (CLSEQ_METRIC_*)
 *   +44     8      u64 parameter count P
 *   +52     4*P    f32 parameters: each dense layer's kernel (input x units,
 *                  row-major) then its bias, in layer order
 *
 * The compile block is written even for an uncompiled model and then
 * ignored. No seed and no optimizer state: a loaded v1 model has seed 0
 * and a fresh optimizer. The model is built through nn/model_io.h: a dense
 * record is class "Dense" with units and activation, an activation record
 * class "Activation". */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/modelfile.h"
#include "io/modelfile_internal.h"
#include "nn/model_io.h"
#include "sys/error.h"

enum { COMPILE_FIELDS = CLSEQ_MF1_COMPILE_BYTES / 4, MAX_DIM = CLSEQ_MAX_UNITS };

/* What a file says, pointing into its bytes. */
typedef struct decoded {
    int input_dim;
    int layer_count;
    const unsigned char *layers;  /* layer_count records */
    int compiled;
    clseq_optimizer opt;
    clseq_loss loss;
    unsigned metrics;
    size_t param_count;
    const unsigned char *params;  /* param_count f32 bit patterns */
    size_t params_pos;            /* their file offset */
} decoded;

/* One layer record against the running width and parameter total. */
static clseq_status check_layer(const char *name, uint32_t index, const uint32_t f[3],
                                uint64_t *width, uint64_t *params)
{
    if (f[0] > 1)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: layer %u: kind %u is neither dense (1) nor "
                          "activation (0)", name, index, f[0]);
    if (f[2] > 255 || !clseq_activation_name((clseq_activation)f[2]))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: layer %u: unknown activation code %u", name, index,
                          f[2]);
    if (f[0] == 0) {
        if (f[1] != *width)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: activation layer %u: width %u differs from its "
                              "input's %llu", name, index, f[1], (unsigned long long)*width);
        return CLSEQ_OK;
    }
    if (f[1] < 1 || f[1] > MAX_DIM)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: dense layer %u: units %u not in 1..%d", name, index,
                          f[1], MAX_DIM);
    /* width and units are at most 2^24 and the total at most 2^31 before
     * this, so the sum cannot overflow 64 bits */
    *params += *width * f[1] + f[1];
    if (*params > INT32_MAX)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: dense layer %u: more than %d parameters in all",
                          name, index, INT32_MAX);
    *width = f[1];
    return CLSEQ_OK;
}

static clseq_status parse_layers(clseq_reader *r, decoded *d)
{
    uint32_t dim, count, f[3];
    clseq_status s;
    if ((s = clseq_read_u32(r, "input_dim", &dim)) != CLSEQ_OK ||
        (s = clseq_read_u32(r, "layer count", &count)) != CLSEQ_OK)
        return s;
    if (dim < 1 || dim > MAX_DIM)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: input_dim %u not in 1..%d", r->name, dim, MAX_DIM);
    if (count > INT32_MAX || count > r->left / CLSEQ_MF1_LAYER_BYTES)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: layer count %u does not fit in the file", r->name,
                          count);
    d->input_dim = (int)dim;
    d->layer_count = (int)count;
    d->layers = r->p;
    uint64_t width = dim, params = 0;
    for (uint32_t i = 0; i < count && s == CLSEQ_OK; i++) {
        for (int k = 0; k < 3 && s == CLSEQ_OK; k++)
            s = clseq_read_u32(r, "layer record", &f[k]);
        if (s == CLSEQ_OK)
            s = check_layer(r->name, i + 1, f, &width, &params);
    }
    d->param_count = (size_t)params;
    return s;
}

static clseq_status check_compile_fields(const char *name, const uint32_t f[COMPILE_FIELDS])
{
    static const int float_fields[] = {2, 3, 5, 6, 7, 8};
    static const char *const float_names[] = {"learning_rate", "momentum", "beta1",
                                              "beta2", "rho", "epsilon"};
    if (f[1] > CLSEQ_OPT_RMSPROP)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: unknown optimizer code %u", name, f[1]);
    if (f[4] > 1)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: nesterov flag %u is neither 0 nor 1", name, f[4]);
    for (int i = 0; i < 6; i++)
        if (!isfinite(clseq_f32_from_bits(f[float_fields[i]])))
            return clseq_fail(CLSEQ_E_FORMAT, "%s: optimizer %s is %g", name, float_names[i],
                              (double)clseq_f32_from_bits(f[float_fields[i]]));
    if (f[9] > 255 || !clseq_loss_name((clseq_loss)f[9]))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: unknown loss code %u", name, f[9]);
    if (f[10] & ~(uint32_t)(CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: unknown metric bits 0x%x", name, f[10]);
    return CLSEQ_OK;
}

static clseq_status parse_compile(clseq_reader *r, decoded *d)
{
    uint32_t f[COMPILE_FIELDS];
    clseq_status s = CLSEQ_OK;
    for (int i = 0; i < COMPILE_FIELDS && s == CLSEQ_OK; i++)
        s = clseq_read_u32(r, "compile settings", &f[i]);
    if (s != CLSEQ_OK)
        return s;
    if (f[0] > 1)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: compiled flag %u is neither 0 nor 1", r->name, f[0]);
    d->compiled = (int)f[0];
    if (!d->compiled)
        return CLSEQ_OK;
    if (d->layer_count == 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: marked compiled but has no layers", r->name);
    if ((s = check_compile_fields(r->name, f)) != CLSEQ_OK)
        return s;
    float v[COMPILE_FIELDS];
    for (int i = 0; i < COMPILE_FIELDS; i++)
        v[i] = clseq_f32_from_bits(f[i]);
    d->opt = (clseq_optimizer){.kind = (clseq_optimizer_kind)f[1], .learning_rate = v[2],
                               .momentum = v[3], .nesterov = (int)f[4], .beta1 = v[5],
                               .beta2 = v[6], .rho = v[7], .epsilon = v[8]};
    d->loss = (clseq_loss)f[9];
    d->metrics = f[10];
    return CLSEQ_OK;
}

static clseq_status parse_params(clseq_reader *r, decoded *d)
{
    uint64_t count;
    clseq_status s = clseq_read_u64(r, "parameter count", &count);
    if (s != CLSEQ_OK)
        return s;
    if (count != d->param_count)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: parameter count %llu does not match the layers, "
                          "which need %zu", r->name, (unsigned long long)count, d->param_count);
    if (r->left / 4 != d->param_count || r->left % 4 != 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: %zu bytes of parameters for %zu parameters",
                          r->name, r->left, d->param_count);
    d->params = r->p;
    d->params_pos = r->pos;
    for (size_t i = 0; i < d->param_count; i++) {
        float v = clseq_f32_from_bits(clseq_get_u32(d->params + 4 * i));
        if (!isfinite(v))
            return clseq_fail(CLSEQ_E_FORMAT, "%s: parameter %zu (byte %zu) is %g", r->name, i,
                              r->pos + 4 * i, (double)v);
    }
    return CLSEQ_OK;
}

/* Layer i's record as a Keras class and config. */
static clseq_status add_layer(clseq_model *m, const decoded *d, int i)
{
    const unsigned char *rec = d->layers + (size_t)i * CLSEQ_MF1_LAYER_BYTES;
    int dense = clseq_get_u32(rec) == 1;
    clseq_layer_config cfg;
    memset(&cfg, 0, sizeof cfg);
    clseq_status s = dense ? clseq_config_put_int(&cfg, "units", (int)clseq_get_u32(rec + 4))
                           : CLSEQ_OK;
    if (s == CLSEQ_OK)
        s = clseq_config_put_string(&cfg, "activation",
                                    clseq_activation_name((clseq_activation)clseq_get_u32(rec + 8)));
    return s == CLSEQ_OK
               ? clseq_model_add_layer_config(m, dense ? "Dense" : "Activation", &cfg)
               : s;
}

/* The flat parameters into the layers' variables, in order. */
static clseq_status set_params(clseq_model *m, const decoded *d)
{
    float *values = malloc((d->param_count ? d->param_count : 1) * sizeof *values);
    if (!values)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for %zu parameters", d->param_count);
    for (size_t i = 0; i < d->param_count; i++)
        values[i] = clseq_f32_from_bits(clseq_get_u32(d->params + 4 * i));
    clseq_status s = CLSEQ_OK;
    size_t at = 0;
    for (int l = 0; l < clseq_layer_count(m) && s == CLSEQ_OK; l++)
        for (int v = 0; v < clseq_variable_count(m, l) && s == CLSEQ_OK; v++) {
            clseq_variable_info info;
            s = clseq_get_variable_info(m, l, v, &info);
            if (s == CLSEQ_OK && info.count > d->param_count - at)
                s = clseq_fail(CLSEQ_E_FORMAT, "the layers need more than the file's %zu "
                               "parameters", d->param_count);
            if (s == CLSEQ_OK)
                s = clseq_set_variable(m, l, v, values + at);
            at += info.count;
        }
    if (s == CLSEQ_OK && at != d->param_count)
        s = clseq_fail(CLSEQ_E_FORMAT, "the layers have %zu parameters, the file %zu", at,
                       d->param_count);
    free(values);
    return s;
}

/* Builds the model the file describes on ctx; statuses that mean "the
 * file asks for something impossible" become CLSEQ_E_FORMAT. */
static clseq_status build_model(clseq_ctx *ctx, const decoded *d, const clseq_reader *r,
                                clseq_model **out)
{
    clseq_model *m = NULL;
    clseq_status s = clseq_model_create(ctx, d->input_dim, &m);
    for (int i = 0; i < d->layer_count && s == CLSEQ_OK; i++)
        s = add_layer(m, d, i);
    if (s == CLSEQ_OK)
        s = set_params(m, d);
    if (s == CLSEQ_OK && d->compiled)
        s = clseq_compile(m, d->opt, d->loss, d->metrics);
    if (s != CLSEQ_OK) {
        clseq_model_free(m);
        if (s == CLSEQ_E_ARG || s == CLSEQ_E_SHAPE || s == CLSEQ_E_STATE || s == CLSEQ_E_NUMERIC)
            s = CLSEQ_E_FORMAT;
        return clseq_fail_context(s, "%s: ", r->name);
    }
    *out = m;
    return CLSEQ_OK;
}

clseq_status clseq_mf1_decode(clseq_ctx *ctx, clseq_reader *r, clseq_model **out)
{
    decoded d;
    memset(&d, 0, sizeof d);
    clseq_status s = parse_layers(r, &d);
    if (s == CLSEQ_OK)
        s = parse_compile(r, &d);
    if (s == CLSEQ_OK)
        s = parse_params(r, &d);
    if (s == CLSEQ_OK && ctx)
        s = build_model(ctx, &d, r, out);
    return s;
}
