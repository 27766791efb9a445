/* Keras's 2-D window geometry (window.h). */
#include "nn/window.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "sys/error.h"

/* ---- config and spec ------------------------------------------------------- */

static clseq_status check_pair(const int *v, const char *name, const char *what)
{
    if (v[0] < 1 || v[1] < 1 || v[0] > CLSEQ_MAX_UNITS || v[1] > CLSEQ_MAX_UNITS)
        return clseq_fail(CLSEQ_E_ARG, "%s: %s must be in 1..%d, got %dx%d", what, name,
                          CLSEQ_MAX_UNITS, v[0], v[1]);
    return CLSEQ_OK;
}

clseq_status clseq_window_get_pair(const clseq_layer_config *cfg, const char *name,
                                   const char *what, int required, int *v)
{
    clseq_status s = CLSEQ_OK;
    if (required || clseq_config_find(cfg, name))
        s = clseq_config_get_ints(cfg, name, what, 2, v);
    return s == CLSEQ_OK ? check_pair(v, name, what) : s;
}

clseq_status clseq_window_get_padding(const clseq_layer_config *cfg, const char *what, int *same)
{
    const char *padding = "valid"; /* Keras's default */
    clseq_status s = CLSEQ_OK;
    if (clseq_config_find(cfg, "padding"))
        s = clseq_config_get_string(cfg, "padding", what, &padding);
    if (s != CLSEQ_OK)
        return s;
    /* Keras lower-cases padding before checking it */
    if (strcasecmp(padding, "valid") != 0 && strcasecmp(padding, "same") != 0)
        return clseq_fail(CLSEQ_E_ARG, "%s: padding '%s' is not 'valid' or 'same'", what,
                          padding);
    *same = strcasecmp(padding, "same") == 0;
    return CLSEQ_OK;
}

const char *clseq_window_padding_name(int same)
{
    return same ? "same" : "valid";
}

clseq_status clseq_window_spec_pair(const char *text, const char *what, int *out)
{
    int n = 0;
    clseq_status s = clseq_spec_dims(text, what, 2, 1, out, &n);
    if (s == CLSEQ_OK && n == 1)
        out[1] = out[0];
    return s;
}

int clseq_window_spec_option(const char *f, clseq_window_options *o, clseq_status *s)
{
    if ((strcmp(f, "same") == 0 || strcmp(f, "valid") == 0) && !o->padding) {
        o->padding = f[0] == 's' ? 2 : 1;
        *s = CLSEQ_OK;
        return 1;
    }
    if (f[0] == 's' && isdigit((unsigned char)f[1]) && !o->strides[0]) {
        *s = clseq_window_spec_pair(f + 1, "strides", o->strides);
        return 1;
    }
    return 0;
}

/* ---- shapes ---------------------------------------------------------------- */

clseq_status clseq_window_check_input(const clseq_layer *l, const char *what)
{
    if (l->in.rank == 3)
        return CLSEQ_OK;
    char in[64];
    clseq_shape_format(&l->in, in, sizeof in);
    return clseq_fail(CLSEQ_E_SHAPE, "%s: input %s has rank %d; it needs (height, width, "
                      "channels)", what, in, l->in.rank);
}

long long clseq_window_span(int k, int d)
{
    return (long long)(k - 1) * d + 1;
}

int clseq_window_count(int size, long long span, int stride, int same)
{
    return same ? (int)(((long long)size + stride - 1) / stride)
                : (int)((size - span) / stride + 1);
}

/* Half the total, rounded down: the odd cell goes after the image. */
int clseq_window_pad_before(int size, int out, long long span, int stride, int same)
{
    long long total = (long long)(out - 1) * stride + span - size;
    return same && total > 0 ? (int)(total / 2) : 0;
}
