/* Row softmax and its backward pass; one work-item per row. */

/* Y[r, :] = softmax(X[r, :]) for r < rows. Subtracting the row maximum keeps
 * exp() finite for any input; Y may be X. */
__kernel void softmax_rows(__global const float *X, __global float *Y, const int rows,
                           const int cols)
{
    const int r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *x = X + r * cols;
    __global float *y = Y + r * cols;
    float top = x[0];
    for (int c = 1; c < cols; c++)
        top = fmax(top, x[c]);
    float sum = 0.0f;
    for (int c = 0; c < cols; c++) {
        const float e = exp(x[c] - top);
        y[c] = e;
        sum += e;
    }
    const float inv = 1.0f / sum;
    for (int c = 0; c < cols; c++)
        y[c] *= inv;
}

/* D[r, i] = P[r, i] * (D[r, i] - sum_j D[r, j] P[r, j]): dL/dP to dL/dZ
 * through a softmax whose outputs are P. */
__kernel void softmax_backward(__global float *D, __global const float *P, const int rows,
                               const int cols)
{
    const int r = get_global_id(0);
    if (r >= rows)
        return;
    __global float *d = D + r * cols;
    __global const float *p = P + r * cols;
    float dot = 0.0f;
    for (int c = 0; c < cols; c++)
        dot += d[c] * p[c];
    for (int c = 0; c < cols; c++)
        d[c] = p[c] * (d[c] - dot);
}
