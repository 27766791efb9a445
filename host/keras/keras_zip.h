/* Zip archives in memory (keras_zip.c, libzip): the container of a .keras
 * file. Reading checks the archive's consistency, bounds every member by
 * what its compressed bytes can expand to before allocating, and checks
 * each member's CRC; failures are CLSEQ_E_FORMAT naming the archive, the
 * member and, for a read, the byte of the member where it failed. */
#ifndef CLSEQ_KERAS_ZIP_H
#define CLSEQ_KERAS_ZIP_H

#include <stddef.h>
#include <time.h>

#include "clseq.h"

typedef struct clseq_zip clseq_zip;

/* Opens size bytes of a zip archive (they must outlive the handle); where
 * names it in messages. */
clseq_status clseq_zip_open(const unsigned char *data, size_t size, const char *where,
                            clseq_zip **out);
/* 1 if the archive has a member of this exact name. */
int clseq_zip_has(clseq_zip *z, const char *member);
/* Reads a whole member into a malloc'd buffer with a NUL after its *size
 * bytes. A missing member is CLSEQ_E_FORMAT listing the members there. */
clseq_status clseq_zip_read(clseq_zip *z, const char *member, unsigned char **data,
                            size_t *size);
void clseq_zip_close(clseq_zip *z);

/* One member to write. */
typedef struct clseq_zip_entry {
    const char *name;
    const unsigned char *data;
    size_t size;
} clseq_zip_entry;

/* A new archive of count members, stored uncompressed in this order (as
 * Keras writes a .keras file), each dated mtime, into a malloc'd buffer. */
clseq_status clseq_zip_write(const clseq_zip_entry *entries, int count, time_t mtime,
                             unsigned char **out, size_t *out_size);

#endif
