/* The models, data and comparison that the data-parallel suites share
 * (test_parallel.c: devices; test_mpi.c: processes). */
#ifndef CLSEQ_PARALLEL_MODELS_H
#define CLSEQ_PARALLEL_MODELS_H

#include <stddef.h>

#include "clseq.h"

typedef enum { PM_DENSE, PM_CNN } pm_kind;

/* The rows every suite trains on: 50, so batches of 16 end in a ragged one
 * of 2 rows; 3 classes, one-hot. */
enum { PM_ROWS = 50, PM_BATCH = 16, PM_CLASSES = 3, PM_EPOCHS = 2, PM_MAX_VARS = 2048 };

/* Features per row of kind's model. */
int pm_input_dim(pm_kind kind);
/* Deterministic rows: x (PM_ROWS x input) and one-hot y (PM_ROWS x PM_CLASSES). */
void pm_data(pm_kind kind, float *x, float *y);
/* A new model of kind on ctx (seed 7: the same initial weights on every
 * context), compiled with optimizer opt of Keras's defaults and a learning
 * rate of lr, categorical cross-entropy and accuracy. Dense: 6 -> 16 relu
 * -> 3 softmax; CNN: 6x6x2 -> Conv2D(4, 3x3, relu, same) -> MaxPooling2D(2)
 * -> Flatten -> Dense(3, softmax). */
clseq_model *pm_model(clseq_ctx *ctx, pm_kind kind, clseq_optimizer_kind opt);
/* The optimizer kinds, in clseq_optimizer_kind order, and their names. */
enum { PM_OPTIMIZERS = 9 };
const char *pm_optimizer_name(clseq_optimizer_kind opt);
/* The largest |a - b| over count floats. */
double pm_max_diff(const float *a, const float *b, size_t count);
/* The tolerance for weights trained from the same start on differently
 * split batches (the comment at its definition says why). */
double pm_tolerance(clseq_optimizer_kind opt);

#endif
