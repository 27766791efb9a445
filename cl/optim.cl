/* Optimizer updates over the flat parameter buffer (all layers at once),
 * with Keras's update rules. n is the parameter count. The per-parameter
 * rules are inline functions shared with the fused trainer. */

/* SGD: w -= lr g; with momentum, m = momentum m - lr g and w += m, or for
 * Nesterov w += momentum m - lr g. */
inline void sgd_param(__global float *w, const float g, __global float *m, const float lr,
                      const float momentum, const int nesterov)
{
    if (momentum == 0.0f) {
        *w -= lr * g;
        return;
    }
    const float v = momentum * *m - lr * g;
    *m = v;
    *w += nesterov ? momentum * v - lr * g : v;
}

/* Adam as Keras computes it: alpha = lr sqrt(1 - b2^t) / (1 - b1^t) folds
 * both bias corrections into the step; m += (g - m)(1 - b1);
 * v += (g^2 - v)(1 - b2); w -= alpha m / (sqrt(v) + eps). */
inline void adam_param(__global float *w, const float g, __global float *m, __global float *v,
                       const float alpha, const float beta1, const float beta2,
                       const float epsilon)
{
    const float mt = *m + (g - *m) * (1.0f - beta1);
    const float vt = *v + (g * g - *v) * (1.0f - beta2);
    *m = mt;
    *v = vt;
    *w -= alpha * mt / (sqrt(vt) + epsilon);
}

/* RMSprop: v = rho v + (1 - rho) g^2; w -= lr g / sqrt(v + eps). */
inline void rmsprop_param(__global float *w, const float g, __global float *v, const float lr,
                          const float rho, const float epsilon)
{
    const float vt = rho * *v + (1.0f - rho) * g * g;
    *v = vt;
    *w -= lr * g / sqrt(vt + epsilon);
}

__kernel void sgd_update(__global float *W, __global const float *G, __global float *M,
                         const int n, const float lr, const float momentum, const int nesterov)
{
    const int i = get_global_id(0);
    if (i < n)
        sgd_param(W + i, G[i], M + (momentum == 0.0f ? 0 : i), lr, momentum, nesterov);
}

__kernel void adam_update(__global float *W, __global const float *G, __global float *M,
                          __global float *V, const int n, const float alpha, const float beta1,
                          const float beta2, const float epsilon)
{
    const int i = get_global_id(0);
    if (i < n)
        adam_param(W + i, G[i], M + i, V + i, alpha, beta1, beta2, epsilon);
}

__kernel void rmsprop_update(__global float *W, __global const float *G, __global float *V,
                             const int n, const float lr, const float rho, const float epsilon)
{
    const int i = get_global_id(0);
    if (i < n)
        rmsprop_param(W + i, G[i], V + i, lr, rho, epsilon);
}
