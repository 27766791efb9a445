/* Conv2D as a matrix product (host/nn/layer_conv2d.c): im2col lays each
 * output position's receptive field out as one row of a column matrix, so
 * that the convolution is cols . kernel; col2im takes the gradient of that
 * matrix back to the input.
 *
 * Samples are H x W x C, channels last; the product's rows are the output
 * positions (n, oy, ox) of rows samples, its columns the taps (ky, kx, c),
 * c fastest: the order of Keras's kernel (kh, kw, C, filters) flattened,
 * so the kernel variable is the product's right-hand matrix as it is.
 * Tap (ky, kx) of position (oy, ox) reads input cell
 * (oy SH - PT + ky DH, ox SW - PL + kx DW); cells outside the image are the
 * zeros of 'same' padding.
 *
 * Sizes arrive as arguments (one program serves every shape). A work-item
 * owns one element, and consecutive work-items own consecutive elements of
 * the matrix they write, so that a GPU coalesces the writes; the reads of
 * consecutive channels are consecutive too. Each kernel comes in two
 * element types: float, and float4 where C is a multiple of 4 - the host
 * then passes C / 4 as C and offsets in float4s, and four channels move
 * as one element (a quarter of the index arithmetic, 16-byte accesses).
 * Quotients by the sizes go through conv_div: PoCL vectorises a work-group
 * across work-items, and a division by a run-time value has no vector
 * instruction. The loops have the same trip count on every work-item and
 * no early exits, for the same reason. */

#define CONV_GEOMETRY                                                                      \
    const int H, const int W, const int C, const int OH, const int OW, const int KH,        \
        const int KW, const int SH, const int SW, const int DH, const int DW, const int PT, \
        const int PL

/* n / d for 0 <= n < 2^31 by a multiply and a shift: d arrives as
 * (magic, shift), computed on the host (ops_conv.c, divisor(): Granlund
 * and Montgomery's round-up method, exact for every 31-bit n). */
inline int conv_div(const int n, const uint2 d)
{
    return (int)(((ulong)(uint)n * (ulong)d.x) >> d.y);
}

/* The geometry's values, as the helpers pass them on. */
#define CONV_GEOMETRY_PASS H, W, C, OH, OW, KH, KW, SH, SW, DH, DW, PT, PL

/* The chunk-relative index into the input of element i of cols (rows
 * OH OW x KH KW C, taps fastest within a position, c fastest within a tap),
 * or -1 where the tap reads padding. div_k, div_c, div_kw, div_ow, div_oh:
 * KH KW C, C, KW, OW and OH for conv_div. */
#define IM2COL_DIVISORS                                                                    \
    const uint2 div_k, const uint2 div_c, const uint2 div_kw, const uint2 div_ow,           \
        const uint2 div_oh
inline int im2col_source(const int i, CONV_GEOMETRY, IM2COL_DIVISORS)
{
    const int K = KH * KW * C;
    const int m = conv_div(i, div_k), k = i - m * K;
    const int tap = conv_div(k, div_c), c = k - tap * C;
    const int ky = conv_div(tap, div_kw), kx = tap - ky * KW;
    const int line = conv_div(m, div_ow), ox = m - line * OW;
    const int n = conv_div(line, div_oh), oy = line - n * OH;
    const int y = oy * SH - PT + ky * DH, x = ox * SW - PL + kx * DW;
    const int inside = y >= 0 && y < H && x >= 0 && x < W;
    return inside ? ((n * H + y) * W + x) * C + c : -1;
}

/* cols = the input cells under every tap of rows samples' positions, the
 * samples read from in[in_off ...]; zeros for padding. */
#define IM2COL_KERNEL(NAME, T)                                                             \
    __kernel void NAME(__global const T *in, const int in_off, const int rows, CONV_GEOMETRY, \
                       IM2COL_DIVISORS, __global T *cols)                                  \
    {                                                                                      \
        const int i = get_global_id(0);                                                    \
        if (i >= rows * OH * OW * KH * KW * C)                                             \
            return;                                                                        \
        const int src = im2col_source(i, CONV_GEOMETRY_PASS, div_k, div_c, div_kw, div_ow,  \
                                      div_oh);                                             \
        cols[i] = src >= 0 ? in[in_off + src] : (T)(0.0f);                                 \
    }

IM2COL_KERNEL(im2col, float)
IM2COL_KERNEL(im2col4, float4)

/* The same for CPUs: a work-item per (output position, kernel row) copies
 * that row's KW taps of C channels, a run of contiguous channels per tap
 * (zeros where the tap falls outside the image). Three divisions per
 * work-item instead of five per element, and copies a CPU streams:
 * im2col4 above took a third of the benchmark CNN's predict on PoCL. */
#define IM2COL_LINES_KERNEL(NAME, T)                                                       \
    __kernel void NAME(__global const T *in, const int in_off, const int rows, CONV_GEOMETRY, \
                       __global T *cols)                                                   \
    {                                                                                      \
        const int m = get_global_id(0), ky = get_global_id(1);                             \
        if (m >= rows * OH * OW || ky >= KH)                                               \
            return;                                                                        \
        const int ox = m % OW, line = m / OW, oy = line % OH, n = line / OH;               \
        const int y = oy * SH - PT + ky * DH;                                              \
        __global T *dst = cols + ((size_t)m * KH + ky) * KW * C;                           \
        __global const T *src = in + in_off + (size_t)n * H * W * C;                       \
        for (int kx = 0; kx < KW; kx++, dst += C) {                                        \
            const int x = ox * SW - PL + kx * DW;                                          \
            if (y >= 0 && y < H && x >= 0 && x < W) {                                      \
                __global const T *cell = src + ((size_t)y * W + x) * C;                    \
                for (int c = 0; c < C; c++)                                                \
                    dst[c] = cell[c];                                                      \
            } else {                                                                       \
                for (int c = 0; c < C; c++)                                                \
                    dst[c] = (T)(0.0f);                                                    \
            }                                                                              \
        }                                                                                  \
    }

IM2COL_LINES_KERNEL(im2col_lines4, float4)

/* The index into d_cols of what tap (ky, kx) of some position read from
 * input cell (n, y, x, c), or -1 if no position reads the cell through
 * that tap: position oy reads row y through tap ky when
 * y + PT - ky DH = oy SH, and the same along x. div_sh, div_sw: SH and SW
 * for conv_div. */
inline int col2im_source(const int n, const int y, const int x, const int c, const int ky,
                         const int kx, CONV_GEOMETRY, const uint2 div_sh, const uint2 div_sw)
{
    const int ty = y + PT - ky * DH, tx = x + PL - kx * DW;
    const int oy = conv_div(max(ty, 0), div_sh), ox = conv_div(max(tx, 0), div_sw);
    const int hit = ty >= 0 && tx >= 0 && oy * SH == ty && ox * SW == tx && oy < OH && ox < OW;
    return hit ? ((n * OH + oy) * OW + ox) * (KH * KW * C) + (ky * KW + kx) * C + c : -1;
}

/* d_in[d_off ...] (rows x H x W x C) = for every input cell, the sum of
 * the entries of d_cols (laid out as im2col's cols) that im2col copied
 * from it: a gather, one work-item per input cell, so no two work-items
 * write the same place, and every cell is written (0 where no tap reads
 * it). div_c, div_w, div_h: C, W and H for conv_div. */
#define COL2IM_KERNEL(NAME, T)                                                             \
    __kernel void NAME(__global const T *d_cols, const int rows, CONV_GEOMETRY,             \
                       const uint2 div_c, const uint2 div_w, const uint2 div_h,             \
                       const uint2 div_sh, const uint2 div_sw, __global T *d_in,            \
                       const int d_off)                                                    \
    {                                                                                      \
        const int i = get_global_id(0);                                                    \
        if (i >= rows * H * W * C)                                                         \
            return;                                                                        \
        const int cell = conv_div(i, div_c), c = i - cell * C;                             \
        const int line = conv_div(cell, div_w), x = cell - line * W;                       \
        const int n = conv_div(line, div_h), y = line - n * H;                             \
        T sum = (T)(0.0f);                                                                 \
        for (int ky = 0; ky < KH; ky++)                                                    \
            for (int kx = 0; kx < KW; kx++) {                                              \
                const int src = col2im_source(n, y, x, c, ky, kx, CONV_GEOMETRY_PASS,       \
                                              div_sh, div_sw);                             \
                sum += src >= 0 ? d_cols[src] : (T)(0.0f);                                 \
            }                                                                              \
        d_in[d_off + i] = sum;                                                             \
    }

COL2IM_KERNEL(col2im, float)
COL2IM_KERNEL(col2im4, float4)

/* partial[b, c] = the sum of X[r, c] (rows x cols) over the rows r of block
 * b, block_rows per block: the first step of the bias gradient, a column
 * sum over rows OH OW positions. Work-items of consecutive columns read
 * consecutive floats of each row. */
__kernel void conv_block_sums(__global const float *X, const int rows, const int cols,
                              const int block_rows, __global float *partial)
{
    const int c = get_global_id(0), b = get_global_id(1);
    if (c >= cols || b * block_rows >= rows)
        return;
    const int end = min(rows, (b + 1) * block_rows);
    float sum = 0.0f;
    for (int r = b * block_rows; r < end; r++)
        sum += X[r * cols + c];
    partial[b * cols + c] = sum;
}

/* dst[dst_off + i] += src[src_off + i] for i < n: a chunk's kernel
 * gradient added to the earlier chunks'. */
__kernel void conv_accumulate(__global float *dst, const int dst_off, __global const float *src,
                              const int src_off, const int n)
{
    const int i = get_global_id(0);
    if (i < n)
        dst[dst_off + i] += src[src_off + i];
}
