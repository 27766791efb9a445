/* Model files: clseq_save / clseq_load and the decoder behind them.
 *
 * References: the CRC-32 catalogue's check value; a saved-then-loaded model
 * against the original on the same device, compared bit for bit
 * (tolerance 0: the same weights through the same kernels must give the
 * same floats); hand-patched files (with the checksum recomputed, so the
 * structural checks themselves are reached) for every kind of bad field;
 * and fault injection: every truncation, flipped bytes, a file-size limit
 * standing in for a full disk, a read-only directory, and a writer process
 * killed at random moments. */
#include "model.h"
#include "modelfile.h"
#include "testutil.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { IN = 3, OUT = 4, ROWS = 64 };

/* IN -> Dense(hidden, relu) -> Dense(OUT) -> softmax, trained a little so
 * the newest weights live on the device and save must read them back. */
static clseq_model *make_model(uint64_t seed, int hidden, int compiled)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(test_ctx(), IN, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, seed));
    ck_assert_clseq_ok(clseq_add_dense(m, hidden, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_dense(m, OUT, CLSEQ_LINEAR));
    ck_assert_clseq_ok(clseq_add_activation(m, CLSEQ_SOFTMAX));
    if (!compiled)
        return m;
    ck_assert_clseq_ok(clseq_compile(m, clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f),
                                     CLSEQ_CATEGORICAL_CROSSENTROPY,
                                     CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_MSE));
    float x[ROWS * IN], y[ROWS * OUT] = {0};
    test_fill_uniform(x, ROWS * IN, seed + 1, -1.0f, 1.0f);
    for (int r = 0; r < ROWS; r++)
        y[r * OUT + (x[r * IN] > 0) + 2 * (x[r * IN + 1] > 0)] = 1.0f;
    clseq_fit_options opt = clseq_fit_defaults();
    opt.epochs = 3;
    opt.batch_size = 8;
    opt.verbose = 0;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &opt, NULL));
    return m;
}

static unsigned char *encode(const clseq_model *m, size_t *size)
{
    unsigned char *data = NULL;
    ck_assert_clseq_ok(clseq_model_encode(m, &data, size));
    return data;
}

static void write_bytes(const char *path, const unsigned char *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, size, f), size);
    ck_assert_int_eq(fclose(f), 0);
}

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Recomputes the trailing CRC so a patched field is judged on its own. */
static void fix_crc(unsigned char *data, size_t size)
{
    put32(data + size - 4, clseq_crc32(0, data, size - 4));
}

/* Expects CLSEQ_E_FORMAT from loading these bytes, with the path and word
 * (if given) in the message. */
static void expect_format(const char *dir, const unsigned char *data, size_t size,
                          const char *word)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/bad.clseq", dir);
    write_bytes(path, data, size);
    clseq_model *m = (clseq_model *)1;
    clseq_status s = clseq_load(test_ctx(), path, &m);
    ck_assert_msg(s == CLSEQ_E_FORMAT, "%s: got %s: %s", word ? word : "", clseq_status_name(s),
                  clseq_last_error());
    ck_assert_ptr_null(m);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), path));
    if (word)
        ck_assert_msg(strstr(clseq_last_error(), word), "'%s' not in '%s'", word,
                      clseq_last_error());
}

START_TEST(test_crc32_check_value)
{
    /* the catalogue's check value for CRC-32/ISO-HDLC (zlib's crc32) */
    ck_assert_uint_eq(clseq_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(clseq_crc32(clseq_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}
END_TEST

static void expect_same_model(clseq_model *a, clseq_model *b)
{
    ck_assert_int_eq(clseq_layer_count(a), clseq_layer_count(b));
    ck_assert_int_eq(clseq_model_input_dim(a), clseq_model_input_dim(b));
    for (int i = 0; i < clseq_layer_count(a); i++) {
        int ia, ua, ha, ib, ub, hb;
        clseq_activation aa, ab;
        ck_assert_clseq_ok(clseq_layer_info(a, i, &ia, &ua, &aa, &ha));
        ck_assert_clseq_ok(clseq_layer_info(b, i, &ib, &ub, &ab, &hb));
        ck_assert(ia == ib && ua == ub && aa == ab && ha == hb);
        if (!ha)
            continue;
        size_t n = (size_t)ia * (size_t)ua + (size_t)ua;
        float *wa = malloc(n * sizeof *wa), *wb = malloc(n * sizeof *wb);
        ck_assert_clseq_ok(clseq_get_weights(a, i, wa, wa + n - (size_t)ua));
        ck_assert_clseq_ok(clseq_get_weights(b, i, wb, wb + n - (size_t)ua));
        ck_assert_mem_eq(wa, wb, n * sizeof *wa);
        free(wa);
        free(wb);
    }
    float x[50 * IN], pa[50 * OUT], pb[50 * OUT];
    test_fill_uniform(x, 50 * IN, 99, -2.0f, 2.0f);
    ck_assert_clseq_ok(clseq_predict(a, x, 50, pa));
    ck_assert_clseq_ok(clseq_predict(b, x, 50, pb));
    ck_assert_mem_eq(pa, pb, sizeof pa);
}

START_TEST(test_round_trip_is_bit_identical)
{
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/model.clseq", dir);
    clseq_model *a = make_model(7, 6, 1), *b = NULL;
    ck_assert_clseq_ok(clseq_save(a, path));
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &b));
    expect_same_model(a, b);
    /* compile settings survive: evaluate needs no clseq_compile */
    ck_assert_int_eq(b->compiled, 1);
    ck_assert_mem_eq(&b->optimizer, &a->optimizer, sizeof a->optimizer);
    ck_assert(b->loss == a->loss && b->metrics == a->metrics);
    float x[ROWS * IN], y[ROWS * OUT] = {0}, la, lb, ma[2], mb[2];
    test_fill_uniform(x, ROWS * IN, 5, -1.0f, 1.0f);
    for (int r = 0; r < ROWS; r++)
        y[r * OUT + r % OUT] = 1.0f;
    ck_assert_clseq_ok(clseq_evaluate(a, x, y, ROWS, &la, ma));
    ck_assert_clseq_ok(clseq_evaluate(b, x, y, ROWS, &lb, mb));
    ck_assert_mem_eq(&la, &lb, sizeof la);
    ck_assert_mem_eq(ma, mb, sizeof ma);
    /* encoding is deterministic: the loaded model encodes to the same bytes */
    size_t sa, sb;
    unsigned char *ea = encode(a, &sa), *eb = encode(b, &sb);
    ck_assert_uint_eq(sa, sb);
    ck_assert_mem_eq(ea, eb, sa);
    free(ea);
    free(eb);
    clseq_model_free(a);
    clseq_model_free(b);
}
END_TEST

/* A file from tests/fuzz/make_model_seeds.py (Python's struct and zlib):
 * the decoder agrees with a second encoder, not only with its own, and our
 * encoder writes the same bytes back. Weights there are (i + 1) / 8 - 2. */
START_TEST(test_loads_independently_written_file)
{
    char path[4200];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof path, "%.*s/fuzz/corpus/fuzz_model/in2_dense3_relu_dense2_softmax_sgd"
             ".clseq", slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &m));
    int in, units;
    clseq_activation act;
    ck_assert_clseq_ok(clseq_layer_info(m, 1, &in, &units, &act, NULL));
    ck_assert(clseq_layer_count(m) == 2 && in == 3 && units == 2 && act == CLSEQ_SOFTMAX);
    float w[17];
    ck_assert_clseq_ok(clseq_get_weights(m, 0, w, w + 6));
    ck_assert_clseq_ok(clseq_get_weights(m, 1, w + 9, w + 15));
    for (int i = 0; i < 17; i++)
        ck_assert_float_eq(w[i], (float)(i + 1) / 8 - 2);
    ck_assert(m->compiled && m->optimizer.kind == CLSEQ_OPT_SGD &&
              m->optimizer.learning_rate == 0.01f && m->metrics == CLSEQ_METRIC_ACCURACY &&
              m->loss == CLSEQ_CATEGORICAL_CROSSENTROPY);
    unsigned char *file = NULL;
    size_t file_size, size;
    ck_assert_clseq_ok(clseq_read_file(path, &file, &file_size));
    unsigned char *mine = encode(m, &size);
    ck_assert_uint_eq(size, file_size);
    ck_assert_mem_eq(mine, file, size);
    free(file);
    free(mine);
    clseq_model_free(m);
}
END_TEST

START_TEST(test_round_trip_uncompiled)
{
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/plain.clseq", dir);
    clseq_model *a = make_model(11, 5, 0), *b = NULL;
    ck_assert_clseq_ok(clseq_save(a, path));
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &b));
    expect_same_model(a, b);
    float x[IN] = {0}, y[OUT] = {1, 0, 0, 0}, loss;
    ck_assert_int_eq(clseq_evaluate(b, x, y, 1, &loss, NULL), CLSEQ_E_STATE);
    clseq_model_free(a);
    clseq_model_free(b);
}
END_TEST

START_TEST(test_flipped_bytes_are_format_errors)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *data = encode(m, &size);
    /* every byte of this small file (a stride for big ones), two patterns */
    size_t stride = size > 2048 ? size / 1024 : 1;
    for (size_t i = 0; i < size; i += stride)
        for (int k = 0; k < 2; k++) {
            unsigned char mask = k ? 0xFF : 0x01;
            data[i] ^= mask;
            expect_format(dir, data, size, NULL);
            data[i] ^= mask;
        }
    free(data);
    clseq_model_free(m);
}
END_TEST

START_TEST(test_every_truncation)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *data = encode(m, &size);
    for (size_t n = 0; n < size; n++) {
        expect_format(dir, data, n, NULL);
        const char *e = clseq_last_error();
        ck_assert_msg(strstr(e, "truncated") || strstr(e, "checksum") || strstr(e, "magic"),
                      "length %zu: %s", n, e);
    }
    expect_format(dir, data, 100, "truncated at byte 100");
    free(data);
    clseq_model_free(m);
}
END_TEST

START_TEST(test_bad_magic_and_newer_version)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 0);
    size_t size;
    unsigned char *data = encode(m, &size);
    data[7] = 'X';
    expect_format(dir, data, size, "bad magic");
    expect_format(dir, (const unsigned char *)"x0,x1,y\n1,2,0\n", 14, "bad magic");
    data[7] = 'L';
    put32(data + CLSEQ_MF_OFF_VERSION, CLSEQ_MODEL_FORMAT_VERSION + 1);
    fix_crc(data, size);
    expect_format(dir, data, size, "format version 2 is newer than this clseq supports (1)");
    put32(data + CLSEQ_MF_OFF_VERSION, 0);
    expect_format(dir, data, size, "version 0");
    free(data);
    clseq_model_free(m);
}
END_TEST

/* Patches one u32 at off (checksum recomputed) and expects word. */
static void expect_patched(const char *dir, const unsigned char *good, size_t size, size_t off,
                           uint32_t v, const char *word)
{
    unsigned char *data = malloc(size);
    memcpy(data, good, size);
    put32(data + off, v);
    fix_crc(data, size);
    expect_format(dir, data, size, word);
    free(data);
}

START_TEST(test_impossible_fields)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *d = encode(m, &size);
    const size_t layer0 = CLSEQ_MF_OFF_LAYERS, compile = layer0 + 3 * CLSEQ_MF_LAYER_BYTES;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* huge sizes: refused from the file's length, never allocated */
    expect_patched(dir, d, size, layer0 + 4, 1u << 31, "units 2147483648");
    expect_patched(dir, d, size, layer0 + 4, 1u << 24, "parameter count");
    expect_patched(dir, d, size, CLSEQ_MF_OFF_LAYER_COUNT, 0xFFFFFFFFu, "layer count");
    expect_patched(dir, d, size, CLSEQ_MF_OFF_INPUT_DIM, 1u << 31, "input_dim");
    expect_patched(dir, d, size, compile + 48, 0x40000000u, "parameter count");
    expect_patched(dir, d, size, CLSEQ_MF_OFF_LENGTH + 4, 1, "truncated");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_double_lt((double)(t1.tv_sec - t0.tv_sec), 2.0);
    expect_patched(dir, d, size, layer0 + 4, 0, "units 0");
    expect_patched(dir, d, size, layer0, 2, "kind 2");
    expect_patched(dir, d, size, layer0 + 8, 99, "activation code 99");
    expect_patched(dir, d, size, layer0 + 2 * CLSEQ_MF_LAYER_BYTES + 4, 5, "width 5");
    expect_patched(dir, d, size, compile, 2, "compiled flag 2");
    expect_patched(dir, d, size, compile + 4, 7, "optimizer code 7");
    expect_patched(dir, d, size, compile + 8, 0x7FC00000u, "learning_rate is nan");
    expect_patched(dir, d, size, compile + 36, 99, "loss code 99");
    expect_patched(dir, d, size, compile + 40, 0x80, "metric bits 0x80");
    /* well-formed but refused by clseq_compile: adam's beta1 = 1.5 */
    expect_patched(dir, d, size, compile + 20, 0x3FC00000u, "beta1");
    expect_patched(dir, d, size, compile + 56, 0x7F800000u, "parameter 1 ");
    free(d);
    clseq_model_free(m);
}
END_TEST

START_TEST(test_arguments)
{
    clseq_model *m = make_model(3, 2, 0), *out = NULL;
    ck_assert_int_eq(clseq_save(NULL, "x"), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_save(m, NULL), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_save(m, ""), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_load(NULL, "x", &out), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_load(test_ctx(), NULL, &out), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_load(test_ctx(), "x", NULL), CLSEQ_E_ARG);
    ck_assert_int_eq(clseq_load(test_ctx(), "/nonexistent/model.clseq", &out), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "/nonexistent/model.clseq"));
    ck_assert_int_eq(clseq_load(test_ctx(), "/", &out), CLSEQ_E_IO);
    ck_assert_int_eq(clseq_model_decode(NULL, NULL, 0, NULL, &out), CLSEQ_E_FORMAT);
    clseq_model_free(m);
}
END_TEST

START_TEST(test_save_into_missing_directory)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/no/such/dir/model.clseq", test_temp_dir());
    clseq_model *m = make_model(3, 2, 0);
    ck_assert_int_eq(clseq_save(m, path), CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), path));
    clseq_model_free(m);
}
END_TEST

/* Saves b over a saved a under a fault; the failure must be CLSEQ_E_IO,
 * leave a loadable, and leave no temporary file. */
static int count_entries(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

static void expect_old_file_kept(const char *dir, const char *path, clseq_model *a)
{
    clseq_model *back = NULL;
    ck_assert_clseq_ok(clseq_load(test_ctx(), path, &back));
    expect_same_model(a, back);
    clseq_model_free(back);
    ck_assert_int_eq(count_entries(dir), 1);
}

/* As root, directory permissions do not apply, so a child drops to
 * nobody and writes bytes encoded here (no OpenCL after fork). */
static void save_as_nobody(const clseq_model *b, const char *path)
{
    size_t size;
    unsigned char *data = encode(b, &size);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(setgid(65534) != 0 || setuid(65534) != 0 ? 77
              : clseq_write_file_atomic(path, data, size) == CLSEQ_E_IO ? 0 : 1);
    int status = 0;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) != 1);
    if (WEXITSTATUS(status) == 77)
        fprintf(stderr, "test_unwritable_directory: cannot become nobody; skipped\n");
    free(data);
}

START_TEST(test_unwritable_directory_keeps_old_file)
{
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/model.clseq", dir);
    clseq_model *a = make_model(3, 4, 1), *b = make_model(4, 8, 1);
    ck_assert_clseq_ok(clseq_save(a, path));
    ck_assert_int_eq(chmod(dir, 0555), 0);
    if (access(dir, W_OK) == 0) {
        save_as_nobody(b, path);
    } else {
        ck_assert_int_eq(clseq_save(b, path), CLSEQ_E_IO);
        ck_assert_ptr_nonnull(strstr(clseq_last_error(), path));
    }
    expect_old_file_kept(dir, path, a);
    ck_assert_int_eq(chmod(dir, 0755), 0);
    clseq_model_free(a);
    clseq_model_free(b);
}
END_TEST

START_TEST(test_full_disk_keeps_old_file)
{
    /* RLIMIT_FSIZE makes write() fail with EFBIG part-way, as a full disk
     * fails with ENOSPC; SIGXFSZ would otherwise kill the process. */
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/model.clseq", dir);
    clseq_model *a = make_model(3, 4, 1), *b = make_model(4, 64, 1);
    ck_assert_clseq_ok(clseq_save(a, path));
    struct rlimit old, small;
    ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
    small = old;
    small.rlim_cur = 1024;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &small), 0);
    clseq_status s = clseq_save(b, path);
    ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    ck_assert_int_eq(s, CLSEQ_E_IO);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "writing"));
    expect_old_file_kept(dir, path, a);
    clseq_model_free(a);
    clseq_model_free(b);
}
END_TEST

static void remove_temporaries(const char *dir, int *count)
{
    char path[4200];
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));)
        if (strstr(e->d_name, ".tmp.")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
            ++*count;
        }
    closedir(d);
}

START_TEST(test_kill_while_saving)
{
    /* Both models are encoded here; the child only runs the OpenCL-free,
     * heap-free clseq_write_file_atomic, never anything it inherited. */
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/model.clseq", dir);
    clseq_model *ma = make_model(1, 8, 1), *mb = make_model(2, 4096, 1);
    size_t sa, sb;
    unsigned char *a = encode(ma, &sa), *b = encode(mb, &sb);
    ck_assert_clseq_ok(clseq_write_file_atomic(path, a, sa));
    uint64_t rng = 12345;
    int seen_a = 0, seen_b = 0, stray = 0, iterations = 200;
    for (int i = 0; i < iterations; i++) {
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
            for (unsigned k = 0;; k++)
                if (clseq_write_file_atomic(path, k & 1 ? a : b, k & 1 ? sa : sb) != CLSEQ_OK)
                    _exit(1);
        struct timespec pause = {0, (long)test_uniform(&rng, 0.0f, 8e6f)};
        nanosleep(&pause, NULL);
        int status = 0;
        ck_assert_int_eq(kill(pid, SIGKILL), 0);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFSIGNALED(status), "the writer stopped by itself (%d)", status);
        unsigned char *now = NULL;
        size_t size = 0;
        clseq_model *check = NULL;
        ck_assert_clseq_ok(clseq_read_file(path, &now, &size));
        int is_a = size == sa && memcmp(now, a, sa) == 0;
        int is_b = size == sb && memcmp(now, b, sb) == 0;
        ck_assert_msg(is_a || is_b, "iteration %d: the file is neither model (%zu bytes)", i, size);
        seen_a += is_a;
        seen_b += is_b;
        ck_assert_clseq_ok(clseq_model_decode(NULL, now, size, path, &check));
        free(now);
        if (i % 40 == 0) {
            ck_assert_clseq_ok(clseq_load(test_ctx(), path, &check));
            clseq_model_free(check);
        }
        remove_temporaries(dir, &stray);
    }
    fprintf(stderr, "kill test: %d kills; the file held the old-or-new model every time "
            "(A %d, B %d); %d stray temporaries removed\n", iterations, seen_a, seen_b, stray);
    free(a);
    free(b);
    clseq_model_free(ma);
    clseq_model_free(mb);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("modelfile");
    TCase *round = tcase_create("round_trip");
    tcase_add_test(round, test_crc32_check_value);
    tcase_add_test(round, test_round_trip_is_bit_identical);
    tcase_add_test(round, test_round_trip_uncompiled);
    tcase_add_test(round, test_loads_independently_written_file);
    suite_add_tcase(s, round);
    TCase *bad = tcase_create("bad_files");
    tcase_add_test(bad, test_flipped_bytes_are_format_errors);
    tcase_add_test(bad, test_every_truncation);
    tcase_add_test(bad, test_bad_magic_and_newer_version);
    tcase_add_test(bad, test_impossible_fields);
    tcase_add_test(bad, test_arguments);
    suite_add_tcase(s, bad);
    TCase *faults = tcase_create("faults");
    tcase_add_test(faults, test_save_into_missing_directory);
    tcase_add_test(faults, test_unwritable_directory_keeps_old_file);
    tcase_add_test(faults, test_full_disk_keeps_old_file);
    tcase_add_test(faults, test_kill_while_saving);
    suite_add_tcase(s, faults);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
