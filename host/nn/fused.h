/* Fused training of small models: one launch per epoch (fused.c,
 * cl/train_fused.cl). */
#ifndef CLSEQ_FUSED_H
#define CLSEQ_FUSED_H

#include "nn/model.h"

/* Whether an epoch at this batch size goes through the fused kernel:
 * the context's fused option: 0 never, 1 whenever possible, otherwise when the model is
 * small enough that one work-group beats a launch per layer and batch. Never for
 * optimizers the kernel lacks (any but SGD, Adam and RMSprop) or with gradient clipping
 * or weight decay. */
int clseq_fused_applies(const clseq_model *m, int batch);
/* Runs one epoch over n rows of device data in perm's order, adding the
 * loss and metric sums to totals (nn/train.h, CLSEQ_SUMS_FLOATS). */
clseq_status clseq_fused_epoch(clseq_model *m, cl_mem x, cl_mem y, cl_mem perm, size_t n,
                               int batch, cl_mem totals);

#endif
