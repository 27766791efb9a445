/* A clseq model's variables and optimizer state as Keras 3's
 * model.weights.h5 (layout in keras_weights.h): what keras.saving.
 * load_model reads back into the same model, optimizer included. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras/keras_weights.h"
#include "nn/model_io.h"
#include "sys/error.h"

enum { MAX_VARIABLES = 16 };

/* A file clseq_load would refuse is not worth writing (as clseq_save). */
static clseq_status check_finite(const float *x, size_t n, const char *layer, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return clseq_fail(CLSEQ_E_NUMERIC, "layer '%s' variable '%s' value %zu is %g; "
                              "refusing to save", layer, name, i, (double)x[i]);
    return CLSEQ_OK;
}

static clseq_status write_variable(const clseq_model *m, clseq_h5 *h, int layer, int index,
                                   const char *name, const char *path)
{
    clseq_variable_info v;
    clseq_status s = clseq_get_variable_info(m, layer, index, &v);
    if (s != CLSEQ_OK)
        return s;
    float *values = malloc(v.count ? v.count * sizeof *values : 1);
    if (!values)
        return clseq_fail(CLSEQ_E_NOMEM, "layer '%s': out of memory", name);
    size_t dims[4];
    for (int i = 0; i < v.rank && i < 4; i++)
        dims[i] = (size_t)v.shape[i];
    s = clseq_get_variable(m, layer, index, values);
    if (s == CLSEQ_OK)
        s = check_finite(values, v.count, name, v.name);
    if (s == CLSEQ_OK)
        s = clseq_h5_write_f32(h, path, v.rank, dims, values);
    free(values);
    return s;
}

/* layers/<name>/vars with the layer's name as the group's "name"
 * attribute, as H5IOStore.make writes it, even for a layer without
 * variables. */
static clseq_status write_layer(const clseq_model *m, clseq_h5 *h, int layer)
{
    char name[CLSEQ_KERAS_NAME], group[CLSEQ_KERAS_PATH + 16], path[CLSEQ_KERAS_PATH + 32];
    clseq_model_layer_name(m, layer, name, sizeof name);
    snprintf(group, sizeof group, "layers/%s/vars", name);
    clseq_status s = clseq_h5_make_groups(h, group);
    if (s == CLSEQ_OK)
        s = clseq_h5_write_string(h, group, "name", name);
    int order[MAX_VARIABLES];
    int n = clseq_keras_variable_order(m, layer, order, MAX_VARIABLES);
    for (int k = 0; k < n && s == CLSEQ_OK; k++) {
        snprintf(path, sizeof path, "%s/%d", group, k);
        s = write_variable(m, h, layer, order[k], name, path);
    }
    return s;
}

clseq_status clseq_keras_write_weights(const clseq_model *m, clseq_h5 *h)
{
    clseq_status s = clseq_h5_make_groups(h, "layers");
    for (int i = 0; i < clseq_layer_count(m) && s == CLSEQ_OK; i++)
        s = write_layer(m, h, i);
    if (s == CLSEQ_OK && clseq_model_is_compiled(m))
        s = clseq_keras_write_optimizer(m, h);
    /* the Sequential's own (empty) group, named as Keras names a first one */
    if (s == CLSEQ_OK)
        s = clseq_h5_make_groups(h, "vars");
    if (s == CLSEQ_OK)
        s = clseq_h5_write_string(h, "vars", "name", "sequential");
    return s;
}
