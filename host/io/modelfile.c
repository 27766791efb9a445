/* Model files: clseq_save and clseq_load.
 *
 * Format version 1. Every integer is little-endian and written byte by
 * byte, so files move between hosts of any endianness; floats are stored as
 * their IEEE-754 binary32 bit patterns in a u32.
 *
 *   offset  bytes  field
 *   0       8      magic "CLSEQMDL"
 *   8       4      u32 format version (1)
 *   12      8      u64 file length in bytes, checksum included
 *   20      4      u32 input_dim (1..16777216)
 *   24      4      u32 layer count L
 *   28      12*L   per layer: u32 kind (1 dense, 0 activation),
 *                  u32 units (output width), u32 activation code
 *   +0      4      u32 compiled (0 or 1)
 *   +4      4      u32 optimizer kind (0 sgd, 1 adam, 2 rmsprop)
 *   +8      4      f32 learning_rate
 *   +12     4      f32 momentum
 *   +16     4      u32 nesterov (0 or 1)
 *   +20     4      f32 beta1
 *   +24     4      f32 beta2
 *   +28     4      f32 rho
 *   +32     4      f32 epsilon
 *   +36     4      u32 loss code
 *   +40     4      u32 metric bits (CLSEQ_METRIC_*)
 *   +44     8      u64 parameter count P
 *   +52     4*P    f32 parameters: each dense layer's kernel (input x units,
 *                  row-major) then its bias, in layer order
 *   end-4   4      u32 CRC-32 (zlib's) of every byte before it
 *
 * The compile block is written even for an uncompiled model and then
 * ignored. The length field lets a reader tell truncation ("truncated at
 * byte N") from corruption (checksum mismatch) before trusting any count;
 * every count is bounded again by the bytes actually present, so no field
 * can make the reader allocate more than the file's size.
 *
 * Saving writes a temporary file NAME.tmp.XXXXXX beside the target, syncs
 * it, renames it over the target and syncs the directory: a crash leaves
 * the old or the new model, never a mix (a stray temporary may remain).
 * docs/model-format.md says the same for people. */
#include "io/modelfile.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/model.h"

static const unsigned char file_magic[8] = {'C', 'L', 'S', 'E', 'Q', 'M', 'D', 'L'};

enum {
    HEADER_BYTES = CLSEQ_MF_OFF_LAYERS,
    COMPILE_FIELDS = 11,
    COMPILE_BYTES = 4 * COMPILE_FIELDS,
    MIN_FILE_BYTES = HEADER_BYTES + COMPILE_BYTES + 8 + CLSEQ_MF_CHECKSUM_BYTES,
    MAX_DIM = CLSEQ_MAX_UNITS
};

/* ---- bytes ---------------------------------------------------------------- */

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

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
    return put_u32(put_u32(p, (uint32_t)v), (uint32_t)(v >> 32));
}

static unsigned char *put_f32(unsigned char *p, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return put_u32(p, bits);
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_u64(const unsigned char *p)
{
    return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

static float bits_to_f32(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---- encoding ------------------------------------------------------------ */

static unsigned char *put_compile(unsigned char *p, const clseq_model *m)
{
    const clseq_optimizer *o = &m->optimizer;
    p = put_u32(p, m->compiled ? 1u : 0u);
    p = put_u32(p, (uint32_t)o->kind);
    p = put_f32(p, o->learning_rate);
    p = put_f32(p, o->momentum);
    p = put_u32(p, o->nesterov ? 1u : 0u);
    p = put_f32(p, o->beta1);
    p = put_f32(p, o->beta2);
    p = put_f32(p, o->rho);
    p = put_f32(p, o->epsilon);
    p = put_u32(p, (uint32_t)m->loss);
    return put_u32(p, m->metrics);
}

/* A file the loader would refuse is not worth writing over a good one. */
static clseq_status check_params_finite(const clseq_model *m)
{
    for (size_t i = 0; i < m->param_count; i++)
        if (!isfinite(m->host_params[i]))
            return clseq_fail(CLSEQ_E_NUMERIC, "parameter %zu is %g; refusing to save", i,
                              (double)m->host_params[i]);
    return CLSEQ_OK;
}

clseq_status clseq_model_encode(const clseq_model *m, unsigned char **data, size_t *size)
{
    if (!data || !size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_encode: NULL output");
    *data = NULL;
    *size = 0;
    if (!m)
        return clseq_fail(CLSEQ_E_ARG, "clseq_model_encode: model is NULL");
    clseq_status s = clseq_model_sync_host(m);
    if (s == CLSEQ_OK)
        s = check_params_finite(m);
    if (s != CLSEQ_OK)
        return s;
    size_t layer_bytes, param_bytes;
    if (clseq_mul_overflows((size_t)m->layer_count, CLSEQ_MF_LAYER_BYTES, &layer_bytes) ||
        clseq_mul_overflows(m->param_count, 4, &param_bytes) ||
        param_bytes > SIZE_MAX - MIN_FILE_BYTES - layer_bytes)
        return clseq_fail(CLSEQ_E_NOMEM, "the model is too large to encode");
    size_t total = MIN_FILE_BYTES + layer_bytes + param_bytes;
    unsigned char *buf = malloc(total);
    if (!buf)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for a %zu-byte model file", total);
    memcpy(buf, file_magic, sizeof file_magic);
    unsigned char *p = put_u32(buf + sizeof file_magic, CLSEQ_MODEL_FORMAT_VERSION);
    p = put_u64(p, total);
    p = put_u32(p, (uint32_t)m->input_dim);
    p = put_u32(p, (uint32_t)m->layer_count);
    for (int i = 0; i < m->layer_count; i++) {
        p = put_u32(p, m->layers[i].kind == &clseq_dense_kind ? 1u : 0u);
        p = put_u32(p, (uint32_t)clseq_shape_size(&m->layers[i].out));
        p = put_u32(p, (uint32_t)m->layers[i].act);
    }
    p = put_compile(p, m);
    p = put_u64(p, m->param_count);
    for (size_t i = 0; i < m->param_count; i++)
        p = put_f32(p, m->host_params[i]);
    put_u32(p, clseq_crc32(0, buf, total - CLSEQ_MF_CHECKSUM_BYTES));
    *data = buf;
    *size = total;
    return CLSEQ_OK;
}

/* ---- decoding ------------------------------------------------------------ */

/* A cursor over the checksummed bytes; pos is the file offset of p. */
typedef struct reader {
    const unsigned char *p;
    size_t left;
    size_t pos;
    const char *name;
} reader;

/* What a file says, pointing into its bytes. */
typedef struct decoded {
    int input_dim;
    int layer_count;
    const unsigned char *layers;  /* layer_count records */
    int compiled;
    clseq_optimizer opt;
    clseq_loss loss;
    unsigned metrics;
    size_t param_count;
    const unsigned char *params;  /* param_count f32 bit patterns */
} decoded;

static clseq_status read_u32(reader *r, const char *what, uint32_t *v)
{
    if (r->left < 4)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: byte %zu: %s runs past the end of the model data",
                          r->name, r->pos, what);
    *v = get_u32(r->p);
    r->p += 4;
    r->left -= 4;
    r->pos += 4;
    return CLSEQ_OK;
}

/* Magic, version, length and checksum: everything that says whether the
 * bytes are a whole, uncorrupted file of a version we read. */
static clseq_status check_envelope(const unsigned char *d, size_t size, const char *name)
{
    size_t head = size < sizeof file_magic ? size : sizeof file_magic;
    if (head && memcmp(d, file_magic, head) != 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: bad magic: not a clseq model file", name);
    if (size < CLSEQ_MF_OFF_INPUT_DIM)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: truncated at byte %zu (inside the header)", name,
                          size);
    uint32_t version = get_u32(d + CLSEQ_MF_OFF_VERSION);
    if (version == 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: format version 0 is invalid", name);
    if (version > CLSEQ_MODEL_FORMAT_VERSION)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: format version %u is newer than this clseq supports (%u)",
                          name, version, CLSEQ_MODEL_FORMAT_VERSION);
    uint64_t length = get_u64(d + CLSEQ_MF_OFF_LENGTH);
    if (size < length)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: truncated at byte %zu (the header says %llu bytes)",
                          name, size, (unsigned long long)length);
    if (size > length)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: %zu bytes, but the header says %llu: trailing data "
                          "or a corrupted length", name, size, (unsigned long long)length);
    if (size < MIN_FILE_BYTES)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: truncated at byte %zu (a model file has at least "
                          "%d bytes)", name, size, MIN_FILE_BYTES);
    uint32_t stored = get_u32(d + size - CLSEQ_MF_CHECKSUM_BYTES);
    uint32_t actual = clseq_crc32(0, d, size - CLSEQ_MF_CHECKSUM_BYTES);
    if (stored != actual)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: checksum mismatch (stored 0x%08x, computed 0x%08x): "
                          "the file is corrupted", name, (unsigned)stored, (unsigned)actual);
    return CLSEQ_OK;
}

/* One layer record against the running width and parameter total. */
static clseq_status check_layer(const char *name, uint32_t index, const uint32_t f[3],
                                uint64_t *width, uint64_t *params)
{
    if (f[0] > 1)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: layer %u: kind %u is neither dense (1) nor "
                          "activation (0)", name, index, f[0]);
    if (f[2] > 255 || !clseq_activation_name((clseq_activation)f[2]))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: layer %u: unknown activation code %u", name, index,
                          f[2]);
    if (f[0] == 0) {
        if (f[1] != *width)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: activation layer %u: width %u differs from its "
                              "input's %llu", name, index, f[1], (unsigned long long)*width);
        return CLSEQ_OK;
    }
    if (f[1] < 1 || f[1] > MAX_DIM)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: dense layer %u: units %u not in 1..%d", name, index,
                          f[1], MAX_DIM);
    /* width and units are at most 2^24 and the total at most 2^31 before
     * this, so the sum cannot overflow 64 bits */
    *params += *width * f[1] + f[1];
    if (*params > INT32_MAX)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: dense layer %u: more than %d parameters in all",
                          name, index, INT32_MAX);
    *width = f[1];
    return CLSEQ_OK;
}

static clseq_status parse_layers(reader *r, decoded *d)
{
    uint32_t dim, count, f[3];
    clseq_status s;
    if ((s = read_u32(r, "input_dim", &dim)) != CLSEQ_OK ||
        (s = read_u32(r, "layer count", &count)) != CLSEQ_OK)
        return s;
    if (dim < 1 || dim > MAX_DIM)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: input_dim %u not in 1..%d", r->name, dim, MAX_DIM);
    if (count > INT32_MAX || count > r->left / CLSEQ_MF_LAYER_BYTES)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: layer count %u does not fit in the file", r->name,
                          count);
    d->input_dim = (int)dim;
    d->layer_count = (int)count;
    d->layers = r->p;
    uint64_t width = dim, params = 0;
    for (uint32_t i = 0; i < count && s == CLSEQ_OK; i++) {
        for (int k = 0; k < 3 && s == CLSEQ_OK; k++)
            s = read_u32(r, "layer record", &f[k]);
        if (s == CLSEQ_OK)
            s = check_layer(r->name, i + 1, f, &width, &params);
    }
    d->param_count = (size_t)params;
    return s;
}

static clseq_status check_compile_fields(const char *name, const uint32_t f[COMPILE_FIELDS])
{
    static const int float_fields[] = {2, 3, 5, 6, 7, 8};
    static const char *const float_names[] = {"learning_rate", "momentum", "beta1",
                                              "beta2", "rho", "epsilon"};
    if (f[1] > CLSEQ_OPT_RMSPROP)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: unknown optimizer code %u", name, f[1]);
    if (f[4] > 1)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: nesterov flag %u is neither 0 nor 1", name, f[4]);
    for (int i = 0; i < 6; i++)
        if (!isfinite(bits_to_f32(f[float_fields[i]])))
            return clseq_fail(CLSEQ_E_FORMAT, "%s: optimizer %s is %g", name, float_names[i],
                              (double)bits_to_f32(f[float_fields[i]]));
    if (f[9] > 255 || !clseq_loss_name((clseq_loss)f[9]))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: unknown loss code %u", name, f[9]);
    if (f[10] & ~(uint32_t)(CLSEQ_METRIC_ACCURACY | CLSEQ_METRIC_MSE | CLSEQ_METRIC_MAE))
        return clseq_fail(CLSEQ_E_FORMAT, "%s: unknown metric bits 0x%x", name, f[10]);
    return CLSEQ_OK;
}

static clseq_status parse_compile(reader *r, decoded *d)
{
    uint32_t f[COMPILE_FIELDS];
    clseq_status s = CLSEQ_OK;
    for (int i = 0; i < COMPILE_FIELDS && s == CLSEQ_OK; i++)
        s = read_u32(r, "compile settings", &f[i]);
    if (s != CLSEQ_OK)
        return s;
    if (f[0] > 1)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: compiled flag %u is neither 0 nor 1", r->name, f[0]);
    d->compiled = (int)f[0];
    if (!d->compiled)
        return CLSEQ_OK;
    if (d->layer_count == 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: marked compiled but has no layers", r->name);
    if ((s = check_compile_fields(r->name, f)) != CLSEQ_OK)
        return s;
    d->opt = (clseq_optimizer){(clseq_optimizer_kind)f[1], bits_to_f32(f[2]), bits_to_f32(f[3]),
                               (int)f[4], bits_to_f32(f[5]), bits_to_f32(f[6]), bits_to_f32(f[7]),
                               bits_to_f32(f[8])};
    d->loss = (clseq_loss)f[9];
    d->metrics = f[10];
    return CLSEQ_OK;
}

static clseq_status parse_params(reader *r, decoded *d)
{
    uint32_t lo, hi;
    clseq_status s;
    if ((s = read_u32(r, "parameter count", &lo)) != CLSEQ_OK ||
        (s = read_u32(r, "parameter count", &hi)) != CLSEQ_OK)
        return s;
    uint64_t count = (uint64_t)hi << 32 | lo;
    if (count != d->param_count)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: parameter count %llu does not match the layers, "
                          "which need %zu", r->name, (unsigned long long)count, d->param_count);
    if (r->left / 4 != d->param_count || r->left % 4 != 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: %zu bytes of parameters for %zu parameters",
                          r->name, r->left, d->param_count);
    d->params = r->p;
    for (size_t i = 0; i < d->param_count; i++) {
        float v = bits_to_f32(get_u32(d->params + 4 * i));
        if (!isfinite(v))
            return clseq_fail(CLSEQ_E_FORMAT, "%s: parameter %zu (byte %zu) is %g", r->name, i,
                              r->pos + 4 * i, (double)v);
    }
    return CLSEQ_OK;
}

/* Builds the model the file describes on ctx; statuses that mean "the
 * file asks for something impossible" become CLSEQ_E_FORMAT. */
static clseq_status build_model(clseq_ctx *ctx, const decoded *d, const char *name,
                                clseq_model **out)
{
    clseq_model *m = NULL;
    clseq_status s = clseq_model_create(ctx, d->input_dim, &m);
    for (int i = 0; i < d->layer_count && s == CLSEQ_OK; i++) {
        const unsigned char *rec = d->layers + (size_t)i * CLSEQ_MF_LAYER_BYTES;
        clseq_layer_config cfg = {0};
        int dense = (int)get_u32(rec);
        if (dense)
            clseq_config_put_int(&cfg, "units", (int)get_u32(rec + 4));
        clseq_config_put_string(&cfg, "activation",
                                clseq_activation_name((clseq_activation)get_u32(rec + 8)));
        s = clseq_model_append(m, dense ? &clseq_dense_kind : &clseq_activation_kind, &cfg, 0);
    }
    if (s == CLSEQ_OK && m->param_count != d->param_count)
        s = clseq_fail(CLSEQ_E_FORMAT, "model has %zu parameters, the file %zu", m->param_count,
                       d->param_count);
    if (s == CLSEQ_OK) {
        for (size_t i = 0; i < d->param_count; i++)
            m->host_params[i] = bits_to_f32(get_u32(d->params + 4 * i));
        m->device_stale = 1;
        m->host_stale = 0;
        if (d->compiled)
            s = clseq_compile(m, d->opt, d->loss, d->metrics);
    }
    if (s == CLSEQ_E_ARG || s == CLSEQ_E_SHAPE || s == CLSEQ_E_STATE)
        s = CLSEQ_E_FORMAT;
    if (s != CLSEQ_OK) {
        clseq_model_free(m);
        return clseq_fail_context(s, "%s: ", name);
    }
    *out = m;
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
    decoded d;
    memset(&d, 0, sizeof d);
    reader r = {NULL, 0, CLSEQ_MF_OFF_INPUT_DIM, name};
    clseq_status s = check_envelope(data, size, name);
    if (s == CLSEQ_OK) {
        /* the envelope guarantees size >= MIN_FILE_BYTES */
        r.p = data + CLSEQ_MF_OFF_INPUT_DIM;
        r.left = size - CLSEQ_MF_OFF_INPUT_DIM - CLSEQ_MF_CHECKSUM_BYTES;
        s = parse_layers(&r, &d);
    }
    if (s == CLSEQ_OK)
        s = parse_compile(&r, &d);
    if (s == CLSEQ_OK)
        s = parse_params(&r, &d);
    if (s == CLSEQ_OK && ctx)
        s = build_model(ctx, &d, name, out);
    return s;
}

clseq_status clseq_save(const clseq_model *m, const char *path)
{
    if (!m || !path || !*path)
        return clseq_fail(CLSEQ_E_ARG, "clseq_save: NULL model or empty path");
    unsigned char *data = NULL;
    size_t size = 0;
    clseq_status s = clseq_model_encode(m, &data, &size);
    if (s != CLSEQ_OK)
        s = clseq_fail_context(s, "%s: ", path);
    else
        s = clseq_write_file_atomic(path, data, size);
    free(data);
    return s;
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
        s = clseq_model_decode(ctx, data, size, path, out);
    free(data);
    return s;
}
