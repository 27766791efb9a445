/* What each device builds: the kernels, the cl/ file each lives in, and
 * the ordered source list of a device's program. */
#ifndef CLSEQ_SOURCES_H
#define CLSEQ_SOURCES_H

#include "runtime/runtime.h"

enum { CLSEQ_MAX_PROGRAM_SOURCES = 24 };

/* The kernel's name in its .cl file. */
const char *clseq_kernel_name(clseq_kernel_id id);
/* The cl/ file that defines the kernel. */
const char *clseq_kernel_file(clseq_kernel_id id);

/* dev's program: the embedded files in build order (codes.h and
 * common.cl first, then each family before the files that use it), only
 * those dev can use. Returns the count (at most CLSEQ_MAX_PROGRAM_SOURCES). */
int clseq_program_sources(const clseq_device *dev, const char **names);
/* Whether the program built from names defines the kernel. */
int clseq_program_has_kernel(const char *const *names, int count, clseq_kernel_id id);

/* An embedded file's text by name; NULL if there is none. */
const char *clseq_embedded_source(const char *name, size_t *length);

#endif
