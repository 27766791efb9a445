/* Element-wise kernels: activation layers, their backward pass, and the
 * gather that reads a shuffled batch through a permutation. */

/* Y[i] = act(X[i]) for i < n (an Activation layer; act is not softmax). */
__kernel void activate(__global const float *X, __global float *Y, const int n, const int act)
{
    const int i = get_global_id(0);
    if (i < n)
        Y[i] = act_forward(act, X[i]);
}

/* D[i] *= act'(A[i]) for i < n: turns dL/dA into dL/dZ given the outputs A. */
__kernel void activation_backward(__global float *D, __global const float *A, const int n,
                                  const int act)
{
    const int i = get_global_id(0);
    if (i < n)
        D[i] *= act_derivative(act, A[i]);
}

/* dst[r, c] = src[perm[start + r], c] for r < rows, c < cols: one batch of a
 * data set resident on the device, read in shuffled order. */
__kernel void gather_rows(__global const float *src, __global const int *perm, const int start,
                          const int rows, const int cols, __global float *dst)
{
    const int c = get_global_id(0), r = get_global_id(1);
    if (r < rows && c < cols)
        dst[r * cols + c] = src[perm[start + r] * cols + c];
}
