/* The on-disk cache of built program binaries. */
#ifndef CLSEQ_CACHE_H
#define CLSEQ_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a, continued from h (start with CLSEQ_FNV_OFFSET). */
#define CLSEQ_FNV_OFFSET 0xcbf29ce484222325ull
uint64_t clseq_fnv1a(uint64_t h, const void *data, size_t len);

/* The cache file for key in folder dir into out; 0 if dir is empty or the
 * path does not fit. */
int clseq_cache_path(const char *dir, uint64_t key, char *out, size_t size);
/* Reads an entry; returns a malloc'd binary and its size, or NULL if the
 * entry is missing, truncated or fails its checksum. */
unsigned char *clseq_cache_load(const char *dir, uint64_t key, size_t *size);
/* Writes an entry with clseq_write_file_atomic (so a killed store's
 * temporaries are removed by the next store of the key, and a FIFO or
 * device at the name is left alone), creating dir. Failures are ignored and
 * leave this thread's last error as it was (a cache that cannot be written
 * is not an error). */
void clseq_cache_store(const char *dir, uint64_t key, const unsigned char *binary, size_t size);

#endif
