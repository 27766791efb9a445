/* Device passes over the workspace (train.c). Rows are at most
 * m->work.rows; inputs come from work.input and targets from work.target. */
#ifndef CLSEQ_TRAIN_H
#define CLSEQ_TRAIN_H

#include "model.h"

/* work.outputs[i] = layer i's output for rows rows of work.input. */
clseq_status clseq_forward(clseq_model *m, int rows);
/* Per-row loss and metrics added into totals[0..3] (loss, accuracy, mse,
 * mae sums); with want_grad, work.delta[0] gets the loss gradient averaged
 * over rows. */
clseq_status clseq_loss_stats(clseq_model *m, int rows, cl_mem totals, int want_grad);
/* Gradients of every parameter into m->grads from work.delta[0]. */
clseq_status clseq_backward(clseq_model *m, int rows);
/* One optimizer update of every parameter from m->grads. */
clseq_status clseq_optimizer_step(clseq_model *m);
/* Which accuracy Keras would report for this loss and output width. */
int clseq_accuracy_kind(const clseq_model *m);

#endif
