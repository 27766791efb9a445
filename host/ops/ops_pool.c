/* Launches of cl/pool.cl. Every kernel takes its buffers, then rows and
 * the geometry in one fixed order, and runs one work-item per element of
 * the tensor it writes. */
#include "ops/ops_pool.h"

#include "ops/ops.h"

/* Binds rows and the geometry from argument index first on; returns the
 * first bind error (or the one already in err). */
static cl_int bind_geometry(cl_kernel k, cl_uint first, int rows, const clseq_pool_geometry *g,
                            cl_int err)
{
    const int values[] = {rows, g->H,  g->W,  g->C,  g->OH,      g->OW,
                          g->ph, g->pw, g->sh, g->sw, g->pad_top, g->pad_left};
    for (cl_uint i = 0; i < sizeof values / sizeof values[0]; i++)
        CLSEQ_BIND(k, first + i, values[i], &err);
    return err;
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
    cl_kernel k = dev->kernels[K_MAX_POOL2D];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, in, &err);
    CLSEQ_BIND(k, 1, out, &err);
    CLSEQ_BIND(k, 2, argmax, &err);
    err = bind_geometry(k, 3, rows, g, err);
    return clseq_launch_1d(dev, K_MAX_POOL2D, out_elements(g, rows), err);
}

clseq_status clseq_op_max_pool2d_backward(clseq_device *dev, const clseq_pool_geometry *g,
                                          int rows, cl_mem d_out, cl_mem argmax, cl_mem d_in)
{
    cl_kernel k = dev->kernels[K_MAX_POOL2D_BACKWARD];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, d_out, &err);
    CLSEQ_BIND(k, 1, argmax, &err);
    CLSEQ_BIND(k, 2, d_in, &err);
    err = bind_geometry(k, 3, rows, g, err);
    return clseq_launch_1d(dev, K_MAX_POOL2D_BACKWARD, in_elements(g, rows), err);
}

clseq_status clseq_op_avg_pool2d(clseq_device *dev, const clseq_pool_geometry *g, int rows,
                                 cl_mem in, cl_mem out)
{
    cl_kernel k = dev->kernels[K_AVG_POOL2D];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, in, &err);
    CLSEQ_BIND(k, 1, out, &err);
    err = bind_geometry(k, 2, rows, g, err);
    return clseq_launch_1d(dev, K_AVG_POOL2D, out_elements(g, rows), err);
}

clseq_status clseq_op_avg_pool2d_backward(clseq_device *dev, const clseq_pool_geometry *g,
                                          int rows, cl_mem d_out, cl_mem d_in)
{
    cl_kernel k = dev->kernels[K_AVG_POOL2D_BACKWARD];
    cl_int err = CL_SUCCESS;
    CLSEQ_BIND(k, 0, d_out, &err);
    CLSEQ_BIND(k, 1, d_in, &err);
    err = bind_geometry(k, 2, rows, g, err);
    return clseq_launch_1d(dev, K_AVG_POOL2D_BACKWARD, in_elements(g, rows), err);
}
