/* Passes over device-resident data without training (infer.c). */
#ifndef CLSEQ_INFER_H
#define CLSEQ_INFER_H

#include "nn/model.h"

/* Uploads rows x cols floats into a new buffer. */
clseq_status clseq_upload_rows(clseq_device *dev, const float *x, size_t rows, int cols, cl_mem *out);
/* Sums of per-row loss, accuracy, mse and mae over n rows of device data x
 * and y into host totals[4]; chunks of at most m->work.rows rows. */
clseq_status clseq_pass_totals(clseq_model *m, cl_mem x, cl_mem y, size_t n, double totals[4]);
/* Evaluate's values from totals: loss then each metric in bit order. */
int clseq_totals_to_values(const clseq_model *m, const double totals[4], size_t n, float *values);

#endif
