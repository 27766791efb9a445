/* The on-disk cache of built program binaries. */
#ifndef CLSEQ_CACHE_H
#define CLSEQ_CACHE_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a, continued from h (start with CLSEQ_FNV_OFFSET). */
#define CLSEQ_FNV_OFFSET 0xcbf29ce484222325ull
uint64_t clseq_fnv1a(uint64_t h, const void *data, size_t len);

/* The cache directory ($CLSEQ_CACHE_DIR, $XDG_CACHE_HOME/clseq,
 * ~/.cache/clseq) into out; 0 if none can be named or CLSEQ_NO_CACHE=1. */
int clseq_cache_dir(char *out, size_t size);
/* The cache file for key into out. */
int clseq_cache_path(uint64_t key, char *out, size_t size);
/* Reads an entry; returns a malloc'd binary and its size, or NULL if the
 * entry is missing, truncated or fails its checksum. */
unsigned char *clseq_cache_load(uint64_t key, size_t *size);
/* Writes an entry through a temporary file and rename; failures are
 * ignored (a cache that cannot be written is not an error). */
void clseq_cache_store(uint64_t key, const unsigned char *binary, size_t size);

#endif
