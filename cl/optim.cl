/* Optimizer updates over the flat parameter buffer (all layers at once),
 * with Keras's update rules. n is the parameter count. */

/* SGD: w -= lr g; with momentum, m = momentum m - lr g and w += m, or for
 * Nesterov w += momentum m - lr g. */
__kernel void sgd_update(__global float *W, __global const float *G, __global float *M,
                         const int n, const float lr, const float momentum, const int nesterov)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float g = G[i];
    if (momentum == 0.0f) {
        W[i] -= lr * g;
        return;
    }
    const float m = momentum * M[i] - lr * g;
    M[i] = m;
    W[i] += nesterov ? momentum * m - lr * g : m;
}

/* Adam as Keras computes it: alpha = lr sqrt(1 - b2^t) / (1 - b1^t) comes
 * from the host; m += (g - m)(1 - b1); v += (g^2 - v)(1 - b2);
 * w -= alpha m / (sqrt(v) + eps). */
__kernel void adam_update(__global float *W, __global const float *G, __global float *M,
                          __global float *V, const int n, const float alpha, const float beta1,
                          const float beta2, const float epsilon)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float g = G[i];
    const float m = M[i] + (g - M[i]) * (1.0f - beta1);
    const float v = V[i] + (g * g - V[i]) * (1.0f - beta2);
    M[i] = m;
    V[i] = v;
    W[i] -= alpha * m / (sqrt(v) + epsilon);
}

/* RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps). */
__kernel void rmsprop_update(__global float *W, __global const float *G, __global float *V,
                             const int n, const float lr, const float rho, const float epsilon)
{
    const int i = get_global_id(0);
    if (i >= n)
        return;
    const float g = G[i];
    const float v = rho * V[i] + (1.0f - rho) * g * g;
    V[i] = v;
    W[i] -= lr * g / sqrt(v + epsilon);
}
