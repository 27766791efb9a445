/* libFuzzer harness for the CSV reader (clseq_csv_parse from memory).
 *
 * libFuzzer's buffer is exactly size bytes with no terminator, so any read
 * past len is an ASan error. On success the dataset must hold rows x
 * features finite features and rows finite targets (DESIGN: NaN or Inf in
 * data is an error, not a value); on failure it must come back empty. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "clseq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int all_finite(const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    clseq_dataset d;
    clseq_status s = clseq_csv_parse((const char *)data, size, "fuzz.csv", &d);
    if (s != CLSEQ_OK) {
        if (d.x || d.y || d.rows || d.features)
            abort();
        return 0;
    }
    if (d.features < 0 || (d.rows && d.features && !d.x) || (d.rows && !d.y))
        abort();
    if (!all_finite(d.x, d.rows * (size_t)d.features) || !all_finite(d.y, d.rows))
        abort();
    clseq_dataset_free(&d);
    return 0;
}
