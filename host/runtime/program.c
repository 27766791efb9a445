/* Builds every kernel once per context: the embedded sources with the
 * device's tuning as -D defines, through clseq's binary cache where it helps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/cache.h"
#include "runtime/gemm_provider.h"
#include "runtime/sources.h"
#include "sys/clock.h"
#include "runtime/runtime.h"

/* Bumped whenever the cache file layout or build inputs change meaning. */
#define CACHE_FORMAT_VERSION "clseq-cache-1"

/* GEMM tiles by device: 64x64 tiles with 4x4 per work-item need 256
 * work-items; smaller devices get 32x32 (64 work-items). */
static void choose_tiles(clseq_device *dev, char *options, size_t size)
{
    clseq_gemm_tiles t = {64, 64, 16, 4, 4};
    if (dev->max_wg < 256 || dev->max_item[0] < 16 || dev->max_item[1] < 16)
        t = (clseq_gemm_tiles){32, 32, 16, 4, 4};
    dev->tiles = t;
    /* The fused trainer's group: one work-item on CPUs, where PoCL turns
     * work-items into loops around every barrier (one trains the seed
     * model 11x faster than 32 and compiles in 2 s instead of 10); a full
     * group on GPUs. */
    size_t fused = (dev->type & CL_DEVICE_TYPE_GPU) ? 256 : 1;
    while (fused > dev->max_wg || fused > dev->max_item[0])
        fused /= 2;
    dev->fused_size = fused;
    snprintf(options, size,
             "-cl-std=CL1.2 -DGEMM_TM=%d -DGEMM_TN=%d -DGEMM_TK=%d -DGEMM_WM=%d -DGEMM_WN=%d "
             "-DFUSED_SIZE=%zu",
             t.tm, t.tn, t.tk, t.wm, t.wn, fused);
}

/* dev's program source: its files (runtime/sources.c) in order, each
 * followed by a newline; NULL when out of memory. */
static char *program_text(const clseq_device *dev, size_t *length)
{
    const char *names[CLSEQ_MAX_PROGRAM_SOURCES];
    int count = clseq_program_sources(dev, names);
    size_t total = 1, part;
    for (int i = 0; i < count; i++) {
        if (!clseq_embedded_source(names[i], &part))
            return NULL; /* cannot happen: CMake embeds every listed file */
        total += part + 1;
    }
    char *text = malloc(total);
    if (!text)
        return NULL;
    size_t used = 0;
    for (int i = 0; i < count; i++) {
        const char *src = clseq_embedded_source(names[i], &part);
        memcpy(text + used, src, part);
        used += part;
        text[used++] = '\n';
    }
    text[used] = '\0';
    *length = used;
    return text;
}

static uint64_t cache_key(const clseq_device *dev, const char *source, size_t length,
                          const char *options)
{
    uint64_t h = clseq_fnv1a(CLSEQ_FNV_OFFSET, CACHE_FORMAT_VERSION, strlen(CACHE_FORMAT_VERSION));
    h = clseq_fnv1a(h, source, length);
    const char *parts[] = {options, dev->name, dev->version, dev->driver};
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
        h = clseq_fnv1a(h, parts[i], strlen(parts[i]) + 1); /* NUL separates fields */
    return h;
}

static clseq_status build_failure(clseq_device *dev, cl_program program, cl_int err)
{
    size_t log_size = 0;
    clGetProgramBuildInfo(program, dev->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_size);
    char *log = malloc(log_size + 1);
    if (log) {
        log[0] = '\0';
        clGetProgramBuildInfo(program, dev->id, CL_PROGRAM_BUILD_LOG, log_size, log, NULL);
        log[log_size] = '\0';
    }
    clseq_status s = clseq_fail(CLSEQ_E_BUILD, "building kernels for %s failed (%s):\n%s",
                                dev->name, clseq_cl_error_name(err), log ? log : "");
    free(log);
    return s;
}

static cl_program program_from_binary(clseq_device *dev, const unsigned char *binary, size_t size,
                                      const char *options)
{
    cl_int err = CL_SUCCESS, binary_status = CL_SUCCESS;
    cl_program program = clCreateProgramWithBinary(dev->ctx->context, 1, &dev->id, &size, &binary,
                                                   &binary_status, &err);
    if (err != CL_SUCCESS || binary_status != CL_SUCCESS)
        goto fail;
    if (clBuildProgram(program, 1, &dev->id, options, NULL, NULL) != CL_SUCCESS)
        goto fail;
    return program;
fail:
    if (program)
        clReleaseProgram(program);
    return NULL;
}

static void store_binary(const clseq_device *dev, cl_program program, uint64_t key)
{
    size_t size = 0;
    if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) !=
            CL_SUCCESS ||
        size == 0)
        return;
    unsigned char *binary = malloc(size);
    if (binary && clGetProgramInfo(program, CL_PROGRAM_BINARIES, sizeof binary, &binary, NULL) ==
                      CL_SUCCESS)
        clseq_cache_store(dev->ctx->options.cache_dir, key, binary, size);
    free(binary);
}

/* Whether clseq's own cache is worth using on this device: PoCL keeps its
 * own kernel cache, which already makes a warm build cheap (see README,
 * "Start-up"), so by default only other drivers go through clseq's cache;
 * the cache option forces it on or off (the tests force it on). */
static int use_clseq_cache(const clseq_device *dev)
{
    const clseq_ctx_options *o = &dev->ctx->options;
    if (o->cache >= 0 || !o->cache_dir[0])
        return o->cache == 1 && o->cache_dir[0];
    char platform[128] = "";
    clGetPlatformInfo(dev->ctx->platform, CL_PLATFORM_NAME, sizeof platform, platform, NULL);
    platform[sizeof platform - 1] = '\0';
    return strstr(platform, "Portable Computing Language") == NULL;
}

static clseq_status create_program(clseq_device *dev)
{
    char options[512];
    size_t length = 0;
    clseq_status s = CLSEQ_OK;
    choose_tiles(dev, options, sizeof options);
    /* the build_options option adds to the build (e.g. -cl-mad-enable); it
     * is part of the cache key like every option */
    const char *extra = dev->ctx->options.build_options;
    if (*extra && strlen(options) + strlen(extra) + 2 > sizeof options)
        return clseq_fail(CLSEQ_E_ARG, "build options are longer than %zu bytes",
                          sizeof options - strlen(options) - 2);
    if (*extra) {
        strcat(options, " ");
        strcat(options, extra);
    }
    char *source = program_text(dev, &length);
    if (!source)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for kernel sources");
    int cached = use_clseq_cache(dev);
    uint64_t key = cache_key(dev, source, length, options);
    if (cached) {
        size_t size = 0;
        unsigned char *binary = clseq_cache_load(dev->ctx->options.cache_dir, key, &size);
        if (binary) {
            dev->program = program_from_binary(dev, binary, size, options);
            free(binary);
            dev->from_cache = dev->program != NULL;
        }
    }
    if (!dev->program) {
        cl_int err = CL_SUCCESS;
        const char *text = source;
        dev->program = clCreateProgramWithSource(dev->ctx->context, 1, &text, &length, &err);
        if (err != CL_SUCCESS) {
            s = clseq_cl_fail(err, "clCreateProgramWithSource");
            goto done;
        }
        err = clBuildProgram(dev->program, 1, &dev->id, options, NULL, NULL);
        if (err != CL_SUCCESS) {
            s = build_failure(dev, dev->program, err);
            goto done;
        }
        if (cached)
            store_binary(dev, dev->program, key);
    }
done:
    free(source);
    return s;
}

static clseq_status create_kernels(clseq_device *dev)
{
    const char *names[CLSEQ_MAX_PROGRAM_SOURCES];
    int count = clseq_program_sources(dev, names);
    for (int i = 0; i < K_COUNT; i++) {
        cl_int err = CL_SUCCESS;
        if (!clseq_program_has_kernel(names, count, (clseq_kernel_id)i))
            continue; /* not built for this device */
        const char *name = clseq_kernel_name((clseq_kernel_id)i);
        dev->kernels[i] = clCreateKernel(dev->program, name, &err);
        if (err != CL_SUCCESS)
            return clseq_fail(CLSEQ_E_BUILD, "kernel '%s' missing from the program: %s", name,
                              clseq_cl_error_name(err));
        err = clGetKernelWorkGroupInfo(dev->kernels[i], dev->id, CL_KERNEL_WORK_GROUP_SIZE,
                                       sizeof dev->kernel_wg[i], &dev->kernel_wg[i], NULL);
        if (err != CL_SUCCESS)
            return clseq_cl_fail(err, "clGetKernelWorkGroupInfo");
        if (dev->kernel_wg[i] == 0)
            dev->kernel_wg[i] = 1;
    }
    size_t blocked = (size_t)(dev->tiles.tm / dev->tiles.wm) * (size_t)(dev->tiles.tn / dev->tiles.wn);
    /* CPUs have no fast local memory and PoCL serialises work-items around
     * barriers, so the register-blocked kernels without either win there;
     * the gemm_kernel option overrides (the tests run every family). */
    clseq_gemm_kernel family = dev->ctx->options.gemm_kernel;
    dev->cpu_gemm = dev->kernels[K_GEMM_CPU_NN] != NULL && family != CLSEQ_GEMM_KERNEL_TILED;
    dev->gemm_packed = family == CLSEQ_GEMM_KERNEL_PACKED ? 2 : 1;
    dev->blocked_gemm_ok = dev->kernel_wg[K_GEMM_NN] >= blocked &&
                           dev->kernel_wg[K_GEMM_TN] >= blocked &&
                           dev->kernel_wg[K_GEMM_NT] >= blocked;
    return CLSEQ_OK;
}

clseq_status clseq_program_build(clseq_device *dev)
{
    double start = clseq_seconds() * 1e3;
    clseq_status s = create_program(dev);
    if (s == CLSEQ_OK)
        s = create_kernels(dev);
    if (s == CLSEQ_OK)
        s = clseq_gemm_provider_choose(dev);
    dev->build_ms = clseq_seconds() * 1e3 - start;
    return s;
}

void clseq_program_release(clseq_device *dev)
{
    clseq_buffer_release(&dev->pack[0]);
    clseq_buffer_release(&dev->pack[1]);
    for (int i = 0; i < K_COUNT; i++) {
        if (dev->kernels[i])
            clReleaseKernel(dev->kernels[i]);
        dev->kernels[i] = NULL;
    }
    if (dev->program)
        clReleaseProgram(dev->program);
    dev->program = NULL;
}
