/* Whole-file reads and crash-safe writes (fileio.c). */
#ifndef CLSEQ_FILEIO_H
#define CLSEQ_FILEIO_H

#include <stddef.h>
#include <stdio.h>

#include "clseq.h"

/* Writes size bytes to path atomically: a temporary file
 * "<path>.tmp.<pid>.XXXXXX" in the same directory, written, fsync'd,
 * renamed over path, and the directory fsync'd. On failure the temporary
 * file is removed, any old file at path is left as it was, and the status
 * is CLSEQ_E_IO naming the path.
 *
 * A symbolic link at path is followed: its final target is replaced and
 * the link kept. A path that is (or links to) anything but a regular file
 * (directory, FIFO, device such as /dev/null, socket) is refused with
 * CLSEQ_E_IO before anything is written. Temporaries of the same target
 * that a killed writer left are removed first: regular files owned by the
 * caller's effective user, named "<path>.tmp.<pid>.XXXXXX", unchanged for
 * 5 s, whose pid names no live process. Older versions' temporaries
 * (no pid in the name) are left alone. Uses no OpenCL, and no heap but opendir's, so a
 * forked child may call it (glibc's malloc is fork safe). */
clseq_status clseq_write_file_atomic(const char *path, const unsigned char *data, size_t size);

/* Reads a whole regular file into a malloc'd buffer (*data, *size); the
 * caller frees it. Failures are CLSEQ_E_IO (or CLSEQ_E_NOMEM) naming path. */
clseq_status clseq_read_file(const char *path, unsigned char **data, size_t *size);

/* Opens path for reading if it is a regular file, without blocking on a
 * FIFO: returns the descriptor (in blocking mode again), or -1 with errno
 * set, or -1 with *mode the st_mode of what is there if it is not a
 * regular file (*mode is 0 otherwise). Records no error. */
int clseq_open_regular(const char *path, unsigned *mode);

/* Opens a log file for writing (training logs that grow as they go, so
 * not atomic): created if absent, truncated unless append. Anything but a
 * regular file (FIFO, device, directory) is refused with CLSEQ_E_IO before
 * it is touched; never blocks. */
clseq_status clseq_open_log(const char *path, int append, FILE **out);

/* "a directory", "a FIFO", ... for a st_mode, for messages. */
const char *clseq_file_kind(unsigned mode);

/* CLSEQ_E_IO with "path: step: strerror(err)" as the message. */
clseq_status clseq_io_fail(const char *path, const char *step, int err);

#endif
