/* Little-endian bytes for model files (bytes.h). */
#include "io/bytes.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sys/error.h"

void clseq_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

void clseq_put_u64(unsigned char *p, uint64_t v)
{
    clseq_put_u32(p, (uint32_t)v);
    clseq_put_u32(p + 4, (uint32_t)(v >> 32));
}

uint32_t clseq_get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t clseq_get_u64(const unsigned char *p)
{
    return (uint64_t)clseq_get_u32(p) | (uint64_t)clseq_get_u32(p + 4) << 32;
}

float clseq_f32_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* ---- writing ------------------------------------------------------------- */

static int reserve(clseq_writer *w, size_t n)
{
    if (w->status != CLSEQ_OK)
        return 0;
    if (n <= w->capacity - w->size)
        return 1;
    size_t want = w->capacity ? w->capacity : 256;
    while (want - w->size < n && want <= SIZE_MAX / 2)
        want *= 2;
    unsigned char *grown = want - w->size >= n ? realloc(w->data, want) : NULL;
    if (!grown) {
        w->status = clseq_fail(CLSEQ_E_NOMEM, "out of host memory for a model file of %zu bytes "
                               "and more", w->size);
        return 0;
    }
    w->data = grown;
    w->capacity = want;
    return 1;
}

void clseq_write_raw(clseq_writer *w, const void *bytes, size_t n)
{
    if (n && reserve(w, n)) {
        memcpy(w->data + w->size, bytes, n);
        w->size += n;
    }
}

void clseq_write_u8(clseq_writer *w, unsigned v)
{
    unsigned char b = (unsigned char)v;
    clseq_write_raw(w, &b, 1);
}

void clseq_write_u32(clseq_writer *w, uint32_t v)
{
    unsigned char b[4];
    clseq_put_u32(b, v);
    clseq_write_raw(w, b, sizeof b);
}

void clseq_write_u64(clseq_writer *w, uint64_t v)
{
    unsigned char b[8];
    clseq_put_u64(b, v);
    clseq_write_raw(w, b, sizeof b);
}

void clseq_write_f32(clseq_writer *w, float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    clseq_write_u32(w, bits);
}

void clseq_write_string(clseq_writer *w, const char *s)
{
    size_t n = strlen(s);
    if (n > CLSEQ_MF_MAX_STRING) {
        if (w->status == CLSEQ_OK)
            w->status = clseq_fail(CLSEQ_E_ARG, "'%.40s...' is longer than the %d bytes a model "
                                   "file's strings may have", s, CLSEQ_MF_MAX_STRING);
        return;
    }
    clseq_write_u32(w, (uint32_t)n);
    clseq_write_raw(w, s, n);
}

void clseq_write_f32s(clseq_writer *w, const float *x, size_t n)
{
    if (n > SIZE_MAX / 4 || !reserve(w, 4 * n))
        return;
    for (size_t i = 0; i < n; i++)
        clseq_write_f32(w, x[i]);
}

/* ---- reading ------------------------------------------------------------- */

clseq_status clseq_read_fail(const clseq_reader *r, size_t pos, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return clseq_fail(CLSEQ_E_FORMAT, "%s: byte %zu: %s", r->name, pos, message);
}

/* Takes n bytes, or fails naming what ran past the end. */
static clseq_status take(clseq_reader *r, const char *what, size_t n, const unsigned char **at)
{
    *at = r->p;
    if (r->left < n)
        return clseq_read_fail(r, r->pos, "%s runs past the end of the model data", what);
    r->p += n;
    r->left -= n;
    r->pos += n;
    return CLSEQ_OK;
}

clseq_status clseq_read_u8(clseq_reader *r, const char *what, unsigned *v)
{
    const unsigned char *at = NULL;
    clseq_status s = take(r, what, 1, &at);
    if (s == CLSEQ_OK)
        *v = at[0];
    return s;
}

clseq_status clseq_read_u32(clseq_reader *r, const char *what, uint32_t *v)
{
    const unsigned char *at = NULL;
    clseq_status s = take(r, what, 4, &at);
    if (s == CLSEQ_OK)
        *v = clseq_get_u32(at);
    return s;
}

clseq_status clseq_read_u64(clseq_reader *r, const char *what, uint64_t *v)
{
    const unsigned char *at = NULL;
    clseq_status s = take(r, what, 8, &at);
    if (s == CLSEQ_OK)
        *v = clseq_get_u64(at);
    return s;
}

clseq_status clseq_read_flag(clseq_reader *r, const char *what, int bytes, int *v)
{
    size_t pos = r->pos;
    uint32_t value = 0;
    unsigned small = 0;
    clseq_status s = bytes == 1 ? clseq_read_u8(r, what, &small) : clseq_read_u32(r, what, &value);
    if (s != CLSEQ_OK)
        return s;
    if (bytes == 1)
        value = small;
    if (value > 1)
        return clseq_read_fail(r, pos, "%s %u is neither 0 nor 1", what, (unsigned)value);
    *v = (int)value;
    return CLSEQ_OK;
}

clseq_status clseq_read_count(clseq_reader *r, const char *what, uint32_t max, size_t min_bytes,
                              uint32_t *count)
{
    size_t pos = r->pos;
    clseq_status s = clseq_read_u32(r, what, count);
    if (s != CLSEQ_OK)
        return s;
    if (*count > max)
        return clseq_read_fail(r, pos, "%s %u is more than %u", what, (unsigned)*count,
                               (unsigned)max);
    if (min_bytes && *count > r->left / min_bytes)
        return clseq_read_fail(r, pos, "%s %u does not fit in the %zu bytes left", what,
                               (unsigned)*count, r->left);
    return CLSEQ_OK;
}

clseq_status clseq_read_f32(clseq_reader *r, const char *what, float *v)
{
    size_t pos = r->pos;
    uint32_t bits = 0;
    clseq_status s = clseq_read_u32(r, what, &bits);
    if (s != CLSEQ_OK)
        return s;
    *v = clseq_f32_from_bits(bits);
    if (!isfinite(*v))
        return clseq_read_fail(r, pos, "%s is %g", what, (double)*v);
    return CLSEQ_OK;
}

clseq_status clseq_read_f32s(clseq_reader *r, const char *what, size_t n, float *out)
{
    if (n > r->left / 4)
        return clseq_read_fail(r, r->pos, "%s: %zu values run past the end of the model data",
                               what, n);
    for (size_t i = 0; i < n; i++) {
        float v = clseq_f32_from_bits(clseq_get_u32(r->p + 4 * i));
        if (!isfinite(v))
            return clseq_read_fail(r, r->pos + 4 * i, "%s value %zu is %g", what, i, (double)v);
        if (out)
            out[i] = v;
    }
    r->p += 4 * n;
    r->left -= 4 * n;
    r->pos += 4 * n;
    return CLSEQ_OK;
}

clseq_status clseq_read_string(clseq_reader *r, const char *what, char *buf)
{
    size_t pos = r->pos;
    uint32_t n = 0;
    const unsigned char *at = NULL;
    clseq_status s = clseq_read_u32(r, what, &n);
    if (s != CLSEQ_OK)
        return s;
    if (n > CLSEQ_MF_MAX_STRING)
        return clseq_read_fail(r, pos, "%s is %u bytes long, more than %d", what, (unsigned)n,
                               CLSEQ_MF_MAX_STRING);
    if ((s = take(r, what, n, &at)) != CLSEQ_OK)
        return s;
    for (uint32_t i = 0; i < n; i++)
        if (at[i] < 0x20 || at[i] > 0x7E)
            return clseq_read_fail(r, pos + 4 + i, "%s has byte 0x%02x, not printable ASCII",
                                   what, at[i]);
    memcpy(buf, at, n);
    buf[n] = '\0';
    return CLSEQ_OK;
}
