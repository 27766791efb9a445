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
 * One work-item per element, the channel fastest, so neighbouring
 * work-items read and write neighbouring floats. The backward kernels
 * gather: each input element sums over the windows that cover it, so
 * every element of d_in is written once and no atomics are needed. */

/* The geometry after rows, as every kernel takes it and the helpers
 * pass it on. */
#define POOL_GEOMETRY                                                                      \
    const int H, const int W, const int C, const int OH, const int OW, const int ph,        \
        const int pw, const int sh, const int sw, const int pad_top, const int pad_left
#define POOL_GEOMETRY_PASS H, W, C, OH, OW, ph, pw, sh, sw, pad_top, pad_left

/* The cells of window o inside [0, size) along one axis: [first, end). */
inline int2 pool_window_cells(const int o, const int stride, const int pad, const int window,
                              const int size)
{
    const int start = o * stride - pad;
    return (int2)(max(start, 0), min(start + window, size));
}

/* What a forward kernel's output element i (channel c fastest) pools:
 * the cells of its window inside the image, rows [ys.x, ys.y) and
 * columns [xs.x, xs.y), of the input from at on (its sample's channel
 * c; cell (y, x) is (y W + x) C floats further). */
typedef struct pool_window {
    int2 ys, xs;
    size_t at;
} pool_window;

inline pool_window pool_output_window(const int i, POOL_GEOMETRY)
{
    const int c = i % C, ox = (i / C) % OW, oy = (i / C / OW) % OH, r = i / C / OW / OH;
    pool_window w;
    w.ys = pool_window_cells(oy, sh, pad_top, ph, H);
    w.xs = pool_window_cells(ox, sw, pad_left, pw, W);
    w.at = (size_t)r * H * W * C + c;
    return w;
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

/* What a backward kernel's input element i (channel c fastest) gathers
 * from: the windows covering its cell, oys.x..oys.y down and oxs.x..oxs.y
 * across (none if y < x), the output from base on (its sample's channel
 * c; window (oy, ox) is (oy OW + ox) C floats further), and the cell's
 * place in the sample, y W + x, as max_pool2d records it. */
typedef struct pool_cell {
    int2 oys, oxs;
    int base, self;
} pool_cell;

inline pool_cell pool_input_cell(const int i, POOL_GEOMETRY)
{
    const int c = i % C, x = (i / C) % W, y = (i / C / W) % H, r = i / C / W / H;
    pool_cell e;
    e.oys = covering_windows(y, pad_top, ph, sh, OH);
    e.oxs = covering_windows(x, pad_left, pw, sw, OW);
    e.base = r * OH * OW * C + c;
    e.self = y * W + x;
    return e;
}

/* out[r, oy, ox, c] = the largest input of the window: the first one in
 * row-major window order among equals, a NaN over any number (XLA's max
 * propagates NaN). Its position in the sample (iy W + ix) goes to argmax
 * for the backward pass. */
__kernel void max_pool2d(__global const float *in, __global float *out, __global int *argmax,
                         const int rows, POOL_GEOMETRY)
{
    const int i = get_global_id(0);
    if (i >= rows * OH * OW * C)
        return;
    const pool_window w = pool_output_window(i, POOL_GEOMETRY_PASS);
    __global const float *sample = in + w.at;
    float best = 0.0f;
    int at = -1;
    for (int y = w.ys.x; y < w.ys.y; y++)
        for (int x = w.xs.x; x < w.xs.y; x++) {
            const float v = sample[(y * W + x) * C];
            if (at < 0 || v > best || (isnan(v) && !isnan(best))) {
                best = v;
                at = y * W + x;
            }
        }
    out[i] = best;
    argmax[i] = at;
}

/* d_in[r, y, x, c] = sum of d_out over the windows that covered (y, x)
 * and picked it as their maximum (argmax from max_pool2d). */
__kernel void max_pool2d_backward(__global const float *d_out, __global const int *argmax,
                                  __global float *d_in, const int rows, POOL_GEOMETRY)
{
    const int i = get_global_id(0);
    if (i >= rows * H * W * C)
        return;
    const pool_cell e = pool_input_cell(i, POOL_GEOMETRY_PASS);
    float sum = 0.0f;
    for (int oy = e.oys.x; oy <= e.oys.y; oy++)
        for (int ox = e.oxs.x; ox <= e.oxs.y; ox++) {
            const int o = e.base + (oy * OW + ox) * C;
            if (argmax[o] == e.self)
                sum += d_out[o];
        }
    d_in[i] = sum;
}

/* How many cells of window o lie inside [0, size) along one axis. */
inline int cells_inside(const int o, const int stride, const int pad, const int window,
                        const int size)
{
    const int2 cells = pool_window_cells(o, stride, pad, window, size);
    return cells.y - cells.x;
}

/* out[r, oy, ox, c] = the mean of the window's cells inside the image. */
__kernel void avg_pool2d(__global const float *in, __global float *out, const int rows,
                         POOL_GEOMETRY)
{
    const int i = get_global_id(0);
    if (i >= rows * OH * OW * C)
        return;
    const pool_window w = pool_output_window(i, POOL_GEOMETRY_PASS);
    __global const float *sample = in + w.at;
    float sum = 0.0f;
    for (int y = w.ys.x; y < w.ys.y; y++)
        for (int x = w.xs.x; x < w.xs.y; x++)
            sum += sample[(y * W + x) * C];
    out[i] = sum / (float)((w.ys.y - w.ys.x) * (w.xs.y - w.xs.x));
}

/* d_in[r, y, x, c] = sum over the windows covering (y, x) of d_out / the
 * window's cell count. */
__kernel void avg_pool2d_backward(__global const float *d_out, __global float *d_in,
                                  const int rows, POOL_GEOMETRY)
{
    const int i = get_global_id(0);
    if (i >= rows * H * W * C)
        return;
    const pool_cell e = pool_input_cell(i, POOL_GEOMETRY_PASS);
    float sum = 0.0f;
    for (int oy = e.oys.x; oy <= e.oys.y; oy++) {
        const int rows_in = cells_inside(oy, sh, pad_top, ph, H);
        for (int ox = e.oxs.x; ox <= e.oxs.y; ox++)
            sum += d_out[e.base + (oy * OW + ox) * C] /
                   (float)(rows_in * cells_inside(ox, sw, pad_left, pw, W));
    }
    d_in[i] = sum;
}
