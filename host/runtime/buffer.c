/* Device buffers: allocation that reports exhaustion as CLSEQ_E_NOMEM and
 * copies that check their status. */
#include "runtime/runtime.h"

clseq_status clseq_buffer_create(clseq_device *dev, size_t bytes, cl_mem *out)
{
    *out = NULL;
    if (bytes == 0)
        bytes = sizeof(float); /* OpenCL forbids empty buffers; keep callers simple */
    if (bytes > dev->max_alloc)
        return clseq_fail(CLSEQ_E_NOMEM,
                          "device buffer of %zu bytes exceeds the device's largest allocation "
                          "(%llu bytes) on %s",
                          bytes, (unsigned long long)dev->max_alloc, dev->name);
    cl_int err = CL_SUCCESS;
    cl_mem buf = clCreateBuffer(dev->ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err != CL_SUCCESS)
        return clseq_cl_fail(err, "clCreateBuffer");
    *out = buf;
    return CLSEQ_OK;
}

void clseq_buffer_release(cl_mem *buf)
{
    if (*buf)
        clReleaseMemObject(*buf);
    *buf = NULL;
}

clseq_status clseq_buffer_write(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                                const void *src)
{
    if (bytes == 0)
        return CLSEQ_OK;
    return clseq_cl_check(
        clEnqueueWriteBuffer(dev->queue, buf, CL_TRUE, offset, bytes, src, 0, NULL, NULL),
        "clEnqueueWriteBuffer");
}

clseq_status clseq_buffer_read(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                               void *dst)
{
    if (bytes == 0)
        return CLSEQ_OK;
    return clseq_cl_check(
        clEnqueueReadBuffer(dev->queue, buf, CL_TRUE, offset, bytes, dst, 0, NULL, NULL),
        "clEnqueueReadBuffer");
}

clseq_status clseq_buffer_fill(clseq_device *dev, cl_mem buf, size_t offset, size_t count,
                               float value)
{
    if (count == 0)
        return CLSEQ_OK;
    return clseq_cl_check(clEnqueueFillBuffer(dev->queue, buf, &value, sizeof value,
                                              offset * sizeof(float), count * sizeof(float), 0,
                                              NULL, NULL),
                          "clEnqueueFillBuffer");
}
