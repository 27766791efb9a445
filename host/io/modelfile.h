/* Model files: the encoder and decoder behind clseq_save and clseq_load,
 * exposed so tests and fuzzers can work on bytes without touching files or
 * (for decoding with ctx NULL) OpenCL. The formats are described at the
 * top of modelfile.c, modelfile_v1.c and modelfile_v2.c, and in
 * docs/model-format.md. */
#ifndef CLSEQ_MODELFILE_H
#define CLSEQ_MODELFILE_H

#include <stddef.h>
#include <stdint.h>

#include "clseq.h"
#include "sys/fileio.h"

/* The version clseq_save writes; every version from 1 up to it loads. */
#define CLSEQ_MODEL_FORMAT_VERSION 2u

/* Byte offsets of the fixed fields (see the format descriptions). */
enum {
    /* every version */
    CLSEQ_MF_OFF_VERSION = 8,
    CLSEQ_MF_OFF_LENGTH = 12,
    CLSEQ_MF_OFF_BODY = 20,
    CLSEQ_MF_CHECKSUM_BYTES = 4,
    /* version 1 */
    CLSEQ_MF1_OFF_INPUT_DIM = 20,
    CLSEQ_MF1_OFF_LAYER_COUNT = 24,
    CLSEQ_MF1_OFF_LAYERS = 28,
    CLSEQ_MF1_LAYER_BYTES = 12,
    CLSEQ_MF1_COMPILE_BYTES = 44,
    /* version 2 */
    CLSEQ_MF2_OFF_SEED = 20,
    CLSEQ_MF2_OFF_RANK = 28,
    CLSEQ_MF2_OFF_DIMS = 32
};

/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) of len bytes, continued
 * from crc (start with 0). */
uint32_t clseq_crc32(uint32_t crc, const void *data, size_t len);

/* Encodes m (seed, input shape, layers with their configs and variables,
 * and, if compiled, the compile settings and the optimizer's state) in the
 * current format into a malloc'd buffer *data of *size bytes; the caller
 * frees it. A non-finite variable or optimizer value is CLSEQ_E_NUMERIC. */
clseq_status clseq_model_encode(const clseq_model *m, unsigned char **data, size_t *size);

/* Parses and validates a model file image of any supported version; name
 * (a path) prefixes every message. With ctx, builds the model on ctx into
 * *out (compiled again, with its optimizer state, if it was saved
 * compiled). With ctx NULL, only validates and sets *out = NULL, which
 * needs no OpenCL (for fuzzing); what only a model can check (a layer
 * class, its config, variables against it) is then left unchecked.
 * Malformed data is CLSEQ_E_FORMAT. */
clseq_status clseq_model_decode(clseq_ctx *ctx, const unsigned char *data, size_t size,
                                const char *name, clseq_model **out);

#endif
