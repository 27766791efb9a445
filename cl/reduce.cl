/* Reductions: column sums (bias gradients, loss and metric totals), row
 * arg-max (predicted classes) and the weight regularizers' penalty (with
 * their gradient beside it). */

/* out[out_off + c] = sum_r X[r, c], or with accumulate, adds that sum to
 * out[out_off + c] with Kahan compensation kept in out[out_off + cols + c]
 * (totals over many batches would otherwise drift once they dwarf each
 * batch's sum). One work-group per column; the group's work-items stride
 * over the rows and combine their partial sums in local memory (scratch:
 * one float per work-item; the local size must be a power of two). */
__kernel void sum_columns(__global const float *X, const int rows, const int cols,
                          __global float *out, const int out_off, const int accumulate,
                          __local float *scratch)
{
    const int c = get_group_id(0);
    const int lid = get_local_id(0), size = get_local_size(0);
    float partial = 0.0f;
    for (int r = lid; r < rows; r += size)
        partial += X[r * cols + c];
    const float total = group_sum(scratch, partial);
    if (lid == 0 && !accumulate)
        out[out_off + c] = total;
    if (lid == 0 && accumulate) {
        const float sum = out[out_off + c];
        const float y = total - out[out_off + cols + c];
        const float t = sum + y;
        out[out_off + cols + c] = (t - sum) - y;
        out[out_off + c] = t;
    }
}

/* sum_columns for CPUs: one work-item per column adding its rows in order.
 * PoCL runs a work-group's work-items as a loop around each barrier, so
 * sum_columns' tree of barriers costs more than the adds it shares out;
 * here neighbouring columns are neighbouring work-items, which PoCL turns
 * into vector lanes. The same epilogue as sum_columns. */
__kernel void sum_columns_seq(__global const float *X, const int rows, const int cols,
                              __global float *out, const int out_off, const int accumulate)
{
    const int c = get_global_id(0);
    if (c >= cols)
        return;
    float total = 0.0f;
    for (int r = 0; r < rows; r++)
        total += X[r * cols + c];
    if (!accumulate) {
        out[out_off + c] = total;
        return;
    }
    const float sum = out[out_off + c];
    const float y = total - out[out_off + cols + c];
    const float t = sum + y;
    out[out_off + cols + c] = (t - sum) - y;
    out[out_off + c] = t;
}

/* out[r] = the first index of the largest value of X[r, :]. */
__kernel void argmax_rows(__global const float *X, const int rows, const int cols,
                          __global int *out)
{
    const int r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *x = X + r * cols;
    int best = 0;
    for (int c = 1; c < cols; c++)
        if (x[c] > x[best])
            best = c;
    out[r] = best;
}

/* Keras's L1L2 regularizer on n weights W: out[off] += scale (l1 sum|w| +
 * l2 sum w^2), Kahan-compensated in out[comp] as sum_columns does. One
 * work-group (scratch: one float per work-item, a power of two). */
__kernel void regularizer_penalty(__global const float *W, const int w_off, const int n,
                                  const float l1, const float l2, const float scale,
                                  __global float *out, const int off, const int comp,
                                  __local float *scratch)
{
    const int lid = get_local_id(0), size = get_local_size(0);
    W += w_off;
    float partial = 0.0f;
    for (int i = lid; i < n; i += size)
        partial += l1 * fabs(W[i]) + l2 * W[i] * W[i];
    const float total = group_sum(scratch, partial);
    if (lid == 0) {
        const float sum = out[off];
        const float y = scale * total - out[comp];
        const float t = sum + y;
        out[comp] = (t - sum) - y;
        out[off] = t;
    }
}

/* The penalty's gradient added to G: l1 sign(w) (0 at 0, as JAX
 * differentiates |w|) + 2 l2 w. */
__kernel void regularizer_grads(__global const float *W, __global float *G, const int off,
                                const int n, const float l1, const float l2)
{
    const int i = get_global_id(0);
    if (i < n)
        G[off + i] += l1 * sign(W[off + i]) + 2.0f * l2 * W[off + i];
}
