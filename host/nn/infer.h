/* Passes over device-resident data without training (infer.c). */
#ifndef CLSEQ_INFER_H
#define CLSEQ_INFER_H

#include "nn/model.h"

/* Uploads rows x cols floats into a new buffer. */
clseq_status clseq_upload_rows(clseq_device *dev, const float *x, size_t rows, int cols, cl_mem *out);
/* Sums of per-row loss, accuracy, mse and mae over n rows of device data x
 * and y into host totals[4], each row weighted by w (NULL: 1); chunks of
 * at most m->work.rows rows. */
clseq_status clseq_pass_totals(clseq_model *m, cl_mem x, cl_mem y, cl_mem w, size_t n,
                               double totals[4]);
/* Evaluate's values from totals over n rows: loss then each metric in bit
 * order. As Keras reduces them: the loss over the row count, the metrics
 * over the sum of the sample weights (n when unweighted). */
int clseq_totals_to_values(const clseq_model *m, const double totals[4], size_t n,
                           double weight_sum, float *values);

#endif
