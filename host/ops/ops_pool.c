/* Launches of cl/pool.cl. Every kernel takes its buffers, then rows and
 * the geometry in one fixed order, and comes in vector widths 1, 4, 8 and
 * 16 (consecutive kernel ids from the width-1 one): the widest dividing C
 * runs, over a 3-D grid of (channel group, cell, line) as pool.cl
 * describes. */
#include "ops/ops_pool.h"

#include "ops/ops.h"

/* The kernels' vector widths, in kernel id order. */
static const int widths[] = {1, 4, 8, 16};

/* Lines a CPU work-group walks: enough work per group to hide PoCL's
 * per-group cost, still tens of groups for the threads at batch 128
 * (measured on the benchmark CNN's pools, PoCL on 2 cores: 4 to 64 run
 * alike). */
#define CPU_LINES_PER_GROUP 16

/* The index into widths of the widest width dividing C. Other devices
 * than CPUs stop at 4: 16-byte loads, neighbouring work-items reading
 * neighbouring ones. */
static int width_index(const clseq_device *dev, int C)
{
    int top = (dev->type & CL_DEVICE_TYPE_CPU) ? 3 : 1;
    for (int i = top; i > 0; i--)
        if (C % widths[i] == 0)
            return i;
    return 0;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* The smallest power of two >= n (n >= 1), at most cap. */
static size_t pow2_at_least(size_t n, size_t cap)
{
    size_t p = 1;
    while (p < n && p < cap)
        p *= 2;
    return p;
}

/* Launches the family whose width-1 kernel is first over lines of cells
 * cells each (output lines rows OH of OW, or input lines rows H of W): its
 * count buffers, then rows and the geometry. CPUs run one work-item per
 * line, which walks the line's cells and channel groups (a few thousand
 * work-items, each running floatN loops: 16 lanes of AVX-512 for the
 * benchmark's pools); other devices one work-item per (group, cell,
 * line), the channel groups fastest. */
static clseq_status run_pool(clseq_device *dev, clseq_kernel_id first, int over_input,
                             const cl_mem *buffers, size_t count, int rows,
                             const clseq_pool_geometry *g)
{
    const int w = width_index(dev, g->C);
    const clseq_kernel_id id = (clseq_kernel_id)(first + w);
    const int values[12] = {rows, g->H,  g->W,  g->C,  g->OH,      g->OW,
                            g->ph, g->pw, g->sh, g->sw, g->pad_top, g->pad_left};
    clseq_arg args[3 + 12];
    size_t k = 0;
    for (size_t i = 0; i < count; i++)
        args[k++] = CLSEQ_ARG(buffers[i]);
    for (size_t i = 0; i < 12; i++)
        args[k++] = CLSEQ_ARG(values[i]);
    const cl_int err = clseq_bind_args(dev, id, args, k);

    size_t lines = (size_t)rows * (size_t)(over_input ? g->H : g->OH);
    size_t cells = (size_t)(over_input ? g->W : g->OW);
    size_t groups = (size_t)(g->C / widths[w]);
    lines = lines ? lines : 1;
    size_t budget = clseq_pow2_at_most(dev->kernel_wg[id], 256);
    size_t local[3], global[3];
    if (dev->type & CL_DEVICE_TYPE_CPU) {
        local[0] = local[1] = 1;
        local[2] = clseq_pow2_at_most(budget, CPU_LINES_PER_GROUP);
        global[0] = global[1] = 1;
    } else {
        local[0] = clseq_pow2_at_most(dev->max_item[0], pow2_at_least(groups, budget));
        local[1] = 1;
        local[2] = clseq_pow2_at_most(budget / local[0], 64);
        global[0] = round_up(groups, local[0]);
        global[1] = cells ? cells : 1;
    }
    local[2] = clseq_pow2_at_most(dev->max_item[2], local[2]);
    global[2] = round_up(lines, local[2]);
    return clseq_launch_nd(dev, id, 3, global, local, err);
}

/* Windows that do not overlap along either axis: the backward passes
 * scatter from the outputs. */
static int scatter(const clseq_pool_geometry *g)
{
    return g->sh >= g->ph && g->sw >= g->pw;
}

clseq_status clseq_op_max_pool2d(clseq_device *dev, const clseq_pool_geometry *g, int rows,
                                 cl_mem in, cl_mem out, cl_mem argmax)
{
    const cl_mem buffers[] = {in, out, argmax};
    return run_pool(dev, K_MAX_POOL2D_1, 0, buffers, 3, rows, g);
}

clseq_status clseq_op_max_pool2d_backward(clseq_device *dev, const clseq_pool_geometry *g,
                                          int rows, cl_mem d_out, cl_mem argmax, cl_mem d_in)
{
    const cl_mem buffers[] = {d_out, argmax, d_in};
    if (scatter(g))
        return run_pool(dev, K_MAX_POOL2D_SCATTER_1, 0, buffers, 3, rows, g);
    return run_pool(dev, K_MAX_POOL2D_GATHER_1, 1, buffers, 3, rows, g);
}

clseq_status clseq_op_avg_pool2d(clseq_device *dev, const clseq_pool_geometry *g, int rows,
                                 cl_mem in, cl_mem out)
{
    const cl_mem buffers[] = {in, out};
    return run_pool(dev, K_AVG_POOL2D_1, 0, buffers, 2, rows, g);
}

clseq_status clseq_op_avg_pool2d_backward(clseq_device *dev, const clseq_pool_geometry *g,
                                          int rows, cl_mem d_out, cl_mem d_in)
{
    const cl_mem buffers[] = {d_out, d_in};
    if (scatter(g))
        return run_pool(dev, K_AVG_POOL2D_SCATTER_1, 0, buffers, 2, rows, g);
    return run_pool(dev, K_AVG_POOL2D_GATHER_1, 1, buffers, 2, rows, g);
}
