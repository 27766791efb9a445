/* Row softmax and its backward pass; one work-item per row. The per-row
 * bodies are inline functions shared with the fused trainer. */

/* The largest of cols values: both forward rows subtract it, which keeps
 * exp() finite for any input. */
inline float row_max(__global const float *x, const int cols)
{
    float top = x[0];
    for (int c = 1; c < cols; c++)
        top = fmax(top, x[c]);
    return top;
}

/* y = softmax(x) over cols values; y may be x. Returns the sum of
 * exp(x - top) and leaves top, the row's largest value, in *top. */
inline float softmax_row_sum(__global const float *x, __global float *y, const int cols,
                             float *top)
{
    *top = row_max(x, cols);
    float sum = 0.0f;
    for (int c = 0; c < cols; c++) {
        const float e = exp(x[c] - *top);
        y[c] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (int c = 0; c < cols; c++)
        y[c] *= inv;
    return sum;
}

/* y = softmax(x) over cols values; y may be x. */
inline void softmax_row(__global const float *x, __global float *y, const int cols)
{
    float top;
    softmax_row_sum(x, y, cols, &top);
}

/* softmax_row, returning the row's log-sum-exp top + log(sum): computed
 * as logits_crossentropy computes it, so the fused trainer's loss needs
 * no second pass of exp over the logits. */
inline float softmax_row_lse(__global const float *x, __global float *y, const int cols)
{
    float top;
    const float sum = softmax_row_sum(x, y, cols, &top);
    return top + log(sum);
}

/* d = p * (d - dot(d, p)): dL/dP to dL/dZ through a softmax with outputs p. */
inline void softmax_backward_row(__global float *d, __global const float *p, const int cols)
{
    float dot = 0.0f;
    for (int c = 0; c < cols; c++)
        dot += d[c] * p[c];
    for (int c = 0; c < cols; c++)
        d[c] = p[c] * (d[c] - dot);
}

/* y = log_softmax(x) = x - max - log(sum(exp(x - max))); y may be x. */
inline void log_softmax_row(__global const float *x, __global float *y, const int cols)
{
    const float top = row_max(x, cols);
    float sum = 0.0f;
    for (int c = 0; c < cols; c++)
        sum += exp(x[c] - top);
    const float shift = top + log(sum);
    for (int c = 0; c < cols; c++)
        y[c] = x[c] - shift;
}

/* d = d - exp(y) sum(d): dL/dY to dL/dX through a log_softmax with outputs y. */
inline void log_softmax_backward_row(__global float *d, __global const float *y, const int cols)
{
    float total = 0.0f;
    for (int c = 0; c < cols; c++)
        total += d[c];
    for (int c = 0; c < cols; c++)
        d[c] -= exp(y[c]) * total;
}

/* Y[r, :] = softmax(X[r, :]) for r < rows; Y may be X. */
__kernel void softmax_rows(__global const float *X, __global float *Y, const int rows,
                           const int cols)
{
    const int r = get_global_id(0);
    if (r < rows)
        softmax_row(X + r * cols, Y + r * cols, cols);
}

/* D[r, :] = dL/dZ from dL/dP through the softmax whose outputs are P. */
__kernel void softmax_backward(__global float *D, __global const float *P, const int rows,
                               const int cols)
{
    const int r = get_global_id(0);
    if (r < rows)
        softmax_backward_row(D + r * cols, P + r * cols, cols);
}

/* Y[r, :] = log_softmax(X[r, :]) for r < rows; Y may be X. */
__kernel void log_softmax_rows(__global const float *X, __global float *Y, const int rows,
                               const int cols)
{
    const int r = get_global_id(0);
    if (r < rows)
        log_softmax_row(X + r * cols, Y + r * cols, cols);
}

/* D[r, :] = dL/dX from dL/dY through the log_softmax whose outputs are Y. */
__kernel void log_softmax_backward(__global float *D, __global const float *Y, const int rows,
                                   const int cols)
{
    const int r = get_global_id(0);
    if (r < rows)
        log_softmax_backward_row(D + r * cols, Y + r * cols, cols);
}
