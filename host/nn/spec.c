/* The layer-spec parser ("dense:64:relu,dense:4:softmax"): each token's
 * first field names a layer kind in the registry, which parses the rest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/layer.h"
#include "sys/error.h"

enum { MAX_SPEC_FIELDS = 8 };

/* Splits one token of length len at ':' into a kind name and its fields,
 * and lets the kind (found through the registry) turn the fields into a
 * config. */
clseq_status clseq_parse_layer_token(const char *token, size_t len, int index,
                                     const clseq_layer_kind **kind, clseq_layer_config *cfg)
{
    char buf[128];
    const char *fields[MAX_SPEC_FIELDS];
    int count = 0;
    if (len == 0 || len >= sizeof buf)
        return clseq_fail(CLSEQ_E_ARG, "layer %d: token '%.*s' is %s", index + 1,
                          (int)(len < 64 ? len : 64), token, len ? "too long" : "empty");
    memcpy(buf, token, len);
    buf[len] = '\0';
    char *p = strchr(buf, ':');
    if (p)
        *p++ = '\0';
    while (p && count < MAX_SPEC_FIELDS) {
        fields[count++] = p;
        if ((p = strchr(p, ':')) != NULL)
            *p++ = '\0';
    }
    *kind = clseq_layer_kind_by_name(buf);
    if (!*kind || !(*kind)->parse_spec || p)
        return clseq_fail(CLSEQ_E_ARG,
                          "layer %d: '%.*s' %s; layers: dense, activation, conv2d, maxpool2d, "
                          "avgpool2d, globalavgpool2d, globalmaxpool2d, flatten, reshape, "
                          "dropout, batchnorm (clseq train --help shows their fields)",
                          index + 1, (int)len, token,
                          p ? "has too many fields" : "names no layer kind");
    memset(cfg, 0, sizeof *cfg);
    clseq_status s = (*kind)->parse_spec(fields, count, cfg);
    return s == CLSEQ_OK ? s : clseq_fail_context(s, "layer %d: '%.*s': ", index + 1, (int)len, token);
}

clseq_status clseq_spec_dims(const char *text, const char *what, int max, int min, int *out,
                             int *count)
{
    *count = 0;
    const char *p = text;
    for (;;) {
        char *end = NULL;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < min || v > CLSEQ_MAX_UNITS || *count == max ||
            (*end && *end != 'x'))
            return clseq_fail(CLSEQ_E_ARG, "%s '%s' should be 1 to %d integers >= %d joined by 'x'",
                              what, text, max, min);
        out[(*count)++] = (int)v;
        if (!*end)
            return CLSEQ_OK;
        p = end + 1;
    }
}

clseq_status clseq_spec_number(const char *text, const char *what, float *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno)
        return clseq_fail(CLSEQ_E_ARG, "%s '%s' is not a number", what, text);
    *out = (float)v;
    return CLSEQ_OK;
}

/* The public spec form of a config: units (0 for layers without), the
 * activation and the class. */
static void config_to_spec(const clseq_layer_kind *kind, const clseq_layer_config *cfg,
                           clseq_layer_spec *out)
{
    snprintf(out->keras_class, sizeof out->keras_class, "%s", kind->keras_class);
    const clseq_config_value *units = clseq_config_find(cfg, "units");
    const clseq_config_value *act = clseq_config_find(cfg, "activation");
    out->units = kind == &clseq_dense_kind && units ? units->i : 0;
    out->activation = CLSEQ_LINEAR;
    if (act)
        clseq_activation_from_name(act->s, &out->activation);
}

clseq_status clseq_spec_for_each(const char *spec, clseq_spec_visit each, void *ctx,
                                 int *count)
{
    *count = 0;
    for (const char *p = spec;; (*count)++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const clseq_layer_kind *kind;
        clseq_layer_config cfg;
        clseq_status s = clseq_parse_layer_token(p, len, *count, &kind, &cfg);
        if (s == CLSEQ_OK)
            s = each(ctx, *count, kind, &cfg);
        if (s != CLSEQ_OK)
            return s;
        if (!comma) {
            (*count)++;
            return CLSEQ_OK;
        }
        p = comma + 1;
    }
}

/* clseq_parse_layers' visitor: describes each layer into out while it
 * has room. */
typedef struct spec_list {
    clseq_layer_spec *out;
    int capacity;
} spec_list;

static clseq_status describe_layer(void *ctx, int index, const clseq_layer_kind *kind,
                                   const clseq_layer_config *cfg)
{
    spec_list *list = ctx;
    if (index < list->capacity)
        config_to_spec(kind, cfg, &list->out[index]);
    return CLSEQ_OK;
}

clseq_status clseq_parse_layers(const char *spec, clseq_layer_spec *out, int capacity,
                                int *count)
{
    if (!spec || !count || capacity < 0 || (capacity > 0 && !out))
        return clseq_fail(CLSEQ_E_ARG, "clseq_parse_layers: NULL argument or capacity < 0");
    *count = 0;
    int n = 0;
    spec_list list = {out, capacity};
    clseq_status s = clseq_spec_for_each(spec, describe_layer, &list, &n);
    if (s != CLSEQ_OK)
        return s;
    if (n > capacity)
        return clseq_fail(CLSEQ_E_ARG, "layer spec has %d layers, more than the %d allowed", n,
                          capacity);
    *count = n;
    return CLSEQ_OK;
}
