/* Keras model files, as host/io/ sees them: .keras (Keras 3's zip of
 * config.json, metadata.json and model.weights.h5) and the legacy .h5
 * (HDF5 with model_config and model_weights). The sniffer needs no
 * library, so io/ can tell a Keras file even in a build without Keras
 * support; the decoder and encoder exist only with CLSEQ_WITH_KERAS. */
#ifndef CLSEQ_KERAS_H
#define CLSEQ_KERAS_H

#include <stddef.h>
#include <string.h>

#include "clseq.h"

typedef enum clseq_keras_kind {
    CLSEQ_KERAS_NONE = 0, /* neither: perhaps a clseq model file */
    CLSEQ_KERAS_ZIP,      /* a zip archive: .keras */
    CLSEQ_KERAS_HDF5      /* an HDF5 file: legacy .h5 */
} clseq_keras_kind;

/* What the bytes are, by content: a zip's local-header magic at 0, or
 * HDF5's signature at 0, 512, 1024, 2048, ... (after a user block). */
static inline clseq_keras_kind clseq_keras_sniff(const unsigned char *data, size_t size)
{
    if (size >= 4 && memcmp(data, "PK\x03\x04", 4) == 0)
        return CLSEQ_KERAS_ZIP;
    for (size_t at = 0; at <= size && size - at >= 8; at = at ? 2 * at : 512)
        if (memcmp(data + at, "\x89HDF\r\n\x1a\n", 8) == 0)
            return CLSEQ_KERAS_HDF5;
    return CLSEQ_KERAS_NONE;
}

/* Builds a model on ctx from a .keras or legacy .h5 file image: its layers,
 * its weights, and when its compile settings are ones clseq has, compiled
 * with the optimizer's step count and slots (so training resumes where
 * Keras stopped). name prefixes messages. Malformed or unsupported content
 * is CLSEQ_E_FORMAT naming the member, dataset or layer. */
clseq_status clseq_keras_decode(clseq_ctx *ctx, const unsigned char *data, size_t size,
                                const char *name, clseq_model **out);

/* A .keras file image of m (malloc'd) that keras.saving.load_model opens:
 * config.json, metadata.json and model.weights.h5, with the optimizer's
 * state when m is compiled. A non-finite variable is CLSEQ_E_NUMERIC. */
clseq_status clseq_keras_encode(const clseq_model *m, unsigned char **data, size_t *size);

#endif
