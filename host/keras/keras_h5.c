/* HDF5 file images in memory (keras_h5.h). The core driver with no backing
 * store keeps the whole file in memory: H5Pset_file_image gives it the
 * bytes to read, H5Fget_file_image takes back the bytes written. Only
 * plain HDF5 calls, so only -lhdf5 is needed (no hdf5_hl).
 *
 * Every public call runs between enter() and leave(): HDF5's automatic
 * error printing is switched off and restored (the library must never
 * print), and, for an HDF5 built without thread safety, a lock serialises
 * the calls, since such a build shares its state between threads. */
#include "keras/keras_h5.h"

#include <hdf5.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef H5_HAVE_THREADSAFE
#include <pthread.h>
/* HDF5's own global state needs the lock, not clseq's: a thread-safe HDF5
 * locks inside itself and this one is then not compiled. */
static pthread_mutex_t h5_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

#include "keras/keras_h5_heap.h"
#include "sys/error.h"

enum { PATH_BYTES = 1024, WHERE_BYTES = 512, CORE_INCREMENT = 1 << 16 };

struct clseq_h5 {
    hid_t file;
    size_t image_size; /* bytes opened: no attribute can hold more */
    char where[WHERE_BYTES];
};

typedef struct guard {
    H5E_auto2_t func;
    void *data;
} guard;

static void enter(guard *g)
{
#ifndef H5_HAVE_THREADSAFE
    pthread_mutex_lock(&h5_lock);
#endif
    g->func = NULL;
    g->data = NULL;
    if (H5Eget_auto2(H5E_DEFAULT, &g->func, &g->data) < 0) {
        g->func = NULL;
        g->data = NULL;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void leave(guard *g)
{
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, g->func, g->data);
#ifndef H5_HAVE_THREADSAFE
    pthread_mutex_unlock(&h5_lock);
#endif
}

/* The innermost entry of HDF5's error stack: the most specific reason
 * ("truncated file: eof = 1000, ..."), which often carries the offset. */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *client)
{
    if (n == 0 && e && e->desc)
        snprintf((char *)client, 200, "%s", e->desc);
    return 0;
}

/* CLSEQ_E_FORMAT with "where: <message>: <HDF5's reason>". */
static clseq_status h5_fail(const clseq_h5 *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static clseq_status h5_fail(const clseq_h5 *h, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char reason[200] = "";
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, reason);
    return clseq_fail(CLSEQ_E_FORMAT, "%s: %s%s%s", h->where, msg, reason[0] ? ": " : "",
                      reason);
}

/* 1 if every component of path is a hard link (never ".", never empty),
 * so that a file cannot send a read to another file or round a loop. */
static int hard_path(hid_t file, const char *path)
{
    size_t n = strlen(path);
    if (n >= PATH_BYTES)
        return 0;
    char prefix[PATH_BYTES];
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        if (i == start || (i - start == 1 && path[start] == '.'))
            return 0;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        H5L_info_t li;
        if (H5Lexists(file, prefix, H5P_DEFAULT) <= 0 ||
            H5Lget_info(file, prefix, &li, H5P_DEFAULT) < 0 || li.type != H5L_TYPE_HARD)
            return 0;
        start = i + 1;
    }
    return 1;
}

/* The object at path if it is of kind (H5I_GROUP, H5I_DATASET, or
 * H5I_BADID for either), else -1. "" is the root group. */
static hid_t open_object(const clseq_h5 *h, const char *path, H5I_type_t kind)
{
    hid_t o;
    if (!*path)
        o = H5Gopen2(h->file, "/", H5P_DEFAULT);
    else if (!hard_path(h->file, path))
        return -1;
    else
        o = H5Oopen(h->file, path, H5P_DEFAULT);
    if (o < 0)
        return -1;
    H5I_type_t t = H5Iget_type(o);
    if ((kind != H5I_BADID && t != kind) || (t != H5I_GROUP && t != H5I_DATASET)) {
        H5Oclose(o);
        return -1;
    }
    return o;
}

static clseq_status make_handle(const char *where, clseq_h5 **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory", where ? where : "HDF5");
    (*out)->file = -1;
    snprintf((*out)->where, sizeof (*out)->where, "%s", where ? where : "<memory>");
    return CLSEQ_OK;
}

/* A file access list for the core driver, closing every object of the
 * file with it. The name the file is opened under must differ between
 * handles: HDF5 takes two core files of one name for the same file. */
static hid_t core_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    if (H5Pset_fapl_core(fapl, CORE_INCREMENT, 0) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

clseq_status clseq_h5_open_image(const void *data, size_t size, const char *where,
                                 clseq_h5 **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_open_image: out is NULL");
    clseq_status s = make_handle(where, out);
    if (s != CLSEQ_OK)
        return s;
    clseq_h5 *h = *out;
    /* with no image the core driver would read the named file instead */
    if (!data || size < 8) {
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: truncated at byte %zu: not an HDF5 file", h->where,
                       size);
        goto fail;
    }
    if ((s = clseq_h5_check_heaps(data, size, h->where)) != CLSEQ_OK)
        goto fail;
    guard g;
    enter(&g);
    char name[64];
    snprintf(name, sizeof name, "clseq-image-%p", (void *)h);
    hid_t fapl = core_fapl();
    if (fapl < 0 || H5Pset_file_image(fapl, (void *)data, size) < 0)
        s = h5_fail(h, "cannot hold %zu bytes as an HDF5 image", size);
    else if ((h->file = H5Fopen(name, H5F_ACC_RDONLY, fapl)) < 0)
        s = h5_fail(h, "not a readable HDF5 file (%zu bytes)", size);
    if (fapl >= 0)
        H5Pclose(fapl);
    leave(&g);
    h->image_size = size;
    if (s == CLSEQ_OK)
        return s;
fail:
    clseq_h5_close(h);
    *out = NULL;
    return s;
}

clseq_status clseq_h5_create_image(const char *where, clseq_h5 **out)
{
    if (!out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_create_image: out is NULL");
    clseq_status s = make_handle(where, out);
    if (s != CLSEQ_OK)
        return s;
    clseq_h5 *h = *out;
    guard g;
    enter(&g);
    char name[64];
    snprintf(name, sizeof name, "clseq-image-%p", (void *)h);
    hid_t fapl = core_fapl();
    if (fapl < 0 || (h->file = H5Fcreate(name, H5F_ACC_EXCL, H5P_DEFAULT, fapl)) < 0)
        s = h5_fail(h, "cannot create an HDF5 file in memory");
    if (fapl >= 0)
        H5Pclose(fapl);
    leave(&g);
    if (s != CLSEQ_OK) {
        clseq_h5_close(h);
        *out = NULL;
    }
    return s;
}

clseq_status clseq_h5_get_image(clseq_h5 *h, unsigned char **data, size_t *size)
{
    if (!h || !data || !size)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_get_image: NULL argument");
    *data = NULL;
    *size = 0;
    clseq_status s = CLSEQ_OK;
    guard g;
    enter(&g);
    ssize_t n = -1;
    if (H5Fflush(h->file, H5F_SCOPE_GLOBAL) < 0 || (n = H5Fget_file_image(h->file, NULL, 0)) <= 0)
        s = h5_fail(h, "cannot take the image of the HDF5 file");
    else if (!(*data = malloc((size_t)n)))
        s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory for %zd bytes", h->where, n);
    else if (H5Fget_file_image(h->file, *data, (size_t)n) != n) {
        s = h5_fail(h, "cannot copy the image of the HDF5 file");
        free(*data);
        *data = NULL;
    } else
        *size = (size_t)n;
    leave(&g);
    return s;
}

const char *clseq_h5_where(const clseq_h5 *h)
{
    return h ? h->where : "<none>";
}

void clseq_h5_close(clseq_h5 *h)
{
    if (!h)
        return;
    if (h->file >= 0) {
        guard g;
        enter(&g);
        H5Fclose(h->file); /* H5F_CLOSE_STRONG: its objects too */
        leave(&g);
    }
    free(h);
}

static int is_kind(clseq_h5 *h, const char *path, H5I_type_t kind)
{
    if (!h || !path)
        return 0;
    guard g;
    enter(&g);
    hid_t o = open_object(h, path, kind);
    if (o >= 0)
        H5Oclose(o);
    leave(&g);
    return o >= 0;
}

int clseq_h5_is_group(clseq_h5 *h, const char *path)
{
    return is_kind(h, path, H5I_GROUP);
}

int clseq_h5_is_dataset(clseq_h5 *h, const char *path)
{
    return is_kind(h, path, H5I_DATASET);
}

clseq_status clseq_h5_group_size(clseq_h5 *h, const char *path, size_t *count)
{
    if (!h || !path || !count)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_group_size: NULL argument");
    *count = 0;
    clseq_status s = CLSEQ_OK;
    guard g;
    enter(&g);
    H5G_info_t info;
    hid_t o = open_object(h, path, H5I_GROUP);
    if (o < 0)
        s = h5_fail(h, "no group '%s'", path);
    else if (H5Gget_info(o, &info) < 0)
        s = h5_fail(h, "cannot list group '%s'", path);
    else
        *count = (size_t)info.nlinks;
    if (o >= 0)
        H5Oclose(o);
    leave(&g);
    return s;
}

/* ---- datasets ------------------------------------------------------------ */

static void type_name(hid_t t, char *buf, size_t size)
{
    size_t bits = H5Tget_size(t) * 8;
    switch (H5Tget_class(t)) {
    case H5T_FLOAT:
        snprintf(buf, size, "float%zu", bits);
        break;
    case H5T_INTEGER:
        snprintf(buf, size, "%s%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "uint" : "int", bits);
        break;
    case H5T_STRING:
        snprintf(buf, size, "string");
        break;
    case H5T_COMPOUND:
        snprintf(buf, size, "compound");
        break;
    default:
        snprintf(buf, size, "HDF5 type class %d", (int)H5Tget_class(t));
        break;
    }
}

/* Filters HDF5 has built in: any other id would make HDF5 look for a
 * plugin on disk and load it. */
static int builtin_filter(H5Z_filter_t id)
{
    return id == H5Z_FILTER_DEFLATE || id == H5Z_FILTER_SHUFFLE || id == H5Z_FILTER_FLETCHER32 ||
           id == H5Z_FILTER_SZIP || id == H5Z_FILTER_NBIT || id == H5Z_FILTER_SCALEOFFSET;
}

/* Refuses storage that reads outside the image or runs foreign code. */
static clseq_status check_storage(const clseq_h5 *h, hid_t d, const char *path)
{
    hid_t dcpl = H5Dget_create_plist(d);
    if (dcpl < 0)
        return h5_fail(h, "cannot read the storage of dataset '%s'", path);
    clseq_status s = CLSEQ_OK;
    H5D_layout_t layout = H5Pget_layout(dcpl);
    int filters = H5Pget_nfilters(dcpl);
    if (layout != H5D_COMPACT && layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' is virtual or of an unknown layout "
                       "(%d); clseq reads only data stored in the file", h->where, path,
                       (int)layout);
    else if (H5Pget_external_count(dcpl) != 0)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' keeps its data in external files; "
                       "clseq reads only data stored in the file", h->where, path);
    else if (filters < 0)
        s = h5_fail(h, "cannot read the filters of dataset '%s'", path);
    for (int i = 0; s == CLSEQ_OK && i < filters; i++) {
        unsigned flags = 0, config = 0, cd[8];
        size_t nelmts = 8;
        char fname[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nelmts, cd, sizeof fname,
                                         fname, &config);
        if (id < 0)
            s = h5_fail(h, "cannot read filter %d of dataset '%s'", i, path);
        else if (!builtin_filter(id))
            s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' uses filter %d, which is not "
                           "built into HDF5 (deflate, shuffle, fletcher32, szip, nbit, "
                           "scaleoffset)", h->where, path, (int)id);
    }
    H5Pclose(dcpl);
    return s;
}

static clseq_status describe(const clseq_h5 *h, hid_t d, const char *path, clseq_h5_info *info)
{
    memset(info, 0, sizeof *info);
    hid_t space = H5Dget_space(d);
    hid_t type = H5Dget_type(d);
    clseq_status s = CLSEQ_OK;
    H5S_class_t cls = space >= 0 ? H5Sget_simple_extent_type(space) : H5S_NO_CLASS;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    hsize_t dims[CLSEQ_H5_MAX_RANK];
    if (space < 0 || type < 0 || rank < 0)
        s = h5_fail(h, "cannot read the shape and type of dataset '%s'", path);
    else if (cls != H5S_SCALAR && cls != H5S_SIMPLE)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' holds no data", h->where, path);
    else if (rank > CLSEQ_H5_MAX_RANK)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' has rank %d (at most %d)", h->where,
                       path, rank, CLSEQ_H5_MAX_RANK);
    else if (H5Sget_simple_extent_dims(space, dims, NULL) < 0)
        s = h5_fail(h, "cannot read the shape of dataset '%s'", path);
    if (s == CLSEQ_OK) {
        info->rank = rank;
        info->count = 1;
        for (int i = 0; i < rank && s == CLSEQ_OK; i++) {
            info->dims[i] = (size_t)dims[i];
            if ((hsize_t)info->dims[i] != dims[i] ||
                clseq_mul_overflows(info->count, info->dims[i], &info->count))
                s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' is too large", h->where, path);
        }
        type_name(type, info->type, sizeof info->type);
        info->is_float32 = H5Tequal(type, H5T_IEEE_F32LE) > 0 || H5Tequal(type, H5T_IEEE_F32BE) > 0;
        info->is_integer = H5Tget_class(type) == H5T_INTEGER;
    }
    if (s == CLSEQ_OK)
        s = check_storage(h, d, path);
    if (space >= 0)
        H5Sclose(space);
    if (type >= 0)
        H5Tclose(type);
    return s;
}

static hid_t open_dataset(const clseq_h5 *h, const char *path, clseq_h5_info *info,
                          clseq_status *s)
{
    hid_t d = open_object(h, path, H5I_DATASET);
    if (d < 0) {
        *s = h5_fail(h, "no dataset '%s'", path);
        return -1;
    }
    *s = describe(h, d, path, info);
    if (*s != CLSEQ_OK) {
        H5Oclose(d);
        return -1;
    }
    return d;
}

clseq_status clseq_h5_dataset_info(clseq_h5 *h, const char *path, clseq_h5_info *info)
{
    if (!h || !path || !info)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_dataset_info: NULL argument");
    clseq_status s;
    guard g;
    enter(&g);
    hid_t d = open_dataset(h, path, info, &s);
    if (d >= 0)
        H5Oclose(d);
    leave(&g);
    return s;
}

clseq_status clseq_h5_read_f32(clseq_h5 *h, const char *path, float *out, size_t count)
{
    if (!h || !path || (!out && count))
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_read_f32: NULL argument");
    clseq_status s;
    clseq_h5_info info;
    guard g;
    enter(&g);
    hid_t d = open_dataset(h, path, &info, &s);
    if (d < 0)
        ;
    else if (!info.is_float32)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' holds %s values; clseq reads float32 "
                       "only", h->where, path, info.type);
    else if (info.count != count)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' holds %zu values, expected %zu",
                       h->where, path, info.count, count);
    else if (count && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        s = h5_fail(h, "cannot read dataset '%s'", path);
    if (d >= 0)
        H5Oclose(d);
    leave(&g);
    return s;
}

clseq_status clseq_h5_read_int(clseq_h5 *h, const char *path, long long *out)
{
    if (!h || !path || !out)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_read_int: NULL argument");
    clseq_status s;
    clseq_h5_info info;
    guard g;
    enter(&g);
    hid_t d = open_dataset(h, path, &info, &s);
    if (d < 0)
        ;
    else if (!info.is_integer || info.count != 1)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: dataset '%s' holds %zu %s values, expected one "
                       "integer", h->where, path, info.count, info.type);
    else if (H5Dread(d, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        s = h5_fail(h, "cannot read dataset '%s'", path);
    if (d >= 0)
        H5Oclose(d);
    leave(&g);
    return s;
}

/* ---- attributes ---------------------------------------------------------- */

void clseq_h5_strings_free(clseq_h5_strings *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->count; i++)
        free(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->count = 0;
}

static char *copy_text(const char *p, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, p, n);
        c[n] = '\0';
    }
    return c;
}

/* Variable-length strings: HDF5 allocates each, they are copied and
 * HDF5's copies reclaimed. */
static clseq_status read_vlen(const clseq_h5 *h, hid_t a, hid_t ftype, hid_t space, size_t n,
                              char **items, const char *what)
{
    char **raw = calloc(n, sizeof *raw);
    hid_t mt = H5Tcopy(H5T_C_S1);
    clseq_status s = CLSEQ_OK;
    if (!raw)
        s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory reading %s", h->where, what);
    else if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 ||
             H5Tset_cset(mt, H5Tget_cset(ftype)) < 0 || H5Aread(a, mt, raw) < 0) {
        s = h5_fail(h, "cannot read %s", what);
        /* a conversion that failed part-way has allocated the strings
         * before it (with the C library's malloc, HDF5's default); the
         * rest are still NULL from calloc */
        for (size_t i = 0; i < n; i++)
            free(raw[i]);
        free(raw);
        raw = NULL;
    }
    for (size_t i = 0; raw && i < n && s == CLSEQ_OK; i++)
        if (!(items[i] = copy_text(raw[i] ? raw[i] : "", raw[i] ? strlen(raw[i]) : 0)))
            s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory reading %s", h->where, what);
    if (raw) {
#if H5_VERSION_GE(1, 12, 0)
        H5Treclaim(mt, space, H5P_DEFAULT, raw);
#else
        H5Dvlen_reclaim(mt, space, H5P_DEFAULT, raw);
#endif
        free(raw);
    }
    if (mt >= 0)
        H5Tclose(mt);
    return s;
}

/* Fixed-length strings, NUL- or space-padded: the attribute is stored in
 * the image, so its size is bounded by the image's. */
static clseq_status read_fixed(const clseq_h5 *h, hid_t a, hid_t ftype, size_t n, char **items,
                               const char *what)
{
    size_t width = H5Tget_size(ftype), bytes = 0;
    if (width == 0 || clseq_mul_overflows(width, n, &bytes) || bytes > h->image_size)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: %s claims %zu strings of %zu bytes in a file of "
                          "%zu", h->where, what, n, width, h->image_size);
    char *buf = malloc(bytes);
    if (!buf)
        return clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory reading %s", h->where, what);
    clseq_status s = CLSEQ_OK;
    if (H5Aread(a, ftype, buf) < 0)
        s = h5_fail(h, "cannot read %s", what);
    int spaces = H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
    for (size_t i = 0; i < n && s == CLSEQ_OK; i++) {
        const char *p = buf + i * width;
        size_t len = 0;
        while (len < width && p[len])
            len++;
        while (spaces && len && p[len - 1] == ' ')
            len--;
        if (!(items[i] = copy_text(p, len)))
            s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory reading %s", h->where, what);
    }
    free(buf);
    return s;
}

static clseq_status read_attr(const clseq_h5 *h, hid_t a, clseq_h5_strings *out,
                              const char *what)
{
    hid_t type = H5Aget_type(a), space = H5Aget_space(a);
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    clseq_status s = CLSEQ_OK;
    if (type < 0 || n < 0 || rank < 0)
        s = h5_fail(h, "cannot read the type and shape of %s", what);
    else if (rank > 1)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: %s has rank %d, expected a string or a list of them",
                       h->where, what, rank);
    else if (n > 0 && H5Tget_class(type) != H5T_STRING) {
        char t[24];
        type_name(type, t, sizeof t);
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: %s holds %s values, expected text", h->where, what,
                       t);
    } else if ((size_t)n > h->image_size)
        s = clseq_fail(CLSEQ_E_FORMAT, "%s: %s claims %lld strings", h->where, what,
                       (long long)n);
    else if (n > 0 && !(out->items = calloc((size_t)n, sizeof *out->items)))
        s = clseq_fail(CLSEQ_E_NOMEM, "%s: out of memory reading %s", h->where, what);
    else if (n > 0) {
        out->count = (int)n;
        s = H5Tis_variable_str(type) > 0 ? read_vlen(h, a, type, space, (size_t)n, out->items, what)
                                         : read_fixed(h, a, type, (size_t)n, out->items, what);
    }
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    return s;
}

clseq_status clseq_h5_read_strings(clseq_h5 *h, const char *path, const char *attr,
                                   clseq_h5_strings *out, int *found)
{
    if (!h || !path || !attr || !out || !found)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_read_strings: NULL argument");
    memset(out, 0, sizeof *out);
    *found = 0;
    char what[PATH_BYTES + 64];
    snprintf(what, sizeof what, "attribute '%s' of '%s'", attr, *path ? path : "/");
    clseq_status s = CLSEQ_OK;
    guard g;
    enter(&g);
    hid_t o = open_object(h, path, H5I_BADID), a = -1;
    htri_t exists = o >= 0 ? H5Aexists(o, attr) : -1;
    if (o < 0)
        s = h5_fail(h, "no group or dataset '%s'", *path ? path : "/");
    else if (exists < 0)
        s = h5_fail(h, "cannot look for %s", what);
    else if (exists > 0 && (a = H5Aopen(o, attr, H5P_DEFAULT)) < 0)
        s = h5_fail(h, "cannot open %s", what);
    else if (exists > 0) {
        *found = 1;
        s = read_attr(h, a, out, what);
    }
    if (a >= 0)
        H5Aclose(a);
    if (o >= 0)
        H5Oclose(o);
    leave(&g);
    if (s != CLSEQ_OK)
        clseq_h5_strings_free(out);
    return s;
}

/* ---- writing ------------------------------------------------------------- */

clseq_status clseq_h5_make_groups(clseq_h5 *h, const char *path)
{
    if (!h || !path || strlen(path) >= PATH_BYTES)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_make_groups: bad argument");
    clseq_status s = CLSEQ_OK;
    char prefix[PATH_BYTES];
    guard g;
    enter(&g);
    for (size_t i = 0, n = strlen(path); i <= n && s == CLSEQ_OK; i++) {
        if ((path[i] != '/' && path[i] != '\0') || i == 0)
            continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        hid_t o = open_object(h, prefix, H5I_GROUP);
        if (o < 0)
            o = H5Gcreate2(h->file, prefix, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (o < 0)
            s = h5_fail(h, "cannot create group '%s'", prefix);
        else
            H5Oclose(o);
    }
    leave(&g);
    return s;
}

/* A dataset of one element type from memory: rank 0 is a scalar. */
static clseq_status write_dataset(clseq_h5 *h, const char *path, hid_t file_type,
                                  hid_t mem_type, int rank, const size_t *dims, const void *data)
{
    if (!h || !path || !data || rank < 0 || rank > CLSEQ_H5_MAX_RANK || (rank && !dims))
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_write: bad argument");
    hsize_t hd[CLSEQ_H5_MAX_RANK];
    for (int i = 0; i < rank; i++)
        hd[i] = (hsize_t)dims[i];
    clseq_status s = CLSEQ_OK;
    guard g;
    enter(&g);
    hid_t space = rank ? H5Screate_simple(rank, hd, NULL) : H5Screate(H5S_SCALAR), d = -1;
    if (space < 0 ||
        (d = H5Dcreate2(h->file, path, file_type, space, H5P_DEFAULT, H5P_DEFAULT,
                        H5P_DEFAULT)) < 0 ||
        H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        s = h5_fail(h, "cannot write dataset '%s'", path);
    if (d >= 0)
        H5Dclose(d);
    if (space >= 0)
        H5Sclose(space);
    leave(&g);
    return s;
}

clseq_status clseq_h5_write_f32(clseq_h5 *h, const char *path, int rank, const size_t *dims,
                                const float *data)
{
    return write_dataset(h, path, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rank, dims, data);
}

clseq_status clseq_h5_write_int(clseq_h5 *h, const char *path, long long value)
{
    return write_dataset(h, path, H5T_STD_I64LE, H5T_NATIVE_LLONG, 0, NULL, &value);
}

clseq_status clseq_h5_write_string(clseq_h5 *h, const char *path, const char *attr,
                                   const char *value)
{
    if (!h || !path || !attr || !value)
        return clseq_fail(CLSEQ_E_ARG, "clseq_h5_write_string: NULL argument");
    clseq_status s = CLSEQ_OK;
    guard g;
    enter(&g);
    hid_t o = open_object(h, path, H5I_BADID), t = H5Tcopy(H5T_C_S1);
    hid_t space = H5Screate(H5S_SCALAR), a = -1;
    if (o < 0 || t < 0 || space < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
        (a = H5Acreate2(o, attr, t, space, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        H5Awrite(a, t, &value) < 0)
        s = h5_fail(h, "cannot write attribute '%s' of '%s'", attr, *path ? path : "/");
    if (a >= 0)
        H5Aclose(a);
    if (space >= 0)
        H5Sclose(space);
    if (t >= 0)
        H5Tclose(t);
    if (o >= 0)
        H5Oclose(o);
    leave(&g);
    return s;
}
