/* Named configuration values. */
#include "nn/layer_config.h"

#include <stdio.h>
#include <string.h>

#include "sys/error.h"

static clseq_status put(clseq_layer_config *c, const char *name, clseq_config_value **out)
{
    if (c->count >= CLSEQ_CONFIG_MAX_VALUES)
        return clseq_fail(CLSEQ_E_ARG, "layer config: more than %d values",
                          CLSEQ_CONFIG_MAX_VALUES);
    if (strlen(name) >= CLSEQ_CONFIG_NAME)
        return clseq_fail(CLSEQ_E_ARG, "layer config: name '%.40s' is too long", name);
    clseq_config_value *v = &c->values[c->count++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    *out = v;
    return CLSEQ_OK;
}

clseq_status clseq_config_put_int(clseq_layer_config *c, const char *name, int value)
{
    clseq_config_value *v;
    clseq_status s = put(c, name, &v);
    if (s == CLSEQ_OK) {
        v->type = CLSEQ_VALUE_INT;
        v->i = value;
    }
    return s;
}

clseq_status clseq_config_put_float(clseq_layer_config *c, const char *name, float value)
{
    clseq_config_value *v;
    clseq_status s = put(c, name, &v);
    if (s == CLSEQ_OK) {
        v->type = CLSEQ_VALUE_FLOAT;
        v->f = value;
    }
    return s;
}

clseq_status clseq_config_put_string(clseq_layer_config *c, const char *name, const char *value)
{
    if (strlen(value) >= CLSEQ_CONFIG_STRING)
        return clseq_fail(CLSEQ_E_ARG, "layer config: %s '%.40s' is too long", name, value);
    clseq_config_value *v;
    clseq_status s = put(c, name, &v);
    if (s == CLSEQ_OK) {
        v->type = CLSEQ_VALUE_STRING;
        snprintf(v->s, sizeof v->s, "%s", value);
    }
    return s;
}

clseq_status clseq_config_put_ints(clseq_layer_config *c, const char *name, int n,
                                   const int *values)
{
    if (n < 1 || n > CLSEQ_CONFIG_INTS)
        return clseq_fail(CLSEQ_E_ARG, "layer config: %s has %d values, not 1..%d", name, n,
                          CLSEQ_CONFIG_INTS);
    clseq_config_value *v;
    clseq_status s = put(c, name, &v);
    if (s == CLSEQ_OK) {
        v->type = CLSEQ_VALUE_INTS;
        v->n = n;
        memcpy(v->v, values, (size_t)n * sizeof *values);
    }
    return s;
}

const clseq_config_value *clseq_config_find(const clseq_layer_config *c, const char *name)
{
    for (int i = 0; i < c->count; i++)
        if (strcmp(c->values[i].name, name) == 0)
            return &c->values[i];
    return NULL;
}

static clseq_status find_typed(const clseq_layer_config *c, const char *name,
                               clseq_value_type type, const char *what,
                               const clseq_config_value **out)
{
    static const char *const type_names[] = {"", "an integer", "a number", "a string",
                                             "a list of integers"};
    *out = clseq_config_find(c, name);
    if (!*out)
        return clseq_fail(CLSEQ_E_ARG, "%s: no '%s' in its config", what, name);
    if ((*out)->type != type)
        return clseq_fail(CLSEQ_E_ARG, "%s: '%s' must be %s", what, name, type_names[type]);
    return CLSEQ_OK;
}

clseq_status clseq_config_get_int(const clseq_layer_config *c, const char *name, const char *what,
                                  int *out)
{
    const clseq_config_value *v;
    clseq_status s = find_typed(c, name, CLSEQ_VALUE_INT, what, &v);
    if (s == CLSEQ_OK)
        *out = v->i;
    return s;
}

clseq_status clseq_config_get_float(const clseq_layer_config *c, const char *name,
                                    const char *what, float *out)
{
    /* an integral number may have been written as an int (JSON's 0) */
    const clseq_config_value *v = clseq_config_find(c, name);
    if (v && v->type == CLSEQ_VALUE_INT) {
        *out = (float)v->i;
        return CLSEQ_OK;
    }
    clseq_status s = find_typed(c, name, CLSEQ_VALUE_FLOAT, what, &v);
    if (s == CLSEQ_OK)
        *out = v->f;
    return s;
}

clseq_status clseq_config_get_string(const clseq_layer_config *c, const char *name,
                                     const char *what, const char **out)
{
    const clseq_config_value *v;
    clseq_status s = find_typed(c, name, CLSEQ_VALUE_STRING, what, &v);
    if (s == CLSEQ_OK)
        *out = v->s;
    return s;
}

clseq_status clseq_config_get_ints(const clseq_layer_config *c, const char *name,
                                   const char *what, int n, int *out)
{
    const clseq_config_value *v = clseq_config_find(c, name);
    if (v && v->type == CLSEQ_VALUE_INT) {
        for (int i = 0; i < n; i++)
            out[i] = v->i;
        return CLSEQ_OK;
    }
    clseq_status s = find_typed(c, name, CLSEQ_VALUE_INTS, what, &v);
    if (s != CLSEQ_OK)
        return s;
    if (v->n != n)
        return clseq_fail(CLSEQ_E_ARG, "%s: '%s' must have %d values, got %d", what, name, n,
                          v->n);
    memcpy(out, v->v, (size_t)n * sizeof *out);
    return CLSEQ_OK;
}

clseq_status clseq_config_only(const clseq_layer_config *c, const char *const *names, int count,
                               const char *what)
{
    for (int i = 0; i < c->count; i++) {
        int known = 0;
        for (int k = 0; k < count && !known; k++)
            known = strcmp(c->values[i].name, names[k]) == 0;
        if (!known)
            return clseq_fail(CLSEQ_E_ARG, "%s: unknown config value '%s'", what,
                              c->values[i].name);
    }
    return CLSEQ_OK;
}
