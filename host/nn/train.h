/* Device passes over the workspace (pass.c, optimizer.c). Rows are at
 * most m->work.rows; inputs come from work.input and targets from
 * work.target. */
#ifndef CLSEQ_TRAIN_H
#define CLSEQ_TRAIN_H

#include "nn/model.h"
#include "ops/ops.h"

/* work.outputs[i] = layer i's output for rows rows of work.input, every
 * layer through its kind's forward (training: fit's pass). */
clseq_status clseq_forward(clseq_model *m, int rows, int training);
/* What layer i's forward and backward work on for rows rows: its input
 * (the previous output, or the input buffer), output, variables and the
 * workspace's pre, saved and scratch buffers (backward fills in d_out and
 * d_in). */
clseq_pass clseq_layer_pass(clseq_model *m, int i, int rows);
/* The device accumulator a pass's loss and metrics are summed into
 * (floats): the STATS_PER_ROW column sums at 0, their Kahan compensations
 * at STATS_PER_ROW, AUC's histogram (cl/loss.cl, auc_accumulate) at
 * CLSEQ_SUMS_AUC. */
enum {
    CLSEQ_SUMS_AUC = 2 * STATS_PER_ROW,
    CLSEQ_SUMS_FLOATS = 2 * STATS_PER_ROW + 4 * AUC_THRESHOLDS
};

/* Per-row loss and metrics of rows rows added into totals (the
 * accumulator above; AUC's histogram only when the model asks for AUC);
 * with want_grad, work.delta[0] gets the loss gradient averaged over rows.
 * weighted: each row's share is scaled by work.weight's value. */
clseq_status clseq_loss_stats(clseq_model *m, int rows, cl_mem totals, int want_grad,
                              int weighted);
/* clseq_loss_stats with the gradient scaled by grad_scale instead of
 * 1 / rows: a data-parallel replica's rows are part of a larger batch,
 * whose row count the gradient is averaged over (nn/parallel.h). */
clseq_status clseq_loss_stats_scaled(clseq_model *m, int rows, float grad_scale, cl_mem totals,
                                     int want_grad, int weighted);
/* Whether the cross-entropy's reported loss comes from logits: the last
 * layer's activation is the loss's own (softmax for the categorical ones,
 * sigmoid for the binary one). */
int clseq_loss_from_logits(const clseq_model *m);
/* The buffer holding the logits of the model's output for the
 * cross-entropies' loss (the last layer's pre buffer, or an Activation
 * layer's input), or NULL where the output is no softmax or sigmoid
 * matching the loss. Valid after clseq_forward. */
cl_mem clseq_loss_logits(const clseq_model *m);
/* The metric settings loss_rows and the fused trainer take. */
clseq_metric_args clseq_metric_args_of(const clseq_model *m);
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
/* Which accuracy Keras 3 reports for "accuracy" (ACC_*), from the widths
 * of targets and outputs. */
int clseq_accuracy_kind(const clseq_model *m);

#endif
