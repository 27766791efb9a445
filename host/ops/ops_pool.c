/* Launches of cl/pool.cl. Every kernel takes its buffers, then rows and
 * the geometry in one fixed order, and runs one work-item per element of
 * the tensor it writes. */
#include "ops/ops_pool.h"

#include "ops/ops.h"

/* Launches kernel id over n work-items: its count buffers, then rows and
 * the geometry. */
static clseq_status run_pool(clseq_device *dev, clseq_kernel_id id, size_t n, const cl_mem *buffers,
                             size_t count, int rows, const clseq_pool_geometry *g)
{
    const int values[12] = {rows, g->H,  g->W,  g->C,  g->OH,      g->OW,
                            g->ph, g->pw, g->sh, g->sw, g->pad_top, g->pad_left};
    clseq_arg args[3 + 12];
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        args[k++] = CLSEQ_ARG(buffers[i]);
    for (size_t i = 0; i < 12; i++)
        args[k++] = CLSEQ_ARG(values[i]);
    return clseq_run_1d(dev, id, n, args, k);
}

static size_t out_elements(const clseq_pool_geometry *g, int rows)
{
    return (size_t)rows * (size_t)g->OH * (size_t)g->OW * (size_t)g->C;
}

static size_t in_elements(const clseq_pool_geometry *g, int rows)
{
    return (size_t)rows * (size_t)g->H * (size_t)g->W * (size_t)g->C;
}

clseq_status clseq_op_max_pool2d(clseq_device *dev, const clseq_pool_geometry *g, int rows,
                                 cl_mem in, cl_mem out, cl_mem argmax)
{
    const cl_mem buffers[] = {in, out, argmax};
    return run_pool(dev, K_MAX_POOL2D, out_elements(g, rows), buffers, 3, rows, g);
}

clseq_status clseq_op_max_pool2d_backward(clseq_device *dev, const clseq_pool_geometry *g,
                                          int rows, cl_mem d_out, cl_mem argmax, cl_mem d_in)
{
    const cl_mem buffers[] = {d_out, argmax, d_in};
    return run_pool(dev, K_MAX_POOL2D_BACKWARD, in_elements(g, rows), buffers, 3, rows, g);
}

clseq_status clseq_op_avg_pool2d(clseq_device *dev, const clseq_pool_geometry *g, int rows,
                                 cl_mem in, cl_mem out)
{
    const cl_mem buffers[] = {in, out};
    return run_pool(dev, K_AVG_POOL2D, out_elements(g, rows), buffers, 2, rows, g);
}

clseq_status clseq_op_avg_pool2d_backward(clseq_device *dev, const clseq_pool_geometry *g,
                                          int rows, cl_mem d_out, cl_mem d_in)
{
    const cl_mem buffers[] = {d_out, d_in};
    return run_pool(dev, K_AVG_POOL2D_BACKWARD, in_elements(g, rows), buffers, 2, rows, g);
}
