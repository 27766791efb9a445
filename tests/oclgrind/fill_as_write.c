/* LD_PRELOAD shim for runs under Oclgrind 21.10: its --uninitialized
 * checker does not count clEnqueueFillBuffer as a write, so every buffer
 * clseq zeroes with clseq_buffer_fill (Adam's moments, the fit totals, the
 * inference accumulators) reads as uninitialised. This clEnqueueFillBuffer
 * builds the pattern on the host and enqueues a blocking
 * clEnqueueWriteBuffer instead, which Oclgrind does count. Event waits are
 * passed through; the returned event is the write's. Loaded ahead of
 * Oclgrind's runtime by tests/oclgrind/run.sh. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
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
