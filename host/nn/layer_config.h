/* A layer's configuration as named values: what model files store, what
 * Keras import reads from config.json and what the layer-spec parser
 * produces. No OpenCL here, so io/ can use it. */
#ifndef CLSEQ_LAYER_CONFIG_H
#define CLSEQ_LAYER_CONFIG_H

#include "clseq.h"

enum {
    CLSEQ_CONFIG_NAME = 32,
    CLSEQ_CONFIG_STRING = 32,
    CLSEQ_CONFIG_MAX_VALUES = 16,
    CLSEQ_CONFIG_INTS = 4       /* the longest int list (Keras's tuples: kernel_size, ...) */
};

typedef enum clseq_value_type {
    CLSEQ_VALUE_INT = 1,
    CLSEQ_VALUE_FLOAT = 2,
    CLSEQ_VALUE_STRING = 3,
    CLSEQ_VALUE_INTS = 4        /* 1..CLSEQ_CONFIG_INTS ints: a Keras tuple */
} clseq_value_type;

typedef struct clseq_config_value {
    char name[CLSEQ_CONFIG_NAME];
    clseq_value_type type;
    int i;
    float f;
    char s[CLSEQ_CONFIG_STRING];
    int n;                      /* CLSEQ_VALUE_INTS: how many of v */
    int v[CLSEQ_CONFIG_INTS];
} clseq_config_value;

typedef struct clseq_layer_config {
    int count;
    clseq_config_value values[CLSEQ_CONFIG_MAX_VALUES];
} clseq_layer_config;

/* Appends a value (CLSEQ_E_ARG when full or a name or string is too long). */
clseq_status clseq_config_put_int(clseq_layer_config *c, const char *name, int value);
clseq_status clseq_config_put_float(clseq_layer_config *c, const char *name, float value);
clseq_status clseq_config_put_string(clseq_layer_config *c, const char *name, const char *value);
clseq_status clseq_config_put_ints(clseq_layer_config *c, const char *name, int n,
                                   const int *values);
/* The value called name, or NULL. */
const clseq_config_value *clseq_config_find(const clseq_layer_config *c, const char *name);
/* Reads a value that must be there with that type; what names the layer
 * in the message (CLSEQ_E_ARG otherwise). */
clseq_status clseq_config_get_int(const clseq_layer_config *c, const char *name, const char *what,
                                  int *out);
clseq_status clseq_config_get_float(const clseq_layer_config *c, const char *name,
                                    const char *what, float *out);
clseq_status clseq_config_get_string(const clseq_layer_config *c, const char *name,
                                     const char *what, const char **out);
/* Reads an int list of exactly n ints; a single int is taken as n copies
 * of it (Keras accepts kernel_size=3 for (3, 3)). */
clseq_status clseq_config_get_ints(const clseq_layer_config *c, const char *name,
                                   const char *what, int n, int *out);
/* CLSEQ_E_ARG naming the first value that is not in names[0..count). */
clseq_status clseq_config_only(const clseq_layer_config *c, const char *const *names, int count,
                               const char *what);

#endif
