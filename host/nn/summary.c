/* clseq_model_summary: Keras's model.summary() table as text. */
#include <stdarg.h>
#include <stdio.h>

#include "nn/model.h"
#include "nn/model_io.h"

/* Appends to buf, keeping it NUL-terminated and never overrunning. */
static void append(char *buf, size_t size, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
    if (*used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n < size - *used ? (size_t)n : size - *used - 1;
}

clseq_status clseq_model_summary(const clseq_model *m, char *buf, size_t size)
{
    if (!m || !buf || size == 0)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_summary: NULL model or buffer");
    size_t used = 0;
    static const char thick[] =
        "========================================================================================";
    static const char rule[] =
        "________________________________________________________________________________________";
    buf[0] = '\0';
    append(buf, size, &used, "Model: \"sequential\"\n%s\n", rule);
    append(buf, size, &used, "%-52s%-26s%s\n", " Layer (type)", "Output Shape", "Param #");
    append(buf, size, &used, "%s\n", thick);
    size_t trainable = 0, frozen = 0;
    for (int i = 0; i < m->layer_count; i++) {
        const clseq_layer *l = &m->layers[i];
        char name[96], label[64], shape[64];
        size_t params = 0;
        for (int v = 0; v < l->variable_count; v++) {
            const clseq_variable *var = &m->vars[l->first_variable + v];
            params += var->count;
            *(var->trainable ? &trainable : &frozen) += var->count;
        }
        clseq_model_layer_name(m, i, label, sizeof label);
        snprintf(name, sizeof name, " %s (%s)", label, l->kind->keras_class);
        clseq_shape_format_keras(&l->out, shape, sizeof shape);
        append(buf, size, &used, "%-52s%-26s%zu\n", name, shape, params);
        if (i + 1 < m->layer_count)
            append(buf, size, &used, "\n");
    }
    append(buf, size, &used, "%s\n", thick);
    append(buf, size, &used, "Total params: %zu\nTrainable params: %zu\nNon-trainable params: %zu\n%s\n",
           trainable + frozen, trainable, frozen, rule);
    return CLSEQ_OK;
}
