/* Sample weights (weights.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/weights.h"

/* The class of a target row, as Keras's class_weight_to_sample_weights
 * finds it: the arg-max of a one-hot row, else the label rounded. */
static long row_class(const float *row, int width)
{
    if (width == 1)
        return lroundf(row[0]);
    int best = 0;
    for (int c = 1; c < width; c++)
        if (row[c] > row[best])
            best = c;
    return best;
}

clseq_status clseq_row_weights(const clseq_model *m, const float *y, size_t n,
                               const float *sample_weight, const float *class_weight,
                               int class_count, const char *what, float **out)
{
    *out = NULL;
    if (sample_weight && class_weight)
        return clseq_fail(CLSEQ_E_ARG, "%s: sample_weight and class_weight cannot be given "
                          "together (as in Keras)", what);
    if (class_weight && class_count <= 0)
        return clseq_fail(CLSEQ_E_ARG, "%s: class_weight needs class_weight_count > 0, got %d",
                          what, class_count);
    for (int c = 0; class_weight && c < class_count; c++)
        if (!isfinite(class_weight[c]) || class_weight[c] < 0)
            return clseq_fail(CLSEQ_E_ARG, "%s: class_weight[%d] = %g is not a finite weight "
                              ">= 0", what, c, (double)class_weight[c]);
    if (!sample_weight && !class_weight)
        return CLSEQ_OK;
    float *w = malloc((n ? n : 1) * sizeof *w);
    if (!w)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of host memory for %zu sample weights", what, n);
    int width = clseq_model_target_width(m);
    for (size_t r = 0; r < n; r++) {
        if (sample_weight) {
            w[r] = sample_weight[r];
            if (!isfinite(w[r]) || w[r] < 0) {
                free(w);
                return clseq_fail(CLSEQ_E_ARG, "%s: sample_weight row %zu = %g is not a finite "
                                  "weight >= 0", what, r, (double)sample_weight[r]);
            }
        } else {
            long c = row_class(y + r * (size_t)width, width);
            w[r] = c >= 0 && c < class_count ? class_weight[c] : 1.0f;
        }
    }
    *out = w;
    return CLSEQ_OK;
}
