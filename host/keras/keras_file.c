/* .keras and legacy .h5 files (keras.h): the containers opened or built,
 * the JSON handed to keras_config.c, the weights to keras_weights.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keras/keras.h"
#include "keras/keras_config.h"
#include "keras/keras_h5.h"
#include "keras/keras_weights.h"
#include "keras/keras_zip.h"
#include "sys/error.h"

/* The Keras release whose .keras layout clseq writes, and was checked
 * against; metadata.json names it as Keras names its own version. */
#define KERAS_FORMAT_VERSION "3.15.1"

enum { WHERE_BYTES = 512 };

/* Builds the model from its JSON and fills in the weights; frees the
 * model on failure. */
static clseq_status finish_keras(clseq_keras_config *kc, clseq_h5 *h, const char *cfg,
                                 size_t cfg_len, const char *where, clseq_model **out)
{
    char (*paths)[CLSEQ_KERAS_PATH] = calloc((size_t)kc->layer_count + 1, sizeof *paths);
    clseq_status s = paths ? clseq_keras_layer_paths(kc, cfg, cfg_len, where, paths)
                           : clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", where);
    if (s == CLSEQ_OK)
        s = clseq_keras_read_weights(h, kc->model, paths);
    free(paths);
    if (s == CLSEQ_OK) {
        *out = kc->model;
        kc->model = NULL;
    }
    return s;
}

static clseq_status decode_zip(clseq_ctx *ctx, const unsigned char *data, size_t size,
                               const char *name, clseq_model **out)
{
    clseq_zip *z = NULL;
    clseq_h5 *h = NULL;
    unsigned char *cfg = NULL, *weights = NULL;
    size_t cfg_len = 0, weights_len = 0;
    clseq_keras_config kc;
    memset(&kc, 0, sizeof kc);
    char where[WHERE_BYTES];
    clseq_status s = clseq_zip_open(data, size, name, &z);
    if (s == CLSEQ_OK && !clseq_zip_has(z, "model.weights.h5") &&
        clseq_zip_has(z, "model.weights.npz"))
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: the weights are in model.weights.npz; clseq reads "
                       "model.weights.h5 (Keras's default)", name);
    if (s == CLSEQ_OK)
        s = clseq_zip_read(z, "config.json", &cfg, &cfg_len);
    if (s == CLSEQ_OK)
        s = clseq_zip_read(z, "model.weights.h5", &weights, &weights_len);
    snprintf(where, sizeof where, "%s: config.json", name);
    if (s == CLSEQ_OK)
        s = clseq_keras_read_config(ctx, (const char *)cfg, cfg_len, NULL, 0, where, &kc);
    snprintf(where, sizeof where, "%s: model.weights.h5", name);
    if (s == CLSEQ_OK)
        s = clseq_h5_open_image(weights, weights_len, where, &h);
    if (s == CLSEQ_OK)
        s = finish_keras(&kc, h, (const char *)cfg, cfg_len, name, out);
    clseq_h5_close(h);
    clseq_model_free(kc.model);
    clseq_keras_config_free(&kc);
    free(cfg);
    free(weights);
    clseq_zip_close(z);
    return s;
}

/* A root attribute holding one string (the legacy file's JSON). */
static clseq_status root_text(clseq_h5 *h, const char *attr, int required,
                              clseq_h5_strings *text)
{
    int found = 0;
    clseq_status s = clseq_h5_read_strings(h, "", attr, text, &found);
    if (s != CLSEQ_OK)
        return s;
    if (found && text->count == 1)
        return CLSEQ_OK;
    clseq_h5_strings_free(text);
    if (!found && !required)
        return CLSEQ_OK;
    if (!found)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: no '%s' attribute: an HDF5 file, but not a Keras "
                          "model (a weights-only file from save_weights?)", clseq_h5_where(h),
                          attr);
    return clseq_fail(CLSEQ_E_FORMAT, "%s: attribute '%s' holds %d strings, expected one",
                      clseq_h5_where(h), attr, text->count);
}

static clseq_status decode_h5(clseq_ctx *ctx, const unsigned char *data, size_t size,
                              const char *name, clseq_model **out)
{
    clseq_h5 *h = NULL;
    clseq_h5_strings model, training;
    memset(&model, 0, sizeof model);
    memset(&training, 0, sizeof training);
    clseq_keras_config kc;
    memset(&kc, 0, sizeof kc);
    clseq_status s = clseq_h5_open_image(data, size, name, &h);
    if (s == CLSEQ_OK)
        s = root_text(h, "model_config", 1, &model);
    if (s == CLSEQ_OK)
        s = root_text(h, "training_config", 0, &training);
    if (s == CLSEQ_OK) {
        const char *t = training.count ? training.items[0] : NULL;
        s = clseq_keras_read_config(ctx, model.items[0], strlen(model.items[0]), t,
                                    t ? strlen(t) : 0, name, &kc);
    }
    if (s == CLSEQ_OK)
        s = clseq_keras_read_legacy_weights(h, kc.model);
    if (s == CLSEQ_OK) {
        *out = kc.model;
        kc.model = NULL;
    }
    clseq_model_free(kc.model);
    clseq_keras_config_free(&kc);
    clseq_h5_strings_free(&model);
    clseq_h5_strings_free(&training);
    clseq_h5_close(h);
    return s;
}

clseq_status clseq_keras_decode(clseq_ctx *ctx, const unsigned char *data, size_t size,
                                const char *name, clseq_model **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_keras_decode: out is NULL");
    *out = NULL;
    if (!ctx || (!data && size))
        return clseq_fail(CLSEQ_E_ARG, "clseq_keras_decode: NULL context or data");
    if (!name)
        name = "<memory>";
    switch (clseq_keras_sniff(data, size)) {
    case CLSEQ_KERAS_ZIP:
        return decode_zip(ctx, data, size, name, out);
    case CLSEQ_KERAS_HDF5:
        return decode_h5(ctx, data, size, name, out);
    default:
        return clseq_fail(CLSEQ_E_FORMAT, "%s: neither a .keras zip archive nor an HDF5 file",
                          name);
    }
}

/* ---- writing ------------------------------------------------------------- */

/* metadata.json as Keras writes it: its version and the local time. */
static void metadata(time_t now, char *buf, size_t size)
{
    struct tm tm;
    char date[32] = "1970-01-01@00:00:00";
    if (localtime_r(&now, &tm))
        strftime(date, sizeof date, "%Y-%m-%d@%H:%M:%S", &tm);
    snprintf(buf, size, "{\"keras_version\": \"%s\", \"date_saved\": \"%s\"}",
             KERAS_FORMAT_VERSION, date);
}

static clseq_status weights_image(const clseq_model *m, unsigned char **data, size_t *size)
{
    clseq_h5 *h = NULL;
    clseq_status s = clseq_h5_create_image("model.weights.h5", &h);
    if (s == CLSEQ_OK)
        s = clseq_keras_write_weights(m, h);
    if (s == CLSEQ_OK)
        s = clseq_h5_get_image(h, data, size);
    clseq_h5_close(h);
    return s;
}

clseq_status clseq_keras_encode(const clseq_model *m, unsigned char **data, size_t *size)
{
    if (!m || !data || !size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_keras_encode: NULL argument");
    *data = NULL;
    *size = 0;
    char *config = NULL;
    unsigned char *weights = NULL;
    size_t weights_len = 0;
    char meta[128];
    time_t now = time(NULL);
    metadata(now, meta, sizeof meta);
    clseq_status s = clseq_keras_write_config(m, &config);
    if (s == CLSEQ_OK)
        s = weights_image(m, &weights, &weights_len);
    if (s == CLSEQ_OK) {
        /* Keras's order and, like Keras, stored uncompressed */
        const clseq_zip_entry entries[] = {
            {"metadata.json", (const unsigned char *)meta, strlen(meta)},
            {"config.json", (const unsigned char *)config, strlen(config)},
            {"model.weights.h5", weights, weights_len},
        };
        s = clseq_zip_write(entries, 3, now, data, size);
    }
    free(config);
    free(weights);
    return s;
}
