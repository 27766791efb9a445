/* LD_PRELOAD shim for runs under Oclgrind 21.10: its --uninitialized
 * checker does not count clEnqueueFillBuffer as a write, so every buffer
 * clseq zeroes with clseq_buffer_fill (Adam's moments, the fit totals, the
 * inference accumulators) reads as uninitialised. This clEnqueueFillBuffer
 * builds the pattern on the host and enqueues a blocking
 * clEnqueueWriteBuffer instead, which Oclgrind does count. Event waits are
 * passed through; the returned event is the write's. Loaded ahead of
 * Oclgrind's runtime by tests/oclgrind/run.sh. clCreateBuffer (at the end)
 * works around the checker's second quirk, its shadow sizes. */
#define _GNU_SOURCE /* RTLD_NEXT */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

CL_API_ENTRY cl_int CL_API_CALL clEnqueueFillBuffer(cl_command_queue queue, cl_mem buffer,
                                                    const void *pattern, size_t pattern_size,
                                                    size_t offset, size_t size,
                                                    cl_uint num_events, const cl_event *events,
                                                    cl_event *event)
{
    if (!pattern || pattern_size == 0 || size % pattern_size != 0)
        return CL_INVALID_VALUE;
    unsigned char *host = malloc(size ? size : 1);
    if (!host)
        return CL_OUT_OF_HOST_MEMORY;
    for (size_t i = 0; i < size; i += pattern_size)
        memcpy(host + i, pattern, pattern_size);
    cl_int err = clEnqueueWriteBuffer(queue, buffer, CL_TRUE, offset, size, host, num_events,
                                      events, event);
    free(host);
    return err;
}

/* Every buffer made without host data starts as a full-size host copy of
 * zeros (CL_MEM_COPY_HOST_PTR), so Oclgrind's --uninitialized checker
 * gives it a whole shadow: 21.10 otherwise sizes a buffer's shadow by its
 * first host write and lets a new buffer inherit a released buffer's
 * shadow (a fresh buffer that only kernels write then reads back as
 * "uninitialised" past the old size). Kernels still must write before
 * they read: the zeros are only the shadow's start. */
CL_API_ENTRY cl_mem CL_API_CALL clCreateBuffer(cl_context context, cl_mem_flags flags,
                                               size_t size, void *host_ptr, cl_int *err)
{
    typedef cl_mem (*create_fn)(cl_context, cl_mem_flags, size_t, void *, cl_int *);
    create_fn next = (create_fn)dlsym(RTLD_NEXT, "clCreateBuffer");
    if (!next) {
        if (err)
            *err = CL_INVALID_OPERATION;
        return NULL;
    }
    if (host_ptr || (flags & (CL_MEM_USE_HOST_PTR | CL_MEM_COPY_HOST_PTR | CL_MEM_ALLOC_HOST_PTR)))
        return next(context, flags, size, host_ptr, err);
    void *zeros = calloc(size ? size : 1, 1);
    if (!zeros) {
        if (err)
            *err = CL_OUT_OF_HOST_MEMORY;
        return NULL;
    }
    cl_mem buf = next(context, flags | CL_MEM_COPY_HOST_PTR, size, zeros, err);
    free(zeros);
    return buf;
}
