/* Device buffers: allocation that reports exhaustion as CLSEQ_E_NOMEM and
 * copies that check their status.
 *
 * Drivers do not all refuse an allocation they cannot honour: PoCL's CPU
 * device creates buffers lazily and aborts the process (an assertion in
 * pocl_create_migration_commands) when the memory is finally missing. So
 * clseq counts the bytes of its own live buffers per device and refuses,
 * before calling the driver, a buffer that would take them past the
 * device's global memory. */
#include <stdatomic.h>
#include <stdlib.h>

#include "runtime/runtime.h"

/* The count outlives the device when a buffer does (a model freed after its
 * context): the device and each live buffer hold a reference. Buffers are
 * uncounted from their destructor callback, which the driver may call on
 * another thread, and which also catches buffers released directly with
 * clReleaseMemObject; hence atomics. */
struct clseq_mem_ledger {
    atomic_ullong allocated;
    atomic_int refs;
};

/* What the destructor callback needs: the ledger and the buffer's size. */
typedef struct buffer_record {
    struct clseq_mem_ledger *ledger;
    cl_ulong bytes;
} buffer_record;

static void ledger_unref(struct clseq_mem_ledger *ledger)
{
    if (atomic_fetch_sub(&ledger->refs, 1) == 1)
        free(ledger);
}

static void CL_CALLBACK buffer_destroyed(cl_mem buf, void *user_data)
{
    (void)buf;
    buffer_record *record = user_data;
    atomic_fetch_sub(&record->ledger->allocated, record->bytes);
    ledger_unref(record->ledger);
    free(record);
}

clseq_status clseq_buffer_ledger_open(clseq_device *dev)
{
    dev->ledger = malloc(sizeof *dev->ledger);
    if (!dev->ledger)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory for the buffer count of %s",
                          dev->name);
    atomic_init(&dev->ledger->allocated, 0);
    atomic_init(&dev->ledger->refs, 1);
    return CLSEQ_OK;
}

void clseq_buffer_ledger_close(clseq_device *dev)
{
    if (dev->ledger)
        ledger_unref(dev->ledger);
    dev->ledger = NULL;
}

cl_ulong clseq_buffer_allocated(const clseq_device *dev)
{
    return dev->ledger ? atomic_load(&dev->ledger->allocated) : 0;
}

cl_ulong clseq_buffer_budget(const clseq_device *dev)
{
    if (dev->global_mem == 0)
        return (cl_ulong)-1; /* the device did not say: leave it to the driver */
    /* 1/64 (16 MiB a GiB) stays for what the driver and CLBlast allocate
     * outside this count: program binaries, kernel arguments, CLBlast's
     * padded copies of small operands. */
    return dev->global_mem - dev->global_mem / 64;
}

int clseq_fault_tick(clseq_device *dev)
{
    long long n = atomic_fetch_add(&dev->fault_ops, 1) + 1;
    return n == dev->ctx->options.fail_after;
}

clseq_status clseq_fault_fail(clseq_device *dev, clseq_status s, const char *call)
{
    return clseq_fail(s, "%s: injected fault at device operation %lld on %s (context option "
                      "fail_after)", call, dev->ctx->options.fail_after, dev->name);
}

void clseq_fault_arm(clseq_ctx *ctx, long long after)
{
    ctx->options.fail_after = after;
    for (int i = 0; i < ctx->device_count; i++)
        atomic_store(&ctx->devices[i].fault_ops, 0);
}

long long clseq_fault_count(const clseq_device *dev)
{
    return atomic_load(&dev->fault_ops);
}

clseq_status clseq_buffer_create_named(clseq_device *dev, size_t bytes, const char *name,
                                       cl_mem *out)
{
    *out = NULL;
    if (bytes == 0)
        bytes = sizeof(float); /* OpenCL forbids empty buffers; keep callers simple */
    const char *what = name ? name : "device buffer";
    if (bytes > dev->max_alloc)
        return clseq_fail(CLSEQ_E_NOMEM,
                          "%s of %zu bytes exceeds the device's largest allocation "
                          "(%llu bytes) on %s",
                          what, bytes, (unsigned long long)dev->max_alloc, dev->name);
    if (!dev->ledger)
        return clseq_fail(CLSEQ_E_STATE, "%s: the device %s is closed", what, dev->name);
    if (clseq_fault_due(dev))
        return clseq_fail_context(clseq_fault_fail(dev, CLSEQ_E_NOMEM, "clCreateBuffer"),
                                  "%s of %zu bytes: ", what, bytes);
    buffer_record *record = malloc(sizeof *record);
    if (!record)
        return clseq_fail(CLSEQ_E_NOMEM, "out of host memory to record a %s of %zu bytes", what,
                          bytes);
    /* reserve first, so two threads cannot both take the last bytes */
    cl_ulong budget = clseq_buffer_budget(dev);
    unsigned long long held = atomic_load(&dev->ledger->allocated);
    do {
        if (held > budget || bytes > budget - held) {
            free(record);
            return clseq_fail(CLSEQ_E_NOMEM,
                              "%s of %zu bytes does not fit in the global memory of %s: clseq "
                              "holds %llu of its %llu bytes (%llu usable), %llu left",
                              what, bytes, dev->name, held,
                              (unsigned long long)dev->global_mem, (unsigned long long)budget,
                              held > budget ? 0ULL : (unsigned long long)(budget - held));
        }
    } while (!atomic_compare_exchange_weak(&dev->ledger->allocated, &held, held + bytes));
    record->ledger = dev->ledger;
    record->bytes = bytes;
    cl_int err = CL_SUCCESS;
    cl_mem buf = clCreateBuffer(dev->ctx->context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    if (err == CL_SUCCESS) {
        atomic_fetch_add(&dev->ledger->refs, 1);
        err = clSetMemObjectDestructorCallback(buf, buffer_destroyed, record);
        if (err == CL_SUCCESS) {
            *out = buf;
            return CLSEQ_OK;
        }
        atomic_fetch_sub(&dev->ledger->refs, 1);
        clReleaseMemObject(buf);
    }
    atomic_fetch_sub(&dev->ledger->allocated, bytes);
    free(record);
    return clseq_fail_context(clseq_cl_fail(err, "clCreateBuffer"), "%s of %zu bytes on %s: ",
                              what, bytes, dev->name);
}

clseq_status clseq_buffer_create(clseq_device *dev, size_t bytes, cl_mem *out)
{
    return clseq_buffer_create_named(dev, bytes, NULL, out);
}

void clseq_buffer_release(cl_mem *buf)
{
    if (*buf)
        clReleaseMemObject(*buf);
    *buf = NULL;
}

static clseq_status enqueue_write(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                                  const void *src, cl_bool blocking, cl_event *done)
{
    if (bytes == 0)
        return CLSEQ_OK;
    if (clseq_fault_due(dev))
        return clseq_fault_fail(dev, CLSEQ_E_CL, "clEnqueueWriteBuffer");
    return clseq_cl_check(
        clEnqueueWriteBuffer(dev->queue, buf, blocking, offset, bytes, src, 0, NULL, done),
        "clEnqueueWriteBuffer");
}

clseq_status clseq_buffer_write(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                                const void *src)
{
    return enqueue_write(dev, buf, offset, bytes, src, CL_TRUE, NULL);
}

clseq_status clseq_buffer_write_async(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                                      const void *src, cl_event *done)
{
    *done = NULL;
    return enqueue_write(dev, buf, offset, bytes, src, CL_FALSE, done);
}

clseq_status clseq_buffer_copy(clseq_device *dev, cl_mem src, size_t src_offset, cl_mem dst,
                               size_t dst_offset, size_t bytes)
{
    if (bytes == 0)
        return CLSEQ_OK;
    if (clseq_fault_due(dev))
        return clseq_fault_fail(dev, CLSEQ_E_CL, "clEnqueueCopyBuffer");
    return clseq_cl_check(clEnqueueCopyBuffer(dev->queue, src, dst, src_offset, dst_offset, bytes,
                                              0, NULL, NULL),
                          "clEnqueueCopyBuffer");
}

clseq_status clseq_buffer_read(clseq_device *dev, cl_mem buf, size_t offset, size_t bytes,
                               void *dst)
{
    if (bytes == 0)
        return CLSEQ_OK;
    if (clseq_fault_due(dev))
        return clseq_fault_fail(dev, CLSEQ_E_CL, "clEnqueueReadBuffer");
    return clseq_cl_check(
        clEnqueueReadBuffer(dev->queue, buf, CL_TRUE, offset, bytes, dst, 0, NULL, NULL),
        "clEnqueueReadBuffer");
}

clseq_status clseq_buffer_fill(clseq_device *dev, cl_mem buf, size_t offset, size_t count,
                               float value)
{
    if (count == 0)
        return CLSEQ_OK;
    if (clseq_fault_due(dev))
        return clseq_fault_fail(dev, CLSEQ_E_CL, "clEnqueueFillBuffer");
    return clseq_cl_check(clEnqueueFillBuffer(dev->queue, buf, &value, sizeof value,
                                              offset * sizeof(float), count * sizeof(float), 0,
                                              NULL, NULL),
                          "clEnqueueFillBuffer");
}
