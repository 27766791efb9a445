/* The context and its devices: queues, programs, kernels and tuning. */
#ifndef CLSEQ_RUNTIME_H
#define CLSEQ_RUNTIME_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>

#include "clseq.h"
#include "sys/error.h"

/* Every kernel the library launches; names and files in runtime/sources.c. */
typedef enum clseq_kernel_id {
    K_GEMM_NN, K_GEMM_TN, K_GEMM_NT,
    K_GEMM_SMALL_NN, K_GEMM_SMALL_TN, K_GEMM_SMALL_NT,
    K_GEMM_CPU_NN, K_GEMM_CPU_TN, K_GEMM_CPU_NT,
    K_PACK_A, K_PACK_B, K_GEMM_CPU_PACKED, K_TRANSPOSE_B,
    K_ACTIVATE, K_BIAS_ACTIVATE, K_ACTIVATION_BACKWARD, K_SOFTMAX_ROWS, K_SOFTMAX_BACKWARD,
    K_LOG_SOFTMAX_ROWS, K_LOG_SOFTMAX_BACKWARD,
    K_GATHER_ROWS, K_ADD_INTO, K_SUM_COLUMNS, K_SUM_COLUMNS_SEQ, K_ARGMAX_ROWS, K_LOSS_ROWS, K_AUC_BUCKETS,
    K_REGULARIZER_PENALTY, K_REGULARIZER_GRADS,
    K_SGD_UPDATE, K_ADAM_UPDATE, K_RMSPROP_UPDATE, K_FUSED_TRAIN,
    K_ADAGRAD_UPDATE, K_ADADELTA_UPDATE, K_ADAMAX_UPDATE, K_NADAM_UPDATE, K_LION_UPDATE,
    K_DECAY_WEIGHTS, K_CLIP_VALUES, K_CLIP_BY_NORM,
    /* conv.cl */
    K_IM2COL, K_IM2COL4, K_IM2COL_LINES4, K_COL2IM, K_COL2IM4, K_CONV_BLOCK_SUMS, K_CONV_ACCUMULATE,
    /* pool.cl: each kernel in vector widths 1, 4, 8, 16, in that order */
    K_MAX_POOL2D_1, K_MAX_POOL2D_4, K_MAX_POOL2D_8, K_MAX_POOL2D_16,
    K_MAX_POOL2D_SCATTER_1, K_MAX_POOL2D_SCATTER_4, K_MAX_POOL2D_SCATTER_8, K_MAX_POOL2D_SCATTER_16,
    K_MAX_POOL2D_GATHER_1, K_MAX_POOL2D_GATHER_4, K_MAX_POOL2D_GATHER_8, K_MAX_POOL2D_GATHER_16,
    K_AVG_POOL2D_1, K_AVG_POOL2D_4, K_AVG_POOL2D_8, K_AVG_POOL2D_16,
    K_AVG_POOL2D_SCATTER_1, K_AVG_POOL2D_SCATTER_4, K_AVG_POOL2D_SCATTER_8, K_AVG_POOL2D_SCATTER_16,
    K_AVG_POOL2D_GATHER_1, K_AVG_POOL2D_GATHER_4, K_AVG_POOL2D_GATHER_8, K_AVG_POOL2D_GATHER_16,
    /* batch_norm.cl */
    K_BN_PARTIAL_SUMS, K_BN_FINISH_MEAN, K_BN_FINISH_VARIANCE, K_BN_INFERENCE_STATS,
    K_BN_NORMALIZE, K_BN_FINISH_GRADS, K_BN_BACKWARD_INPUT,
    /* dropout.cl */
    K_DROPOUT_FORWARD, K_DROPOUT_BACKWARD,
    K_COUNT
} clseq_kernel_id;


/* Tile sizes of the blocked GEMM, passed to the build as -D defines. */
typedef struct clseq_gemm_tiles {
    int tm, tn, tk, wm, wn;
} clseq_gemm_tiles;

/* One device of a context: its queue, its program and kernels, its limits
 * and the tuning chosen for it. Everything that launches work takes one. */
typedef struct clseq_device {
    clseq_ctx *ctx;              /* the context it belongs to */
    cl_device_id id;
    cl_command_queue queue;      /* in order */
    cl_program program;
    cl_kernel kernels[K_COUNT];  /* NULL for kernels not built for this device */
    size_t kernel_wg[K_COUNT];   /* CL_KERNEL_WORK_GROUP_SIZE of each */
    char name[128];
    char version[128];
    char driver[64];
    cl_device_type type;
    size_t max_wg;
    size_t max_item[3];
    cl_ulong local_mem;
    cl_ulong max_alloc;
    cl_ulong global_mem;         /* CL_DEVICE_GLOBAL_MEM_SIZE */
    /* the bytes of clseq's live buffers on this device (runtime/buffer.c);
     * shared with those buffers, which may outlive the device */
    struct clseq_mem_ledger *ledger;
    _Atomic int clblast_user;    /* counted among CLBlast's users (runtime/gemm_provider.c) */
    /* tuning (runtime/program.c, runtime/gemm_provider.c) */
    clseq_gemm_tiles tiles;
    int blocked_gemm_ok;         /* the blocked GEMM's work-group fits this device */
    int cpu_gemm;                /* large products use gemm_cpu_* (register-blocked, no local memory) */
    int gemm_clblast;            /* large products go to CLBlast */
    size_t fused_size;           /* the fused trainer's work-group size (-DFUSED_SIZE) */
    int gemm_packed;             /* CPU products pack operands: 0 never, 1 when it pays, 2 always */
    cl_mem pack[2];              /* packing scratch for A and B, grown on demand */
    size_t pack_bytes[2];
    int from_cache;
    double build_ms;             /* time spent creating the program */
    /* device operations counted for fault injection (runtime/buffer.c),
     * only while the context's fail_after is set */
    _Atomic long long fault_ops;
    float share;                 /* its relative share of each batch in a
                                    data-parallel fit (device spec "@SHARE") */
} clseq_device;

/* A context: one OpenCL context over one or more devices of a platform,
 * and the options it was made with. */
struct clseq_ctx {
    clseq_ctx_options options;
    cl_platform_id platform;
    cl_context context;
    int device_count;
    clseq_device *devices;       /* device_count entries */
};

/* CLSEQ_E_ARG naming the first option out of range. */
clseq_status clseq_ctx_options_check(const clseq_ctx_options *opt);

/* The device models run on (the first; data-parallel fits and
 * evaluate/predict put replicas on the others, nn/replicas.c). */
clseq_device *clseq_ctx_main_device(clseq_ctx *ctx);

/* Turns a failed OpenCL call into a status (out-of-resources and allocation
 * -> CLSEQ_E_NOMEM, else CLSEQ_E_CL) with "call: CL_ERROR_NAME" as message. */
clseq_status clseq_cl_fail(cl_int err, const char *call);
/* CL_SUCCESS -> CLSEQ_OK, else clseq_cl_fail(err, call). */
clseq_status clseq_cl_check(cl_int err, const char *call);
/* The name of an OpenCL error code ("CL_INVALID_VALUE"). */
const char *clseq_cl_error_name(cl_int err);

/* Builds (or loads from the binary cache) dev's program from the sources
 * its type can use and creates their kernels; dev's limits must be filled in. */
clseq_status clseq_program_build(clseq_device *dev);
void clseq_program_release(clseq_device *dev);

/* Fault injection, a testing aid (clseq_ctx_options.fail_after): the
 * choke points of device work (buffer creation, clseq_launch_nd, buffer
 * read, write and fill) each count one operation while fail_after is set,
 * and the fail_after-th fails as the driver would. Off, the cost is one
 * compare. clseq_fault_tick counts one and returns 1 if it is the one to
 * fail; clseq_fault_fail records the failure (s, the OpenCL call and
 * "injected fault") and returns s. */
int clseq_fault_tick(clseq_device *dev);
clseq_status clseq_fault_fail(clseq_device *dev, clseq_status s, const char *call);
static inline int clseq_fault_due(clseq_device *dev)
{
    return dev->ctx->options.fail_after != 0 && clseq_fault_tick(dev);
}
/* Sets ctx's fail_after (0: off) and restarts every device's count, so the
 * after-th operation from now fails; for tests, between calls, never while
 * another thread works on ctx. */
void clseq_fault_arm(clseq_ctx *ctx, long long after);
/* Operations counted on dev since the last clseq_fault_arm (or since its
 * creation) while fail_after was set. */
long long clseq_fault_count(const clseq_device *dev);

/* Device buffer of bytes (> 0); CLSEQ_E_NOMEM, before asking the driver,
 * when bytes exceed the device's largest allocation or what is left of its
 * global memory after clseq's other live buffers, else when the driver
 * refuses. */
clseq_status clseq_buffer_create(clseq_device *dev, size_t bytes, cl_mem *out);
/* clseq_buffer_create naming the buffer's purpose ("model parameters") in
 * its errors; name may be NULL. */
clseq_status clseq_buffer_create_named(clseq_device *dev, size_t bytes, const char *name,
                                       cl_mem *out);
/* The accounting of dev's buffers: opened before dev's first buffer, closed
 * when the device is; buffers still alive then keep it until released. */
clseq_status clseq_buffer_ledger_open(clseq_device *dev);
void clseq_buffer_ledger_close(clseq_device *dev);
/* Bytes of clseq's live buffers on dev, and the most it lets them reach. */
cl_ulong clseq_buffer_allocated(const clseq_device *dev);
cl_ulong clseq_buffer_budget(const clseq_device *dev);
/* Releases *buf if set and clears it. */
void clseq_buffer_release(cl_mem *buf);
/* Blocking host<->device copies of bytes at byte offset. */
clseq_status clseq_buffer_write(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                                const void *src);
/* The same without waiting: the write runs in queue order, *done (NULL
 * when bytes is 0) completes when it has, and src must stay unchanged
 * until then. */
clseq_status clseq_buffer_write_async(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                                      const void *src, cl_event *done);
clseq_status clseq_buffer_read(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                               void *dst);
/* Enqueues a copy of bytes from src to dst (no wait: the queue orders it). */
clseq_status clseq_buffer_copy(clseq_device *dev, cl_mem src, size_t src_offset, cl_mem dst,
                               size_t dst_offset, size_t bytes);
/* Fills floats [offset, offset + count) of buf with value. */
clseq_status clseq_buffer_fill(clseq_device *dev, cl_mem buf, size_t offset, size_t count,
                               float value);

#endif
