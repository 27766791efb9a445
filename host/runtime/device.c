/* Device discovery, the device-spec rules of docs/design.md, and contexts. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "runtime/gemm_provider.h"
#include "runtime/runtime.h"

#ifndef CL_PLATFORM_NOT_FOUND_KHR
#define CL_PLATFORM_NOT_FOUND_KHR -1001 /* cl_khr_icd: the loader found no platform */
#endif

enum { MAX_PLATFORMS = 16, MAX_DEVICES = 64 };

/* Every (platform, device) pair in enumeration order. */
typedef struct device_list {
    int count;
    cl_platform_id platform[MAX_DEVICES];
    cl_device_id device[MAX_DEVICES];
    int platform_index[MAX_DEVICES];
    int device_index[MAX_DEVICES];
} device_list;

static clseq_status enumerate_devices(device_list *list)
{
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint nplat = 0;
    list->count = 0;
    cl_int err = clGetPlatformIDs(MAX_PLATFORMS, platforms, &nplat);
    if (err == CL_PLATFORM_NOT_FOUND_KHR || (err == CL_SUCCESS && nplat == 0)) {
        /* The loader reports a platform whose library failed to load (as
         * LLVM-based ones do under a small `ulimit -v`) as no platform. */
        struct rlimit as;
        if (getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
            return clseq_fail(CLSEQ_E_NODEVICE,
                              "no OpenCL platform found; is an ICD such as pocl-opencl-icd "
                              "installed? This process's address space is limited to %llu MiB "
                              "(ulimit -v), which can also stop an OpenCL driver from loading",
                              (unsigned long long)(as.rlim_cur >> 20));
        return clseq_fail(CLSEQ_E_NODEVICE,
                          "no OpenCL platform found (is an ICD such as pocl-opencl-icd installed?)");
    }
    if (err == CL_OUT_OF_HOST_MEMORY || err == CL_OUT_OF_RESOURCES)
        return clseq_fail(CLSEQ_E_NOMEM,
                          "the OpenCL loader ran out of memory listing platforms "
                          "(clGetPlatformIDs: %s); free memory or raise the process's limits",
                          clseq_cl_error_name(err));
    if (err != CL_SUCCESS)
        return clseq_cl_fail(err, "clGetPlatformIDs");
    if (nplat > MAX_PLATFORMS)
        nplat = MAX_PLATFORMS;
    for (cl_uint p = 0; p < nplat; p++) {
        cl_device_id devices[MAX_DEVICES];
        cl_uint ndev = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, devices, &ndev) !=
            CL_SUCCESS)
            continue; /* a platform without devices is not an error */
        for (cl_uint d = 0; d < ndev && d < MAX_DEVICES && list->count < MAX_DEVICES; d++) {
            int i = list->count++;
            list->platform[i] = platforms[p];
            list->device[i] = devices[d];
            list->platform_index[i] = (int)p;
            list->device_index[i] = (int)d;
        }
    }
    if (list->count == 0)
        return clseq_fail(CLSEQ_E_NODEVICE, "no OpenCL device found on %u platform(s)", nplat);
    return CLSEQ_OK;
}

static void device_string(cl_device_id dev, cl_device_info what, char *out, size_t size)
{
    out[0] = '\0';
    if (clGetDeviceInfo(dev, what, size, out, NULL) != CL_SUCCESS)
        snprintf(out, size, "?");
    out[size - 1] = '\0';
}

static cl_device_type device_type(cl_device_id dev)
{
    cl_device_type type = 0;
    clGetDeviceInfo(dev, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    return type;
}

static int contains_nocase(const char *haystack, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return 0;
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && haystack[i] &&
               tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* Index into list of the device a spec names, or -1. */
static int match_spec(const device_list *list, const char *spec)
{
    int p, d;
    char tail;
    if (sscanf(spec, "%d:%d%c", &p, &d, &tail) == 2) {
        for (int i = 0; i < list->count; i++)
            if (list->platform_index[i] == p && list->device_index[i] == d)
                return i;
        return -1;
    }
    cl_device_type want = 0;
    if (strcasecmp(spec, "gpu") == 0)
        want = CL_DEVICE_TYPE_GPU;
    else if (strcasecmp(spec, "cpu") == 0)
        want = CL_DEVICE_TYPE_CPU;
    for (int i = 0; i < list->count; i++) {
        if (want) {
            if (device_type(list->device[i]) & want)
                return i;
            continue;
        }
        char name[128];
        device_string(list->device[i], CL_DEVICE_NAME, name, sizeof name);
        if (contains_nocase(name, spec))
            return i;
    }
    return -1;
}

/* The default device: first GPU, else the first device. */
static int default_index(const device_list *list)
{
    for (int i = 0; i < list->count; i++)
        if (device_type(list->device[i]) & CL_DEVICE_TYPE_GPU)
            return i;
    return 0;
}

static void describe_devices(const device_list *list, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < list->count && used + 1 < size; i++) {
        char name[128];
        device_string(list->device[i], CL_DEVICE_NAME, name, sizeof name);
        int w = snprintf(out + used, size - used, "%s%d:%d %s", i ? "; " : "",
                         list->platform_index[i], list->device_index[i], name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* The device spec names (the default rules for an empty spec). */
static clseq_status select_device(const char *spec, const device_list *list, int *index)
{
    if (!*spec) {
        *index = default_index(list);
        return CLSEQ_OK;
    }
    *index = match_spec(list, spec);
    if (*index >= 0)
        return CLSEQ_OK;
    char names[2048];
    describe_devices(list, names, sizeof names);
    return clseq_fail(CLSEQ_E_NODEVICE,
                      "no OpenCL device matches '%s' (forms: gpu, cpu, P:D, or part of a name, "
                      "several joined by commas, or all); devices: %s",
                      spec, names);
}

/* The devices a context opens: indices into the list and each one's share
 * of every training batch (relative; data-parallel fits split by it). */
typedef struct device_choice {
    int count;
    int index[CLSEQ_MAX_DEVICES];
    float share[CLSEQ_MAX_DEVICES];
} device_choice;

/* Adds list entry i with share to c, refusing repeats and more than fit. */
static clseq_status choose(device_choice *c, const device_list *list, int i, float share)
{
    for (int k = 0; k < c->count; k++)
        if (c->index[k] == i)
            return clseq_fail(CLSEQ_E_ARG, "device spec: device %d:%d is named twice",
                              list->platform_index[i], list->device_index[i]);
    if (c->count == CLSEQ_MAX_DEVICES)
        return clseq_fail(CLSEQ_E_ARG, "device spec: more than %d devices", CLSEQ_MAX_DEVICES);
    c->index[c->count] = i;
    c->share[c->count++] = share;
    return CLSEQ_OK;
}

/* One comma-separated item: "all" (every device of the default device's
 * platform), or a single spec with an optional "@SHARE" (a number > 0). */
static clseq_status choose_item(device_choice *c, const device_list *list, char *item)
{
    float share = 1.0f;
    char *at = strrchr(item, '@');
    if (at) {
        char *end;
        *at = '\0';
        share = strtof(at + 1, &end);
        if (end == at + 1 || *end || !(share > 0.0f) || share > 1e6f)
            return clseq_fail(CLSEQ_E_ARG, "device spec: share '%s' of '%s' is not a number "
                              "in (0, 1e6]", at + 1, item);
    }
    if (strcasecmp(item, "all") != 0) {
        int i;
        clseq_status s = select_device(item, list, &i);
        return s == CLSEQ_OK ? choose(c, list, i, share) : s;
    }
    cl_platform_id platform = list->platform[default_index(list)];
    for (int i = 0; i < list->count; i++) {
        clseq_status s = list->platform[i] == platform ? choose(c, list, i, share) : CLSEQ_OK;
        if (s != CLSEQ_OK)
            return s;
    }
    return CLSEQ_OK;
}

/* A spec of one or more devices: "gpu", "0:1", "0:0,0:1@2", "all". One
 * OpenCL context spans one platform, so every device must be on the
 * first's. */
static clseq_status select_devices(const char *spec, const device_list *list, device_choice *c)
{
    c->count = 0;
    if (!strchr(spec, ',') && !strchr(spec, '@') && strcasecmp(spec, "all") != 0) {
        int i;
        clseq_status s = select_device(spec, list, &i);
        return s == CLSEQ_OK ? choose(c, list, i, 1.0f) : s;
    }
    char copy[sizeof ((clseq_ctx_options *)0)->device];
    snprintf(copy, sizeof copy, "%s", spec);
    char *save = NULL;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        clseq_status s = choose_item(c, list, item);
        if (s != CLSEQ_OK)
            return s;
    }
    if (c->count == 0)
        return clseq_fail(CLSEQ_E_ARG, "device spec '%s' names no device", spec);
    for (int k = 1; k < c->count; k++)
        if (list->platform[c->index[k]] != list->platform[c->index[0]])
            return clseq_fail(CLSEQ_E_ARG, "device spec '%s': devices %d:%d and %d:%d are on "
                              "different platforms; one context spans one platform", spec,
                              list->platform_index[c->index[0]], list->device_index[c->index[0]],
                              list->platform_index[c->index[k]], list->device_index[c->index[k]]);
    return CLSEQ_OK;
}

clseq_status clseq_list_devices(clseq_device_info *out, int capacity, int *count)
{
    if (!count)
        return clseq_fail(CLSEQ_E_ARG, "clseq_list_devices: count is NULL");
    if (capacity < 0 || (capacity > 0 && !out))
        return clseq_fail(CLSEQ_E_ARG, "clseq_list_devices: out is NULL or capacity %d < 0",
                          capacity);
    device_list list;
    clseq_status s = enumerate_devices(&list);
    *count = 0;
    if (s != CLSEQ_OK)
        return s;
    /* the device clseq_ctx_create(NULL) would open ($CLSEQ_DEVICE first);
     * a $CLSEQ_DEVICE that matches nothing marks none */
    clseq_ctx_options defaults = clseq_ctx_defaults();
    device_choice chosen;
    int def = select_devices(defaults.device, &list, &chosen) == CLSEQ_OK ? chosen.index[0] : -1;
    for (int i = 0; i < list.count && i < capacity; i++) {
        clseq_device_info *info = &out[i];
        cl_device_id dev = list.device[i];
        cl_device_type type = device_type(dev);
        cl_uint units = 0;
        cl_ulong global = 0, local = 0;
        memset(info, 0, sizeof *info);
        info->platform_index = list.platform_index[i];
        info->device_index = list.device_index[i];
        clGetPlatformInfo(list.platform[i], CL_PLATFORM_NAME, sizeof info->platform,
                          info->platform, NULL);
        info->platform[sizeof info->platform - 1] = '\0';
        device_string(dev, CL_DEVICE_NAME, info->name, sizeof info->name);
        device_string(dev, CL_DEVICE_VERSION, info->version, sizeof info->version);
        device_string(dev, CL_DRIVER_VERSION, info->driver, sizeof info->driver);
        snprintf(info->type, sizeof info->type, "%s",
                 (type & CL_DEVICE_TYPE_GPU)           ? "GPU"
                 : (type & CL_DEVICE_TYPE_CPU)         ? "CPU"
                 : (type & CL_DEVICE_TYPE_ACCELERATOR) ? "ACCEL"
                                                       : "OTHER");
        clGetDeviceInfo(dev, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
        clGetDeviceInfo(dev, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
        clGetDeviceInfo(dev, CL_DEVICE_LOCAL_MEM_SIZE, sizeof local, &local, NULL);
        info->compute_units = (int)units;
        info->global_mem = global;
        info->local_mem = local;
        info->is_default = (i == def);
    }
    *count = list.count;
    return CLSEQ_OK;
}

/* Reads the limits the kernels and tuning depend on. */
static void query_device(clseq_device *dev)
{
    cl_device_id id = dev->id;
    device_string(id, CL_DEVICE_NAME, dev->name, sizeof dev->name);
    device_string(id, CL_DEVICE_VERSION, dev->version, sizeof dev->version);
    device_string(id, CL_DRIVER_VERSION, dev->driver, sizeof dev->driver);
    dev->type = device_type(id);
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof dev->max_wg, &dev->max_wg, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_ITEM_SIZES, sizeof dev->max_item, dev->max_item, NULL);
    clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof dev->local_mem, &dev->local_mem, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof dev->max_alloc, &dev->max_alloc,
                    NULL);
    clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof dev->global_mem, &dev->global_mem,
                    NULL);
    if (dev->max_wg == 0)
        dev->max_wg = 1;
}

/* dev's queue, program and kernels. */
static clseq_status open_device(clseq_ctx *ctx, clseq_device *dev, cl_device_id id)
{
    dev->ctx = ctx;
    dev->id = id;
    query_device(dev);
    clseq_status s = clseq_buffer_ledger_open(dev);
    if (s != CLSEQ_OK)
        return s;
    cl_int err = CL_SUCCESS;
    dev->queue = clCreateCommandQueue(ctx->context, id, 0, &err);
    if (err != CL_SUCCESS)
        return clseq_cl_fail(err, "clCreateCommandQueue");
    return clseq_program_build(dev);
}

static void close_device(clseq_device *dev)
{
    if (dev->queue)
        clFinish(dev->queue);
    clseq_program_release(dev);
    clseq_gemm_provider_release(dev);
    clseq_buffer_ledger_close(dev);
    if (dev->queue)
        clReleaseCommandQueue(dev->queue);
    dev->queue = NULL;
}

clseq_status clseq_ctx_create_with(const clseq_ctx_options *opt, clseq_ctx **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_ctx_create_with: out is NULL");
    *out = NULL;
    if (!opt)
        return clseq_fail(CLSEQ_E_ARG, "clseq_ctx_create_with: options are NULL");
    clseq_status s = clseq_ctx_options_check(opt);
    if (s != CLSEQ_OK)
        return s;
    device_list list;
    device_choice chosen;
    if ((s = enumerate_devices(&list)) != CLSEQ_OK ||
        (s = select_devices(opt->device, &list, &chosen)) != CLSEQ_OK)
        return s;

    clseq_ctx *ctx = calloc(1, sizeof *ctx);
    clseq_device *devices = calloc((size_t)chosen.count, sizeof *devices);
    if (!ctx || !devices) {
        free(ctx);
        free(devices);
        return clseq_fail(CLSEQ_E_NOMEM, "clseq_ctx_create: out of host memory");
    }
    ctx->options = *opt;
    ctx->platform = list.platform[chosen.index[0]];
    ctx->devices = devices;
    cl_device_id ids[CLSEQ_MAX_DEVICES];
    for (int k = 0; k < chosen.count; k++)
        ids[k] = list.device[chosen.index[k]];
    cl_int err = CL_SUCCESS;
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform,
                                     0};
    ctx->context = clCreateContext(props, (cl_uint)chosen.count, ids, NULL, NULL, &err);
    if (err != CL_SUCCESS) {
        s = clseq_cl_fail(err, "clCreateContext");
        goto fail;
    }
    /* counted as each opens, so clseq_ctx_free closes only opened ones */
    for (int k = 0; k < chosen.count; k++) {
        ctx->device_count = k + 1;
        ctx->devices[k].share = chosen.share[k];
        if ((s = open_device(ctx, &ctx->devices[k], ids[k])) != CLSEQ_OK)
            goto fail;
    }
    *out = ctx;
    return CLSEQ_OK;
fail:
    clseq_ctx_free(ctx);
    return s;
}

clseq_status clseq_ctx_create(const char *device_spec, clseq_ctx **out)
{
    clseq_ctx_options opt = clseq_ctx_defaults();
    if (device_spec && strlen(device_spec) >= sizeof opt.device)
        return clseq_fail(CLSEQ_E_ARG, "clseq_ctx_create: device spec longer than %zu bytes",
                          sizeof opt.device - 1);
    if (device_spec)
        snprintf(opt.device, sizeof opt.device, "%s", device_spec);
    return clseq_ctx_create_with(&opt, out);
}

void clseq_ctx_free(clseq_ctx *ctx)
{
    if (!ctx)
        return;
    for (int i = 0; i < ctx->device_count; i++)
        close_device(&ctx->devices[i]);
    free(ctx->devices);
    if (ctx->context)
        clReleaseContext(ctx->context);
    free(ctx);
}

clseq_device *clseq_ctx_main_device(clseq_ctx *ctx)
{
    return &ctx->devices[0];
}

const char *clseq_ctx_device_name(const clseq_ctx *ctx)
{
    return ctx && ctx->device_count ? ctx->devices[0].name : "";
}

int clseq_ctx_device_count(const clseq_ctx *ctx)
{
    return ctx ? ctx->device_count : 0;
}

const char *clseq_ctx_device_name_at(const clseq_ctx *ctx, int i)
{
    return ctx && i >= 0 && i < ctx->device_count ? ctx->devices[i].name : NULL;
}

int clseq_ctx_from_cache(const clseq_ctx *ctx)
{
    return ctx && ctx->device_count ? ctx->devices[0].from_cache : 0;
}
