/* Device passes over the workspace (pass.c, optimizer.c). Rows are at
 * most m->work.rows; inputs come from work.input and targets from
 * work.target. */
#ifndef CLSEQ_TRAIN_H
#define CLSEQ_TRAIN_H

#include "nn/model.h"

/* work.outputs[i] = layer i's output for rows rows of work.input, every
 * layer through its kind's forward (training: fit's pass). */
clseq_status clseq_forward(clseq_model *m, int rows, int training);
/* What layer i's forward and backward work on for rows rows: its input
 * (the previous output, or the input buffer), output, variables and the
 * workspace's pre, saved and scratch buffers (backward fills in d_out and
 * d_in). */
clseq_pass clseq_layer_pass(clseq_model *m, int i, int rows);
/* Per-row loss and metrics added into totals[0..3] (loss, accuracy, mse,
 * mae sums); with want_grad, work.delta[0] gets the loss gradient averaged
 * over rows. weighted: each row's share is scaled by work.weight's value. */
clseq_status clseq_loss_stats(clseq_model *m, int rows, cl_mem totals, int want_grad,
                              int weighted);
/* Gradients of every trainable variable into m->grads from work.delta[0],
 * every layer through its kind's backward, last to first. With input_grad
 * not NULL, the gradient at the model's input is computed too and
 * *input_grad names the work.delta buffer holding it. d_out_is_dz: whether
 * work.delta[0] is already through the last layer's activation (the
 * cross-entropies' p - y). */
clseq_status clseq_backward(clseq_model *m, int rows, int d_out_is_dz, cl_mem *input_grad);
/* Whether the loss's gradient comes through the last activation already. */
int clseq_loss_includes_activation(const clseq_model *m);
/* One optimizer update of every trainable variable from m->grads. */
clseq_status clseq_optimizer_step(clseq_model *m);
/* Which accuracy Keras would report for this loss and output width. */
int clseq_accuracy_kind(const clseq_model *m);

#endif
