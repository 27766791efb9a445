/* Zip archives in memory with libzip (keras_zip.h): a buffer source opened
 * as an archive to read, and an empty buffer source, kept past zip_close,
 * read back for the bytes written. */
#include "keras/keras_zip.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "sys/error.h"

/* Deflate expands at most 1032 to 1 (RFC 1951's longest match from a
 * 258-byte copy of a 1-bit code, as zlib's documentation puts it); a member
 * claiming more than this of its compressed size is lying. */
enum { DEFLATE_MAX_RATIO = 1032, WHERE_BYTES = 512, LISTED_MEMBERS = 8, END_RECORD = 22 };

struct clseq_zip {
    zip_t *za;
    size_t size;
    char where[WHERE_BYTES];
};

clseq_status clseq_zip_open(const unsigned char *data, size_t size, const char *where,
                            clseq_zip **out)
{
    if (!out || (!data && size))
        return clseq_fail(CLSEQ_E_ARG, "clseq_zip_open: NULL argument");
    *out = NULL;
    if (!where)
        where = "<memory>";
    clseq_zip *z = calloc(1, sizeof *z);
    if (!z)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", where);
    snprintf(z->where, sizeof z->where, "%s", where);
    z->size = size;
    /* libzip opens an empty buffer as an empty archive; a zip has at
     * least its 22-byte end-of-central-directory record */
    if (size < END_RECORD) {
        free(z);
        return clseq_fail(CLSEQ_E_FORMAT, "%s: truncated at byte %zu: not a zip archive", where,
                          size);
    }
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(data, size, 0, &err);
    if (src && !(z->za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &err)))
        zip_source_free(src); /* still ours when the open fails */
    clseq_status s = CLSEQ_OK;
    if (!z->za) {
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: not a readable zip archive (%zu bytes): %s", where,
                       size, zip_error_strerror(&err));
        free(z);
        z = NULL;
    }
    zip_error_fini(&err);
    *out = z;
    return s;
}

int clseq_zip_has(clseq_zip *z, const char *member)
{
    return z && member && zip_name_locate(z->za, member, ZIP_FL_ENC_RAW) >= 0;
}

void clseq_zip_close(clseq_zip *z)
{
    if (!z)
        return;
    zip_discard(z->za);
    free(z);
}

/* "a, b, c" of the first members, for a message about a missing one. */
static void list_members(clseq_zip *z, char *buf, size_t size)
{
    zip_int64_t n = zip_get_num_entries(z->za, 0);
    size_t used = 0;
    buf[0] = '\0';
    for (zip_int64_t i = 0; i < n && i < LISTED_MEMBERS && used < size; i++) {
        const char *name = zip_get_name(z->za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        int w = snprintf(buf + used, size - used, "%s'%s'", i ? ", " : "", name ? name : "?");
        used += w > 0 ? (size_t)w : 0;
    }
    if (n > LISTED_MEMBERS && used < size)
        snprintf(buf + used, size - used, ", ... (%lld in all)", (long long)n);
    if (n == 0)
        snprintf(buf, size, "none");
}

/* The size a member says it has, if its compression can produce it. */
static clseq_status member_size(clseq_zip *z, const char *member, zip_int64_t index,
                                size_t *size)
{
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z->za, (zip_uint64_t)index, 0, &st) != 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s': %s", z->where, member,
                          zip_error_strerror(zip_get_error(z->za)));
    const zip_uint64_t need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE | ZIP_STAT_COMP_METHOD;
    if ((st.valid & need) != need)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s': its sizes are missing", z->where,
                          member);
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s' is encrypted", z->where, member);
    uint64_t most;
    if (st.comp_method == ZIP_CM_STORE)
        most = st.comp_size;
    else if (st.comp_method == ZIP_CM_DEFLATE)
        most = st.comp_size > UINT64_MAX / DEFLATE_MAX_RATIO ? UINT64_MAX
                                                             : st.comp_size * DEFLATE_MAX_RATIO;
    else
        return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s' uses compression method %d; clseq "
                          "reads stored and deflated members", z->where, member,
                          (int)st.comp_method);
    if (st.comp_size > z->size || st.size > most || st.size >= SIZE_MAX)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s' claims %llu bytes from %llu "
                          "compressed in an archive of %zu: corrupted", z->where, member,
                          (unsigned long long)st.size, (unsigned long long)st.comp_size, z->size);
    *size = (size_t)st.size;
    return CLSEQ_OK;
}

/* Reads exactly size bytes, then one more read that must find the end:
 * libzip checks the CRC when the member's data ends. */
static clseq_status read_all(clseq_zip *z, const char *member, zip_file_t *f, unsigned char *buf,
                             size_t size)
{
    size_t got = 0;
    while (got < size) {
        zip_int64_t n = zip_fread(f, buf + got, size - got);
        if (n < 0)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s': read failed at byte %zu of %zu: "
                              "%s", z->where, member, got, size,
                              zip_error_strerror(zip_file_get_error(f)));
        if (n == 0)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s': truncated at byte %zu of %zu",
                              z->where, member, got, size);
        got += (size_t)n;
    }
    unsigned char extra;
    zip_int64_t n = zip_fread(f, &extra, 1);
    if (n < 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s': read failed at byte %zu of %zu: %s",
                          z->where, member, got, size, zip_error_strerror(zip_file_get_error(f)));
    if (n > 0)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s' is longer than the %zu bytes its "
                          "header says", z->where, member, size);
    return CLSEQ_OK;
}

clseq_status clseq_zip_read(clseq_zip *z, const char *member, unsigned char **data, size_t *size)
{
    if (!z || !member || !data || !size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_zip_read: NULL argument");
    *data = NULL;
    *size = 0;
    zip_int64_t index = zip_name_locate(z->za, member, ZIP_FL_ENC_RAW);
    if (index < 0) {
        char names[400];
        list_members(z, names, sizeof names);
        return clseq_fail(CLSEQ_E_FORMAT, "%s: no member '%s' (the archive holds %s)", z->where,
                          member, names);
    }
    size_t n = 0;
    clseq_status s = member_size(z, member, index, &n);
    if (s != CLSEQ_OK)
        return s;
    unsigned char *buf = malloc(n + 1);
    if (!buf)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: member '%s': out of memory for %zu bytes",
                          z->where, member, n);
    zip_file_t *f = zip_fopen_index(z->za, (zip_uint64_t)index, 0);
    if (!f)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: member '%s': %s", z->where, member,
                       zip_error_strerror(zip_get_error(z->za)));
    else {
        s = read_all(z, member, f, buf, n);
        zip_fclose(f);
    }
    if (s != CLSEQ_OK) {
        free(buf);
        return s;
    }
    buf[n] = '\0';
    *data = buf;
    *size = n;
    return CLSEQ_OK;
}

/* ---- writing ------------------------------------------------------------- */

static clseq_status add_entries(zip_t *za, const clseq_zip_entry *entries, int count,
                                time_t mtime)
{
    for (int i = 0; i < count; i++) {
        const clseq_zip_entry *e = &entries[i];
        /* the archive reads these bytes at zip_close; they outlive it */
        zip_source_t *s = zip_source_buffer(za, e->data, e->size, 0);
        zip_int64_t index = s ? zip_file_add(za, e->name, s, ZIP_FL_ENC_UTF_8) : -1;
        if (s && index < 0)
            zip_source_free(s);
        if (index < 0 || zip_set_file_compression(za, (zip_uint64_t)index, ZIP_CM_STORE, 0) != 0 ||
            zip_file_set_mtime(za, (zip_uint64_t)index, mtime, 0) != 0)
            return clseq_fail(CLSEQ_E_NOMEM, "zip member '%s': %s", e->name,
                              zip_error_strerror(zip_get_error(za)));
    }
    return CLSEQ_OK;
}

/* The bytes a closed archive left in its buffer source. */
static clseq_status take_bytes(zip_source_t *src, unsigned char **out, size_t *out_size)
{
    zip_int64_t n = -1;
    if (zip_source_open(src) != 0)
        return clseq_fail(CLSEQ_E_NOMEM, "zip archive: %s",
                          zip_error_strerror(zip_source_error(src)));
    clseq_status s = CLSEQ_OK;
    if (zip_source_seek(src, 0, SEEK_END) != 0 || (n = zip_source_tell(src)) < 0 ||
        zip_source_seek(src, 0, SEEK_SET) != 0)
        s = clseq_fail(CLSEQ_E_NOMEM, "zip archive: %s", zip_error_strerror(zip_source_error(src)));
    else if (!(*out = malloc(n ? (size_t)n : 1)))
        s = clseq_fail(CLSEQ_E_NOMEM, "zip archive: out of memory for %lld bytes", (long long)n);
    else if (zip_source_read(src, *out, (zip_uint64_t)n) != n) {
        s = clseq_fail(CLSEQ_E_NOMEM, "zip archive: %s", zip_error_strerror(zip_source_error(src)));
        free(*out);
        *out = NULL;
    } else
        *out_size = (size_t)n;
    zip_source_close(src);
    return s;
}

clseq_status clseq_zip_write(const clseq_zip_entry *entries, int count, time_t mtime,
                             unsigned char **out, size_t *out_size)
{
    if (!out || !out_size || (!entries && count) || count < 0)
        return clseq_fail(CLSEQ_E_ARG, "clseq_zip_write: bad argument");
    *out = NULL;
    *out_size = 0;
    zip_error_t err;
    zip_error_init(&err);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &err);
    zip_t *za = src ? zip_open_from_source(src, ZIP_TRUNCATE, &err) : NULL;
    clseq_status s = CLSEQ_OK;
    if (!za) {
        s = clseq_fail(CLSEQ_E_NOMEM, "zip archive: %s", zip_error_strerror(&err));
        if (src)
            zip_source_free(src);
        zip_error_fini(&err);
        return s;
    }
    zip_error_fini(&err);
    zip_source_keep(src); /* zip_close would free it with the bytes */
    s = add_entries(za, entries, count, mtime);
    if (s != CLSEQ_OK)
        zip_discard(za);
    else if (zip_close(za) != 0) {
        s = clseq_fail(CLSEQ_E_NOMEM, "zip archive: %s", zip_error_strerror(zip_get_error(za)));
        zip_discard(za);
    } else
        s = take_bytes(src, out, out_size);
    zip_source_free(src);
    return s;
}
