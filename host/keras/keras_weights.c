/* Keras 3's model.weights.h5 into a clseq model (layout in
 * keras_weights.h), and what the legacy reader shares with it: the order
 * of a layer's variables and the checked read of one variable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras/keras_weights.h"
#include "nn/model_io.h"
#include "sys/error.h"

enum { MAX_VARIABLES = 16 };

int clseq_keras_variable_order(const clseq_model *m, int layer, int *order, int capacity)
{
    int n = clseq_variable_count(m, layer), count = 0;
    for (int pass = 1; pass >= 0; pass--)
        for (int i = 0; i < n; i++) {
            clseq_variable_info info;
            if (clseq_get_variable_info(m, layer, i, &info) == CLSEQ_OK &&
                info.trainable == pass && count < capacity)
                order[count++] = i;
        }
    return count;
}

/* "(3, 3, 2, 4)" as NumPy prints a shape; "()" for a scalar. */
static void shape_text(int rank, const size_t *dims, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%zu", i ? ", " : "", dims[i]);
    if (used < size)
        snprintf(buf + used, size - used, rank == 1 ? ",)" : ")");
}

/* CLSEQ_E_FORMAT unless the dataset is float32 of exactly the shape. */
static clseq_status check_dataset(clseq_h5 *h, const char *path, const clseq_variable_info *v,
                                  const char *label)
{
    clseq_h5_info d;
    clseq_status s = clseq_h5_dataset_info(h, path, &d);
    if (s != CLSEQ_OK)
        return clseq_fail_context(s, "%s variable '%s': ", label, v->name);
    int same = d.rank == v->rank;
    for (int i = 0; same && i < d.rank; i++)
        same = d.dims[i] == (size_t)v->shape[i];
    if (!same) {
        size_t want[4];
        for (int i = 0; i < v->rank && i < 4; i++)
            want[i] = (size_t)v->shape[i];
        char have_s[96], want_s[96];
        shape_text(d.rank, d.dims, have_s, sizeof have_s);
        shape_text(v->rank, want, want_s, sizeof want_s);
        return clseq_fail(CLSEQ_E_FORMAT, "%s: %s variable '%s': dataset '%s' has shape %s, the "
                          "model's is %s", clseq_h5_where(h), label, v->name, path, have_s,
                          want_s);
    }
    if (!d.is_float32)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: %s variable '%s': dataset '%s' holds %s values; "
                          "clseq reads float32 only", clseq_h5_where(h), label, v->name, path,
                          d.type);
    return CLSEQ_OK;
}

clseq_status clseq_keras_read_variable(clseq_h5 *h, const char *path, clseq_model *m, int layer,
                                       int index, const char *label)
{
    clseq_variable_info v;
    clseq_status s = clseq_get_variable_info(m, layer, index, &v);
    if (s == CLSEQ_OK)
        s = check_dataset(h, path, &v, label);
    if (s != CLSEQ_OK)
        return s;
    float *values = malloc(v.count ? v.count * sizeof *values : 1);
    if (!values)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: %s variable '%s': out of memory",
                          clseq_h5_where(h), label, v.name);
    s = clseq_h5_read_f32(h, path, values, v.count);
    if (s == CLSEQ_OK && (s = clseq_set_variable(m, layer, index, values)) != CLSEQ_OK) {
        /* a NaN in the file is the file's fault, not the caller's */
        if (s == CLSEQ_E_ARG || s == CLSEQ_E_NUMERIC)
            s = CLSEQ_E_FORMAT;
        s = clseq_fail_context(s, "%s: %s variable '%s' (dataset '%s'): ", clseq_h5_where(h),
                               label, v.name, path);
    }
    free(values);
    return s;
}

/* One layer's vars group: as many datasets as the layer has variables,
 * named 0, 1, ... in Keras's order. */
static clseq_status read_layer(clseq_h5 *h, clseq_model *m, int layer, const char *path)
{
    char group[CLSEQ_KERAS_PATH + 8], label[CLSEQ_KERAS_PATH + 48], ds[CLSEQ_KERAS_PATH + 32];
    snprintf(group, sizeof group, "%s/vars", path);
    snprintf(label, sizeof label, "layer %d (%s, '%s')", layer, clseq_layer_class(m, layer),
             path);
    int order[MAX_VARIABLES];
    int n = clseq_keras_variable_order(m, layer, order, MAX_VARIABLES);
    if (!clseq_h5_is_group(h, group)) {
        if (n == 0)
            return CLSEQ_OK;
        return clseq_fail(CLSEQ_E_FORMAT, "%s: no group '%s' for %s", clseq_h5_where(h), group,
                          label);
    }
    size_t stored = 0;
    clseq_status s = clseq_h5_group_size(h, group, &stored);
    if (s == CLSEQ_OK && stored != (size_t)n)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: group '%s' holds %zu variables; %s has %d",
                       clseq_h5_where(h), group, stored, label, n);
    for (int k = 0; k < n && s == CLSEQ_OK; k++) {
        snprintf(ds, sizeof ds, "%s/%d", group, k);
        s = clseq_keras_read_variable(h, ds, m, layer, order[k], label);
    }
    return s;
}

/* "0", "1", ...: the names of a Keras 3 optimizer's datasets. */
static clseq_status read_optimizer_group(clseq_h5 *h, clseq_model *m)
{
    size_t count = 0;
    clseq_status s = clseq_h5_group_size(h, "optimizer/vars", &count);
    if (s != CLSEQ_OK || count == 0)
        return s;
    /* the group's links are in the file, so count is bounded by its size */
    char **names = calloc(count, sizeof *names);
    char *text = calloc(count, 24);
    if (!names || !text)
        s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", clseq_h5_where(h));
    for (size_t i = 0; s == CLSEQ_OK && i < count; i++) {
        names[i] = text + 24 * i;
        snprintf(names[i], 24, "%zu", i);
    }
    if (s == CLSEQ_OK)
        s = clseq_keras_read_optimizer(h, m, "optimizer/vars", names, count);
    free(names);
    free(text);
    return s;
}

clseq_status clseq_keras_read_weights(clseq_h5 *h, clseq_model *m,
                                      char (*paths)[CLSEQ_KERAS_PATH])
{
    clseq_status s = CLSEQ_OK;
    int layers = clseq_layer_count(m);
    for (int i = 0; i < layers && s == CLSEQ_OK; i++)
        s = read_layer(h, m, i, paths[i]);
    size_t own = 0;
    if (s == CLSEQ_OK && clseq_h5_is_group(h, "vars") &&
        (s = clseq_h5_group_size(h, "vars", &own)) == CLSEQ_OK && own > 0)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: group 'vars' holds %zu variables of the model "
                       "itself; a Sequential has none", clseq_h5_where(h), own);
    if (s == CLSEQ_OK && clseq_model_is_compiled(m) && clseq_h5_is_group(h, "optimizer/vars"))
        s = read_optimizer_group(h, m);
    return s;
}
