/* Sample weights for fit and evaluate (weights.c). */
#ifndef CLSEQ_WEIGHTS_H
#define CLSEQ_WEIGHTS_H

#include "nn/model.h"

/* The weight of each of n rows: sample_weight as given, or class_weight
 * looked up by each row's class (keras.src.trainers.data_adapters.
 * data_adapter_utils.class_weight_to_sample_weights: the arg-max of a
 * one-hot row, else the rounded label; classes past class_count weigh 1).
 * Giving both is CLSEQ_E_ARG, as in Keras; every weight must be finite and
 * >= 0 (what names the caller). *out is malloc'd, or NULL when neither is
 * given. */
clseq_status clseq_row_weights(const clseq_model *m, const float *y, size_t n,
                               const float *sample_weight, const float *class_weight,
                               int class_count, const char *what, float **out);

#endif
