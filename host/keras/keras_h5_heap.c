/* A check of an HDF5 image's global heap collections before HDF5 reads
 * them (keras_h5_heap.h). HDF5 1.10 trusts what it finds in a collection:
 * an object whose size runs past the collection, or an index with no
 * object, makes H5HG_read read outside its buffer (only assertions guard
 * it; later releases check). Variable-length strings, which every Keras
 * file's attributes are, live there, so a damaged collection would crash
 * the reader instead of failing it. This walks each collection as HDF5's
 * H5HG__cache_heap_deserialize does and refuses one it could not read
 * safely, and then looks for the references into each collection (a
 * 4-byte length, the collection's address, a 4-byte index, in attribute
 * and dataset data): one whose index names no object, or whose length is
 * not its object's size, is refused. A reference is recognised by the
 * collection's address alone, so an unrelated 8 bytes equal to it (an
 * integer dataset holding that value) would be taken for one; it is
 * refused only if it looks like a reference with one field damaged (its
 * index valid, or its length the size of one of the objects), which
 * unrelated bytes almost never do. */
#include "keras/keras_h5_heap.h"

#include <stdint.h>
#include <string.h>

#include "sys/error.h"

/* "GCOL", version 1, three reserved zero bytes: 8 fixed bytes, so a match
 * in other data (weights) is a 2^-64 chance per offset. */
static const unsigned char heap_magic[8] = {'G', 'C', 'O', 'L', 1, 0, 0, 0};

enum { OBJECT_FIXED = 8 }; /* index (2), reference count (2), reserved (4) */

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* What the superblock (versions 0 to 3) says about addresses. */
typedef struct layout {
    size_t base; /* the superblock's offset: addresses count from it */
    int sa, ss;  /* bytes of an address and of a length */
} layout;

static int read_layout(const unsigned char *d, size_t n, layout *l)
{
    for (size_t at = 0; at <= n && n - at >= 16; at = at ? 2 * at : 512) {
        if (memcmp(d + at, "\x89HDF\r\n\x1a\n", 8) != 0)
            continue;
        unsigned version = d[at + 8];
        l->base = at;
        l->sa = version <= 1 ? d[at + 13] : d[at + 9];
        l->ss = version <= 1 ? d[at + 14] : d[at + 10];
        return (l->sa == 4 || l->sa == 8) && (l->ss == 2 || l->ss == 4 || l->ss == 8);
    }
    return 0;
}

/* One collection at offset at: its objects, each within the collection,
 * indices 1, 2, ... without gaps, until the free space (index 0) or the
 * end. */
static clseq_status check_collection(const unsigned char *d, size_t n, size_t at, int ss,
                                     const char *where)
{
    size_t header = 8 + (size_t)ss;
    if (n - at < header)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: global heap at byte %zu is truncated", where, at);
    uint64_t size = get_le(d + at + 8, ss);
    if (size < header || size > n - at)
        return clseq_fail(CLSEQ_E_FORMAT, "%s: global heap at byte %zu claims %llu bytes of the "
                          "%zu left", where, at, (unsigned long long)size, n - at);
    size_t p = at + header, end = at + (size_t)size;
    unsigned expected = 1;
    while (end - p >= OBJECT_FIXED + (size_t)ss) {
        unsigned index = (unsigned)get_le(d + p, 2);
        uint64_t object = get_le(d + p + OBJECT_FIXED, ss);
        size_t body = p + OBJECT_FIXED + (size_t)ss;
        /* the free space's size counts its own header; it ends the objects */
        if (index == 0 && object <= end - p)
            return CLSEQ_OK;
        if (index == 0 || object > end - body)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: global heap at byte %zu: object %u at byte %zu "
                              "runs past the heap's end", where, at, index, p);
        if (index != expected)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: global heap at byte %zu: object %u at byte "
                              "%zu, expected %u", where, at, index, p, expected);
        expected++;
        p = body + (size_t)((object + 7) & ~(uint64_t)7);
        if (p > end)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: global heap at byte %zu: object %u runs past "
                              "the heap's end", where, at, index);
    }
    return CLSEQ_OK;
}

/* The size of object index of the (checked) collection at offset at; 0
 * if there is no such object. *any is set if some object's size is len. */
static int object_size(const unsigned char *d, size_t at, int ss, uint64_t index, uint64_t len,
                       uint64_t *size, int *any)
{
    size_t header = 8 + (size_t)ss, end = at + (size_t)get_le(d + at + 8, ss);
    size_t p = at + header;
    int found = 0;
    *any = 0;
    while (end - p >= OBJECT_FIXED + (size_t)ss) {
        unsigned i = (unsigned)get_le(d + p, 2);
        uint64_t object = get_le(d + p + OBJECT_FIXED, ss);
        if (i == 0)
            break;
        *any |= object == len;
        if (i == index) {
            *size = object;
            found = 1;
        }
        p += OBJECT_FIXED + (size_t)ss + (size_t)((object + 7) & ~(uint64_t)7);
    }
    return found;
}

/* Every reference to the collection at offset at. */
static clseq_status check_references(const unsigned char *d, size_t n, size_t at,
                                     const layout *l, const char *where)
{
    unsigned char addr[8];
    uint64_t a = (uint64_t)(at - l->base);
    for (int i = 0; i < l->sa; i++)
        addr[i] = (unsigned char)(a >> (8 * i));
    for (size_t p = 4; p + (size_t)l->sa + 4 <= n; p++) {
        const unsigned char *g = memchr(d + p, addr[0], n - p - (size_t)l->sa - 4 + 1);
        if (!g)
            break;
        p = (size_t)(g - d);
        if (memcmp(g, addr, (size_t)l->sa) != 0)
            continue;
        uint64_t len = get_le(g - 4, 4), index = get_le(g + l->sa, 4), size = 0;
        int any = 0;
        int valid = object_size(d, at, l->ss, index, len, &size, &any);
        if (valid && size == len)
            continue;
        if (valid || any)
            return clseq_fail(CLSEQ_E_FORMAT, "%s: the reference at byte %zu to global heap "
                              "object %llu (%llu bytes) at byte %zu is damaged", where,
                              p - 4, (unsigned long long)index, (unsigned long long)len, at);
    }
    return CLSEQ_OK;
}

clseq_status clseq_h5_check_heaps(const unsigned char *data, size_t size, const char *where)
{
    layout l;
    if (!read_layout(data, size, &l))
        return CLSEQ_OK; /* HDF5 itself refuses the file */
    for (size_t at = 0; size - at >= sizeof heap_magic;) {
        const unsigned char *g = memchr(data + at, 'G', size - at - sizeof heap_magic + 1);
        if (!g)
            break;
        at = (size_t)(g - data);
        if (memcmp(g, heap_magic, sizeof heap_magic) == 0) {
            clseq_status s = check_collection(data, size, at, l.ss, where);
            if (s == CLSEQ_OK && at >= l.base)
                s = check_references(data, size, at, &l, where);
            if (s != CLSEQ_OK)
                return s;
        }
        at++;
    }
    return CLSEQ_OK;
}
