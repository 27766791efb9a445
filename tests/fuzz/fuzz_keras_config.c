/* libFuzzer harness for the Keras model-config reader
 * (clseq_keras_read_config with no context: the JSON parsed, every layer
 * mapped to a clseq config and every compile setting read, no model
 * built, no OpenCL).
 *
 * The input is copied to an exact-size heap buffer (no terminator), so a
 * read past its end is an ASan error. Up to the first NUL byte it is the
 * model config; what follows a NUL is a legacy training_config, so
 * mutations reach the compile reader with either dialect. Anything but
 * CLSEQ_OK or CLSEQ_E_FORMAT, or a result left behind, is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keras/keras_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_config(const char *model, size_t model_len, const char *training,
                        size_t training_len)
{
    clseq_keras_config c;
    memset(&c, 0x5a, sizeof c);
    clseq_status s = clseq_keras_read_config(NULL, model, model_len, training, training_len,
                                             "fuzz.json", &c);
    if ((s != CLSEQ_OK && s != CLSEQ_E_FORMAT) || c.model || c.layer_names || c.layer_count)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    const char *nul = memchr(copy, '\0', size);
    if (nul) {
        size_t head = (size_t)(nul - copy);
        read_config(copy, head, nul + 1, size - head - 1);
    } else {
        read_config(copy, size, NULL, 0);
    }
    free(copy);
    return 0;
}
