/* Program-binary cache files: magic, key, length, payload, checksum. An entry
 * that does not verify is treated as missing, so a corrupted or truncated file
 * is rebuilt and replaced rather than reported. */
#include "runtime/cache.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/error.h"
#include "sys/fileio.h"

static const char cache_magic[8] = {'C', 'L', 'S', 'Q', 'B', 'I', 'N', '1'};
enum { HEADER_BYTES = 24, TRAILER_BYTES = 8 };

uint64_t clseq_fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

static void put_u64(unsigned char *out, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        out[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *in)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | in[i];
    return v;
}

int clseq_cache_path(const char *dir, uint64_t key, char *out, size_t size)
{
    if (!dir || !*dir)
        return 0;
    int n = snprintf(out, size, "%s/%016llx.bin", dir, (unsigned long long)key);
    return n > 0 && (size_t)n < size;
}

unsigned char *clseq_cache_load(const char *dir, uint64_t key, size_t *size)
{
    char path[4096];
    unsigned char header[HEADER_BYTES], trailer[TRAILER_BYTES];
    unsigned char *binary = NULL;
    if (!clseq_cache_path(dir, key, path, sizeof path))
        return NULL;
    /* a FIFO planted in the cache folder must not hang the build: only a
     * regular file opens; anything else is a missing entry */
    unsigned mode;
    int fd = clseq_open_regular(path, &mode);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (fread(header, 1, sizeof header, f) != sizeof header ||
        memcmp(header, cache_magic, sizeof cache_magic) != 0 || get_u64(header + 8) != key)
        goto fail;
    uint64_t length = get_u64(header + 16);
    struct stat st;
    if (fstat(fileno(f), &st) != 0 ||
        (uint64_t)st.st_size != length + HEADER_BYTES + TRAILER_BYTES || length == 0)
        goto fail;
    binary = malloc((size_t)length);
    if (!binary || fread(binary, 1, (size_t)length, f) != length ||
        fread(trailer, 1, sizeof trailer, f) != sizeof trailer ||
        get_u64(trailer) != clseq_fnv1a(CLSEQ_FNV_OFFSET, binary, (size_t)length))
        goto fail;
    fclose(f);
    *size = (size_t)length;
    return binary;
fail:
    free(binary);
    fclose(f);
    return NULL;
}

/* mkdir -p for the cache directory. */
static int make_dirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return 0;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return 0;
        *p = '/';
    }
    return mkdir(path, 0755) == 0 || errno == EEXIST;
}

void clseq_cache_store(const char *dir, uint64_t key, const unsigned char *binary, size_t size)
{
    char path[4096];
    if (!binary || size == 0 || size > SIZE_MAX - HEADER_BYTES - TRAILER_BYTES ||
        !clseq_cache_path(dir, key, path, sizeof path) || !make_dirs(dir))
        return;
    /* the whole entry in one buffer, so the shared atomic writer can store
     * it: fsync'd before the rename, and the temporaries of a process
     * killed mid-store are cleaned up by the next store of that key */
    size_t total = HEADER_BYTES + size + TRAILER_BYTES;
    unsigned char *entry = malloc(total);
    if (!entry)
        return;
    memcpy(entry, cache_magic, sizeof cache_magic);
    put_u64(entry + 8, key);
    put_u64(entry + 16, size);
    memcpy(entry + HEADER_BYTES, binary, size);
    put_u64(entry + HEADER_BYTES + size, clseq_fnv1a(CLSEQ_FNV_OFFSET, binary, size));
    /* storing is an optimisation: a failure (a full disk, a FIFO planted at
     * the name) leaves the entry missing and is not reported, but the
     * writer has recorded it as this thread's last error, which a caller
     * might print after a later failure that set none: put back what was
     * there */
    char saved[8192]; /* the whole of error.c's per-thread message */
    snprintf(saved, sizeof saved, "%s", clseq_last_error());
    if (clseq_write_file_atomic(path, entry, total) != CLSEQ_OK)
        clseq_fail(CLSEQ_OK, "%s", saved);
    free(entry);
}
