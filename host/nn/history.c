/* Training history: a fixed set of named series, each with room for every
 * planned epoch, filled as fit goes. */
#include "nn/history.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/error.h"

struct clseq_history {
    int series;
    int epochs;      /* recorded */
    int capacity;    /* planned */
    char names[CLSEQ_HISTORY_MAX_SERIES][48]; /* "val_sparse_top_k_categorical_accuracy" */
    float *values[CLSEQ_HISTORY_MAX_SERIES];
};

clseq_history *clseq_history_create(unsigned metrics, int with_validation, int epochs)
{
    clseq_history *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->capacity = epochs > 0 ? epochs : 1;
    const char *base[1 + CLSEQ_METRIC_COUNT] = {"loss"};
    int count = 1;
    for (int i = 0; i < CLSEQ_METRIC_COUNT; i++)
        if (metrics & (1u << i))
            base[count++] = clseq_metric_name(1u << i);
    for (int pass = 0; pass < (with_validation ? 2 : 1); pass++)
        for (int i = 0; i < count; i++)
            snprintf(h->names[h->series++], sizeof h->names[0], "%s%s", pass ? "val_" : "",
                     base[i]);
    for (int i = 0; i < h->series; i++) {
        h->values[i] = calloc((size_t)h->capacity, sizeof(float));
        if (!h->values[i]) {
            clseq_history_free(h);
            return NULL;
        }
    }
    return h;
}

void clseq_history_append(clseq_history *h, const float *values)
{
    if (h->epochs >= h->capacity)
        return;
    for (int i = 0; i < h->series; i++)
        h->values[i][h->epochs] = values[i];
    h->epochs++;
}

int clseq_history_epochs(const clseq_history *h)
{
    return h ? h->epochs : 0;
}

int clseq_history_series_count(const clseq_history *h)
{
    return h ? h->series : 0;
}

const char *clseq_history_series_name(const clseq_history *h, int i)
{
    return h && i >= 0 && i < h->series ? h->names[i] : NULL;
}

const float *clseq_history_values(const clseq_history *h, const char *name)
{
    if (!h || !name)
        return NULL;
    for (int i = 0; i < h->series; i++)
        if (strcmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

void clseq_history_free(clseq_history *h)
{
    if (!h)
        return;
    for (int i = 0; i < CLSEQ_HISTORY_MAX_SERIES; i++)
        free(h->values[i]);
    free(h);
}
