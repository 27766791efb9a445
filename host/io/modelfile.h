/* Model files: the encoder and decoder behind clseq_save and clseq_load,
 * exposed so tests and fuzzers can work on bytes without touching files or
 * (for decoding with ctx NULL) OpenCL. The format is described at the top
 * of modelfile.c and in docs/model-format.md. */
#ifndef CLSEQ_MODELFILE_H
#define CLSEQ_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "clseq.h"
#include "sys/fileio.h"

#define CLSEQ_MODEL_FORMAT_VERSION 1u

/* Byte offsets of the fixed header fields (see the format description). */
enum {
    CLSEQ_MF_OFF_VERSION = 8,
    CLSEQ_MF_OFF_LENGTH = 12,
    CLSEQ_MF_OFF_INPUT_DIM = 20,
    CLSEQ_MF_OFF_LAYER_COUNT = 24,
    CLSEQ_MF_OFF_LAYERS = 28,
    CLSEQ_MF_LAYER_BYTES = 12,
    CLSEQ_MF_CHECKSUM_BYTES = 4
};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of len bytes, continued
 * from crc (start with 0). */
uint32_t clseq_crc32(uint32_t crc, const void *data, size_t len);

/* Encodes m (layers, compile settings, current weights) into a malloc'd
 * buffer *data of *size bytes; the caller frees it. */
clseq_status clseq_model_encode(const clseq_model *m, unsigned char **data, size_t *size);

/* Parses and validates a model file image; name (a path) prefixes every
 * message. With ctx, builds the model on ctx into *out (compiled again if it
 * was saved compiled). With ctx NULL, only validates and sets *out = NULL,
 * which needs no OpenCL (for fuzzing). Malformed data is CLSEQ_E_FORMAT. */
clseq_status clseq_model_decode(clseq_ctx *ctx, const unsigned char *data, size_t size,
                                const char *name, clseq_model **out);

#endif
