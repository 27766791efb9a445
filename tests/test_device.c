/* Device-spec parsing, the device list, error names, and the program-binary
 * cache (hits, corrupted and truncated entries, CLSEQ_NO_CACHE, an
 * unwritable directory). Cache tests set CLSEQ_CACHE_ALWAYS=1 so the cache
 * is exercised on PoCL too, where it is off by default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ctype.h>

#include "cache.h"
#include "runtime.h"
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

/* $CLSEQ_GEMM picks the provider of large products; a bad value is an
 * error naming it, clblast is honoured where this build has CLBlast. */
START_TEST(gemm_provider_from_environment)
{
    clseq_ctx *ctx = NULL;
    setenv("CLSEQ_GEMM", "bogus", 1);
    ck_assert_int_eq(clseq_ctx_create(NULL, &ctx), CLSEQ_E_ARG);
    ck_assert_msg(strstr(clseq_last_error(), "bogus"), "%s", clseq_last_error());
    setenv("CLSEQ_GEMM", "builtin", 1);
    ck_assert_clseq_ok(clseq_ctx_create(NULL, &ctx));
    ck_assert_int_eq(ctx->gemm_clblast, 0);
    clseq_ctx_free(ctx);
    setenv("CLSEQ_GEMM", "clblast", 1);
    clseq_status s = clseq_ctx_create(NULL, &ctx);
#ifdef CLSEQ_TEST_HAVE_CLBLAST
    ck_assert_msg(s == CLSEQ_OK, "%s", clseq_last_error());
    ck_assert_int_eq(ctx->gemm_clblast, 1);
#else
    ck_assert_int_eq(s, CLSEQ_E_ARG);
#endif
    clseq_ctx_free(ctx);
    unsetenv("CLSEQ_GEMM");
}
END_TEST

/* A kernel build that fails returns CLSEQ_E_BUILD with the device's log. */
START_TEST(build_failure_reports_the_log)
{
    clseq_ctx *ctx = (clseq_ctx *)0x1;
    setenv("CLSEQ_NO_CACHE", "1", 1);
    setenv("CLSEQ_BUILD_OPTIONS", "-DGEMM_TK=(", 1); /* breaks the tile arithmetic */
    clseq_status s = clseq_ctx_create(NULL, &ctx);
    unsetenv("CLSEQ_BUILD_OPTIONS");
    unsetenv("CLSEQ_NO_CACHE");
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
    clseq_ctx *ctx = test_ctx();
    ck_assert_int_eq(clseq_buffer_create(ctx, (size_t)ctx->max_alloc + 4096, &buf), CLSEQ_E_NOMEM);
    ck_assert_ptr_null(buf);
}
END_TEST

/* A fresh cache directory for one test; returns its path. */
static const char *use_cache_dir(void)
{
    const char *dir = test_temp_dir();
    setenv("CLSEQ_CACHE_DIR", dir, 1);
    setenv("CLSEQ_CACHE_ALWAYS", "1", 1);
    unsetenv("CLSEQ_NO_CACHE");
    return dir;
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

static int context_from_cache(void)
{
    clseq_ctx *ctx = NULL;
    ck_assert_clseq_ok(clseq_ctx_create(NULL, &ctx));
    int cached = clseq_ctx_from_cache(ctx);
    clseq_ctx_free(ctx);
    return cached;
}

START_TEST(second_context_hits_cache_and_bad_entries_are_rebuilt)
{
    const char *dir = use_cache_dir();
    char entry[4096];
    ck_assert_int_eq(context_from_cache(), 0);
    ck_assert_int_eq(count_entries(dir, entry, sizeof entry), 1);
    ck_assert_int_eq(context_from_cache(), 1);

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
    ck_assert_int_eq(context_from_cache(), 0);
    ck_assert_int_eq(context_from_cache(), 1); /* replaced by a good entry */

    /* truncated entries (as after a crash mid-write) are rebuilt too; the
     * loader is checked at every cut through the file-level API, which is
     * what the context path calls */
    size_t length = 0;
    uint64_t key = strtoull(strrchr(entry, '/') + 1, NULL, 16);
    unsigned char *good = clseq_cache_load(key, &length);
    ck_assert_ptr_nonnull(good);
    for (size_t cut = 0; cut < length + 32; cut += 1 + cut / 7) {
        ck_assert_int_eq(truncate(entry, (off_t)cut), 0);
        size_t got = 0;
        unsigned char *loaded = clseq_cache_load(key, &got);
        ck_assert_msg(loaded == NULL, "a cache entry cut at %zu bytes was accepted", cut);
    }
    free(good);
    ck_assert_int_eq(context_from_cache(), 0);
    ck_assert_int_eq(context_from_cache(), 1);
}
END_TEST

START_TEST(no_cache_bypasses_and_unwritable_dir_is_fine)
{
    const char *dir = use_cache_dir();
    setenv("CLSEQ_NO_CACHE", "1", 1);
    ck_assert_int_eq(context_from_cache(), 0);
    ck_assert_int_eq(count_entries(dir, NULL, 0), 0);
    unsetenv("CLSEQ_NO_CACHE");

    /* a cache path that cannot be created (under a regular file) */
    char blocked[4200];
    snprintf(blocked, sizeof blocked, "%s/file", dir);
    FILE *f = fopen(blocked, "w");
    ck_assert_ptr_nonnull(f);
    fclose(f);
    strcat(blocked, "/cache");
    setenv("CLSEQ_CACHE_DIR", blocked, 1);
    ck_assert_int_eq(context_from_cache(), 0);
    ck_assert_int_eq(context_from_cache(), 0);
}
END_TEST

START_TEST(cache_store_and_load_round_trip)
{
    use_cache_dir();
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7);
    clseq_cache_store(0x1234, data, sizeof data);
    size_t size = 0;
    unsigned char *back = clseq_cache_load(0x1234, &size);
    ck_assert_ptr_nonnull(back);
    ck_assert_uint_eq(size, sizeof data);
    ck_assert_int_eq(memcmp(back, data, size), 0);
    free(back);
    ck_assert_ptr_null(clseq_cache_load(0x9999, &size)); /* another key: a miss */
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
    tcase_add_test(tc, gemm_provider_from_environment);
    tcase_add_test(tc, cache_store_and_load_round_trip);
    tcase_add_test(tc, no_cache_bypasses_and_unwritable_dir_is_fine);
    tcase_add_test(tc, second_context_hits_cache_and_bad_entries_are_rebuilt);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
