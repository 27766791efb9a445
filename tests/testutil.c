/* nftw, to remove the temporary folders at exit */
#define _XOPEN_SOURCE 700

#include "testutil.h"

#include <ftw.h>
#include <math.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Folders test_temp_dir made, removed when the process that made them
 * exits (not a forked child that calls exit), so runs leave no
 * /tmp/clseq-test-* behind. A crash or a kill still leaves them. */
enum { MAX_TEMP_DIRS = 256 };
static char temp_dirs[MAX_TEMP_DIRS][4096];
static int temp_dir_count;
static pid_t temp_dir_owner;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path); /* best effort: what cannot go stays */
    return 0;
}

static void remove_temp_dirs(void)
{
    if (getpid() != temp_dir_owner)
        return;
    for (int i = 0; i < temp_dir_count; i++) {
        chmod(temp_dirs[i], 0700); /* a test may have left it read-only */
        nftw(temp_dirs[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    temp_dir_count = 0;
}

const char *test_temp_dir(void)
{
    static char path[4096];
    const char *base = getenv("TMPDIR");
    snprintf(path, sizeof path, "%s/clseq-test-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(path))
        return NULL;
    if (temp_dir_owner != getpid()) {
        temp_dir_owner = getpid();
        temp_dir_count = 0;
        atexit(remove_temp_dirs);
    }
    if (temp_dir_count < MAX_TEMP_DIRS)
        memcpy(temp_dirs[temp_dir_count++], path, sizeof path);
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

double test_activation(clseq_activation act, double z)
{
    const double alpha = 1.6732632423543772848170429916717;
    const double scale = 1.0507009873554804934193349852946;
    switch (act) {
    case CLSEQ_RELU: return z > 0 ? z : 0;
    case CLSEQ_SIGMOID: return 1 / (1 + exp(-z));
    case CLSEQ_TANH: return tanh(z);
    case CLSEQ_LEAKY_RELU: return z >= 0 ? z : 0.2 * z;
    case CLSEQ_ELU: return z > 0 ? z : expm1(z);
    case CLSEQ_SELU: return scale * (z > 0 ? z : alpha * expm1(z));
    case CLSEQ_GELU: return 0.5 * z * (1 + erf(z / sqrt(2.0)));
    case CLSEQ_SOFTPLUS: return log1p(exp(z));
    case CLSEQ_SOFTSIGN: return z / (1 + fabs(z));
    case CLSEQ_SILU: return z / (1 + exp(-z));
    case CLSEQ_HARD_SIGMOID: return z <= -3 ? 0 : z >= 3 ? 1 : z / 6 + 0.5;
    case CLSEQ_EXPONENTIAL: return exp(z);
    case CLSEQ_RELU6: return z <= 0 ? 0 : z >= 6 ? 6 : z;
    default: return z;
    }
}

void test_activation_kinks(clseq_activation act, double *at, int *count)
{
    *count = 0;
    switch (act) {
    case CLSEQ_RELU:
    case CLSEQ_LEAKY_RELU:
    case CLSEQ_SELU: at[(*count)++] = 0; break;
    case CLSEQ_RELU6: at[(*count)++] = 0, at[(*count)++] = 6; break;
    case CLSEQ_HARD_SIGMOID: at[(*count)++] = -3, at[(*count)++] = 3; break;
    default: break;
    }
}

int test_run_tool(const char *args, char *output, size_t size)
{
    const char *tool = getenv("CLSEQ_TOOL");
    if (!tool || !*tool)
        return -2;
    /* the tool with the sanitizers' leak check but not its TLS scan: in the
     * tool's process (HDF5's dependencies loaded, then PoCL's device
     * libraries) LeakSanitizer reads a bogus dynamic-TLS block of PoCL's
     * and crashes at exit ("Tracer caught signal 11", glibc 2.36); the
     * suites' own processes keep the full scan */
    static const char prefix[] = "LSAN_OPTIONS=\"$LSAN_OPTIONS:use_tls=0\" ";
    size_t length = sizeof prefix + strlen(tool) + strlen(args) + 16;
    char *command = malloc(length);
    ck_assert_ptr_nonnull(command);
    snprintf(command, length, "%s'%s' %s 2>&1", prefix, tool, args);
    FILE *p = popen(command, "r");
    free(command);
    ck_assert_msg(p != NULL, "popen failed");
    size_t used = fread(output, 1, size - 1, p);
    output[used] = '\0';
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *test_read_file(const char *path, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "cannot open %s (is $CLSEQ_FIXTURES set?)", path);
    ck_assert(fseek(fp, 0, SEEK_END) == 0);
    long n = ftell(fp);
    ck_assert(n >= 0 && fseek(fp, 0, SEEK_SET) == 0);
    char *buf = malloc((size_t)n + 1);
    ck_assert(buf != NULL);
    ck_assert_msg(fread(buf, 1, (size_t)n, fp) == (size_t)n, "cannot read %s", path);
    buf[n] = '\0';
    fclose(fp);
    if (size)
        *size = (size_t)n;
    return buf;
}

size_t test_read_variables(const clseq_model *m, float *out, size_t capacity)
{
    size_t total = 0;
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int v = 0; v < clseq_variable_count(m, l); v++) {
            clseq_variable_info info;
            ck_assert_clseq_ok(clseq_get_variable_info(m, l, v, &info));
            if (out) {
                ck_assert_msg(total + info.count <= capacity,
                              "layer %d variable '%s' does not fit in %zu floats", l, info.name,
                              capacity);
                ck_assert_clseq_ok(clseq_get_variable(m, l, v, out + total));
            }
            total += info.count;
        }
    return total;
}

clseq_fit_options test_quiet_fit_options(void)
{
    clseq_fit_options o = clseq_fit_defaults();
    o.verbose = 0;
    return o;
}

float *test_get_variable(const clseq_model *m, int layer, int index, clseq_variable_info *info)
{
    ck_assert_clseq_ok(clseq_get_variable_info(m, layer, index, info));
    float *v = malloc((info->count ? info->count : 1) * sizeof *v);
    ck_assert(v != NULL);
    ck_assert_clseq_ok(clseq_get_variable(m, layer, index, v));
    return v;
}
