/* Context options: the defaults (the only place the library reads the
 * environment) and their validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

/* getenv, with "" for unset. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "";
}

/* A value too long for its field is left unterminated, which
 * clseq_ctx_create_with refuses, rather than cut into another value. */
static void copy(char *dst, size_t size, const char *src)
{
    if (strlen(src) < size)
        memcpy(dst, src, strlen(src) + 1);
    else
        memcpy(dst, src, size);
}

/* Names the environment gives for an enum option; -1 when it names none
 * (clseq_ctx_create_with then refuses the value it was given). */
static int parse_choice(const char *value, const char *const *names, int count)
{
    if (!*value)
        return 0;
    for (int i = 0; i < count; i++)
        if (strcmp(value, names[i]) == 0)
            return i;
    return -1;
}

static const char *const gemm_names[] = {"auto", "builtin", "clblast"};
static const char *const gemm_kernel_names[] = {"auto", "tiled", "cpu", "packed"};

/* "0" or "1" to 0 or 1, "" to the default -1, anything else to -2. */
static int parse_switch(const char *value)
{
    if (!*value)
        return -1;
    if (strcmp(value, "0") == 0)
        return 0;
    if (strcmp(value, "1") == 0)
        return 1;
    return -2;
}

static void default_cache_dir(char *out, size_t size)
{
    const char *dir = env("CLSEQ_CACHE_DIR"), *xdg = env("XDG_CACHE_HOME"), *home = env("HOME");
    int n = 0;
    if (*dir)
        n = snprintf(out, size, "%s", dir);
    else if (*xdg)
        n = snprintf(out, size, "%s/clseq", xdg);
    else if (*home)
        n = snprintf(out, size, "%s/.cache/clseq", home);
    if (n < 0 || (size_t)n >= size)
        out[0] = '\0'; /* a folder that does not fit is no cache, not a wrong one */
}

clseq_ctx_options clseq_ctx_defaults(void)
{
    clseq_ctx_options o;
    memset(&o, 0, sizeof o);
    copy(o.device, sizeof o.device, env("CLSEQ_DEVICE"));
    o.gemm = (clseq_gemm_provider)parse_choice(env("CLSEQ_GEMM"), gemm_names, 3);
    o.gemm_kernel = (clseq_gemm_kernel)parse_choice(env("CLSEQ_GEMM_KERNEL"), gemm_kernel_names, 4);
    o.fused = parse_switch(env("CLSEQ_FUSED"));
    /* CLSEQ_NO_CACHE (any value but "0") wins over CLSEQ_CACHE_ALWAYS=1 */
    const char *no_cache = env("CLSEQ_NO_CACHE");
    o.cache = (*no_cache && strcmp(no_cache, "0") != 0) ? 0
              : strcmp(env("CLSEQ_CACHE_ALWAYS"), "1") == 0 ? 1
                                                              : -1;
    default_cache_dir(o.cache_dir, sizeof o.cache_dir);
    copy(o.build_options, sizeof o.build_options, env("CLSEQ_BUILD_OPTIONS"));
    /* bytes, a whole decimal number; anything else -1, refused by the check */
    const char *data_bytes = env("CLSEQ_DATA_BYTES");
    char *end = NULL;
    long long bytes = *data_bytes ? strtoll(data_bytes, &end, 10) : 0;
    o.data_bytes = *data_bytes && (*end || bytes < 0 || data_bytes[0] == '-') ? -1 : bytes;
    /* "", "host" or "device"; anything else -2, refused by the check */
    const char *exchange = env("CLSEQ_EXCHANGE");
    o.exchange = !*exchange                          ? -1
                 : strcmp(exchange, "host") == 0   ? 0
                 : strcmp(exchange, "device") == 0 ? 1
                                                   : -2;
    return o;
}

static int terminated(const char *s, size_t size)
{
    return memchr(s, '\0', size) != NULL;
}

clseq_status clseq_ctx_options_check(const clseq_ctx_options *o)
{
    if ((int)o->gemm < 0 || o->gemm > CLSEQ_GEMM_CLBLAST)
        return clseq_fail(CLSEQ_E_ARG, "context options: gemm is %d; expected CLSEQ_GEMM_AUTO, "
                          "_BUILTIN or _CLBLAST (CLSEQ_GEMM='%s': expected builtin, clblast or "
                          "auto)", (int)o->gemm, env("CLSEQ_GEMM"));
    if ((int)o->gemm_kernel < 0 || o->gemm_kernel > CLSEQ_GEMM_KERNEL_PACKED)
        return clseq_fail(CLSEQ_E_ARG, "context options: gemm_kernel is %d; expected "
                          "CLSEQ_GEMM_KERNEL_AUTO, _TILED, _CPU or _PACKED (CLSEQ_GEMM_KERNEL='%s':"
                          " expected auto, tiled, cpu or packed)", (int)o->gemm_kernel,
                          env("CLSEQ_GEMM_KERNEL"));
    if (o->fused < -1 || o->fused > 1)
        return clseq_fail(CLSEQ_E_ARG, "context options: fused is %d; expected -1 (when it pays), "
                          "0 or 1 (CLSEQ_FUSED='%s')", o->fused, env("CLSEQ_FUSED"));
    if (o->cache < -1 || o->cache > 1)
        return clseq_fail(CLSEQ_E_ARG, "context options: cache is %d; expected -1, 0 or 1",
                          o->cache);
    if (o->data_bytes < 0)
        return clseq_fail(CLSEQ_E_ARG, "context options: data_bytes is %lld; expected 0 (half "
                          "of what the device has left) or more (CLSEQ_DATA_BYTES='%s': a "
                          "whole number of bytes)", o->data_bytes, env("CLSEQ_DATA_BYTES"));
    if (o->fail_after < 0)
        return clseq_fail(CLSEQ_E_ARG, "context options: fail_after is %lld; expected 0 (off) "
                          "or the device operation to fail (1 or more)", o->fail_after);
    if (o->exchange < -1 || o->exchange > 1)
        return clseq_fail(CLSEQ_E_ARG, "context options: exchange is %d; expected -1 (the "
                          "faster), 0 (host) or 1 (device to device) (CLSEQ_EXCHANGE='%s': "
                          "expected host or device)", o->exchange, env("CLSEQ_EXCHANGE"));
    if (!terminated(o->device, sizeof o->device) ||
        !terminated(o->cache_dir, sizeof o->cache_dir) ||
        !terminated(o->build_options, sizeof o->build_options))
        return clseq_fail(CLSEQ_E_ARG, "context options: device, cache_dir or build_options is "
                          "longer than its field (%zu, %zu, %zu bytes) or not NUL-terminated",
                          sizeof o->device - 1, sizeof o->cache_dir - 1,
                          sizeof o->build_options - 1);
    return CLSEQ_OK;
}

const clseq_ctx_options *clseq_ctx_get_options(const clseq_ctx *ctx)
{
    return ctx ? &ctx->options : NULL;
}
