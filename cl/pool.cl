/* Pooling windows over (H, W, C) samples, channels last: MaxPooling2D,
 * AveragePooling2D and, as one window covering the whole image, the
 * global poolings (host/ops/ops_pool.c).
 *
 * Every kernel takes the same geometry: rows samples of H x W x C in, of
 * OH x OW x C out; windows of ph x pw cells placed every sh, sw cells,
 * starting pad_top, pad_left cells above and left of the image ('same'
 * padding). Cells outside the image are not part of a window: max never
 * sees them and the average divides by the cells inside (Keras 3 and
 * TensorFlow). The host guarantees every window holds at least one cell.
 *
 * Each kernel comes in vector widths N = 1, 4, 8 and 16 (name suffix _N):
 * a step handles N consecutive channels of one cell as a floatN, and the
 * host picks the widest N dividing C. The launch is 3-D with no index
 * arithmetic to undo: dimension 2 is a line of the tensor a kernel walks
 * (r OH + oy: sample r's output row oy, or r H + y for an input row),
 * dimension 1 the cell along that row, dimension 0 the N-channel group.
 * Each work-item loops over cells and groups with the grid's stride, so the
 * host can launch every (group, cell, line) as a work-item (GPUs: the
 * channel groups of neighbouring work-items are neighbouring floats) or
 * one work-item per line walking the whole row (CPUs: a few thousand
 * fat work-items, each streaming through contiguous memory in wide
 * vectors, instead of millions PoCL cannot vectorise).
 *
 * Backward passes write every element of d_in (a reused buffer) exactly
 * once, with no atomics: where windows do not overlap (stride >= pool
 * along both axes) each output scatters to the cells it owns, its window
 * and the uncovered cells after it up to the next window (for the first
 * and last window, the image's edges too); where they overlap each input
 * cell gathers over the windows covering it. */

/* The geometry after rows, as every kernel takes it. */
#define POOL_GEOMETRY                                                                      \
    const int H, const int W, const int C, const int OH, const int OW, const int ph,        \
        const int pw, const int sh, const int sw, const int pad_top, const int pad_left

/* The cells of window o inside [0, size) along one axis: [first, end). */
inline int2 pool_window_cells(const int o, const int stride, const int pad, const int window,
                              const int size)
{
    const int start = o * stride - pad;
    return (int2)(max(start, 0), min(start + window, size));
}

/* The cells window o of out owns along one axis when windows do not
 * overlap (window <= stride): from its start to the next window's start,
 * from 0 for the first and up to size for the last, so the owned ranges
 * of the out windows split [0, size) and each holds its window's cells. */
inline int2 pool_owned_cells(const int o, const int stride, const int pad, const int out,
                             const int size)
{
    const int start = o * stride - pad;
    return (int2)(o == 0 ? 0 : clamp(start, 0, size),
                  o == out - 1 ? size : clamp(start + stride, 0, size));
}

/* The first and last window index along one axis covering input cell i
 * (windows start at o * stride - pad, count of them out); last < first if
 * none does. */
inline int2 covering_windows(const int i, const int pad, const int size, const int stride,
                             const int out)
{
    const int reach = i + pad;                 /* i in window o iff o s <= reach < o s + size */
    const int past = reach - size + 1;         /* first o needs o s >= past */
    const int first = past <= 0 ? 0 : (past + stride - 1) / stride;
    const int last = min(reach / stride, out - 1);
    return (int2)(first, last);
}

/* How many cells of window o lie inside [0, size) along one axis. */
inline int cells_inside(const int o, const int stride, const int pad, const int window,
                        const int size)
{
    const int2 cells = pool_window_cells(o, stride, pad, window, size);
    return cells.y - cells.x;
}

/* N floats at p (any alignment) as a floatN, and back. */
#define POOL_LOAD_1(p) (*(p))
#define POOL_STORE_1(v, p) (*(p) = (v))
#define POOL_LOAD_4(p) vload4(0, p)
#define POOL_STORE_4(v, p) vstore4(v, 0, p)
#define POOL_LOAD_8(p) vload8(0, p)
#define POOL_STORE_8(v, p) vstore8(v, 0, p)
#define POOL_LOAD_16(p) vload16(0, p)
#define POOL_STORE_16(v, p) vstore16(v, 0, p)

/* The work-item's walk over one line of lines: a for loop over the
 * line's cells [0, cells) (variable cell) with, inside, one over the
 * channel groups (variable c, the group's first channel), each with the
 * grid's stride. line is get_global_id(2); the work-item returns if it
 * has none. Comparisons yield -1 per true lane of a vector and 1 for a
 * scalar; select and the bitwise operators below take either. */
#define POOL_LINE(lines) const int line = get_global_id(2);                                   \
    if (line >= (lines))                                                                       \
        return
#define POOL_CELLS(cell, cells)                                                                \
    for (int cell = get_global_id(1); cell < (cells); cell += get_global_size(1))
#define POOL_GROUPS(N, c)                                                                      \
    for (int c = get_global_id(0) * N; c < C; c += get_global_size(0) * N)

#define POOL_KERNELS(N, T, IT)                                                                 \
                                                                                               \
/* out[r, oy, ox, c..c+N) = the largest input of the window per channel:                      \
 * the first one in row-major window order among equals, a NaN over any                       \
 * number (XLA's max propagates NaN; the first NaN stays). Its position in                     \
 * the sample (y W + x) goes to argmax for the backward pass. */                               \
__kernel void max_pool2d_##N(__global const float *in, __global float *out,                    \
                             __global int *argmax, const int rows, POOL_GEOMETRY)              \
{                                                                                              \
    POOL_LINE(rows * OH);                                                                      \
    const int oy = line % OH, r = line / OH;                                                   \
    const int2 ys = pool_window_cells(oy, sh, pad_top, ph, H);                                 \
    __global const float *sample = in + (size_t)r * H * W * C;                                 \
    POOL_CELLS(ox, OW) {                                                                       \
        const int2 xs = pool_window_cells(ox, sw, pad_left, pw, W);                            \
        const int first = ys.x * W + xs.x;                                                     \
        POOL_GROUPS(N, c) {                                                                    \
            T best = POOL_LOAD_##N(sample + (size_t)first * C + c);                            \
            IT at = (IT)first;                                                                 \
            for (int y = ys.x; y < ys.y; y++)                                                  \
                for (int x = xs.x; x < xs.y; x++) {                                            \
                    const int cell = y * W + x;                                                \
                    const T v = POOL_LOAD_##N(sample + (size_t)cell * C + c);                  \
                    /* v > best, or v NaN, while best is not NaN (the first                    \
                     * cell meets itself: no change) */                                        \
                    const IT take = (best == best) & !(v <= best);                             \
                    best = select(best, v, take);                                              \
                    at = select(at, (IT)cell, take);                                           \
                }                                                                              \
            const size_t o = ((size_t)line * OW + ox) * C + c;                                 \
            POOL_STORE_##N(best, out + o);                                                     \
            POOL_STORE_##N(at, argmax + o);                                                    \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
                                                                                               \
/* Windows that do not overlap: each output's cells get its d_out where                       \
 * argmax points, 0 elsewhere. Launched over output lines. */                                  \
__kernel void max_pool2d_scatter_##N(__global const float *d_out, __global const int *argmax,  \
                                     __global float *d_in, const int rows, POOL_GEOMETRY)      \
{                                                                                              \
    POOL_LINE(rows * OH);                                                                      \
    const int oy = line % OH, r = line / OH;                                                   \
    const int2 ys = pool_owned_cells(oy, sh, pad_top, OH, H);                                  \
    __global float *sample = d_in + (size_t)r * H * W * C;                                     \
    POOL_CELLS(ox, OW) {                                                                       \
        const int2 xs = pool_owned_cells(ox, sw, pad_left, OW, W);                             \
        POOL_GROUPS(N, c) {                                                                    \
            const size_t o = ((size_t)line * OW + ox) * C + c;                                 \
            const T g = POOL_LOAD_##N(d_out + o);                                              \
            const IT at = POOL_LOAD_##N(argmax + o);                                           \
            for (int y = ys.x; y < ys.y; y++)                                                  \
                for (int x = xs.x; x < xs.y; x++) {                                            \
                    const int cell = y * W + x;                                                \
                    POOL_STORE_##N(select((T)0.0f, g, at == (IT)cell),                         \
                                   sample + (size_t)cell * C + c);                             \
                }                                                                              \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
                                                                                               \
/* Any windows: d_in[r, y, x, c..c+N) = the sum of d_out over the windows                     \
 * covering (y, x) whose argmax is it. Launched over input lines. */                           \
__kernel void max_pool2d_gather_##N(__global const float *d_out, __global const int *argmax,   \
                                    __global float *d_in, const int rows, POOL_GEOMETRY)       \
{                                                                                              \
    POOL_LINE(rows * H);                                                                       \
    const int y = line % H, r = line / H;                                                      \
    const int2 oys = covering_windows(y, pad_top, ph, sh, OH);                                 \
    const size_t base = (size_t)r * OH * OW * C;                                               \
    POOL_CELLS(x, W) {                                                                         \
        const int2 oxs = covering_windows(x, pad_left, pw, sw, OW);                            \
        const int self = y * W + x;                                                            \
        POOL_GROUPS(N, c) {                                                                    \
            T sum = (T)0.0f;                                                                   \
            for (int oy = oys.x; oy <= oys.y; oy++)                                            \
                for (int ox = oxs.x; ox <= oxs.y; ox++) {                                      \
                    const size_t o = base + (size_t)(oy * OW + ox) * C + c;                    \
                    sum += select((T)0.0f, POOL_LOAD_##N(d_out + o),                           \
                                  POOL_LOAD_##N(argmax + o) == (IT)self);                      \
                }                                                                              \
            POOL_STORE_##N(sum, d_in + ((size_t)line * W + x) * C + c);                        \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
                                                                                               \
/* out[r, oy, ox, c..c+N) = the mean of the window's cells inside the                         \
 * image (summed in row-major order). */                                                       \
__kernel void avg_pool2d_##N(__global const float *in, __global float *out, const int rows,    \
                             POOL_GEOMETRY)                                                    \
{                                                                                              \
    POOL_LINE(rows * OH);                                                                      \
    const int oy = line % OH, r = line / OH;                                                   \
    const int2 ys = pool_window_cells(oy, sh, pad_top, ph, H);                                 \
    __global const float *sample = in + (size_t)r * H * W * C;                                 \
    POOL_CELLS(ox, OW) {                                                                       \
        const int2 xs = pool_window_cells(ox, sw, pad_left, pw, W);                            \
        const float cells = (float)((ys.y - ys.x) * (xs.y - xs.x));                            \
        POOL_GROUPS(N, c) {                                                                    \
            T sum = (T)0.0f;                                                                   \
            for (int y = ys.x; y < ys.y; y++)                                                  \
                for (int x = xs.x; x < xs.y; x++)                                              \
                    sum += POOL_LOAD_##N(sample + (size_t)(y * W + x) * C + c);                \
            POOL_STORE_##N(sum / cells, out + ((size_t)line * OW + ox) * C + c);               \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
                                                                                               \
/* Windows that do not overlap: each output's window cells get d_out / its                    \
 * cell count, the other cells it owns 0. Launched over output lines. */                       \
__kernel void avg_pool2d_scatter_##N(__global const float *d_out, __global float *d_in,        \
                                     const int rows, POOL_GEOMETRY)                            \
{                                                                                              \
    POOL_LINE(rows * OH);                                                                      \
    const int oy = line % OH, r = line / OH;                                                   \
    const int2 ys = pool_owned_cells(oy, sh, pad_top, OH, H);                                  \
    const int2 wys = pool_window_cells(oy, sh, pad_top, ph, H);                                \
    __global float *sample = d_in + (size_t)r * H * W * C;                                     \
    POOL_CELLS(ox, OW) {                                                                       \
        const int2 xs = pool_owned_cells(ox, sw, pad_left, OW, W);                             \
        const int2 wxs = pool_window_cells(ox, sw, pad_left, pw, W);                           \
        const float cells = (float)((wys.y - wys.x) * (wxs.y - wxs.x));                        \
        POOL_GROUPS(N, c) {                                                                    \
            const T g = POOL_LOAD_##N(d_out + ((size_t)line * OW + ox) * C + c) / cells;       \
            for (int y = ys.x; y < ys.y; y++) {                                                \
                const int in_y = y >= wys.x && y < wys.y;                                      \
                for (int x = xs.x; x < xs.y; x++) {                                            \
                    const int in_window = in_y && x >= wxs.x && x < wxs.y;                     \
                    POOL_STORE_##N(in_window ? g : (T)0.0f,                                    \
                                   sample + (size_t)(y * W + x) * C + c);                      \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    }                                                                                          \
}                                                                                              \
                                                                                               \
/* Any windows: d_in[r, y, x, c..c+N) = the sum over the windows covering                     \
 * (y, x) of d_out / the window's cell count. Launched over input lines. */                    \
__kernel void avg_pool2d_gather_##N(__global const float *d_out, __global float *d_in,         \
                                    const int rows, POOL_GEOMETRY)                             \
{                                                                                              \
    POOL_LINE(rows * H);                                                                       \
    const int y = line % H, r = line / H;                                                      \
    const int2 oys = covering_windows(y, pad_top, ph, sh, OH);                                 \
    const size_t base = (size_t)r * OH * OW * C;                                               \
    POOL_CELLS(x, W) {                                                                         \
        const int2 oxs = covering_windows(x, pad_left, pw, sw, OW);                            \
        POOL_GROUPS(N, c) {                                                                    \
            T sum = (T)0.0f;                                                                   \
            for (int oy = oys.x; oy <= oys.y; oy++) {                                          \
                const int rows_in = cells_inside(oy, sh, pad_top, ph, H);                      \
                for (int ox = oxs.x; ox <= oxs.y; ox++)                                        \
                    sum += POOL_LOAD_##N(d_out + base + (size_t)(oy * OW + ox) * C + c) /      \
                           (float)(rows_in * cells_inside(ox, sw, pad_left, pw, W));           \
            }                                                                                  \
            POOL_STORE_##N(sum, d_in + ((size_t)line * W + x) * C + c);                        \
        }                                                                                      \
    }                                                                                          \
}

POOL_KERNELS(1, float, int)
POOL_KERNELS(4, float4, int4)
POOL_KERNELS(8, float8, int8)
POOL_KERNELS(16, float16, int16)
