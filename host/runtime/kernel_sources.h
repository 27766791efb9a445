/* The OpenCL C sources embedded at build time (cmake/embed_cl.cmake). */
#ifndef CLSEQ_KERNEL_SOURCES_H
#define CLSEQ_KERNEL_SOURCES_H

#include <stddef.h>

struct clseq_kernel_source {
    const char *name; /* file name in cl/, e.g. "gemm.cl" or "codes.h" */
    const char *text;
    size_t length;
};

extern const struct clseq_kernel_source clseq_kernel_sources[];
extern const int clseq_kernel_source_count;

#endif
