/* The model as io/ sees it (model_io.h). */
#include <stdio.h>
#include <string.h>

#include "nn/model.h"
#include "nn/model_io.h"

int clseq_model_input_shape(const clseq_model *m, int *dims)
{
    for (int i = 0; i < m->input.rank; i++)
        dims[i] = m->input.dims[i];
    return m->input.rank;
}

/* A variable's regularizer travels in its layer's config as the floats
 * "<variable>_regularizer_l1" and "..._l2" (written only when set), for
 * every kind alike: the kinds never see them. */
static const char REG_SUFFIX[] = "_regularizer_l";

clseq_status clseq_layer_get_config(const clseq_model *m, int layer, clseq_layer_config *out)
{
    if (!m || !out || layer < 0 || layer >= m->layer_count)
        return clseq_fail(CLSEQ_E_ARG, "clseq_layer_get_config: bad model, layer or output");
    memset(out, 0, sizeof *out);
    const clseq_layer *l = &m->layers[layer];
    clseq_status s = l->kind->encode(l, out);
    for (int i = 0; s == CLSEQ_OK && i < l->variable_count; i++) {
        const clseq_variable *v = &m->vars[l->first_variable + i];
        if (v->l1 == 0.0f && v->l2 == 0.0f)
            continue;
        clseq_variable_info info;
        l->kind->variable(l, i, &info);
        char name[CLSEQ_CONFIG_NAME];
        snprintf(name, sizeof name, "%.16s%s1", info.name, REG_SUFFIX);
        s = clseq_config_put_float(out, name, v->l1);
        snprintf(name, sizeof name, "%.16s%s2", info.name, REG_SUFFIX);
        if (s == CLSEQ_OK)
            s = clseq_config_put_float(out, name, v->l2);
    }
    return s;
}

/* cfg without its regularizer values (into plain) and those values in
 * regs (a config of their own). */
static void split_regularizers(const clseq_layer_config *cfg, clseq_layer_config *plain,
                               clseq_layer_config *regs)
{
    memset(plain, 0, sizeof *plain);
    memset(regs, 0, sizeof *regs);
    for (int i = 0; i < cfg->count; i++) {
        const clseq_config_value *v = &cfg->values[i];
        const char *at = strstr(v->name, REG_SUFFIX);
        int is_reg = at && (at[sizeof REG_SUFFIX - 1] == '1' || at[sizeof REG_SUFFIX - 1] == '2') &&
                     !at[sizeof REG_SUFFIX];
        clseq_layer_config *into = is_reg ? regs : plain;
        into->values[into->count++] = *v;
    }
}

/* Sets the regularizers regs names on the model's last layer. */
static clseq_status apply_regularizers(clseq_model *m, const clseq_layer_config *regs)
{
    int layer = m->layer_count - 1;
    for (int i = 0; i < regs->count; i++) {
        const clseq_config_value *v = &regs->values[i];
        char variable[CLSEQ_CONFIG_NAME];
        snprintf(variable, sizeof variable, "%.*s", (int)(strstr(v->name, REG_SUFFIX) - v->name),
                 v->name);
        float l1 = 0, l2 = 0;
        char name[CLSEQ_CONFIG_NAME];
        snprintf(name, sizeof name, "%.16s%s1", variable, REG_SUFFIX);
        clseq_status s = clseq_config_get_float(regs, name, "regularizer", &l1);
        snprintf(name, sizeof name, "%.16s%s2", variable, REG_SUFFIX);
        if (s == CLSEQ_OK)
            s = clseq_config_get_float(regs, name, "regularizer", &l2);
        if (s == CLSEQ_OK)
            s = clseq_set_regularizer(m, layer, variable, l1, l2);
        if (s != CLSEQ_OK)
            return s;
    }
    return CLSEQ_OK;
}

clseq_status clseq_model_add_layer_config(clseq_model *m, const char *keras_class,
                                          const clseq_layer_config *cfg)
{
    if (!m || !keras_class || !cfg)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_add_layer_config: NULL argument");
    if (m->compiled)
        return clseq_fail(CLSEQ_E_STATE, "layer %d cannot be added after clseq_compile",
                          m->layer_count + 1);
    const clseq_layer_kind *kind = clseq_layer_kind_by_class(keras_class);
    if (!kind)
        return clseq_fail(CLSEQ_E_ARG, "layer %d: class '%s' is not supported (supported: %s)",
                          m->layer_count + 1, keras_class, clseq_layer_kinds_list());
    clseq_layer_config plain, regs;
    split_regularizers(cfg, &plain, &regs);
    /* a bad regularizer leaves the layer added: readers free the model on
     * any failure */
    clseq_status s = clseq_model_append(m, kind, &plain, 0);
    return s == CLSEQ_OK ? apply_regularizers(m, &regs) : s;
}

clseq_status clseq_model_layer_values(const clseq_model *m, const char *keras_class,
                                      const clseq_layer_config *cfg, size_t *values)
{
    if (!m || !keras_class || !cfg || !values)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_layer_values: NULL argument");
    const clseq_layer_kind *kind = clseq_layer_kind_by_class(keras_class);
    if (!kind)
        return clseq_fail(CLSEQ_E_ARG, "layer %d: class '%s' is not supported (supported: %s)",
                          m->layer_count + 1, keras_class, clseq_layer_kinds_list());
    /* the layer clseq_model_append would make, decoded and shaped only */
    clseq_layer l;
    memset(&l, 0, sizeof l);
    l.kind = kind;
    l.index = m->layer_count;
    l.in = m->layer_count ? m->layers[m->layer_count - 1].out : m->input;
    clseq_layer_config plain, regs;
    split_regularizers(cfg, &plain, &regs);
    clseq_status s = kind->decode(&l, &plain);
    if (s == CLSEQ_OK)
        s = kind->output_shape(&l);
    *values = 0;
    for (int i = 0; s == CLSEQ_OK && i < kind->variable_count(&l); i++) {
        clseq_variable_info info;
        kind->variable(&l, i, &info);
        *values += info.count;
    }
    return s;
}

int clseq_model_is_compiled(const clseq_model *m)
{
    return m->compiled;
}

uint64_t clseq_model_seed(const clseq_model *m)
{
    return m->seed;
}

size_t clseq_model_trainable_count(const clseq_model *m)
{
    return m->param_count;
}

/* The slots' buffers in the order of their names: Keras's names for the
 * optimizer variables (add_optimizer_variables in each optimizer's build),
 * but "m" and "v" for Adam and AdamW as clseq has always written them. */
static int slots(const clseq_model *m, cl_mem *bufs, const char **names)
{
    static const char *const slot_names[][2] = {
        [CLSEQ_OPT_SGD] = {"momentum", NULL},
        [CLSEQ_OPT_ADAM] = {"m", "v"},
        [CLSEQ_OPT_RMSPROP] = {NULL, "v"},
        [CLSEQ_OPT_ADAMW] = {"m", "v"},
        [CLSEQ_OPT_ADAGRAD] = {NULL, "accumulator"},
        [CLSEQ_OPT_ADADELTA] = {"accumulated_grad", "accumulated_delta_var"},
        [CLSEQ_OPT_ADAMAX] = {"momentum", "norm"},
        [CLSEQ_OPT_NADAM] = {"momentum", "velocity"},
        [CLSEQ_OPT_LION] = {"momentum", NULL},
    };
    const clseq_optimizer *o = &m->optimizer;
    if (!m->compiled || m->param_count == 0 || (unsigned)o->kind > CLSEQ_OPT_LION)
        return 0;
    if (o->kind == CLSEQ_OPT_SGD && o->momentum == 0.0f)
        return 0;
    int count = 0;
    const cl_mem held[2] = {m->opt_m, m->opt_v};
    for (int i = 0; i < 2; i++)
        if (slot_names[o->kind][i]) {
            bufs[count] = held[i];
            names[count++] = slot_names[o->kind][i];
        }
    return count;
}

int clseq_optimizer_slot_count(const clseq_model *m)
{
    cl_mem bufs[2];
    const char *names[2];
    return slots(m, bufs, names);
}

const char *clseq_optimizer_slot_name(const clseq_model *m, int slot)
{
    cl_mem bufs[2];
    const char *names[2];
    int count = slots(m, bufs, names);
    return slot >= 0 && slot < count ? names[slot] : NULL;
}

static clseq_status slot_buffer(const clseq_model *m, int slot, cl_mem *out)
{
    cl_mem bufs[2];
    const char *names[2];
    int count = slots(m, bufs, names);
    if (slot < 0 || slot >= count)
        return clseq_fail(CLSEQ_E_ARG, "optimizer slot %d out of range (%d slots)", slot, count);
    *out = bufs[slot];
    return CLSEQ_OK;
}

clseq_status clseq_optimizer_get_slot(const clseq_model *m, int slot, float *out)
{
    cl_mem buf = NULL;
    clseq_status s = slot_buffer(m, slot, &buf);
    return s == CLSEQ_OK ? clseq_buffer_read(m->dev, buf, 0, m->param_count * sizeof(float), out)
                         : s;
}

clseq_status clseq_optimizer_set_slot(clseq_model *m, int slot, const float *in)
{
    cl_mem buf = NULL;
    clseq_status s = slot_buffer(m, slot, &buf);
    if (s == CLSEQ_OK)
        s = clseq_check_finite(in, 1, (int)m->param_count, "optimizer slot");
    return s == CLSEQ_OK ? clseq_buffer_write(m->dev, buf, 0, m->param_count * sizeof(float), in)
                         : s;
}

long long clseq_optimizer_iterations(const clseq_model *m)
{
    return m->iterations;
}

void clseq_optimizer_set_iterations(clseq_model *m, long long iterations)
{
    m->iterations = iterations;
}

/* Keras's automatic layer name: the kind's snake-case name for its first
 * layer, then name_1, name_2, ... (keras.src.backend.common.global_state's
 * uniquify, as a fresh Sequential numbers them). Model files use it too. */
void clseq_model_layer_name(const clseq_model *m, int i, char *buf, size_t size)
{
    const clseq_layer *l = &m->layers[i];
    int before = 0;
    for (int j = 0; j < i; j++)
        before += m->layers[j].kind == l->kind;
    if (before)
        snprintf(buf, size, "%s_%d", l->kind->name, before);
    else
        snprintf(buf, size, "%s", l->kind->name);
}
