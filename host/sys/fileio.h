/* Whole-file reads and crash-safe writes (fileio.c). */
#ifndef CLSEQ_FILEIO_H
#define CLSEQ_FILEIO_H

#include <stddef.h>

#include "clseq.h"

/* Writes size bytes to path atomically: a temporary file in the same
 * directory, written, fsync'd, renamed over path, and the directory
 * fsync'd. On failure the temporary file is removed, any old file at path
 * is left as it was, and the status is CLSEQ_E_IO naming the path. Uses
 * no OpenCL and no heap, so a forked child may call it. */
clseq_status clseq_write_file_atomic(const char *path, const unsigned char *data, size_t size);

/* Reads a whole regular file into a malloc'd buffer (*data, *size); the
 * caller frees it. Failures are CLSEQ_E_IO (or CLSEQ_E_NOMEM) naming path. */
clseq_status clseq_read_file(const char *path, unsigned char **data, size_t *size);

/* CLSEQ_E_IO with "path: step: strerror(err)" as the message. */
clseq_status clseq_io_fail(const char *path, const char *step, int err);

#endif
