/* The legacy .h5's weights into a clseq model (keras_weights.h). As Keras
 * loads them (legacy_h5_format.py, load_weights_from_hdf5_group), layers
 * are matched by order, not by name: the k-th saved layer that lists
 * weights goes to the k-th model layer that has variables, and its
 * weights, listed by weight_names, to the layer's variables in Keras's
 * order (trainable ones first). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras/keras_weights.h"
#include "nn/model_io.h"
#include "sys/error.h"

enum { MAX_VARIABLES = 16, PATH_BYTES = 1024 };

/* An attribute list, or, when too long for one HDF5 object header, the
 * chunks Keras splits it into: attr0, attr1, ... (load_attributes_from_
 * hdf5_group). Each chunk is stored in the file, so the loop is bounded by
 * its size. */
static clseq_status read_list(clseq_h5 *h, const char *path, const char *attr,
                              clseq_h5_strings *out)
{
    int found = 0;
    clseq_status s = clseq_h5_read_strings(h, path, attr, out, &found);
    for (int chunk = 0; s == CLSEQ_OK && !found; chunk++) {
        char name[96];
        snprintf(name, sizeof name, "%s%d", attr, chunk);
        clseq_h5_strings part;
        int more = 0;
        s = clseq_h5_read_strings(h, path, name, &part, &more);
        if (s != CLSEQ_OK || !more)
            break;
        char **grown = realloc(out->items, ((size_t)out->count + (size_t)part.count + 1) *
                                               sizeof *grown);
        if (!grown) {
            clseq_h5_strings_free(&part);
            s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", clseq_h5_where(h));
            break;
        }
        out->items = grown;
        memcpy(out->items + out->count, part.items, (size_t)part.count * sizeof *part.items);
        out->count += part.count;
        free(part.items);
    }
    if (s != CLSEQ_OK)
        clseq_h5_strings_free(out);
    return s;
}

static int next_layer_with_variables(const clseq_model *m, int from)
{
    while (from < clseq_layer_count(m) && clseq_variable_count(m, from) == 0)
        from++;
    return from;
}

static clseq_status read_layer(clseq_h5 *h, clseq_model *m, int layer, const char *group,
                               const clseq_h5_strings *weights)
{
    char label[PATH_BYTES + 48], path[2 * PATH_BYTES];
    snprintf(label, sizeof label, "layer %d (%s, '%s')", layer, clseq_layer_class(m, layer),
             group);
    int order[MAX_VARIABLES];
    int n = clseq_keras_variable_order(m, layer, order, MAX_VARIABLES);
    if (weights->count != n)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: '%s' lists %d weights; %s has %d variables",
                          clseq_h5_where(h), group, weights->count, label, n);
    clseq_status s = CLSEQ_OK;
    for (int k = 0; k < n && s == CLSEQ_OK; k++) {
        snprintf(path, sizeof path, "%s/%s", group, weights->items[k]);
        s = clseq_keras_read_variable(h, path, m, layer, order[k], label);
    }
    return s;
}

static clseq_status read_layers(clseq_h5 *h, clseq_model *m, const char *root,
                                const clseq_h5_strings *names)
{
    clseq_status s = CLSEQ_OK;
    int layer = next_layer_with_variables(m, 0), saved = 0;
    for (int i = 0; i < names->count && s == CLSEQ_OK; i++) {
        char group[PATH_BYTES];
        snprintf(group, sizeof group, "%s%s%s", root, *root ? "/" : "", names->items[i]);
        clseq_h5_strings weights;
        if (!clseq_h5_is_group(h, group))
            return clseq_fail(CLSEQ_E_FORMAT, "%s: layer_names lists '%s', but there is no "
                              "group '%s'", clseq_h5_where(h), names->items[i], group);
        if ((s = read_list(h, group, "weight_names", &weights)) != CLSEQ_OK)
            break;
        if (weights.count > 0) {
            saved++;
            if (layer < clseq_layer_count(m))
                s = read_layer(h, m, layer, group, &weights);
            layer = next_layer_with_variables(m, layer + 1);
        }
        clseq_h5_strings_free(&weights);
    }
    int expected = 0;
    for (int l = 0; l < clseq_layer_count(m); l++)
        expected += clseq_variable_count(m, l) > 0;
    if (s == CLSEQ_OK && saved != expected)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: the file holds weights for %d layers; the model has "
                       "%d layers with variables", clseq_h5_where(h), saved, expected);
    return s;
}

/* The optimizer's state when the file lists exactly the variables Keras 3
 * would build for this model; files of older Keras (no learning-rate
 * variable, slots grouped by kind) start afresh, as Keras 3 starts them. */
static clseq_status read_optimizer(clseq_h5 *h, clseq_model *m)
{
    if (!clseq_model_is_compiled(m) || !clseq_h5_is_group(h, "optimizer_weights"))
        return CLSEQ_OK;
    clseq_h5_strings names;
    clseq_status s = read_list(h, "optimizer_weights", "weight_names", &names);
    if (s == CLSEQ_OK && (size_t)names.count == clseq_keras_optimizer_size(m))
        s = clseq_keras_read_optimizer(h, m, "optimizer_weights", names.items,
                                       (size_t)names.count);
    clseq_h5_strings_free(&names);
    return s;
}

clseq_status clseq_keras_read_legacy_weights(clseq_h5 *h, clseq_model *m)
{
    /* a whole-model file keeps them in model_weights; save_weights's at the root */
    const char *root = clseq_h5_is_group(h, "model_weights") ? "model_weights" : "";
    clseq_h5_strings names;
    clseq_status s = read_list(h, root, "layer_names", &names);
    if (s == CLSEQ_OK)
        s = read_layers(h, m, root, &names);
    clseq_h5_strings_free(&names);
    return s == CLSEQ_OK ? read_optimizer(h, m) : s;
}
