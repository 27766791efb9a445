/* The one source of the codes that the host and the kernels share.
 *
 * This file is C and OpenCL C at once (only #defines): the host includes it
 * (host/nn/pass.c and host/nn/optimizer.c check the values against
 * clseq.h's enums with _Static_assert) and every program's source list
 * starts with it
 * (host/runtime/sources.c), so a code cannot differ between the two sides. */
#ifndef CLSEQ_CODES_H
#define CLSEQ_CODES_H

/* Activations: clseq_activation's values. */
#define ACT_LINEAR 0
#define ACT_RELU 1
#define ACT_SIGMOID 2
#define ACT_TANH 3
#define ACT_SOFTMAX 4
#define ACT_LEAKY_RELU 5
#define ACT_ELU 6
#define ACT_SELU 7
#define ACT_GELU 8
#define ACT_SOFTPLUS 9
#define ACT_SOFTSIGN 10
#define ACT_SILU 11
#define ACT_HARD_SIGMOID 12
#define ACT_EXPONENTIAL 13
#define ACT_RELU6 14
#define ACT_LOG_SOFTMAX 15
/* Activations whose derivative needs the input z, not only the output. */
#define ACT_NEEDS_INPUT(act) ((act) == ACT_GELU || (act) == ACT_SILU)

/* Losses: clseq_loss's values. */
#define LOSS_CCE 0
#define LOSS_SPARSE_CCE 1
#define LOSS_BCE 2
#define LOSS_MSE 3
#define LOSS_MAE 4

/* Optimizers: clseq_optimizer_kind's values. */
#define OPT_SGD 0
#define OPT_ADAM 1
#define OPT_RMSPROP 2
#define OPT_ADAMW 3
#define OPT_ADAGRAD 4
#define OPT_ADADELTA 5
#define OPT_ADAMAX 6
#define OPT_NADAM 7
#define OPT_LION 8

/* Which accuracy loss_rows computes for "accuracy" (Keras 3 picks one from
 * the shapes of targets and outputs: nn/pass.c, clseq_accuracy_kind). */
#define ACC_CATEGORICAL 0
#define ACC_SPARSE 1
#define ACC_BINARY 2

/* Per-row statistics loss_rows writes, each scaled by the row's weight:
 * the loss; the row means of accuracy, squared and absolute error, binary
 * accuracy at the threshold and top-k accuracy (sparse or one-hot, from
 * the loss); the row's confusion counts at the threshold over its outputs
 * (true positives, false positives, false negatives) for precision and
 * recall. Sums over an epoch come back to the host once (nn/infer.c). */
#define ST_LOSS 0
#define ST_ACCURACY 1
#define ST_MSE 2
#define ST_MAE 3
#define ST_BINARY_ACCURACY 4
#define ST_TOP_K 5
#define ST_TP 6
#define ST_FP 7
#define ST_FN 8
#define STATS_PER_ROW 9

/* AUC's confusion histogram: Keras's default num_thresholds. Each output
 * falls into one bucket (ceil(p * (AUC_THRESHOLDS - 1)) - 1, at least 0,
 * as metrics_utils._update_confusion_matrix_variables_optimized); the
 * weighted positives and negatives per bucket are summed over an epoch. */
#define AUC_THRESHOLDS 200

/* The fused trainer's layer table: FL_FIELDS ints per layer. */
#define FL_IN 0      /* input width */
#define FL_UNITS 1   /* output width */
#define FL_ACT 2     /* activation code */
#define FL_DENSE 3   /* 1: a dense product with kernel and bias; 0: activation only */
#define FL_KERNEL 4  /* the kernel's offset in the parameter vector */
#define FL_BIAS 5    /* the bias's offset */
#define FL_OUT 6     /* the layer's outputs' offset in the scratch buffer */
#define FL_FIELDS 7

/* The CPU GEMM's register block: CPU_RM rows by CPU_CN columns (two
 * float16, fixed in gemm_cpu.cl); the nt kernel's CPU_NT_BLOCK square;
 * CPU_PACK_K, the k each packing work-item copies (one float16, fixed). */
#define CPU_RM 6
#define CPU_CN 32
#define CPU_NT_BLOCK 4
#define CPU_PACK_K 16
/* When a CPU product packs its operands (host/ops/ops.c, pack_operands):
 * op(B) from CPU_PACK_B_MIN (2^22) multiply-adds with at least
 * CPU_PACK_B_MIN_ROWS rows of C to reuse its panels, when B is transposed
 * or K is at least CPU_PACK_B_MIN_K; op(A) too from CPU_PACK_A_MIN (2^34,
 * past the 2048^3 measured). Chosen by measurement on PoCL, AVX-512. */
#define CPU_PACK_B_MIN 4194304.0
#define CPU_PACK_B_MIN_ROWS 48
#define CPU_PACK_B_MIN_K 1024
#define CPU_PACK_A_MIN 17179869184.0

#endif
