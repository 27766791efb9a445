/* libFuzzer harness for the --layers spec parser (clseq_parse_layers).
 *
 * The input becomes a NUL-terminated string in an exact-size heap copy, so
 * a read past the terminator is an ASan error. Parsed layers must satisfy
 * the header's contract: units in 1..16777216 for dense layers, 0 for
 * activation layers, a known activation, and count within capacity; a bad spec is
 * CLSEQ_E_ARG and nothing else. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clseq.h"

enum { CAPACITY = 8 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *spec = malloc(size + 1);
    if (!spec)
        return 0;
    memcpy(spec, data, size);
    spec[size] = '\0';
    clseq_layer_spec layers[CAPACITY];
    int count = -1;
    clseq_status s = clseq_parse_layers(spec, layers, CAPACITY, &count);
    if (s == CLSEQ_OK) {
        if (count < 1 || count > CAPACITY)
            abort();
        for (int i = 0; i < count; i++)
            if (layers[i].units < 0 || layers[i].units > 1 << 24 ||
                !clseq_activation_name(layers[i].activation))
                abort();
    } else if (s != CLSEQ_E_ARG) {
        abort();
    }
    free(spec);
    return 0;
}
