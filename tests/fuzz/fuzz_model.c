/* libFuzzer harness for the model-file decoder (clseq_model_decode with no
 * context: parse and validate only, no OpenCL), both format versions.
 *
 * Random bytes almost never carry a matching length field and CRC-32, so
 * each input is tried as given (the envelope checks) and with its length
 * field and checksum made to fit (the structural checks behind them), the
 * latter once with the version it names and once with the other one, so
 * mutations of a version 2 seed also exercise the version 1 reader and the
 * other way round. Anything but CLSEQ_OK or CLSEQ_E_FORMAT, or a model
 * handed back without a context, is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "io/modelfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const uint8_t *data, size_t size)
{
    clseq_model *m = (clseq_model *)&m;
    clseq_status s = clseq_model_decode(NULL, data, size, "fuzz.clseq", &m);
    if ((s != CLSEQ_OK && s != CLSEQ_E_FORMAT) || m != NULL)
        abort();
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* The length field and checksum made to fit size. */
static void fix_envelope(uint8_t *d, size_t size)
{
    put32(d + CLSEQ_MF_OFF_LENGTH, (uint32_t)size);
    put32(d + CLSEQ_MF_OFF_LENGTH + 4, (uint32_t)((uint64_t)size >> 32));
    put32(d + size - CLSEQ_MF_CHECKSUM_BYTES,
          clseq_crc32(0, d, size - CLSEQ_MF_CHECKSUM_BYTES));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size);
    if (size < CLSEQ_MF_OFF_BODY + CLSEQ_MF_CHECKSUM_BYTES)
        return 0;
    uint8_t *fixed = malloc(size);
    if (!fixed)
        return 0;
    memcpy(fixed, data, size);
    fix_envelope(fixed, size);
    decode(fixed, size);
    put32(fixed + CLSEQ_MF_OFF_VERSION, fixed[CLSEQ_MF_OFF_VERSION] == 1 ? 2 : 1);
    fix_envelope(fixed, size);
    decode(fixed, size);
    free(fixed);
    return 0;
}
