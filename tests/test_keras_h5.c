/* Keras files' containers and weights: HDF5 images in memory
 * (keras/keras_h5.c), zip archives in memory (keras/keras_zip.c), the
 * content sniffer (keras/keras.h), and the mapping between Keras's weights
 * layout and a model's variables and optimizer state
 * (keras/keras_weights.c, keras_optimizer.c, keras_write.c).
 *
 * References: values written and read back through the library compared
 * bit for bit (tolerance 0: float32 in, float32 out, no arithmetic);
 * HDF5 files with other types written here with HDF5's own API; layouts
 * taken from files Keras 3.15.1 wrote (keras/keras_weights.h). Damaged
 * inputs: every truncation of small images, flipped bytes, and members and
 * names that are missing; each must give CLSEQ_E_FORMAT, never a crash. */
#include "keras/keras.h"
#include "keras/keras_h5.h"
#include "keras/keras_weights.h"
#include "keras/keras_zip.h"
#include "nn/model_io.h"
#include "testutil.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- HDF5 ---------------------------------------------------------------- */

/* A small file: two groups, float32 datasets of rank 0, 1 and 2, an int64
 * scalar and string attributes. */
static unsigned char *small_image(size_t *size)
{
    clseq_h5 *h = NULL;
    ck_assert_clseq_ok(clseq_h5_create_image("test.h5", &h));
    ck_assert_clseq_ok(clseq_h5_make_groups(h, "layers/dense/vars"));
    ck_assert_clseq_ok(clseq_h5_write_string(h, "layers/dense/vars", "name", "dense"));
    ck_assert_clseq_ok(clseq_h5_write_string(h, "", "note", "root text"));
    const float k[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
    const size_t kd[2] = {2, 3};
    const float scalar = 0.125f;
    const size_t bd[1] = {3};
    ck_assert_clseq_ok(clseq_h5_write_f32(h, "layers/dense/vars/0", 2, kd, k));
    ck_assert_clseq_ok(clseq_h5_write_f32(h, "layers/dense/vars/1", 1, bd, k + 3));
    ck_assert_clseq_ok(clseq_h5_write_f32(h, "lr", 0, NULL, &scalar));
    ck_assert_clseq_ok(clseq_h5_write_int(h, "iterations", 1234567890123LL));
    unsigned char *data = NULL;
    ck_assert_clseq_ok(clseq_h5_get_image(h, &data, size));
    clseq_h5_close(h);
    return data;
}

START_TEST(test_h5_round_trip)
{
    size_t size = 0;
    unsigned char *data = small_image(&size);
    ck_assert_int_eq(clseq_keras_sniff(data, size), CLSEQ_KERAS_HDF5);
    clseq_h5 *h = NULL;
    ck_assert_clseq_ok(clseq_h5_open_image(data, size, "test.h5", &h));
    free(data); /* the image was copied */
    ck_assert(clseq_h5_is_group(h, ""));
    ck_assert(clseq_h5_is_group(h, "layers/dense/vars"));
    ck_assert(!clseq_h5_is_group(h, "layers/dense/vars/0"));
    ck_assert(clseq_h5_is_dataset(h, "layers/dense/vars/0"));
    ck_assert(!clseq_h5_is_dataset(h, "layers/missing/0"));
    ck_assert(!clseq_h5_is_group(h, "layers//dense"));
    ck_assert(!clseq_h5_is_group(h, "layers/./dense"));
    size_t n = 0;
    ck_assert_clseq_ok(clseq_h5_group_size(h, "layers/dense/vars", &n));
    ck_assert_uint_eq(n, 2);
    clseq_h5_info info;
    ck_assert_clseq_ok(clseq_h5_dataset_info(h, "layers/dense/vars/0", &info));
    ck_assert_int_eq(info.rank, 2);
    ck_assert_uint_eq(info.dims[0], 2);
    ck_assert_uint_eq(info.dims[1], 3);
    ck_assert(info.is_float32);
    ck_assert_str_eq(info.type, "float32");
    float k[6], b[3], lr = 0;
    ck_assert_clseq_ok(clseq_h5_read_f32(h, "layers/dense/vars/0", k, 6));
    ck_assert_clseq_ok(clseq_h5_read_f32(h, "layers/dense/vars/1", b, 3));
    ck_assert_clseq_ok(clseq_h5_read_f32(h, "lr", &lr, 1));
    const float want[6] = {1.5f, -2.0f, 3.25f, 0.0f, -0.0f, 1e-30f};
    ck_assert_mem_eq(k, want, sizeof k);
    ck_assert_mem_eq(b, want + 3, sizeof b);
    ck_assert(lr == 0.125f);
    long long it = 0;
    ck_assert_clseq_ok(clseq_h5_read_int(h, "iterations", &it));
    ck_assert_int_eq(it, 1234567890123LL);
    clseq_h5_strings s;
    int found = 0;
    ck_assert_clseq_ok(clseq_h5_read_strings(h, "layers/dense/vars", "name", &s, &found));
    ck_assert(found);
    ck_assert_int_eq(s.count, 1);
    ck_assert_str_eq(s.items[0], "dense");
    clseq_h5_strings_free(&s);
    ck_assert_clseq_ok(clseq_h5_read_strings(h, "", "note", &s, &found));
    ck_assert_str_eq(s.items[0], "root text");
    clseq_h5_strings_free(&s);
    ck_assert_clseq_ok(clseq_h5_read_strings(h, "", "absent", &s, &found));
    ck_assert(!found);
    ck_assert_int_eq(s.count, 0);
    /* wrong count and wrong type are refused, naming the dataset */
    ck_assert_int_eq(clseq_h5_read_f32(h, "layers/dense/vars/0", k, 5), CLSEQ_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "layers/dense/vars/0"));
    ck_assert_int_eq(clseq_h5_read_f32(h, "iterations", k, 1), CLSEQ_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "int64"));
    ck_assert_int_eq(clseq_h5_read_int(h, "lr", &it), CLSEQ_E_FORMAT);
    ck_assert_int_eq(clseq_h5_read_f32(h, "nothing/here", k, 1), CLSEQ_E_FORMAT);
    ck_assert_ptr_nonnull(strstr(clseq_last_error(), "test.h5"));
    clseq_h5_close(h);
}
END_TEST

/* HDF5's own API, for what clseq never writes: other types, fixed-length
 * string lists (as h5py writes numpy bytes arrays), a user block, and a
 * soft link. */
static unsigned char *foreign_image(size_t *size, hsize_t user_block)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), fcpl = H5Pcreate(H5P_FILE_CREATE);
    ck_assert(fapl >= 0 && fcpl >= 0);
    ck_assert(H5Pset_fapl_core(fapl, 4096, 0) >= 0);
    if (user_block)
        ck_assert(H5Pset_userblock(fcpl, user_block) >= 0);
    char name[64];
    snprintf(name, sizeof name, "foreign-%llu", (unsigned long long)user_block);
    hid_t f = H5Fcreate(name, H5F_ACC_EXCL, fcpl, fapl);
    ck_assert(f >= 0);
    hsize_t dims[1] = {3};
    hid_t sp = H5Screate_simple(1, dims, NULL);
    const double d[3] = {1, 2, 3};
    hid_t ds = H5Dcreate2(f, "f64", H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, d) >= 0);
    H5Dclose(ds);
    const unsigned short half[3] = {0x3c00, 0x4000, 0x4200};
    ds = H5Dcreate2(f, "f16ish", H5T_STD_U16LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(H5Dwrite(ds, H5T_NATIVE_USHORT, H5S_ALL, H5S_ALL, H5P_DEFAULT, half) >= 0);
    H5Dclose(ds);
    /* weight_names as numpy writes np.array([b"dense/kernel:0", ...]) */
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, 16);
    const char names[3][16] = {"dense/kernel:0", "dense/bias:0", "x"};
    hid_t a = H5Acreate2(f, "weight_names", st, sp, H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(H5Awrite(a, st, names) >= 0);
    H5Aclose(a);
    H5Tclose(st);
    H5Sclose(sp);
    H5Lcreate_soft("f64", f, "soft", H5P_DEFAULT, H5P_DEFAULT);
    ck_assert(H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0);
    ssize_t n = H5Fget_file_image(f, NULL, 0);
    ck_assert(n > 0);
    unsigned char *data = malloc((size_t)n);
    ck_assert(H5Fget_file_image(f, data, (size_t)n) == n);
    H5Fclose(f);
    H5Pclose(fapl);
    H5Pclose(fcpl);
    *size = (size_t)n;
    return data;
}

START_TEST(test_h5_foreign_types_and_user_block)
{
    for (int ub = 0; ub <= 1; ub++) {
        size_t size = 0;
        unsigned char *data = foreign_image(&size, ub ? 1024 : 0);
        ck_assert_int_eq(clseq_keras_sniff(data, size), CLSEQ_KERAS_HDF5);
        clseq_h5 *h = NULL;
        ck_assert_clseq_ok(clseq_h5_open_image(data, size, "foreign.h5", &h));
        float x[3];
        ck_assert_int_eq(clseq_h5_read_f32(h, "f64", x, 3), CLSEQ_E_FORMAT);
        ck_assert_msg(strstr(clseq_last_error(), "'f64'") && strstr(clseq_last_error(), "float64"),
                      "%s", clseq_last_error());
        ck_assert_int_eq(clseq_h5_read_f32(h, "f16ish", x, 3), CLSEQ_E_FORMAT);
        ck_assert_ptr_nonnull(strstr(clseq_last_error(), "uint16"));
        /* soft links are not followed */
        ck_assert(!clseq_h5_is_dataset(h, "soft"));
        ck_assert_int_eq(clseq_h5_read_f32(h, "soft", x, 3), CLSEQ_E_FORMAT);
        clseq_h5_strings s;
        int found = 0;
        ck_assert_clseq_ok(clseq_h5_read_strings(h, "", "weight_names", &s, &found));
        ck_assert_int_eq(s.count, 3);
        ck_assert_str_eq(s.items[0], "dense/kernel:0");
        ck_assert_str_eq(s.items[1], "dense/bias:0");
        ck_assert_str_eq(s.items[2], "x");
        clseq_h5_strings_free(&s);
        clseq_h5_close(h);
        free(data);
    }
}
END_TEST

START_TEST(test_h5_damaged_images)
{
    size_t size = 0;
    unsigned char *data = small_image(&size);
    unsigned char *copy = malloc(size);
    float k[6];
    /* every truncation: refused at open or at the read, never a crash */
    for (size_t cut = 0; cut < size; cut += cut < 64 ? 1 : 7) {
        clseq_h5 *h = NULL;
        clseq_status s = clseq_h5_open_image(data, cut, "cut.h5", &h);
        if (s == CLSEQ_OK) {
            s = clseq_h5_read_f32(h, "layers/dense/vars/0", k, 6);
            clseq_h5_close(h);
        }
        ck_assert_msg(s == CLSEQ_E_FORMAT, "cut at %zu: %s", cut, clseq_status_name(s));
        ck_assert_ptr_nonnull(strstr(clseq_last_error(), "cut.h5"));
    }
    /* A damaged heap collection is refused before HDF5 reads it (HDF5
     * 1.10 would read outside its buffer): the object of "name" made to
     * run past the collection's end. Other flipped bytes inside HDF5's
     * structures can crash or hang HDF5 1.10 itself, so they are not
     * tried here; in a .keras file the zip's CRC refuses them first
     * (test_zip_damaged). */
    size_t heap = 0;
    while (heap + 8 <= size && memcmp(data + heap, "GCOL\x01\0\0\0", 8) != 0)
        heap++;
    ck_assert_uint_lt(heap + 8, size);
    memcpy(copy, data, size);
    copy[heap + 16 + 8 + 6] = 0x7f; /* object 1's size, high byte (lengths are 8 bytes) */
    clseq_h5 *bad = NULL;
    ck_assert_int_eq(clseq_h5_open_image(copy, size, "heap.h5", &bad), CLSEQ_E_FORMAT);
    ck_assert_msg(strstr(clseq_last_error(), "heap.h5") &&
                      strstr(clseq_last_error(), "global heap"), "%s", clseq_last_error());
    ck_assert_int_eq(clseq_h5_open_image("nothing", 7, "tiny.h5", &(clseq_h5 *){NULL}),
                     CLSEQ_E_FORMAT);
    free(copy);
    free(data);
}
END_TEST

START_TEST(test_sniff)
{
    unsigned char buf[2048];
    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(clseq_keras_sniff(buf, sizeof buf), CLSEQ_KERAS_NONE);
    ck_assert_int_eq(clseq_keras_sniff((const unsigned char *)"CLSEQMDL", 8), CLSEQ_KERAS_NONE);
    ck_assert_int_eq(clseq_keras_sniff((const unsigned char *)"PK\x03\x04", 4), CLSEQ_KERAS_ZIP);
    memcpy(buf + 512, "\x89HDF\r\n\x1a\n", 8);
    ck_assert_int_eq(clseq_keras_sniff(buf, sizeof buf), CLSEQ_KERAS_HDF5);
    ck_assert_int_eq(clseq_keras_sniff(buf, 519), CLSEQ_KERAS_NONE); /* cut inside it */
    memset(buf, 0, sizeof buf);
    memcpy(buf + 100, "\x89HDF\r\n\x1a\n", 8); /* not at a user-block boundary */
    ck_assert_int_eq(clseq_keras_sniff(buf, sizeof buf), CLSEQ_KERAS_NONE);
    ck_assert_int_eq(clseq_keras_sniff(buf, 0), CLSEQ_KERAS_NONE);
}
END_TEST

/* ---- zip ----------------------------------------------------------------- */

static unsigned char *small_zip(size_t *size)
{
    static const unsigned char blob[5] = {0, 1, 2, 0xff, 0x80};
    const clseq_zip_entry e[3] = {
        {"metadata.json", (const unsigned char *)"{}", 2},
        {"config.json", (const unsigned char *)"{\"a\": 1}", 8},
        {"model.weights.h5", blob, sizeof blob},
    };
    unsigned char *data = NULL;
    ck_assert_clseq_ok(clseq_zip_write(e, 3, 1700000000, &data, size));
    return data;
}

START_TEST(test_zip_round_trip)
{
    size_t size = 0;
    unsigned char *data = small_zip(&size);
    ck_assert_int_eq(clseq_keras_sniff(data, size), CLSEQ_KERAS_ZIP);
    clseq_zip *z = NULL;
    ck_assert_clseq_ok(clseq_zip_open(data, size, "x.keras", &z));
    ck_assert(clseq_zip_has(z, "config.json"));
    ck_assert(!clseq_zip_has(z, "config.JSON"));
    unsigned char *m = NULL;
    size_t n = 0;
    ck_assert_clseq_ok(clseq_zip_read(z, "config.json", &m, &n));
    ck_assert_uint_eq(n, 8);
    ck_assert_str_eq((char *)m, "{\"a\": 1}"); /* NUL-terminated */
    free(m);
    ck_assert_clseq_ok(clseq_zip_read(z, "model.weights.h5", &m, &n));
    ck_assert_uint_eq(n, 5);
    ck_assert_int_eq(m[3], 0xff);
    free(m);
    ck_assert_int_eq(clseq_zip_read(z, "model.weights.npz", &m, &n), CLSEQ_E_FORMAT);
    ck_assert_msg(strstr(clseq_last_error(), "x.keras") &&
                      strstr(clseq_last_error(), "'model.weights.npz'") &&
                      strstr(clseq_last_error(), "'config.json'"),
                  "%s", clseq_last_error());
    ck_assert_ptr_null(m);
    clseq_zip_close(z);
    free(data);
}
END_TEST

START_TEST(test_zip_damaged)
{
    size_t size = 0;
    unsigned char *data = small_zip(&size);
    unsigned char *copy = malloc(size);
    for (size_t cut = 0; cut < size; cut++) {
        clseq_zip *z = NULL;
        clseq_status s = clseq_zip_open(data, cut, "cut.keras", &z);
        ck_assert_msg(s == CLSEQ_E_FORMAT, "cut at %zu opened", cut);
        ck_assert_ptr_nonnull(strstr(clseq_last_error(), "cut.keras"));
    }
    /* a flipped byte in a member's data is a CRC error naming the member */
    size_t at = 0;
    while (at + 8 <= size && memcmp(data + at, "{\"a\": 1}", 8) != 0)
        at++;
    ck_assert_uint_lt(at + 8, size);
    memcpy(copy, data, size);
    copy[at + 2] ^= 1;
    clseq_zip *z = NULL;
    ck_assert_clseq_ok(clseq_zip_open(copy, size, "crc.keras", &z));
    unsigned char *m = NULL;
    size_t n = 0;
    ck_assert_int_eq(clseq_zip_read(z, "config.json", &m, &n), CLSEQ_E_FORMAT);
    ck_assert_msg(strstr(clseq_last_error(), "'config.json'") &&
                      strstr(clseq_last_error(), "byte"), "%s", clseq_last_error());
    clseq_zip_close(z);
    /* every other flipped byte: refused or read, never a crash */
    for (size_t i = 0; i < size; i++) {
        memcpy(copy, data, size);
        copy[i] ^= 0xa5;
        if (clseq_zip_open(copy, size, "flip.keras", &z) != CLSEQ_OK)
            continue;
        const char *names[3] = {"metadata.json", "config.json", "model.weights.h5"};
        for (int k = 0; k < 3; k++)
            if (clseq_zip_read(z, names[k], &m, &n) == CLSEQ_OK)
                free(m);
        clseq_zip_close(z);
    }
    free(copy);
    free(data);
}
END_TEST

/* ---- weights ------------------------------------------------------------- */

enum { ROWS = 16 };

/* (6, 6, 2) -> Conv2D(3, 3x3, relu) -> BatchNormalization -> Flatten ->
 * Dense(hidden, relu) -> Dense(3, softmax), trained one epoch with opt. */
static clseq_model *conv_model(int hidden, clseq_optimizer opt, int train)
{
    const int dims[3] = {6, 6, 2};
    clseq_model *m = NULL;
    ck_assert_clseq_ok(clseq_model_create_shaped(test_ctx(), 3, dims, &m));
    ck_assert_clseq_ok(clseq_add_conv2d(m, 3, 3, 3, 1, 1, CLSEQ_PADDING_VALID, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_batch_normalization(m, 0.99f, 0.001f));
    ck_assert_clseq_ok(clseq_add_flatten(m));
    ck_assert_clseq_ok(clseq_add_dense(m, hidden, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_dense(m, 3, CLSEQ_SOFTMAX));
    ck_assert_clseq_ok(clseq_compile(m, opt, CLSEQ_CATEGORICAL_CROSSENTROPY, 0));
    if (train) {
        float x[ROWS * 72], y[ROWS * 3];
        test_fill_uniform(x, ROWS * 72, 5, 0.0f, 1.0f);
        memset(y, 0, sizeof y);
        for (int r = 0; r < ROWS; r++)
            y[r * 3 + r % 3] = 1.0f;
        clseq_fit_options o = clseq_fit_defaults();
        o.batch_size = 8;
        o.verbose = 0;
        o.shuffle = 0;
        ck_assert_clseq_ok(clseq_fit(m, x, y, ROWS, &o, NULL));
    }
    return m;
}

static unsigned char *weights_of(const clseq_model *m, size_t *size)
{
    clseq_h5 *h = NULL;
    unsigned char *data = NULL;
    ck_assert_clseq_ok(clseq_h5_create_image("model.weights.h5", &h));
    ck_assert_clseq_ok(clseq_keras_write_weights(m, h));
    ck_assert_clseq_ok(clseq_h5_get_image(h, &data, size));
    clseq_h5_close(h);
    return data;
}

/* Reads a weights image into m as a .keras file's would be read. */
static clseq_status read_into(clseq_model *m, const unsigned char *data, size_t size)
{
    char paths[8][CLSEQ_KERAS_PATH];
    for (int i = 0; i < clseq_layer_count(m) && i < 8; i++) {
        char name[CLSEQ_KERAS_NAME];
        clseq_model_layer_name(m, i, name, sizeof name);
        snprintf(paths[i], sizeof paths[i], "layers/%s", name);
    }
    clseq_h5 *h = NULL;
    clseq_status s = clseq_h5_open_image(data, size, "x.keras: model.weights.h5", &h);
    if (s == CLSEQ_OK)
        s = clseq_keras_read_weights(h, m, paths);
    clseq_h5_close(h);
    return s;
}

static void assert_same_state(const clseq_model *a, const clseq_model *b)
{
    for (int l = 0; l < clseq_layer_count(a); l++)
        for (int i = 0; i < clseq_variable_count(a, l); i++) {
            clseq_variable_info info;
            ck_assert_clseq_ok(clseq_get_variable_info(a, l, i, &info));
            float *va = malloc(info.count * sizeof *va), *vb = malloc(info.count * sizeof *vb);
            ck_assert_clseq_ok(clseq_get_variable(a, l, i, va));
            ck_assert_clseq_ok(clseq_get_variable(b, l, i, vb));
            ck_assert_msg(memcmp(va, vb, info.count * sizeof *va) == 0, "layer %d %s", l,
                          info.name);
            free(va);
            free(vb);
        }
    ck_assert_int_eq(clseq_optimizer_iterations(a), clseq_optimizer_iterations(b));
    size_t p = clseq_model_trainable_count(a);
    ck_assert_int_eq(clseq_optimizer_slot_count(a), clseq_optimizer_slot_count(b));
    for (int k = 0; k < clseq_optimizer_slot_count(a); k++) {
        float *sa = malloc(p * sizeof *sa), *sb = malloc(p * sizeof *sb);
        ck_assert_clseq_ok(clseq_optimizer_get_slot(a, k, sa));
        ck_assert_clseq_ok(clseq_optimizer_get_slot(b, k, sb));
        ck_assert_msg(memcmp(sa, sb, p * sizeof *sa) == 0, "slot %d", k);
        free(sa);
        free(sb);
    }
}

static void round_trip(clseq_optimizer opt, size_t keras_vars)
{
    clseq_model *a = conv_model(4, opt, 1), *b = conv_model(4, opt, 0);
    size_t size = 0;
    unsigned char *data = weights_of(a, &size);
    /* Keras's count: iterations, learning rate, slots of the 8 trainable variables */
    ck_assert_uint_eq(clseq_keras_optimizer_size(a), keras_vars);
    clseq_h5 *h = NULL;
    size_t n = 0;
    ck_assert_clseq_ok(clseq_h5_open_image(data, size, "w", &h));
    ck_assert_clseq_ok(clseq_h5_group_size(h, "optimizer/vars", &n));
    ck_assert_uint_eq(n, keras_vars);
    ck_assert_clseq_ok(clseq_h5_group_size(h, "layers/batch_normalization/vars", &n));
    ck_assert_uint_eq(n, 4);
    ck_assert(clseq_h5_is_group(h, "layers/flatten/vars"));
    ck_assert(clseq_h5_is_dataset(h, "layers/dense_1/vars/1"));
    clseq_h5_close(h);
    ck_assert_clseq_ok(read_into(b, data, size));
    assert_same_state(a, b);
    free(data);
    clseq_model_free(a);
    clseq_model_free(b);
}

START_TEST(test_weights_round_trip_adam)
{
    round_trip(clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f), 2 + 2 * 8);
}
END_TEST

START_TEST(test_weights_round_trip_sgd_momentum)
{
    round_trip(clseq_sgd(0.01f, 0.9f, 0), 2 + 8);
}
END_TEST

START_TEST(test_weights_round_trip_rmsprop)
{
    round_trip(clseq_rmsprop(0.001f, 0.9f, 1e-7f), 2 + 8);
}
END_TEST

START_TEST(test_weights_shape_mismatch)
{
    clseq_optimizer adam = clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f);
    clseq_model *a = conv_model(4, adam, 0), *b = conv_model(5, adam, 0);
    size_t size = 0;
    unsigned char *data = weights_of(a, &size);
    ck_assert_int_eq(read_into(b, data, size), CLSEQ_E_FORMAT);
    const char *e = clseq_last_error();
    ck_assert_msg(strstr(e, "x.keras") && strstr(e, "layers/dense") && strstr(e, "'kernel'") &&
                      strstr(e, "(48, 4)") && strstr(e, "(48, 5)"),
                  "%s", e);
    free(data);
    clseq_model_free(a);
    clseq_model_free(b);
}
END_TEST

START_TEST(test_weights_missing_layer_and_optimizer_mismatch)
{
    clseq_optimizer adam = clseq_adam(0.001f, 0.9f, 0.999f, 1e-7f);
    clseq_model *a = conv_model(4, adam, 1);
    size_t size = 0;
    unsigned char *data = weights_of(a, &size);
    /* the same model without its batch normalization: the names move */
    const int dims[3] = {6, 6, 2};
    clseq_model *b = NULL;
    ck_assert_clseq_ok(clseq_model_create_shaped(test_ctx(), 3, dims, &b));
    ck_assert_clseq_ok(clseq_add_conv2d(b, 3, 3, 3, 1, 1, CLSEQ_PADDING_VALID, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_flatten(b));
    ck_assert_clseq_ok(clseq_add_dense(b, 4, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_dense(b, 3, CLSEQ_SOFTMAX));
    ck_assert_clseq_ok(clseq_compile(b, adam, CLSEQ_CATEGORICAL_CROSSENTROPY, 0));
    /* the weights match layer by layer, but Adam's slots are those of 8
     * variables, not 6 */
    ck_assert_int_eq(read_into(b, data, size), CLSEQ_E_FORMAT);
    ck_assert_msg(strstr(clseq_last_error(), "18 optimizer variables") &&
                      strstr(clseq_last_error(), "has 14"), "%s", clseq_last_error());
    /* a model with a layer the file lacks */
    clseq_model_free(b);
    b = NULL;
    ck_assert_clseq_ok(clseq_model_create_shaped(test_ctx(), 3, dims, &b));
    ck_assert_clseq_ok(clseq_add_conv2d(b, 3, 3, 3, 1, 1, CLSEQ_PADDING_VALID, CLSEQ_RELU));
    ck_assert_clseq_ok(clseq_add_conv2d(b, 2, 1, 1, 1, 1, CLSEQ_PADDING_VALID, CLSEQ_RELU));
    ck_assert_int_eq(read_into(b, data, size), CLSEQ_E_FORMAT);
    ck_assert_msg(strstr(clseq_last_error(), "no group 'layers/conv2d_1/vars'"), "%s",
                  clseq_last_error());
    clseq_model_free(a);
    clseq_model_free(b);
    free(data);
}
END_TEST

START_TEST(test_snake_case)
{
    const char *cases[][2] = {
        {"Dense", "dense"},
        {"Conv2D", "conv2d"},
        {"RMSprop", "rm_sprop"},
        {"BatchNormalization", "batch_normalization"},
        {"GlobalAveragePooling2D", "global_average_pooling2d"},
        {"MaxPooling2D", "max_pooling2d"},
        {"SGD", "sgd"},
        {"AdamW", "adam_w"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char buf[64];
        clseq_keras_snake_case(cases[i][0], buf, sizeof buf);
        ck_assert_str_eq(buf, cases[i][1]);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("keras_h5");
    TCase *h5 = tcase_create("h5");
    tcase_add_test(h5, test_h5_round_trip);
    tcase_add_test(h5, test_h5_foreign_types_and_user_block);
    tcase_add_test(h5, test_h5_damaged_images);
    tcase_add_test(h5, test_sniff);
    suite_add_tcase(s, h5);
    TCase *zip = tcase_create("zip");
    tcase_add_test(zip, test_zip_round_trip);
    tcase_add_test(zip, test_zip_damaged);
    suite_add_tcase(s, zip);
    TCase *w = tcase_create("weights");
    tcase_add_test(w, test_snake_case);
    tcase_add_test(w, test_weights_round_trip_adam);
    tcase_add_test(w, test_weights_round_trip_sgd_momentum);
    tcase_add_test(w, test_weights_round_trip_rmsprop);
    tcase_add_test(w, test_weights_shape_mismatch);
    tcase_add_test(w, test_weights_missing_layer_and_optimizer_mismatch);
    suite_add_tcase(s, w);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
