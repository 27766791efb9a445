/* Passes over device-resident data without training (infer.c). */
#ifndef CLSEQ_INFER_H
#define CLSEQ_INFER_H

#include "nn/model.h"

/* Uploads rows x cols floats into a new buffer. */
clseq_status clseq_upload_rows(clseq_device *dev, const float *x, size_t rows, int cols, cl_mem *out);
/* A pass's sums on the host: the STATS_PER_ROW column sums (loss and
 * metrics, weighted) and AUC's histogram, weighted positives and negatives
 * per bucket. */
typedef struct clseq_pass_sums {
    double stats[STATS_PER_ROW];
    double positives[AUC_THRESHOLDS];
    double negatives[AUC_THRESHOLDS];
} clseq_pass_sums;

/* The host sums from the device accumulator's floats (CLSEQ_SUMS_FLOATS,
 * nn/train.h), with each sum's Kahan compensation taken off. */
void clseq_pass_sums_read(const float *acc, clseq_pass_sums *out);
/* Rows for a pass: on the device (x, y and w, w NULL for no weights), or
 * on the host (hx, hy, hw, hw NULL for no weights; x NULL), or read from
 * a source from its row src_first on (x and hx NULL; no weights), written
 * chunk by chunk into the workspace so no more than a chunk is ever on
 * the device. */
typedef struct clseq_rows {
    cl_mem x, y, w;
    const float *hx, *hy, *hw;
    const clseq_source *src;
    size_t src_first;
} clseq_rows;

/* Rows [first, first + rows) of a source into x and y, checked as arrays
 * are (finite values, targets that suit the loss). A failure keeps the
 * read's own message (or names its status; one that is not clseq's
 * becomes CLSEQ_E_IO) after "WHAT rows a..b: ". */
clseq_status clseq_source_rows(clseq_model *m, const clseq_source *src, size_t first,
                               size_t rows, float *x, float *y, const char *what);
/* Sums of per-row loss and metrics over n rows of src into *sums, each row
 * weighted by its weight if it has one; chunks of at most m->work.rows
 * rows, one read at the end. */
clseq_status clseq_pass_totals(clseq_model *m, const clseq_rows *src, size_t n,
                               clseq_pass_sums *sums);
/* The outputs of n rows of x into out, a chunk at a time through m's
 * workspace on m's device (clseq_predict's work once checked). */
clseq_status clseq_predict_rows(clseq_model *m, const float *x, size_t n, float *out);
/* Evaluate's values from the sums over n rows: loss then each metric in
 * bit order (at most 1 + CLSEQ_METRIC_COUNT values); returns the count.
 * As Keras reduces them: the (weighted) loss over the row count, the mean
 * metrics over the row count, precision, recall and AUC from the
 * confusion counts; the metrics unweighted, as Keras's compile metrics. */
int clseq_totals_to_values(const clseq_model *m, const clseq_pass_sums *sums, size_t n,
                           float *values);

#endif
