/* Model files: clseq_save and clseq_load, and what every format version
 * shares.
 *
 * Every version starts with the same 20 bytes and ends with the same
 * checksum (integers little-endian, written byte by byte):
 *
 *   offset  bytes  field
 *   0       8      magic "CLSEQMDL"
 *   8       4      u32 format version (1 or 2)
 *   12      8      u64 file length in bytes, checksum included
 *   20      ...    the version's body (modelfile_v1.c, modelfile_v2.c)
 *   end-4   4      u32 CRC-32 (zlib's) of every byte before it
 *
 * The length field lets a reader tell truncation ("truncated at byte N")
 * from corruption (checksum mismatch) before trusting any count; every
 * count in a body is bounded again by the bytes actually present, so no
 * field can make the reader allocate more than the file's size. clseq_save
 * writes version 2 (modelfile_write.c); versions 1 and 2 load.
 *
 * Saving writes a temporary file NAME.tmp.XXXXXX beside the target, syncs
 * it, renames it over the target and syncs the directory: a crash leaves
 * the old or the new model, never a mix (a stray temporary may remain).
 * docs/model-format.md says the same for people.
 *
 * Keras files go through host/keras/ (keras/keras.h): clseq_load tells
 * them by content (a zip is a .keras, HDF5 a legacy .h5), whatever the
 * name; clseq_save writes one for a path ending in ".keras". A build
 * without CLSEQ_WITH_KERAS refuses them with a message that says so. */
#include "io/modelfile.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/modelfile_internal.h"
#include "keras/keras.h"
#include "sys/error.h"

/* The smallest whole file of each version: v1 has a 44-byte compile block
 * and a u64 parameter count; v2 a seed, a rank-1 shape, a layer count and
 * a compiled flag. */
enum {
    MAGIC_BYTES = 8,
    MIN_V1_BYTES = CLSEQ_MF1_OFF_LAYERS + CLSEQ_MF1_COMPILE_BYTES + 8 + CLSEQ_MF_CHECKSUM_BYTES,
    MIN_V2_BYTES = CLSEQ_MF2_OFF_DIMS + 4 + 4 + 4 + CLSEQ_MF_CHECKSUM_BYTES
};

uint32_t clseq_crc32(uint32_t crc, const void *data, size_t len)
{
    /* half-byte table of the reflected polynomial 0xEDB88320: small enough
     * to be a constant, fast enough for models of millions of weights */
    static const uint32_t nibble[16] = {
        0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu, 0x76dc4190u, 0x6b6b51f4u,
        0x4db26158u, 0x5005713cu, 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
        0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ nibble[crc & 15u];
        crc = (crc >> 4) ^ nibble[crc & 15u];
    }
    return ~crc;
}

clseq_status clseq_mf_refused(clseq_status s, const clseq_reader *r, size_t pos)
{
    if (s == CLSEQ_E_ARG || s == CLSEQ_E_SHAPE || s == CLSEQ_E_STATE || s == CLSEQ_E_NUMERIC)
        s = CLSEQ_E_FORMAT;
    return clseq_fail_context(s, "%s: byte %zu: ", r->name, pos);
}

/* ---- optimizer settings ---------------------------------------------------- */

typedef struct setting {
    const char *name;
    clseq_value_type type;
    size_t offset; /* into clseq_optimizer: a float, or an int for CLSEQ_VALUE_INT */
} setting;

static const setting settings[] = {
    {"learning_rate", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, learning_rate)},
    {"momentum", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, momentum)},
    {"nesterov", CLSEQ_VALUE_INT, offsetof(clseq_optimizer, nesterov)},
    {"beta1", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, beta1)},
    {"beta2", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, beta2)},
    {"rho", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, rho)},
    {"epsilon", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, epsilon)},
    {"weight_decay", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, weight_decay)},
    {"initial_accumulator_value", CLSEQ_VALUE_FLOAT,
     offsetof(clseq_optimizer, initial_accumulator_value)},
    {"clipnorm", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, clipnorm)},
    {"clipvalue", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, clipvalue)},
    {"global_clipnorm", CLSEQ_VALUE_FLOAT, offsetof(clseq_optimizer, global_clipnorm)},
};

/* Per kind (clseq_optimizer_kind's order): its name and its settings as
 * indices into settings[], -1 ending the list. */
static const struct {
    const char *name;
    int uses[6];
} optimizers[] = {
    {"sgd", {0, 1, 2, -1}},
    {"adam", {0, 3, 4, 6, -1}},
    {"rmsprop", {0, 5, 6, -1}},
    {"adamw", {0, 7, 3, 4, 6, -1}},
    {"adagrad", {0, 8, 6, -1}},
    {"adadelta", {0, 5, 6, -1}},
    {"adamax", {0, 3, 4, 6, -1}},
    {"nadam", {0, 3, 4, 6, -1}},
    {"lion", {0, 3, 4, -1}},
};

/* Settings of every kind (Keras's base optimizer arguments) that are off
 * at 0: written only when set and absent in older files, so files of
 * models without them stay as they were. */
static const int optional[] = {7, 9, 10, 11};

enum {
    OPTIMIZER_KINDS = sizeof optimizers / sizeof optimizers[0],
    OPTIONAL_SETTINGS = sizeof optional / sizeof optional[0],
    MAX_SETTINGS = 6 + OPTIONAL_SETTINGS
};

_Static_assert(OPTIMIZER_KINDS == CLSEQ_OPT_LION + 1, "a row for every optimizer kind");

/* Whether setting index is among kind's own settings. */
static int uses_setting(int kind, int index)
{
    for (const int *u = optimizers[kind].uses; *u >= 0; u++)
        if (*u == index)
            return 1;
    return 0;
}

const char *clseq_mf_optimizer_name(clseq_optimizer_kind kind)
{
    return (unsigned)kind < OPTIMIZER_KINDS ? optimizers[kind].name : NULL;
}

static clseq_status put_setting(const setting *t, const clseq_optimizer *o,
                                clseq_layer_config *cfg)
{
    const char *base = (const char *)o;
    if (t->type == CLSEQ_VALUE_INT)
        return clseq_config_put_int(cfg, t->name, *(const int *)(base + t->offset));
    return clseq_config_put_float(cfg, t->name, *(const float *)(base + t->offset));
}

clseq_status clseq_mf_optimizer_config(const clseq_optimizer *o, clseq_layer_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    if ((unsigned)o->kind >= OPTIMIZER_KINDS)
        return clseq_fail(CLSEQ_E_ARG, "optimizer kind %d is unknown", (int)o->kind);
    clseq_status s = CLSEQ_OK;
    const char *base = (const char *)o;
    for (const int *u = optimizers[o->kind].uses; *u >= 0 && s == CLSEQ_OK; u++)
        s = put_setting(&settings[*u], o, cfg);
    for (int i = 0; i < OPTIONAL_SETTINGS && s == CLSEQ_OK; i++) {
        const setting *t = &settings[optional[i]];
        if (!uses_setting(o->kind, optional[i]) && *(const float *)(base + t->offset) != 0.0f)
            s = put_setting(t, o, cfg);
    }
    return s;
}

/* One setting of the kind into *o; what names the optimizer. */
static clseq_status take_setting(const setting *t, const clseq_layer_config *cfg,
                                 const char *what, clseq_optimizer *o)
{
    char *base = (char *)o;
    if (t->type == CLSEQ_VALUE_INT) {
        clseq_status s = clseq_config_get_int(cfg, t->name, what, (int *)(base + t->offset));
        if (s == CLSEQ_OK && (o->nesterov < 0 || o->nesterov > 1))
            return clseq_fail(CLSEQ_E_ARG, "%s: %s %d is neither 0 nor 1", what, t->name,
                              o->nesterov);
        return s;
    }
    return clseq_config_get_float(cfg, t->name, what, (float *)(base + t->offset));
}

clseq_status clseq_mf_optimizer_from_config(const char *name, const clseq_layer_config *cfg,
                                            clseq_optimizer *o)
{
    memset(o, 0, sizeof *o);
    int kind = 0;
    while (kind < OPTIMIZER_KINDS && strcmp(optimizers[kind].name, name) != 0)
        kind++;
    if (kind == OPTIMIZER_KINDS)
        return clseq_fail(CLSEQ_E_ARG, "unknown optimizer '%s' (sgd, adam, rmsprop, adamw, "
                          "adagrad, adadelta, adamax, nadam, lion)", name);
    o->kind = (clseq_optimizer_kind)kind;
    char what[48];
    snprintf(what, sizeof what, "optimizer %s", name);
    const char *known[MAX_SETTINGS];
    int count = 0;
    clseq_status s = CLSEQ_OK;
    for (const int *u = optimizers[kind].uses; *u >= 0 && s == CLSEQ_OK; u++) {
        known[count++] = settings[*u].name;
        s = take_setting(&settings[*u], cfg, what, o);
    }
    for (int i = 0; i < OPTIONAL_SETTINGS && s == CLSEQ_OK; i++) {
        const setting *t = &settings[optional[i]];
        if (uses_setting(kind, optional[i]))
            continue;
        known[count++] = t->name;
        if (clseq_config_find(cfg, t->name))
            s = take_setting(t, cfg, what, o);
    }
    return s == CLSEQ_OK ? clseq_config_only(cfg, known, count, what) : s;
}

/* ---- the envelope -------------------------------------------------------- */

/* Magic, version, length and checksum: everything that says whether the
 * bytes are a whole, uncorrupted file of a version we read. */
static clseq_status check_envelope(const unsigned char *d, size_t size, const char *name,
                                   uint32_t *version)
{
    size_t head = size < MAGIC_BYTES ? size : MAGIC_BYTES;
    if (head && memcmp(d, CLSEQ_MF_MAGIC, head) != 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: bad magic: not a clseq model file", name);
    if (size < CLSEQ_MF_OFF_BODY)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: truncated at byte %zu (inside the header)", name,
                          size);
    *version = clseq_get_u32(d + CLSEQ_MF_OFF_VERSION);
    if (*version == 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: format version 0 is invalid", name);
    if (*version > CLSEQ_MODEL_FORMAT_VERSION)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: format version %u is newer than this clseq "
                          "supports (%u)", name, (unsigned)*version, CLSEQ_MODEL_FORMAT_VERSION);
    uint64_t length = clseq_get_u64(d + CLSEQ_MF_OFF_LENGTH);
    if (size < length)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: truncated at byte %zu (the header says %llu bytes)",
                          name, size, (unsigned long long)length);
    if (size > length)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: %zu bytes, but the header says %llu: trailing data "
                          "or a corrupted length", name, size, (unsigned long long)length);
    size_t min = *version == 1 ? MIN_V1_BYTES : MIN_V2_BYTES;
    if (size < min)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: truncated at byte %zu (a version %u model file "
                          "has at least %zu bytes)", name, size, (unsigned)*version, min);
    uint32_t stored = clseq_get_u32(d + size - CLSEQ_MF_CHECKSUM_BYTES);
    uint32_t actual = clseq_crc32(0, d, size - CLSEQ_MF_CHECKSUM_BYTES);
    if (stored != actual)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: checksum mismatch (stored 0x%08x, computed 0x%08x): "
                          "the file is corrupted", name, (unsigned)stored, (unsigned)actual);
    return CLSEQ_OK;
}

clseq_status clseq_model_decode(clseq_ctx *ctx, const unsigned char *data, size_t size,
                                const char *name, clseq_model **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_decode: out is NULL");
    *out = NULL;
    if (!data && size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_decode: data is NULL");
    if (!name)
        name = "<memory>";
    uint32_t version = 0;
    clseq_status s = check_envelope(data, size, name, &version);
    if (s != CLSEQ_OK)
        return s;
    /* the envelope guarantees a whole header and checksum */
    clseq_reader r = {data + CLSEQ_MF_OFF_BODY,
                      size - CLSEQ_MF_OFF_BODY - CLSEQ_MF_CHECKSUM_BYTES, CLSEQ_MF_OFF_BODY,
                      name};
    return version == 1 ? clseq_mf1_decode(ctx, &r, out) : clseq_mf2_decode(ctx, &r, out);
}

/* clseq_save's format: Keras's for a path ending in ".keras", as
 * keras.Model.save decides, otherwise clseq's own. */
static int wants_keras(const char *path)
{
    size_t n = strlen(path);
    return n >= 6 && strcmp(path + n - 6, ".keras") == 0;
}

static clseq_status encode_for(const clseq_model *m, const char *path, unsigned char **data,
                               size_t *size)
{
    if (!wants_keras(path))
        return clseq_model_encode(m, data, size);
#ifdef CLSEQ_HAVE_KERAS
    return clseq_keras_encode(m, data, size);
#else
    (void)data;
    (void)size;
    return clseq_fail(CLSEQ_E_FORMAT, "cannot write a .keras file: clseq was built without "
                      "Keras support (CLSEQ_WITH_KERAS)");
#endif
}

clseq_status clseq_save(const clseq_model *m, const char *path)
{
    if (!m || !path || !*path)
        return clseq_fail(CLSEQ_E_ARG, "clseq_save: NULL model or empty path");
    unsigned char *data = NULL;
    size_t size = 0;
    clseq_status s = encode_for(m, path, &data, &size);
    if (s != CLSEQ_OK)
        s = clseq_fail_context(s, "%s: ", path);
    else
        s = clseq_write_file_atomic(path, data, size);
    free(data);
    return s;
}

/* clseq_load's reader, chosen by content, whatever the file's name. */
static clseq_status decode_any(clseq_ctx *ctx, const unsigned char *data, size_t size,
                               const char *path, clseq_model **out)
{
    clseq_keras_kind kind = clseq_keras_sniff(data, size);
    if (kind == CLSEQ_KERAS_NONE)
        return clseq_model_decode(ctx, data, size, path, out);
#ifdef CLSEQ_HAVE_KERAS
    return clseq_keras_decode(ctx, data, size, path, out);
#else
    return clseq_fail(CLSEQ_E_FORMAT, "%s: a Keras %s file, but clseq was built without Keras "
                      "support (CLSEQ_WITH_KERAS)", path,
                      kind == CLSEQ_KERAS_ZIP ? ".keras" : ".h5");
#endif
}

clseq_status clseq_load(clseq_ctx *ctx, const char *path, clseq_model **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_load: out is NULL");
    *out = NULL;
    if (!ctx || !path)
        return clseq_fail(CLSEQ_E_ARG, "clseq_load: NULL context or path");
    unsigned char *data = NULL;
    size_t size = 0;
    clseq_status s = clseq_read_file(path, &data, &size);
    if (s == CLSEQ_OK)
        s = decode_any(ctx, data, size, path, out);
    free(data);
    return s;
}
