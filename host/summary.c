/* clseq_model_summary: Keras's model.summary() table as text. */
#include <stdarg.h>
#include <stdio.h>

#include "model.h"

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
    static const char rule[] = "_________________________________________________________________";
    buf[0] = '\0';
    append(buf, size, &used, "Model: \"sequential\"\n%s\n", rule);
    append(buf, size, &used, "%-29s%-26s%s\n", " Layer (type)", "Output Shape", "Param #");
    append(buf, size, &used, "=================================================================\n");
    for (int i = 0; i < m->layer_count; i++) {
        const clseq_layer *l = &m->layers[i];
        char name[64], shape[32];
        size_t params = l->dense ? (size_t)l->input_dim * l->units + (size_t)l->units : 0;
        snprintf(name, sizeof name, " %s_%d (%s)", l->dense ? "dense" : "activation", i,
                 l->dense ? "Dense" : "Activation");
        snprintf(shape, sizeof shape, "(None, %d)", l->units);
        append(buf, size, &used, "%-29s%-26s%zu\n", name, shape, params);
        if (i + 1 < m->layer_count)
            append(buf, size, &used, "\n");
    }
    append(buf, size, &used, "=================================================================\n");
    append(buf, size, &used, "Total params: %zu\nTrainable params: %zu\nNon-trainable params: 0\n%s\n",
           m->param_count, m->param_count, rule);
    return CLSEQ_OK;
}
