/* Device-spec parsing, the device list, error names, context options (the
 * defaults read from the environment, refused values, the GEMM family and
 * provider they pick), and the program-binary cache (hits, corrupted and
 * truncated entries, the cache turned off, an unwritable directory). Cache
 * tests set the cache option to 1 so the cache is exercised on PoCL too,
 * where it is off by default. Only the tests of what clseq_ctx_defaults
 * reads set environment variables, and they restore them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ctype.h>

#include "runtime/cache.h"
#include "runtime/runtime.h"
#include "testutil.h"

START_TEST(every_spec_form_selects_a_device)
{
    clseq_device_info devices[16];
    int count = 0;
    ck_assert_clseq_ok(clseq_list_devices(devices, 16, &count));
    ck_assert_int_ge(count, 1);
    int defaults = 0;
    for (int i = 0; i < count && i < 16; i++)
        defaults += devices[i].is_default;
    ck_assert_int_eq(defaults, 1);

    char spec[64], part[8];
    const clseq_device_info *d = &devices[0];
    snprintf(spec, sizeof spec, "%d:%d", d->platform_index, d->device_index);
    snprintf(part, sizeof part, "%.4s", d->name);
    for (size_t i = 0; i < strlen(part); i++) /* case-insensitive substring */
        part[i] = (char)((i % 2) ? tolower((unsigned char)part[i]) : toupper((unsigned char)part[i]));
    const char *specs[] = {spec, part, strcmp(d->type, "GPU") == 0 ? "gpu" : "cpu", NULL};
    for (int i = 0; specs[i]; i++) {
        clseq_ctx *ctx = NULL;
        ck_assert_clseq_ok(clseq_ctx_create(specs[i], &ctx));
        ck_assert_str_eq(clseq_ctx_device_name(ctx), d->name);
        clseq_ctx_free(ctx);
    }
}
END_TEST

START_TEST(bad_spec_names_the_devices)
{
    clseq_ctx *ctx = (clseq_ctx *)0x1;
    const char *bad[] = {"no-such-device-xyz", "9:9", "0:99"};
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(clseq_ctx_create(bad[i], &ctx), CLSEQ_E_NODEVICE);
        ck_assert_ptr_null(ctx);
        ck_assert_msg(strstr(clseq_last_error(), bad[i]), "message lacks the spec: %s", clseq_last_error());
        ck_assert_msg(strstr(clseq_last_error(), clseq_ctx_device_name(test_ctx())),
                      "message lacks the device list: %s", clseq_last_error());
    }
    ck_assert_int_eq(clseq_ctx_create(NULL, NULL), CLSEQ_E_ARG);
    int count;
    ck_assert_int_eq(clseq_list_devices(NULL, 3, &count), CLSEQ_E_ARG);
}
END_TEST

START_TEST(status_and_cl_error_names)
{
    ck_assert_str_eq(clseq_status_name(CLSEQ_E_SHAPE), "CLSEQ_E_SHAPE");
    ck_assert_str_eq(clseq_status_name((clseq_status)99), "CLSEQ_E_UNKNOWN");
    ck_assert_int_eq(clseq_cl_fail(CL_MEM_OBJECT_ALLOCATION_FAILURE, "clCreateBuffer"), CLSEQ_E_NOMEM);
    ck_assert_msg(strstr(clseq_last_error(), "CL_MEM_OBJECT_ALLOCATION_FAILURE"), "%s", clseq_last_error());
    ck_assert_int_eq(clseq_cl_fail(CL_INVALID_KERNEL_ARGS, "clEnqueueNDRangeKernel"), CLSEQ_E_CL);
    ck_assert_msg(strstr(clseq_last_error(), "clEnqueueNDRangeKernel: CL_INVALID_KERNEL_ARGS"), "%s",
                  clseq_last_error());
}
END_TEST

/* ---- context options ------------------------------------------------ */

/* The environment variables clseq_ctx_defaults reads, and the ones its
 * cache folder falls back on. */
static const char *const env_names[] = {
    "CLSEQ_DEVICE", "CLSEQ_GEMM", "CLSEQ_GEMM_KERNEL", "CLSEQ_FUSED", "CLSEQ_NO_CACHE",
    "CLSEQ_CACHE_ALWAYS", "CLSEQ_CACHE_DIR", "CLSEQ_BUILD_OPTIONS", "XDG_CACHE_HOME", "HOME"};
enum { ENV_COUNT = sizeof env_names / sizeof env_names[0] };

typedef struct saved_env {
    int set[ENV_COUNT];
    char value[ENV_COUNT][4096];
} saved_env;

static saved_env saved;

/* Saves every variable above and unsets the CLSEQ_* ones, so that a test of
 * the defaults starts from a known environment; env_restore puts them back.
 * Only the "environment" test case (tests of what clseq_ctx_defaults reads)
 * touches the environment, through these as its checked fixture, which
 * runs even when a test fails. */
static void env_save_and_clear(void)
{
    for (int i = 0; i < ENV_COUNT; i++) {
        const char *v = getenv(env_names[i]);
        saved.set[i] = v != NULL;
        snprintf(saved.value[i], sizeof saved.value[i], "%s", v ? v : "");
        if (strncmp(env_names[i], "CLSEQ_", 6) == 0)
            unsetenv(env_names[i]);
    }
}

static void env_restore(void)
{
    for (int i = 0; i < ENV_COUNT; i++) {
        if (saved.set[i])
            setenv(env_names[i], saved.value[i], 1);
        else
            unsetenv(env_names[i]);
    }
}

/* clseq_ctx_defaults reads each variable into its field; unset ones give
 * the documented defaults. */
START_TEST(defaults_reflect_the_environment)
{
    setenv("XDG_CACHE_HOME", "/xdg/cache", 1);
    clseq_ctx_options o = clseq_ctx_defaults();
    ck_assert_str_eq(o.device, "");
    ck_assert_int_eq(o.gemm, CLSEQ_GEMM_AUTO);
    ck_assert_int_eq(o.gemm_kernel, CLSEQ_GEMM_KERNEL_AUTO);
    ck_assert_int_eq(o.fused, -1);
    ck_assert_int_eq(o.cache, -1);
    ck_assert_str_eq(o.cache_dir, "/xdg/cache/clseq");
    ck_assert_str_eq(o.build_options, "");
    ck_assert_clseq_ok(clseq_ctx_options_check(&o));
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/someone", 1);
    ck_assert_str_eq(clseq_ctx_defaults().cache_dir, "/home/someone/.cache/clseq");
    unsetenv("HOME");
    ck_assert_str_eq(clseq_ctx_defaults().cache_dir, ""); /* nowhere to cache */

    setenv("CLSEQ_DEVICE", "cpu", 1);
    setenv("CLSEQ_GEMM", "builtin", 1);
    setenv("CLSEQ_GEMM_KERNEL", "packed", 1);
    setenv("CLSEQ_FUSED", "0", 1);
    setenv("CLSEQ_CACHE_ALWAYS", "1", 1);
    setenv("CLSEQ_CACHE_DIR", "/some/cache", 1);
    setenv("CLSEQ_BUILD_OPTIONS", "-cl-mad-enable", 1);
    o = clseq_ctx_defaults();
    ck_assert_str_eq(o.device, "cpu");
    ck_assert_int_eq(o.gemm, CLSEQ_GEMM_BUILTIN);
    ck_assert_int_eq(o.gemm_kernel, CLSEQ_GEMM_KERNEL_PACKED);
    ck_assert_int_eq(o.fused, 0);
    ck_assert_int_eq(o.cache, 1);
    ck_assert_str_eq(o.cache_dir, "/some/cache");
    ck_assert_str_eq(o.build_options, "-cl-mad-enable");

    setenv("CLSEQ_GEMM", "clblast", 1);
    setenv("CLSEQ_GEMM_KERNEL", "tiled", 1);
    setenv("CLSEQ_FUSED", "1", 1);
    setenv("CLSEQ_NO_CACHE", "1", 1); /* wins over CLSEQ_CACHE_ALWAYS=1 */
    o = clseq_ctx_defaults();
    ck_assert_int_eq(o.gemm, CLSEQ_GEMM_CLBLAST);
    ck_assert_int_eq(o.gemm_kernel, CLSEQ_GEMM_KERNEL_TILED);
    ck_assert_int_eq(o.fused, 1);
    ck_assert_int_eq(o.cache, 0);
    setenv("CLSEQ_GEMM", "auto", 1);
    setenv("CLSEQ_GEMM_KERNEL", "cpu", 1);
    setenv("CLSEQ_NO_CACHE", "0", 1); /* "0" is no CLSEQ_NO_CACHE */
    o = clseq_ctx_defaults();
    ck_assert_int_eq(o.gemm, CLSEQ_GEMM_AUTO);
    ck_assert_int_eq(o.gemm_kernel, CLSEQ_GEMM_KERNEL_CPU);
    ck_assert_int_eq(o.cache, 1);
    unsetenv("CLSEQ_CACHE_ALWAYS");
    ck_assert_int_eq(clseq_ctx_defaults().cache, -1);

    /* values that name nothing are kept so that creation refuses them */
    setenv("CLSEQ_GEMM_KERNEL", "wide", 1);
    o = clseq_ctx_defaults();
    ck_assert_int_eq(clseq_ctx_options_check(&o), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "gemm_kernel") && strstr(clseq_last_error(), "wide"),
                  "%s", clseq_last_error());
    unsetenv("CLSEQ_GEMM_KERNEL");
    setenv("CLSEQ_FUSED", "yes", 1);
    o = clseq_ctx_defaults();
    ck_assert_int_eq(clseq_ctx_options_check(&o), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "fused") && strstr(clseq_last_error(), "yes"), "%s",
                  clseq_last_error());
}
END_TEST

/* An unknown $CLSEQ_GEMM makes context creation fail, naming the value,
 * before any device is opened. */
START_TEST(unknown_gemm_in_the_environment_is_refused)
{
    setenv("CLSEQ_GEMM", "bogus", 1);
    clseq_ctx *ctx = (clseq_ctx *)0x1;
    ck_assert_int_eq(clseq_ctx_create(NULL, &ctx), CLSEQ_E_ARG);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(clseq_last_error(), "bogus") && strstr(clseq_last_error(), "gemm"), "%s",
                  clseq_last_error());
}
END_TEST

/* $CLSEQ_DEVICE, through the defaults, decides the device clseq_list_devices
 * marks; one that matches nothing marks none (clseq_ctx_create(NULL) would
 * fail). */
START_TEST(listed_default_follows_the_environment)
{
    clseq_device_info devices[16];
    int count = 0, marked = 0;
    setenv("CLSEQ_DEVICE", "no-device-is-called-this", 1);
    ck_assert_clseq_ok(clseq_list_devices(devices, 16, &count));
    for (int i = 0; i < count && i < 16; i++)
        marked += devices[i].is_default;
    ck_assert_int_eq(marked, 0);
    setenv("CLSEQ_DEVICE", "0:0", 1);
    ck_assert_clseq_ok(clseq_list_devices(devices, 16, &count));
    ck_assert_int_eq(devices[0].is_default, 1);
}
END_TEST

/* Options out of range are CLSEQ_E_ARG naming the field and its value,
 * before any device is opened; the ranges' ends are accepted. */
START_TEST(bad_options_are_refused_naming_the_field)
{
    const clseq_ctx_options defaults = clseq_ctx_defaults();
    const struct {
        const char *field;
        int value;
    } bad[] = {{"gemm is 99", 99},
               {"gemm_kernel is -5", -5},
               {"fused is 7", 7},
               {"cache is 3", 3},
               {"gemm is -1", -1},
               {"gemm_kernel is 4", 4},
               {"fused is -2", -2},
               {"cache is -2", -2}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        clseq_ctx_options o = defaults;
        switch (i % 4) {
        case 0: o.gemm = (clseq_gemm_provider)bad[i].value; break;
        case 1: o.gemm_kernel = (clseq_gemm_kernel)bad[i].value; break;
        case 2: o.fused = bad[i].value; break;
        default: o.cache = bad[i].value; break;
        }
        clseq_ctx *ctx = (clseq_ctx *)0x1;
        ck_assert_int_eq(clseq_ctx_create_with(&o, &ctx), CLSEQ_E_ARG);
        ck_assert_ptr_null(ctx);
        ck_assert_msg(strstr(clseq_last_error(), bad[i].field), "refusing '%s' the message "
                      "says: %s", bad[i].field, clseq_last_error());
    }
    /* strings without their NUL */
    clseq_ctx_options o = defaults;
    memset(o.device, 'x', sizeof o.device);
    clseq_ctx *ctx = (clseq_ctx *)0x1;
    ck_assert_int_eq(clseq_ctx_create_with(&o, &ctx), CLSEQ_E_ARG);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(clseq_last_error(), "device"), "%s", clseq_last_error());
    o = defaults;
    memset(o.build_options, '-', sizeof o.build_options);
    ck_assert_int_eq(clseq_ctx_create_with(&o, &ctx), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "build_options"), "%s", clseq_last_error());
    /* missing arguments */
    ck_assert_int_eq(clseq_ctx_create_with(NULL, &ctx), CLSEQ_E_ARG);
    ck_assert_ptr_null(ctx);
    ck_assert_int_eq(clseq_ctx_create_with(&defaults, NULL), CLSEQ_E_ARG);
    char long_spec[300];
    memset(long_spec, 'c', sizeof long_spec - 1);
    long_spec[sizeof long_spec - 1] = '\0';
    ck_assert_int_eq(clseq_ctx_create(long_spec, &ctx), CLSEQ_E_ARG);
    /* every value in range passes the check */
    for (int v = -1; v <= 1; v++) {
        o = defaults;
        o.fused = v;
        o.cache = v;
        ck_assert_clseq_ok(clseq_ctx_options_check(&o));
    }
    for (int v = CLSEQ_GEMM_AUTO; v <= CLSEQ_GEMM_CLBLAST; v++) {
        o = defaults;
        o.gemm = (clseq_gemm_provider)v;
        ck_assert_clseq_ok(clseq_ctx_options_check(&o));
    }
    for (int v = CLSEQ_GEMM_KERNEL_AUTO; v <= CLSEQ_GEMM_KERNEL_PACKED; v++) {
        o = defaults;
        o.gemm_kernel = (clseq_gemm_kernel)v;
        ck_assert_clseq_ok(clseq_ctx_options_check(&o));
    }
}
END_TEST

static void assert_options_eq(const clseq_ctx_options *got, const clseq_ctx_options *want)
{
    ck_assert_str_eq(got->device, want->device);
    ck_assert_int_eq(got->gemm, want->gemm);
    ck_assert_int_eq(got->gemm_kernel, want->gemm_kernel);
    ck_assert_int_eq(got->fused, want->fused);
    ck_assert_int_eq(got->cache, want->cache);
    ck_assert_str_eq(got->cache_dir, want->cache_dir);
    ck_assert_str_eq(got->build_options, want->build_options);
}

/* A context keeps a copy of the options it was made with. */
START_TEST(context_returns_its_options)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    snprintf(o.device, sizeof o.device, "cpu");
    o.gemm = CLSEQ_GEMM_BUILTIN;
    o.gemm_kernel = CLSEQ_GEMM_KERNEL_CPU;
    o.fused = 0;
    o.cache = 0;
    snprintf(o.cache_dir, sizeof o.cache_dir, "/nonexistent/clseq-test-cache");
    clseq_ctx *ctx = test_ctx_with(&o);
    const clseq_ctx_options *got = clseq_ctx_get_options(ctx);
    ck_assert_ptr_nonnull(got);
    ck_assert_ptr_ne(got, &o);
    ck_assert_str_eq(got->device, "cpu");
    ck_assert_int_eq(got->gemm, CLSEQ_GEMM_BUILTIN);
    ck_assert_int_eq(got->gemm_kernel, CLSEQ_GEMM_KERNEL_CPU);
    ck_assert_int_eq(got->fused, 0);
    ck_assert_int_eq(got->cache, 0);
    ck_assert_str_eq(got->cache_dir, "/nonexistent/clseq-test-cache");
    assert_options_eq(got, &o);
    o.fused = 1; /* the caller's struct is its own */
    ck_assert_int_eq(clseq_ctx_get_options(ctx)->fused, 0);
    clseq_ctx_free(ctx);
    ck_assert_ptr_null(clseq_ctx_get_options(NULL));
    /* clseq_ctx_create is the defaults with the spec in place of the device */
    ck_assert_clseq_ok(clseq_ctx_create("cpu", &ctx));
    clseq_ctx_options defaults = clseq_ctx_defaults();
    snprintf(defaults.device, sizeof defaults.device, "cpu");
    assert_options_eq(clseq_ctx_get_options(ctx), &defaults);
    clseq_ctx_free(ctx);
}
END_TEST

/* The gemm_kernel option picks the GEMM family on PoCL's CPU device: the
 * default (auto) is the register-blocked CPU kernels, tiled builds without
 * them. */
START_TEST(gemm_kernel_option_picks_the_family)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    snprintf(o.device, sizeof o.device, "cpu");
    o.gemm = CLSEQ_GEMM_BUILTIN;
    o.gemm_kernel = CLSEQ_GEMM_KERNEL_AUTO;
    clseq_ctx *ctx = test_ctx_with(&o);
    clseq_device *d = clseq_ctx_main_device(ctx);
    ck_assert_int_ne(d->type & CL_DEVICE_TYPE_CPU, 0);
    ck_assert_ptr_nonnull(d->kernels[K_GEMM_CPU_NN]);
    ck_assert_int_eq(d->cpu_gemm, 1);
    ck_assert_int_eq(d->gemm_packed, 1);
    clseq_ctx_free(ctx);

    o.gemm_kernel = CLSEQ_GEMM_KERNEL_TILED;
    ctx = test_ctx_with(&o);
    d = clseq_ctx_main_device(ctx);
    ck_assert_int_eq(d->cpu_gemm, 0);
    ck_assert_ptr_null(d->kernels[K_GEMM_CPU_NN]); /* not built when not wanted */
    ck_assert_ptr_nonnull(d->kernels[K_GEMM_NN]);
    clseq_ctx_free(ctx);

    o.gemm_kernel = CLSEQ_GEMM_KERNEL_PACKED;
    ctx = test_ctx_with(&o);
    d = clseq_ctx_main_device(ctx);
    ck_assert_int_eq(d->cpu_gemm, 1);
    ck_assert_int_eq(d->gemm_packed, 2);
    clseq_ctx_free(ctx);
}
END_TEST

/* The gemm option picks the provider of large products: builtin never
 * uses CLBlast; clblast is honoured where this build has CLBlast and
 * refused where it has not. */
START_TEST(gemm_provider_from_options)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    o.gemm = CLSEQ_GEMM_BUILTIN;
    clseq_ctx *ctx = test_ctx_with(&o);
    ck_assert_int_eq(clseq_ctx_main_device(ctx)->gemm_clblast, 0);
    clseq_ctx_free(ctx);
    o.gemm = CLSEQ_GEMM_CLBLAST;
    ctx = (clseq_ctx *)0x1;
    clseq_status s = clseq_ctx_create_with(&o, &ctx);
#ifdef CLSEQ_TEST_HAVE_CLBLAST
    ck_assert_msg(s == CLSEQ_OK, "%s", clseq_last_error());
    ck_assert_int_eq(clseq_ctx_main_device(ctx)->gemm_clblast, 1);
#else
    ck_assert_int_eq(s, CLSEQ_E_ARG);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(clseq_last_error(), "CLBlast"), "%s", clseq_last_error());
#endif
    clseq_ctx_free(ctx);
}
END_TEST

/* A kernel build that fails returns CLSEQ_E_BUILD with the device's log. */
START_TEST(build_failure_reports_the_log)
{
    clseq_ctx *ctx = (clseq_ctx *)0x1;
    clseq_ctx_options o = clseq_ctx_defaults();
    o.cache = 0;
    snprintf(o.build_options, sizeof o.build_options, "-DGEMM_TK=("); /* breaks the tiles */
    clseq_status s = clseq_ctx_create_with(&o, &ctx);
    ck_assert_int_eq(s, CLSEQ_E_BUILD);
    ck_assert_ptr_null(ctx);
    ck_assert_msg(strstr(clseq_last_error(), "building kernels for") &&
                      strstr(clseq_last_error(), "error"),
                  "message should carry the build log: %.400s", clseq_last_error());
}
END_TEST

START_TEST(huge_buffer_is_nomem)
{
    cl_mem buf = NULL;
    clseq_device *d = clseq_ctx_main_device(test_ctx());
    ck_assert_int_eq(clseq_buffer_create(d, (size_t)d->max_alloc + 4096, &buf), CLSEQ_E_NOMEM);
    ck_assert_ptr_null(buf);
}
END_TEST

/* ---- the binary cache ------------------------------------------------- */

/* Options for one test's fresh cache folder, with the cache forced on. */
static clseq_ctx_options cache_options(void)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    const char *dir = test_temp_dir();
    ck_assert_ptr_nonnull(dir);
    o.cache = 1;
    snprintf(o.cache_dir, sizeof o.cache_dir, "%s", dir);
    return o;
}

static int count_entries(const char *dir, char *first, size_t size)
{
    char command[4200];
    snprintf(command, sizeof command, "ls '%s'/*.bin 2>/dev/null", dir);
    FILE *p = popen(command, "r");
    int n = 0;
    char line[4096];
    while (p && fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        if (n++ == 0 && first)
            snprintf(first, size, "%s", line);
    }
    if (p)
        pclose(p);
    return n;
}

static int context_from_cache(const clseq_ctx_options *o)
{
    clseq_ctx *ctx = test_ctx_with(o);
    int cached = clseq_ctx_from_cache(ctx);
    clseq_ctx_free(ctx);
    return cached;
}

START_TEST(second_context_hits_cache_and_bad_entries_are_rebuilt)
{
    const clseq_ctx_options o = cache_options();
    const char *dir = o.cache_dir;
    char entry[4096];
    ck_assert_int_eq(context_from_cache(&o), 0);
    ck_assert_int_eq(count_entries(dir, entry, sizeof entry), 1);
    ck_assert_int_eq(context_from_cache(&o), 1);

    /* flip a byte in the middle: the checksum catches it, the build goes on */
    FILE *f = fopen(entry, "r+b");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, size / 2, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
    ck_assert_int_eq(context_from_cache(&o), 0);
    ck_assert_int_eq(context_from_cache(&o), 1); /* replaced by a good entry */

    /* truncated entries (as after a crash mid-write) are rebuilt too; the
     * loader is checked at every cut through the file-level API, which is
     * what the context path calls */
    size_t length = 0;
    uint64_t key = strtoull(strrchr(entry, '/') + 1, NULL, 16);
    unsigned char *good = clseq_cache_load(dir, key, &length);
    ck_assert_ptr_nonnull(good);
    for (size_t cut = 0; cut < length + 32; cut += 1 + cut / 7) {
        ck_assert_int_eq(truncate(entry, (off_t)cut), 0);
        size_t got = 0;
        unsigned char *loaded = clseq_cache_load(dir, key, &got);
        ck_assert_msg(loaded == NULL, "a cache entry cut at %zu bytes was accepted", cut);
    }
    free(good);
    ck_assert_int_eq(context_from_cache(&o), 0);
    ck_assert_int_eq(context_from_cache(&o), 1);
}
END_TEST

START_TEST(no_cache_bypasses_and_unwritable_dir_is_fine)
{
    clseq_ctx_options o = cache_options();
    char dir[sizeof o.cache_dir];
    snprintf(dir, sizeof dir, "%s", o.cache_dir);
    o.cache = 0;
    ck_assert_int_eq(context_from_cache(&o), 0);
    ck_assert_int_eq(count_entries(dir, NULL, 0), 0);

    /* an empty folder is no cache, even when the cache is forced on */
    o.cache = 1;
    o.cache_dir[0] = '\0';
    ck_assert_int_eq(context_from_cache(&o), 0);
    ck_assert_int_eq(context_from_cache(&o), 0);
    char path[64];
    ck_assert_int_eq(clseq_cache_path("", 0x1234, path, sizeof path), 0);

    /* a cache path that cannot be created (under a regular file) */
    char blocked[sizeof o.cache_dir + 8];
    snprintf(blocked, sizeof blocked, "%s/file", dir);
    FILE *f = fopen(blocked, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    int n = snprintf(o.cache_dir, sizeof o.cache_dir, "%s/cache", blocked);
    ck_assert(n > 0 && (size_t)n < sizeof o.cache_dir);
    ck_assert_int_eq(context_from_cache(&o), 0);
    ck_assert_int_eq(context_from_cache(&o), 0);
}
END_TEST

START_TEST(cache_store_and_load_round_trip)
{
    const clseq_ctx_options o = cache_options();
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7);
    clseq_cache_store(o.cache_dir, 0x1234, data, sizeof data);
    size_t size = 0;
    unsigned char *back = clseq_cache_load(o.cache_dir, 0x1234, &size);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(size, sizeof data);
    ck_assert_int_eq(memcmp(back, data, size), 0);
    free(back);
    ck_assert_ptr_null(clseq_cache_load(o.cache_dir, 0x9999, &size)); /* another key: a miss */
    /* the entry lives in the folder it was stored in, not in another */
    const clseq_ctx_options other = cache_options();
    ck_assert_ptr_null(clseq_cache_load(other.cache_dir, 0x1234, &size));
    char path[4200];
    ck_assert_int_eq(clseq_cache_path(o.cache_dir, 0x1234, path, sizeof path), 1);
    ck_assert_msg(strncmp(path, o.cache_dir, strlen(o.cache_dir)) == 0, "%s", path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("device");
    TCase *tc = tcase_create("device");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, every_spec_form_selects_a_device);
    tcase_add_test(tc, bad_spec_names_the_devices);
    tcase_add_test(tc, status_and_cl_error_names);
    tcase_add_test(tc, huge_buffer_is_nomem);
    tcase_add_test(tc, build_failure_reports_the_log);
    tcase_add_test(tc, bad_options_are_refused_naming_the_field);
    tcase_add_test(tc, context_returns_its_options);
    tcase_add_test(tc, gemm_kernel_option_picks_the_family);
    tcase_add_test(tc, gemm_provider_from_options);
    tcase_add_test(tc, cache_store_and_load_round_trip);
    tcase_add_test(tc, no_cache_bypasses_and_unwritable_dir_is_fine);
    tcase_add_test(tc, second_context_hits_cache_and_bad_entries_are_rebuilt);
    suite_add_tcase(s, tc);
    TCase *env = tcase_create("environment");
    tcase_add_checked_fixture(env, env_save_and_clear, env_restore);
    tcase_add_test(env, defaults_reflect_the_environment);
    tcase_add_test(env, unknown_gemm_in_the_environment_is_refused);
    tcase_add_test(env, listed_default_follows_the_environment);
    suite_add_tcase(s, env);
    return test_run_suite(s);
}
