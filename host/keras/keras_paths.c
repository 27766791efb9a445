/* Where a Keras 3 weights file keeps each layer (keras_weights.h): Keras
 * addresses a Sequential's layers not by their names but by their class,
 * snake-cased and made unique in model order (saving_lib.py,
 * _save_container_state), so "layers/dense_1" is the second Dense whatever
 * it is called. */
#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keras/keras_weights.h"
#include "nn/model_io.h"
#include "sys/error.h"

/* Python's re.sub("(.)([A-Z][a-z]+)", r"\1_\2", s): matches are found
 * left to right and never overlap. */
static void split_words(const char *s, char *out, size_t size)
{
    size_t n = strlen(s), o = 0;
    for (size_t i = 0; i < n && o + 3 < size;) {
        if (i + 2 < n && isupper((unsigned char)s[i + 1]) && islower((unsigned char)s[i + 2])) {
            out[o++] = s[i];
            out[o++] = '_';
            out[o++] = s[i + 1];
            i += 2;
            while (i < n && islower((unsigned char)s[i]) && o + 1 < size)
                out[o++] = s[i++];
        } else
            out[o++] = s[i++];
    }
    out[o] = '\0';
}

void clseq_keras_snake_case(const char *name, char *buf, size_t size)
{
    if (!size)
        return;
    char word[CLSEQ_KERAS_NAME], split[2 * CLSEQ_KERAS_NAME];
    size_t w = 0;
    /* re.sub(r"\W+", "", name) */
    for (const char *p = name; *p && w + 1 < sizeof word; p++)
        if (isalnum((unsigned char)*p) || *p == '_')
            word[w++] = *p;
    word[w] = '\0';
    split_words(word, split, sizeof split);
    /* re.sub("([a-z])([A-Z])", r"\1_\2", s).lower() */
    size_t o = 0;
    for (size_t i = 0; split[i] && o + 1 < size; i++) {
        buf[o++] = (char)tolower((unsigned char)split[i]);
        if (islower((unsigned char)split[i]) && isupper((unsigned char)split[i + 1]) && o + 1 < size)
            buf[o++] = '_';
    }
    buf[o] = '\0';
}

/* The Keras layers of config.json, InputLayer left out as Sequential.layers
 * leaves it: each one's name and group. */
typedef struct keras_layer {
    char name[CLSEQ_KERAS_NAME];
    char base[CLSEQ_KERAS_NAME]; /* the snake-cased class */
    char path[CLSEQ_KERAS_PATH];
} keras_layer;

/* Keras's _get_unique_name: the first "dense", then "dense_1", ... */
static void unique_path(const keras_layer *done, int count, const char *base, char *out,
                        size_t size)
{
    int seen = 0;
    for (int i = 0; i < count; i++)
        seen += strcmp(done[i].base, base) == 0;
    if (seen)
        snprintf(out, size, "layers/%s_%d", base, seen);
    else
        snprintf(out, size, "layers/%s", base);
}

static int list_layers(const cJSON *root, keras_layer *out, int capacity)
{
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(root, "config");
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(config, "layers");
    const cJSON *l;
    int count = 0;
    cJSON_ArrayForEach(l, layers)
    {
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(l, "class_name");
        const cJSON *name =
            cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(l, "config"), "name");
        if (!cJSON_IsString(cls) || strcmp(cls->valuestring, "InputLayer") == 0)
            continue;
        if (count == capacity)
            return -1;
        keras_layer *k = &out[count];
        clseq_keras_snake_case(cls->valuestring, k->base, sizeof k->base);
        snprintf(k->name, sizeof k->name, "%s", cJSON_IsString(name) ? name->valuestring : "");
        unique_path(out, count, k->base, k->path, sizeof k->path);
        count++;
    }
    return count;
}

clseq_status clseq_keras_layer_paths(const clseq_keras_config *kc, const char *config_json,
                                     size_t config_len, const char *where,
                                     char (*paths)[CLSEQ_KERAS_PATH])
{
    int n = kc->layer_count;
    /* the config reader refused anything clseq cannot build, so a layer
     * more in the file than in the model is a layer clseq dropped */
    int capacity = n + 64;
    keras_layer *layers = calloc((size_t)capacity, sizeof *layers);
    cJSON *root = cJSON_ParseWithLength(config_json, config_len);
    int count = root && layers ? list_layers(root, layers, capacity) : -1;
    cJSON_Delete(root);
    if (!layers)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", where);
    for (int i = 0; i < n; i++) {
        int k = -1;
        if (count == n)
            k = i; /* one Keras layer per clseq layer, in order */
        for (int j = 0; k < 0 && j < count; j++)
            if (strcmp(layers[j].name, kc->layer_names[i]) == 0)
                k = j;
        if (k >= 0)
            snprintf(paths[i], CLSEQ_KERAS_PATH, "%s", layers[k].path);
        else {
            char name[CLSEQ_KERAS_NAME];
            clseq_model_layer_name(kc->model, i, name, sizeof name);
            snprintf(paths[i], CLSEQ_KERAS_PATH, "layers/%s", name);
        }
    }
    free(layers);
    return CLSEQ_OK;
}
