/* Builds every kernel once per context: the embedded sources with the
 * device's tuning as -D defines, through clseq's binary cache where it helps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "gemm_provider.h"
#include "kernel_sources.h"
#include "progress.h"
#include "runtime.h"

/* Bumped whenever the cache file layout or build inputs change meaning. */
#define CACHE_FORMAT_VERSION "clseq-cache-1"

static const char *const kernel_names[K_COUNT] = {
    [K_GEMM_NN] = "gemm_nn",
    [K_GEMM_TN] = "gemm_tn",
    [K_GEMM_NT] = "gemm_nt",
    [K_GEMM_SMALL_NN] = "gemm_small_nn",
    [K_GEMM_SMALL_TN] = "gemm_small_tn",
    [K_GEMM_SMALL_NT] = "gemm_small_nt",
    [K_GEMM_CPU_NN] = "gemm_cpu_nn",
    [K_GEMM_CPU_TN] = "gemm_cpu_tn",
    [K_GEMM_CPU_NT] = "gemm_cpu_nt",
    [K_PACK_A] = "pack_a",
    [K_PACK_B] = "pack_b",
    [K_GEMM_CPU_PACKED] = "gemm_cpu_packed",
    [K_ACTIVATE] = "activate",
    [K_BIAS_ACTIVATE] = "bias_activate",
    [K_ACTIVATION_BACKWARD] = "activation_backward",
    [K_SOFTMAX_ROWS] = "softmax_rows",
    [K_SOFTMAX_BACKWARD] = "softmax_backward",
    [K_GATHER_ROWS] = "gather_rows",
    [K_SUM_COLUMNS] = "sum_columns",
    [K_ARGMAX_ROWS] = "argmax_rows",
    [K_LOSS_ROWS] = "loss_rows",
    [K_SGD_UPDATE] = "sgd_update",
    [K_ADAM_UPDATE] = "adam_update",
    [K_RMSPROP_UPDATE] = "rmsprop_update",
    [K_FUSED_TRAIN] = "fused_train",
};


/* GEMM tiles by device: 64x64 tiles with 4x4 per work-item need 256
 * work-items; smaller devices get 32x32 (64 work-items). */
static void choose_tiles(clseq_ctx *ctx, char *options, size_t size)
{
    clseq_gemm_tiles t = {64, 64, 16, 4, 4};
    if (ctx->max_wg < 256 || ctx->max_item[0] < 16 || ctx->max_item[1] < 16)
        t = (clseq_gemm_tiles){32, 32, 16, 4, 4};
    ctx->tiles = t;
    /* The fused trainer's group: one work-item on CPUs, where PoCL turns
     * work-items into loops around every barrier (one trains the seed
     * model 11x faster than 32 and compiles in 2 s instead of 10); a full
     * group on GPUs. */
    size_t fused = (ctx->device_type & CL_DEVICE_TYPE_GPU) ? 256 : 1;
    while (fused > ctx->max_wg || fused > ctx->max_item[0])
        fused /= 2;
    ctx->fused_size = fused;
    snprintf(options, size,
             "-cl-std=CL1.2 -DGEMM_TM=%d -DGEMM_TN=%d -DGEMM_TK=%d -DGEMM_WM=%d -DGEMM_WN=%d "
             "-DFUSED_SIZE=%zu -DCPU_RM=%d",
             t.tm, t.tn, t.tk, t.wm, t.wn, fused, CLSEQ_CPU_RM);
}

/* All sources in one string, common.cl first (it defines shared helpers). */
static char *concatenate_sources(size_t *length)
{
    size_t total = 1;
    for (int i = 0; i < clseq_kernel_source_count; i++)
        total += clseq_kernel_sources[i].length + 1;
    char *text = malloc(total);
    if (!text)
        return NULL;
    size_t used = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < clseq_kernel_source_count; i++) {
            const struct clseq_kernel_source *src = &clseq_kernel_sources[i];
            int is_common = strcmp(src->name, "common.cl") == 0;
            if (is_common != (pass == 0))
                continue;
            memcpy(text + used, src->text, src->length);
            used += src->length;
            text[used++] = '\n';
        }
    }
    text[used] = '\0';
    *length = used;
    return text;
}

static uint64_t cache_key(const clseq_ctx *ctx, const char *source, size_t length,
                          const char *options)
{
    uint64_t h = clseq_fnv1a(CLSEQ_FNV_OFFSET, CACHE_FORMAT_VERSION, strlen(CACHE_FORMAT_VERSION));
    h = clseq_fnv1a(h, source, length);
    const char *parts[] = {options, ctx->device_name, ctx->device_version, ctx->driver_version};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        h = clseq_fnv1a(h, parts[i], strlen(parts[i]) + 1); /* NUL separates fields */
    return h;
}

static clseq_status build_failure(clseq_ctx *ctx, cl_program program, cl_int err)
{
    size_t log_size = 0;
    clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
    char *log = malloc(log_size + 1);
    if (log) {
        log[0] = '\0';
        clGetProgramBuildInfo(program, ctx->device, CL_PROGRAM_BUILD_LOG, log_size, log, NULL);
        log[log_size] = '\0';
    }
    clseq_status s = clseq_fail(CLSEQ_E_BUILD, "building kernels for %s failed (%s):\n%s",
                                ctx->device_name, clseq_cl_error_name(err), log ? log : "");
    free(log);
    return s;
}

static cl_program program_from_binary(clseq_ctx *ctx, const unsigned char *binary, size_t size,
                                      const char *options)
{
    cl_int err = CL_SUCCESS, binary_status = CL_SUCCESS;
    cl_program program = clCreateProgramWithBinary(ctx->context, 1, &ctx->device, &size, &binary,
                                                   &binary_status, &err);
    if (err != CL_SUCCESS || binary_status != CL_SUCCESS)
        goto fail;
    if (clBuildProgram(program, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS)
        goto fail;
    return program;
fail:
    if (program)
        clReleaseProgram(program);
    return NULL;
}

static void store_binary(clseq_ctx *ctx, cl_program program, uint64_t key)
{
    size_t size = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) !=
            CL_SUCCESS ||
        size == 0)
        return;
    unsigned char *binary = malloc(size);
    if (binary && clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binary, &binary, NULL) ==
                      CL_SUCCESS)
        clseq_cache_store(key, binary, size);
    free(binary);
    (void)ctx;
}

/* Whether clseq's own cache is worth using on this device: PoCL keeps its
 * own kernel cache, which already makes a warm build cheap (see README,
 * "Start-up"), so only other drivers go through clseq's cache, unless
 * CLSEQ_CACHE_ALWAYS=1 asks for it (the tests use that to exercise it). */
static int use_clseq_cache(const clseq_ctx *ctx)
{
    const char *always = getenv("CLSEQ_CACHE_ALWAYS");
    if (always && strcmp(always, "1") == 0)
        return 1;
    char platform[128] = "";
    clGetPlatformInfo(ctx->platform, CL_PLATFORM_NAME, sizeof platform, platform, NULL);
    platform[sizeof platform - 1] = '\0';
    return strstr(platform, "Portable Computing Language") == NULL;
}

static clseq_status create_program(clseq_ctx *ctx)
{
    char options[512];
    size_t length = 0;
    clseq_status s = CLSEQ_OK;
    choose_tiles(ctx, options, sizeof options);
    /* $CLSEQ_BUILD_OPTIONS adds to the build (e.g. -cl-mad-enable); it is
     * part of the cache key like every option */
    const char *extra = getenv("CLSEQ_BUILD_OPTIONS");
    if (extra && *extra && strlen(options) + strlen(extra) + 2 > sizeof options)
        return clseq_fail(CLSEQ_E_ARG, "CLSEQ_BUILD_OPTIONS is longer than %zu bytes",
                          sizeof options - strlen(options) - 2);
    if (extra && *extra) {
        strcat(options, " ");
        strcat(options, extra);
    }
    char *source = concatenate_sources(&length);
    if (!source)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for kernel sources");
    int cached = use_clseq_cache(ctx);
    uint64_t key = cache_key(ctx, source, length, options);
    if (cached) {
        size_t size = 0;
        unsigned char *binary = clseq_cache_load(key, &size);
        if (binary) {
            ctx->program = program_from_binary(ctx, binary, size, options);
            free(binary);
            ctx->from_cache = ctx->program != NULL;
        }
    }
    if (!ctx->program) {
        cl_int err = CL_SUCCESS;
        const char *text = source;
        ctx->program = clCreateProgramWithSource(ctx->context, 1, &text, &length, &err);
        if (err != CL_SUCCESS) {
            s = clseq_cl_fail(err, "clCreateProgramWithSource");
            goto done;
        }
        err = clBuildProgram(ctx->program, 1, &ctx->device, options, NULL, NULL);
        if (err != CL_SUCCESS) {
            s = build_failure(ctx, ctx->program, err);
            goto done;
        }
        if (cached)
            store_binary(ctx, ctx->program, key);
    }
done:
    free(source);
    return s;
}

static clseq_status create_kernels(clseq_ctx *ctx)
{
    for (int i = 0; i < K_COUNT; i++) {
        cl_int err = CL_SUCCESS;
        ctx->kernels[i] = clCreateKernel(ctx->program, kernel_names[i], &err);
        if (err != CL_SUCCESS)
            return clseq_fail(CLSEQ_E_BUILD, "kernel '%s' missing from the program: %s",
                              kernel_names[i], clseq_cl_error_name(err));
        err = clGetKernelWorkGroupInfo(ctx->kernels[i], ctx->device, CL_KERNEL_WORK_GROUP_SIZE,
                                       sizeof ctx->kernel_wg[i], &ctx->kernel_wg[i], NULL);
        if (err != CL_SUCCESS)
            return clseq_cl_fail(err, "clGetKernelWorkGroupInfo");
        if (ctx->kernel_wg[i] == 0)
            ctx->kernel_wg[i] = 1;
    }
    size_t blocked = (size_t)(ctx->tiles.tm / ctx->tiles.wm) * (size_t)(ctx->tiles.tn / ctx->tiles.wn);
    /* CPUs have no fast local memory and PoCL serialises work-items around
     * barriers, so the register-blocked kernels without either win there;
     * $CLSEQ_GEMM_KERNEL=tiled|cpu overrides (tests run both). */
    const char *choice = getenv("CLSEQ_GEMM_KERNEL");
    ctx->cpu_gemm = choice ? strcmp(choice, "cpu") == 0 : (ctx->device_type & CL_DEVICE_TYPE_CPU) != 0;
    ctx->gemm_packed = 1;
    ctx->blocked_gemm_ok = ctx->kernel_wg[K_GEMM_NN] >= blocked &&
                           ctx->kernel_wg[K_GEMM_TN] >= blocked &&
                           ctx->kernel_wg[K_GEMM_NT] >= blocked;
    return CLSEQ_OK;
}

clseq_status clseq_program_build(clseq_ctx *ctx)
{
    double start = clseq_seconds() * 1e3;
    clseq_status s = create_program(ctx);
    if (s == CLSEQ_OK)
        s = create_kernels(ctx);
    if (s == CLSEQ_OK)
        s = clseq_gemm_provider_choose(ctx);
    ctx->build_ms = clseq_seconds() * 1e3 - start;
    return s;
}

void clseq_program_release(clseq_ctx *ctx)
{
    clseq_buffer_release(&ctx->pack[0]);
    clseq_buffer_release(&ctx->pack[1]);
    for (int i = 0; i < K_COUNT; i++) {
        if (ctx->kernels[i])
            clReleaseKernel(ctx->kernels[i]);
        ctx->kernels[i] = NULL;
    }
    if (ctx->program)
        clReleaseProgram(ctx->program);
    ctx->program = NULL;
}
