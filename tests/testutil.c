#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *test_fixture_path(const char *name)
{
    static char path[4096];
    const char *dir = getenv("CLSEQ_FIXTURES");
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "../shared/fixtures", name);
    return path;
}

float test_uniform(uint64_t *state, float lo, float hi)
{
    /* splitmix64: independent of anything the library uses */
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return lo + (hi - lo) * (float)((double)(z >> 40) / (double)(1ull << 24));
}

void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++)
        x[i] = test_uniform(&state, lo, hi);
}

const char *test_temp_dir(void)
{
    static char path[4096];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/clseq-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(path))
        return NULL;
    return path;
}

int test_run_suite(Suite *s)
{
    SRunner *runner = srunner_create(s);
    srunner_run_all(runner, CK_NORMAL);
    int failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

clseq_ctx *test_ctx_with(const clseq_ctx_options *o)
{
    clseq_ctx *ctx = NULL;
    clseq_status s = clseq_ctx_create_with(o, &ctx);
    ck_assert_msg(s == CLSEQ_OK, "clseq_ctx_create_with: %s", clseq_last_error());
    return ctx;
}

clseq_ctx *test_ctx(void)
{
    static clseq_ctx *ctx;
    if (!ctx) {
        clseq_ctx_options o = clseq_ctx_defaults();
        ctx = test_ctx_with(&o);
    }
    return ctx;
}

clseq_ctx *test_ctx_with_fused(int fused)
{
    clseq_ctx_options o = clseq_ctx_defaults();
    o.fused = fused;
    return test_ctx_with(&o);
}
