/* Fused training of small models: one launch per epoch, or per part of
 * one while a progress bar is drawn (fused.c, cl/train_fused.cl). */
#ifndef CLSEQ_FUSED_H
#define CLSEQ_FUSED_H

#include "nn/model.h"

/* Whether an epoch at this batch size goes through the fused kernel:
 * the context's fused option: 0 never, 1 whenever possible, otherwise when the model is
 * small enough that one work-group beats a launch per layer and batch. Never for
 * optimizers the kernel lacks (any but SGD, Adam and RMSprop) or with gradient clipping
 * or weight decay. */
int clseq_fused_applies(const clseq_model *m, int batch);
/* Runs steps first_step..last_step-1 of an epoch over n rows of device
 * data in perm's order (step s takes rows s x batch onwards), adding the
 * loss and metric sums to totals (nn/train.h, CLSEQ_SUMS_FLOATS). */
clseq_status clseq_fused_steps(clseq_model *m, cl_mem x, cl_mem y, cl_mem perm, size_t n,
                               int batch, int first_step, int last_step, cl_mem totals);

#endif
