/* The kernels and the programs that build them. A program is an explicit,
 * ordered list of cl/ files: the shared codes and helpers first, then the
 * families, then the fused trainer that calls into loss, softmax and
 * optimizer helpers. Files a device cannot use are left out: the
 * register-blocked CPU GEMM is not built on GPUs (unless the options ask
 * for that family), so a GPU compiles less and never launches it. */
#include "runtime/sources.h"

#include <string.h>

#include "runtime/kernel_sources.h"

static const struct {
    const char *name;
    const char *file;
} kernels[K_COUNT] = {
    [K_GEMM_NN] = {"gemm_nn", "gemm.cl"},
    [K_GEMM_TN] = {"gemm_tn", "gemm.cl"},
    [K_GEMM_NT] = {"gemm_nt", "gemm.cl"},
    [K_GEMM_SMALL_NN] = {"gemm_small_nn", "gemm.cl"},
    [K_GEMM_SMALL_TN] = {"gemm_small_tn", "gemm.cl"},
    [K_GEMM_SMALL_NT] = {"gemm_small_nt", "gemm.cl"},
    [K_GEMM_CPU_NN] = {"gemm_cpu_nn", "gemm_cpu.cl"},
    [K_GEMM_CPU_TN] = {"gemm_cpu_tn", "gemm_cpu.cl"},
    [K_GEMM_CPU_NT] = {"gemm_cpu_nt", "gemm_cpu.cl"},
    [K_PACK_A] = {"pack_a", "gemm_cpu.cl"},
    [K_PACK_B] = {"pack_b", "gemm_cpu.cl"},
    [K_GEMM_CPU_PACKED] = {"gemm_cpu_packed", "gemm_cpu.cl"},
    [K_TRANSPOSE_B] = {"transpose_b", "gemm_cpu.cl"},
    [K_ACTIVATE] = {"activate", "elementwise.cl"},
    [K_BIAS_ACTIVATE] = {"bias_activate", "elementwise.cl"},
    [K_ACTIVATION_BACKWARD] = {"activation_backward", "elementwise.cl"},
    [K_SOFTMAX_ROWS] = {"softmax_rows", "softmax.cl"},
    [K_SOFTMAX_BACKWARD] = {"softmax_backward", "softmax.cl"},
    [K_LOG_SOFTMAX_ROWS] = {"log_softmax_rows", "softmax.cl"},
    [K_LOG_SOFTMAX_BACKWARD] = {"log_softmax_backward", "softmax.cl"},
    [K_GATHER_ROWS] = {"gather_rows", "elementwise.cl"},
    [K_ADD_INTO] = {"add_into", "elementwise.cl"},
    [K_SUM_COLUMNS] = {"sum_columns", "reduce.cl"},
    [K_SUM_COLUMNS_SEQ] = {"sum_columns_seq", "reduce.cl"},
    [K_ARGMAX_ROWS] = {"argmax_rows", "reduce.cl"},
    [K_REGULARIZER_PENALTY] = {"regularizer_penalty", "reduce.cl"},
    [K_REGULARIZER_GRADS] = {"regularizer_grads", "reduce.cl"},
    [K_LOSS_ROWS] = {"loss_rows", "loss.cl"},
    [K_AUC_BUCKETS] = {"auc_buckets", "loss.cl"},
    [K_SGD_UPDATE] = {"sgd_update", "optim.cl"},
    [K_ADAM_UPDATE] = {"adam_update", "optim.cl"},
    [K_RMSPROP_UPDATE] = {"rmsprop_update", "optim.cl"},
    [K_ADAGRAD_UPDATE] = {"adagrad_update", "optim.cl"},
    [K_ADADELTA_UPDATE] = {"adadelta_update", "optim.cl"},
    [K_ADAMAX_UPDATE] = {"adamax_update", "optim.cl"},
    [K_NADAM_UPDATE] = {"nadam_update", "optim.cl"},
    [K_LION_UPDATE] = {"lion_update", "optim.cl"},
    [K_DECAY_WEIGHTS] = {"decay_weights", "optim.cl"},
    [K_CLIP_VALUES] = {"clip_values", "optim.cl"},
    [K_CLIP_BY_NORM] = {"clip_by_norm", "optim.cl"},
    [K_FUSED_TRAIN] = {"fused_train", "train_fused.cl"},
    /* conv.cl (Conv2D) */
    [K_IM2COL] = {"im2col", "conv.cl"},
    [K_IM2COL4] = {"im2col4", "conv.cl"},
    [K_IM2COL_LINES4] = {"im2col_lines4", "conv.cl"},
    [K_COL2IM] = {"col2im", "conv.cl"},
    [K_COL2IM4] = {"col2im4", "conv.cl"},
    [K_CONV_BLOCK_SUMS] = {"conv_block_sums", "conv.cl"},
    [K_CONV_ACCUMULATE] = {"conv_accumulate", "conv.cl"},
    /* pool.cl (pooling layers) */
    [K_MAX_POOL2D_1] = {"max_pool2d_1", "pool.cl"},
    [K_MAX_POOL2D_4] = {"max_pool2d_4", "pool.cl"},
    [K_MAX_POOL2D_8] = {"max_pool2d_8", "pool.cl"},
    [K_MAX_POOL2D_16] = {"max_pool2d_16", "pool.cl"},
    [K_MAX_POOL2D_SCATTER_1] = {"max_pool2d_scatter_1", "pool.cl"},
    [K_MAX_POOL2D_SCATTER_4] = {"max_pool2d_scatter_4", "pool.cl"},
    [K_MAX_POOL2D_SCATTER_8] = {"max_pool2d_scatter_8", "pool.cl"},
    [K_MAX_POOL2D_SCATTER_16] = {"max_pool2d_scatter_16", "pool.cl"},
    [K_MAX_POOL2D_GATHER_1] = {"max_pool2d_gather_1", "pool.cl"},
    [K_MAX_POOL2D_GATHER_4] = {"max_pool2d_gather_4", "pool.cl"},
    [K_MAX_POOL2D_GATHER_8] = {"max_pool2d_gather_8", "pool.cl"},
    [K_MAX_POOL2D_GATHER_16] = {"max_pool2d_gather_16", "pool.cl"},
    [K_AVG_POOL2D_1] = {"avg_pool2d_1", "pool.cl"},
    [K_AVG_POOL2D_4] = {"avg_pool2d_4", "pool.cl"},
    [K_AVG_POOL2D_8] = {"avg_pool2d_8", "pool.cl"},
    [K_AVG_POOL2D_16] = {"avg_pool2d_16", "pool.cl"},
    [K_AVG_POOL2D_SCATTER_1] = {"avg_pool2d_scatter_1", "pool.cl"},
    [K_AVG_POOL2D_SCATTER_4] = {"avg_pool2d_scatter_4", "pool.cl"},
    [K_AVG_POOL2D_SCATTER_8] = {"avg_pool2d_scatter_8", "pool.cl"},
    [K_AVG_POOL2D_SCATTER_16] = {"avg_pool2d_scatter_16", "pool.cl"},
    [K_AVG_POOL2D_GATHER_1] = {"avg_pool2d_gather_1", "pool.cl"},
    [K_AVG_POOL2D_GATHER_4] = {"avg_pool2d_gather_4", "pool.cl"},
    [K_AVG_POOL2D_GATHER_8] = {"avg_pool2d_gather_8", "pool.cl"},
    [K_AVG_POOL2D_GATHER_16] = {"avg_pool2d_gather_16", "pool.cl"},
    /* batch_norm.cl (BatchNormalization) */
    [K_BN_PARTIAL_SUMS] = {"bn_partial_sums", "batch_norm.cl"},
    [K_BN_FINISH_MEAN] = {"bn_finish_mean", "batch_norm.cl"},
    [K_BN_FINISH_VARIANCE] = {"bn_finish_variance", "batch_norm.cl"},
    [K_BN_INFERENCE_STATS] = {"bn_inference_stats", "batch_norm.cl"},
    [K_BN_NORMALIZE] = {"bn_normalize", "batch_norm.cl"},
    [K_BN_FINISH_GRADS] = {"bn_finish_grads", "batch_norm.cl"},
    [K_BN_BACKWARD_INPUT] = {"bn_backward_input", "batch_norm.cl"},
    /* dropout.cl (Dropout) */
    [K_DROPOUT_FORWARD] = {"dropout_forward", "dropout.cl"},
    [K_DROPOUT_BACKWARD] = {"dropout_backward", "dropout.cl"},
};

const char *clseq_kernel_name(clseq_kernel_id id)
{
    return kernels[id].name;
}

const char *clseq_kernel_file(clseq_kernel_id id)
{
    return kernels[id].file;
}

/* Whether dev gets the register-blocked CPU GEMM: on CPUs, or anywhere
 * the options pick that family. */
static int wants_cpu_gemm(const clseq_device *dev)
{
    clseq_gemm_kernel k = dev->ctx->options.gemm_kernel;
    if (k == CLSEQ_GEMM_KERNEL_CPU || k == CLSEQ_GEMM_KERNEL_PACKED)
        return 1;
    return k == CLSEQ_GEMM_KERNEL_AUTO && (dev->type & CL_DEVICE_TYPE_CPU);
}

int clseq_program_sources(const clseq_device *dev, const char **names)
{
    int n = 0;
    names[n++] = "codes.h";
    names[n++] = "common.cl";
    names[n++] = "elementwise.cl";
    names[n++] = "softmax.cl";
    names[n++] = "reduce.cl";
    names[n++] = "loss.cl";
    names[n++] = "optim.cl";
    names[n++] = "gemm.cl";
    if (wants_cpu_gemm(dev))
        names[n++] = "gemm_cpu.cl";
    names[n++] = "conv.cl";
    names[n++] = "pool.cl";
    names[n++] = "batch_norm.cl";
    names[n++] = "dropout.cl";
    names[n++] = "train_fused.cl"; /* uses softmax, loss and optim helpers */
    return n;
}

int clseq_program_has_kernel(const char *const *names, int count, clseq_kernel_id id)
{
    for (int i = 0; i < count; i++)
        if (strcmp(names[i], kernels[id].file) == 0)
            return 1;
    return 0;
}

const char *clseq_embedded_source(const char *name, size_t *length)
{
    for (int i = 0; i < clseq_kernel_source_count; i++)
        if (strcmp(clseq_kernel_sources[i].name, name) == 0) {
            *length = clseq_kernel_sources[i].length;
            return clseq_kernel_sources[i].text;
        }
    return NULL;
}
