/* Element-wise kernels: activation layers, their backward pass, and the
 * gather that reads a shuffled batch through a permutation. */

/* Y[i] = act(X[i]) for i < n (an Activation layer; act is not softmax). */
__kernel void activate(__global const float *X, __global float *Y, const int n, const int act)
{
    const int i = get_global_id(0);
    if (i < n)
        Y[i] = act_forward(act, X[i]);
}

/* D[i] *= act'(Z[i]) for i < n: turns dL/dA into dL/dZ given the outputs
 * A and, for ACT_NEEDS_INPUT activations, the inputs Z (else any buffer). */
__kernel void activation_backward(__global float *D, __global const float *A,
                                  __global const float *Z, const int n, const int act)
{
    const int i = get_global_id(0);
    if (i < n)
        D[i] *= act_derivative(act, A[i], ACT_NEEDS_INPUT(act) ? Z[i] : 0.0f);
}

/* Y[i] += X[i] for i < n, one work-item each: the device-to-device sum of
 * replicas' gradients (nn/allreduce.c), added in device order as the
 * host's sum adds them. */
__kernel void add_into(__global float *Y, __global const float *X, const int n)
{
    const int i = get_global_id(0);
    if (i < n)
        Y[i] += X[i];
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

/* C[m, n] = act(C[m, n] + bias[n]) for m < M, n < N (C at c_off with
 * leading dimension ldc): the dense epilogue after a GEMM that cannot fuse
 * it (CLBlast's). */
__kernel void bias_activate(__global float *C, const int c_off, const int ldc, const int M,
                            const int N, __global const float *bias, const int bias_off,
                            const int has_bias, const int act)
{
    const int n = get_global_id(0), m = get_global_id(1);
    if (m >= M || n >= N)
        return;
    const float v = C[c_off + m * ldc + n];
    C[c_off + m * ldc + n] = act_forward(act, has_bias ? v + bias[bias_off + n] : v);
}
