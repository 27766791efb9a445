/* Model files: clseq_save / clseq_load and the decoder behind them.
 *
 * References: the CRC-32 catalogue's check value; a saved-then-loaded model
 * against the original on the same device, compared bit for bit
 * (tolerance 0: the same weights through the same kernels must give the
 * same floats); training resumed from a file against training that never
 * stopped, bit for bit, on both training paths (the optimizer's slots and
 * step count are in the file); files from a second, independent encoder
 * (tests/fuzz/make_model_seeds.py); version 1 files written here by the
 * clseq 0.1 encoder's logic; hand-patched files (with the checksum
 * recomputed, so the structural checks themselves are reached) for every
 * kind of bad field; and fault injection: every truncation, flipped bytes,
 * a file-size limit standing in for a full disk, a read-only directory,
 * and a writer process killed at random moments. */
#include "io/modelfile.h"
#include "nn/model_io.h"
#include "testutil.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { IN = 3, OUT = 4, ROWS = 64, BATCH = 8 };

static void make_data(float *x, float *y, uint64_t seed)
{
    test_fill_uniform(x, ROWS * IN, seed, -1.0f, 1.0f);
    memset(y, 0, ROWS * OUT * sizeof *y);
    for (int r = 0; r < ROWS; r++)
        y[r * OUT + (x[r * IN] > 0) + 2 * (x[r * IN + 1] > 0)] = 1.0f;
}

static void fit(clseq_model *m, const float *x, const float *y, int epochs, int shuffle)
{
    clseq_fit_options opt = clseq_fit_defaults();
    opt.epochs = epochs;
    opt.batch_size = BATCH;
    opt.shuffle = shuffle;
    opt.verbose = 0;
    ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &opt, NULL));
}

/* IN -> Dense(hidden, relu) -> Dense(OUT) -> softmax on ctx, compiled with
 * opt unless opt is NULL. */
static clseq_model *new_model(clseq_ctx *ctx, uint64_t seed, int hidden,
                              const clseq_optimizer *opt)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create(ctx, IN, &m));
    ck_assert_clseq_ok(clseq_model_set_seed(m, seed));
    ck_assert_clseq_ok(clseq_add_dense(m, hidden, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_dense(m, OUT, CLSEQ_LINEAR));
    ck_assert_clseq_ok(clseq_add_activation(m, CLSEQ_SOFTMAX));
    if (opt)
        ck_assert_clseq_ok(clseq_compile(m, *opt, CLSEQ_CATEGORICAL_CROSSENTROPY,
                                         CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_MSE));
    return m;
}

/* The model above, Adam-compiled and trained a little if compiled, so the
 * newest weights and the optimizer's state live on the device and save
 * must read them back. */
static clseq_model *make_model(uint64_t seed, int hidden, int compiled)
{
    clseq_optimizer adam = clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f);
    clseq_model *m = new_model(test_ctx(), seed, hidden, compiled ? &adam : NULL);
    if (compiled) {
        float x[ROWS * IN], y[ROWS * OUT];
        make_data(x, y, seed + 1);
        fit(m, x, y, 3, 1);
    }
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

static void put64(unsigned char *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static void putf(unsigned char *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    put32(p, bits);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Recomputes the trailing CRC so a patched field is judged on its own. */
static void fix_crc(unsigned char *data, size_t size)
{
    put32(data + size - 4, clseq_crc32(0, data, size - 4));
}

/* Loads path on ctx. */
static clseq_model *load(clseq_ctx *ctx, const char *path)
{
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_load(ctx, path, &m));
    return m;
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

/* ---- version 1 fixtures ----------------------------------------------------------- */

/* The clseq 0.1 encoder (format version 1), kept as the fixture writer
 * for the version 1 reader: byte for byte what a model saved before
 * version 2 holds. The compile block is zeros for an uncompiled model. */
static unsigned char *v1_encode(const clseq_model *m, size_t *size)
{
    int layers = clseq_layer_count(m), in, units, has_weights;
    clseq_activation act;
    size_t params = 0;
    for (int i = 0; i < layers; i++) {
        ck_assert_clseq_ok(clseq_layer_info(m, i, &in, &units, NULL, &has_weights));
        params += has_weights ? (size_t)in * (size_t)units + (size_t)units : 0;
    }
    *size = 84 + 12 * (size_t)layers + 4 * params;
    unsigned char *d = calloc(*size, 1), *p = d + CLSEQ_MF1_OFF_LAYERS;
    ck_assert_ptr_nonnull(d);
    memcpy(d, "CLSEQMDL", 8);
    put32(d + CLSEQ_MF_OFF_VERSION, 1);
    put64(d + CLSEQ_MF_OFF_LENGTH, *size);
    put32(d + CLSEQ_MF1_OFF_INPUT_DIM, (uint32_t)clseq_model_input_dim(m));
    put32(d + CLSEQ_MF1_OFF_LAYER_COUNT, (uint32_t)layers);
    for (int i = 0; i < layers; i++, p += CLSEQ_MF1_LAYER_BYTES) {
        ck_assert_clseq_ok(clseq_layer_info(m, i, NULL, &units, &act, &has_weights));
        put32(p, (uint32_t)has_weights);
        put32(p + 4, (uint32_t)units);
        put32(p + 8, (uint32_t)act);
    }
    clseq_optimizer o;
    clseq_loss loss;
    unsigned metrics;
    if (clseq_model_compile_settings(m, &o, &loss, &metrics) == CLSEQ_OK) {
        uint32_t f[] = {1, (uint32_t)o.kind, 0, 0, (uint32_t)o.nesterov, 0, 0, 0, 0,
                        (uint32_t)loss, metrics};
        for (int k = 0; k < 11; k++)
            put32(p + 4 * k, f[k]);
        const float v[] = {o.learning_rate, o.momentum, o.beta1, o.beta2, o.rho, o.epsilon};
        const int at[] = {2, 3, 5, 6, 7, 8};
        for (int k = 0; k < 6; k++)
            putf(p + 4 * at[k], v[k]);
    }
    p += CLSEQ_MF1_COMPILE_BYTES;
    put64(p, params);
    p += 8;
    float *w = malloc((params ? params : 1) * sizeof *w), *at = w;
    for (int i = 0; i < layers; i++) {
        ck_assert_clseq_ok(clseq_layer_info(m, i, &in, &units, NULL, &has_weights));
        if (!has_weights)
            continue;
        ck_assert_clseq_ok(clseq_get_weights(m, i, at, at + (size_t)in * (size_t)units));
        at += (size_t)in * (size_t)units + (size_t)units;
    }
    for (size_t i = 0; i < params; i++)
        putf(p + 4 * i, w[i]);
    free(w);
    fix_crc(d, *size);
    return d;
}

/* ---- comparing models -------------------------------------------------------------- */

/* Every variable of every layer, concatenated into a malloc'd array. */
static float *all_variables(const clseq_model *m, size_t *count)
{
    size_t n = 0;
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int v = 0; v < clseq_variable_count(m, l); v++) {
            clseq_variable_info info;
            ck_assert_clseq_ok(clseq_get_variable_info(m, l, v, &info));
            n += info.count;
        }
    float *all = malloc((n ? n : 1) * sizeof *all), *at = all;
    for (int l = 0; l < clseq_layer_count(m); l++)
        for (int v = 0; v < clseq_variable_count(m, l); v++) {
            clseq_variable_info info;
            ck_assert_clseq_ok(clseq_get_variable_info(m, l, v, &info));
            ck_assert_clseq_ok(clseq_get_variable(m, l, v, at));
            at += info.count;
        }
    *count = n;
    return all;
}

/* 1 if a and b hold the same variables, bit for bit. */
static int same_variables(const clseq_model *a, const clseq_model *b)
{
    size_t na, nb;
    float *va = all_variables(a, &na), *vb = all_variables(b, &nb);
    int same = na == nb && memcmp(va, vb, na * sizeof *va) == 0;
    free(va);
    free(vb);
    return same;
}

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
        ck_assert_str_eq(clseq_layer_class(a, i), clseq_layer_class(b, i));
    }
    ck_assert(same_variables(a, b));
    int in = clseq_model_input_dim(a), out = clseq_model_output_dim(a);
    float *x = malloc(50 * (size_t)in * sizeof *x), *pa = malloc(50 * (size_t)out * sizeof *pa),
          *pb = malloc(50 * (size_t)out * sizeof *pb);
    test_fill_uniform(x, 50 * (size_t)in, 99, -2.0f, 2.0f);
    ck_assert_clseq_ok(clseq_predict(a, x, 50, pa));
    ck_assert_clseq_ok(clseq_predict(b, x, 50, pb));
    ck_assert_mem_eq(pa, pb, 50 * (size_t)out * sizeof *pa);
    free(x);
    free(pa);
    free(pb);
}

/* Compile settings, step count and every optimizer slot, bit for bit. */
static void expect_same_optimizer_state(const clseq_model *a, const clseq_model *b)
{
    clseq_optimizer oa, ob;
    clseq_loss la, lb;
    unsigned ma, mb;
    ck_assert_clseq_ok(clseq_model_compile_settings(a, &oa, &la, &ma));
    ck_assert_clseq_ok(clseq_model_compile_settings(b, &ob, &lb, &mb));
    ck_assert_mem_eq(&oa, &ob, sizeof oa);
    ck_assert(la == lb && ma == mb);
    ck_assert_int_eq(clseq_optimizer_iterations(a), clseq_optimizer_iterations(b));
    ck_assert_int_eq(clseq_optimizer_slot_count(a), clseq_optimizer_slot_count(b));
    size_t n = clseq_model_trainable_count(a);
    ck_assert_uint_eq(n, clseq_model_trainable_count(b));
    float *sa = malloc(n * sizeof *sa), *sb = malloc(n * sizeof *sb);
    for (int k = 0; k < clseq_optimizer_slot_count(a); k++) {
        ck_assert_str_eq(clseq_optimizer_slot_name(a, k), clseq_optimizer_slot_name(b, k));
        ck_assert_clseq_ok(clseq_optimizer_get_slot(a, k, sa));
        ck_assert_clseq_ok(clseq_optimizer_get_slot(b, k, sb));
        ck_assert_mem_eq(sa, sb, n * sizeof *sa);
    }
    free(sa);
    free(sb);
}

/* ---- round trips ------------------------------------------------------------------- */

START_TEST(test_crc32_check_value)
{
    /* the catalogue's check value for CRC-32/ISO-HDLC (zlib's crc32) */
    ck_assert_uint_eq(clseq_crc32(0, "123456789", 9), 0xCBF43926u);
    ck_assert_uint_eq(clseq_crc32(clseq_crc32(0, "1234", 4), "56789", 5), 0xCBF43926u);
}
END_TEST

START_TEST(test_round_trip_is_bit_identical)
{
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/model.clseq", dir);
    clseq_model *a = make_model(7, 6, 1);
    ck_assert_clseq_ok(clseq_save(a, path));
    clseq_model *b = load(test_ctx(), path);
    expect_same_model(a, b);
    /* compile settings and optimizer state survive: evaluate needs no
     * clseq_compile, and the seed is kept */
    expect_same_optimizer_state(a, b);
    ck_assert_int_eq(clseq_optimizer_iterations(b), 3 * ROWS / BATCH);
    ck_assert_uint_eq(clseq_model_seed(b), 7);
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
    ck_assert_uint_eq(get32(ea + CLSEQ_MF_OFF_VERSION), 2);
    free(ea);
    free(eb);
    clseq_model_free(a);
    clseq_model_free(b);
}
END_TEST

START_TEST(test_round_trip_uncompiled)
{
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/plain.clseq", dir);
    clseq_model *a = make_model(11, 5, 0);
    ck_assert_clseq_ok(clseq_save(a, path));
    clseq_model *b = load(test_ctx(), path);
    expect_same_model(a, b);
    ck_assert_int_eq(clseq_model_is_compiled(b), 0);
    float x[IN] = {0}, y[OUT] = {1, 0, 0, 0}, loss;
    ck_assert_int_eq(clseq_evaluate(b, x, y, 1, &loss, NULL), CLSEQ_E_STATE);
    clseq_model_free(a);
    clseq_model_free(b);
}
END_TEST

START_TEST(test_round_trip_shaped_input)
{
    /* a (4, 2, 3) input through Dense(5) on the last axis: (4, 2, 5) */
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/shaped.clseq", dir);
    const int dims[3] = {4, 2, 3};
    clseq_model *a = NULL;
    ck_assert_clseq_ok(clseq_model_create_shaped(test_ctx(), 3, dims, &a));
    ck_assert_clseq_ok(clseq_model_set_seed(a, 0x123456789abcdefULL));
    ck_assert_clseq_ok(clseq_add_dense(a, 5, CLSEQ_TANH));
    ck_assert_clseq_ok(clseq_save(a, path));
    clseq_model *b = load(test_ctx(), path);
    int rank, out[3], in[3];
    ck_assert_int_eq(clseq_model_input_shape(b, in), 3);
    ck_assert_mem_eq(in, dims, sizeof dims);
    ck_assert_clseq_ok(clseq_layer_output_shape(b, 0, &rank, out));
    ck_assert(rank == 3 && out[0] == 4 && out[1] == 2 && out[2] == 5);
    ck_assert_uint_eq(clseq_model_seed(b), 0x123456789abcdefULL);
    expect_same_model(a, b);
    clseq_model_free(a);
    clseq_model_free(b);
}
END_TEST

/* A file of tests/fuzz/corpus/fuzz_model, from make_model_seeds.py. */
static const char *seed_path(const char *name)
{
    static char path[4200];
    const char *slash = strrchr(__FILE__, '/');
    snprintf(path, sizeof path, "%.*s/fuzz/corpus/fuzz_model/%s",
             slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".", name);
    return path;
}

/* Dense(2 -> 3, relu), Dense(3 -> 2, softmax), SGD: weights (i + 1) / 8 - 2. */
static void expect_seed_weights(const clseq_model *m)
{
    int in, units;
    clseq_activation act;
    ck_assert_clseq_ok(clseq_layer_info(m, 1, &in, &units, &act, NULL));
    ck_assert(clseq_layer_count(m) == 2 && in == 3 && units == 2 && act == CLSEQ_SOFTMAX);
    float w[17];
    ck_assert_clseq_ok(clseq_get_weights(m, 0, w, w + 6));
    ck_assert_clseq_ok(clseq_get_weights(m, 1, w + 9, w + 15));
    for (int i = 0; i < 17; i++)
        ck_assert_float_eq(w[i], (float)(i + 1) / 8 - 2);
}

/* Files from a second encoder (Python's struct and zlib): the decoder
 * agrees with it, not only with our own encoder, and our encoder writes
 * its version 2 files back byte for byte. */
START_TEST(test_loads_independently_written_files)
{
    static const char *const v2_files[] = {
        "v2_in2_dense3_relu_dense2_softmax_sgd.clseq", "v2_in3_dense4_act_softmax_adam.clseq",
        "v2_in4x2_dense3_uncompiled.clseq", "v2_in2_dense4_tanh_dense1_sigmoid_rmsprop.clseq",
        "v2_in2_dense2_sgd_plain.clseq", "v2_in6x6x2_cnn_adam.clseq"};
    clseq_optimizer opt;
    clseq_loss loss;
    unsigned metrics;
    clseq_model *m = load(test_ctx(), seed_path("v1_in2_dense3_relu_dense2_softmax_sgd.clseq"));
    expect_seed_weights(m);
    ck_assert_clseq_ok(clseq_model_compile_settings(m, &opt, &loss, &metrics));
    ck_assert(opt.kind == CLSEQ_OPT_SGD && opt.learning_rate == 0.01f &&
              metrics == CLSEQ_METRIC_ACCURACY && loss == CLSEQ_CATEGORICAL_CROSSENTROPY);
    ck_assert(clseq_optimizer_iterations(m) == 0 && clseq_model_seed(m) == 0);
    clseq_model_free(m);

    m = load(test_ctx(), seed_path(v2_files[0]));
    expect_seed_weights(m);
    ck_assert_clseq_ok(clseq_model_compile_settings(m, &opt, &loss, &metrics));
    ck_assert(opt.kind == CLSEQ_OPT_SGD && opt.learning_rate == 0.01f && opt.momentum == 0.9f &&
              opt.nesterov == 1 && metrics == CLSEQ_METRIC_ACCURACY);
    ck_assert(clseq_optimizer_iterations(m) == 7 && clseq_model_seed(m) == 42);
    float slot[17];
    ck_assert_int_eq(clseq_optimizer_slot_count(m), 1);
    ck_assert_clseq_ok(clseq_optimizer_get_slot(m, 0, slot));
    for (int j = 0; j < 17; j++)
        ck_assert_float_eq(slot[j], (float)(j + 1) / 16 - 1);
    clseq_model_free(m);

    for (size_t i = 0; i < sizeof v2_files / sizeof v2_files[0]; i++) {
        unsigned char *file = NULL;
        size_t file_size, size;
        ck_assert_clseq_ok(clseq_read_file(seed_path(v2_files[i]), &file, &file_size));
        m = load(test_ctx(), seed_path(v2_files[i]));
        unsigned char *mine = encode(m, &size);
        ck_assert_msg(size == file_size && memcmp(mine, file, size) == 0,
                      "%s: re-encoded bytes differ", v2_files[i]);
        free(file);
        free(mine);
        clseq_model_free(m);
    }
}
END_TEST

/* A model saved by clseq 0.1 (format version 1) still loads: same
 * layers, weights and compile settings; no seed, a fresh optimizer. */
START_TEST(test_version_1_file_loads)
{
    const char *dir = test_temp_dir();
    char path[4200];
    snprintf(path, sizeof path, "%s/old.clseq", dir);
    for (int compiled = 0; compiled < 2; compiled++) {
        clseq_model *a = make_model(9, 5, compiled);
        size_t size;
        unsigned char *v1 = v1_encode(a, &size);
        write_bytes(path, v1, size);
        clseq_model *b = load(test_ctx(), path);
        expect_same_model(a, b);
        ck_assert_int_eq(clseq_model_is_compiled(b), compiled);
        ck_assert_uint_eq(clseq_model_seed(b), 0);
        if (compiled) {
            clseq_optimizer oa, ob;
            clseq_loss la, lb;
            unsigned ma, mb;
            ck_assert_clseq_ok(clseq_model_compile_settings(a, &oa, &la, &ma));
            ck_assert_clseq_ok(clseq_model_compile_settings(b, &ob, &lb, &mb));
            ck_assert_mem_eq(&oa, &ob, sizeof oa);
            ck_assert(la == lb && ma == mb);
            ck_assert_int_eq(clseq_optimizer_iterations(b), 0);
        }
        /* loaded, it saves as version 2 */
        unsigned char *v2 = encode(b, &size);
        ck_assert_uint_eq(get32(v2 + CLSEQ_MF_OFF_VERSION), 2);
        free(v1);
        free(v2);
        clseq_model_free(a);
        clseq_model_free(b);
    }
}
END_TEST

/* ---- exact resume ------------------------------------------------------------------ */

/* Trains 2 epochs (no shuffling), saves, loads, then trains 2 more epochs
 * on both the original and the loaded model: the weights must agree bit
 * for bit, on the layer-by-layer path and on the fused trainer. As a
 * control, the same model through a version 1 file (weights without the
 * optimizer's state) must end elsewhere, or the check would prove
 * nothing. */
static void expect_exact_resume(clseq_optimizer opt)
{
    const char *dir = test_temp_dir();
    char path[4200], old[4200];
    snprintf(path, sizeof path, "%s/resume.clseq", dir);
    snprintf(old, sizeof old, "%s/resume_v1.clseq", dir);
    float x[ROWS * IN], y[ROWS * OUT];
    make_data(x, y, 17);
    for (int fused = 0; fused < 2; fused++) {
        clseq_ctx *ctx = test_ctx_with_fused(fused);
        clseq_model *a = new_model(ctx, 21, 6, &opt);
        fit(a, x, y, 2, 0);
        ck_assert_clseq_ok(clseq_save(a, path));
        size_t size;
        unsigned char *v1 = v1_encode(a, &size);
        write_bytes(old, v1, size);
        clseq_model *b = load(ctx, path), *c = load(ctx, old);
        expect_same_optimizer_state(a, b);
        ck_assert_int_eq(clseq_optimizer_iterations(b), 2 * ROWS / BATCH);
        fit(a, x, y, 2, 0);
        fit(b, x, y, 2, 0);
        fit(c, x, y, 2, 0);
        ck_assert_msg(same_variables(a, b), "fused %d: resumed training differs", fused);
        expect_same_optimizer_state(a, b);
        ck_assert_int_eq(clseq_optimizer_iterations(b), 4 * ROWS / BATCH);
        ck_assert_msg(!same_variables(a, c), "fused %d: a fresh optimizer gave the same weights",
                      fused);
        free(v1);
        clseq_model_free(a);
        clseq_model_free(b);
        clseq_model_free(c);
        clseq_ctx_free(ctx);
    }
}

START_TEST(test_resume_adam)
{
    expect_exact_resume(clseq_adam(0.01f, 0.9f, 0.999f, 1e-7f));
}
END_TEST

START_TEST(test_resume_sgd_momentum)
{
    expect_exact_resume(clseq_sgd(0.05f, 0.9f, 0));
    expect_exact_resume(clseq_sgd(0.05f, 0.8f, 1));
}
END_TEST

START_TEST(test_resume_rmsprop)
{
    expect_exact_resume(clseq_rmsprop(0.01f, 0.9f, 1e-7f));
}
END_TEST

/* ---- bad files ----------------------------------------------------------------------- */

static void expect_all_flips_refused(const char *dir, unsigned char *data, size_t size)
{
    /* every byte of a small file (a stride for big ones), two patterns */
    size_t stride = size > 4096 ? size / 2048 : 1;
    for (size_t i = 0; i < size; i += stride)
        for (int k = 0; k < 2; k++) {
            unsigned char mask = k ? 0xFF : 0x01;
            data[i] ^= mask;
            expect_format(dir, data, size, NULL);
            data[i] ^= mask;
        }
}

START_TEST(test_flipped_bytes_are_format_errors)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *data = encode(m, &size);
    expect_all_flips_refused(dir, data, size);
    free(data);
    data = v1_encode(m, &size);
    expect_all_flips_refused(dir, data, size);
    free(data);
    clseq_model_free(m);
}
END_TEST

static void expect_all_truncations_refused(const char *dir, const unsigned char *data,
                                           size_t size)
{
    for (size_t n = 0; n < size; n++) {
        expect_format(dir, data, n, NULL);
        const char *e = clseq_last_error();
        ck_assert_msg(strstr(e, "truncated") || strstr(e, "checksum") || strstr(e, "magic"),
                      "length %zu: %s", n, e);
    }
    expect_format(dir, data, 100, "truncated at byte 100");
}

START_TEST(test_every_truncation)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *data = encode(m, &size);
    expect_all_truncations_refused(dir, data, size);
    free(data);
    data = v1_encode(m, &size);
    expect_all_truncations_refused(dir, data, size);
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
    expect_format(dir, data, size, "format version 3 is newer than this clseq supports (2)");
    put32(data + CLSEQ_MF_OFF_VERSION, 0);
    expect_format(dir, data, size, "version 0");
    /* a version 2 body read as version 1 is caught by its structure */
    put32(data + CLSEQ_MF_OFF_VERSION, 1);
    fix_crc(data, size);
    expect_format(dir, data, size, NULL);
    free(data);
    clseq_model_free(m);
}
END_TEST

/* Patches n bytes at off (checksum recomputed) and expects word. */
static void expect_patched_bytes(const char *dir, const unsigned char *good, size_t size,
                                 size_t off, const void *bytes, size_t n, const char *word)
{
    ck_assert_uint_le(off + n, size - 4);
    unsigned char *data = malloc(size);
    memcpy(data, good, size);
    memcpy(data + off, bytes, n);
    fix_crc(data, size);
    expect_format(dir, data, size, word);
    free(data);
}

/* Patches one u32 at off and expects word. */
static void expect_patched(const char *dir, const unsigned char *good, size_t size, size_t off,
                           uint32_t v, const char *word)
{
    unsigned char b[4];
    put32(b, v);
    expect_patched_bytes(dir, good, size, off, b, 4, word);
}

START_TEST(test_impossible_fields_version_1)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *d = v1_encode(m, &size);
    const size_t layer0 = CLSEQ_MF1_OFF_LAYERS, compile = layer0 + 3 * CLSEQ_MF1_LAYER_BYTES;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* huge sizes: refused from the file's length, never allocated */
    expect_patched(dir, d, size, layer0 + 4, 1u << 31, "units 2147483648");
    expect_patched(dir, d, size, layer0 + 4, 1u << 24, "parameter count");
    expect_patched(dir, d, size, CLSEQ_MF1_OFF_LAYER_COUNT, 0xFFFFFFFFu, "layer count");
    expect_patched(dir, d, size, CLSEQ_MF1_OFF_INPUT_DIM, 1u << 31, "input_dim");
    expect_patched(dir, d, size, compile + 48, 0x40000000u, "parameter count");
    expect_patched(dir, d, size, CLSEQ_MF_OFF_LENGTH + 4, 1, "truncated");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_double_lt((double)(t1.tv_sec - t0.tv_sec), 2.0);
    expect_patched(dir, d, size, layer0 + 4, 0, "units 0");
    expect_patched(dir, d, size, layer0, 2, "kind 2");
    expect_patched(dir, d, size, layer0 + 8, 99, "activation code 99");
    expect_patched(dir, d, size, layer0 + 2 * CLSEQ_MF1_LAYER_BYTES + 4, 5, "width 5");
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

/* Patches one u32 at off and expects word from decoding without a
 * context, which checks the syntax alone. */
static void expect_syntax_error(const unsigned char *good, size_t size, size_t off, uint32_t v,
                                const char *word)
{
    unsigned char *data = malloc(size);
    memcpy(data, good, size);
    put32(data + off, v);
    fix_crc(data, size);
    clseq_model *out = (clseq_model *)1;
    ck_assert_int_eq(clseq_model_decode(NULL, data, size, "mem", &out), CLSEQ_E_FORMAT);
    ck_assert_ptr_null(out);
    ck_assert_msg(strstr(clseq_last_error(), word), "'%s' not in '%s'", word, clseq_last_error());
    free(data);
}

/* The offset of the length field of the string s, searching from from. */
static size_t find_string(const unsigned char *d, size_t size, size_t from, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = from; i + 4 + n <= size; i++)
        if (get32(d + i) == n && memcmp(d + i + 4, s, n) == 0)
            return i;
    ck_abort_msg("'%s' is not in the file", s);
    return 0;
}

/* Offsets of a version 2 file of make_model(.., 6, 1): IN -> Dense(6,
 * relu) -> Dense(OUT) -> softmax, Adam. */
typedef struct v2_offsets {
    size_t layer_count, layer1, units, relu, variables1, kernel, bias, compiled, settings,
        learning_rate, beta1, epsilon, loss, metrics, iterations, slots, slot_m, slot_v;
} v2_offsets;

static v2_offsets find_fields(const unsigned char *d, size_t size, size_t trainable)
{
    v2_offsets o;
    o.layer_count = CLSEQ_MF2_OFF_DIMS + 4;
    o.layer1 = o.layer_count + 4;
    o.units = find_string(d, size, o.layer1, "units");
    o.relu = find_string(d, size, o.units, "relu");
    o.variables1 = o.relu + 8;
    o.kernel = find_string(d, size, o.variables1, "kernel");
    o.bias = find_string(d, size, o.kernel, "bias");
    o.compiled = find_string(d, size, o.bias, "adam") - 4;
    o.settings = o.compiled + 12;
    o.learning_rate = find_string(d, size, o.settings, "learning_rate");
    o.beta1 = find_string(d, size, o.settings, "beta1");
    o.epsilon = find_string(d, size, o.settings, "epsilon");
    o.loss = find_string(d, size, o.epsilon, "categorical_crossentropy");
    o.metrics = o.loss + 4 + 24;
    o.iterations = o.metrics + 4;
    o.slots = o.iterations + 8;
    o.slot_m = o.slots + 4;
    o.slot_v = o.slot_m + 4 + 1 + 8 + 4 * trainable;
    ck_assert_uint_eq(find_string(d, size, o.slot_m + 13, "v"), o.slot_v);
    return o;
}

START_TEST(test_impossible_fields_version_2)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size, p = clseq_model_trainable_count(m);
    unsigned char *d = encode(m, &size);
    v2_offsets o = find_fields(d, size, p);
    const float nan = NAN, inf = INFINITY, big = 1.5f;
    char word[64];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* huge sizes: refused from the bytes left, never allocated */
    expect_patched(dir, d, size, o.layer_count, 0xFFFFFFFFu, "layer count 4294967295");
    expect_patched(dir, d, size, o.layer1, 0xFFFFFFFFu, "more than 64");
    expect_patched(dir, d, size, o.layer1 + 9, 0xFFFFu, "value count 65535 is more than 16");
    expect_patched(dir, d, size, o.variables1, 0x7FFFFFFFu, "variable count 2147483647");
    expect_patched(dir, d, size, o.kernel + 14, 1u << 24, "shape (16777216, 6) in the file");
    expect_syntax_error(d, size, o.kernel + 14, 1u << 24, "100663296 values run past the end");
    expect_patched(dir, d, size, o.kernel + 18, 0x7FFFFFFFu, "makes more than");
    expect_patched(dir, d, size, o.units + 10, 1u << 24, "has variables of 67108864 values, "
                   "more than the");
    expect_patched(dir, d, size, o.slots, 0xFFFFFFFFu, "more than 8");
    expect_patched(dir, d, size, o.slot_m + 9, 0xFFFFFFFFu, "values, but the model has");
    expect_patched(dir, d, size, CLSEQ_MF_OFF_LENGTH + 4, 1, "truncated");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_double_lt((double)(t1.tv_sec - t0.tv_sec), 2.0);
    /* the header */
    expect_patched(dir, d, size, CLSEQ_MF2_OFF_RANK, 7, "input rank 7");
    expect_patched(dir, d, size, CLSEQ_MF2_OFF_RANK, 0, "input rank 0");
    expect_patched(dir, d, size, CLSEQ_MF2_OFF_DIMS, 0, "input dimension 0");
    expect_patched(dir, d, size, CLSEQ_MF2_OFF_DIMS, 1u << 25, "input dimension 33554432");
    /* layers: syntax, then what the layer itself refuses */
    expect_patched_bytes(dir, d, size, o.layer1 + 4, "\x01", 1, "not printable ASCII");
    expect_patched_bytes(dir, d, size, o.units + 9, "\x09", 1, "type 9");
    expect_patched(dir, d, size, o.units + 10, 0, "units must be in 1..");
    expect_patched_bytes(dir, d, size, o.relu + 4, "relx", 4, "relx");
    expect_patched(dir, d, size, o.variables1, 3, "has 3 variables in the file, but the layer has 2");
    expect_patched(dir, d, size, o.kernel + 10, 5, "rank 5 is more than 4");
    expect_patched(dir, d, size, o.kernel + 10, 0, "rank 0 is not in 1..4");
    expect_patched_bytes(dir, d, size, o.kernel + 22, "\x02", 1, "2 is neither 0 nor 1");
    expect_patched_bytes(dir, d, size, o.kernel + 22, "\x00", 1, "trainable 0 in the file");
    expect_patched_bytes(dir, d, size, o.bias + 7, "n", 1,
                         "is 'bian' in the file, but the layer's is 'bias'");
    snprintf(word, sizeof word, "byte %zu: layer 1 (Dense) variable 'kernel' value 0 is nan",
             o.kernel + 23);
    expect_patched_bytes(dir, d, size, o.kernel + 23, &nan, 4, word);
    /* compile settings */
    expect_patched(dir, d, size, o.compiled, 2, "compiled flag 2");
    expect_patched_bytes(dir, d, size, o.compiled + 8 + 3, "x", 1, "unknown optimizer 'adax'");
    expect_patched(dir, d, size, o.settings, 99, "more than 16");
    expect_patched_bytes(dir, d, size, o.learning_rate + 18, &nan, 4, "learning_rate' is nan");
    expect_patched_bytes(dir, d, size, o.beta1 + 10, &big, 4, "beta1");
    expect_patched_bytes(dir, d, size, o.epsilon + 10, "m", 1, "no 'epsilon'");
    expect_patched_bytes(dir, d, size, o.beta1 + 8, "2", 1, "value 'beta2' appears twice");
    expect_patched_bytes(dir, d, size, o.loss + 27, "x", 1, "unknown loss");
    expect_patched(dir, d, size, o.metrics, 0x1000, "metric bits 0x1000");
    expect_patched(dir, d, size, o.iterations + 4, 0x80000000u, "iteration count");
    /* optimizer state */
    expect_patched(dir, d, size, o.slots, 1, "1 optimizer slots in the file, but the optimizer "
                                             "keeps 2");
    expect_patched_bytes(dir, d, size, o.slot_m + 4, "x", 1, "optimizer slot 1 is 'x'");
    snprintf(word, sizeof word, "has 5 values, but the model has %zu trainable values", p);
    expect_patched(dir, d, size, o.slot_m + 5, 5, word);
    expect_patched_bytes(dir, d, size, o.slot_v + 13, &inf, 4, "optimizer slot 'v' value 0 is inf");
    free(d);
    clseq_model_free(m);
}
END_TEST

START_TEST(test_trailing_bytes_before_checksum)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *d = encode(m, &size);
    unsigned char *longer = calloc(size + 4, 1);
    memcpy(longer, d, size - 4);
    put64(longer + CLSEQ_MF_OFF_LENGTH, size + 4);
    fix_crc(longer, size + 4);
    expect_format(dir, longer, size + 4, "4 bytes follow the model before the checksum");
    free(longer);
    free(d);
    clseq_model_free(m);
}
END_TEST

/* A variable whose shape disagrees with its layer's config: kernel
 * (3, 6) declared (6, 3), the same number of values, so only the check
 * against the layer can catch it. */
START_TEST(test_variable_shape_disagrees_with_config)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *d = encode(m, &size);
    size_t kernel = find_string(d, size, 0, "kernel");
    ck_assert(get32(d + kernel + 10) == 2 && get32(d + kernel + 14) == IN &&
              get32(d + kernel + 18) == 6);
    unsigned char dims[8];
    put32(dims, 6);
    put32(dims + 4, IN);
    expect_patched_bytes(dir, d, size, kernel + 14, dims, 8,
                         "layer 1 (Dense) variable 'kernel': shape (6, 3) in the file, but (3, 6) "
                         "from the layer's config");
    /* without a context only the syntax is checked, and it is fine */
    memcpy(d + kernel + 14, dims, 8);
    fix_crc(d, size);
    clseq_model *out = (clseq_model *)1;
    ck_assert_clseq_ok(clseq_model_decode(NULL, d, size, "x", &out));
    ck_assert_ptr_null(out);
    free(d);
    clseq_model_free(m);
}
END_TEST

START_TEST(test_unknown_layer_class)
{
    const char *dir = test_temp_dir();
    clseq_model *m = make_model(3, 6, 1);
    size_t size;
    unsigned char *d = encode(m, &size);
    size_t layer1 = CLSEQ_MF2_OFF_DIMS + 8;
    ck_assert_mem_eq(d + layer1 + 4, "Dense", 5);
    expect_patched_bytes(dir, d, size, layer1 + 4, "Dence", 5, "class 'Dence' is not supported");
    free(d);
    clseq_model_free(m);
}
END_TEST

START_TEST(test_validate_without_context)
{
    clseq_model *m = make_model(3, 6, 1), *out = (clseq_model *)1;
    size_t size;
    unsigned char *d = encode(m, &size);
    ck_assert_clseq_ok(clseq_model_decode(NULL, d, size, "mem", &out));
    ck_assert_ptr_null(out);
    d[size / 2] ^= 1;
    ck_assert_int_eq(clseq_model_decode(NULL, d, size, "mem", &out), CLSEQ_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "mem: checksum mismatch"));
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
    ck_assert_int_eq(clseq_model_encode(NULL, NULL, NULL), CLSEQ_E_ARG);
    clseq_model_free(m);
}
END_TEST

/* ---- faults ----------------------------------------------------------------------- */

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
    tcase_add_test(round, test_round_trip_shaped_input);
    tcase_add_test(round, test_loads_independently_written_files);
    tcase_add_test(round, test_version_1_file_loads);
    suite_add_tcase(s, round);
    TCase *resume = tcase_create("resume");
    tcase_add_test(resume, test_resume_adam);
    tcase_add_test(resume, test_resume_sgd_momentum);
    tcase_add_test(resume, test_resume_rmsprop);
    suite_add_tcase(s, resume);
    TCase *bad = tcase_create("bad_files");
    tcase_add_test(bad, test_flipped_bytes_are_format_errors);
    tcase_add_test(bad, test_every_truncation);
    tcase_add_test(bad, test_bad_magic_and_newer_version);
    tcase_add_test(bad, test_impossible_fields_version_1);
    tcase_add_test(bad, test_impossible_fields_version_2);
    tcase_add_test(bad, test_trailing_bytes_before_checksum);
    tcase_add_test(bad, test_variable_shape_disagrees_with_config);
    tcase_add_test(bad, test_unknown_layer_class);
    tcase_add_test(bad, test_validate_without_context);
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
